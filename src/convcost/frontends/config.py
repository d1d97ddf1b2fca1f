"""Layer-stack config files (YAML) with line:column for every error.

Schema (version 1)::

    name: inception-5x5-branch        # optional
    input: 28x28x192                  # or [28, 28, 192] or {h: 28, w: 28, c: 192}
    layers:
      - conv: {kernel: 1x1, filters: 16}   # kind as the only key, settings as its value
      - type: relu                          # or a mapping with type: and the settings
      - conv 5x5 32 relu                    # or an inline-spec layer string
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from convcost.errors import ConvcostError, Location
from convcost.frontends.common import located_layer
from convcost.frontends.inline import parse_layers
from convcost.layers import Layer, layer_fields, lookup
from convcost.network import Network, name_nodes
from convcost.shapes import shape_from_value

TOP_LEVEL = ("name", "description", "input", "layers")
MAX_NODES = 10_000_000  # distinct YAML nodes; aliases are decoded once and shared
MAX_PLAIN = 100_000  # values in one setting: an aliased "billion laughs" would expand past it


@dataclass
class YNode:
    """A decoded YAML value with where it was written; mappings keep their keys' places."""

    value: Any
    at: Location
    key_at: dict[str, Location] = field(default_factory=dict)
    quoted: bool = False

    def plain(self, budget: list[int] | None = None) -> Any:
        """The value as plain Python; refuses to expand an alias bomb past MAX_PLAIN values."""
        budget = [MAX_PLAIN] if budget is None else budget
        budget[0] -= 1
        if budget[0] < 0:
            raise ConvcostError(
                "this value expands to too many items (an alias bomb?); write it out", self.at
            )
        if isinstance(self.value, dict):
            return {k: v.plain(budget) for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain(budget) for v in self.value]
        return self.value


def read_source(path: str) -> tuple[str, str]:
    """The text of a config file (or ``-``: standard input) and the name to report."""
    if path == "-":
        data = sys.stdin.buffer.read()
        source = "<stdin>"
    else:
        source = path
        file = Path(path)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise ConvcostError(
                f"{path}: no such file; give a YAML config, '-' for standard input, "
                "or an inline spec such as '28x28x192 | conv 5x5 32'"
            ) from None
        except IsADirectoryError:
            raise ConvcostError(f"{path}: is a directory; give a YAML config file") from None
        except OSError as error:
            raise ConvcostError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return data.decode("utf-8"), source
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ConvcostError(
            f"byte 0x{data[error.start]:02x} is not UTF-8 text; save the config as UTF-8",
            Location(source, line, column),
        ) from None


def load_config(path: str, defaults: Mapping[str, object] | None = None) -> Network:
    text, source = read_source(path)
    return parse_config(text, source, defaults)


def parse_config(text: str, source: str, defaults: Mapping[str, object] | None = None) -> Network:
    root = _compose(text, source)
    if not isinstance(root.value, dict):
        raise ConvcostError(
            f"a config is a mapping with input: and layers:, not {_what(root.value)}",
            root.at,
        )
    mapping: dict[str, YNode] = root.value
    for key in mapping:
        if key not in TOP_LEVEL:
            raise ConvcostError(_unknown(key, TOP_LEVEL, "a config"), root.key_at[key])
    for required in ("input", "layers"):
        if required not in mapping:
            raise ConvcostError(
                f"the config has no '{required}:'; "
                + (
                    "write e.g. input: 28x28x192"
                    if required == "input"
                    else "write layers: followed by a list of layers"
                ),
                root.at,
            )
    try:
        input_shape = shape_from_value(mapping["input"].plain())
    except ConvcostError as error:
        raise error.located(mapping["input"].at) from None
    layers_node = mapping["layers"]
    if not isinstance(layers_node.value, list) or not layers_node.value:
        raise ConvcostError(
            "layers: must be a non-empty list of layers (each line '- conv 5x5 32' or "
            "'- conv: {kernel: 5x5, filters: 32}')",
            layers_node.at,
        )
    layers: list[tuple[str | None, Layer, Location | None]] = []
    for item in layers_node.value:
        layers.extend(_layers(item, defaults or {}, source))
    return Network(input_shape, name_nodes(layers))


def _layers(
    item: YNode, defaults: Mapping[str, object], source: str
) -> list[tuple[str | None, Layer, Location | None]]:
    if isinstance(item.value, str):
        # A layer in the inline grammar; a quoted string starts one column further in.
        quoted = text_offset(item)
        return parse_layers(item.value, defaults, source, item.at.line, item.at.column + quoted)
    if not isinstance(item.value, dict) or not item.value:
        raise ConvcostError(
            f"a layer is a mapping or a string such as 'conv 5x5 32', not {_what(item.value)}",
            item.at,
        )
    settings: dict[str, YNode] = dict(item.value)
    key_at = dict(item.key_at)
    if "type" in settings:
        kind_node = settings.pop("type")
        if not isinstance(kind_node.value, str):
            raise ConvcostError("type: must be a layer kind such as conv", kind_node.at)
        kind, kind_at = kind_node.value, kind_node.at
    elif len(settings) == 1 or (len(settings) == 2 and "name" in settings):
        kind = next(k for k in settings if k != "name")
        kind_at = key_at[kind]
        body = settings.pop(kind)
        if isinstance(body.value, dict):
            settings.update(body.value)
            key_at.update(body.key_at)
        elif body.value is not None:
            raise ConvcostError(
                f"the settings of '{kind}' must be a mapping such as {{kernel: 5x5, filters: 32}}",
                body.at,
            )
    else:
        raise ConvcostError(
            "this layer has no 'type:'; write type: conv (or make the kind the only key: "
            "'- conv: {kernel: 5x5, filters: 32}')",
            item.at,
        )
    try:
        cls, preset = lookup(kind)
    except ConvcostError as error:
        raise error.located(kind_at) from None
    declared = {f.name for f in layer_fields(cls)} - set(preset)
    name: str | None = None
    if "name" in settings:
        name_node = settings.pop("name")
        if not isinstance(name_node.value, str | int) or isinstance(name_node.value, bool):
            raise ConvcostError("name: must be a string", name_node.at)
        name = str(name_node.value)
    raw: dict[str, object] = {}
    for key, node in settings.items():
        try:
            raw[key] = node.plain()
        except ConvcostError as error:
            raise ConvcostError(f"{key}: {error.message}", node.at) from None

    def locate(field_name: str | None) -> Location:
        # An unknown key is shown at the key, a bad value at the value.
        if field_name in settings:
            return settings[field_name].at if field_name in declared else key_at[field_name]
        return kind_at

    layer = located_layer(kind, raw, defaults, locate)
    return [(name, layer, kind_at)]


def _compose(text: str, source: str) -> YNode:
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ConvcostError(
            f"YAML syntax: {problem}",
            Location(source, mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except yaml.YAMLError as error:
        raise ConvcostError(f"YAML syntax: {error}", Location(source, 1, 1)) from None
    except RecursionError:
        raise ConvcostError(
            "the YAML document is nested too deeply", Location(source, 1, 1)
        ) from None
    finally:
        loader.dispose()
    if node is None:
        raise ConvcostError("the config is empty; write input: and layers:", Location(source, 1, 1))
    return _decode(node, source, yaml.constructor.SafeConstructor(), {}, 0)


def _decode(
    node: yaml.Node, source: str, constructor: Any, seen: dict[int, YNode], depth: int
) -> YNode:
    """YAML nodes as YNodes; an aliased node is decoded once and shared, never expanded."""
    if id(node) in seen:
        return seen[id(node)]
    result = _decode_new(node, source, constructor, seen, depth)
    seen[id(node)] = result
    return result


def _decode_new(
    node: yaml.Node, source: str, constructor: Any, seen: dict[int, YNode], depth: int
) -> YNode:
    if len(seen) > MAX_NODES or depth > 200:
        raise ConvcostError(
            "the YAML document expands to too many values (an alias bomb?) or nests too "
            "deeply; write the layers out",
            _at(node, source),
        )
    at = _at(node, source)
    if isinstance(node, yaml.MappingNode):
        values: dict[str, YNode] = {}
        key_at: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key = (
                constructor.construct_object(key_node)
                if isinstance(key_node, yaml.ScalarNode)
                else None
            )
            if not isinstance(key, str):
                raise ConvcostError(
                    "keys must be plain words such as filters", _at(key_node, source)
                )
            if key in values:
                raise ConvcostError(f"key '{key}' appears twice", _at(key_node, source))
            values[key] = _decode(value_node, source, constructor, seen, depth + 1)
            key_at[key] = _at(key_node, source)
        return YNode(values, at, key_at)
    if isinstance(node, yaml.SequenceNode):
        return YNode([_decode(v, source, constructor, seen, depth + 1) for v in node.value], at)
    try:
        return YNode(
            constructor.construct_object(node),
            at,
            quoted=getattr(node, "style", None) in ("'", '"'),
        )
    except yaml.YAMLError as error:
        raise ConvcostError(f"bad value: {error}", at) from None


def text_offset(item: YNode) -> int:
    return 1 if item.quoted else 0


def _at(node: yaml.Node, source: str) -> Location:
    return Location(source, node.start_mark.line + 1, node.start_mark.column + 1)


def _what(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"the scalar {value!r}"


def _unknown(key: str, known: tuple[str, ...], where: str) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{where} has no key '{key}'; {hint}known keys: {', '.join(known)}"
