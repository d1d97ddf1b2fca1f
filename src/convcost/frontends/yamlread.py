"""Reading YAML text into YNodes: a fast reader and a careful one (see ``compose``)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from convcost.core.errors import ConvcostError, Location, make_location
from convcost.core.limits import COLLECTIONS_PER_ROW, MAX_LAYERS
from convcost.frontends.yamlnode import (
    NO_KEYS,
    YNode,
    make_ynode,
    too_many_collections,
    too_many_values,
    values_for,
)

MAX_DEPTH = 200  # nesting of YAML collections
MAX_COLLECTIONS = COLLECTIONS_PER_ROW * MAX_LAYERS  # lists and mappings (see limits)
_QUOTES = ("'", '"')

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def compose(text: str, source: str, max_collections: int = MAX_COLLECTIONS) -> YNode:
    """The one YAML document in ``text`` as YNodes.

    Two readers give the same YNodes. The fast one lets libyaml compose the node tree in C;
    its recursion could overflow the C stack on deep nesting (and the tree it makes takes
    twice the memory of the events), so it runs only when the text provably nests shallowly
    (``_shallow``); it refuses nesting past MAX_DEPTH as the careful one does, and hands
    anything else unusual (a fault, a tag, a recursive alias) to the careful one. The
    careful one reads the parser's event stream (libyaml keeps its own stack), so deep
    nesting is refused with a message, not a crash; it words every error. Both decode each
    alias once and share it (an alias bomb stays small) and refuse tags other than YAML's
    own, so no Python object is ever built.
    """
    # Every value takes at least a character, so a text no longer than the bound on values
    # cannot pass it: the fast reader may compose it whole first. Longer texts are read by
    # the careful one, which counts as it reads.
    max_values = values_for(max_collections)
    if _FastLoader is not None and len(text) <= max_values and _shallow(text):
        try:
            return _compose_nodes(text, source, max_collections)
        except _Unusual:
            pass  # the careful reader says what is wrong, and where
    return compose_events(text, source, max_collections)


def compose_events(text: str, source: str, max_collections: int = MAX_COLLECTIONS) -> YNode:
    """The careful reader alone (see ``compose``)."""
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    place = _Places(text, source)
    try:
        return _compose(loader, text, place, max_collections)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise ConvcostError(f"YAML syntax: {problem}", place(mark) if mark else None) from None
    except yaml.YAMLError as error:
        raise ConvcostError(f"YAML syntax: {error}", Location(source, 1, 1)) from None
    finally:
        loader.dispose()


def _too_deep(at: Location) -> ConvcostError:
    return ConvcostError(
        f"the YAML document nests more than {MAX_DEPTH} levels deep; flatten it (blocks: "
        "name a repeated structure once)",
        at,
    )


# What can open or close a flow collection in text libyaml has looked ahead through:
# quoted scalars and comments hide brackets; flow plain scalars cannot hold them.
_FLOW_TOKEN = re.compile(
    r"""[\[\]{}]|"(?:\\.|[^"\\])*"?|'(?:''|[^'])*'?|(?:^|(?<=\s))#[^\n]*""", re.MULTILINE
)


def _refuse_deep(text: str, source: str, depth: int, start: int, fault: Any) -> None:
    """Raise the nesting error if the text nests past MAX_DEPTH before libyaml's ``fault``.

    libyaml looks ahead of the events it has given (within a line, at most 1,024
    characters, to find simple keys) and refuses nesting past its own limit there, in
    words that vary by release. Where the text between the last event (``start``, at
    ``depth`` open collections) and the fault opens more than MAX_DEPTH, that is reported
    here, at the collection that went too deep, as the event reader would have."""
    end = fault.index if fault is not None else len(text)
    for token in _FLOW_TOKEN.finditer(text, start, end + 1):
        char = token.group()
        if char in "[{":
            if depth >= MAX_DEPTH:
                at = token.start()
                line_start = text.rfind("\n", 0, at) + 1
                raise _too_deep(Location(source, text.count("\n", 0, at) + 1, at - line_start + 1))
            depth += 1
        elif char in "]}":
            depth -= 1


# YAML 1.1 (libyaml, PyYAML) also ends lines at NEL, LS and PS, which editors show inside a
# line: where a text has any, places are counted again (only \r\n, \r and \n end a line).
_ODD_BREAKS = ("\x85", "\u2028", "\u2029")
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _odd_breaks(text: str) -> bool:
    return any(odd in text for odd in _ODD_BREAKS)


class _Places:
    """A mark's place as editors show it: for each of YAML's lines, the editor's line it is
    on and how many characters of that line come before it."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: list[tuple[int, int]] | None = None
        if _odd_breaks(text):
            line, start = 0, 1 if text.startswith("\ufeff") else 0  # a BOM takes no column
            self.lines = [(0, 0)]
            for found in _YAML_BREAK.finditer(text):
                if found.group() in _ODD_BREAKS:
                    self.lines.append((line, found.end() - start))
                else:
                    line, start = line + 1, found.end()
                    self.lines.append((line, 0))

    def __call__(self, mark: Any) -> Location:
        if self.lines is None:
            return Location(self.source, mark.line + 1, mark.column + 1)
        line, before = self.lines[mark.line]
        return Location(self.source, line + 1, before + mark.column + 1)


# --- the fast reader: libyaml composes, Python converts ---------------------------------------

# Nesting bound for the fast reader. A block collection nested in another starts further
# right, except a sequence that is a mapping's value, so block depth < 2 × (the column where
# a line's content starts, after indentation and "- "/"? "/": " indicators) + 2; flow
# collections add their own depth. Lines starting past column 64 and flow nesting past 32
# go to the careful reader, so the fast one never recurses deeper than ~165 < MAX_DEPTH.
_DEEP_LINE = re.compile(r"^[ \t?:-]{64}", re.MULTILINE)
_INNER_FLOW = re.compile(r"\[[^\[\]{}]*\]|\{[^\[\]{}]*\}")
_MAX_FLOW = 32


def _shallow(text: str) -> bool:
    if _DEEP_LINE.search(text):
        return False
    for _ in range(_MAX_FLOW):
        if "[" not in text and "{" not in text:
            return True
        text, removed = _INNER_FLOW.subn("", text)  # one level of flow nesting per pass
        if not removed:
            return False  # brackets in quotes or comments: the careful reader decides
    return False


class _Unusual(Exception):
    """Something the fast reader leaves to the careful one (which words the error)."""


_STR, _INT, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_BOOL, _NULL = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers


_MISREAD = "convcost:misread"  # a plain number YAML 1.1 reads otherwise than people do
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_PAIR_OR_HEX = re.compile(r"0x[0-9_]+")  # hexadecimal to YAML 1.1; to people, HxW (0x3)


def _resolve_plain(value: str) -> str:
    """The tag YAML 1.1 gives a plain scalar: PyYAML's own implicit resolvers, in order; or
    _MISREAD for a number YAML 1.1 reads otherwise than people do (``misread``). Both
    readers resolve plain scalars here: the fast one hands _MISREAD to the careful one, which
    refuses it with ``misread``'s message."""
    for tag, regexp in _IMPLICIT.get(value[:1], []) + _IMPLICIT.get(None, []):
        if regexp.match(value):
            if tag in (_INT, _FLOAT) and misread(value) is not None:
                return _MISREAD
            return str(tag)
    return _STR


def misread(value: str) -> str | None:
    """Why YAML 1.1 reads this plain number otherwise than a person would, or None.

    ``017`` is octal (15) and ``1:20`` base 60 (80) in YAML 1.1: a size or a budget silently
    off by that much is worse than a refusal. So is ``0x3``, hexadecimal 3 to YAML and the
    padding pair 0x3 (HxW, as kernels are written) to a person. ``0x1F``, ``0b101``,
    ``1_000`` and ``+5`` read as they look, and ``00`` is 0 either way: those are kept.
    """
    if _PAIR_OR_HEX.fullmatch(value):
        pair = value[2:].replace("_", "")
        return (
            f"{value}: YAML 1.1 reads it as a hexadecimal number ({_yaml_number(value)}), not "
            f"as 0 by {pair}; write [0, {int(pair)}] (or '{value}' in quotes) for a pair"
        )
    if ":" in value:  # only the base-60 forms of int and float have colons
        reading = _yaml_number(value)
        return (
            f"{value}: YAML 1.1 reads numbers with colons in base 60 ({reading}), not as the "
            f"text {value}; write {reading}, or '{value}' in quotes for text"
        )
    if len(value) <= 20 and _OCTAL.fullmatch(value):  # longer: refused as too large
        octal, decimal = _yaml_number(value), int(value.replace("_", ""))
        if octal != decimal:
            return (
                f"{value}: a leading zero makes it octal in YAML 1.1 ({octal}), not "
                f"{decimal}; write {decimal} (or '{value}' in quotes for text)"
            )
    return None


def _yaml_number(value: str) -> object:
    """What PyYAML's safe constructor makes of a plain int or float scalar."""
    tag = _FLOAT if "." in value else _INT
    return yaml.constructor.SafeConstructor().construct_object(yaml.ScalarNode(tag, value))


def _fast_loader() -> Any:
    if not getattr(yaml, "__with_libyaml__", False):
        return None  # PyYAML built without libyaml: the careful reader only
    from yaml._yaml import CParser

    class FastLoader(CParser):
        """libyaml's parser and composer, with the resolver calls it makes per node cut to a
        lookup (plain scalars repeat: keys, kinds): the work CSafeLoader does in Python."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.tags: dict[str, str] = {}

        def resolve(self, kind: Any, value: str | None, implicit: tuple[bool, bool]) -> str:
            if kind is yaml.ScalarNode:
                if not implicit[0]:
                    return _STR
                assert value is not None
                tag = self.tags.get(value)
                if tag is None:
                    tag = self.tags[value] = _resolve_plain(value)
                return tag
            return _SEQ if kind is yaml.SequenceNode else _MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass  # path resolvers: none are used

        def ascend_resolver(self) -> None:
            pass

    return FastLoader


_FastLoader: Any = _fast_loader()
_KINDS: dict[str, Any] = {_MAP: yaml.MappingNode, _SEQ: yaml.SequenceNode}  # a tag's node


def _compose_nodes(text: str, source: str, max_collections: int = MAX_COLLECTIONS) -> YNode:
    if _odd_breaks(text):
        raise _Unusual  # its places need counting again (_Places): the careful reader's job
    loader = _FastLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError:
        raise _Unusual from None
    finally:
        loader.dispose()
    if root is None:
        raise _Unusual  # empty
    done: dict[int, YNode | None] = {}  # collections converted (aliases share them)
    constructor = yaml.constructor.SafeConstructor()

    def convert(node: Any, depth: int) -> YNode:
        mark = node.start_mark
        at = make_location(source, mark.line + 1, mark.column + 1, None, 1)
        tag = node.tag
        if type(node) is not _KINDS.get(tag, yaml.ScalarNode):
            raise _Unusual  # a collection tagged as a scalar, or the reverse: refused in words
        if tag == _STR:
            return make_ynode(node.value, at, NO_KEYS, node.style in _QUOTES)
        if tag in (_MAP, _SEQ):
            if id(node) in done:
                seen = done[id(node)]
                if seen is None:
                    raise _Unusual  # a recursive alias
                return seen
            if depth >= MAX_DEPTH:  # refused where and as the careful reader does
                raise _too_deep(at)
            if len(done) >= max_collections:  # likewise: done holds every one so far
                raise too_many_collections(at, max_collections)
            done[id(node)] = None
            inner = depth + 1
            if tag == _SEQ:
                items = [convert(item, inner) for item in node.value]
                converted = make_ynode(items, at, NO_KEYS, False)
            else:
                values: dict[str, YNode] = {}
                key_at: dict[str, Location] = {}
                for key_node, value_node in node.value:
                    key = key_node.value
                    if key_node.tag != _STR or key in values:
                        raise _Unusual  # not a word, or twice
                    values[key] = convert(value_node, inner)
                    mark = key_node.start_mark
                    key_at[key] = make_location(source, mark.line + 1, mark.column + 1, None, 1)
                converted = make_ynode(values, at, key_at, False)
            # Let the converted children go (an alias still holds what it shares), so the
            # composed tree shrinks as the YNodes grow. No node is made from here on, so no
            # live node can take the id of a freed one.
            node.value = None
            done[id(node)] = converted
            return converted
        value = node.value
        if tag == _INT and value.isdecimal() and value.isascii() and value[0] != "0":
            decoded = int(value) if len(value) < 20 else _decoded(constructor, node)
        elif tag == _BOOL:
            decoded = _BOOLS[value.lower()]
        elif tag == _NULL:
            decoded = None
        elif tag in (_INT, _FLOAT):
            decoded = _decoded(constructor, node)
        else:
            raise _Unusual  # another tag: the careful reader refuses it in words
        return make_ynode(decoded, at, NO_KEYS, False)

    return convert(root, 0)


def _decoded(constructor: Any, node: Any) -> object:
    try:
        return constructor.construct_object(node)
    except (yaml.YAMLError, ValueError):
        raise _Unusual from None


# --- the careful reader: the parser's events --------------------------------------------------


def _compose(loader: Any, text: str, place: _Places, max_collections: int) -> YNode:
    source = place.source

    def at(event: Any) -> Location:
        return place(event.start_mark)

    loader.get_event()  # stream start
    if loader.check_event(yaml.StreamEndEvent):
        raise ConvcostError("the config is empty; write input: and layers:", Location(source, 1, 1))
    loader.get_event()  # document start
    constructor = yaml.constructor.SafeConstructor()
    anchors: dict[str, YNode] = {}
    # The collections being read, outermost first; by depth, the anchors they will take and,
    # for mappings, the key waiting for its value (both rare: kept apart from the stack).
    stack: list[YNode] = []
    opened_anchors: dict[int, str] = {}
    keys: dict[int, tuple[str, Location]] = {}
    root: YNode | None = None
    count = collections = 0
    max_values = values_for(max_collections)
    resolved: dict[str, str] = {}  # plain scalars' tags (the resolvers are regular expressions)
    last = 0  # where the last event ended
    # One event per value, up to a million in a megabyte: records are made by their
    # makers (core/records.py) and events told apart by their exact type.
    get_event, odd = loader.get_event, place.lines is not None
    while root is None:
        try:
            event = get_event()
        except yaml.MarkedYAMLError as error:
            _refuse_deep(text, source, len(stack), last, error.problem_mark)
            raise
        mark = event.start_mark
        last = event.end_mark.index
        count += 1
        if count > max_values:
            raise too_many_values(at(event), max_values)
        here = place(mark) if odd else make_location(source, mark.line + 1, mark.column + 1,
                                                      None, 1)  # fmt: skip
        kind = type(event)
        if kind is _SEQUENCE_START or kind is _MAPPING_START:
            tag = _MAP if kind is _MAPPING_START else _SEQ
            if event.tag not in (None, "!", tag):
                raise ConvcostError(_tag_message(event.tag), here)
            if len(stack) >= MAX_DEPTH:
                raise _too_deep(here)
            collections += 1
            if collections > max_collections:
                raise too_many_collections(here, max_collections)
            if event.anchor is not None:
                opened_anchors[len(stack)] = event.anchor
            if tag is _MAP:
                stack.append(make_ynode({}, here, {}, False))
            else:
                stack.append(make_ynode([], here, NO_KEYS, False))
            continue
        if kind is _SEQUENCE_END or kind is _MAPPING_END:
            node = stack.pop()
            if opened_anchors:
                anchor = opened_anchors.pop(len(stack), None)
                if anchor is not None:
                    anchors[anchor] = node
        elif kind is _ALIAS:
            if event.anchor not in anchors:
                raise ConvcostError(
                    f"alias *{event.anchor} names no anchor before it (or the collection it "
                    "is in: recursive aliases are refused)",
                    here,
                )
            node = anchors[event.anchor]
        else:  # a scalar: resolved and built as YAML 1.1 says, by PyYAML's safe constructor
            tag, value = event.tag, event.value
            if tag is None or tag == "!":
                if not event.implicit[0]:
                    tag = _STR
                elif value.isdecimal() and value.isascii() and value[0] != "0":
                    tag = _INT  # what the resolvers say of a plain decimal, without them
                else:
                    known = resolved.get(value)
                    if known is None:
                        known = _resolve_plain(value)
                        if len(resolved) < 10_000:  # words recur (relu, same); a few kinds
                            resolved[value] = known
                    tag = known
                if tag == _MISREAD:
                    raise ConvcostError(str(misread(value)), here)
            elif tag not in _SCALAR_TAGS and tag != _MERGE:
                raise ConvcostError(_tag_message(tag), here)
            if tag == _STR:
                decoded = value  # what the constructor gives a string, without it
            elif tag == _INT and value.isdecimal() and value.isascii() and value[0] != "0":
                decoded = _decimal(value, here)
            else:
                decoded = _scalar(constructor, tag, event, here)
            node = make_ynode(decoded, here, NO_KEYS, event.style in _QUOTES)
            if event.anchor is not None:
                anchors[event.anchor] = node
        if not stack:
            root = node
        else:
            container = stack[-1]
            if type(container.value) is list:
                container.value.append(node)
            else:
                _put(container, node, keys, len(stack))
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
_MERGE = "tag:yaml.org,2002:merge"
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_ALIAS = yaml.AliasEvent


def _decimal(value: str, here: Location) -> int:
    if len(value) > 4300:  # Python refuses to read longer integers
        raise ConvcostError(
            f"a number of {len(value)} characters is too large; sizes above 2**40 are refused",
            here,
        )
    return int(value)


def _scalar(constructor: Any, tag: str, event: Any, here: Location) -> object:
    """A scalar of another tag, decoded by PyYAML's safe constructor."""
    if tag == _MERGE:  # << (the fast reader leaves it here, as every unusual tag)
        raise ConvcostError(
            "YAML merge keys (<<) are not supported; write the settings out in full "
            "(a block under blocks: can hold what repeats)",
            here,
        )
    scalar = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return constructor.construct_object(scalar)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error)
        raise ConvcostError(f"bad value: {problem}", here) from None
    except ValueError:  # Python refuses to read integers of over 4,300 digits
        raise ConvcostError(
            f"a number of {len(event.value)} characters is too large; "
            "sizes above 2**40 are refused",
            here,
        ) from None


def _tag_message(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"YAML tag {shown} is not allowed: a config is plain data (numbers, words, lists)"


def _put(mapping: YNode, node: YNode, keys: dict[int, tuple[str, Location]], depth: int) -> None:
    """``node`` into the mapping being read at ``depth``: a key, or the value of the key
    before it (``keys``)."""
    waiting = keys.pop(depth, None)
    if waiting is None:
        if not isinstance(node.value, str) or isinstance(node.value, bool):
            raise ConvcostError("keys must be plain words such as filters", node.at)
        if node.value in mapping.value:
            raise ConvcostError(f"key '{node.value}' appears twice", node.at)
        keys[depth] = (node.value, node.at)
    else:
        key, key_at = waiting
        mapping.value[key] = node
        mapping.key_at[key] = key_at
