from __future__ import annotations

import unittest

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

from cvtrain.onnx_net import OnnxNet, UnsupportedGraphError

from .assets import LFFD, YOLOX, require


def _graph(nodes, inits, outputs, opset=13):  # type: ignore[no-untyped-def]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, "h", "w"])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


class OperatorTests(unittest.TestCase):
    """Each operator against the PyTorch expression it stands for, on a small graph built here."""

    def setUp(self) -> None:
        rng = np.random.default_rng(1)
        self.w = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
        self.b = rng.normal(size=(4,)).astype(np.float32)
        self.x = torch.from_numpy(rng.normal(size=(1, 2, 8, 10)).astype(np.float32))

    def test_conv_relu_add_softmax_slice_concat_match_torch(self) -> None:
        nodes = [
            helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("Add", ["c", "r"], ["a"]),
            helper.make_node("Softmax", ["a"], ["s"], axis=1),
            helper.make_node("Slice", ["s", "st", "en", "ax"], ["sl"]),
            helper.make_node("Concat", ["sl", "a"], ["cat"], axis=1),
        ]
        inits = {"w": self.w, "b": self.b, "st": np.array([1], np.int64), "en": np.array([3], np.int64),
                 "ax": np.array([1], np.int64)}
        net = OnnxNet(_graph(nodes, inits, ["cat"]))
        with torch.no_grad():
            got = net(self.x)[0]
            c = F.conv2d(self.x, torch.from_numpy(self.w), torch.from_numpy(self.b), stride=2, padding=1)
            a = c + F.relu(c)
            want = torch.cat([torch.softmax(a, 1)[:, 1:3], a], 1)
        self.assertEqual(tuple(got.shape), (1, 6, 4, 5))
        self.assertLess(float((got - want).abs().max()), 1e-6)
        self.assertEqual(set(net.param_names), {"w", "b"}, "only Conv weights and biases are trainable")

    def test_asymmetric_pads_maxpool_resize_batchnorm_sigmoid_mul(self) -> None:
        scale, bias = np.array([1.5, 0.5], np.float32), np.array([0.1, -0.2], np.float32)
        mean, var = np.array([0.2, -0.1], np.float32), np.array([2.0, 0.5], np.float32)
        nodes = [
            helper.make_node("BatchNormalization", ["x", "sc", "bi", "me", "va"], ["bn"], epsilon=1e-3),
            helper.make_node("Sigmoid", ["bn"], ["sg"]),
            helper.make_node("Mul", ["bn", "sg"], ["silu"]),
            helper.make_node("MaxPool", ["silu"], ["mp"], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1]),
            helper.make_node("Resize", ["mp", "", "scales"], ["up"], mode="nearest"),
        ]
        inits = {"sc": scale, "bi": bias, "me": mean, "va": var, "scales": np.array([1, 1, 2, 2], np.float32)}
        net = OnnxNet(_graph(nodes, inits, ["up"]))
        with torch.no_grad():
            got = net(self.x)[0]
            bn = F.batch_norm(self.x, torch.from_numpy(mean), torch.from_numpy(var), torch.from_numpy(scale),
                              torch.from_numpy(bias), False, eps=1e-3)
            silu = bn * torch.sigmoid(bn)
            mp = F.max_pool2d(F.pad(silu, [0, 1, 0, 1], value=-float("inf")), 2, 2)
            want = F.interpolate(mp, scale_factor=2.0, mode="nearest")
        self.assertEqual(tuple(got.shape), tuple(want.shape))
        self.assertLess(float((got - want).abs().max()), 1e-6)

    def test_unsupported_operator_names_the_node(self) -> None:
        model = _graph([helper.make_node("LSTM", ["x"], ["y"], name="lstm_1")], {}, ["y"])
        with self.assertRaises(UnsupportedGraphError) as ctx:
            OnnxNet(model)
        self.assertIn("lstm_1", str(ctx.exception))
        self.assertIn("LSTM", str(ctx.exception))


class RealGraphTests(unittest.TestCase):
    def test_lffd_mirror_has_every_conv_weight_and_branch_shapes(self) -> None:
        model = onnx.load(require(LFFD))
        net = OnnxNet(model)
        convs = [n for n in model.graph.node if n.op_type == "Conv"]
        self.assertEqual(len(net.param_names), 2 * len(convs))
        initial = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        for name, value in net.initializer_arrays().items():
            np.testing.assert_array_equal(value, initial[name])
        self.assertEqual([i.name for i in net.inputs], ["data"])
        self.assertEqual([o.name for o in net.outputs],
                         ["score0", "bbox0", "score1", "bbox1", "score2", "bbox2", "score3", "bbox3"])
        with torch.no_grad():
            out = net(torch.full((1, 3, 256, 320), 127.0))
        self.assertEqual([tuple(t.shape) for t in out[::2]], [(1, 1, 63, 79), (1, 1, 31, 39), (1, 1, 15, 19), (1, 1, 7, 9)])
        self.assertEqual(tuple(out[1].shape), (1, 4, 63, 79))
        for score in out[::2]:
            self.assertTrue(bool(((score >= 0) & (score <= 1)).all()), "scores are softmax probabilities")

    def test_yolox_graph_mirrors_too(self) -> None:
        # The natural second model: Focus slices with steps, SiLU, max pools, nearest upsampling, reshape/transpose.
        net = OnnxNet(onnx.load(require(YOLOX)))
        with torch.no_grad():
            out = net(torch.full((1, 3, 192, 192), 114.0))[0]
        self.assertEqual(tuple(out.shape), (1, (24 * 24) + (12 * 12) + (6 * 6), 6))
        self.assertTrue(bool(((out[..., 4] >= 0) & (out[..., 4] <= 1)).all()), "objectness is sigmoid-activated")


if __name__ == "__main__":
    unittest.main()
