"""A network's graph written as a YAML config that reads back as the same graph (the config
reader's inverse: tests/test_advise.py reads every zoo model back through it): every node
a layer with its name and the settings that differ from its kind's defaults, named groups
for scopes, ``from:`` where a layer reads other than the layer before it (full names, so
no lookup can find another), merges as ``{type: concat|add|mul, from: [...]}``.

The network's input is written ``from: /`` (the separator alone). What a config cannot say is
refused: a group left and come back to, an operator convcost does not count. Groups are
written as ``group:``: a block's or a repeat's label is not kept.
"""

from __future__ import annotations

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
    scopes = graph.scopes
    opened: list[int] = []  # the scopes open, outermost first
    seen: set[int] = set()
    for index, node in enumerate(graph.nodes):
        path = _path(graph, node.scope)
        keep = 0
        while keep < len(opened) and keep < len(path) and opened[keep] == path[keep]:
            keep += 1
        del opened[keep:]
        for scope in path[keep:]:
            if scope in seen:
                raise ConvcostError(
                    f"the group '{scopes[scope].name}' is left and come back to; a config "
                    "writes a group's layers together"
                )
            seen.add(scope)
            indent = "  " * (2 * len(opened) + 1)
            lines.append(f"{indent}- name: {text(scopes[scope].local)}")
            lines.append(f"{indent}  group:")
            opened.append(scope)
        indent = "  " * (2 * len(opened) + 1)
        lines.append(f"{indent}- {{{_node(graph, index, node, separator)}}}")
    return "\n".join(lines) + "\n"


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


def _node(graph: Graph, index: int, node: GraphNode, separator: str) -> str:
    pairs = layer_settings(node.layer)
    pairs.insert(1, ("name", text(node.local)))
    if node.inputs != (index - 1,):
        names = [text(separator + ("" if i == INPUT else graph.nodes[i].name))
                 for i in node.inputs]  # fmt: skip
        pairs.insert(2, ("from", names[0] if len(names) == 1 else f"[{', '.join(names)}]"))
    return ", ".join(f"{key}: {value}" for key, value in pairs)
