"""Training crops: scale sampling as in LFFD plus the photometric changes a cinema camera goes through.

Scale: half of the crops follow the LFFD reference sampler (pick a labelled head, pick a branch, zoom so the head's
longer side lands in that branch's range, crop around it with a jitter of half a stride), which keeps every branch
trained; the other half zoom the image near its native scale (0.7x-2x), which is how the edge's tiling shows the
hall to the model. A share of crops is taken anywhere (background, text overlays, empty seats).
Photometric: horizontal flip, brightness, contrast, saturation, and greyscale with sensor noise for infrared.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from .lffd import Branch


@dataclass(frozen=True)
class AugmentConfig:
    crop: int = 256
    flip: bool = True
    native_share: float = 0.5  # crops zoomed near native scale (the rest: LFFD branch-balanced zoom)
    native_zoom: Tuple[float, float] = (0.7, 2.0)
    background_share: float = 0.1  # crops anywhere, not centred on a head
    max_upscale: float = 4.0
    photometric_share: float = 0.5
    brightness: Tuple[float, float] = (0.5, 1.5)
    contrast: Tuple[float, float] = (0.5, 1.5)
    saturation: Tuple[float, float] = (0.5, 1.5)
    infrared_share: float = 0.15  # greyscale + sensor noise
    noise_sigma: Tuple[float, float] = (2.0, 10.0)
    border_ignore: bool = False  # boxes touching the image edge are ignored (tiles cut heads at their borders)


@dataclass
class Crop:
    image: np.ndarray  # (crop, crop, 3) uint8 BGR
    boxes: np.ndarray  # (N, 4) in crop pixels
    ignore: np.ndarray  # (M, 4) in crop pixels


def _choose_zoom(side: float, branch_list: Sequence[Branch], config: AugmentConfig, rng: random.Random) -> float:
    """The LFFD reference choice: small heads only to the small branches, others to any branch (20 % beyond)."""
    small = [b.small for b in branch_list]
    large = [b.large for b in branch_list]
    n = len(branch_list)
    if side <= small[0]:
        index = 0
    elif n > 1 and side <= small[1]:
        index = rng.randint(0, 1)
    else:
        index = rng.randint(0, n) if rng.random() > 0.8 else rng.randint(0, n - 1)
    if index == n:
        target = large[-1] + rng.uniform(0, large[-1] * 0.5)
    else:
        target = rng.uniform(small[index], large[index])
    return min(target / max(side, 1.0), config.max_upscale)


def _border_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    if boxes.size == 0:
        return np.zeros(0, dtype=bool)
    return (boxes[:, 0] <= 1) | (boxes[:, 1] <= 1) | (boxes[:, 2] >= width - 1) | (boxes[:, 3] >= height - 1)


def make_crop(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, branch_list: Sequence[Branch],
              config: AugmentConfig, rng: random.Random) -> Crop:
    """One augmented training crop from a BGR image and its boxes."""
    height, width = image.shape[:2]
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    ignore = np.asarray(ignore, dtype=np.float32).reshape(-1, 4)
    if config.border_ignore and boxes.size:
        at_border = _border_boxes(boxes, width, height)
        ignore = np.concatenate([ignore, boxes[at_border]])
        boxes = boxes[~at_border]
    size = config.crop
    sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) if boxes.size else np.zeros(0)
    usable = np.nonzero(sides >= 1)[0]
    if usable.size == 0 or rng.random() < config.background_share:
        zoom = math.exp(rng.uniform(math.log(config.native_zoom[0]), math.log(config.native_zoom[1])))
        window = size / zoom
        cx = rng.uniform(min(window / 2, width / 2), max(width - window / 2, width / 2))
        cy = rng.uniform(min(window / 2, height / 2), max(height - window / 2, height / 2))
    else:
        k = int(usable[rng.randrange(usable.size)])
        side = float(sides[k])
        if rng.random() < config.native_share:
            zoom = math.exp(rng.uniform(math.log(config.native_zoom[0]), math.log(config.native_zoom[1])))
            jitter = size / 4  # the head need not be central at native scale
        else:
            zoom = _choose_zoom(side, branch_list, config, rng)
            stride = min((b.stride for b in branch_list if b.small <= side * zoom <= b.large), default=branch_list[0].stride)
            jitter = stride / 2
        cx = (boxes[k, 0] + boxes[k, 2]) / 2 + rng.uniform(-jitter, jitter) / zoom
        cy = (boxes[k, 1] + boxes[k, 3]) / 2 + rng.uniform(-jitter, jitter) / zoom
        window = size / zoom
    left, top = cx - window / 2, cy - window / 2
    crop = _resample(image, left, top, window, size)
    origin = np.array([left, top, left, top], dtype=np.float32)
    out_boxes: np.ndarray = ((boxes - origin) * np.float32(zoom)).astype(np.float32)
    out_ignore: np.ndarray = ((ignore - origin) * np.float32(zoom)).astype(np.float32)
    out_boxes = _inside(out_boxes, size)
    out_ignore = _inside(out_ignore, size)
    if config.flip and rng.random() < 0.5:
        crop = crop[:, ::-1]
        out_boxes = _flip(out_boxes, size)
        out_ignore = _flip(out_ignore, size)
    crop = photometric(np.ascontiguousarray(crop), config, rng)
    return Crop(crop, out_boxes, out_ignore)


def _resample(image: np.ndarray, left: float, top: float, window: float, size: int) -> np.ndarray:
    """The square source window [left, left + window) resized to size x size; outside the image is black."""
    height, width = image.shape[:2]
    x0, y0 = int(math.floor(left)), int(math.floor(top))
    x1, y1 = int(math.ceil(left + window)), int(math.ceil(top + window))
    region = np.zeros((y1 - y0, x1 - x0, 3), dtype=np.uint8)
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if sx1 > sx0 and sy1 > sy0:
        region[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    pil = Image.fromarray(region)
    box = (left - x0, top - y0, left - x0 + window, top - y0 + window)
    return np.asarray(pil.resize((size, size), Image.BILINEAR, box=box))


def _inside(boxes: np.ndarray, size: int) -> np.ndarray:
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    keep = (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (boxes[:, 0] < size) & (boxes[:, 1] < size)
    return boxes[keep]


def _flip(boxes: np.ndarray, size: int) -> np.ndarray:
    if boxes.size == 0:
        return boxes
    flipped = boxes.copy()
    flipped[:, 0] = size - boxes[:, 2]
    flipped[:, 2] = size - boxes[:, 0]
    return flipped


def photometric(image: np.ndarray, config: AugmentConfig, rng: random.Random,
                force_infrared: Optional[bool] = None) -> np.ndarray:
    """Brightness, contrast and saturation in random order (each half the time), then greyscale + sensor noise."""
    x = image.astype(np.float32)
    if rng.random() < config.photometric_share:
        ops = ["brightness", "contrast", "saturation"]
        rng.shuffle(ops)
        for op in ops:
            if rng.random() >= 0.5:
                continue
            if op == "brightness":
                x *= rng.uniform(*config.brightness)
            elif op == "contrast":
                mean = float(_grey(x).mean())
                x = (x - mean) * rng.uniform(*config.contrast) + mean
            else:
                g = _grey(x)[:, :, None]
                x = (x - g) * rng.uniform(*config.saturation) + g
    infrared = rng.random() < config.infrared_share if force_infrared is None else force_infrared
    if infrared:
        g = _grey(x)
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0.0, rng.uniform(*config.noise_sigma), g.shape)
        x = np.repeat((g + noise.astype(np.float32))[:, :, None], 3, axis=2)
    return np.clip(x, 0, 255).astype(np.uint8)


def _grey(bgr: np.ndarray) -> np.ndarray:
    return np.asarray(0.114 * bgr[:, :, 0] + 0.587 * bgr[:, :, 1] + 0.299 * bgr[:, :, 2], dtype=np.float32)
