"""Finds the real models and frames the tests use, the way the product does: the verified cache
(CINEMAVISION_ASSET_CACHE or .cache/assets), else the mirror (CINEMAVISION_ASSET_MIRROR or ../shared/assets)."""

from __future__ import annotations

import os
import unittest
from typing import Optional

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def find(relative: str) -> Optional[str]:
    roots = [os.environ.get("CINEMAVISION_ASSET_CACHE") or os.path.join(REPO, ".cache", "assets"),
             os.environ.get("CINEMAVISION_ASSET_MIRROR") or os.path.join(REPO, "..", "shared", "assets")]
    for root in roots:
        path = os.path.join(root, relative)
        if os.path.exists(path):
            return path
    return None


def require(relative: str) -> str:
    path = find(relative)
    if path is None:
        raise unittest.SkipTest(f"asset {relative} is not available (run ./cvtools models fetch)")
    return path


LFFD = "models/lffd_head_v1_brainwash.onnx"
YOLOX = "models/person_yolox_192.onnx"
CLASSROOM = "data/scut-head-classroom"
