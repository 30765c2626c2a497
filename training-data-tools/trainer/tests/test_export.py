from __future__ import annotations

import os
import tempfile
import unittest

import onnx
import torch

from cvtrain import export as export_mod
from cvtrain.onnx_net import OnnxNet

from .assets import LFFD, require


class ExportTests(unittest.TestCase):
    def test_export_keeps_the_interface_and_the_numbers(self) -> None:
        base = onnx.load(require(LFFD))
        net = OnnxNet(base)
        with torch.no_grad():  # change the weights so the test sees them travel
            for p in net.parameters():
                p.mul_(1.01)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.onnx")
            model = export_mod.export(net, base, path, {"data_fingerprint": "abc"})
            self.assertTrue(os.path.exists(path))
            loaded = onnx.load(path)
        self.assertEqual(export_mod.interface(loaded)[0], [("data", 1, [1, 3, None, None])])
        self.assertEqual([o.name for o in loaded.graph.output], [o.name for o in base.graph.output])
        self.assertEqual(loaded.opset_import[0].version, 13)
        self.assertEqual({p.key: p.value for p in loaded.metadata_props}["data_fingerprint"], "abc")
        self.assertIn("conv1_weight", {i.name for i in model.graph.initializer}, "initializers keep their ONNX names")
        again = OnnxNet(loaded)
        x = torch.rand(1, 3, 130, 210) * 255  # another size than the export's example: H and W are dynamic
        with torch.no_grad():
            for a, b in zip(net(x), again(x)):
                self.assertEqual(a.shape, b.shape)
                self.assertLess(float((a - b).abs().max()), 1e-5)

    def test_interface_check_refuses_a_renamed_output(self) -> None:
        base = onnx.load(require(LFFD))
        other = onnx.load(require(LFFD))
        other.graph.output[0].name = "scores"
        with self.assertRaisesRegex(export_mod.ExportError, "outputs differ"):
            export_mod.check_interface(other, base)


if __name__ == "__main__":
    unittest.main()
