"""A layer stack and its cost report: shape propagation and per-layer/total counts."""

from __future__ import annotations

from collections.abc import Iterable
from operator import sub
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.errors import ConvcostError, Location
from convcost.core.gcpause import gc_paused
from convcost.core.geometry import Axis
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv
from convcost.core.kinds.merges import Merge
from convcost.core.limits import MAX_SIZE
from convcost.core.shapes import Shape

if TYPE_CHECKING:
    from convcost.analyses.quantities import Limit

BYTES_PER_VALUE = 4  # float32, what every peer tool assumes by default


class Node(NamedTuple):
    """A layer in a network, with where the user wrote it (for error messages).

    ``name`` is None until ``Network.of`` names it (``conv1``, ``relu2``… per scope).
    """

    name: str | None
    layer: Layer
    location: Location | None = None


class Group(NamedTuple):
    """Elements applied one after another. A group with a name is a scope in hierarchical
    names (``inception_3a/…``); one named "" (a concat branch, say) is transparent.

    ``label`` says what it is in tables: a block's name, ``×4`` for a repeat, ``group``.
    """

    name: str | None
    elements: tuple[Element, ...]
    label: str = "group"
    location: Location | None = None


class Concat(NamedTuple):
    """Branches from one input, concatenated along channels (spatial sizes must agree)."""

    name: str | None
    branches: tuple[Group, ...]
    location: Location | None = None
    merge_name: str | None = None  # the concat row's name, set by Network.of


SHORTCUTS = ("identity", "auto", "optional")
"""identity: the input itself (shapes must agree); auto: identity, or a 1×1 conv (stride to
match, no bias) + BatchNorm projection where shapes differ, as torchvision's ResNets;
optional: identity, or no shortcut at all where shapes differ, as MobileNetV2."""


class Residual(NamedTuple):
    """A body added elementwise to a shortcut: one of SHORTCUTS, or a group of layers."""

    name: str | None
    body: Group
    shortcut: Group | str = "identity"
    location: Location | None = None
    merge_name: str | None = None  # the add row's name, set by Network.of
    projection_name: str | None = None  # where shortcut: auto projects, set by Network.of


Element = Node | Group | Concat | Residual


class Network(NamedTuple):
    input_shape: Shape
    nodes: tuple[Element, ...]
    name: str = ""
    separator: str = "/"
    description: str = ""
    budget: tuple[Limit, ...] = ()  # from a config's budget: section

    @classmethod
    def of(
        cls,
        input_shape: Shape,
        elements: Iterable[Element],
        name: str = "",
        separator: str = "/",
        description: str = "",
        budget: tuple[Limit, ...] = (),
    ) -> Network:
        """A network whose unnamed elements get names, unique within each scope."""
        with gc_paused():
            names = _Names(separator)
            named = _name_scope(tuple(elements), _Scope(names))
            if names.compound:  # a name holds the separator (or is ""): see _Names
                _name_scope(named, _Scope(_Names(separator, {})))
        return cls(input_shape, named, name, separator, description, budget)


def row_count(element: Element, counted: dict[int, int]) -> int:
    """The rows ``analyze`` makes for ``element``, or a few more: its layers and merges, a
    row for each group, concat or residual that is not transparent (named ""), and for a
    shortcut: auto the three rows of a projection (made only where shapes differ). By
    arithmetic: what the front ends share (a repeated call, an aliased list) is counted
    once and multiplied, never walked again. ``counted`` holds the counts made so far, by
    id (what they count must stay alive)."""
    if type(element) is Node:
        return 1
    own = element.name != ""
    if isinstance(element, Group):
        # Groups made of one shared tuple count it once, whatever their names.
        inner = counted.get(id(element.elements))
        if inner is None:
            inner = sum(row_count(e, counted) for e in element.elements)
            counted[id(element.elements)] = inner
        return own + inner
    known = counted.get(id(element))
    if known is not None:
        return known
    if isinstance(element, Concat):
        total = own + 1 + sum(row_count(b, counted) for b in element.branches)
    else:
        assert isinstance(element, Residual)
        shortcut = element.shortcut
        side = row_count(shortcut, counted) if isinstance(shortcut, Group) else 3
        total = own + 1 + row_count(element.body, counted) + side
    counted[id(element)] = total
    return total


class _Names:
    """What the scopes of one naming pass share. Names are unique within a level, but a
    name holding the separator can still repeat a full (hierarchical) name: 'a/b' beside a
    group 'a' holding 'b'. Reports, tables and diff know layers by full name, so that is
    refused too. (Caffe names such as GoogLeNet's conv1/7x7_s2 hold the separator:
    refusing it in names outright would refuse them.) Without such a name no full name can
    repeat, so the first pass only notes one (``compound``); a second pass with ``full``
    checks every full name then."""

    def __init__(self, separator: str, full: dict[str, Location | None] | None = None) -> None:
        self.separator, self.full, self.compound = separator, full, False


class _Scope:
    def __init__(self, names: _Names, prefix: str = "") -> None:
        self.counts: dict[str, int] = {}
        self.seen: dict[str, Location | None] = {}
        self.names, self.prefix = names, prefix

    def inner(self, name: str) -> _Scope:
        """The scope of this one's element ``name``."""
        return _Scope(self.names, self.prefix + name + self.names.separator)

    def claim(self, name: str | None, stem: str, location: Location | None) -> str:
        """``name`` (None: ``stem`` and the next free number), claimed in this scope. A layer
        named "" is shown by its kind, ``stem``: that is in its full name."""
        seen = self.seen
        if name is None:
            number = self.counts.get(stem, 0) + 1
            name = f"{stem}{number}"
            while name in seen:
                number += 1
                name = f"{stem}{number}"
            self.counts[stem] = number
        elif name in seen:
            first = seen[name]
            where = f" (first used at {first})" if first else ""
            raise ConvcostError(
                f"layer name '{name}' is used twice{where}; names must be unique",
                location,
                field="name",
            )
        seen[name] = location
        names = self.names
        if names.full is None:
            if not name or names.separator in name:
                names.compound = True
            return name
        full = self.prefix + (name or stem)
        if full in names.full:
            first = names.full[full]
            if location is None:  # a name convcost made (concat1, add1, downsample/0)
                raise ConvcostError(
                    f"the full name '{full}' is one convcost gives a merge or a projection "
                    f"here; rename this element (full names join the levels with "
                    f"'{names.separator}')",
                    first,
                    field="name",
                )
            where = f" (at {first})" if first else ""
            raise ConvcostError(
                f"layer name '{name}' makes the full name '{full}', which another element has"
                f"{where}; rename one (full names join the levels with '{names.separator}')",
                location,
                field="name",
            )
        names.full[full] = location
        return name


def _name_scope(elements: tuple[Element, ...], scope: _Scope) -> tuple[Element, ...]:
    named: list[Element] = []
    append, claim, new = named.append, scope.claim, tuple.__new__
    for element in elements:
        if type(element) is Node:  # most elements: inline, and kept when already named
            name, layer, location = element
            if name is None:
                element = new(Node, (claim(None, layer.kind_name, location), layer, location))
            else:
                claim(name, layer.kind_name, location)
            append(element)
        else:
            append(_named(element, scope))
    return tuple(named)


def _named_group(group: Group, scope: _Scope) -> Group:
    """A transparent group names its elements in the enclosing scope; a named one in its own."""
    if group.name == "":
        return group._replace(elements=_name_scope(group.elements, scope))
    name = scope.claim(group.name, group.label, group.location)
    return group._replace(name=name, elements=_name_scope(group.elements, scope.inner(name)))


def _named(element: Element, scope: _Scope) -> Element:
    if isinstance(element, Node):
        name = scope.claim(element.name, element.layer.kind_name, element.location)
        return Node(name, element.layer, element.location)
    if isinstance(element, Group):
        return _named_group(element, scope)
    # A concat or residual named "" is transparent: its layers are named in this scope.
    transparent = element.name == ""
    name = "" if transparent else scope.claim(element.name, _stem(element), element.location)
    inner = scope if transparent else scope.inner(name)
    merge_name = inner.claim(None, "concat" if isinstance(element, Concat) else "add", None)
    if isinstance(element, Concat):
        branches = tuple(_named_group(branch, inner) for branch in element.branches)
        return element._replace(name=name, branches=branches, merge_name=merge_name)
    body = element.body._replace(elements=_name_scope(element.body.elements, inner))
    shortcut = element.shortcut
    if isinstance(shortcut, Group) and shortcut.name is None:
        free = "shortcut" not in inner.seen
        shortcut = shortcut._replace(name=inner.claim("shortcut" if free else None, "shortcut",
                                                      shortcut.location))  # fmt: skip
        shortcut = shortcut._replace(
            elements=_name_scope(shortcut.elements, inner.inner(str(shortcut.name)))
        )
    elif isinstance(shortcut, Group):
        shortcut = _named_group(shortcut, inner)
    projection = None
    if shortcut == "auto":  # torchvision's name, made unique if the scope has one already
        projection = inner.claim(None if "downsample" in inner.seen else "downsample",
                                 "downsample", None)  # fmt: skip
        for index in ("0", "1"):  # the projection's conv and BatchNorm (see _projection)
            inner.inner(projection).claim(index, "", None)
    return element._replace(name=name, body=body, shortcut=shortcut, merge_name=merge_name,
                   projection_name=projection)  # fmt: skip


def _stem(element: Concat | Residual) -> str:
    return "concat" if isinstance(element, Concat) else "residual"


class LayerResult(NamedTuple):
    """One layer's shapes and costs, already multiplied by the batch size (but params).

    A named tuple holding only what cannot be derived, as one is kept per layer and a
    network may have 100,000 of them; the rest (full name, FLOPs, output values, config
    text, MAC factors, params formula, the window's axes) is computed when asked for.
    """

    prefix: str  # the groups it is in, joined: ``layer2.0.``
    local_name: str  # its name within its group: ``conv1``
    layer: Layer
    input_shape: Shape
    output_shape: Shape
    macs: int
    params: int
    buffers: int
    bias_adds: int  # additions of biases (for FLOPs), batch included
    depth: int = 0  # nesting level: 0 at the top, +1 inside each named group
    batch: int = 1

    @property
    def name(self) -> str:
        return self.prefix + self.local_name

    @property
    def kind(self) -> str:
        return self.layer.kind_name

    @property
    def flops(self) -> int:
        """A multiply and an add per MAC, and the bias additions."""
        return 2 * self.macs + self.bias_adds

    @property
    def activations(self) -> int:
        out = self.output_shape
        return out.h * out.w * out.c * self.batch

    @property
    def config(self) -> str:
        return self.layer.config()

    @property
    def axes(self) -> tuple[Axis, Axis] | None:
        return self.layer.axes(self.input_shape)

    @property
    def mac_factors(self) -> tuple[tuple[str, int], ...]:
        factors = self.layer.mac_factors(self.input_shape, self.output_shape)
        return (("N", self.batch), *factors) if self.batch > 1 and factors else factors

    @property
    def param_formula(self) -> str:
        return self.layer.param_formula(self.input_shape, self.output_shape)


class Totals(NamedTuple):
    macs: int
    flops: int
    params: int
    buffers: int
    activations: int

    @property
    def params_and_buffers(self) -> int:
        """What Keras calls "Total params": trainable plus BatchNorm's moving statistics."""
        return self.params + self.buffers

    @property
    def param_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    @property
    def activation_bytes(self) -> int:
        return self.activations * BYTES_PER_VALUE


class GroupResult(NamedTuple):
    """A block, concat or residual: its shapes and the totals of every layer inside it."""

    name: str
    kind: str
    input_shape: Shape
    output_shape: Shape
    totals: Totals
    depth: int
    local_name: str


Row = LayerResult | GroupResult


class Report(NamedTuple):
    """``layers``: every layer (merges included), in order, with hierarchical names;
    ``rows``: the same with a GroupResult before each group's layers, for nested tables."""

    input_shape: Shape
    output_shape: Shape
    batch: int
    layers: tuple[LayerResult, ...]
    totals: Totals
    rows: tuple[Row, ...] = ()

    @property
    def groups(self) -> tuple[GroupResult, ...]:
        return tuple(r for r in self.rows if isinstance(r, GroupResult))

    def rows_to_depth(self, depth: int | None) -> tuple[Row, ...]:
        """The rows a table shows with ``--depth``: everything nested less than ``depth``."""
        return self.rows if depth is None else tuple(r for r in self.rows if r.depth < depth)

    def partition(self, depth: int | None) -> tuple[Row, ...]:
        """Rows that cover every layer exactly once: layers above ``depth``, and groups at
        ``depth − 1`` folded into their totals (so the rows' sums are the network's)."""
        if depth is None:
            return self.layers
        return tuple(
            r
            for r in self.rows
            if r.depth < depth and (isinstance(r, LayerResult) or r.depth == depth - 1)
        )


def evaluate_layer(
    node: Node, inp: Shape, batch: int = 1, prefix: str = "", depth: int = 0
) -> LayerResult:
    """One layer's result for one input shape; errors carry the layer's name and location."""
    layer = node.layer
    local = node.name or layer.kind_name
    try:
        ev = layer.evaluate(inp)
    except ConvcostError as error:
        raise ConvcostError(
            f"layer '{prefix}{local}' ({layer.kind_name} on {inp}): {error.message}",
            error.location or node.location,
            error.field,
        ) from None
    return LayerResult(
        prefix, local, layer, inp, ev.output_shape, ev.macs * batch, ev.params, ev.buffers,
        ev.bias_adds * batch, depth, batch,
    )  # fmt: skip


def analyze(network: Network, batch: int = 1) -> Report:
    """Propagate the input shape through every layer and count what each costs."""
    if batch < 1:
        raise ConvcostError(f"batch size must be at least 1, got {batch}")
    run = _Run(batch, network.separator)
    with gc_paused():
        shape = run.sequence(network.nodes, network.input_shape, "", 0)
    leaves = tuple([r for r in run.rows if type(r) is LayerResult])  # a list: no generator
    return Report(network.input_shape, shape, batch, leaves, Totals(*run.sums), tuple(run.rows))


class _Run:
    """One pass of shape propagation over the element tree, collecting rows in order."""

    def __init__(self, batch: int, separator: str) -> None:
        self.batch, self.separator = batch, separator
        self.rows: list[Row] = []
        # Running sums of every layer so far: a group's totals are the difference between
        # its end and its start, so nesting costs nothing extra.
        self.sums = [0, 0, 0, 0, 0]
        self.projections: dict[tuple[int, int], tuple[Layer, Layer]] = {}  # see _projection

    def sequence(self, elements: Iterable[Element], shape: Shape, prefix: str, depth: int) -> Shape:
        batch, rows, sums = self.batch, self.rows, self.sums
        append, new = rows.append, tuple.__new__  # tuple.__new__: no Python-level call per row
        macs_sum, flops_sum, params_sum, buffers_sum, activations_sum = sums
        for element in elements:
            if type(element) is Node:  # the common case, inline: most elements are layers
                layer = element.layer
                try:
                    out, macs, params, buffers, bias_adds = layer.evaluate(shape)
                except ConvcostError:
                    evaluate_layer(element, shape, batch, prefix, depth)  # raises, located
                    raise
                if out[0] > MAX_SIZE or out[1] > MAX_SIZE or out[2] > MAX_SIZE:
                    raise _too_large(element, prefix, shape, out)
                if batch != 1:
                    macs *= batch
                    bias_adds *= batch
                local = element.name or layer.kind_name
                append(new(LayerResult, (prefix, local, layer, shape, out, macs, params, buffers,
                                         bias_adds, depth, batch)))  # fmt: skip
                shape = out
                macs_sum += macs
                flops_sum += 2 * macs + bias_adds
                params_sum += params
                buffers_sum += buffers
                activations_sum += out[0] * out[1] * out[2] * batch
            else:
                sums[:] = macs_sum, flops_sum, params_sum, buffers_sum, activations_sum
                shape = self.element(element, shape, prefix, depth)
                macs_sum, flops_sum, params_sum, buffers_sum, activations_sum = sums
        sums[:] = macs_sum, flops_sum, params_sum, buffers_sum, activations_sum
        return shape

    def element(self, element: Element, shape: Shape, prefix: str, depth: int) -> Shape:
        if isinstance(element, Node):
            return self.sequence((element,), shape, prefix, depth)
        if not element.name:
            # Transparent: no row of its own, its layers at this level (torchvision's blocks).
            if type(element) is Group:
                return self.sequence(element.elements, shape, prefix, depth)
            if type(element) is Concat:
                return self._concat(element, shape, prefix, depth, prefix.rstrip(self.separator))
            if isinstance(element, Residual):
                return self._residual(element, shape, prefix, depth, prefix.rstrip(self.separator))
        name = prefix + str(element.name)
        start = len(self.rows)
        local = str(element.name)
        self.rows.append(
            GroupResult(name, "", shape, shape, Totals(0, 0, 0, 0, 0), depth, local)
        )  # filled
        before = list(self.sums)
        inner = name + self.separator
        if isinstance(element, Group):
            kind = element.label
            out = self.sequence(element.elements, shape, inner, depth + 1)
        elif isinstance(element, Concat):
            kind = "concat"
            out = self._concat(element, shape, inner, depth + 1, name)
        else:
            kind = "residual"
            out = self._residual(element, shape, inner, depth + 1, name)
        totals = Totals._make(map(sub, self.sums, before))
        self.rows[start] = GroupResult(name, kind, shape, out, totals, depth, local)
        return out

    def _merge(self, op: str, inp: Shape, out: Shape, prefix: str, local: str, depth: int) -> None:
        batch = self.batch
        row = (prefix, local, _MERGES[op], inp, out, 0, 0, 0, 0, depth, batch)
        self.rows.append(tuple.__new__(LayerResult, row))
        self.sums[4] += out[0] * out[1] * out[2] * batch  # a merge's only cost: its output

    def _concat(self, concat: Concat, shape: Shape, prefix: str, depth: int, name: str) -> Shape:
        outputs: list[Shape] = []
        for branch in concat.branches:
            if branch.name:
                out = self.element(branch, shape, prefix, depth)
            else:  # the usual unnamed branch: its layers at this level
                out = self.sequence(branch.elements, shape, prefix, depth)
            if outputs and (out.h, out.w, out.flat) != (
                outputs[0].h,
                outputs[0].w,
                outputs[0].flat,
            ):
                raise ConvcostError(
                    f"concat '{name}': branch {len(outputs) + 1} gives {out} but branch 1 gives "
                    f"{outputs[0]}; the branches' height and width must agree",
                    concat.location,
                )
            outputs.append(out)
        first = outputs[0]
        merged = Shape(first.h, first.w, sum(o.c for o in outputs), first.flat)
        if merged.c > MAX_SIZE:
            raise ConvcostError(
                f"concat '{name}': its output {merged} has more than 2**40 channels; sizes "
                "above 2**40 are refused",
                concat.location,
            )
        self._merge("concat", shape, merged, prefix, str(concat.merge_name), depth)
        return merged

    def _residual(self, block: Residual, shape: Shape, prefix: str, depth: int, name: str) -> Shape:
        out = self.sequence(block.body.elements, shape, prefix, depth)
        shortcut = block.shortcut
        if shortcut == "optional" and out != shape:
            return out  # MobileNetV2: no residual connection where shapes differ
        if shortcut == "auto" and out != shape:
            projection = _projection(shape, out, name, block.location, self.projections)
            shortcut = Group(block.projection_name or "downsample", projection)
        if isinstance(shortcut, Group):
            side = self.element(shortcut, shape, prefix, depth)
        else:
            side = shape
        if side != out:
            raise ConvcostError(
                f"residual '{name}': the body gives {out} but the shortcut gives {side}; "
                "they must agree to be added (use shortcut: auto for a 1×1 projection)",
                block.location,
            )
        self._merge("add", out, out, prefix, str(block.merge_name), depth)
        return out


def _too_large(node: Node, prefix: str, inp: Shape, out: Shape) -> ConvcostError:
    return ConvcostError(
        f"layer '{prefix}{node.name or node.layer.kind_name}' ({node.layer.kind_name} on "
        f"{inp}): its output {out} is larger than 2**40 in a dimension; sizes above 2**40 "
        "are refused",
        node.location,
    )


_MERGES = {op: Merge(op=op) for op in ("concat", "add")}  # immutable: one of each serves all


def _projection(
    inp: Shape,
    out: Shape,
    name: str,
    location: Location | None,
    made: dict[tuple[int, int], tuple[Layer, Layer]],
) -> tuple[Element, ...]:
    """torchvision's downsample: a 1×1 conv whose stride gives the body's output size, + BN.
    ``made``: the layers already made in this run, by (stride, channels); layers are values."""
    for stride in (_smallest_stride(inp.h, out.h), _smallest_stride(inp.w, out.w)):
        if ((inp.h - 1) // stride + 1, (inp.w - 1) // stride + 1) == (out.h, out.w):
            layers = made.get((stride, out.c))
            if layers is None:
                from convcost.core.kinds.normalization import BatchNorm

                conv = Conv(kernel=(1, 1), filters=out.c, stride=(stride, stride),
                            padding=(0, 0, 0, 0), bias=False)  # fmt: skip
                layers = made[stride, out.c] = (conv, BatchNorm())
            return (Node("0", layers[0], location), Node("1", layers[1], location))
    raise ConvcostError(
        f"residual '{name}': no 1×1 projection stride turns {inp} into {out}; "
        "write the shortcut out",
        location,
    )


def _smallest_stride(size: int, out: int) -> int:
    """The smallest s with (size − 1) // s + 1 == out, if any (else one that fails)."""
    if out <= 1:
        return max(size, 1)
    return (size - 1) // out + 1
