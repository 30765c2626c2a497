"""Score calibration: put the product's operating threshold where the validation frames are counted best.

The edge keeps one score threshold per class (heads: the pipeline's), not one per model. A fine-tuned model scores
differently from the one it started from, so at that threshold it may count too many or too few heads. Calibration
finds, on the validation frames, the threshold with the best F1 (centre matching, as `cvtools eval --match center`),
then shifts the head logit of every branch (the bias of the convolution that feeds each Softmax) by
logit(operating) - logit(best): the exported model then gives at the operating threshold what it gave at the best
one. Only initializer values change; the graph, its inputs and outputs stay the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
import torch

from . import lffd
from .data import ImageCache, Sample
from .onnx_net import OnnxNet, UnsupportedGraphError

MAX_SHIFT = 4.0  # logits: a larger shift means the model, not its threshold, is the problem


@dataclass(frozen=True)
class Calibration:
    operating: float  # the product's threshold
    best: float  # the threshold with the best F1 on the validation frames, before the shift
    shift: float  # added to each branch's head logit
    precision: float  # at the best threshold
    recall: float
    f1: float
    frames: int


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _matches(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """For detections sorted by score (highest first): True where it takes a label whose centre lies inside it."""
    hit = np.zeros(len(found), dtype=bool)
    if len(found) == 0 or len(truth) == 0:
        return hit
    centres = np.stack([(truth[:, 0] + truth[:, 2]) / 2, (truth[:, 1] + truth[:, 3]) / 2], axis=1)
    used = np.zeros(len(truth), dtype=bool)
    for i, d in enumerate(found):
        inside = (~used) & (centres[:, 0] >= d[0]) & (centres[:, 0] <= d[2]) & (centres[:, 1] >= d[1]) & (centres[:, 1] <= d[3])
        idx = np.nonzero(inside)[0]
        if idx.size:
            dcx, dcy = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
            used[idx[np.argmin((centres[idx, 0] - dcx) ** 2 + (centres[idx, 1] - dcy) ** 2)]] = True
            hit[i] = True
    return hit


def best_threshold(net: OnnxNet, branch_list: Sequence[lffd.Branch], samples: Sequence[Sample], cache: ImageCache,
                   floor: float = 0.05) -> Tuple[float, float, float, float]:
    """(threshold, precision, recall, F1) with the best F1 over the frames (full frames, decoding with NMS 0.45)."""
    scores: List[np.ndarray] = []
    hits: List[np.ndarray] = []
    labels = 0
    was_training = net.training
    net.eval()
    with torch.no_grad():
        for s in samples:
            image = cache.get(s.image)
            x = torch.from_numpy(image.transpose(2, 0, 1)[None].astype(np.float32))
            found = lffd.decode(net.run({net.inputs[0].name: x}), branch_list, floor)
            found = found[np.argsort(-found[:, 4])]
            scores.append(found[:, 4])
            hits.append(_matches(found, s.boxes))
            labels += len(s.boxes)
    net.train(was_training)
    all_scores = np.concatenate(scores) if scores else np.zeros(0)
    all_hits = np.concatenate(hits) if hits else np.zeros(0, dtype=bool)
    best = (0.5, 0.0, 0.0, -1.0)
    for t in np.arange(max(floor, 0.05), 0.96, 0.01):
        kept = all_scores >= t
        tp = int((all_hits & kept).sum())
        fp = int(kept.sum()) - tp
        precision = tp / max(1, tp + fp)
        recall = tp / max(1, labels)
        f1 = 0.0 if tp == 0 else 2 * precision * recall / (precision + recall)
        if f1 > best[3]:
            best = (float(round(t, 2)), precision, recall, f1)
    return best


def head_biases(net: OnnxNet, branch_list: Sequence[lffd.Branch]) -> List[Tuple[str, int]]:
    """The parameter key and channel of each branch's head logit bias (the Conv that feeds its Softmax)."""
    result: List[Tuple[str, int]] = []
    for b in branch_list:
        node = net.producers.get(b.logits)
        if node is None or node.op_type != "Conv" or len(node.input) < 3 or node.input[2] not in net.param_names:
            raise UnsupportedGraphError(f"branch {b.score}: its logits ({b.logits}) do not come from a Conv with a bias")
        result.append((net.param_names[node.input[2]], b.head_channel))
    return result


def calibrate(net: OnnxNet, branch_list: Sequence[lffd.Branch], samples: Sequence[Sample], cache: ImageCache,
              operating: float) -> Calibration:
    """Finds the best threshold on `samples` and shifts the head logits so that `operating` sits there."""
    best, precision, recall, f1 = best_threshold(net, branch_list, samples, cache)
    shift = max(-MAX_SHIFT, min(MAX_SHIFT, _logit(operating) - _logit(best)))
    with torch.no_grad():
        for key, channel in head_biases(net, branch_list):
            net.weights[key][channel] += shift
    return Calibration(operating, best, round(shift, 4), round(precision, 4), round(recall, 4), round(f1, 4), len(samples))
