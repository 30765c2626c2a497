"""ONNX export with the base model's interface: same input and output names, layouts and dynamic axes.

The edge decodes by output name and shape, so an exported model that renamed `score0` or fixed the input size would
fail there, not here. `check_interface` compares the export with the base graph and refuses a mismatch.
"""

from __future__ import annotations

import os
import tempfile
from typing import Dict, List, Optional, Tuple

import onnx
import torch
from torch import Tensor, nn

from .onnx_net import OnnxNet, _safe

OPSET = 13


class ExportError(RuntimeError):
    """The exported graph does not present the base model's interface; the message says what differs."""


class _Outputs(nn.Module):
    """Traces the mirror as a plain module: one input tensor, the graph outputs as a tuple."""

    def __init__(self, net: OnnxNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, data: Tensor) -> Tuple[Tensor, ...]:
        outputs: Tuple[Tensor, ...] = self.net(data)
        return outputs


def _dynamic_axes(base: onnx.ModelProto) -> Dict[str, Dict[int, str]]:
    """Symbolic dimensions of the base graph's inputs, by name; outputs get dynamic spatial axes when the input has
    them (the base graph leaves its output shapes undeclared)."""
    axes: Dict[str, Dict[int, str]] = {}
    initializers = {i.name for i in base.graph.initializer}
    spatial_dynamic = False
    for value in base.graph.input:
        if value.name in initializers:
            continue
        dims = {i: d.dim_param for i, d in enumerate(value.type.tensor_type.shape.dim) if d.dim_param}
        if dims:
            axes[value.name] = dims
            spatial_dynamic = spatial_dynamic or bool({2, 3} & set(dims))
    if spatial_dynamic:
        for value in base.graph.output:
            axes[value.name] = {2: f"{value.name}_height", 3: f"{value.name}_width"}
    return axes


def _example_input(base: onnx.ModelProto, size: int) -> Tuple[str, List[int]]:
    initializers = {i.name for i in base.graph.initializer}
    value = next(v for v in base.graph.input if v.name not in initializers)
    shape = [d.dim_value if d.dim_value > 0 else (1 if i == 0 else (3 if i == 1 else size))
             for i, d in enumerate(value.type.tensor_type.shape.dim)]
    return value.name, shape


def export(net: OnnxNet, base: onnx.ModelProto, path: str, metadata: Optional[Dict[str, str]] = None,
           example_size: int = 256) -> onnx.ModelProto:
    """Writes the network to `path` (atomically) with the base model's interface and returns the written model."""
    input_name, shape = _example_input(base, example_size)
    outputs = [o.name for o in base.graph.output]
    was_training = net.training
    net.eval()
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        with torch.no_grad():
            torch.onnx.export(_Outputs(net), (torch.zeros(shape),), raw, opset_version=OPSET,
                              input_names=[input_name], output_names=outputs,
                              dynamic_axes=_dynamic_axes(base), do_constant_folding=True)
        model = onnx.load(raw)
    net.train(was_training)
    _restore_names(model, net)
    model.graph.name = base.graph.name or model.graph.name
    model.producer_name = "cinemavision-trainer"
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    check_interface(model, base)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(suffix=".onnx", dir=directory)
    os.close(fd)
    try:
        onnx.save(model, tmp_path)
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
    return model


def _restore_names(model: onnx.ModelProto, net: OnnxNet) -> None:
    """Torch names parameters after the module path (net.weights.conv1_weight); give them their ONNX names back."""
    back = {f"net.weights.{key}": name for name, key in net.param_names.items()}
    back.update({f"net.const_{_safe(name)}": name for name in net._constants})
    taken = {i.name for i in model.graph.initializer} | {o for n in model.graph.node for o in n.output}
    rename = {old: new for old, new in back.items() if new not in taken or new == old}
    for init in model.graph.initializer:
        if init.name in rename:
            init.name = rename[init.name]
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in rename:
                node.input[i] = rename[name]


def interface(model: onnx.ModelProto) -> Tuple[List[Tuple[str, int, List[object]]], List[Tuple[str, Optional[int]]]]:
    """(name, element type, dims with symbolic dims as None) of inputs; (name, rank or None) of outputs."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [(v.name, v.type.tensor_type.elem_type,
               [d.dim_value if d.dim_value > 0 else None for d in v.type.tensor_type.shape.dim])
              for v in model.graph.input if v.name not in initializers]
    outputs = [(v.name, len(v.type.tensor_type.shape.dim) if v.type.tensor_type.HasField("shape") and
                v.type.tensor_type.shape.dim else None) for v in model.graph.output]
    return inputs, outputs


def check_interface(model: onnx.ModelProto, base: onnx.ModelProto) -> None:
    """Same input names, element types and fixed/dynamic dims; same output names in the same order."""
    got_in, got_out = interface(model)
    want_in, want_out = interface(base)
    if got_in != want_in:
        raise ExportError(f"inputs differ from the base model: {got_in} vs {want_in}")
    if [n for n, _ in got_out] != [n for n, _ in want_out]:
        raise ExportError(f"outputs differ from the base model: {[n for n, _ in got_out]} vs {[n for n, _ in want_out]}")
    for (name, rank), (_, want_rank) in zip(got_out, want_out):
        if want_rank is not None and rank is not None and rank != want_rank:
            raise ExportError(f"output {name} has rank {rank}, the base model's has {want_rank}")
