from __future__ import annotations

import os
import unittest

import numpy as np
import onnx
import torch

from cvtrain import data, lffd
from cvtrain.calibrate import best_threshold, calibrate
from cvtrain.onnx_net import OnnxNet

from .assets import CLASSROOM, LFFD, require


class CalibrationTests(unittest.TestCase):
    def test_the_operating_threshold_then_keeps_what_the_best_threshold_kept(self) -> None:
        root = require(CLASSROOM)
        model = onnx.load(require(LFFD))
        images = os.path.join(root, "JPEGImages")
        samples = [s for s in data.read(os.path.join(root, "Annotations"), images)
                   if os.path.basename(s.image) in ("PartA_00000.jpg", "PartA_00003.jpg")]
        cache = data.ImageCache(64)
        net = OnnxNet(model)
        branches = lffd.branches(net)
        best, precision, recall, f1 = best_threshold(net, branches, samples, cache)
        self.assertGreater(f1, 0.3)

        calibrated = OnnxNet(model)
        c = calibrate(calibrated, branches, samples, cache, operating=0.35)
        self.assertEqual(c.best, best)
        self.assertAlmostEqual(c.shift, float(np.log(0.35 / 0.65) - np.log(best / (1 - best))), places=3)

        def count(n: OnnxNet, threshold: float) -> int:
            total = 0
            with torch.no_grad():
                for s in samples:
                    x = torch.from_numpy(cache.get(s.image).transpose(2, 0, 1)[None].astype(np.float32))
                    total += len(lffd.decode(n.run({"data": x}), branches, threshold))
            return total

        self.assertLessEqual(abs(count(calibrated, 0.35) - count(net, best)), 1)
        changed = [k for k in net.param_names.values() if not torch.equal(net.weights[k], calibrated.weights[k])]
        self.assertEqual(sorted(changed), ["conv11_3_score_bias", "conv14_3_score_bias", "conv17_3_score_bias", "conv8_3_score_bias"])


if __name__ == "__main__":
    unittest.main()
