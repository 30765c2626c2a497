from __future__ import annotations

import unittest
from typing import Dict, List

import numpy as np
import onnx
import torch

from cvtrain import lffd
from cvtrain.onnx_net import OnnxNet

from .assets import LFFD, require


class LffdTests(unittest.TestCase):
    net: OnnxNet
    branches: List[lffd.Branch]

    @classmethod
    def setUpClass(cls) -> None:
        cls.net = OnnxNet(onnx.load(require(LFFD)))
        cls.branches = lffd.branches(cls.net)

    def test_branch_geometry_read_from_the_graph_matches_the_published_decoding(self) -> None:
        # assets/SOURCES.md: start = (3, 7, 15, 31), stride = (4, 8, 16, 32), C = (10, 20, 40, 80)
        self.assertEqual([b.start for b in self.branches], [3, 7, 15, 31])
        self.assertEqual([b.stride for b in self.branches], [4, 8, 16, 32])
        self.assertEqual([b.constant for b in self.branches], [10, 20, 40, 80])
        self.assertEqual([b.logits for b in self.branches], ["conv8_3_score", "conv11_3_score", "conv14_3_score", "conv17_3_score"])
        self.assertEqual({b.head_channel for b in self.branches}, {0})
        self.assertEqual(lffd.feature_sizes(self.net, self.branches, 256, 256), [(63, 63), (31, 31), (15, 15), (7, 7)])

    def test_targets_decode_back_to_the_labelled_box(self) -> None:
        box = np.array([[40.0, 52.0, 55.0, 66.0]])  # 15 px: branch 0 (10-20)
        b0 = self.branches[0]
        t = lffd.assign(b0, (63, 63), box)
        ys, xs = np.nonzero(t.positive)
        self.assertGreater(len(xs), 4)
        centres = b0.centres(63)
        self.assertTrue(((centres[xs] >= 40) & (centres[xs] <= 55)).all(), "positives are RF centres inside the box")
        # decode as the edge does: x1 = cx - b0 * C ...
        outputs: Dict[str, torch.Tensor] = {}
        for b, size in zip(self.branches, [(63, 63), (31, 31), (15, 15), (7, 7)]):
            tb = lffd.assign(b, size, box)
            outputs[b.score] = torch.from_numpy(tb.positive[None, None])
            outputs[b.bbox] = torch.from_numpy(tb.bbox[None])
        found = lffd.decode(outputs, self.branches, threshold=0.5)
        self.assertEqual(len(found), 1, "NMS leaves one box")
        np.testing.assert_allclose(found[0, :4], box[0], atol=1e-4)

    def test_branch_ranges_gray_zones_and_shared_centres(self) -> None:
        b0, b1 = self.branches[0], self.branches[1]
        nineteen = np.array([[100.0, 100.0, 119.0, 119.0]])
        self.assertGreater(lffd.assign(b0, (63, 63), nineteen).positive.sum(), 0, "19 px is green for 10-20")
        gray = lffd.assign(b1, (31, 31), nineteen)
        self.assertEqual(gray.positive.sum(), 0, "19 px is not a positive for 20-40")
        self.assertGreater((gray.score_mask == 0).sum(), 0, "but is ignored there (gray zone 18-44), not a negative")
        far = lffd.assign(self.branches[3], (7, 7), nineteen)
        self.assertEqual(far.score_mask.min(), 1, "a 19 px head is a plain negative for the 80-160 branch")
        overlapping = np.array([[40.0, 40.0, 56.0, 56.0], [48.0, 40.0, 64.0, 56.0]])
        t = lffd.assign(b0, (63, 63), overlapping)
        shared = (t.score_mask == 0)
        self.assertGreater(shared.sum(), 0, "centres inside both boxes are ignored")
        self.assertEqual(float((t.bbox_mask * shared).sum()), 0.0, "and not regressed")
        ignore = lffd.assign(b0, (63, 63), np.zeros((0, 4)), ignore=np.array([[0.0, 0.0, 30.0, 30.0]]))
        self.assertEqual(ignore.positive.sum(), 0)
        self.assertGreater((ignore.score_mask == 0).sum(), 20, "ignore regions are neither positive nor negative")

    def test_hard_negative_mining_and_a_step_lowers_the_loss(self) -> None:
        net = OnnxNet(onnx.load(require(LFFD)))
        boxes = np.array([[30.0, 30.0, 45.0, 46.0], [80.0, 60.0, 108.0, 90.0], [20.0, 100.0, 80.0, 160.0]])
        sizes = lffd.feature_sizes(net, self.branches, 192, 192)
        targets = lffd.BatchTargets.stack([[lffd.assign(b, s, boxes) for b, s in zip(self.branches, sizes)]])
        rng = np.random.default_rng(0)
        image = torch.from_numpy(rng.uniform(0, 255, size=(1, 3, 192, 192)).astype(np.float32))
        config = lffd.LffdConfig()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.0)
        losses = []
        for _ in range(3):
            outputs = net.run({"data": image}, keep=[b.logits for b in self.branches])
            parts = lffd.loss(outputs, targets, self.branches, config)
            optimizer.zero_grad()
            parts.total.backward()
            optimizer.step()
            losses.append(float(parts.total))
        self.assertGreater(parts.positives, 0)
        self.assertLess(losses[-1], losses[0])

    def test_cross_entropy_counts_ratio_negatives_per_positive(self) -> None:
        b = self.branches[0]
        logits = torch.zeros(1, 2, 10, 10)
        logits[0, 1] = torch.linspace(-3, 3, 100).reshape(10, 10)  # background logit: hardest negatives first
        positive = torch.zeros(1, 10, 10)
        positive[0, 0, 0] = 1
        targets = lffd.BatchTargets([positive], [torch.ones(1, 10, 10)], [torch.zeros(1, 4, 10, 10)], [positive.clone()])
        outputs = {b.logits: logits, b.bbox: torch.zeros(1, 4, 10, 10)}
        config = lffd.LffdConfig(hnm_ratio=5)
        parts = lffd.loss(outputs, targets, [b], config)
        logp = torch.log_softmax(logits, 1)
        neg = -logp[0, 1].reshape(-1)[1:]
        want = (-logp[0, 0, 0, 0] + torch.topk(neg, 5).values.sum()) / 6
        self.assertAlmostEqual(parts.score, float(want), places=5)


if __name__ == "__main__":
    unittest.main()
