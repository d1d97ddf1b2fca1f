"""ONNX out: an analysed network as an ONNX model, for Netron and the tools that read ONNX.

Every layer becomes the ONNX operator(s) that compute it, named as the layer is (tensors
too: a layer's output tensor has its full name). Weights are graph inputs of their right
shapes and no data, so a ResNet-50 is a few kilobytes; the few constants an operator needs
as an input (Clip's bounds, Pad's amounts, Resize's scales, a BatchNorm without affine's
scale and shift) are small initializers. Tensors are NCHW, as ONNX's operators take them.
Written with the ``onnx`` package (an optional extra), imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT
from convcost.core.kinds.activations import SOFTMAX_AXES, Activation, Identity, LeakyReLU, Softmax
from convcost.core.kinds.conv import Conv, ConvTranspose
from convcost.core.kinds.dense import Dense
from convcost.core.kinds.merges import Merge
from convcost.core.kinds.normalization import (
    BatchNorm,
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    Scale,
)
from convcost.core.kinds.pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
)
from convcost.core.kinds.resampling import Upsample
from convcost.core.kinds.reshaping import (
    ChannelShuffle,
    Crop,
    Dropout,
    Flatten,
    PixelShuffle,
    PixelUnshuffle,
    Split,
    ZeroPad,
)
from convcost.core.kinds.uncounted import Uncounted
from convcost.core.report import LayerResult, Report
from convcost.core.shapes import Shape

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto, TensorProto, ValueInfoProto

DEFAULT_OPSET = 17
INSTALL = "pip install 'convcost[onnx]'"


def onnx_module() -> Any:
    """The ``onnx`` package, or a refusal that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ConvcostError(f"writing ONNX needs the onnx package: {INSTALL}") from None
    return onnx


def dims(shape: Shape, batch: int) -> list[int]:
    """A convcost shape as ONNX's: [N, C, H, W], or [N, C] for a flat vector."""
    return [batch, shape.c] if shape.flat else [batch, shape.c, shape.h, shape.w]


class _Writer:
    def __init__(self, report: Report, opset: int) -> None:
        self.onnx = onnx_module()
        self.report = report
        self.opset = opset
        self.batch = report.batch
        self.nodes: list[NodeProto] = []
        self.weights: list[ValueInfoProto] = []
        self.constants: list[TensorProto] = []

    # --- building blocks ---------------------------------------------------------------

    def node(self, op: str, inputs: list[str], outputs: list[str], name: str, **attrs: Any) -> None:
        helper = self.onnx.helper
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))

    def weight(self, name: str, shape: list[int]) -> str:
        """A weight: a graph input of its shape, without data."""
        helper = self.onnx.helper
        self.weights.append(helper.make_tensor_value_info(name, self.onnx.TensorProto.FLOAT, shape))
        return name

    def constant(self, name: str, values: list[float] | list[int], integers: bool = False) -> str:
        helper, proto = self.onnx.helper, self.onnx.TensorProto
        kind = proto.INT64 if integers else proto.FLOAT
        self.constants.append(helper.make_tensor(name, kind, [len(values)], values))
        return name

    # --- layers --------------------------------------------------------------------------

    def layer(self, result: LayerResult, inputs: list[str]) -> None:
        layer, name = result.layer, result.name
        inp, out = result.input_shape, result.output_shape
        x = inputs[0]
        if isinstance(layer, Merge):
            op = {"concat": "Concat", "add": "Add", "mul": "Mul"}[layer.op]
            if op == "Concat":
                self.node(op, inputs, [name], name, axis=1)
                return
            total = inputs[0]
            for k, other in enumerate(inputs[1:], 1):
                target = name if k == len(inputs) - 1 else f"{name}/{k}"
                self.node(op, [total, other], [target], target)
                total = target
            return
        if isinstance(layer, Conv):
            groups = inp.c if layer.groups == "depthwise" else layer.groups
            w = self.weight(f"{name}.weight", [out.c, inp.c // groups, *layer.kernel])
            args = [x, w] + ([self.weight(f"{name}.bias", [out.c])] if layer.bias else [])
            self.node("Conv", args, [name], name, kernel_shape=list(layer.kernel),
                      strides=list(layer.stride), dilations=list(layer.dilation),
                      pads=self.pads(result), group=groups)  # fmt: skip
            return
        if isinstance(layer, ConvTranspose):  # its weight: C_in × C_out/group × kH × kW
            groups = inp.c if layer.groups == "depthwise" else layer.groups
            w = self.weight(f"{name}.weight", [inp.c, out.c // groups, *layer.kernel])
            args = [x, w] + ([self.weight(f"{name}.bias", [out.c])] if layer.bias else [])
            axes = result.axes
            assert axes is not None
            self.node("ConvTranspose", args, [name], name, kernel_shape=list(layer.kernel),
                      strides=list(layer.stride), dilations=list(layer.dilation),
                      pads=self.pads(result), group=groups,
                      output_padding=[axes[0].output_padding, axes[1].output_padding])  # fmt: skip
            return
        if isinstance(layer, MaxPool | AvgPool):
            attrs: dict[str, Any] = {
                "kernel_shape": list(layer.kernel),
                "strides": list(layer._stride()),
                "pads": self.pads(result),
                "ceil_mode": int(layer.ceil_mode),
            }
            if isinstance(layer, MaxPool):
                self.node("MaxPool", [x], [name], name, dilations=list(layer.dilation), **attrs)
            else:  # PyTorch's AvgPool2d counts the padding (count_include_pad=True)
                self.node("AveragePool", [x], [name], name, count_include_pad=1, **attrs)
            return
        if isinstance(layer, GlobalAvgPool | GlobalMaxPool):
            op = "GlobalAveragePool" if isinstance(layer, GlobalAvgPool) else "GlobalMaxPool"
            self.node(op, [x], [name], name)
            return
        if isinstance(layer, AdaptiveAvgPool):
            self.adaptive(result, x)
            return
        if isinstance(layer, Dense):
            if not inp.flat:
                flat = f"{name}/flatten"
                self.node("Flatten", [x], [flat], flat, axis=1)
                x = flat
            w = self.weight(f"{name}.weight", [layer.units, inp.elements])
            args = [x, w] + ([self.weight(f"{name}.bias", [layer.units])] if layer.bias else [])
            self.node("Gemm", args, [name], name, transB=1)
            return
        if isinstance(layer, BatchNorm):
            c = inp.c
            if layer.affine:
                scale, shift = self.weight(f"{name}.weight", [c]), self.weight(f"{name}.bias", [c])
            else:
                scale = self.constant(f"{name}.scale", [1.0] * c)
                shift = self.constant(f"{name}.shift", [0.0] * c)
            mean = self.weight(f"{name}.running_mean", [c])
            var = self.weight(f"{name}.running_var", [c])
            self.node("BatchNormalization", [x, scale, shift, mean, var], [name], name)
            return
        if isinstance(layer, Activation):
            self.activation(layer.fn, x, name)
            return
        if isinstance(layer, Flatten):
            self.node("Flatten", [x], [name], name, axis=1)
            return
        if isinstance(layer, Dropout):
            self.node("Dropout", [x], [name], name)
            return
        if isinstance(layer, LocalResponseNorm):
            self.node("LRN", [x], [name], name, size=layer.size)
            return
        if isinstance(layer, ZeroPad):
            top, bottom, left, right = layer.padding
            pads = self.constant(f"{name}.pads", [0, 0, top, left, 0, 0, bottom, right], True)
            self.node("Pad", [x, pads], [name], name, mode="constant")
            return
        if isinstance(layer, Upsample):
            mode = "nearest" if layer.mode == "nearest" else "linear"
            sizes = self.constant(f"{name}.sizes", dims(out, self.batch), True)
            self.node("Resize", [x, "", "", sizes], [name], name, mode=mode)
            return
        if self.new_kind(result, x):
            return
        if isinstance(layer, Uncounted):
            raise ConvcostError(
                f"layer '{name}': the operator {layer.op}, which convcost cannot count, "
                "cannot be written back: export from a config, or from the model's framework"
            )
        raise ConvcostError(f"layer '{name}': no ONNX operator for a {result.kind} layer")

    def new_kind(self, result: LayerResult, x: str) -> bool:
        """Normalizations over channels, shuffles, crops, splits, a per-channel scale,
        adaptive max pools, leaky ReLU, softmax and identity, written; False for any other
        kind."""
        layer, name = result.layer, result.name
        inp, out = result.input_shape, result.output_shape
        if isinstance(layer, LeakyReLU):
            self.node("LeakyRelu", [x], [name], name, alpha=layer.slope)
        elif isinstance(layer, Softmax):
            self.node("Softmax", [x], [name], name, axis=SOFTMAX_AXES[layer.axis])
        elif isinstance(layer, Identity):
            self.node("Identity", [x], [name], name)
        elif isinstance(layer, Scale):
            gamma = self.weight(f"{name}.weight", [inp.c] if inp.flat else [inp.c, 1, 1])
            self.node("Mul", [x, gamma], [name], name)
        elif isinstance(layer, LayerNorm):
            self.layernorm(result, layer, x)
        elif isinstance(layer, GroupNorm):
            self.groupnorm(result, layer, x)
        elif isinstance(layer, AdaptiveMaxPool):
            self.adaptive(result, x, "Max")
        elif isinstance(layer, PixelShuffle):  # PyTorch's order is DepthToSpace's CRD
            self.node("DepthToSpace", [x], [name], name, blocksize=layer.factor, mode="CRD")
        elif isinstance(layer, PixelUnshuffle):
            # N×C×H·r×W·r → N×C×H×r×W×r → N×C×r×r×H×W → N×C·r²×H×W (SpaceToDepth's order
            # is DCR, not PyTorch's).
            r = layer.factor
            self.rearranged(name, x, [self.batch, inp.c, out.h, r, out.w, r],
                            [0, 1, 3, 5, 2, 4], dims(out, self.batch))  # fmt: skip
        elif isinstance(layer, ChannelShuffle):
            # N×C×H×W → N×g×C/g×H×W → N×C/g×g×H×W → N×C×H×W
            g = layer.groups
            self.rearranged(name, x, [self.batch, g, inp.c // g, inp.h, inp.w],
                            [0, 2, 1, 3, 4], dims(out, self.batch))  # fmt: skip
        elif isinstance(layer, Crop):
            top, bottom, left, right = layer.taken(inp)
            self.sliced(name, x, [top, left], [inp.h - bottom, inp.w - right], [2, 3])
        elif isinstance(layer, Split):
            start, stop = layer.channels(inp)
            self.sliced(name, x, [start], [stop], [1])
        else:
            return False
        return True

    def sliced(
        self, name: str, x: str, starts: list[int], ends: list[int], axes: list[int]
    ) -> None:
        given = [
            self.constant(f"{name}.{what}", values, True)
            for what, values in (("starts", starts), ("ends", ends), ("axes", axes))
        ]
        self.node("Slice", [x, *given], [name], name)

    def rearranged(
        self, name: str, x: str, split: list[int], perm: list[int], joined: list[int]
    ) -> None:
        """Reshape to ``split``, Transpose by ``perm``, Reshape to ``joined``."""
        first = self.constant(f"{name}.split", split, True)
        last = self.constant(f"{name}.joined", joined, True)
        self.node("Reshape", [x, first], [f"{name}/split"], f"{name}/split")
        self.node("Transpose", [f"{name}/split"], [f"{name}/moved"], f"{name}/moved", perm=perm)
        self.node("Reshape", [f"{name}/moved", last], [name], name)

    def layernorm(self, result: LayerResult, layer: LayerNorm, x: str) -> None:
        """ONNX's LayerNormalization normalizes the last axes: over a vector's features at
        once, else channels-last between two Transposes, as ConvNeXt's LayerNorm2d does."""
        name, c = result.name, result.input_shape.c
        if self.opset < 17:
            raise ConvcostError(
                f"layer '{name}': layernorm is ONNX's LayerNormalization, which opset "
                f"{self.opset} does not have; export at opset 17 or later (--opset 17)"
            )
        if layer.affine:
            scale, shift = self.weight(f"{name}.weight", [c]), self.weight(f"{name}.bias", [c])
        else:
            scale, shift = self.constant(f"{name}.scale", [1.0] * c), ""
        args = [scale] + ([shift] if shift else [])
        if result.input_shape.flat:
            self.node("LayerNormalization", [x, *args], [name], name, axis=-1, epsilon=layer.eps)
            return
        last, normed = f"{name}/channels_last", f"{name}/normalized"
        self.node("Transpose", [x], [last], last, perm=[0, 2, 3, 1])
        self.node("LayerNormalization", [last, *args], [normed], normed, axis=-1,
                  epsilon=layer.eps)  # fmt: skip
        self.node("Transpose", [normed], [name], name, perm=[0, 3, 1, 2])

    def groupnorm(self, result: LayerResult, layer: GroupNorm, x: str) -> None:
        """Written out as PyTorch's exporter writes group_norm: the groups made rows of
        N×g×(C/g·H·W), InstanceNormalization over each, the shape restored, then γ and β per
        channel (ONNX's GroupNormalization takes them per channel only from opset 21)."""
        name, inp, g = result.name, result.input_shape, layer.groups
        grouped, normed, restored = f"{name}/grouped", f"{name}/normalized", f"{name}/restored"
        rows = self.constant(f"{name}.grouped", [self.batch, g, -1], True)
        shape = self.constant(f"{name}.shape", dims(inp, self.batch), True)
        ones = self.constant(f"{name}.ones", [1.0] * g)
        zeros = self.constant(f"{name}.zeros", [0.0] * g)
        self.node("Reshape", [x, rows], [grouped], grouped)
        self.node("InstanceNormalization", [grouped, ones, zeros], [normed], normed,
                  epsilon=layer.eps)  # fmt: skip
        if not layer.affine:
            self.node("Reshape", [normed, shape], [name], name)
            return
        self.node("Reshape", [normed, shape], [restored], restored)
        per_channel = [inp.c] if inp.flat else [inp.c, 1, 1]
        gamma = self.weight(f"{name}.weight", per_channel)
        beta = self.weight(f"{name}.bias", per_channel)
        self.node("Mul", [restored, gamma], [f"{name}/scaled"], f"{name}/scaled")
        self.node("Add", [f"{name}/scaled", beta], [name], name)

    def pads(self, result: LayerResult) -> list[int]:
        """ONNX's pads: [top, left, bottom, right] (every axis's start, then its end)."""
        axes = result.axes
        assert axes is not None
        h, w = axes
        return [h.pad_before, w.pad_before, h.pad_after, w.pad_after]

    def adaptive(self, result: LayerResult, x: str, op: str = "Average") -> None:
        """ONNX has no adaptive pool: a global one for 1×1, else an average (max) pool whose
        windows PyTorch's adaptive rule makes alike (the input a multiple of the output)."""
        inp, out, name = result.input_shape, result.output_shape, result.name
        if (out.h, out.w) == (1, 1):
            self.node(f"Global{op}Pool", [x], [name], name)
            return
        if inp.h % out.h or inp.w % out.w:
            what = "average" if op == "Average" else "max"
            raise ConvcostError(
                f"layer '{name}': ONNX has no adaptive {what} pool, and {inp.h}x{inp.w} → "
                f"{out.h}x{out.w} has windows of different sizes; only a whole-number ratio "
                f"exports (as {'an' if op == 'Average' else 'a'} {op}Pool)"
            )
        kernel = [inp.h // out.h, inp.w // out.w]
        self.node(f"{op}Pool", [x], [name], name, kernel_shape=kernel, strides=kernel)

    def activation(self, fn: str, x: str, name: str) -> None:
        simple = {
            "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "selu": "Selu",
            "hardsigmoid": "HardSigmoid", "hardswish": "HardSwish",
        }  # fmt: skip
        if fn in simple:
            self.node(simple[fn], [x], [name], name)
        elif fn == "relu6":
            low, high = self.constant(f"{name}.min", [0.0]), self.constant(f"{name}.max", [6.0])
            self.node("Clip", [x, f"{low}_", f"{high}_"], [name], name)
            self.scalars(low, high)
        elif fn in ("silu", "swish"):
            self.node("Sigmoid", [x], [f"{name}/sigmoid"], f"{name}/sigmoid")
            self.node("Mul", [x, f"{name}/sigmoid"], [name], name)
        elif fn == "mish":  # x · tanh(softplus(x)), as Mish is defined (its own op: opset 18)
            self.node("Softplus", [x], [f"{name}/softplus"], f"{name}/softplus")
            self.node("Tanh", [f"{name}/softplus"], [f"{name}/tanh"], f"{name}/tanh")
            self.node("Mul", [x, f"{name}/tanh"], [name], name)
        elif fn == "gelu":  # x · Φ(x) = 0.5·x·(1 + erf(x/√2)) (its own op: opset 20)
            root = self.constant(f"{name}.sqrt2", [2.0**0.5])
            one, half = self.constant(f"{name}.one", [1.0]), self.constant(f"{name}.half", [0.5])
            self.node("Div", [x, root], [f"{name}/scaled"], f"{name}/scaled")
            self.node("Erf", [f"{name}/scaled"], [f"{name}/erf"], f"{name}/erf")
            self.node("Add", [f"{name}/erf", one], [f"{name}/cdf"], f"{name}/cdf")
            self.node("Mul", [x, f"{name}/cdf"], [f"{name}/xcdf"], f"{name}/xcdf")
            self.node("Mul", [f"{name}/xcdf", half], [name], name)
        else:
            raise ConvcostError(f"layer '{name}': no ONNX operator for the activation {fn}")

    def scalars(self, *names: str) -> None:
        """Clip's bounds are scalars (rank 0): made from the one-value constants."""
        helper, proto = self.onnx.helper, self.onnx.TensorProto
        for made in names:
            value = next(c for c in self.constants if c.name == made).float_data[0]
            self.constants.append(helper.make_tensor(f"{made}_", proto.FLOAT, [], [value]))

    # --- the model -----------------------------------------------------------------------

    def model(self) -> ModelProto:
        onnx, report = self.onnx, self.report
        graph = report.graph
        assert graph is not None
        names = [result.name for result in report.layers]
        for result, node in zip(report.layers, graph.nodes, strict=True):
            self.layer(result, ["input" if i == INPUT else names[i] for i in node.inputs])
        helper, proto = onnx.helper, onnx.TensorProto
        batch = self.batch
        inputs = [helper.make_tensor_value_info("input", proto.FLOAT,
                                                dims(report.input_shape, batch))]  # fmt: skip
        outputs = [
            helper.make_tensor_value_info(layer.name, proto.FLOAT, dims(layer.output_shape, batch))
            for layer in report.outputs
        ]
        onnx_graph = helper.make_graph(
            self.nodes, "convcost", [*inputs, *self.weights], outputs, self.constants
        )
        model: ModelProto = helper.make_model(
            onnx_graph,
            producer_name="convcost",
            opset_imports=[helper.make_opsetid("", self.opset)],
        )
        onnx.checker.check_model(model)
        return model


def to_onnx(report: Report, opset: int = DEFAULT_OPSET) -> ModelProto:
    """``report``'s network as an ONNX model (checked by ``onnx.checker``)."""
    if report.graph is None:
        raise ConvcostError("this analysis has no graph to export")
    if not 13 <= opset <= 19:
        raise ConvcostError(f"--opset {opset}: ONNX export writes opsets 13 to 19; try 17")
    return _Writer(report, opset).model()


def onnx_bytes(report: Report, opset: int = DEFAULT_OPSET) -> bytes:
    data: bytes = to_onnx(report, opset).SerializeToString()
    return data
