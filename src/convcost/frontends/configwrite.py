"""A network's graph written as a YAML config that reads back as the same graph (the config
reader's inverse: tests/test_advise.py reads every zoo model back through it): every node
a layer with its name and the settings that differ from its kind's defaults, named groups
for scopes, ``from:`` where a layer reads other than the layer before it (full names, so
no lookup can find another), merges as ``{type: concat|add|mul, from: [...]}``. A concat
whose branches read one layer is written in the language's branch form, ``concat:
[{layers: [...]}, ...]``, so that it reads back showing that layer as its input (as
``analyze`` and ``diff`` show it), where it reads back as the same graph.

The network's input is written ``from: /`` (the separator alone). What a config cannot say is
refused: a group left and come back to, an operator convcost does not count. Groups are
written as ``group:``: a block's or a repeat's label is not kept.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from convcost.analyses.quantities import Limit
from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT, Graph, GraphNode
from convcost.core.kinds import all_kinds
from convcost.core.kinds.base import Layer
from convcost.core.metrics import METRICS

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words YAML 1.1 reads as booleans or null: quoted, so that a layer's name stays text.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def text(value: str) -> str:
    """A string as a YAML scalar: plain when it cannot be read as anything else."""
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return _quoted(value)


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar in ASCII: YAML refuses some characters written as they are
    (DEL) and folds others (NEL, U+2028), where its escapes keep every one (beyond U+FFFF as
    ``\\U``: YAML takes no JSON surrogate pair)."""
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        shown = repr(value)
        if "e" in shown and "." not in shown:  # YAML 1.1 reads 1e-05 as text; 1.0e-05 not
            mantissa, exponent = shown.split("e")
            shown = f"{mantissa}.0e{exponent}"
        return shown
    if isinstance(value, tuple | list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    return text(str(value))


def layer_settings(layer: Layer) -> list[tuple[str, str]]:
    """The kind's name (a preset's where it says the layer's settings: ``relu``, ``concat``)
    and the settings that differ from the defaults, written as YAML."""
    cls = type(layer)
    if all_kinds().get(cls.kind, (None,))[0] is not cls:
        raise ConvcostError(f"a {layer.kind_name} layer cannot be written in a config")
    values = dict(zip(layer._field_names, layer._values(), strict=True))
    kind, shown = cls.kind, dict(values)
    for preset, settings in cls.presets.items():
        if all(values.get(k) == v for k, v in settings.items()):
            kind = preset
            for key in settings:
                shown.pop(key)
            break
    defaults = cls._defaults
    pairs = [("type", text(kind))]
    for key, value in shown.items():
        if key in defaults and defaults[key] == value:
            continue
        pairs.append((key, scalar(value)))
    return pairs


def config_text(
    graph: Graph, name: str = "", description: str = "", budget: Sequence[Limit] = ()
) -> str:
    """``graph`` as a YAML config (see the module's docstring), with ``budget:``."""
    lines: list[str] = []
    if name:
        lines.append(f"name: {text(name)}")
    if description:
        lines.append(f"description: {text(description)}")
    if budget:
        lines.append("budget:")
        lines.extend(f"  {METRICS[limit.metric].budget_name}: {_quantity(limit)}"
                     for limit in budget)  # fmt: skip
    shape = graph.input_shape
    if shape.flat:
        raise ConvcostError("a network whose input is a flat vector cannot be written as a config")
    lines.append(f"input: {{h: {shape.h}, w: {shape.w}, c: {shape.c}}}")
    separator = graph.separator
    if separator != "/":
        lines.append(f"separator: {text(separator)}")
    lines.append("layers:")
    flat = _Writer(graph, branches=False).text()
    try:
        layers = _Writer(graph, branches=True).text()
    except ConvcostError:  # a branch's layer in a group outside the concat's, say
        layers = flat
    if layers != flat and not _reads_back(graph, lines, layers):
        layers = flat
    return "\n".join(lines) + "\n" + layers


def _reads_back(graph: Graph, head: list[str], layers: str) -> bool:
    """Whether ``layers`` (concats written with branches) reads back as ``graph``: a concat's
    merge takes the name the reader gives it, which the graph's may not be."""
    from convcost.frontends.config import parse_config  # only here: the reader is large
    from convcost.frontends.tree import lower

    try:
        again = lower(parse_config("\n".join(head) + "\n" + layers, "written.yaml"))
    except ConvcostError:
        return False
    return _key(again) == _key(graph)


def _key(graph: Graph) -> list[tuple[object, ...]]:
    return [(n.name, n.layer, n.inputs, n.shown_input) for n in graph.nodes]


class _Writer:
    """The layers of a graph as the items of ``layers:``: scopes as groups, and (with
    ``branches``) each concat whose branches read one layer in the config language's own
    form, ``concat: [{layers: [...]}, ...]``, so that it shows that layer as its input."""

    def __init__(self, graph: Graph, branches: bool) -> None:
        self.graph, self.nodes, self.scopes = graph, graph.nodes, graph.scopes
        self.lines: list[str] = []
        self.seen: set[int] = set()
        # The first node of a concat's branches → the concats whose branches start there.
        self.regions: dict[int, list[int]] = {}
        for index, node in enumerate(graph.nodes if branches else ()):
            source, ends = node.shown_input, node.inputs
            if source is None or node.joins != "branch" or ends[-1] != index - 1:
                continue
            if source < ends[0] and all(a < b for a, b in itertools.pairwise(ends)):
                self.regions.setdefault(source + 1, []).insert(0, index)

    def text(self) -> str:
        self.items(0, len(self.nodes), [], INPUT, "  ")
        return "\n".join(self.lines) + "\n"

    def items(self, low: int, high: int, base: list[int], before: int, indent: str) -> None:
        """Nodes ``low`` to ``high`` (not included) in the scopes ``base``, the first reading
        ``before`` unless it says otherwise."""
        opened: list[int] = []  # the scopes open below base, outermost first
        index = low
        while index < high:
            node = self.nodes[index]
            concat = next((c for c in self.regions.get(index, ()) if c < high), None)
            if concat is not None:
                index = self.concat(concat, base, opened, indent)
                continue
            self.enter(self._below(node.scope, base), opened, indent)
            line = _node(self.graph, node, before if index == low else index - 1)
            self.lines.append(f"{indent}{'    ' * len(opened)}- {{{line}}}")
            index += 1

    def concat(self, index: int, base: list[int], opened: list[int], indent: str) -> int:
        """The concat ``index`` with its branches; the index after it."""
        node, scopes = self.nodes[index], self.scopes
        path = self._below(node.scope, base)
        named = bool(path) and scopes[path[-1]].kind == "concat"
        self.enter(path[:-1] if named else path, opened, indent)
        at = indent + "    " * len(opened)
        inner = base + opened
        if named:
            self.seen.add(path[-1])
            inner = [*inner, path[-1]]
        name = scopes[path[-1]].local if named else ""
        self.lines += [f"{at}- name: {text(name)}", f"{at}  concat:"]
        source = node.shown_input
        assert source is not None
        before = source
        for end in node.inputs:
            below = {tuple(self._below(self.nodes[i].scope, inner)[:1])
                     for i in range(before + 1, end + 1)}  # fmt: skip
            (first,) = below if len(below) == 1 else ((),)
            if first and scopes[first[0]].kind == "branch" and first[0] not in self.seen:
                self.seen.add(first[0])
                self.lines.append(f"{at}    - name: {text(scopes[first[0]].local)}")
                self.lines.append(f"{at}      layers:")
                self.items(before + 1, end + 1, [*inner, first[0]], source, at + "        ")
            else:
                self.lines.append(f"{at}    - layers:")
                self.items(before + 1, end + 1, inner, source, at + "        ")
            before = end
        return index + 1

    def _below(self, scope: int, base: list[int]) -> list[int]:
        path = _path(self.graph, scope)
        if path[: len(base)] != base:
            raise ConvcostError("a layer of a concat's branch is outside the concat's group")
        return path[len(base) :]

    def enter(self, path: list[int], opened: list[int], indent: str) -> None:
        """Close the groups ``opened`` that ``path`` is not in, open those it is in."""
        keep = 0
        while keep < len(opened) and keep < len(path) and opened[keep] == path[keep]:
            keep += 1
        del opened[keep:]
        for scope in path[keep:]:
            if scope in self.seen:
                raise ConvcostError(
                    f"the group '{self.scopes[scope].name}' is left and come back to; a "
                    "config writes a group's layers together"
                )
            self.seen.add(scope)
            at = indent + "    " * len(opened)
            self.lines.append(f"{at}- name: {text(self.scopes[scope].local)}")
            self.lines.append(f"{at}  group:")
            opened.append(scope)


def _quantity(limit: Limit) -> str:
    """A budget's limit as the config reads it back exactly: a count, or seconds with
    their unit (every digit of the float, none in an exponent)."""
    if isinstance(limit.value, int):
        return str(limit.value)
    from decimal import Decimal  # only here: it is slow to import

    return format(Decimal(repr(limit.value)), "f") + "s"


def _path(graph: Graph, scope: int) -> list[int]:
    path: list[int] = []
    while scope != -1:
        path.append(scope)
        scope = graph.scopes[scope].parent
    return path[::-1]


def _node(graph: Graph, node: GraphNode, before: int) -> str:
    """A node as the flow mapping of its settings; ``from:`` unless it reads ``before``."""
    pairs = layer_settings(node.layer)
    pairs.insert(1, ("name", text(node.local)))
    if node.inputs != (before,):
        separator = graph.separator
        names = [text(separator + ("" if i == INPUT else graph.nodes[i].name))
                 for i in node.inputs]  # fmt: skip
        pairs.insert(2, ("from", names[0] if len(names) == 1 else f"[{', '.join(names)}]"))
    return ", ".join(f"{key}: {value}" for key, value in pairs)
