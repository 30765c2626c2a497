"""Runs the trainer's unit tests (and a mypy check) and writes the results as a TRX file beside the .NET ones, so
scripts/test counts them in its "N passed, N failed, N skipped" line.

    /usr/bin/python3 training-data-tools/trainer/run_tests.py [--trx FILE] [-k PATTERN]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback
import unittest
import uuid
from typing import Any, List, Optional, Tuple
from xml.sax.saxutils import quoteattr, escape

HERE = os.path.dirname(os.path.abspath(__file__))


class TypeCheckTests(unittest.TestCase):
    """The package is typed: mypy with the settings in mypy.ini finds nothing."""

    def test_mypy_finds_no_type_errors(self) -> None:
        mypy = shutil.which("mypy")
        if mypy is None:
            raise unittest.SkipTest("mypy is not installed (Debian package 'mypy')")
        proc = subprocess.run([mypy, "--config-file", "mypy.ini", "cvtrain", "tests", "run_tests.py"], cwd=HERE,
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)


class _Recorder(unittest.TextTestResult):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: List[Tuple[str, str, float, str]] = []  # (name, outcome, seconds, message)
        self._start = 0.0

    def startTest(self, test: unittest.TestCase) -> None:
        self._start = time.monotonic()
        super().startTest(test)

    def _record(self, test: unittest.TestCase, outcome: str, message: str = "") -> None:
        self.records.append((test.id(), outcome, time.monotonic() - self._start, message))

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._record(test, "Passed")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._record(test, "Failed", self._describe(err))

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._record(test, "Failed", self._describe(err))

    @staticmethod
    def _describe(err: Any) -> str:
        return "".join(traceback.format_exception(*err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "NotExecuted", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._record(test, "Passed")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._record(test, "Failed", "unexpected success")


def _duration(seconds: float) -> str:
    hours, rest = divmod(max(0.0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:010.7f}"


def write_trx(path: str, records: List[Tuple[str, str, float, str]], start: datetime.datetime) -> None:
    finish = datetime.datetime.now(datetime.timezone.utc)
    host = socket.gethostname()
    list_id = "8c84fa94-04c1-424b-9868-57a2d4851a1d"
    test_type = "13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b"
    results, definitions = [], []
    for name, outcome, seconds, message in records:
        test_id, exec_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name)), str(uuid.uuid4())
        body = ""
        if message:
            tag = "StdOut" if outcome == "NotExecuted" else "ErrorInfo"
            body = (f"<Output><StdOut>{escape(message)}</StdOut></Output>" if tag == "StdOut"
                    else f"<Output><ErrorInfo><Message>{escape(message)}</Message></ErrorInfo></Output>")
        results.append(
            f'<UnitTestResult executionId="{exec_id}" testId="{test_id}" testName={quoteattr(name)} '
            f'computerName={quoteattr(host)} duration="{_duration(seconds)}" testType="{test_type}" '
            f'outcome="{outcome}" testListId="{list_id}">{body}</UnitTestResult>')
        cls, _, method = name.rpartition(".")
        definitions.append(
            f'<UnitTest name={quoteattr(name)} storage="cvtrain" id="{test_id}"><Execution id="{exec_id}" />'
            f'<TestMethod codeBase="cvtrain" className={quoteattr(cls)} name={quoteattr(method)} /></UnitTest>')
    passed = sum(1 for r in records if r[1] == "Passed")
    failed = sum(1 for r in records if r[1] == "Failed")
    skipped = sum(1 for r in records if r[1] == "NotExecuted")
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<TestRun id="{uuid.uuid4()}" name="cvtrain python tests" '
        'xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">'
        f'<Times creation="{start.isoformat()}" start="{start.isoformat()}" finish="{finish.isoformat()}" />'
        f'<Results>{"".join(results)}</Results><TestDefinitions>{"".join(definitions)}</TestDefinitions>'
        f'<ResultSummary outcome="{"Failed" if failed else "Completed"}">'
        f'<Counters total="{len(records)}" executed="{passed + failed}" passed="{passed}" failed="{failed}" error="0" '
        f'timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="{skipped}" '
        'disconnected="0" warning="0" completed="0" inProgress="0" pending="0" /></ResultSummary></TestRun>\n')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(xml)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trx", help="write the results to this TRX file")
    parser.add_argument("-k", dest="pattern", help="only tests whose id contains this")
    args = parser.parse_args(argv)
    os.chdir(HERE)
    sys.path.insert(0, HERE)
    start = datetime.datetime.now(datetime.timezone.utc)
    suite = unittest.TestSuite([unittest.defaultTestLoader.discover("tests", top_level_dir=HERE),
                                unittest.defaultTestLoader.loadTestsFromTestCase(TypeCheckTests)])
    if args.pattern:
        def flat(s: unittest.TestSuite) -> List[unittest.TestCase]:
            out: List[unittest.TestCase] = []
            for t in s:
                out.extend(flat(t) if isinstance(t, unittest.TestSuite) else [t])
            return out
        suite = unittest.TestSuite([t for t in flat(suite) if args.pattern in t.id()])
    runner = unittest.TextTestRunner(resultclass=_Recorder, buffer=True, verbosity=1)
    result = runner.run(suite)
    assert isinstance(result, _Recorder)
    if args.trx:
        write_trx(args.trx, result.records, start)
    passed = sum(1 for r in result.records if r[1] == "Passed")
    failed = sum(1 for r in result.records if r[1] == "Failed")
    skipped = sum(1 for r in result.records if r[1] == "NotExecuted")
    print(f"trainer (python): {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
