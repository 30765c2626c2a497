"""Builds tiny ONNX graphs whose one output has the Ultralytics layouts, with known candidates, for the decoder tests.

usage: /usr/bin/python3 ultralytics_graphs.py OUT_DIR

The graph takes `images` [1, 3, 64, 64] and returns fixed candidates (plus 0 x the input mean, so the input is used):
  yolov5.onnx  output0 [1, N, 5 + C]  rows (cx, cy, w, h, objectness, class scores)
  yolov8.onnx  output0 [1, 4 + C, N]  channels (cx, cy, w, h, class scores), no objectness (also YOLO11's layout)
Classes: 0 = person, 1 = head. Boxes are in model-input pixels.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# (cx, cy, w, h, objectness, person, head)
CANDIDATES = np.array([
    [32.0, 30.0, 10.0, 20.0, 0.95, 0.90, 0.05],  # a person: v5 score 0.855, v8 score 0.90
    [12.0, 10.0, 6.0, 6.0, 0.90, 0.10, 0.80],    # a head:   v5 score 0.72,  v8 score 0.80
    [50.0, 50.0, 8.0, 8.0, 0.20, 0.30, 0.25],    # weak:     v5 score 0.06,  v8 score 0.30
], dtype=np.float32)


def graph(name, values):
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(values.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["candidates", "nothing"], ["output0"]),
    ]
    g = helper.make_graph(nodes, name, [images], [out], initializer=[
        numpy_helper.from_array(values, "candidates"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    v5 = CANDIDATES[None, :, :]                                               # [1, 3, 7]
    v8 = np.concatenate([CANDIDATES[:, :4], CANDIDATES[:, 5:]], axis=1).T[None]  # [1, 6, 3]
    onnx.save(graph("yolov5", np.ascontiguousarray(v5)), os.path.join(out_dir, "yolov5.onnx"))
    onnx.save(graph("yolov8", np.ascontiguousarray(v8)), os.path.join(out_dir, "yolov8.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
