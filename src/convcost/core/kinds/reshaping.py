"""The kinds that move values without arithmetic: flatten, zero padding, dropout (which at
inference passes its input on unchanged), pixel shuffles, channel shuffles, crops and channel
splits. None has MACs or params."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import describe_padding
from convcost.core.kinds.base import Evaluation, Layer, Saved, Storage, param, require_spatial
from convcost.core.shapes import Shape


class Flatten(Layer):
    kind = "flatten"
    summary = "H×W×C → a vector of H·W·C"

    def evaluate(self, inp: Shape) -> Evaluation:
        return Evaluation(Shape(1, 1, inp.elements, flat=True))

    def storage(self, training: bool = False) -> Storage:
        return "view"


class ZeroPad(Layer):
    kind = "pad"
    aliases = ("zeropad", "zeropadding")
    summary = "zero padding around H and W"
    positional = ("padding",)

    padding: tuple[int, int, int, int] = param(
        fields.explicit_padding, "N, [h, w] or [top, bottom, left, right]"
    )

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        top, bottom, left, right = self.padding
        return Evaluation(Shape(inp.h + top + bottom, inp.w + left + right, inp.c))

    def config(self) -> str:
        return describe_padding(self.padding)


class Dropout(Layer):
    kind = "dropout"
    summary = "dropout (no cost at inference)"
    positional = ("rate",)

    rate: float = param(fields.rate, "drop probability, 0 ≤ rate < 1", default=0.5)

    def config(self) -> str:
        return f"p={self.rate:g}"

    def storage(self, training: bool = False) -> Storage:
        # At inference it passes its input on (PyTorch's eval mode returns the input itself),
        # and in training too when it drops nothing.
        return "new" if training and self.rate > 0 else "view"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        # Its mask, as PyTorch's CPU dropout makes it: a tensor of the input's format, by
        # which the input is multiplied (none when nothing is dropped).
        return Saved(extra_values=inp.elements) if self.rate > 0 else Saved()


class PixelShuffle(Layer):
    """PyTorch's ``PixelShuffle(r)``: C·r² channels become an r × r block of pixels each,
    H×W×C·r² → H·r × W·r × C (ONNX's DepthToSpace, CRD order)."""

    kind = "pixelshuffle"
    aliases = ("depthtospace",)
    summary = "sub-pixel upsampling: H×W×C·r² → H·r × W·r × C (no MACs)"
    positional = ("factor",)

    factor: int = param(fields.positive_int, "the upscale factor r")

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        r = self.factor
        if inp.c % (r * r):
            raise ConvcostError(
                f"pixelshuffle {r} takes r² = {r * r} channels to each output channel, and "
                f"{inp.c} channels are no multiple of {r * r}",
                field="factor",
            )
        return Evaluation(Shape(inp.h * r, inp.w * r, inp.c // (r * r)))

    def config(self) -> str:
        return f"×{self.factor}"

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        r = self.factor
        return f"H·r × W·r × C/r² = {inp.h}·{r} × {inp.w}·{r} × {inp.c}/{r * r} = {out}"


class PixelUnshuffle(Layer):
    """PyTorch's ``PixelUnshuffle(r)``, PixelShuffle's inverse: each r × r block of pixels
    becomes r² channels, H×W×C → H/r × W/r × C·r²."""

    kind = "pixelunshuffle"
    summary = "H×W×C → H/r × W/r × C·r², each r × r block into channels (no MACs)"
    positional = ("factor",)

    factor: int = param(fields.positive_int, "the downscale factor r")

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        r = self.factor
        if inp.h % r or inp.w % r:
            raise ConvcostError(
                f"pixelunshuffle {r} takes {r} × {r} blocks of pixels, and {inp.h}x{inp.w} is "
                f"not a multiple of {r} in both; PyTorch requires it",
                field="factor",
            )
        return Evaluation(Shape(inp.h // r, inp.w // r, inp.c * r * r))

    def config(self) -> str:
        return f"÷{self.factor}"

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        r = self.factor
        return f"H/r × W/r × C·r² = {inp.h}/{r} × {inp.w}/{r} × {inp.c}·{r * r} = {out}"


class ChannelShuffle(Layer):
    """PyTorch's ``ChannelShuffle(g)`` (ShuffleNet's): the channels, read as g groups of
    C/g, interleaved (channel k·g + i of the output is channel i·C/g + k of the input)."""

    kind = "channelshuffle"
    aliases = ("shuffle",)
    summary = "channels in g groups, interleaved (ShuffleNet's shuffle; no MACs)"
    positional = ("groups",)

    groups: int = param(fields.positive_int, "channel groups (a divisor of the channels)")

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        if inp.c % self.groups:
            raise ConvcostError(
                f"channelshuffle groups {self.groups} does not divide the {inp.c} channels; use "
                f"a divisor of {inp.c}, as PyTorch requires",
                field="groups",
            )
        return Evaluation(inp)

    def config(self) -> str:
        return f"g{self.groups}"

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        per = inp.c // self.groups
        return f"{self.groups} groups × {per} channels, read across: {out} (shape unchanged)"


class Crop(Layer):
    """Rows and columns taken off the edges: to a ``size`` H×W at the centre (the original
    U-Net's crop of its skip features; an odd row or column goes from the bottom or the
    right), or given ``edges``. A view of its input, as PyTorch's slicing is."""

    kind = "crop"
    aliases = ("cropping", "cropping2d", "centercrop")
    summary = "crop to a size at the centre, or by edges (no MACs)"
    positional = ("size",)

    size: tuple[int, int] | None = param(
        fields.pair, "the size kept at the centre: N, HxW or [h, w]", default=None
    )
    edges: tuple[int, int, int, int] | None = param(
        fields.explicit_padding,
        "taken off instead: N, [h, w] or [top, bottom, left, right]",
        default=None,
    )

    def taken(self, inp: Shape) -> tuple[int, int, int, int]:
        """The rows and columns taken off: (top, bottom, left, right)."""
        if (self.size is None) == (self.edges is None):
            given = "both size and edges" if self.size else "neither size nor edges"
            raise ConvcostError(
                f"crop takes a size or edges, got {given} (e.g. crop 56x56, or edges: 4)",
                field="edges" if self.edges else "size",
            )
        if self.edges is not None:
            return self.edges
        assert self.size is not None
        h, w = self.size
        if h > inp.h or w > inp.w:
            raise ConvcostError(
                f"crop to {h}x{w} is larger than its {inp.h}x{inp.w} input; crop to at most that",
                field="size",
            )
        top, left = (inp.h - h) // 2, (inp.w - w) // 2
        return top, inp.h - h - top, left, inp.w - w - left

    def evaluate(self, inp: Shape) -> Evaluation:
        require_spatial(inp, self.kind)
        top, bottom, left, right = self.taken(inp)
        h, w = inp.h - top - bottom, inp.w - left - right
        if h < 1 or w < 1:
            raise ConvcostError(
                f"crop edges [{top}, {bottom}, {left}, {right}] leave nothing of its "
                f"{inp.h}x{inp.w} input; take off less",
                field="edges",
            )
        return Evaluation(Shape(h, w, inp.c))

    def config(self) -> str:
        if self.size is not None:
            return f"to {self.size[0]}x{self.size[1]}"
        top, bottom, left, right = self.edges or (0, 0, 0, 0)
        if top == bottom and left == right:
            return f"edges {top}" if top == left else f"edges {top},{left}"
        return f"edges {top},{bottom},{left},{right}"

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        top, bottom, left, right = self.taken(inp)
        return (f"H − top − bottom × W − left − right = {inp.h} − {top} − {bottom} × {inp.w} − "
                f"{left} − {right} = {out.h}×{out.w}")  # fmt: skip

    def storage(self, training: bool = False) -> Storage:
        return "view"


class Split(Layer):
    """One part of the channels, as PyTorch's ``x.chunk(parts, dim=1)[index]``: parts of
    ⌈C/parts⌉ channels, the last one smaller where they do not divide C (and fewer parts
    where even that leaves none). A view of its input. Two splits reading one layer
    (``from:``) take both halves, as ShuffleNet v2's ``x.chunk(2, dim=1)``."""

    kind = "split"
    aliases = ("chunk",)
    summary = "one part of the channels, as torch.chunk(parts, dim=1)[index] (no MACs)"
    positional = ("parts", "index")

    parts: int = param(fields.positive_int, "how many parts the channels are chunked in",
                       default=2)  # fmt: skip
    index: int = param(fields.non_negative_int, "which part: 0 is the first")

    def channels(self, inp: Shape) -> tuple[int, int]:
        """The channels it takes: [start, stop)."""
        each = -(-inp.c // self.parts)
        made = -(-inp.c // each)
        if self.index >= made:
            last = inp.c - (made - 1) * each
            sizes = f"{each} channels" + (f", the last {last}" if last != each else "")
            raise ConvcostError(
                f"split index {self.index} is past the last part: {inp.c} channels chunked in "
                f"{self.parts} make {made} parts of {sizes} (as torch.chunk does), numbered 0 "
                f"to {made - 1}",
                field="index",
            )
        start = self.index * each
        return start, min(start + each, inp.c)

    def evaluate(self, inp: Shape) -> Evaluation:
        start, stop = self.channels(inp)
        return Evaluation(Shape(inp.h, inp.w, stop - start, inp.flat))

    def config(self) -> str:
        return f"{self.index} of {self.parts}"

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        start, stop = self.channels(inp)
        each = -(-inp.c // self.parts)
        return (f"channels {start} to {stop - 1} of {inp.c}: part {self.index} of "
                f"{self.parts}, ⌈{inp.c}/{self.parts}⌉ = {each} each")  # fmt: skip

    def storage(self, training: bool = False) -> Storage:
        return "view"
