"""The config's constructs as written (sequences, groups, concat:, residual:, from:), their
names, and their lowering to the graph core (``convcost.core.graph``).

Front ends build this tree; ``Network.of`` names its elements (unique within each scope);
``lower`` turns it into a ``Graph`` whose nodes read explicit inputs, deciding where
``shortcut: auto`` projects and ``shortcut: optional`` adds by the shapes it meets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.analysis import analyze as analyze_graph
from convcost.core.analysis import evaluate_prefix
from convcost.core.errors import ConvcostError, Location, did_you_mean
from convcost.core.gcpause import gc_paused
from convcost.core.graph import INPUT, Graph, GraphNode, Scope, make_graph_node
from convcost.core.kinds.base import Evaluation, Layer
from convcost.core.kinds.conv import Conv
from convcost.core.kinds.merges import Merge
from convcost.core.records import record_maker
from convcost.core.report import Report
from convcost.core.shapes import Shape
from convcost.frontends.pending import PendingLayer

if TYPE_CHECKING:
    from convcost.analyses.quantities import Limit
    from convcost.core.multipliers import Scaler


class Node(NamedTuple):
    """A layer in a network, with where the user wrote it (for error messages).

    ``name`` is None until ``Network.of`` names it (``conv1``, ``relu2``… per scope).
    """

    name: str | None
    layer: Layer | PendingLayer  # pending: built when lowered, its settings reading its input
    location: Location | None = None
    sources: tuple[str, ...] = ()  # from: the layers it reads (none: the one before it)
    sources_at: tuple[Location, ...] = ()  # where each of those names is written


make_node = record_maker(Node)
"""Makes a Node as the class does, without the class call's dispatch (one a layer)."""


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
    warnings: tuple[str, ...] = ()  # what its reader noticed and said, the reading going on

    @classmethod
    def of(
        cls,
        input_shape: Shape,
        elements: Iterable[Element],
        name: str = "",
        separator: str = "/",
        description: str = "",
        budget: tuple[Limit, ...] = (),
        warnings: tuple[str, ...] = (),
    ) -> Network:
        """A network whose unnamed elements get names, unique within each scope."""
        with gc_paused():
            names = _Names(separator)
            named = _name_scope(tuple(elements), _Scope(names))
            if names.compound:  # a name holds the separator (or is ""): see _Names
                _name_scope(named, _Scope(_Names(separator, {})))
        return cls(input_shape, named, name, separator, description, budget, warnings)


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
        self.joints: dict[str, str] = {}  # what generated_name puts after each stem


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
            joints = self.names.joints
            joint = joints.get(stem)
            if joint is None:
                joint = joints[stem] = generated_name(stem, 0)[len(stem) : -1]
            name = f"{stem}{joint}{number}"
            while name in seen:
                number += 1
                name = f"{stem}{joint}{number}"
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
                if name == names.separator:  # from: with the separator alone reads the input
                    raise ConvcostError(
                        f"a layer or group cannot be named '{name}', the separator alone: "
                        f"from: '{name}' reads the network's input",
                        location,
                        field="name",
                    )
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


def generated_name(stem: str, number: int) -> str:
    """The name of the ``number``-th unnamed element of ``stem`` in a scope: ``conv1``,
    ``relu2``; after a stem that ends in a digit or ``_``, a ``_`` before the count
    (``relu6_1``, ``inverted×2_1``), so that the count never runs into the stem: ``relu61``
    would read as the 61st ReLU, ``relu6`` as the sixth one. The count is always the
    digits after the last character of the stem, read off without ambiguity."""
    if stem[-1:].isdigit() or stem.endswith("_"):
        return f"{stem}_{number}"
    return f"{stem}{number}"


def _name_scope(elements: tuple[Element, ...], scope: _Scope) -> tuple[Element, ...]:
    named: list[Element] = []
    append, claim = named.append, scope.claim
    for element in elements:
        if type(element) is Node:  # most elements: inline, and kept when already named
            name, layer, location, sources, sources_at = element
            if name is None:
                name = claim(None, layer.kind_name, location)
                element = make_node(name, layer, location, sources, sources_at)
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
        return element._replace(name=name)
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


_WIDTHS = frozenset({"filters", "units"})
"""The settings that set a layer's width: written as an expression of the input, the width
follows the input and is not scaled again."""


def analyze(network: Network, batch: int = 1, scaler: Scaler | None = None) -> Report:
    """The network lowered to its graph, analysed (the shapes lowering needed not again).
    ``scaler``: each layer written as a value scaled to another width as it is lowered (a
    layer whose settings read its input is built on its input at that width, as written)."""
    if batch < 1:
        raise ConvcostError(f"batch size must be at least 1, got {batch}")
    with gc_paused():  # analyze_graph's own pause then costs nothing
        lowering = _lowered(network, scaler)
        return analyze_graph(lowering.graph(), batch, lowering.evaluations)


def lower(network: Network) -> Graph:
    """The graph of a named network: every layer a node reading the layer before it (or
    what its ``from:`` names), every concat and residual a merge node."""
    with gc_paused():
        return _lowered(network).graph()


def _lowered(network: Network, scaler: Scaler | None = None) -> _Lowering:
    lowering = _Lowering(network, scaler)
    lowering.sequence(network.nodes, INPUT, "", -1, 0)
    return lowering


_MERGES = {op: Merge(op=op) for op in ("concat", "add")}  # immutable: one of each serves all


class _Lowering:
    def __init__(self, network: Network, scaler: Scaler | None = None) -> None:
        self.network = network
        self.scaler = scaler
        self.separator = network.separator
        self.nodes: list[GraphNode] = []
        self.scopes: list[Scope] = []
        # Full name → node (a group's: its last node), for from:. Filled when from: asks
        # (``named`` nodes so far): most networks never ask, and a name per layer costs.
        self.names: dict[str, int] = {}
        self.named = 0
        self.evaluations: list[Evaluation] = []  # of the first nodes, as far as needed
        self.shapes: list[Shape] = []  # their output shapes
        self.projections: dict[tuple[int, int], tuple[Layer, Layer]] = {}  # see _projection
        self.settled: dict[tuple[int, Shape], Layer] = {}  # see settle

    def graph(self) -> Graph:
        return Graph(self.network.input_shape, tuple(self.nodes), tuple(self.scopes),
                     self.separator)  # fmt: skip

    def shape(self, index: int) -> Shape:
        """The output shape of node ``index``, the nodes up to it evaluated once."""
        if index == INPUT:
            return self.network.input_shape
        evaluations = self.evaluations
        if len(evaluations) <= index:
            evaluate_prefix(self.nodes, self.network.input_shape, evaluations, self.shapes,
                            index)  # fmt: skip
        return evaluations[index][0]

    def add(self, node: GraphNode) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def open(self, name: str, kind: str, prefix: str, scope: int, depth: int,
             location: Location | None) -> int:  # fmt: skip
        self.scopes.append(Scope(prefix + name, name, kind, depth, scope, location))
        return len(self.scopes) - 1

    def sequence(self, elements: Iterable[Element], last: int, prefix: str, scope: int,
                 depth: int) -> int:  # fmt: skip
        """Lower ``elements`` one after another from node ``last``; the last node made."""
        nodes = self.nodes
        make = make_graph_node
        for element in elements:
            if type(element) is Node:  # the common case, inline
                layer = element.layer
                local = element.name or layer.kind_name
                inputs = (last,) if not element.sources else self.resolve(element, prefix)
                # A width written as an expression of the input follows it, unscaled; a
                # literal one scales, whatever else reads the input (a stride of in.h // 16).
                follows = False
                if isinstance(layer, PendingLayer):
                    follows = not layer.reading.isdisjoint(_WIDTHS)
                    layer = self.settle(layer, inputs[0])
                if self.scaler is not None and not follows:
                    layer = self.scaler(prefix + local, layer, self.shape(inputs[0]))
                nodes.append(make(prefix, local, layer, inputs, scope, depth,
                                  element.location))  # fmt: skip
                last = len(nodes) - 1
            else:
                last = self.element(element, last, prefix, scope, depth)
        return last

    def settle(self, layer: PendingLayer, source: int) -> Layer:
        """The layer whose settings read its input, built on the output of node ``source``
        (the same input gives the same layer, made once)."""
        inp = self.shape(source)
        key = (id(layer), inp)
        built = self.settled.get(key)
        if built is None:
            built = self.settled[key] = layer.settle(inp)
        return built

    def element(self, element: Element, last: int, prefix: str, scope: int, depth: int) -> int:
        if isinstance(element, Node):
            return self.sequence((element,), last, prefix, scope, depth)
        name = str(element.name)
        if not element.name:  # transparent: its layers at this level (torchvision's blocks)
            origin = prefix.rstrip(self.separator)
            inner_prefix, inner_scope, inner_depth = prefix, scope, depth
        else:
            kind = element.label if isinstance(element, Group) else _stem(element)
            inner_scope = self.open(name, kind, prefix, scope, depth, element.location)
            origin = prefix + name
            inner_prefix, inner_depth = origin + self.separator, depth + 1
        if isinstance(element, Group):
            out = self.sequence(element.elements, last, inner_prefix, inner_scope, inner_depth)
        elif isinstance(element, Concat):
            out = self.concat(element, last, inner_prefix, inner_scope, inner_depth, origin)
        else:
            out = self.residual(element, last, inner_prefix, inner_scope, inner_depth, origin)
        if element.name:
            self.names[origin] = out
        return out

    def concat(self, concat: Concat, last: int, prefix: str, scope: int, depth: int,
               origin: str) -> int:  # fmt: skip
        outputs = tuple(
            self.element(branch, last, prefix, scope, depth)
            if branch.name
            else self.sequence(branch.elements, last, prefix, scope, depth)
            for branch in concat.branches
        )
        merge = GraphNode(prefix, str(concat.merge_name), _MERGES["concat"], outputs, scope,
                          depth, concat.location, "branch", origin, last)  # fmt: skip
        return self.add(merge)

    def residual(self, block: Residual, last: int, prefix: str, scope: int, depth: int,
                 origin: str) -> int:  # fmt: skip
        out = self.sequence(block.body.elements, last, prefix, scope, depth)
        shortcut = block.shortcut
        if shortcut in ("optional", "auto") and self.shape(out) != self.shape(last):
            if shortcut == "optional":
                return out  # MobileNetV2: no residual connection where shapes differ
            layers = _projection(self.shape(last), self.shape(out), origin, block.location,
                                 self.projections)  # fmt: skip
            shortcut = Group(block.projection_name or "downsample", layers)
            # Made for the shapes met: at a scaled width too, so not scaled again.
            scaler, self.scaler = self.scaler, None
            side = self.element(shortcut, last, prefix, scope, depth)
            self.scaler = scaler
        elif isinstance(shortcut, Group):
            side = self.element(shortcut, last, prefix, scope, depth)
        else:
            side = last
        add = GraphNode(prefix, str(block.merge_name), _MERGES["add"], (out, side), scope,
                        depth, block.location, "residual", origin)  # fmt: skip
        return self.add(add)

    def resolve(self, node: Node, prefix: str) -> tuple[int, ...]:
        """The nodes ``from:`` names. A name is looked up as a name is in a program: in the
        groups the layer is in, innermost first, then at the top (so a block's layers read
        each other by their own names, whatever the block's call is named); a name that
        starts with the separator (``/stem/conv1``) is a full name, looked up at the top
        only; the separator alone (``/``), the full name of nothing, is the network's input
        (no layer's name is empty). Only layers (and finished groups: their last layer)
        before it can be read."""
        found: list[int] = []
        separator, names = self.separator, self.names
        for index in range(self.named, len(self.nodes)):
            names[self.nodes[index].name] = index
        self.named = len(self.nodes)
        for k, name in enumerate(node.sources):
            at = node.sources_at[k] if k < len(node.sources_at) else node.location
            if name == separator:
                found.append(INPUT)
                continue
            if name.startswith(separator):
                candidates = [name[len(separator) :]]
            else:
                candidates = []
                scope_prefix = prefix
                while True:
                    candidates.append(scope_prefix + name)
                    if not scope_prefix:
                        break
                    scope_prefix = scope_prefix[: scope_prefix[:-1].rfind(separator) + 1]
            read = next((names[c] for c in candidates if c in names), None)
            if read is None:
                if self.nodes:  # a fault in an earlier layer is reported first, as written
                    self.shape(len(self.nodes) - 1)
                raise ConvcostError(self.unknown(name, candidates, prefix), at)
            found.append(read)
        return tuple(found)

    def unknown(self, name: str, candidates: list[str], prefix: str) -> str:
        """Why ``from:`` cannot read ``name``: a group it is in, a layer that comes later,
        or nothing by that name."""
        for candidate in candidates:
            if prefix.startswith(candidate + self.separator):
                return (
                    f"from: '{name}' names '{candidate}', a group this layer is in, which is "
                    "not finished here; a layer reads only layers before it"
                )
        later = _every_name(self.network)
        for candidate in candidates:
            if candidate in later:
                return (
                    f"from: '{name}' names '{candidate}', which comes later; a layer reads only "
                    "layers before it"
                )
        inside = [full for full in self.names if full.endswith(self.separator + name)]
        hint = f"did you mean '{inside[0]}'? " if len(inside) == 1 else ""
        hint = hint or did_you_mean(candidates[-1], list(self.names))
        return f"from: '{name}' names no layer before this one; {hint}".rstrip("; ") + (
            ""
            if hint
            else f" (write a name as analyze prints it, or '{self.separator}', the separator "
            "alone, for the network's input)"
        )


def _every_name(network: Network) -> set[str]:
    """Every full name a network's layers and groups take."""
    separator = network.separator
    names: set[str] = set()

    def walk(elements: Iterable[Element], prefix: str) -> None:
        for element in elements:
            if isinstance(element, Node):
                names.add(prefix + (element.name or element.layer.kind_name))
                continue
            inner = prefix
            if element.name:
                names.add(prefix + element.name)
                inner = prefix + element.name + separator
            if isinstance(element, Group):
                walk(element.elements, inner)
            elif isinstance(element, Concat):
                walk(element.branches, inner)
                names.add(inner + str(element.merge_name))
            else:
                walk(element.body.elements, inner)
                if isinstance(element.shortcut, Group):
                    walk((element.shortcut,), inner)
                names.add(inner + str(element.merge_name))

    walk(network.nodes, "")
    return names


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
