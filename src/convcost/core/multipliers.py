"""The width multiplier (MobileNet's α): every layer's channel count scaled, as one
transformation of a graph (the resolution multiplier is an input shape: see
``frontends.load_spec``).

The rule, for any network (documented in the README, "Width and resolution"):

- a layer that sets its output's width scales it: a convolution's or transposed
  convolution's filters, a dense layer's units, each ``width.channels(count)``;
- except the heads (the classifier's 1000 classes, a segmentation head's classes): a
  width-setting layer from which every forward path reaches an output without passing
  another keeps its count; a trunk layer that also feeds a tap scales, and so does a head
  tied by an add or mul to a scaled width (a backbone's last block);
- the input's channels (an image's 3) are the input's, not scaled;
- every other layer follows its input: activations, norms, pools, merges (a concat's
  width is its branches' sum), and a depthwise convolution (one group per input channel,
  however written), whose groups and filters follow its input's channels;
- a grouped convolution keeps its group count, which must still divide its scaled input
  and filters; where it does not (or a group norm's or channel shuffle's groups), the
  scaled network is refused, saying so, rather than changed in some other way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT, Graph
from convcost.core.limits import MAX_SIZE

if TYPE_CHECKING:  # the rest is imported when a width is scaled: analyze runs start lean
    from fractions import Fraction

    from convcost.core.graph import GraphNode
    from convcost.core.kinds.base import Layer
    from convcost.core.kinds.conv import Conv, ConvTranspose
    from convcost.core.shapes import Shape


class Width(NamedTuple):
    """A width multiplier and the multiple every scaled channel count is rounded to."""

    multiplier: Fraction
    divisor: int = 1

    def channels(self, count: int) -> int:
        """``count`` scaled: ``multiplier × count`` rounded to the nearest multiple of
        ``divisor`` (halves up), at least ``divisor``, and never more than 10 % below the
        scaled value (torchvision's and TF-Slim's ``_make_divisible``; with divisor 1 the
        nearest integer, at least 1). Exact: the multiplier is a fraction."""
        # In integers: value = count·num/den; int(value + divisor/2) is the floor below.
        num, den, divisor = self.multiplier.numerator, self.multiplier.denominator, self.divisor
        nearest = (2 * count * num + divisor * den) // (2 * den)
        rounded = max(divisor, nearest // divisor * divisor)
        return rounded + divisor if 10 * rounded * den < 9 * count * num else rounded

    def __str__(self) -> str:
        shown = f"width multiplier {_decimal(self.multiplier)}"
        return shown if self.divisor == 1 else f"{shown}, divisor {self.divisor}"


class Scaling(NamedTuple):
    """What to analyse a network at instead of as written: its widths scaled (None: as
    written) and a square input of ``resolution`` pixels a side (None: the spec's)."""

    width: Width | None = None
    resolution: int | None = None

    def __str__(self) -> str:
        """``width multiplier 0.5, divisor 8, resolution 160``: what is not as written."""
        width = () if self.width is None else (str(self.width),)
        return ", ".join((*width, *(() if self.resolution is None else
                                    (f"resolution {self.resolution}",))))  # fmt: skip

    def fields(self) -> dict[str, object]:
        """The scaling as machine-readable outputs record it: the width multiplier exactly
        (``"0.75"``, ``"1/3"``), the divisor, the resolution; None where not given."""
        width = self.width
        return {
            "width_multiplier": None if width is None else _decimal(width.multiplier),
            "divisor": None if width is None else width.divisor,
            "resolution": self.resolution,
        }

    def refusing(self, error: ConvcostError) -> ConvcostError:
        """``error``, met in the network so scaled, said to be met there."""
        if self == AS_WRITTEN:
            return error
        return ConvcostError(f"at {self}: {error.message}", error.location, error.field)


AS_WRITTEN = Scaling()
"""The network's widths and input as the spec gives them."""


def _decimal(value: Fraction) -> str:
    """``0.75``, exactly as a decimal where it is one (``0.123456789``); a fraction that is
    no finite decimal as written (``1/3``)."""
    if value < 0:
        return f"-{_decimal(-value)}"
    places, rest = 0, value.denominator
    for factor in (2, 5):
        count = 0
        while rest % factor == 0:
            rest, count = rest // factor, count + 1
        places = max(places, count)
    if rest != 1:
        return str(value)
    digits = str(value.numerator * 10**places // value.denominator).rjust(places + 1, "0")
    whole, fraction = digits[: len(digits) - places], digits[len(digits) - places :]
    return f"{whole}.{fraction}".rstrip("0").rstrip(".") if places else whole


MAX_MULTIPLIER_TEXT = 40
"""Characters in a width multiplier as written: a few bytes must never cost seconds (a
decimal's exponent is read before the number is, for the same reason)."""

_MULTIPLIER = re.compile(  # ASCII digits only: "1_0" and other scripts' digits are refused
    r"[+-]?(?:[0-9]+/[0-9]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?)"
)
_TAKES = "takes a number above 0, such as 0.75, 0.5 or 3/4"
_RANGE = "multipliers from 2**-40 to 2**40 are accepted"


def parse_multiplier(value: object) -> Fraction:
    """A width multiplier as given (``0.75``, ``"0.75"``, ``"3/4"``, ``"75e-2"``), exactly:
    written in ASCII digits as a decimal or a fraction of whole numbers, from 2**-40 to
    2**40 and in at most ``MAX_MULTIPLIER_TEXT`` characters (its digits bound its title)."""
    from fractions import Fraction

    if isinstance(value, Fraction | int) and not isinstance(value, bool):
        number = Fraction(value)
        if max(number.numerator, number.denominator) >= 10**MAX_MULTIPLIER_TEXT:
            raise ConvcostError(f"{_TAKES}, in at most {MAX_MULTIPLIER_TEXT} digits")
        return _in_range(number, _decimal(number))
    text = value.strip() if isinstance(value, str) else repr(value)
    if not isinstance(value, str | float):
        raise ConvcostError(f"{_TAKES}; got {value!r}")
    if len(text) > MAX_MULTIPLIER_TEXT:
        raise ConvcostError(
            f"{_TAKES}, in at most {MAX_MULTIPLIER_TEXT} characters; got {len(text)} characters"
        )
    form = _MULTIPLIER.fullmatch(text)
    if form is None:
        shown = "nothing" if not text else f"'{text}'"
        raise ConvcostError(f"{_TAKES}; got {shown}")
    exponent = form.group(1)
    # 2**40 is below 10**13: a decimal exponent beyond ±60 (with at most 40 digits) leaves
    # the range, and 10**exponent is never computed for it.
    if exponent is not None and abs(int(exponent)) > 60:
        raise ConvcostError(f"{text} is out of range; {_RANGE}")
    try:
        number = Fraction(text)
    except ZeroDivisionError:
        raise ConvcostError(f"{_TAKES}; got '{text}'") from None
    return _in_range(number, text)


def _in_range(number: Fraction, text: str) -> Fraction:
    from fractions import Fraction

    if number <= 0:
        raise ConvcostError(f"must be above 0, such as 0.75 or 0.5; got {text}")
    if not Fraction(1, MAX_SIZE) <= number <= MAX_SIZE:
        raise ConvcostError(f"{text} is out of range; {_RANGE}")
    return number


class Scaler:
    """Scales layers by the rule above, knowing the network at its written width
    (``graph``): each layer's input there, by full name, and which layers set the outputs.
    A front end that builds its graph as it goes (a config, whose layers may read their
    input) calls it on each layer it builds, with that layer's input at the new width."""

    def __init__(self, width: Width, graph: Graph) -> None:
        from convcost.core.analysis import evaluate_prefix

        shapes: list[Shape] = []
        evaluate_prefix(graph.nodes, graph.input_shape, [], shapes, len(graph.nodes) - 1)
        self.width = width
        self.inputs = {
            node.name: graph.input_shape if node.inputs[0] == INPUT else shapes[node.inputs[0]]
            for node in graph.nodes
        }
        self.kept = {graph.nodes[index].name for index in _output_widths(graph, shapes)}

    def __call__(self, name: str, layer: Layer, inp: Shape) -> Layer:
        """Layer ``name`` at the new width, its input there being ``inp``."""
        before = self.inputs.get(name, inp)
        return _scaled(name, layer, before, inp, self.width, name in self.kept)


def scale_width(graph: Graph, width: Width) -> Graph:
    """``graph`` with its widths scaled by the rule above; a layer the scaled network
    cannot hold is refused (``Scaling.refusing`` says at which multiplier)."""
    from convcost.core.analysis import evaluate_node

    scaler = Scaler(width, graph)
    nodes: list[GraphNode] = []
    shapes: list[Shape] = []
    for index, node in enumerate(graph.nodes):
        source = node.inputs[0]
        inp = graph.input_shape if source == INPUT else shapes[source]
        nodes.append(node._replace(layer=scaler(node.name, node.layer, inp)))
        shapes.append(evaluate_node(nodes, graph.input_shape, index, shapes)[0])
    return graph._replace(nodes=tuple(nodes))


def _scaled(name: str, layer: Layer, before: Shape, after: Shape, width: Width,
            kept: bool) -> Layer:  # fmt: skip
    """Layer ``name`` at the new width: ``before`` and ``after`` are its input's shape at
    the old width and the new one; ``kept``: it sets an output's width."""
    from convcost.core.kinds.conv import Conv, ConvTranspose
    from convcost.core.kinds.dense import Dense
    from convcost.core.kinds.uncounted import Uncounted

    if isinstance(layer, Dense):
        units = layer.units if kept else width.channels(layer.units)
        return layer if units == layer.units else _with(layer, units=units)
    if isinstance(layer, Conv | ConvTranspose):
        groups, filters = layer.groups, layer.filters
        if _depthwise(layer, before):
            # Depthwise: one group per input channel, the filters a multiple of them.
            per_group = (before.c if filters is None else filters) // before.c
            if groups == "depthwise":
                return layer if filters is None else _with(layer, filters=per_group * after.c)
            return _with(layer, groups=after.c, filters=per_group * after.c)
        assert filters is not None and isinstance(groups, int)  # as only depthwise ones may not
        new = filters if kept else width.channels(filters)
        if groups != 1 and (after.c % groups or new % groups):
            count = after.c if after.c % groups else new
            what = "input channels" if after.c % groups else "filters"
            raise ConvcostError(
                f"layer '{name}' ({layer.kind_name} on {after}): its {groups} groups do not "
                f"divide its {count} {what}; a grouped convolution keeps its group count when "
                "the width scales: choose a multiplier (or divisor) that keeps them dividing"
            )
        return layer if new == filters else _with(layer, filters=new)
    if isinstance(layer, Uncounted) and before != after:
        raise ConvcostError(
            f"layer '{name}' is an operator convcost cannot count ({layer.op}): its output "
            "shape is the model file's, which cannot follow a scaled width"
        )
    return layer


def _with(layer: Layer, **changed: object) -> Layer:
    settings = dict(zip(layer._field_names, layer._values(), strict=True))
    return type(layer)(**{**settings, **changed})


def _depthwise(layer: Conv | ConvTranspose, inp: Shape) -> bool:
    """One group per input channel, however written (``dw``, or a count, as model files
    write it)."""
    groups = layer.groups
    return groups == "depthwise" or (isinstance(groups, int) and groups == inp.c > 1)


def _output_widths(graph: Graph, shapes: Sequence[Shape]) -> set[int]:
    """The nodes that set the width of the network's outputs, and only them: the
    width-setting layers (a dense layer, a convolution that is not depthwise) from which
    every forward path reaches an output without passing another one (a classifier, a
    segmentation head; not a trunk layer that also feeds a tap). Then, as an add or mul
    needs its inputs' widths equal, a kept layer whose width meets a scaled one's there
    scales too (a backbone's last block, tied to its residual stream). ``shapes``: every
    node's output shape."""
    from convcost.core.kinds.conv import Conv, ConvTranspose
    from convcost.core.kinds.dense import Dense
    from convcost.core.kinds.merges import Merge

    nodes = graph.nodes
    setting = []
    for node in nodes:
        source = node.inputs[0]
        inp = graph.input_shape if source == INPUT else shapes[source]
        layer = node.layer
        setting.append(isinstance(layer, Dense) or (
            isinstance(layer, Conv | ConvTranspose) and not _depthwise(layer, inp)
        ))  # fmt: skip
    readers: list[list[int]] = [[] for _ in nodes]
    for index, node in enumerate(nodes):
        for source in node.inputs:
            if source != INPUT:
                readers[source].append(index)
    # clear[i]: every path on from node i reaches an output (a node no node reads) without
    # passing a width-setting layer; the nodes are in order, each after its inputs.
    clear = [False] * len(nodes)
    for index in reversed(range(len(nodes))):
        clear[index] = all(not setting[r] and clear[r] for r in readers[index])
    kept = {index for index in range(len(nodes)) if setting[index] and clear[index]}
    # Each node's width comes from these width-setting layers (or the input, INPUT).
    origins: list[frozenset[int]] = []
    for index, node in enumerate(nodes):
        origins.append(frozenset({index}) if setting[index] else frozenset().union(
            *({INPUT} if source == INPUT else origins[source] for source in node.inputs)
        ))  # fmt: skip
    ties = [
        origins[index] for index, node in enumerate(nodes)
        if isinstance(node.layer, Merge) and node.layer.op != "concat"
    ]  # fmt: skip
    changed = bool(kept)
    while changed:
        changed = False
        for tied in ties:
            if tied - kept - {INPUT} and tied & kept:
                kept -= tied
                changed = True
    return kept
