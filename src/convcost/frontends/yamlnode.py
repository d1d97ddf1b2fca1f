"""YAML decoded with the place of every value, so errors can say file:line:col."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from convcost.errors import ConvcostError, Location

MAX_NODES = 10_000_000  # distinct YAML nodes; aliases are decoded once and shared
MAX_PLAIN = 100_000  # values in one setting: an aliased "billion laughs" would expand past it
MAX_DEPTH = 200  # nesting of YAML collections


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


def compose(text: str, source: str) -> YNode:
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
    if len(seen) > MAX_NODES or depth > MAX_DEPTH:
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


def describe(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"the scalar {value!r}"
