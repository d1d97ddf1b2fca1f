"""Layer-stack config files (YAML) with line:column for every error.

Schema (version 1)::

    name: inception-5x5-branch        # optional
    input: 28x28x192                  # or [28, 28, 192] or {h: 28, w: 28, c: 192}
    separator: /                      # optional: joins hierarchical names (/ . _ - :)
    defaults: {conv: {padding: 0}}    # optional: settings every layer of a kind takes
    blocks: {NAME: {params: [...], layers: [...]}}   # optional: see frontends/structure.py
    layers:
      - conv: {kernel: 1x1, filters: 16}   # kind as the only key, settings as its value
      - type: relu                          # or a mapping with type: and the settings
      - conv 5x5 32 relu                    # or an inline-spec layer string
      - concat: [...] / residual: {...} / BLOCK: {...}
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, TypeVar

from convcost.analyses.quantities import Limit, parse_quantity
from convcost.core.errors import ConvcostError, Faults, Location, did_you_mean
from convcost.core.fields import bounded_name
from convcost.core.limits import COLLECTIONS_PER_ROW, MAX_INPUT_BYTES, MAX_LAYERS
from convcost.core.metrics import budgetable
from convcost.core.shapes import Shape, shape_from_value
from convcost.frontends.common import channels_first_warning, defaults_by_name, defaults_key
from convcost.frontends.files import read_file
from convcost.frontends.structure import Builder, parse_blocks
from convcost.frontends.tree import Network
from convcost.frontends.yamlnode import (
    NO_KEYS,
    YNode,
    describe,
    make_ynode,
    too_many_collections,
    too_many_values,
    values_for,
)

TOP_LEVEL = (
    "name", "description", "input", "layers", "blocks", "separator", "budget", "defaults",
)  # fmt: skip
SEPARATORS = ("/", ".", "_", "-", ":")
T = TypeVar("T")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_source(path: str) -> tuple[str, str]:
    """The text of a config file (or ``-``: standard input) and the name to report."""
    if path == "-":
        source = "<stdin>"
        if sys.stdin is None:  # Python leaves it None when started with stdin closed (<&-)
            raise ConvcostError("standard input is closed; pipe a config into - or name a file")
        try:
            data = _read_bounded(sys.stdin.buffer, source)
        except OSError as error:
            raise ConvcostError(f"standard input cannot be read ({error.strerror})") from None
    else:
        source = path
        data = read_file(
            path,
            lambda file: _read_bounded(file, path),
            "no such file; give a YAML config, '-' for standard input, or an inline spec such "
            "as '28x28x192 | conv 5x5 32'",
            "give a YAML config file",
        )
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError as error:
        # As editors count: lines end at \r\n, \r or \n, and columns are characters.
        before = data[: error.start].decode("utf-8").removeprefix("\ufeff")
        line = len(_LINE_BREAK.findall(before)) + 1
        column = len(before) - max(before.rfind("\n"), before.rfind("\r"))
        raise ConvcostError(
            f"byte 0x{data[error.start]:02x} is not UTF-8 text; save the config as UTF-8",
            Location(source, line, column),
        ) from None


def _read_bounded(stream: BinaryIO, source: str) -> bytes:
    """At most MAX_INPUT_BYTES of ``stream`` (a pipe, a device, a sparse file: whatever its
    size claims); more is refused without being read."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ConvcostError(
            f"{source}: more than {MAX_INPUT_BYTES // 2**20} MiB; a config is at most that "
            "long (name a repeated structure once with blocks: and repeat:)"
        )
    return data


def parse_config(
    text: str,
    source: str,
    defaults: Mapping[str, object] | None = None,
    max_layers: int = MAX_LAYERS,
) -> Network:
    from convcost.frontends.yamlread import compose  # PyYAML: only for YAML text

    collections = COLLECTIONS_PER_ROW * max_layers
    return _network(compose(text, source, collections), source, defaults, max_layers)


def parse_json_config(
    text: str,
    source: str,
    defaults: Mapping[str, object] | None = None,
    max_layers: int = MAX_LAYERS,
) -> Network:
    """A JSON config (same schema), read by the json module: several times faster than the
    YAML reader, but it knows no line and column. Text that is not JSON is refused where
    the json module stops (never re-read as YAML: a .json file holding YAML is a mistake);
    a fault in valid JSON is found again by the YAML reader (JSON is YAML), which says
    where it is."""
    import json

    max_values = values_for(COLLECTIONS_PER_ROW * max_layers)
    # In JSON every value but the first (keys too) follows a [, {, comma or colon: fewer of
    # them than the bound on values, and the json module may decode the text whole.
    marks = text.count(",") + text.count(":") + text.count("[") + text.count("{")
    if marks >= max_values:
        at = _json_token_at(text, source, r"[\[{,:]", max_values)
        if at is not None:
            raise too_many_values(at, max_values)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise ConvcostError(
            f"not valid JSON: {error.msg}; a .json config is read as JSON only "
            "(a YAML config is named .yaml)",
            Location(source, error.lineno, error.colno),
        ) from None
    except _NotJson as error:
        raise ConvcostError(
            f"{error.args[0]} is not JSON (JSON numbers are finite); write a number",
            _json_token_at(text, source, "-?Infinity|NaN") or Location(source, 1, 1),
        ) from None
    except (ValueError, RecursionError):  # a key twice, or nesting too deep for the json module
        # The YAML reader says which, and where.
        return parse_config(text, source, defaults, max_layers)
    collections = COLLECTIONS_PER_ROW * max_layers
    # Every list and mapping opens with a bracket: when the text has fewer, none is counted.
    counted = text.count("[") + text.count("{") > collections
    try:
        root = _ynode(document, Location(source, 1, 1), collections if counted else None)
    except _TooMany:
        at = _json_token_at(text, source, r"[\[{]", collections + 1)
        raise too_many_collections(at, collections) from None
    fault: ConvcostError | RecursionError
    try:
        return _network(root, source, defaults, max_layers)
    except (ConvcostError, RecursionError) as caught:
        fault = caught.with_traceback(None)
    # The decoded JSON (and, with the traceback dropped, what its frames held) goes before the
    # YAML reader reads the text again: both at once would double the peak.
    del document, root
    located = parse_config(text, source, defaults, max_layers)  # raises the located error
    if isinstance(fault, ConvcostError):
        raise fault from None
    return located


class _TooMany(Exception):
    """More lists and mappings than the bound (located by ``_json_token_at``)."""


def _json_token_at(text: str, source: str, token: str, n: int = 1) -> Location | None:
    """Where the n-th match of the pattern ``token`` outside strings is in a JSON text
    (strings are all that can hide one in JSON; the json module does not say where); None
    when there are fewer."""
    import re

    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|(' + token + ")", text):
        if match.group(1):
            n -= 1
            if n == 0:
                at = match.start()
                return Location(source, text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at))
    return None


class _NotJson(Exception):
    """NaN or Infinity, which Python's json module takes although JSON has neither."""


def _constant(name: str) -> object:
    raise _NotJson(name)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise ValueError("a key appears twice")  # the YAML reader will say which, and where
    return mapping


def _ynode(document: object, at: Location, max_collections: int | None = None) -> YNode:
    """YNodes for decoded JSON, all placed at the start of the file (see above). The json
    module makes only dicts, lists, str, int, float, bool and None: dispatch on the exact
    type, and make each YNode with make_ynode (one per value: 100,000-layer configs).
    More than ``max_collections`` lists and mappings raise _TooMany (None: not counted)."""
    left = max_collections

    def convert(value: Any) -> YNode:
        nonlocal left
        kind = type(value)
        if left is not None and (kind is dict or kind is list):
            left -= 1
            if left < 0:
                raise _TooMany
        if kind is dict:
            values = {key: convert(item) for key, item in value.items()}
            return make_ynode(values, at, dict.fromkeys(values, at), False)
        if kind is list:
            return make_ynode([convert(item) for item in value], at, NO_KEYS, False)
        return make_ynode(value, at, NO_KEYS, kind is str)

    return convert(document)


def _network(
    root: YNode, source: str, defaults: Mapping[str, object] | None, max_layers: int
) -> Network:
    if not isinstance(root.value, dict):
        raise ConvcostError(
            f"a config is a mapping with input: and layers:, not {describe(root.value)}",
            root.at,
        )
    mapping: dict[str, YNode] = root.value
    faults = Faults()  # independent faults are all reported at once
    for key in mapping:
        if key not in TOP_LEVEL:
            faults.add(ConvcostError(_unknown(key, TOP_LEVEL, "a config"), root.key_at[key]))
    for required, example in (("input", "input: 28x28x192"), ("layers", "layers: [...]")):
        if required not in mapping:
            faults.add(
                ConvcostError(f"the config has no '{required}:'; write e.g. {example}", root.at)
            )

    def attempt(part: Callable[[], T]) -> T | None:
        try:
            return part()
        except ConvcostError as error:
            faults.add(error)
            return None

    input_shape = attempt(lambda: _input_shape(mapping["input"])) if "input" in mapping else None
    blocks = attempt(lambda: parse_blocks(mapping["blocks"])) if "blocks" in mapping else {}
    separator = attempt(lambda: _separator(mapping.get("separator")))
    budget = attempt(lambda: _budget(mapping.get("budget")))
    by_kind = attempt(lambda: _kind_defaults(mapping.get("defaults")))
    elements = None
    if "layers" in mapping and by_kind is not None:
        common = defaults or {}
        builder = Builder(common, source, blocks or {}, max_layers,
                          defaults_by_name(by_kind, common))  # fmt: skip
        elements = attempt(lambda: builder.network(mapping["layers"]))
    faults.check()
    assert input_shape is not None and elements is not None and separator is not None
    name = mapping["name"].value if "name" in mapping else ""
    try:
        bounded_name(str(name))
    except ConvcostError as error:
        raise error.located(mapping["name"].at) from None
    description = mapping["description"].value if "description" in mapping else ""
    warning = _channels_first(mapping["input"], input_shape)
    return Network.of(input_shape, elements, str(name), separator, str(description),
                      budget or (), (warning,) if warning else ())  # fmt: skip


def _channels_first(node: YNode, shape: Shape) -> str | None:
    """The warning for an input that looks like PyTorch's C×H×W, with where it is written;
    none for {h:, w:, c:}, which says which is which."""
    if isinstance(node.value, dict):
        return None
    written = "x".join(map(str, shape.as_list()))
    warning = channels_first_warning(
        shape, written, f" (or input: {{h: {shape.h}, w: {shape.w}, c: {shape.c}}} to keep it)"
    )
    return None if warning is None else f"{node.at}: {warning}"


def _kind_defaults(node: YNode | None) -> dict[str, dict[str, object]]:
    """``defaults: {conv: {padding: 0}, maxpool: {ceil_mode: true}}``: the settings each
    layer of a kind takes where it does not give them, by ``defaults_key``. Every kind,
    key and value is checked here, where it is written."""
    if node is None or node.value is None:
        return {}
    if not isinstance(node.value, dict):
        raise ConvcostError(
            "defaults: maps layer kinds to their settings, e.g. defaults: {conv: {padding: 0}}",
            node.at,
        )
    from convcost.core.kinds import build_layer, recipe

    found: dict[str, dict[str, object]] = {}
    faults = Faults()
    for kind, settings in node.value.items():
        try:
            key = defaults_key(kind)
        except ConvcostError as error:
            faults.add(ConvcostError(f"defaults: {error.message}", node.key_at[kind]))
            continue
        if key in found:
            faults.add(ConvcostError(
                f"defaults: '{kind}' is the kind '{key}', whose defaults are given already; "
                "give them once", node.key_at[kind]))  # fmt: skip
            continue
        if not isinstance(settings.value, dict):
            faults.add(ConvcostError(
                f"defaults: {kind}: must map its settings to values, e.g. {{padding: 0}}",
                settings.at))  # fmt: skip
            continue
        parsers = recipe(kind).parsers
        values: dict[str, object] = {}
        for field, value in settings.value.items():
            try:
                plain = value.plain()
                if field not in parsers:  # build_layer words it, as for a layer
                    build_layer(kind, {field: plain})
                parsers[field](plain)
            except ConvcostError as error:
                at = value.at if field in parsers else settings.key_at[field]
                message = error.message
                if field in parsers:
                    message = f"{recipe(kind).cls.kind} {field}: {message}"
                faults.add(ConvcostError(f"defaults: {message}", at))
                continue
            values[field] = plain
        found[key] = values
    faults.check()
    return found


def _budget(node: YNode | None) -> tuple[Limit, ...]:
    """``budget: {macs: 1.6G, params: 7M, activations: 12M, memory: 100MB}``."""
    if node is None:
        return ()
    keys = tuple(m.budget_name for m in budgetable())
    key_of = {m.budget_name: m.key for m in budgetable()}
    if not isinstance(node.value, dict):
        raise ConvcostError(
            f"budget: maps {', '.join(keys[:-1])} or {keys[-1]} to a limit such as 1.6G", node.at
        )
    limits = []
    for metric, value in node.value.items():
        if metric not in keys:
            raise ConvcostError(_unknown(metric, keys, "budget"), node.key_at[metric])
        try:
            key = key_of[metric]
            limits.append(Limit(key, parse_quantity(value.plain(), key), node.key_at[metric]))
        except ConvcostError as error:
            raise ConvcostError(f"budget {error.message}", value.at) from None
    return tuple(limits)


def _input_shape(node: YNode) -> Shape:
    try:
        return shape_from_value(node.plain())
    except ConvcostError as error:
        raise error.located(node.at) from None


def _separator(node: YNode | None) -> str:
    if node is None:
        return "/"
    if node.value not in SEPARATORS:
        raise ConvcostError(
            f"separator: one of {' '.join(SEPARATORS)} (what joins hierarchical layer names)",
            node.at,
        )
    return str(node.value)


def _unknown(key: str, known: tuple[str, ...], where: str) -> str:
    return f"{where} has no key '{key}'; {did_you_mean(key, known)}known keys: {', '.join(known)}"
