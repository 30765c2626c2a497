"""A development check of a head model in Python: LFFD decoding, NMS, centre matching, count error.

The product's numbers come from `cvtools eval` (the edge's tiling and post-processing); this exists so a trainer
change can be judged in a minute without the .NET build, and it says so in its output.
"""

from __future__ import annotations

import os
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
import torch
from PIL import Image

from . import data as data_mod
from . import lffd
from .onnx_net import OnnxNet


def match_centres(detections: np.ndarray, truth: np.ndarray) -> int:
    """Greedy one-to-one matching (highest score first): a detection matches a label whose centre lies inside it."""
    if len(detections) == 0 or len(truth) == 0:
        return 0
    centres = np.stack([(truth[:, 0] + truth[:, 2]) / 2, (truth[:, 1] + truth[:, 3]) / 2], axis=1)
    used = np.zeros(len(truth), dtype=bool)
    matched = 0
    for d in detections[np.argsort(-detections[:, 4])]:
        inside = (~used) & (centres[:, 0] >= d[0]) & (centres[:, 0] <= d[2]) & (centres[:, 1] >= d[1]) & (centres[:, 1] <= d[3])
        idx = np.nonzero(inside)[0]
        if idx.size:
            dcx, dcy = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
            best = idx[np.argmin((centres[idx, 0] - dcx) ** 2 + (centres[idx, 1] - dcy) ** 2)]
            used[best] = True
            matched += 1
    return matched


def evaluate_folder(model: str, annotations: str, images: str, names: Optional[Sequence[str]], threshold: float,
                    upscale: float, max_side: Optional[float], limit: Optional[int]) -> Dict[str, object]:
    torch.set_num_threads(os.cpu_count() or 1)
    net = OnnxNet(onnx.load(model))
    net.eval()
    branch_list = lffd.branches(net)
    samples = data_mod.read(annotations, images, "head")
    if names is not None:
        wanted = set(names)
        samples = [s for s in samples if os.path.basename(s.image) in wanted]
    if limit:
        samples = samples[:limit]
    tp = fp = fn = 0
    abs_err: List[float] = []
    start = time.monotonic()
    for s in samples:
        image = data_mod.load_bgr(s.image)
        if upscale != 1.0:
            h, w = image.shape[:2]
            image = np.asarray(Image.fromarray(image).resize((round(w * upscale), round(h * upscale)), Image.BILINEAR))
        x = torch.from_numpy(image.transpose(2, 0, 1)[None].astype(np.float32))
        with torch.no_grad():
            outputs = net.run({net.inputs[0].name: x})
        found = lffd.decode(outputs, branch_list, threshold, max_side=max_side * upscale if max_side else None)
        found[:, :4] /= upscale
        matched = match_centres(found, s.boxes)
        tp += matched
        fp += len(found) - matched
        fn += len(s.boxes) - matched
        abs_err.append(abs(len(found) - len(s.boxes)))
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    return {
        "note": "development check in Python (full frame, LFFD decode, NMS 0.45); product figures: cvtools eval",
        "frames": len(samples),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "count_mae": round(float(np.mean(abs_err)) if abs_err else 0.0, 3),
        "tp": tp, "fp": fp, "fn": fn,
        "seconds": round(time.monotonic() - start, 1),
    }
