"""ONNX models in: a ``.onnx`` file read into convcost's graph, layer by layer.

The file is decoded by ``onnxwire`` (no ``onnx`` import, weights skipped unread); each
operator becomes the convcost layer that costs the same (Conv → conv, Gemm → dense, ...),
in NCHW read as H×W×C per sample. Constant subgraphs (shapes computed with Shape, Gather,
Unsqueeze, Concat, as exporters emit before a Reshape) are evaluated here. An operator
convcost cannot count is refused, listed by type with its first nodes: never a silent zero.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from struct import error as struct_error
from typing import BinaryIO, NamedTuple

from convcost.core.errors import ConvcostError
from convcost.core.geometry import Padding
from convcost.core.graph import INPUT, Graph, GraphNode, Scope
from convcost.core.kinds.activations import Activation, LeakyReLU, Softmax
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv, ConvTranspose
from convcost.core.kinds.dense import Dense
from convcost.core.kinds.merges import Merge
from convcost.core.kinds.normalization import BatchNorm, GroupNorm, LayerNorm, LocalResponseNorm
from convcost.core.kinds.pooling import AvgPool, GlobalAvgPool, GlobalMaxPool, MaxPool
from convcost.core.kinds.resampling import Upsample
from convcost.core.kinds.reshaping import Dropout, Flatten, PixelShuffle, ZeroPad
from convcost.core.kinds.uncounted import Uncounted
from convcost.core.shapes import Shape
from convcost.frontends.files import read_file
from convcost.frontends.onnxwire import (
    BATCH,
    MAX_VALUES,
    Attribute,
    Dim,
    Garbled,
    Model,
    Node,
    Subgraph,
    Tensor,
    read_model,
)

MIN_OPSET, MAX_OPSET = 7, 23
"""The default domain's opsets whose operators are read here (ONNX 1.2 to 1.18's)."""

MAX_FILE_BYTES = 2**31 - 1
"""Protobuf's limit on one message, and so on an ONNX file's size."""

WEIGHT_SLOTS = {
    "Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "MatMul": (1,),
    "BatchNormalization": (1, 2, 3, 4),
    "LayerNormalization": (1, 2), "GroupNormalization": (1, 2),
}  # fmt: skip
"""The inputs of each operator that hold weights: by position, as ONNX's operators list them."""

Scalar = int | float | str  # str: BATCH, the batch size in a shape computed from the graph


class Activ(NamedTuple):
    """A tensor the network computes: the convcost node that makes it and its shape."""

    node: int
    shape: Shape


class Const(NamedTuple):
    """A constant: its dims and, when known, its values (flat)."""

    dims: tuple[int, ...]
    values: tuple[Scalar, ...] | None


class Refusal(Exception):
    """What one node cannot be read as (the message names the node): a form of its
    operator convcost does not count, which makes it an uncounted layer where its output
    shape is known, else refused with this message."""


class Fatal(Refusal):
    """A fault no uncounted layer can stand for: of the file itself (an input or
    initializer missing, nodes out of order or in a cycle) or of its mode (training)."""


def _attr(node: Node, name: str, default: object = None) -> object:
    found = node.attributes.get(name)
    return default if found is None else found.value


def _int(node: Node, name: str, default: int) -> int:
    value = _attr(node, name, default)
    if not isinstance(value, int):
        raise Fatal(f"attribute {name} is {value!r}, not an integer")
    return value


def _ints(node: Node, name: str) -> tuple[int, ...] | None:
    value = _attr(node, name)
    if value is None:
        return None
    if not isinstance(value, tuple) or not all(isinstance(v, int) for v in value):
        raise Fatal(f"attribute {name} is {value!r}, not a list of integers")
    return tuple(int(v) for v in value)


def _whole(values: tuple[Scalar, ...] | None) -> tuple[int, ...]:
    """Constant values that must be whole numbers (pads, axes, a shape)."""
    found = []
    for value in values or ():
        if isinstance(value, str) or value != int(value):
            shown = "the batch size" if isinstance(value, str) else repr(value)
            raise Refusal(f"needs whole numbers here, and {shown} is not one it can use")
        found.append(int(value))
    return tuple(found)


def _shown(dims: tuple[Dim | None, ...]) -> list[str]:
    """A file's dims as messages show them: ``['N', '3', '224', '224']``, ``?`` unknown."""
    return ["?" if d is None else str(d) for d in dims]


def _pair(values: tuple[int, ...] | None, default: int, what: str) -> tuple[int, int]:
    if values is None:
        return default, default
    if len(values) != 2:
        raise Refusal(f"{what} {list(values)} is not 2-D; convcost counts 2-D windows only")
    return values[0], values[1]


def module_path(node: Node) -> tuple[list[str], str]:
    """The module path in an exporter's node name, as convcost names scopes, and the
    operator's own name: ``/layer1/layer1.0/conv1/Conv`` → (``[layer1, 0, conv1]``,
    ``conv``); PyTorch's ``layer1.0`` inside ``layer1`` is ``0``."""
    parts = [part for part in node.name.split("/") if part]
    own = (parts[-1] if parts else node.op_type).lower() or "node"
    path: list[str] = []
    previous = ""
    for part in parts[:-1]:
        local = part.removeprefix(previous + ".") if previous else part
        previous = part
        path.extend(piece for piece in re.split(r"[./]", local) if piece)
    return path, own


class Builder:
    """Walks the nodes in file order (ONNX requires a topological order), keeping what
    each named tensor is: an activation, a constant, or absent (an optional input)."""

    def __init__(
        self,
        model: Model,
        source: str,
        max_layers: int,
        data: bytes = b"",
        input_shape: Shape | None = None,
    ) -> None:
        model, self.lrn_chains = read_lrn_chains(model, source)
        self.model = model
        self.asked_input = input_shape  # --input-shape: the input's sizes, symbolic ones too
        self.data = data  # the file, for ONNX's shape inference (uncounted operators only)
        self.source = source
        self.max_layers = max_layers
        self.opset = model.opsets.get("", model.opsets.get("ai.onnx", 0))
        self.values: dict[str, Activ | Const] = {}
        self.nodes: list[GraphNode] = []
        self.scopes: list[Scope] = []
        self.scope_index: dict[str, int] = {}
        self.names: set[str] = set()
        self.input_shape = Shape(1, 1, 1)
        self.scope_paths: set[str] = set()
        self.uses: dict[str, list[tuple[Node, int]]] | None = None
        self.makers = {out: node for node in model.nodes for out in node.outputs}
        self.channels_last = ""  # the input, when it is N×H×W×C
        self.fused: dict[str, Activ] = {}  # a node's output that a fused layer already made
        # Tensors an uncounted operator makes that convcost cannot follow, and why.
        self.unshaped: dict[str, str] = {}
        self.opaque: dict[str, int] = {}  # of those, the ones an uncounted node made
        self.given_dims: dict[str, tuple[Dim | None, ...]] | None = None  # see dims_given
        self.inferred = False
        self.input_sizes_asked: dict[str, tuple[int, ...]] = {}  # for shape inference
        self.batch_dim: Dim | None = 1  # the input's first dimension, as the file names it
        for node in model.nodes:
            path, _ = module_path(node)
            self.scope_paths.update("/".join(path[:i]) for i in range(1, len(path)))
        for name, tensor in model.initializers.items():
            self.values[name] = Const(tensor.dims, tensor.values)

    # --- the input ---------------------------------------------------------------------

    def read_input(self) -> None:
        data = []
        for info in self.model.inputs:
            if info.name in self.model.initializers:
                continue
            if self.weight_input(info.name) and info.dims is not None:
                fixed = [d for d in info.dims if isinstance(d, int) and d >= 0]
                if len(fixed) == len(info.dims):
                    self.values[info.name] = Const(tuple(fixed), None)
                    continue
            data.append(info)
        if len(data) != 1:
            listed = ", ".join(f"'{info.name}'" for info in data) or "none"
            raise ConvcostError(
                f"{self.source}: convcost reads models with one input tensor; this one has "
                f"{len(data)} ({listed})"
            )
        info = data[0]
        dims = info.dims
        if dims is None or len(dims) not in (2, 4):
            shown = "no shape" if dims is None else f"rank {len(dims)}"
            raise ConvcostError(
                f"{self.source}: input '{info.name}' has {shown}; convcost reads an N×C×H×W "
                "image or an N×F vector input"
            )
        self.batch_dim = dims[0]
        ints = self.input_sizes(info.name, dims)
        shape = Shape(1, 1, ints[0], True) if len(ints) == 1 else Shape(ints[1], ints[2], ints[0])
        if len(ints) == 3 and self.channels_last_input(info.name):
            # N×H×W×C, as TensorFlow's exporters leave the input, turned N×C×H×W at once.
            shape = Shape(ints[0], ints[1], ints[2])
            self.channels_last = info.name
        self.input_shape = shape
        self.values[info.name] = Activ(INPUT, shape)

    def channels_last_input(self, name: str) -> bool:
        uses = self.uses_of(name)
        return bool(uses) and all(_to_channels_first(n) for n, _ in uses)

    def input_sizes(self, name: str, dims: tuple[Dim | None, ...]) -> list[int]:
        """The input's sizes after the batch, C, H, W (or F): as the file fixes them, a
        symbolic one as ``--input-shape`` gives it (a fixed one it must agree with)."""
        rest = dims[1:]
        asked = self.asked_input
        if asked is not None:
            wanted: tuple[int, ...] = (asked.c,) if len(rest) == 1 else (asked.c, asked.h, asked.w)
            if len(rest) == 3 and self.channels_last_input(name):
                wanted = (asked.h, asked.w, asked.c)
            fixed = [d if isinstance(d, int) and d >= 1 else None for d in rest]
            if (len(rest) == 1 and (asked.h, asked.w) != (1, 1)) or any(
                d is not None and d != w for d, w in zip(fixed, wanted, strict=True)
            ):
                raise ConvcostError(
                    f"{self.source}: input '{name}' has the dimensions {_shown(dims)}, and "
                    f"--input-shape {asked.ascii} gives {_shown((dims[0], *wanted))}: it sets "
                    "symbolic dimensions, and must agree with fixed ones"
                )
            self.input_sizes_asked = {name: wanted}
            return list(wanted)
        if not all(isinstance(d, int) and d >= 1 for d in rest):
            raise ConvcostError(
                f"{self.source}: input '{name}' has the symbolic or unknown dimensions "
                f"{_shown(dims)}; the batch (the first) takes --batch, the others need "
                "--input-shape HxWxC (convcost's order, e.g. 224x224x3)"
            )
        return [int(d) for d in rest if isinstance(d, int)]

    def uses_of(self, name: str) -> list[tuple[Node, int]]:
        """The nodes that read a tensor, with the input's position in each."""
        if self.uses is None:
            self.uses = {}
            for node in self.model.nodes:
                for k, read in enumerate(node.inputs):
                    self.uses.setdefault(read, []).append((node, k))
        return self.uses.get(name, [])

    def weight_input(self, name: str, depth: int = 0) -> bool:
        """Whether a graph input is read only as weights (a model exported without them,
        its weights given as inputs of their shape): then it is a constant, not data. An
        Identity passes it on (PyTorch's exporter shares equal weights through them)."""
        found = self.uses_of(name)
        for node, k in found:
            if node.op_type == "Identity" and depth < 8 and node.outputs:
                if not self.weight_input(node.outputs[0], depth + 1):
                    return False
            elif k not in WEIGHT_SLOTS.get(node.op_type, ()):
                return False
        return bool(found)

    # --- helpers -----------------------------------------------------------------------

    def value(self, node: Node, k: int) -> Activ | Const:
        """Input k, which some node before this one or an initializer must make."""
        if k >= len(node.inputs) or not node.inputs[k]:
            raise Fatal(f"input {k + 1} is missing")
        name = node.inputs[k]
        value = self.values.get(name)
        if value is None and name in self.unshaped:
            raise Refusal(self.unshaped[name])
        if value is None:
            later = [n.name or n.op_type for n in self.model.nodes if name in n.outputs]
            if later:
                raise Fatal(f"reads '{name}' before the node that makes it ('{later[0]}'): "
                                 "the nodes are out of order, or in a cycle")  # fmt: skip
            raise Fatal(f"reads '{name}', which no node or initializer makes")
        return value

    def activ(self, node: Node, k: int) -> Activ:
        value = self.value(node, k)
        if not isinstance(value, Activ):
            raise Refusal(f"input '{node.inputs[k]}' is a constant; convcost counts operators "
                          "on activations")  # fmt: skip
        return value

    def const(self, node: Node, k: int, what: str, need_values: bool = False) -> Const | None:
        """Input k as a constant (None when the optional input is not given)."""
        if k >= len(node.inputs) or not node.inputs[k]:
            return None
        name = node.inputs[k]
        value = self.values.get(name)
        if value is None and name in self.unshaped:
            raise Refusal(self.unshaped[name])
        if value is None and any(name in n.outputs for n in self.model.nodes):
            raise Fatal(f"reads '{name}' before the node that makes it: the nodes are out "
                             "of order, or in a cycle")  # fmt: skip
        if value is None:
            raise Fatal(f"its {what} '{name}' is no initializer or constant in the file "
                             "(missing initializer)")  # fmt: skip
        if not isinstance(value, Const):
            raise Refusal(f"its {what} '{name}' is computed from the input; convcost needs a "
                          "constant")  # fmt: skip
        if need_values and value.values is None:
            raise Refusal(f"its {what} '{name}' has no values convcost can read")
        return value

    def name_for(self, node: Node) -> tuple[str, str, int, int]:
        """(prefix, local name, scope, depth) from the exporter's node name:
        ``/layer1/layer1.0/conv1/Conv`` → ``layer1/0/`` + ``conv1``. A node of a module
        that holds other modules' nodes (``/m/Add`` beside ``/m/layer1/...``) is named by
        its operator within it (``m/add``). A module's nodes after another's, outside it,
        are a new group of the same name (as tables show it): PyTorch runs a module's
        operators together, so only names that hold '/' (Caffe's ``conv2/3x3`` after
        ``relu2``) come back to a group left."""
        path, own = module_path(node)
        if not path or "/".join(path) in self.scope_paths:
            path = [*path, own]
        base = "/".join(path)
        unique, k = base, 1
        while unique in self.names:
            k += 1
            unique = f"{base}_{k}"
        self.names.add(unique)
        local = unique.rsplit("/", 1)[-1]
        scope, depth = -1, 0
        still_open, self.scope_index = self.scope_index, {}  # the groups the node before is in
        for i in range(len(path) - 1):
            full = "/".join(path[: i + 1])
            found = still_open.get(full)
            if found is None:
                found = len(self.scopes)
                self.scopes.append(Scope(full, path[i], "module", i, scope))
            self.scope_index[full] = found
            scope, depth = found, i + 1
        prefix = "/".join(path[:-1]) + "/" if len(path) > 1 else ""
        return prefix, local, scope, depth

    def add(self, node: Node, layer: Layer, inputs: tuple[int, ...], shape: Shape,
            shown_input: int | None = None) -> None:  # fmt: skip
        if len(self.nodes) >= self.max_layers:
            raise ConvcostError(f"{self.source}: more than {self.max_layers:,} layers")
        prefix, local, scope, depth = self.name_for(node)
        self.nodes.append(GraphNode(prefix, local, layer, inputs, scope, depth,
                                    shown_input=shown_input))  # fmt: skip
        if node.outputs:
            self.values[node.outputs[0]] = Activ(len(self.nodes) - 1, shape)

    def layer(self, node: Node, layer: Layer, source: Activ) -> None:
        try:
            out = layer.evaluate(source.shape).output_shape
        except ConvcostError as error:  # settings no framework runs: the file's fault
            raise Fatal(error.message) from None
        self.add(node, layer, (source.node,), out)

    def alias(self, node: Node, value: Activ | Const) -> None:
        if node.outputs:
            self.values[node.outputs[0]] = value

    def read_or_uncount(self, read: Callable[[Builder, Node], None], node: Node) -> None:
        """A known operator read as its layer; in a form convcost does not count, an
        uncounted layer (the reason kept for --explain) where its output shape is known,
        else refused with the reason."""
        made = len(self.nodes)
        try:
            read(self, node)
        except Fatal:
            raise
        except Refusal as refusal:
            del self.nodes[made:]
            try:
                _uncounted(self, node, str(refusal))
            except Refusal:
                raise refusal from None

    def dims_given(self, name: str) -> tuple[Dim | None, ...] | None:
        """A tensor's dims as the file gives them (value_info, the graph's outputs) or, once
        asked for one it does not give, as ONNX's shape inference does (when installed)."""
        self.given_dims = self.file_dims()
        found = self.given_dims.get(name)
        # At sizes --input-shape sets, the file's own dims may be those of another size:
        # shape inference at the sizes asked comes first.
        if (found is None or self.input_sizes_asked) and not self.inferred:
            self.inferred = True
            inferred = inferred_dims(self.data, self.input_sizes_asked)
            if self.input_sizes_asked:
                self.given_dims = {**self.given_dims, **inferred}
            else:
                self.given_dims = {**inferred, **self.given_dims}
            found = self.given_dims.get(name)
        return found

    def file_dims(self) -> dict[str, tuple[Dim | None, ...]]:
        """The dims the file gives (value_info, the graph's outputs), once inference has
        added its own the dims of either."""
        if self.given_dims is None:
            self.given_dims = {
                info.name: info.dims
                for info in (*self.model.value_info, *self.model.outputs)
                if info.dims is not None
            }
        return self.given_dims

    # --- the walk ----------------------------------------------------------------------

    def build(self) -> Graph:
        self.read_input()
        for node in self.model.nodes:
            read = OPERATORS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
            try:
                if read is None:
                    _uncounted(self, node)
                else:
                    self.read_or_uncount(read, node)
            except Refusal as refusal:
                raise ConvcostError(
                    f"{self.source}: node '{node.name}' ({node.op_type}): {refusal}"
                ) from None
        if not self.nodes:
            raise ConvcostError(f"{self.source}: the model computes nothing convcost counts")
        for info in self.model.outputs:
            if info.name not in self.values and info.name not in self.unshaped:
                raise ConvcostError(
                    f"{self.source}: output '{info.name}' is made by no node of the graph"
                )
        return Graph(self.input_shape, tuple(self.nodes), tuple(self.scopes))


# --- operators -------------------------------------------------------------------------


def _window(b: Builder, node: Node, source: Activ, kernel: tuple[int, int]) -> dict[str, object]:
    """kernel, stride, dilation and padding of a window operator (Conv, MaxPool,
    AveragePool): ``pads`` are [top, left, bottom, right]; ``auto_pad`` SAME_UPPER is
    convcost's ``same`` (the odd pixel after), SAME_LOWER puts it before."""
    stride = _pair(_ints(node, "strides"), 1, "strides")
    dilation = _pair(_ints(node, "dilations"), 1, "dilations")
    auto = _attr(node, "auto_pad", "NOTSET")
    padding: object
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        padding = "same"
        if auto == "SAME_LOWER":
            halves = []
            for size, k, s, d in zip((source.shape.h, source.shape.w), kernel, stride, dilation,
                                     strict=True):  # fmt: skip
                out = -(-size // s)
                total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
                halves.append((total - total // 2, total // 2))
            padding = (halves[0][0], halves[0][1], halves[1][0], halves[1][1])
    elif auto == "VALID":
        padding = (0, 0, 0, 0)
    elif auto in ("NOTSET", ""):
        pads = _ints(node, "pads") or (0, 0, 0, 0)
        if len(pads) != 4:
            raise Fatal(f"pads {list(pads)} are not those of a 2-D window")
        if min(pads) < 0:
            raise Fatal(f"negative pads {list(pads)}")
        top, bottom, left, right = _padded_before(b, node)
        padding = (pads[0] + top, pads[2] + bottom, pads[1] + left, pads[3] + right)
    else:
        raise Fatal(f"auto_pad {auto!r} is none of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    return {"kernel": kernel, "stride": stride, "dilation": dilation, "padding": padding}


def _spatial(source: Activ) -> None:
    if source.shape.flat:
        raise Refusal("its input is a vector; it needs an N×C×H×W tensor")


def _conv_weight(b: Builder, node: Node) -> tuple[Activ, Const]:
    """A Conv's or ConvTranspose's image input and its 4-D weight."""
    source = b.activ(node, 0)
    _spatial(source)
    weight = b.const(node, 1, "weight")
    if weight is None:
        raise Fatal("it has no weight")
    if len(weight.dims) != 4:
        raise Refusal(f"its weight has dims {list(weight.dims)}; convcost counts 2-D convs")
    return source, weight


def _conv(b: Builder, node: Node) -> None:
    source, weight = _conv_weight(b, node)
    filters, per_group, kh, kw = weight.dims
    group = _int(node, "group", 1)
    if group < 1 or per_group * group != source.shape.c:
        raise Fatal(f"weight {list(weight.dims)} with group {group} does not take the "
                      f"{source.shape.c} input channels")  # fmt: skip
    kernel = _ints(node, "kernel_shape")
    if kernel is not None and tuple(kernel) != (kh, kw):
        raise Fatal(f"kernel_shape {list(kernel)} differs from the weight's {[kh, kw]}")
    bias = b.const(node, 2, "bias") is not None
    settings = _window(b, node, source, (kh, kw))
    b.layer(node, Conv(filters=filters, groups=group, bias=bias, **settings), source)  # type: ignore[arg-type]


def _convtranspose(b: Builder, node: Node) -> None:
    """ConvTranspose as ONNX's spec gives its output size: from ``pads`` [top, left, bottom,
    right] and ``output_padding``; or ``output_shape``, the padding then worked out (the odd
    pixel after for SAME_UPPER, before otherwise); or ``auto_pad`` SAME_UPPER / SAME_LOWER,
    H·s × W·s. The weight is C_in × C_out/group × kH × kW."""
    source, weight = _conv_weight(b, node)
    channels, per_group, kh, kw = weight.dims
    group = _int(node, "group", 1)
    if group < 1 or channels != source.shape.c or channels % group:
        raise Fatal(
            f"weight {list(weight.dims)} with group {group} does not take the {source.shape.c} "
            "input channels (it is C_in × C_out/group × kH × kW)"
        )
    kernel = _ints(node, "kernel_shape")
    if kernel is not None and tuple(kernel) != (kh, kw):
        raise Fatal(f"kernel_shape {list(kernel)} differs from the weight's {[kh, kw]}")
    stride = _pair(_ints(node, "strides"), 1, "strides")
    dilation = _pair(_ints(node, "dilations"), 1, "dilations")
    extra = _pair(_ints(node, "output_padding"), 0, "output_padding")
    output_shape = _ints(node, "output_shape")
    auto = _attr(node, "auto_pad", "NOTSET")
    if auto not in ("NOTSET", "", "SAME_UPPER", "SAME_LOWER", "VALID"):
        raise Fatal(f"auto_pad {auto!r} is none of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    sizes = (source.shape.h, source.shape.w)
    spans = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    # The output before padding is taken off: stride·(n − 1) + output_padding + dilated kernel.
    full = [(n - 1) * s + e + op for n, s, e, op in zip(sizes, stride, spans, extra, strict=True)]
    padding: Padding
    if output_shape is None and auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = [sizes[0] * stride[0], sizes[1] * stride[1]]
        # The spec (and runtimes) make the output input × strides; ONNX's shape inference
        # takes max(e − s, 0) off the full output instead, the same only where
        # output_padding is max(s − e, 0) (PyTorch's exporter never writes auto_pad).
        inferred = [f - max(e - s, 0) for f, e, s in zip(full, spans, stride, strict=True)]
        if inferred != wanted:
            raise Fatal(
                f"auto_pad {auto} with output_padding {list(extra)} makes {wanted[0]}x"
                f"{wanted[1]} by ONNX's spec and {inferred[0]}x{inferred[1]} by its shape "
                "inference; write explicit pads"
            )
    if output_shape is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        if output_shape is not None:
            if len(output_shape) != 2:
                raise Refusal(f"output_shape {list(output_shape)} is not the 2-D [H, W]")
            wanted = list(output_shape)
        totals = [f - want for f, want in zip(full, wanted, strict=True)]
        if min(totals) < 0:
            raise Fatal(
                f"output_shape {wanted} is larger than the {full[0]}x{full[1]} it computes "
                "(stride·(input − 1) + output_padding + dilated kernel); runtimes differ on "
                "what fills the rest"
            )
        upper = auto == "SAME_UPPER"  # the odd pixel after; otherwise before, says the spec
        halves = [(t // 2, t - t // 2) if upper else (t - t // 2, t // 2) for t in totals]
        padding = (halves[0][0], halves[0][1], halves[1][0], halves[1][1])
        if output_shape is None and upper:
            padding, extra = "same", (0, 0)  # convcost's same: these pads, this output_padding
    elif auto == "VALID":
        padding = (0, 0, 0, 0)
    else:
        pads = _ints(node, "pads") or (0, 0, 0, 0)
        if len(pads) != 4:
            raise Fatal(f"pads {list(pads)} are not those of a 2-D window")
        if min(pads) < 0:
            raise Fatal(f"negative pads {list(pads)}")
        padding = (pads[0], pads[2], pads[1], pads[3])
    bias = b.const(node, 2, "bias") is not None
    layer = ConvTranspose(kernel=(kh, kw), filters=per_group * group, stride=stride,
                          padding=padding, output_padding=extra, dilation=dilation,
                          groups=group, bias=bias)  # fmt: skip
    b.layer(node, layer, source)


def _pool(kind: type[MaxPool] | type[AvgPool]) -> Callable[[Builder, Node], None]:
    def read(b: Builder, node: Node) -> None:
        source = b.activ(node, 0)
        _spatial(source)
        if len(node.outputs) > 1 and node.outputs[1]:
            raise Refusal("its indices output is not counted")
        kernel = _pair(_ints(node, "kernel_shape"), 0, "kernel_shape")
        if min(kernel) < 1:
            raise Refusal("it has no kernel_shape")
        settings = _window(b, node, source, kernel)
        ceil = bool(_int(node, "ceil_mode", 0))
        if kind is AvgPool:
            if settings.pop("dilation") != (1, 1):
                raise Refusal("a dilated average pool, which convcost does not count")
            layer: Layer = AvgPool(ceil_mode=ceil, **settings)  # type: ignore[arg-type]
        else:
            layer = MaxPool(ceil_mode=ceil, **settings)  # type: ignore[arg-type]
        b.layer(node, layer, source)

    return read


def _simple(make: Callable[[Builder, Node], Layer]) -> Callable[[Builder, Node], None]:
    def read(b: Builder, node: Node) -> None:
        b.layer(node, make(b, node), b.activ(node, 0))

    return read


def _activation(fn: str) -> Callable[[Builder, Node], None]:
    return _simple(lambda b, node: Activation(fn=fn))


def _scalar_bound(b: Builder, node: Node, k: int, attribute: str) -> float | None:
    if b.opset < 11:
        value = _attr(node, attribute)
        return None if value is None else float(value)  # type: ignore[arg-type]
    bound = b.const(node, k, attribute, need_values=True)
    if bound is None:
        return None
    assert bound.values is not None
    if len(bound.values) != 1 or isinstance(bound.values[0], str):
        raise Refusal(f"its {attribute} is not one number")
    return float(bound.values[0])


def _clip(b: Builder, node: Node) -> None:
    low, high = _scalar_bound(b, node, 1, "min"), _scalar_bound(b, node, 2, "max")
    if low == 0 and high is None:
        fn = "relu"
    elif low == 0 and high == 6:
        fn = "relu6"
    else:
        raise Refusal(f"Clip to [{low}, {high}]; convcost counts Clip as relu (0, none) or "
                      "relu6 (0, 6) only")  # fmt: skip
    b.layer(node, Activation(fn=fn), b.activ(node, 0))


def _broadcasts(a: Shape, b: Shape) -> bool:
    """Whether ONNX's (NumPy's) broadcasting joins two activations' per-sample dims."""
    if a.flat != b.flat:
        return False
    return all(x == y or 1 in (x, y) for x, y in zip(a[:3], b[:3], strict=True))


def _elementwise(op: str) -> Callable[[Builder, Node], None]:
    def read(b: Builder, node: Node) -> None:
        if node.outputs and node.outputs[0] in b.fused:
            b.alias(node, b.fused[node.outputs[0]])
            return
        if len(node.inputs) < 2:
            raise Fatal("it has fewer than two inputs")
        values = [b.value(node, k) for k in range(len(node.inputs))]
        activs = [value for value in values if isinstance(value, Activ)]
        if not activs:
            _fold(b, node, op, values)  # type: ignore[arg-type]
            return
        consts = [value for value in values if isinstance(value, Const)]
        if len(activs) == 1 and len(consts) == 1 and _folds_bias(b, node, op, consts[0]):
            return
        for const in consts:
            if _count(const.dims) != 1:
                raise Refusal(
                    f"a constant of dims {list(const.dims)} (a bias or scale of its own), "
                    "which convcost does not count yet"
                )
        if len(activs) == 1:
            b.alias(node, activs[0])  # a scalar: no MACs, no parameters
            return
        shapes = [a.shape for a in activs]
        out = max(shapes, key=lambda s: s.h * s.w)
        for shape in shapes:
            broadcast = (shape.h, shape.w, shape.c, shape.flat) == (1, 1, out.c, False)
            if shape != out and not (broadcast and not out.flat):
                shown = [str(s) for s in shapes]
                if not _broadcasts(shape, out):  # ONNX could not run it either
                    raise Fatal(f"inputs of shapes {shown} do not broadcast: an earlier layer "
                                "is misread, or the file is wrong")  # fmt: skip
                raise Refusal(f"inputs of shapes {shown} do not broadcast as convcost counts "
                              "(equal, or 1×1×C)")  # fmt: skip
        merge = "add" if op in ("Add", "Sub") else "mul"
        b.add(node, Merge(op=merge), tuple(a.node for a in activs), out)

    return read


def _erf(b: Builder, node: Node) -> None:
    """GELU as exporters write it before opset 20: x · 0.5 · (1 + erf(x / √2)), that is
    Div(x, √2) (or Mul by 1/√2) → Erf → Add 1 → Mul by x (→ Mul by 0.5, either end). Read
    as one gelu; an Erf in any other place is refused."""
    made = b.makers.get(node.inputs[0]) if node.inputs else None
    refusal = Refusal("an Erf that is not part of a GELU, which convcost does not count")
    if made is None or made.op_type not in ("Div", "Mul") or len(made.inputs) != 2:
        raise refusal
    constant = b.values.get(made.inputs[1])
    wanted = 2**0.5 if made.op_type == "Div" else 2**-0.5
    if not isinstance(constant, Const) or not constant.values or len(constant.values) != 1:
        raise refusal
    value = constant.values[0]
    if isinstance(value, str) or abs(value - wanted) > 1e-4:
        raise refusal
    x = made.inputs[0]
    source = b.values.get(x)
    plus = b.uses_of(node.outputs[0]) if node.outputs else []
    if not isinstance(source, Activ) or len(plus) != 1 or plus[0][0].op_type != "Add":
        raise refusal
    add = plus[0][0]
    one = [_number(b, name) for name in add.inputs if name != node.outputs[0]]
    if one != [1.0]:
        raise refusal  # 1 + erf(·) only
    times = b.uses_of(add.outputs[0]) if add.outputs else []
    if len(times) != 1 or times[0][0].op_type != "Mul" or not _reads_x(b, times[0][0], x):
        raise refusal
    b.layer(node, Activation(fn="gelu"), source)
    gelu = b.values[node.outputs[0]]
    assert isinstance(gelu, Activ)
    b.fused[times[0][0].outputs[0]] = gelu


def _number(b: Builder, name: str) -> float | None:
    """A one-value constant's value, read ahead of its Constant node where need be (the
    exporters write some constants after the node that looks at them first)."""
    value = b.values.get(name)
    if isinstance(value, Const):
        values = value.values
    else:
        made = b.makers.get(name)
        found = made.attributes.get("value") if made and made.op_type == "Constant" else None
        values = found.value.values if found and isinstance(found.value, Tensor) else None
    if not values or len(values) != 1 or isinstance(values[0], str):
        return None
    return float(values[0])


def _reads_x(b: Builder, node: Node, x: str) -> bool:
    """Whether a Mul reads x itself, or x times a number (``x · 0.5`` written first)."""
    for name in node.inputs:
        made = b.makers.get(name)
        if name == x or (made is not None and made.op_type == "Mul" and x in made.inputs
                         and any(_is_number(b, other) for other in made.inputs)):  # fmt: skip
            return True
    return False


def _is_number(b: Builder, name: str) -> bool:
    value = b.values.get(name)
    return isinstance(value, Const) and _count(value.dims) == 1


def _folds_bias(b: Builder, node: Node, op: str, const: Const) -> bool:
    """Whether this Add of a per-channel constant is the bias of the conv or dense before it
    (which has none, and which nothing else reads): exporters write Dense as MatMul + Add.
    Then that layer gains its bias, as in the framework, and the Add is no layer of its own."""
    if op not in ("Add", "Sub"):
        return False
    k = next(k for k, name in enumerate(node.inputs) if isinstance(b.values.get(name), Activ))
    activ = b.values[node.inputs[k]]
    assert isinstance(activ, Activ)
    if activ.node == INPUT or len(b.uses_of(node.inputs[k])) != 1:
        return False
    made = b.nodes[activ.node]
    layer = made.layer
    if not isinstance(layer, Conv | ConvTranspose | Dense) or layer.bias:
        return False
    channels = activ.shape.c
    dims = const.dims
    per_channel = (
        dims in ((channels,), (1, channels)) if activ.shape.flat
        else dims in ((channels, 1, 1), (1, channels, 1, 1))
    )  # fmt: skip
    if not per_channel:
        return False
    settings = {name: getattr(layer, name) for name in layer._field_names}
    b.nodes[activ.node] = made._replace(layer=type(layer)(**{**settings, "bias": True}))
    b.alias(node, activ)
    return True


def _fold(b: Builder, node: Node, op: str, values: list[Const]) -> None:
    """Arithmetic on constants (shape computations)."""
    left, right = values[0], values[1]
    if left.values is None or right.values is None:
        raise Refusal("arithmetic on constants convcost cannot read")
    a, c = left.values, right.values
    if len(c) == 1:
        c = c * len(a)
    elif len(a) == 1:
        a = a * len(c)
    if len(a) != len(c) or any(isinstance(v, str) for v in (*a, *c)):
        raise Refusal("arithmetic on a shape that holds the batch size")
    ops: dict[str, Callable[[float, float], float]] = {
        "Add": lambda x, y: x + y, "Sub": lambda x, y: x - y, "Mul": lambda x, y: x * y,
        "Div": lambda x, y: x // y if isinstance(x, int) and isinstance(y, int) else x / y,
    }  # fmt: skip
    result = tuple(ops[op](x, y) for x, y in zip(a, c, strict=True))  # type: ignore[arg-type]
    dims = left.dims if len(left.dims) >= len(right.dims) else right.dims
    b.alias(node, Const(dims, result))


def _concat(b: Builder, node: Node) -> None:
    values = [b.value(node, k) for k in range(len(node.inputs))]
    if all(isinstance(value, Const) for value in values):
        parts: list[Scalar] = []
        for value in values:
            assert isinstance(value, Const)
            if value.values is None or len(value.dims) > 1:
                raise Refusal("a concat of constants convcost cannot read")
            parts.extend(value.values)
        b.alias(node, Const((len(parts),), tuple(parts)))
        return
    if not all(isinstance(value, Activ) for value in values):
        raise Refusal("a concat of activations and constants")
    activs = [value for value in values if isinstance(value, Activ)]
    axis = _int(node, "axis", 1)
    rank = 2 if activs[0].shape.flat else 4
    if axis not in (1, 1 - rank):
        raise Refusal(f"a concat along axis {axis}; convcost joins channels (axis 1)")
    shape = activs[0].shape
    for other in activs[1:]:
        if (other.shape.h, other.shape.w, other.shape.flat) != (shape.h, shape.w, shape.flat):
            raise Fatal(f"inputs of shapes {[str(a.shape) for a in activs]} do not agree in "
                        "height and width: an earlier layer is misread, or the file is "
                        "wrong")  # fmt: skip
    out = Shape(shape.h, shape.w, sum(a.shape.c for a in activs), shape.flat)
    inputs = tuple(a.node for a in activs)
    b.add(node, Merge(op="concat"), inputs, out, _branches_read(b, inputs))


def _branches_read(b: Builder, inputs: tuple[int, ...]) -> int | None:
    """What the branches of a concat read, which tables show as its input (as a config's
    ``concat:`` does): the nearest node from which every input is reached through layers
    of one input each (an Inception block's input); None when there is none."""
    points = list(inputs)
    while len(set(points)) > 1:
        latest = max(points)  # nodes are in order: step back from the latest one
        read = b.nodes[latest].inputs
        if len(read) != 1:
            return None
        points = [read[0] if at == latest else at for at in points]
    return points[0]


def _flatten(b: Builder, node: Node) -> None:
    source = b.activ(node, 0)
    axis = _int(node, "axis", 1)
    if axis != 1:
        raise Refusal(f"a flatten at axis {axis}; convcost flattens each sample (axis 1)")
    if source.shape.flat or _reader_in_its_module(b, node, ("Gemm", "MatMul")):
        b.alias(node, source)  # a vector already; or the dense layer that reads it flattens
        return
    b.layer(node, Flatten(), source)


def _dense(b: Builder, node: Node, weight: Const, transposed: bool, bias: bool) -> None:
    source = b.activ(node, 0)
    if len(weight.dims) != 2:
        raise Fatal(f"its weight has dims {list(weight.dims)}, not 2")
    features, units = weight.dims[::-1] if transposed else weight.dims
    made = b.makers.get(node.inputs[0])
    flattened = made is not None and made.op_type == "Flatten" and _passed_on(b, made)
    if not source.shape.flat and not flattened:
        raise Refusal(f"its input is {source.shape}, not a vector (flatten it first)")
    if features != source.shape.elements:
        raise Fatal(f"its weight {list(weight.dims)} does not take {source.shape.elements} "
                      "features")  # fmt: skip
    b.layer(node, Dense(units=units, bias=bias), source)


def _gemm(b: Builder, node: Node) -> None:
    if _int(node, "transA", 0):
        raise Refusal("transA=1: the activation would be transposed")
    weight = b.const(node, 1, "weight")
    if weight is None:
        raise Fatal("it has no weight")
    bias = b.const(node, 2, "bias") is not None
    _dense(b, node, weight, bool(_int(node, "transB", 0)), bias)


def _matmul(b: Builder, node: Node) -> None:
    weight = b.const(node, 1, "weight")
    if weight is None:
        raise Fatal("it has no weight")
    _dense(b, node, weight, False, False)


def _batchnorm(b: Builder, node: Node) -> None:
    for k, what in enumerate(("scale", "bias", "mean", "variance"), 1):
        if b.const(node, k, what) is None:
            raise Fatal(f"it has no {what}")
    if any(node.outputs[1:]):
        raise Fatal(
            "it is in training mode (it outputs its running statistics): export the "
            "model in eval mode"
        )
    b.layer(node, BatchNorm(affine=True), b.activ(node, 0))


def _dropout(b: Builder, node: Node) -> None:
    rate: float = 0.5
    if b.opset < 12:
        value = _attr(node, "ratio", 0.5)
        rate = float(value) if isinstance(value, int | float) else 0.5
    else:
        ratio = b.const(node, 1, "ratio", need_values=True)
        if ratio is not None and ratio.values and isinstance(ratio.values[0], int | float):
            rate = float(ratio.values[0])
    b.layer(node, Dropout(rate=rate), b.activ(node, 0))


def _identity(b: Builder, node: Node) -> None:
    value = b.value(node, 0)
    b.alias(node, value)


def _lrn(b: Builder, node: Node) -> None:
    source = b.activ(node, 0)
    chain = b.lrn_chains.get(node.outputs[0]) if node.outputs else None
    if chain is not None:
        try:
            _check_lrn_constants(b, source, chain)
        except Refusal as refusal:
            # Refused, as in read_lrn_chains: its operators are gone, no uncounted layer
            # can stand for them.
            pool = chain.pool
            raise ConvcostError(
                f"{b.source}: node '{pool.name}' (AveragePool): {_not_lrn(str(refusal))}"
            ) from None
    b.layer(node, LocalResponseNorm(size=_int(node, "size", 5)), source)


# --- PyTorch's LocalResponseNorm, as torch.onnx.export writes it ---------------------------


class LrnChain(NamedTuple):
    """A LocalResponseNorm that PyTorch's exporter wrote as a chain of operators (see
    read_lrn_chains): its size, and the names of the constants checked once the walk has
    their values (most are computed from the input's shape)."""

    nodes: tuple[Node, ...]  # its operators, in file order
    pool: Node
    size: int
    shape5: str  # the squares reshaped to N×1×C×H×(−1)
    pads: str  # the Pad's pads: the channels, size // 2 before and (size − 1) // 2 after
    pad_value: str  # "" when not given (zeros)
    dimension: str  # the Gather's index into the average's shape: 1
    one: str  # what the Equal compares that dimension with: 1
    shape4: str  # the average reshaped back to N×C×H×W
    alpha: str
    k: str
    beta: str


def read_lrn_chains(model: Model, source: str) -> tuple[Model, dict[str, LrnChain]]:
    """The model with each LocalResponseNorm that PyTorch's TorchScript exporter wrote
    (torch 2.13.0, opsets 13 to 17) made one LRN node, and what its constants must be.
    nn.LocalResponseNorm is Python arithmetic (torch.nn.functional.local_response_norm:
    x / (k + α·avg(x²))^β, the average over ``size`` channels), written as::

        Mul(x, x) → Reshape to N×1×C×H×(−1) → Pad (constant) the channels by size // 2
        before and (size − 1) // 2 after → AveragePool kernel [size, 1, 1], strides 1,
        count_include_pad 1 → If its dimension 1 equals 1 (Shape → Gather → Equal): Squeeze
        it, else Identity → Reshape to N×C×H×W → Mul α → Add k → Pow β → Div(x, ·)

    beside constant computations of the shapes and pads, which the walk evaluates. The LRN
    node takes the Div's name and output; the other operators of the chain go. A chain
    that starts so (a square, reshaped, padded, averaged over 3 axes) but then differs, in
    its operators here or in its constants once the walk knows them
    (_check_lrn_constants), is refused saying what differs; an AveragePool over 3 axes in
    anything else is left to the walk."""
    pools = [
        node for node in model.nodes
        if node.op_type == "AveragePool" and node.domain in ("", "ai.onnx")
        and isinstance(_attr(node, "kernel_shape"), tuple) and len(_attr(node, "kernel_shape")) == 3  # type: ignore[arg-type]
    ]  # fmt: skip
    if not pools:
        return model, {}
    order = {id(node): k for k, node in enumerate(model.nodes)}
    makers = {out: node for node in model.nodes for out in node.outputs}
    uses: dict[str, list[Node]] = {}
    for node in model.nodes:
        for read in node.inputs:
            uses.setdefault(read, []).append(node)
    outputs = {info.name for info in model.outputs}
    gone: set[int] = set()
    made: dict[int, Node] = {}
    chains: dict[str, LrnChain] = {}
    for pool in pools:
        if not _starts_as_lrn(pool, makers):
            continue
        try:
            lrn, chain = _lrn_chain(pool, makers, uses, outputs)
        except Refusal as refusal:
            raise ConvcostError(
                f"{source}: node '{pool.name}' (AveragePool): {_not_lrn(str(refusal))}"
            ) from None
        chain = chain._replace(nodes=tuple(sorted(chain.nodes, key=lambda n: order[id(n)])))
        gone.update(id(node) for node in chain.nodes)
        made[id(chain.nodes[-1])] = lrn
        chains[lrn.outputs[0]] = chain
    nodes = tuple(
        made.get(id(node), node) for node in model.nodes
        if id(node) not in gone or id(node) in made
    )  # fmt: skip
    return model._replace(nodes=nodes), chains


def _starts_as_lrn(pool: Node, makers: dict[str, Node]) -> bool:
    """Whether an AveragePool reads a Pad of a Reshape of a square (Mul of one tensor by
    itself), as in PyTorch's LocalResponseNorm."""
    steps = [pool]
    for op in ("Pad", "Reshape", "Mul"):
        made = makers.get(steps[-1].inputs[0]) if steps[-1].inputs else None
        if made is None or made.op_type != op:
            return False
        steps.append(made)
    square = steps[-1]
    return len(square.inputs) == 2 and square.inputs[0] == square.inputs[1]


def _not_lrn(what: str) -> str:
    return (
        "an average pool over 3 axes of a square, as PyTorch's LocalResponseNorm starts, "
        f"which convcost reads only as torch.onnx.export writes it; here {what}"
    )


def _lrn_chain(
    pool: Node, makers: dict[str, Node], uses: dict[str, list[Node]], outputs: set[str]
) -> tuple[Node, LrnChain]:
    """The LRN node that stands for the chain around this AveragePool (named as its Div),
    and the chain; Refusal saying what differs."""

    def out(node: Node) -> str:
        if len(node.outputs) != 1:
            raise Refusal(f"the {node.op_type} '{node.name}' has {len(node.outputs)} outputs")
        return node.outputs[0]

    def reader(node: Node, op: str) -> Node:
        found = uses.get(out(node), [])
        if out(node) in outputs or len(found) != 1 or found[0].op_type != op:
            raise Refusal(f"the {node.op_type} '{node.name}' is read by other than one {op}")
        return found[0]

    def maker(node: Node, op: str) -> Node:
        found = makers.get(node.inputs[0]) if node.inputs else None
        if found is None or found.op_type != op or reader(found, node.op_type) is not node:
            raise Refusal(f"the {node.op_type} '{node.name}' reads other than a {op} that "
                          "only it reads")  # fmt: skip
        return found

    kernel = _ints(pool, "kernel_shape") or ()
    size = kernel[0]
    settings = {
        "kernel_shape": list(kernel), "strides": list(_ints(pool, "strides") or [1, 1, 1]),
        "pads": list(_ints(pool, "pads") or [0] * 6),
        "dilations": list(_ints(pool, "dilations") or [1, 1, 1]),
        "ceil_mode": _int(pool, "ceil_mode", 0),
        "count_include_pad": _int(pool, "count_include_pad", 0),
        "auto_pad": _attr(pool, "auto_pad", "NOTSET") or "NOTSET",
    }  # fmt: skip
    pytorch = {
        "kernel_shape": [size, 1, 1], "strides": [1, 1, 1], "pads": [0] * 6,
        "dilations": [1, 1, 1], "ceil_mode": 0, "count_include_pad": 1, "auto_pad": "NOTSET",
    }  # fmt: skip
    if size < 1 or settings != pytorch:
        differ = [f"{key} {settings[key]}" for key in settings if settings[key] != pytorch[key]]
        raise Refusal(f"it has {', '.join(differ) or f'a window of {size}'} (PyTorch's: "
                      "kernel_shape [size, 1, 1], strides 1, no pads, "
                      "count_include_pad 1)")  # fmt: skip
    pad = maker(pool, "Pad")
    if _attr(pad, "mode", "constant") != "constant" or len(pad.inputs) not in (2, 3):
        raise Refusal(f"the Pad '{pad.name}' is not a constant pad of given pads")
    reshape5 = maker(pad, "Reshape")
    square = maker(reshape5, "Mul")
    x = square.inputs[0]
    if len(square.inputs) != 2 or square.inputs[1] != x:
        raise Refusal(f"the Mul '{square.name}' is not the square of one tensor")
    if len(reshape5.inputs) != 2:
        raise Refusal(f"the Reshape '{reshape5.name}' has {len(reshape5.inputs)} inputs")
    shape = reader(pool, "Shape")
    gather = reader(shape, "Gather")
    equal = reader(gather, "Equal")
    branch = reader(equal, "If")
    if (_attr(shape, "start") is not None or _attr(shape, "end") is not None
            or len(gather.inputs) != 2 or gather.inputs[0] != out(shape)
            or _int(gather, "axis", 0) != 0 or len(equal.inputs) != 2
            or equal.inputs[0] != out(gather) or branch.inputs != (out(equal),)):  # fmt: skip
        raise Refusal(f"the If '{branch.name}' does not test one dimension of the average")
    then, otherwise = _attr(branch, "then_branch"), _attr(branch, "else_branch")
    if not (isinstance(then, Subgraph) and isinstance(otherwise, Subgraph)
            and _squeezes_axis_1(then, out(pool)) and len(otherwise.nodes) == 1
            and otherwise.nodes[0].op_type == "Identity"
            and otherwise.nodes[0].inputs == (out(pool),)
            and otherwise.outputs == otherwise.nodes[0].outputs):  # fmt: skip
        raise Refusal(f"the If '{branch.name}' is not a Squeeze of the average's dimension 1 "
                      "(then) or the average itself (else)")  # fmt: skip
    reshape4 = reader(branch, "Reshape")
    scale = reader(reshape4, "Mul")
    shift = reader(scale, "Add")
    power = reader(shift, "Pow")
    divide = reader(power, "Div")
    alpha = [name for name in scale.inputs if name != out(reshape4)]
    k = [name for name in shift.inputs if name != out(scale)]
    if (reshape4.inputs[:1] != (out(branch),) or len(reshape4.inputs) != 2
            or len(alpha) != 1 or len(k) != 1
            or len(scale.inputs) != 2 or len(shift.inputs) != 2
            or power.inputs[:1] != (out(shift),) or len(power.inputs) != 2
            or divide.inputs != (x, out(power))
            or any(_int(node, "allowzero", 0) for node in (reshape5, reshape4))):  # fmt: skip
        raise Refusal(f"the operators after the If, to the Div '{divide.name}', are not "
                      "x / (k + α·average)^β")  # fmt: skip
    lrn = Node(divide.name, "LRN", "", (x,), (out(divide),), {"size": Attribute("size", size)})
    pad_value = pad.inputs[2] if len(pad.inputs) > 2 else ""
    nodes = (square, reshape5, pad, pool, shape, gather, equal, branch, reshape4, scale, shift,
             power, divide)  # fmt: skip
    chain = LrnChain(
        nodes, pool, size, shape5=reshape5.inputs[1], pads=pad.inputs[1], pad_value=pad_value,
        dimension=gather.inputs[1], one=equal.inputs[1], shape4=reshape4.inputs[1],
        alpha=alpha[0], k=k[0], beta=power.inputs[1],
    )  # fmt: skip
    return lrn, chain


def _squeezes_axis_1(graph: Subgraph, name: str) -> bool:
    """Whether the graph returns a Squeeze of ``name`` along axis 1 (axes a Constant in it)."""
    if len(graph.nodes) != 2:
        return False
    constant, squeeze = graph.nodes
    axes = _attr(constant, "value")
    return (
        constant.op_type == "Constant" and squeeze.op_type == "Squeeze"
        and isinstance(axes, Tensor) and axes.values == (1,)
        and squeeze.inputs == (name, *constant.outputs) and graph.outputs == squeeze.outputs
    )  # fmt: skip


def _check_lrn_constants(b: Builder, source: Activ, chain: LrnChain) -> None:
    """The constants of a LocalResponseNorm chain (read_lrn_chains) are PyTorch's for its
    size and input; Refusal saying which is not."""
    _spatial(source)
    _, c, h, w = _dims_of(source.shape)
    size = chain.size

    def values(name: str, what: str) -> tuple[Scalar, ...]:
        value = b.values.get(name)
        if not isinstance(value, Const) or value.values is None:
            raise Refusal(f"the chain's {what} is no constant convcost can read")
        return value.values

    shape5, shape4 = (
        values(chain.shape5, "first Reshape's shape"),
        values(chain.shape4, "second Reshape's shape"),
    )
    found = {
        "first Reshape's shape": list(shape5[1:]), "second Reshape's shape": list(shape4[1:]),
        "padding": list(values(chain.pads, "padding")),
        "padding value": list(values(chain.pad_value, "padding value")) if chain.pad_value else [0],
        "If's test": [*values(chain.dimension, "If's test"), *values(chain.one, "If's test")],
    }  # fmt: skip
    wanted = {
        "first Reshape's shape": [1, c, h, -1], "second Reshape's shape": [c, h, w],
        "padding": [0, 0, size // 2, 0, 0, 0, 0, (size - 1) // 2, 0, 0],
        "padding value": [0], "If's test": [1, 1],
    }  # fmt: skip
    for what, value in found.items():
        if value != wanted[what]:
            raise Refusal(f"the chain's {what} is {value}, not PyTorch's {wanted[what]} "
                          f"(size {size})")  # fmt: skip
    if len(shape5) != 5 or len(shape4) != 4 or shape5[0] != shape4[0]:
        raise Refusal(f"the chain's Reshapes to {list(shape5)} and {list(shape4)} differ in "
                      "the batch")  # fmt: skip
    for what, name in (("α", chain.alpha), ("k", chain.k), ("β", chain.beta)):
        number = values(name, what)
        if len(number) != 1 or isinstance(number[0], str):
            raise Refusal(f"the chain's {what} is {list(number)}, not one number")


def _pad(b: Builder, node: Node) -> None:
    source = b.activ(node, 0)
    _spatial(source)
    padding = _pad_amounts(b, node)
    if _reader_in_its_module(b, node, WINDOWS, explicit_pads=True):
        b.alias(node, source)  # the padding of the conv or pool that reads it (_window)
        return
    b.layer(node, ZeroPad(padding=padding), source)


def _pad_amounts(b: Builder, node: Node) -> tuple[int, int, int, int]:
    """A Pad's (top, bottom, left, right): zeros (a constant) around height and width."""
    mode = _attr(node, "mode", "constant")
    if mode != "constant":
        raise Refusal(f"mode {mode!r}; convcost counts zero (constant) padding")
    if b.opset < 11:
        pads = _ints(node, "pads") or _ints(node, "paddings")
    else:
        given = b.const(node, 1, "pads", need_values=True)
        if len(node.inputs) > 3 and node.inputs[3]:
            raise Refusal("pads given per axes, which convcost does not read")
        pads = None if given is None else _whole(given.values)
    if pads is None or len(pads) != 8:
        raise Refusal(f"pads {pads} are not those of an N×C×H×W tensor")
    if pads[0] or pads[1] or pads[4] or pads[5] or min(pads) < 0:
        raise Refusal(f"pads {list(pads)}; convcost pads height and width, by whole pixels")
    return pads[2], pads[6], pads[3], pads[7]


# --- one module's operators that are one layer ------------------------------------------

WINDOWS = ("Conv", "MaxPool", "AveragePool")
"""The operators whose own padding a Pad just before them, in their module, can be."""


def _reader_in_its_module(
    b: Builder, node: Node, ops: tuple[str, ...], explicit_pads: bool = False
) -> bool:
    """Whether the only reader of this node's output is one operator of ``ops`` made in
    the same named module (``/conv1/Pad`` → ``/conv1/Conv``): then the two are that
    module's one layer, as convcost writes it. Exporters name each operator by the modules
    it was made in, so a module that pads and convolves (TensorFlow's uneven "same"
    padding), or flattens and applies a linear map, wrote both; a Pad or Flatten of a
    module of its own, or of the module around, stays a layer. ``explicit_pads``: the
    reader's padding is given as numbers (no auto_pad), which the Pad's add to."""
    path, _ = module_path(node)
    if not path or not node.outputs or any(o.name == node.outputs[0] for o in b.model.outputs):
        return False
    uses = b.uses_of(node.outputs[0])
    if len(uses) != 1 or uses[0][1] != 0 or uses[0][0].op_type not in ops:
        return False
    reader = uses[0][0]
    if explicit_pads and _attr(reader, "auto_pad", "NOTSET") not in ("NOTSET", ""):
        return False
    return module_path(reader)[0] == path


def _padded_before(b: Builder, node: Node) -> tuple[int, int, int, int]:
    """The (top, bottom, left, right) of the Pad of the same module that this window
    operator alone reads, which is part of its padding; zeros when there is none."""
    made = b.makers.get(node.inputs[0]) if node.inputs else None
    if made is None or made.op_type != "Pad" or not _passed_on(b, made):
        return 0, 0, 0, 0
    return _pad_amounts(b, made)


def _sigmoid(b: Builder, node: Node) -> None:
    """A sigmoid; or, with the Mul of its input by it in the same module, one silu, which
    the Mul then passes on: PyTorch's exporter writes nn.SiLU as Mul(x, Sigmoid(x))
    (symbolic_opset9.silu)."""
    source = b.activ(node, 0)
    path, _ = module_path(node)
    read = b.uses_of(node.outputs[0]) if node.outputs else []
    times = read[0][0] if len(read) == 1 else None
    if (
        times is None or times.op_type != "Mul" or len(times.inputs) != 2
        or set(times.inputs) != {node.inputs[0], node.outputs[0]}
        or not path or module_path(times)[0] != path
        or any(info.name == node.outputs[0] for info in b.model.outputs)
    ):  # fmt: skip
        b.layer(node, Activation(fn="sigmoid"), source)
        return
    b.layer(node, Activation(fn="silu"), source)
    silu = b.values[node.outputs[0]]
    assert isinstance(silu, Activ)
    b.fused[times.outputs[0]] = silu


def _passed_on(b: Builder, node: Node) -> bool:
    """Whether this Pad or Flatten was read as part of the layer after it in its module
    (_pad, _flatten): its output is its input, passed on (not a layer of its own, nor an
    uncounted one)."""
    out = b.values.get(node.outputs[0]) if node.outputs else None
    return (
        isinstance(out, Activ) and bool(node.inputs) and out == b.values.get(node.inputs[0])
        and _reader_in_its_module(b, node, ("Gemm", "MatMul") if node.op_type == "Flatten"
                                  else WINDOWS, explicit_pads=node.op_type == "Pad")
    )  # fmt: skip


def _resize(b: Builder, node: Node) -> None:
    source = b.activ(node, 0)
    _spatial(source)
    mode = str(_attr(node, "mode", "nearest"))
    modes = {"nearest": "nearest", "linear": "bilinear", "bilinear": "bilinear"}
    if mode not in modes:
        raise Refusal(f"mode {mode!r}; convcost counts nearest and (bi)linear resizing")
    scales_at = 1 if node.op_type == "Upsample" or b.opset < 11 else 2
    scales = b.const(node, scales_at, "scales")
    if node.op_type == "Upsample" and b.opset < 9:
        value = _attr(node, "scales")
        scales = Const((4,), value) if isinstance(value, tuple) else None
    sizes = b.const(node, 3, "sizes") if scales_at == 2 else None
    if scales is not None and scales.values:
        values = scales.values
        if (
            len(values) != 4
            or values[:2] != (1, 1)
            or any(
                not isinstance(v, int | float) or float(v) != int(v) or v < 1 for v in values[2:]
            )
        ):
            raise Refusal(f"scales {list(values)}; convcost upsamples H and W by whole factors")
        layer = Upsample(scale=(int(values[2]), int(values[3])), mode=modes[mode])
    elif sizes is not None and sizes.values and len(sizes.values) == 4:
        h, w = sizes.values[2], sizes.values[3]
        if not isinstance(h, int) or not isinstance(w, int):
            raise Refusal(f"sizes {list(sizes.values)} are not whole numbers")
        layer = Upsample(size=(h, w), mode=modes[mode])
    else:
        raise Refusal("neither constant scales nor constant sizes")
    b.layer(node, layer, source)


def _reduce(pool: type[GlobalAvgPool] | type[GlobalMaxPool]) -> Callable[[Builder, Node], None]:
    """ReduceMean (ReduceMax) over height and width: a global average (max) pool, then a
    flatten when the reduced axes are not kept (``x.mean((2, 3))`` as exporters write it).
    The axes are an attribute before opset 18, an input from it on."""

    def read(b: Builder, node: Node) -> None:
        source = b.activ(node, 0)
        if not node.outputs:
            raise Fatal("it has no output")
        if b.opset >= 18:
            given = b.const(node, 1, "axes", need_values=True)
            axes = _whole(given.values) if given is not None else ()
        else:
            axes = _ints(node, "axes") or ()
        spatial = not source.shape.flat and {axis % 4 for axis in axes} == {2, 3}
        if not spatial or len(axes) != 2:
            shown = list(axes) if axes else "all axes"
            raise Refusal(
                f"a reduction of {list(_dims_of(source.shape))} over {shown}; convcost reads "
                "one over height and width (axes [2, 3]) only"
            )
        if _int(node, "keepdims", 1):
            b.layer(node, pool(), source)
            return
        b.layer(node, pool(), source)
        pooled = b.values[node.outputs[0]]
        assert isinstance(pooled, Activ)
        b.layer(node, Flatten(), pooled)

    return read


def _softmax(b: Builder, node: Node) -> None:
    """Softmax along one axis (opset 13 on; its default the last); before opset 13, over
    every axis from ``axis`` on (default 1) at once, read where that is one axis of size
    above 1 (a vector's features, N×C×1×1's channels, the width)."""
    source = b.activ(node, 0)
    dims = _dims_of(source.shape)
    rank = len(dims)
    axis = _int(node, "axis", -1 if b.opset >= 13 else 1)
    if not -rank <= axis < rank:
        raise Refusal(f"axis {axis} of a tensor of rank {rank}")
    axis %= rank
    if b.opset < 13:
        spread = [k for k in range(axis, rank) if dims[k] != 1]
        axis = spread[0] if len(spread) == 1 else (axis if axis == rank - 1 else -1)
    names = {1: "channels", 2: "height", 3: "width"}
    if axis not in names or (source.shape.flat and axis != 1):
        along = "the batch" if axis == 0 else "several axes at once"
        raise Refusal(f"a softmax along {along} of {list(dims)}; convcost counts one along "
                      "the channels, height or width")  # fmt: skip
    b.layer(node, Softmax(axis=names[axis]), source)


def _leaky_relu(b: Builder, node: Node) -> None:
    alpha = _attr(node, "alpha", 0.01)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        raise Refusal(f"attribute alpha is {alpha!r}, not a number")
    b.layer(node, LeakyReLU(slope=float(alpha)), b.activ(node, 0))


# --- shape computations, evaluated -----------------------------------------------------


def _dims_of(shape: Shape) -> tuple[Scalar, ...]:
    if shape.flat:
        return (BATCH, shape.c)
    return (BATCH, shape.c, shape.h, shape.w)


def _shape(b: Builder, node: Node) -> None:
    value = b.value(node, 0)
    dims = _dims_of(value.shape) if isinstance(value, Activ) else tuple(value.dims)
    start, end = _int(node, "start", 0), _attr(node, "end")
    dims = dims[start:] if end is None else dims[start : int(end)]  # type: ignore[call-overload]
    b.alias(node, Const((len(dims),), dims))


def _constant(b: Builder, node: Node) -> None:
    for name, attribute in node.attributes.items():
        value = attribute.value
        if name == "value" and isinstance(value, Tensor):
            b.alias(node, Const(value.dims, value.values))
            return
        if name in ("value_int", "value_float"):
            b.alias(node, Const((), (value,)))  # type: ignore[arg-type]
            return
        if name in ("value_ints", "value_floats") and not isinstance(value, Tensor | None):
            listed: tuple[Scalar, ...] = tuple(value)  # type: ignore[arg-type]
            b.alias(node, Const((len(listed),), listed))
            return
    raise Refusal("a constant of a kind convcost does not read")


def _const_input(b: Builder, node: Node, k: int = 0) -> Const:
    value = b.values.get(node.inputs[k]) if len(node.inputs) > k else None
    if not isinstance(value, Const) or value.values is None:
        raise Refusal("works on a tensor convcost cannot evaluate (only constant shapes are)")
    return value


def _axes(b: Builder, node: Node) -> tuple[int, ...]:
    if b.opset >= 13 and len(node.inputs) > 1 and node.inputs[1]:
        found = _const_input(b, node, 1).values or ()
        return _whole(found)
    return _ints(node, "axes") or ()


def _gather(b: Builder, node: Node) -> None:
    data, indices = _const_input(b, node, 0), _const_input(b, node, 1)
    if len(data.dims) != 1 or _int(node, "axis", 0) != 0:
        raise Refusal("a gather other than from a shape")
    assert data.values is not None and indices.values is not None
    picked = []
    for index in indices.values:
        if not isinstance(index, int) or not -len(data.values) <= index < len(data.values):
            raise Fatal(f"index {index} outside the shape {list(data.values)}")
        picked.append(data.values[index])
    b.alias(node, Const(indices.dims, tuple(picked)))


def _unsqueeze(b: Builder, node: Node) -> None:
    value = b.values.get(node.inputs[0]) if node.inputs else None
    if isinstance(value, Activ):
        raise Refusal("an unsqueeze of an activation, which convcost does not read yet")
    data = _const_input(b, node)
    dims = list(data.dims)
    for axis in sorted(_axes(b, node)):
        dims.insert(axis if axis >= 0 else len(dims) + axis + 1, 1)
    b.alias(node, Const(tuple(dims), data.values))


def _squeeze(b: Builder, node: Node) -> None:
    """Of a constant; or of an N×C×1×1 activation along its height and width, which is a
    flatten (as after a global pool)."""
    value = b.value(node, 0)
    axes = _axes(b, node)
    if isinstance(value, Activ):
        shape = value.shape
        spatial = {axis % 4 for axis in axes} == {2, 3} or (not axes and shape.c != 1)
        if shape.flat or (shape.h, shape.w) != (1, 1) or not spatial:
            raise Refusal(f"a squeeze of {list(_dims_of(shape))} along {list(axes)}; convcost "
                          "reads a squeeze of a 1×1 height and width (a flatten) only")  # fmt: skip
        b.layer(node, Flatten(), value)
        return
    data = _const_input(b, node)
    rank = len(data.dims)
    gone = {axis % rank for axis in axes} if axes and rank else None
    dims = tuple(d for i, d in enumerate(data.dims) if not (d == 1 and (gone is None or i in gone)))
    b.alias(node, Const(dims, data.values))


def _cast(b: Builder, node: Node) -> None:
    value = b.value(node, 0)
    b.alias(node, value)  # a shape stays the shape; an activation's cost is not changed


def _count(dims: tuple[int, ...]) -> int:
    count = 1
    for dim in dims:
        count *= dim
    return count


def _strides(dims: tuple[int, ...]) -> list[int]:
    """Row-major strides: how far apart in the flat values neighbours along each axis are."""
    strides = [1] * len(dims)
    for axis in range(len(dims) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * dims[axis + 1]
    return strides


def _constant_of_shape(b: Builder, node: Node) -> None:
    shape = _const_input(b, node)
    dims = _whole(shape.values)
    if any(d < 0 for d in dims) or _count(dims) > MAX_VALUES:
        raise Refusal(f"a constant of dims {list(dims)}, more than convcost evaluates")
    fill = _attr(node, "value")
    value: Scalar = 0.0
    if isinstance(fill, Tensor) and fill.values:
        value = fill.values[0]
    b.alias(node, Const(dims, (value,) * _count(dims)))


def _const_reshape(b: Builder, node: Node, data: Const) -> None:
    target = b.const(node, 1, "shape", need_values=True)
    assert target is not None and target.values is not None
    dims = list(_whole(target.values))
    for i, dim in enumerate(dims):
        if dim == 0 and i < len(data.dims):
            dims[i] = data.dims[i]
    if dims.count(-1) == 1:
        known = _count(tuple(d for d in dims if d != -1))
        dims[dims.index(-1)] = _count(data.dims) // known if known else 0
    if _count(tuple(dims)) != _count(data.dims) or min(dims, default=0) < 0:
        raise Refusal(f"a reshape of a constant of dims {list(data.dims)} to {dims}")
    b.alias(node, Const(tuple(dims), data.values))


def _to_channels_first(node: Node) -> bool:
    return node.op_type == "Transpose" and _ints(node, "perm") == (0, 3, 1, 2)


def _transpose(b: Builder, node: Node) -> None:
    value = b.value(node, 0)
    if isinstance(value, Activ):
        if node.inputs[0] == b.channels_last and _to_channels_first(node):
            b.alias(node, value)  # the input read as N×C×H×W, as it is read
            return
        raise Refusal("a transpose of an activation, which convcost does not read yet")
    data = _const_input(b, node)
    assert data.values is not None
    rank = len(data.dims)
    perm = _ints(node, "perm") or tuple(range(rank - 1, -1, -1))
    if sorted(perm) != list(range(rank)):
        raise Refusal(f"perm {list(perm)} for a constant of rank {rank}")
    dims = tuple(data.dims[axis] for axis in perm)
    old = _strides(data.dims)
    values = []
    for flat in range(_count(dims)):
        offset, rest = 0, flat
        for position, size in reversed(list(enumerate(dims))):
            rest, index = divmod(rest, size)
            offset += index * old[perm[position]]
        values.append(data.values[offset])
    b.alias(node, Const(dims, tuple(values)))


def _slice(b: Builder, node: Node) -> None:
    """Slice of a constant (opset 10 on: starts, ends, axes, steps as inputs)."""
    data = _const_input(b, node)
    assert data.values is not None
    if b.opset < 10:
        starts, ends = _ints(node, "starts") or (), _ints(node, "ends") or ()
        axes, steps = _ints(node, "axes"), None
    else:

        def ints(k: int) -> tuple[int, ...] | None:
            if len(node.inputs) <= k or not node.inputs[k]:
                return None
            return _whole(_const_input(b, node, k).values)

        starts, ends, axes, steps = ints(1) or (), ints(2) or (), ints(3), ints(4)
    rank = len(data.dims)
    axes = axes or tuple(range(len(starts)))
    steps = steps or (1,) * len(starts)
    ranges = [range(size) for size in data.dims]
    for axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank or step == 0:
            raise Refusal(f"a slice along axis {axis} by {step}")
        ranges[axis] = range(data.dims[axis])[slice(start, end, step)]
    dims = tuple(len(r) for r in ranges)
    strides = _strides(data.dims)
    values = []
    for flat in range(_count(dims)):
        offset, rest = 0, flat
        for axis in range(rank - 1, -1, -1):
            rest, index = divmod(rest, dims[axis])
            offset += ranges[axis][index] * strides[axis]
        values.append(data.values[offset])
    b.alias(node, Const(dims, tuple(values)))


def _reshape(b: Builder, node: Node) -> None:
    value = b.values.get(node.inputs[0]) if node.inputs else None
    if isinstance(value, Const) and value.values is not None:
        _const_reshape(b, node, value)
        return
    source = b.activ(node, 0)
    target = b.const(node, 1, "shape", need_values=True)
    assert target is not None and target.values is not None
    dims = list(target.values)
    current = _dims_of(source.shape)
    for i, dim in enumerate(dims):
        if dim == 0 and i < len(current) and not _int(node, "allowzero", 0):
            dims[i] = current[i]
    rest = dims[1:]
    if len(dims) == 2 and (rest[0] == -1 or rest[0] == source.shape.elements):
        if source.shape.flat:
            b.alias(node, source)
        else:
            b.layer(node, Flatten(), source)
        return
    if tuple(dims[1:]) == current[1:]:
        b.alias(node, source)
        return
    raise Refusal(f"a reshape of {list(current)} to {dims}; convcost reads a reshape to "
                  "[N, -1] (a flatten) only")  # fmt: skip


def _uncounted(b: Builder, node: Node, reason: str = "") -> None:
    """An operator convcost cannot count (of another domain, not in OPERATORS, or in a form
    its reader refuses for ``reason``): a layer of unknown work and weights (shown and
    reported as such, never as zero) whose output shape the file gives, or ONNX's shape
    inference. Its first output goes on; a tensor no N×C×H×W or N×F shape describes, or
    another output of another shape, goes on only into other uncounted operators (a
    detection head's tail), and is refused where a counted layer reads it."""
    op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
    op = op or "(no op_type)"
    if node.subgraph:
        raise Fatal(
            "it holds a subgraph (control flow), whose reads of the network's tensors convcost "
            "does not follow; export the model without If, Loop and Scan (traced at a fixed "
            "input shape)"
        )
    found: list[int] = []
    for k, name in enumerate(node.inputs):
        if name and name in b.opaque and name not in b.values:
            found.append(b.opaque[name])
        elif name:
            value = b.value(node, k)
            if isinstance(value, Activ):
                found.append(value.node)
    sources = tuple(dict.fromkeys(found))
    outputs = [name for name in node.outputs if name]
    if not sources:
        # On constants only: a constant convcost cannot evaluate (its dims, where given).
        for name in outputs:
            dims = b.file_dims().get(name)  # a constant's dims: no shape inference for them
            if dims is not None and all(isinstance(d, int) for d in dims):
                b.values[name] = Const(tuple(int(d) for d in dims if isinstance(d, int)), None)
            else:
                b.unshaped[name] = f"'{name}' comes from the operator {op}, which convcost " \
                                   "cannot evaluate"  # fmt: skip
        return
    if not outputs:
        raise Refusal(reason or f"{op} makes no output")
    shapes = [_activation_shape(b, node, op, name) for name in outputs]
    first, why = shapes[0]
    if first is None:
        raise Refusal(why)
    made = len(b.nodes)
    b.add(node, Uncounted(op=op, output=first.shape, reason=reason), sources, first.shape)
    for (shape, why), name in zip(shapes, outputs, strict=True):
        if shape is not None and shape.readable and shape.shape == first.shape:
            b.values[name] = Activ(made, shape.shape)
            continue
        b.values.pop(name, None)
        if shape is not None:  # another rank or shape: for uncounted operators only
            b.opaque[name] = made
        b.unshaped[name] = why or (
            f"'{name}' is output {node.outputs.index(name) + 1} of the operator {op}, "
            "which convcost cannot count; it follows such an operator's first output only"
        )


class _Made(NamedTuple):
    """An uncounted operator's output per sample: its shape, or for another rank than
    N×C×H×W and N×F a flat one of as many values (``readable`` False)."""

    shape: Shape
    readable: bool


def _activation_shape(b: Builder, node: Node, op: str, name: str) -> tuple[_Made | None, str]:
    """The shape of an uncounted operator's output per sample, from the dims the file (or
    ONNX's shape inference) gives, and why a counted layer could not read it ("" when it
    could). None when the dims are not known and fixed after the batch."""
    dims = b.dims_given(name)
    if dims is None:
        how = ("ONNX's shape inference gives none" if onnx_installed()
               else "pip install 'convcost[onnx]' lets ONNX's shape inference find it")  # fmt: skip
        return None, (
            f"the operator {op}, which convcost cannot count, makes '{name}', whose shape the "
            f"file does not give and {how}; convcost needs it to go on (store it with "
            "onnx.shape_inference.infer_shapes)"
        )
    rest = dims[1:]
    if not all(isinstance(d, int) and d >= 0 for d in rest):
        return None, (
            f"the operator {op}, which convcost cannot count, makes '{name}' of the dims "
            f"{_shown(dims)}: beyond the batch, convcost needs fixed sizes"
        )
    ints = [int(d) for d in rest if isinstance(d, int)]
    batch, first = b.batch_dim, dims[0] if dims else None
    if first != batch:
        # Not the batch first (a reshape that folds it in, or a rank-1 tensor): of a fixed
        # batch, as many values per sample as it holds over that batch; else refused.
        total = _count(tuple(ints)) * first if isinstance(first, int) else None
        if isinstance(batch, int) and total is not None and batch and total % batch == 0:
            return _Made(Shape(1, 1, total // batch, True), False), (
                f"'{name}' comes from the operator {op}, which convcost cannot count, with "
                f"the dims {_shown(dims)}, whose first is not the batch ({batch})"
            )
        return None, (
            f"the operator {op}, which convcost cannot count, makes '{name}' of the dims "
            f"{_shown(dims)}, whose first is not the batch ({_shown((batch,))[0]})"
        )
    if len(ints) == 3:
        return _Made(Shape(ints[1], ints[2], ints[0]), True), ""
    if len(ints) == 1:
        return _Made(Shape(1, 1, ints[0], True), True), ""
    return _Made(Shape(1, 1, _count(tuple(ints)), True), False), (
        f"'{name}' comes from the operator {op}, which convcost cannot count, as a tensor "
        f"of rank {len(dims)}; convcost reads N×C×H×W and N×F tensors"
    )


def onnx_installed() -> bool:
    from importlib.util import find_spec

    return find_spec("onnx") is not None


def inferred_dims(
    data: bytes, sizes: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, tuple[Dim | None, ...]]:
    """Every tensor's dims as ONNX's shape inference gives them, where the ``onnx`` package
    is installed (only a model with an operator convcost cannot count pays for it); ``sizes``
    fixes a graph input's sizes after the batch (``--input-shape``) first."""
    if not data or not onnx_installed():
        return {}
    import onnx

    try:
        model = onnx.load_model_from_string(data)
        for info in model.graph.input:
            fixed = (sizes or {}).get(info.name, ())
            for dim, size in zip(info.type.tensor_type.shape.dim[1:], fixed, strict=False):
                dim.dim_value = size
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:  # inference failing only means it gives no shapes
        return {}
    found: dict[str, tuple[Dim | None, ...]] = {}
    for info in (*inferred.graph.value_info, *inferred.graph.output):
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            found[info.name] = tuple(
                d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                for d in tensor.shape.dim
            )
    return found


def _depth_to_space(b: Builder, node: Node) -> None:
    """DepthToSpace in CRD order, PyTorch's PixelShuffle (DCR, TensorFlow's depth_to_space,
    orders the channels otherwise: not read as it)."""
    source = b.activ(node, 0)
    _spatial(source)
    mode = _attr(node, "mode", "DCR")
    if mode != "CRD":
        raise Refusal(f"mode {mode!r}; convcost's pixelshuffle is PyTorch's, DepthToSpace in "
                      "CRD order")  # fmt: skip
    blocksize = _int(node, "blocksize", 0)
    if blocksize < 1:
        raise Refusal(f"blocksize {blocksize}")
    b.layer(node, PixelShuffle(factor=blocksize), source)


def _affine(b: Builder, node: Node, channels: int) -> bool:
    """Whether a normalization learns γ and β (one each per channel); a constant γ of ones
    without β is none (how convcost writes a layernorm without them)."""
    scale, bias = b.const(node, 1, "scale"), b.const(node, 2, "bias")
    if scale is None:
        raise Refusal("it has no scale")
    per_channel = ((channels,), (channels, 1, 1))
    if scale.dims not in per_channel or (bias is not None and bias.dims not in per_channel):
        shown = [list(scale.dims)] + ([] if bias is None else [list(bias.dims)])
        raise Refusal(f"its scale and bias have dims {shown}, not one per channel "
                      f"({channels})")  # fmt: skip
    if bias is not None:
        return True
    if scale.values is not None and all(value == 1 for value in scale.values):
        return False
    raise Refusal("a learned scale without a bias, which convcost does not count")


def _epsilon(node: Node) -> float:
    value = _attr(node, "epsilon", 1e-5)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise Refusal(f"epsilon {value!r}")
    return float(value)


def _layer_normalization(b: Builder, node: Node) -> None:
    """LayerNormalization over what is the channels alone: a vector's features, or N×C×1×1
    from axis 1 (over C×H×W at once, or the width, it is not convcost's layernorm)."""
    source = b.activ(node, 0)
    shape = source.shape
    rank = 2 if shape.flat else 4
    axis = _int(node, "axis", -1)
    if not -rank <= axis < rank:
        raise Refusal(f"axis {axis} of a tensor of rank {rank}")
    if axis % rank != 1 or (not shape.flat and (shape.h, shape.w) != (1, 1)):
        raise Refusal(f"a layer normalization of {list(_dims_of(shape))} from axis {axis}; "
                      "convcost reads one over the channels alone (a vector's features, or "
                      "N×C×1×1 from axis 1)")  # fmt: skip
    if any(node.outputs[1:]):
        raise Refusal("its mean and inverse standard deviation outputs are not counted")
    affine = _affine(b, node, shape.c)
    b.layer(node, LayerNorm(eps=_epsilon(node), affine=affine), source)


def _group_normalization(b: Builder, node: Node) -> None:
    """GroupNormalization from opset 21, whose scale and bias are per channel as PyTorch's
    GroupNorm's (opsets 18 to 20 take them per group, which no PyTorch module does)."""
    source = b.activ(node, 0)
    if b.opset < 21:
        raise Refusal(f"opset {b.opset}'s GroupNormalization scales each group, not each "
                      "channel as PyTorch's GroupNorm (opset 21 on)")  # fmt: skip
    groups = _int(node, "num_groups", 0)
    if groups < 1:
        raise Refusal(f"num_groups {groups}")
    affine = _affine(b, node, source.shape.c)
    b.layer(node, GroupNorm(groups=groups, eps=_epsilon(node), affine=affine), source)


OPERATORS: Mapping[str, Callable[[Builder, Node], None]] = {
    "Conv": _conv,
    "ConvTranspose": _convtranspose,
    "MaxPool": _pool(MaxPool),
    "AveragePool": _pool(AvgPool),
    "GlobalAveragePool": _simple(lambda b, node: GlobalAvgPool()),
    "GlobalMaxPool": _simple(lambda b, node: GlobalMaxPool()),
    "BatchNormalization": _batchnorm,
    "Relu": _activation("relu"),
    "Sigmoid": _sigmoid,
    "Tanh": _activation("tanh"),
    "LeakyRelu": _leaky_relu,
    "HardSigmoid": _activation("hardsigmoid"),
    "HardSwish": _activation("hardswish"),
    "Elu": _activation("elu"),
    "Selu": _activation("selu"),
    "Gelu": _activation("gelu"),
    "Mish": _activation("mish"),
    "Erf": _erf,
    "Softmax": _softmax,
    "ReduceMean": _reduce(GlobalAvgPool),
    "ReduceMax": _reduce(GlobalMaxPool),
    "Clip": _clip,
    "Add": _elementwise("Add"),
    "Sub": _elementwise("Sub"),
    "Mul": _elementwise("Mul"),
    "Div": _elementwise("Div"),
    "Concat": _concat,
    "Flatten": _flatten,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Dropout": _dropout,
    "Identity": _identity,
    "LRN": _lrn,
    "Pad": _pad,
    "Resize": _resize,
    "Upsample": _resize,
    "Reshape": _reshape,
    "Shape": _shape,
    "Constant": _constant,
    "Gather": _gather,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Cast": _cast,
    "ConstantOfShape": _constant_of_shape,
    "Transpose": _transpose,
    "Slice": _slice,
    "DepthToSpace": _depth_to_space,
    "LayerNormalization": _layer_normalization,
    "GroupNormalization": _group_normalization,
}
"""Each operator convcost reads, and how (ONNX's operator names, default domain)."""


def read_onnx(path: str, max_layers: int, input_shape: Shape | None = None) -> Graph:
    """The graph of the ONNX model at ``path``; ConvcostError when it is no ONNX model or
    holds what convcost cannot read; ``input_shape`` (H×W×C) sets the input's symbolic
    dimensions."""

    def bounded(file: BinaryIO) -> bytes:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ConvcostError(
                f"{path}: not an ONNX model: {size:,} bytes, and protobuf's messages are "
                "under 2 GiB (larger models keep their weights in external data)"
            )
        return file.read()

    data = read_file(path, bounded, "no such file", "give an .onnx file")
    try:
        model = read_model(data)
    except (Garbled, struct_error) as error:
        raise ConvcostError(f"{path}: not an ONNX model: {error}") from None
    opset = model.opsets.get("", model.opsets.get("ai.onnx"))
    if opset is None:
        raise ConvcostError(f"{path}: not an ONNX model: it imports no opset of ONNX's operators")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ConvcostError(
            f"{path}: opset {opset}, which convcost does not read; it reads opsets "
            f"{MIN_OPSET} to {MAX_OPSET}"
        )
    return Builder(model, path, max_layers, data, input_shape).build()
