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


_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Frame:
    """A collection being read: its YNode, and for a mapping the key waiting for a value."""

    def __init__(self, node: YNode, anchor: str | None) -> None:
        self.node, self.anchor = node, anchor
        self.key: tuple[str, Location] | None = None


def compose(text: str, source: str) -> YNode:
    """The one YAML document in ``text`` as YNodes, read from the parser's event stream.

    Reading events (libyaml's parser, which keeps its own stack) rather than composing
    nodes keeps deep nesting from overflowing the C stack, decodes each alias once and
    shares it (an alias bomb stays small), and refuses tags other than YAML's own, so no
    Python object is ever built.
    """
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        return _compose(loader, source)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ConvcostError(
            f"YAML syntax: {problem}",
            Location(source, mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except yaml.YAMLError as error:
        raise ConvcostError(f"YAML syntax: {error}", Location(source, 1, 1)) from None
    finally:
        loader.dispose()


def _compose(loader: Any, source: str) -> YNode:
    def at(event: Any) -> Location:
        return Location(source, event.start_mark.line + 1, event.start_mark.column + 1)

    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        raise ConvcostError("the config is empty; write input: and layers:", Location(source, 1, 1))
    loader.get_event()  # document start
    constructor = yaml.constructor.SafeConstructor()
    anchors: dict[str, YNode] = {}
    stack: list[_Frame] = []
    root: YNode | None = None
    count = 0
    while root is None:
        event = loader.get_event()
        count += 1
        if count > MAX_NODES:
            raise ConvcostError("the YAML document has too many values", at(event))
        if isinstance(event, yaml.CollectionStartEvent):
            kind = _MAP if isinstance(event, yaml.MappingStartEvent) else _SEQ
            if event.tag not in (None, "!", kind):
                raise ConvcostError(_tag_message(event.tag), at(event))
            if len(stack) >= MAX_DEPTH:
                raise ConvcostError(
                    f"the YAML document nests more than {MAX_DEPTH} levels deep", at(event)
                )
            value: dict[str, YNode] | list[YNode] = {} if kind == _MAP else []
            stack.append(_Frame(YNode(value, at(event)), event.anchor))
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            node = frame.node
            if frame.anchor is not None:
                anchors[frame.anchor] = node
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise ConvcostError(
                    f"alias *{event.anchor} names no anchor before it (or the collection it "
                    "is in: recursive aliases are refused)",
                    at(event),
                )
            node = anchors[event.anchor]
        else:  # a scalar: resolved and built as YAML 1.1 says, by PyYAML's safe constructor
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            elif tag not in _SCALAR_TAGS:
                raise ConvcostError(_tag_message(tag), at(event))
            scalar = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                     event.style)  # fmt: skip
            try:
                decoded = constructor.construct_object(scalar)
            except yaml.YAMLError as error:
                problem = getattr(error, "problem", None) or str(error)
                raise ConvcostError(f"bad value: {problem}", at(event)) from None
            node = YNode(decoded, at(event), quoted=event.style in ("'", '"'))
            if event.anchor is not None:
                anchors[event.anchor] = node
        if not stack:
            root = node
        else:
            _attach(stack[-1], node)
    if not loader.check_event(yaml.DocumentEndEvent):
        raise ConvcostError("unexpected YAML after the document", None)
    loader.get_event()
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.peek_event()
        raise ConvcostError(
            "a config is one YAML document, but this stream has another (after ---); "
            "put each network in its own file",
            at(event),
        )
    return root


_SCALAR_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")}


def _tag_message(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"YAML tag {shown} is not allowed: a config is plain data (numbers, words, lists)"


def _attach(frame: _Frame, node: YNode) -> None:
    container = frame.node
    if isinstance(container.value, list):
        container.value.append(node)
    elif frame.key is None:
        if not isinstance(node.value, str) or isinstance(node.value, bool):
            raise ConvcostError("keys must be plain words such as filters", node.at)
        if node.value in container.value:
            raise ConvcostError(f"key '{node.value}' appears twice", node.at)
        frame.key = (node.value, node.at)
    else:
        key, key_at = frame.key
        container.value[key] = node
        container.key_at[key] = key_at
        frame.key = None


def describe(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"the scalar {value!r}"
