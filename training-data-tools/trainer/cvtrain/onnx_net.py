"""A PyTorch network that mirrors an ONNX graph node by node and starts from its initializers.

Why mirror instead of re-writing the architecture by hand: the edge runs the ONNX file, so the only network that
is safe to fine-tune is exactly the one in that file. Walking its nodes keeps every operator, attribute and tensor
name; the weights (Conv, BatchNormalization and Gemm initializers) become trainable parameters, every other
initializer stays a constant. Export (see export.py) then produces a graph with the same inputs and outputs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Node inputs (by position) that hold learnable weights for each operator; other initializers stay constants.
_TRAINABLE_INPUTS: Dict[str, Tuple[int, ...]] = {
    "Conv": (1, 2),
    "ConvTranspose": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "BatchNormalization": (1, 2),
    "PRelu": (1,),
}


class UnsupportedGraphError(ValueError):
    """The ONNX graph uses an operator or attribute the mirror does not implement; the message names the node."""


@dataclass(frozen=True)
class GraphIO:
    """The name and declared shape (ints or symbolic names) of a graph input or output."""

    name: str
    shape: Tuple[object, ...]


def _attributes(node: onnx.NodeProto) -> Dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _declared_shape(value: onnx.ValueInfoProto) -> Tuple[object, ...]:
    dims = value.type.tensor_type.shape.dim
    return tuple(d.dim_param if d.dim_param else (d.dim_value if d.HasField("dim_value") else "?") for d in dims)


def _safe(name: str) -> str:
    """A parameter key torch accepts (no dots), still readable."""
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


class OnnxNet(nn.Module):
    """Runs an ONNX graph's nodes in order with PyTorch operators.

    Parameters are keyed by their (sanitised) ONNX initializer names, so ``initializer_arrays`` can write them back
    and tests can compare them one by one.
    """

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        graph = model.graph
        self.opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
        init = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
        trainable: Dict[str, str] = {}
        for node in graph.node:
            for index in _TRAINABLE_INPUTS.get(node.op_type, ()):
                if index < len(node.input) and node.input[index] in init:
                    trainable[node.input[index]] = _safe(node.input[index])
        self.weights = nn.ParameterDict()
        self.param_names: Dict[str, str] = {}  # original initializer name -> parameter key
        self._constants: Dict[str, Tensor] = {}
        self._constant_arrays: Dict[str, np.ndarray] = {}  # numpy copies: shapes and slice bounds stay Python values
        for name, array in init.items():
            tensor = torch.from_numpy(np.array(array, copy=True))
            if name in trainable:
                self.weights[trainable[name]] = nn.Parameter(tensor.float())
                self.param_names[name] = trainable[name]
            else:
                key = "const_" + _safe(name)
                self.register_buffer(key, tensor, persistent=False)
                self._constants[name] = tensor
                self._constant_arrays[name] = np.array(array, copy=True)
        # Constant nodes become constants as well.
        self._nodes: List[onnx.NodeProto] = []
        for node in graph.node:
            if node.op_type == "Constant":
                attrs = _attributes(node)
                if "value" not in attrs:
                    raise UnsupportedGraphError(f"node '{node.name}': Constant without a tensor 'value' is not supported")
                value = attrs["value"]
                assert isinstance(value, onnx.TensorProto)
                tensor = torch.from_numpy(np.array(onnx.numpy_helper.to_array(value), copy=True))
                self._constants[node.output[0]] = tensor
                self._constant_arrays[node.output[0]] = tensor.numpy().copy()
                self.register_buffer("const_" + _safe(node.output[0]), tensor, persistent=False)
            else:
                self._nodes.append(node)
        initializer_names = set(init)
        self.inputs = [GraphIO(i.name, _declared_shape(i)) for i in graph.input if i.name not in initializer_names]
        self.outputs = [GraphIO(o.name, _declared_shape(o)) for o in graph.output]
        self.producers: Dict[str, onnx.NodeProto] = {out: n for n in self._nodes for out in n.output}
        for node in self._nodes:
            if node.op_type not in _OPS:
                raise UnsupportedGraphError(
                    f"node '{node.name}' ({node.op_type}) is not supported; supported operators: {', '.join(sorted(_OPS))}")

    @staticmethod
    def load(path: str) -> "OnnxNet":
        return OnnxNet(onnx.load(path))

    # --- running -------------------------------------------------------------------------------------------------

    def run(self, inputs: Dict[str, Tensor], keep: Sequence[str] = ()) -> Dict[str, Tensor]:
        """Runs the graph; returns the graph outputs plus any intermediate tensors named in ``keep``."""
        env: Dict[str, Tensor] = dict(inputs)
        for node in self._nodes:
            args: List[Optional[Tensor]] = [self._value(env, name) if name else None for name in node.input]
            results = _OPS[node.op_type](self, node, args)
            for name, value in zip(node.output, results):
                if name:
                    env[name] = value
        wanted = [o.name for o in self.outputs] + list(keep)
        return {name: env[name] for name in wanted}

    def forward(self, data: Tensor) -> Tuple[Tensor, ...]:  # noqa: D401 - torch API
        """The graph outputs in declared order (a single-input graph)."""
        results = self.run({self.inputs[0].name: data})
        return tuple(results[o.name] for o in self.outputs)

    def _value(self, env: Dict[str, Tensor], name: str) -> Tensor:
        if name in env:
            return env[name]
        key = self.param_names.get(name)
        if key is not None:
            weight: Tensor = self.weights[key]
            return weight
        if name in self._constants:
            # buffers follow .to(device); fetch the registered copy
            buffer: Tensor = getattr(self, "const_" + _safe(name))
            return buffer
        raise UnsupportedGraphError(f"tensor '{name}' is used before it is produced")

    def constant(self, name: str) -> Optional[np.ndarray]:
        """The value of a constant initializer or Constant node, or None."""
        return self._constant_arrays.get(name)

    def initializer_arrays(self) -> Dict[str, np.ndarray]:
        """The current trainable weights under their original ONNX initializer names."""
        return {name: self.weights[key].detach().cpu().numpy().copy() for name, key in self.param_names.items()}

    def trace_back(self, tensor: str, through: Sequence[str]) -> Tuple[str, List[onnx.NodeProto]]:
        """Follows producers of ``tensor`` while they are of the ``through`` op types; returns the first tensor
        produced otherwise and the nodes passed (nearest first)."""
        passed: List[onnx.NodeProto] = []
        node = self.producers.get(tensor)
        while node is not None and node.op_type in through:
            passed.append(node)
            tensor = node.input[0]
            node = self.producers.get(tensor)
        return tensor, passed


# --- operators ---------------------------------------------------------------------------------------------------

Op = Callable[[OnnxNet, onnx.NodeProto, List[Optional[Tensor]]], List[Tensor]]


def _req(args: List[Optional[Tensor]], i: int, node: onnx.NodeProto) -> Tensor:
    value = args[i] if i < len(args) else None
    if value is None:
        raise UnsupportedGraphError(f"node '{node.name}' ({node.op_type}): input {i} is missing")
    return value


def _ints(values: object) -> List[int]:
    return [int(v) for v in values] if isinstance(values, (list, tuple)) else []


def _static(net: OnnxNet, node: onnx.NodeProto, i: int) -> Optional[List[int]]:
    """A node input that must be a constant (shapes, slice bounds), as a list of ints."""
    if i >= len(node.input) or not node.input[i]:
        return None
    value = net.constant(node.input[i])
    if value is None:
        raise UnsupportedGraphError(f"node '{node.name}' ({node.op_type}): input '{node.input[i]}' must be a constant")
    return [int(v) for v in np.asarray(value).reshape(-1)]


def _symmetric_pads(node: onnx.NodeProto, pads: List[int], dims: int) -> Tuple[List[int], Optional[List[int]]]:
    """ONNX pads are [begin..., end...]; torch wants one value per dim or an explicit F.pad."""
    if not pads:
        return [0] * dims, None
    begin, end = pads[:dims], pads[dims:]
    if begin == end:
        return begin, None
    # asymmetric: pad explicitly (F.pad takes last dim first: [left, right, top, bottom])
    explicit: List[int] = []
    for d in reversed(range(dims)):
        explicit += [begin[d], end[d]]
    return [0] * dims, explicit


def _auto_pad(node: onnx.NodeProto, attrs: Dict[str, Any]) -> None:
    mode = attrs.get("auto_pad", b"NOTSET")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode not in ("NOTSET", "VALID"):
        raise UnsupportedGraphError(f"node '{node.name}' ({node.op_type}): auto_pad={mode} is not supported")


def _conv(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    attrs = _attributes(node)
    _auto_pad(node, attrs)
    x, w = _req(args, 0, node), _req(args, 1, node)
    b = args[2] if len(args) > 2 else None
    dims = w.dim() - 2
    if dims != 2:
        raise UnsupportedGraphError(f"node '{node.name}': only 2-D convolutions are supported")
    pads, explicit = _symmetric_pads(node, _ints(attrs.get("pads", [])), dims)
    if explicit is not None:
        x = F.pad(x, explicit)
    return [F.conv2d(x, w, b, stride=_ints(attrs.get("strides", [1, 1])), padding=pads,
                     dilation=_ints(attrs.get("dilations", [1, 1])), groups=int(attrs.get("group", 1)))]


def _pool(kind: str) -> Op:
    def run(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
        attrs = _attributes(node)
        _auto_pad(node, attrs)
        x = _req(args, 0, node)
        kernel = _ints(attrs["kernel_shape"])
        pads, explicit = _symmetric_pads(node, _ints(attrs.get("pads", [])), 2)
        if explicit is not None:
            x = F.pad(x, explicit, value=-math.inf if kind == "max" else 0.0)
        strides = _ints(attrs.get("strides", [1, 1]))
        ceil = bool(attrs.get("ceil_mode", 0))
        if kind == "max":
            return [F.max_pool2d(x, kernel, strides, pads, ceil_mode=ceil)]
        return [F.avg_pool2d(x, kernel, strides, pads, ceil_mode=ceil, count_include_pad=bool(attrs.get("count_include_pad", 0)))]
    return run


def _binary(fn: Callable[[Tensor, Tensor], Tensor]) -> Op:
    return lambda net, node, args: [fn(_req(args, 0, node), _req(args, 1, node))]


def _unary(fn: Callable[[Tensor], Tensor]) -> Op:
    return lambda net, node, args: [fn(_req(args, 0, node))]


def _softmax(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    axis = int(_attributes(node).get("axis", -1 if net.opset >= 13 else 1))
    if net.opset < 13 and axis != x.dim() - 1:
        # Before opset 13 Softmax flattens from `axis`; the mirror only needs the common last-axis/4-D channel case.
        if not (x.dim() == 4 and axis == 1 and x.shape[2] == 1 and x.shape[3] == 1):
            raise UnsupportedGraphError(f"node '{node.name}': opset<13 Softmax over axis {axis} is not supported")
    return [torch.softmax(x, dim=axis)]


def _concat(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    return [torch.cat([a for a in args if a is not None], dim=int(_attributes(node)["axis"]))]


def _slice(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    if net.opset < 10:
        attrs = _attributes(node)
        starts, ends = _ints(attrs["starts"]), _ints(attrs["ends"])
        axes = _ints(attrs.get("axes", list(range(len(starts)))))
        steps = [1] * len(starts)
    else:
        starts, ends = _static(net, node, 1) or [], _static(net, node, 2) or []
        axes = _static(net, node, 3) or list(range(len(starts)))
        steps = _static(net, node, 4) or [1] * len(starts)
    index: List[slice] = [slice(None)] * x.dim()
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step <= 0:
            raise UnsupportedGraphError(f"node '{node.name}': negative slice steps are not supported")
        big = 2 ** 62
        index[axis % x.dim()] = slice(start if abs(start) < big else None, end if abs(end) < big else None, step)
    return [x[tuple(index)]]


def _reshape(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    shape = _static(net, node, 1) or []
    return [x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(shape)])]


def _transpose(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    perm = _ints(_attributes(node).get("perm", list(reversed(range(x.dim())))))
    return [x.permute(perm)]


def _resize(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    attrs = _attributes(node)
    mode = attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode != "nearest":
        raise UnsupportedGraphError(f"node '{node.name}': Resize mode {mode} is not supported")
    scales_name = node.input[2] if len(node.input) > 2 else ""
    scales = net.constant(scales_name) if scales_name else None
    if scales is None or np.asarray(scales).size != 4:
        raise UnsupportedGraphError(f"node '{node.name}': Resize needs constant 4-D scales")
    s = np.asarray(scales, dtype=np.float64)
    return [F.interpolate(x, scale_factor=(float(s[2]), float(s[3])), mode="nearest")]


def _batchnorm(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x, scale, bias, mean, var = (_req(args, i, node) for i in range(5))
    eps = float(_attributes(node).get("epsilon", 1e-5))
    # Running statistics stay frozen: fine-tuning batches are too small to re-estimate them.
    return [F.batch_norm(x, mean, var, scale, bias, training=False, eps=eps)]


def _gemm(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    attrs = _attributes(node)
    a, b = _req(args, 0, node), _req(args, 1, node)
    if int(attrs.get("transA", 0)):
        a = a.t()
    if int(attrs.get("transB", 0)):
        b = b.t()
    y = float(attrs.get("alpha", 1.0)) * (a @ b)
    c = args[2] if len(args) > 2 else None
    if c is not None:
        y = y + float(attrs.get("beta", 1.0)) * c
    return [y]


def _clip(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    attrs = _attributes(node)
    lo = args[1] if len(args) > 1 and args[1] is not None else attrs.get("min")
    hi = args[2] if len(args) > 2 and args[2] is not None else attrs.get("max")
    lo_v = float(lo) if lo is not None else None
    hi_v = float(hi) if hi is not None else None
    return [torch.clamp(x, lo_v, hi_v)]


def _flatten(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    axis = int(_attributes(node).get("axis", 1))
    return [x.reshape(int(np.prod(x.shape[:axis])) if axis else 1, -1)]


def _unsqueeze(net: OnnxNet, node: onnx.NodeProto, args: List[Optional[Tensor]]) -> List[Tensor]:
    x = _req(args, 0, node)
    axes = _static(net, node, 1) if net.opset >= 13 else _ints(_attributes(node)["axes"])
    for axis in sorted(axes or []):
        x = x.unsqueeze(axis)
    return [x]


_OPS: Dict[str, Op] = {
    "Conv": _conv,
    "Relu": _unary(F.relu),
    "LeakyRelu": lambda net, node, args: [F.leaky_relu(_req(args, 0, node), float(_attributes(node).get("alpha", 0.01)))],
    "Sigmoid": _unary(torch.sigmoid),
    "Tanh": _unary(torch.tanh),
    "Exp": _unary(torch.exp),
    "Identity": _unary(lambda x: x),
    "Add": _binary(torch.add),
    "Sub": _binary(torch.sub),
    "Mul": _binary(torch.mul),
    "Div": _binary(torch.div),
    "Softmax": _softmax,
    "Concat": _concat,
    "Slice": _slice,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Resize": _resize,
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": _unary(lambda x: x.mean(dim=(2, 3), keepdim=True)),
    "BatchNormalization": _batchnorm,
    "Gemm": _gemm,
    "Clip": _clip,
    "Flatten": _flatten,
    "Unsqueeze": _unsqueeze,
}
