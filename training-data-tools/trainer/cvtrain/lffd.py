"""LFFD: branch geometry, target assignment, loss and decoding.

As in the LFFD paper (He et al., "LFFD: A Light and Fast Face Detector for Edge Devices", 2019) and its reference
training code: each branch i owns heads whose longer side lies in [small_i, large_i]; every receptive-field (RF)
centre that falls inside such a box is a positive for branch i and regresses the box corners relative to the centre,
divided by the branch constant C_i (x1 = cx - b0 * C_i, ...). Boxes in the gray zone around a branch's range
(0.9 * small .. 1.1 * large) and RF centres claimed by two boxes are ignored by the classifier, so the branch is not
taught that a nearly-right size is background. Classification is a 2-way softmax cross-entropy with hard negative
mining (the hardest negatives, `hnm_ratio` per positive); box regression is an L2 loss on positive centres only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor

from .onnx_net import OnnxNet, UnsupportedGraphError


@dataclass(frozen=True)
class Branch:
    """One LFFD output branch: its tensors and its geometry."""

    score: str  # output name of the softmaxed head probability, e.g. score0
    bbox: str  # output name of the 4 regression channels, e.g. bbox0
    logits: str  # the tensor the Softmax reads (used by the loss for numerical stability)
    head_channel: int  # which logits channel is "head" (the one the Slice keeps)
    start: float  # RF centre of output index 0, in input pixels
    stride: int  # RF centre step, in input pixels
    constant: float  # C_i: regression normalisation
    small: float  # green range of the longer box side, in pixels
    large: float

    @property
    def gray_small(self) -> float:
        return math.floor(self.small * 0.9)

    @property
    def gray_large(self) -> float:
        return math.ceil(self.large * 1.1)

    def centres(self, count: int) -> np.ndarray:
        return self.start + self.stride * np.arange(count, dtype=np.float32)


@dataclass(frozen=True)
class LffdConfig:
    """The size ranges and regression constants of the head model (LFFD v1 head: heads 10-160 px, C = 10..80)."""

    small: Tuple[float, ...] = (10, 20, 40, 80)
    large: Tuple[float, ...] = (20, 40, 80, 160)
    constants: Tuple[float, ...] = (10, 20, 40, 80)
    hnm_ratio: int = 5
    bbox_weight: float = 1.0

    def with_smallest(self, small0: float) -> "LffdConfig":
        """Lets branch 0 learn heads down to `small0` px (the decoder is unchanged: C stays the same)."""
        return LffdConfig(small=(small0,) + self.small[1:], large=self.large, constants=self.constants,
                          hnm_ratio=self.hnm_ratio, bbox_weight=self.bbox_weight)


def _conv_geometry(net: OnnxNet, tensor: str, input_name: str) -> Tuple[float, int]:
    """RF centre start and stride of `tensor` relative to the graph input, walking first inputs back to it."""
    start, stride = 0.0, 1
    chain: List[Tuple[float, int]] = []
    node = net.producers.get(tensor)
    while node is not None:
        if node.op_type in ("Conv", "MaxPool", "AveragePool"):
            attrs = {a.name: a for a in node.attribute}
            if node.op_type == "Conv":
                weight = net.weights[net.param_names[node.input[1]]] if node.input[1] in net.param_names else None
                if weight is None:
                    raise UnsupportedGraphError(f"node '{node.name}': weights are not an initializer")
                k = int(weight.shape[-1])
                dil = list(attrs["dilations"].ints)[-1] if "dilations" in attrs else 1
                k = (k - 1) * dil + 1
            else:
                k = list(attrs["kernel_shape"].ints)[-1]
            s = list(attrs["strides"].ints)[-1] if "strides" in attrs else 1
            p = list(attrs["pads"].ints)[1] if "pads" in attrs else 0
            chain.append(((k - 1) / 2.0 - p, s))
        if node.input[0] == input_name:
            break
        node = net.producers.get(node.input[0])
    for offset, s in reversed(chain):  # from the input side: pos_in = offset + s * pos_out
        start = start + stride * offset
        stride *= s
    return start, stride


def branches(net: OnnxNet, config: LffdConfig = LffdConfig()) -> List[Branch]:
    """Finds the LFFD branches of a mirrored graph: outputs named score{i}/bbox{i}, with geometry from the graph."""
    names = [o.name for o in net.outputs]
    scores = sorted((n for n in names if n.startswith("score")), key=lambda n: int(n[5:]))
    if not scores or len(scores) != len(config.small):
        raise UnsupportedGraphError(
            f"expected {len(config.small)} outputs score0..score{len(config.small) - 1}, found {scores}")
    result: List[Branch] = []
    input_name = net.inputs[0].name
    for i, score in enumerate(scores):
        bbox = f"bbox{i}"
        if bbox not in names:
            raise UnsupportedGraphError(f"output {score} has no matching {bbox}")
        logits, passed = net.trace_back(score, ("Identity", "Slice", "Softmax"))
        if not any(n.op_type == "Softmax" for n in passed):
            raise UnsupportedGraphError(f"output {score} is not a softmax")
        slices = [n for n in passed if n.op_type == "Slice"]
        head = 0
        if slices:
            starts = net.constant(slices[0].input[1])
            head = int(np.asarray(starts).reshape(-1)[0]) if starts is not None else 0
        start, stride = _conv_geometry(net, logits, input_name)
        result.append(Branch(score, bbox, logits, head, start, stride, config.constants[i], config.small[i], config.large[i]))
    return result


# --- targets -----------------------------------------------------------------------------------------------------

@dataclass
class BranchTargets:
    """Targets of one branch for one image: positive map, classifier mask, regression targets and their mask."""

    positive: np.ndarray  # (h, w) float32 1/0
    score_mask: np.ndarray  # (h, w) float32: 1 = counted by the classifier
    bbox: np.ndarray  # (4, h, w) float32
    bbox_mask: np.ndarray  # (h, w) float32


def assign(branch: Branch, size: Tuple[int, int], boxes: np.ndarray, ignore: Optional[np.ndarray] = None) -> BranchTargets:
    """Targets for one branch of an (h, w) feature map. `boxes`/`ignore` are (N, 4) x1, y1, x2, y2 in input pixels."""
    h, w = size
    green = np.zeros((h, w), dtype=np.int32)
    gray = np.zeros((h, w), dtype=bool)
    bbox = np.zeros((4, h, w), dtype=np.float32)
    cx, cy = branch.centres(w), branch.centres(h)

    def span(x1: float, y1: float, x2: float, y2: float) -> Optional[Tuple[int, int, int, int]]:
        left = max(0, math.ceil((x1 - branch.start) / branch.stride))
        right = min(w - 1, math.floor((x2 - branch.start) / branch.stride))
        top = max(0, math.ceil((y1 - branch.start) / branch.stride))
        bottom = min(h - 1, math.floor((y2 - branch.start) / branch.stride))
        return None if right < left or bottom < top else (left, top, right, bottom)

    for x1, y1, x2, y2 in np.asarray(boxes, dtype=np.float64).reshape(-1, 4):
        side = max(x2 - x1, y2 - y1)
        is_green = branch.small <= side <= branch.large
        is_gray = not is_green and branch.gray_small <= side <= branch.gray_large
        if not (is_green or is_gray):
            continue
        s = span(x1, y1, x2, y2)
        if s is None:
            continue
        left, top, right, bottom = s
        if is_gray:
            gray[top:bottom + 1, left:right + 1] = True
            continue
        green[top:bottom + 1, left:right + 1] += 1
        xs, ys = cx[left:right + 1], cy[top:bottom + 1]
        c = branch.constant
        bbox[0, top:bottom + 1, left:right + 1] = ((xs - x1) / c)[None, :]
        bbox[1, top:bottom + 1, left:right + 1] = ((ys - y1) / c)[:, None]
        bbox[2, top:bottom + 1, left:right + 1] = ((xs - x2) / c)[None, :]
        bbox[3, top:bottom + 1, left:right + 1] = ((ys - y2) / c)[:, None]
    if ignore is not None:
        for x1, y1, x2, y2 in np.asarray(ignore, dtype=np.float64).reshape(-1, 4):
            s = span(x1, y1, x2, y2)
            if s is not None:
                gray[s[1]:s[3] + 1, s[0]:s[2] + 1] = True
    positive = green == 1
    score_mask = ~(gray | (green > 1))
    return BranchTargets(positive.astype(np.float32), score_mask.astype(np.float32), bbox,
                         positive.astype(np.float32))


def feature_sizes(net: OnnxNet, branch_list: Sequence[Branch], height: int, width: int) -> List[Tuple[int, int]]:
    """The (h, w) of each branch's output for an input of this size (one dry run, no gradients)."""
    with torch.no_grad():
        out = net.run({net.inputs[0].name: torch.zeros(1, 3, height, width)})
    return [(int(out[b.score].shape[2]), int(out[b.score].shape[3])) for b in branch_list]


@dataclass
class BatchTargets:
    """Stacked targets of a batch, one entry per branch."""

    positive: List[Tensor] = field(default_factory=list)
    score_mask: List[Tensor] = field(default_factory=list)
    bbox: List[Tensor] = field(default_factory=list)
    bbox_mask: List[Tensor] = field(default_factory=list)

    @staticmethod
    def stack(per_image: Sequence[Sequence[BranchTargets]]) -> "BatchTargets":
        t = BatchTargets()
        for i in range(len(per_image[0])):
            t.positive.append(torch.from_numpy(np.stack([p[i].positive for p in per_image])))
            t.score_mask.append(torch.from_numpy(np.stack([p[i].score_mask for p in per_image])))
            t.bbox.append(torch.from_numpy(np.stack([p[i].bbox for p in per_image])))
            t.bbox_mask.append(torch.from_numpy(np.stack([p[i].bbox_mask for p in per_image])))
        return t


# --- loss --------------------------------------------------------------------------------------------------------

@dataclass
class LossParts:
    total: Tensor
    score: float
    bbox: float
    positives: int


def loss(outputs: Dict[str, Tensor], targets: BatchTargets, branch_list: Sequence[Branch], config: LffdConfig) -> LossParts:
    """Sum over branches of (hard-negative-mined cross-entropy) + bbox_weight * (L2 on positive centres)."""
    total = torch.zeros(())
    score_sum, bbox_sum, positives = 0.0, 0.0, 0
    for i, b in enumerate(branch_list):
        logits = outputs[b.logits]
        logp = F.log_softmax(logits, dim=1)
        head_logp = logp[:, b.head_channel]
        back_logp = logp[:, 1 - b.head_channel]
        pos = targets.positive[i] > 0.5
        counted = targets.score_mask[i] > 0.5
        pos = pos & counted
        neg = (~pos) & counted
        n_pos = int(pos.sum())
        n_neg_all = int(neg.sum())
        if n_pos > 0:
            n_neg = min(config.hnm_ratio * n_pos, n_neg_all)
        else:
            n_neg = min(n_neg_all, max(1, int(0.1 * n_neg_all)))
        ce_pos = -head_logp[pos]
        ce_neg_all = -back_logp[neg]
        ce_neg = torch.topk(ce_neg_all, n_neg).values if n_neg > 0 else ce_neg_all[:0]
        denominator = max(1, n_pos + n_neg)
        score_loss = (ce_pos.sum() + ce_neg.sum()) / denominator
        bbox_mask = targets.bbox_mask[i]
        n_box = float(bbox_mask.sum())
        diff = (outputs[b.bbox] - targets.bbox[i]) * bbox_mask[:, None]
        bbox_loss = (diff * diff).sum() / max(1.0, n_box)
        total = total + score_loss + config.bbox_weight * bbox_loss
        score_sum += float(score_loss)
        bbox_sum += float(bbox_loss)
        positives += n_pos
    return LossParts(total, score_sum, bbox_sum, positives)


# --- decoding (development evaluation only; the product decodes in C#) -----------------------------------------

def decode(outputs: Dict[str, Tensor], branch_list: Sequence[Branch], threshold: float, nms_iou: float = 0.45,
           max_side: Optional[float] = None) -> np.ndarray:
    """(N, 5) x1, y1, x2, y2, score in input pixels for a batch of one: the rule in assets/SOURCES.md, then NMS."""
    found: List[Tensor] = []
    for b in branch_list:
        score = outputs[b.score][0, 0]
        ys, xs = torch.nonzero(score > threshold, as_tuple=True)
        if ys.numel() == 0:
            continue
        reg = outputs[b.bbox][0][:, ys, xs]
        cx = b.start + b.stride * xs.float()
        cy = b.start + b.stride * ys.float()
        c = b.constant
        boxes = torch.stack([cx - reg[0] * c, cy - reg[1] * c, cx - reg[2] * c, cy - reg[3] * c, score[ys, xs]], dim=1)
        found.append(boxes)
    if not found:
        return np.zeros((0, 5), dtype=np.float32)
    all_boxes = torch.cat(found)
    if max_side is not None:
        sides = torch.maximum(all_boxes[:, 2] - all_boxes[:, 0], all_boxes[:, 3] - all_boxes[:, 1])
        all_boxes = all_boxes[sides <= max_side]
    keep = torchvision.ops.nms(all_boxes[:, :4], all_boxes[:, 4], nms_iou)
    result: np.ndarray = all_boxes[keep].detach().numpy()
    return result
