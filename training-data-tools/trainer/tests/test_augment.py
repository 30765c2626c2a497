from __future__ import annotations

import random
import unittest
from typing import List

import numpy as np

from cvtrain import lffd
from cvtrain.augment import AugmentConfig, make_crop, photometric


def _branches() -> List[lffd.Branch]:
    return [lffd.Branch(f"score{i}", f"bbox{i}", f"l{i}", 0, s - 1, s, c, lo, hi)
            for i, (s, c, lo, hi) in enumerate([(4, 10, 10, 20), (8, 20, 20, 40), (16, 40, 40, 80), (32, 80, 80, 160)])]


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A grey image with bright squares where the boxes are."""
    image = np.full((300, 400, 3), 60, dtype=np.uint8)
    boxes = np.array([[50, 60, 70, 80], [200, 100, 230, 130], [300, 200, 340, 240]], dtype=np.float32)
    for x1, y1, x2, y2 in boxes.astype(int):
        image[y1:y2, x1:x2] = 250
    return image, boxes


class AugmentTests(unittest.TestCase):
    def test_boxes_follow_the_pixels_through_zoom_crop_and_flip(self) -> None:
        image, boxes = _scene()
        config = AugmentConfig(crop=128, photometric_share=0.0, infrared_share=0.0, background_share=0.0)
        rng = random.Random(3)
        checked = 0
        for _ in range(40):
            crop = make_crop(image, boxes, np.zeros((0, 4)), _branches(), config, rng)
            self.assertEqual(crop.image.shape, (128, 128, 3))
            for x1, y1, x2, y2 in crop.boxes:
                w, h = x2 - x1, y2 - y1
                # the middle of each box (well inside it) is bright, whatever zoom/flip happened
                ix1, iy1 = int(max(0, x1 + 0.3 * w)), int(max(0, y1 + 0.3 * h))
                ix2, iy2 = int(min(128, x2 - 0.3 * w)), int(min(128, y2 - 0.3 * h))
                if ix2 - ix1 >= 2 and iy2 - iy1 >= 2:
                    self.assertGreater(float(crop.image[iy1:iy2, ix1:ix2].mean()), 200)
                    checked += 1
        self.assertGreater(checked, 20)

    def test_branch_sampling_zooms_heads_into_every_branch_range(self) -> None:
        image, boxes = _scene()
        config = AugmentConfig(crop=256, native_share=0.0, background_share=0.0, photometric_share=0.0, infrared_share=0.0)
        rng = random.Random(0)
        sides: List[float] = []
        for _ in range(200):
            crop = make_crop(image, boxes, np.zeros((0, 4)), _branches(), config, rng)
            centre = np.abs((crop.boxes[:, 0] + crop.boxes[:, 2]) / 2 - 128) + np.abs((crop.boxes[:, 1] + crop.boxes[:, 3]) / 2 - 128)
            k = int(np.argmin(centre))
            sides.append(float(max(crop.boxes[k, 2] - crop.boxes[k, 0], crop.boxes[k, 3] - crop.boxes[k, 1])))
        hist = np.histogram(sides, bins=[10, 20, 40, 80, 161])[0]
        self.assertTrue((hist > 10).all(), f"every branch gets heads: {hist}")

    def test_tile_border_boxes_become_ignore_regions(self) -> None:
        image, _ = _scene()
        boxes = np.array([[0, 50, 20, 70], [100, 100, 120, 120]], dtype=np.float32)
        config = AugmentConfig(crop=400, native_share=1.0, native_zoom=(1.0, 1.0), background_share=1.0, flip=False,
                               photometric_share=0.0, infrared_share=0.0, border_ignore=True)
        crop = make_crop(image, boxes, np.zeros((0, 4)), _branches(), config, random.Random(0))
        self.assertEqual(len(crop.boxes), 1)
        self.assertEqual(len(crop.ignore), 1)

    def test_infrared_is_greyscale_with_noise(self) -> None:
        image = np.zeros((64, 64, 3), dtype=np.uint8)
        image[:, :, 2] = 200  # red
        out = photometric(image, AugmentConfig(photometric_share=0.0), random.Random(1), force_infrared=True)
        self.assertTrue((out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 1] == out[:, :, 2]).all())
        self.assertGreater(float(out.std()), 1.0, "sensor noise")
        self.assertAlmostEqual(float(out.mean()), 0.299 * 200, delta=3)

    def test_brightness_and_contrast_change_the_picture_but_not_its_size(self) -> None:
        image, _ = _scene()
        config = AugmentConfig(photometric_share=1.0, infrared_share=0.0)
        changed = [not np.array_equal(photometric(image, config, random.Random(i)), image) for i in range(10)]
        self.assertGreater(sum(changed), 5)


if __name__ == "__main__":
    unittest.main()
