from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from typing import List

import torch

from cvtrain.train import EXIT_INTERRUPTED, TrainConfig, train

from .assets import CLASSROOM, LFFD, require

TRAINER = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def _subset(root: str, folder: str, names: List[str]) -> str:
    ann = os.path.join(folder, "Annotations")
    os.makedirs(ann)
    for n in names:
        os.symlink(os.path.join(root, "Annotations", n + ".xml"), os.path.join(ann, n + ".xml"))
    return folder


class TrainingRunTests(unittest.TestCase):
    """Small real runs: the LFFD head model on four real classroom frames, 128 px crops, one thread."""

    def setUp(self) -> None:
        self.model = require(LFFD)
        self.classroom = require(CLASSROOM)
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.data = _subset(self.classroom, os.path.join(self.tmp, "voc"),
                            ["PartA_00000", "PartA_00003", "PartA_00005", "PartA_00007"])
        self.images = os.path.join(self.classroom, "JPEGImages")

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def _config(self, out: str, **kw: object) -> TrainConfig:
        values = dict(base=self.model, data=self.data, images=self.images, out=os.path.join(self.tmp, out),
                      epochs=2, batch=2, crop=128, threads=1, progress_seconds=1000, cache_mb=64)
        values.update(kw)
        return TrainConfig(**values)  # type: ignore[arg-type]

    def test_a_stopped_run_resumes_to_the_same_weights_as_an_uninterrupted_one(self) -> None:
        self.assertEqual(train(self._config("straight")), 0)
        self.assertEqual(train(self._config("stopped", max_steps=2)), 0)
        self.assertEqual(train(self._config("stopped")), 0)
        with open(os.path.join(self.tmp, "stopped", "result.json"), encoding="utf-8") as f:
            result = json.load(f)
        self.assertEqual(result["resumed_from_step"], 2)
        self.assertEqual(result["steps"], 4)
        self.assertEqual(result["epochs_completed"], 2)
        self.assertEqual(len(result["seconds_per_epoch"]), 2)
        a = torch.load(os.path.join(self.tmp, "straight", "checkpoint.pt"))["model"]
        b = torch.load(os.path.join(self.tmp, "stopped", "checkpoint.pt"))["model"]
        for key in a:
            self.assertLess(float((a[key] - b[key]).abs().max()), 1e-5, key)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "stopped", "model.onnx")))

    def test_checkpoint_of_other_data_is_not_resumed(self) -> None:
        self.assertEqual(train(self._config("run", max_steps=1)), 0)
        other = _subset(self.classroom, os.path.join(self.tmp, "voc2"), ["PartA_00009", "PartA_00011"])
        self.assertEqual(train(self._config("run", data=other, epochs=1)), 0)
        with open(os.path.join(self.tmp, "run", "result.json"), encoding="utf-8") as f:
            self.assertIsNone(json.load(f)["resumed_from_step"])

    def test_ctrl_c_stops_after_the_step_with_a_checkpoint(self) -> None:
        out = os.path.join(self.tmp, "interrupted")
        env = dict(os.environ, PYTHONPATH=TRAINER)
        proc = subprocess.Popen(
            [sys.executable, "-m", "cvtrain", "train", "--base", self.model, "--data", self.data, "--images", self.images,
             "--out", out, "--epochs", "1000", "--batch", "2", "--crop", "128", "--threads", "1",
             "--progress-seconds", "0", "--cache-mb", "64"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert proc.stdout is not None
        lines: List[str] = []
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            lines.append(line)
            if " step " in line or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=300)
        output = "".join(lines) + rest
        self.assertEqual(proc.returncode, EXIT_INTERRUPTED, output)
        self.assertIn("Run the same command again to resume", output)
        with open(os.path.join(out, "result.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["status"], "interrupted")
        self.assertTrue(os.path.exists(os.path.join(out, "checkpoint.pt")))
        self.assertFalse(os.path.exists(os.path.join(out, "model.onnx")), "an interrupted run is not exported")


if __name__ == "__main__":
    unittest.main()
