"""Config layers → network elements: layers, concat branches, residuals and named blocks.

Forms of an item under ``layers:`` (and under a block's ``layers:``)::

    - conv 5x5 32 relu                      a layer (or several) in the inline grammar
    - conv: {kernel: 5x5, filters: 32}      a layer, its kind as the only key
    - {type: conv, kernel: 5x5, ...}        a layer with type:
    - concat: [BRANCH, ...]                 branches from one input, joined along channels;
      name: inception_3a                    a branch is a list of items, or {name:, layers:}
    - residual: {body: [...], shortcut: auto|identity|optional|[...]}
    - group: [...]                          a named sequence (name: beside it)
    - BLOCK: {ARG: VALUE, ..., name:, repeat: N, start: 0, first: {ARG: VALUE}}

Blocks are declared at the top level (``blocks: {NAME: {params: ..., layers: [...]}}``)
and use their parameters as ``$name`` or ``${expression}`` in any value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, TypeVar

from convcost.core.errors import ConvcostError, Faults, Location, did_you_mean, make_location
from convcost.core.fields import bounded_name, positive_int
from convcost.core.kinds import build_layer, lookup, recipe
from convcost.core.kinds.base import Layer
from convcost.core.kinds.merges import Merge
from convcost.core.limits import MAX_LAYERS
from convcost.frontends.expressions import (
    has_parameters,
    interpolate,
    name_problem,
    reads_input,
)
from convcost.frontends.inline import parse_layers, passed_limit
from convcost.frontends.pending import PendingLayer, pending_layer
from convcost.frontends.tree import SHORTCUTS, Concat, Element, Group, Node, Residual, row_count
from convcost.frontends.yamlnode import YNode, describe

STRUCTURES = ("concat", "residual", "group")
REPEAT_KEYS = ("repeat", "start", "first")
CALL_KEYS = ("name", *REPEAT_KEYS)
BLOCK_KEYS = ("params", "layers", "description")
BRANCH_KEYS = ("name", "layers")
RESIDUAL_KEYS = ("body", "shortcut", "name")
MAX_NESTING = 64  # block calls inside block calls; deeper is refused, not a stack overflow
MAX_STRUCTURE_DEPTH = 100  # structures inside structures, expanded (see Builder._nested)


@dataclass(frozen=True)
class Block:
    name: str
    params: dict[str, Any]  # parameter → default (REQUIRED when there is none)
    layers: YNode
    at: Location


REQUIRED = object()
T = TypeVar("T")
_Settings = tuple[str, tuple[tuple[str, type, object], ...]]  # a layer's kind and raw values


def parse_blocks(node: YNode) -> dict[str, Block]:
    if not isinstance(node.value, dict):
        raise ConvcostError("blocks: must map block names to {params:, layers:}", node.at)
    blocks: dict[str, Block] = {}
    for name, spec in node.value.items():
        try:
            bounded_name(name)
        except ConvcostError as error:
            raise error.located(node.key_at[name]) from None
        if name in STRUCTURES or _is_layer_kind(name):
            raise ConvcostError(
                f"block name '{name}' is taken by a layer kind; choose another", node.key_at[name]
            )
        if not isinstance(spec.value, dict):
            raise ConvcostError(
                f"block '{name}' must be a mapping with params: and layers:", spec.at
            )
        for key in spec.value:
            if key not in BLOCK_KEYS:
                raise ConvcostError(
                    _unknown(key, BLOCK_KEYS, f"block '{name}'"),
                    spec.key_at[key],
                )
        if "layers" not in spec.value:
            raise ConvcostError(f"block '{name}' has no layers:", spec.at)
        blocks[name] = Block(name, _params(spec.value.get("params"), name), spec.value["layers"],
                             spec.at)  # fmt: skip
    return blocks


def _params(node: YNode | None, block: str) -> dict[str, Any]:
    if node is None or node.value is None:
        return {}
    if isinstance(node.value, list):
        names = [item.value for item in node.value]
        defaults = dict.fromkeys(names, REQUIRED)
        written = {item.value: item.at for item in reversed(node.value)}
    elif isinstance(node.value, dict):
        defaults = {k: REQUIRED if v.value is None else v.plain() for k, v in node.value.items()}
        written = node.key_at
    else:
        raise ConvcostError(
            f"params of block '{block}' must be a list of names or a mapping name: default",
            node.at,
        )
    for name in defaults:
        problem = name_problem(name)
        if problem is None and name in CALL_KEYS:
            problem = f"is taken by the keys of every call ({', '.join(CALL_KEYS)})"
        if problem is not None:
            raise ConvcostError(
                f"block '{block}': parameter {name!r} {problem}", written.get(name, node.at)
            )
    return defaults


def _is_layer_kind(name: str) -> bool:
    try:
        lookup(name)
    except ConvcostError:
        return False
    return True


class Builder:
    """Builds elements from config items; one per config, holding its blocks and defaults.

    What is written once is built once: a list of items reached again (a YAML alias) and a
    block called again with the same arguments give the same elements, shared. So the
    elements form a graph no larger than the config, whose expanded size ``row_count``
    knows by arithmetic; past ``max_layers`` it is refused before anything walks it whole.
    """

    def __init__(
        self,
        defaults: Mapping[str, object],
        source: str,
        blocks: dict[str, Block],
        max_layers: int = MAX_LAYERS,
        by_name: Mapping[str, Mapping[str, object]] | None = None,
    ):
        """``defaults``: what every kind that has the setting takes (``--no-bias``);
        ``by_name``: a config's defaults: by the names a layer is written as (see
        ``common.defaults_by_name``), ``defaults`` included."""
        self.defaults, self.source, self.blocks = defaults, source, blocks
        self.by_name = by_name or {}
        self.max_layers = max_layers
        self._counted: dict[int, int] = {}  # row_count's memo
        self._counted_alive: list[Element] = []  # what it counted that nothing else holds
        # Elements built so far (what is shared is built once): each is in the network at
        # least once, so past max_layers the network is too; this bounds the work of any
        # config, even one whose every block call has arguments of its own.
        self._made = 0
        self._depth = 0  # structures being built inside each other (see _nested)
        # Lists of items already built, by id (the node is kept, so its id stays its own).
        self._lists: dict[int, tuple[YNode, tuple[Element, ...]]] = {}
        self._instances: dict[tuple[str, str], tuple[Element, ...]] = {}  # (block, arguments)
        # Layers are immutable values, and the same text or settings make the same layer:
        # each distinct one is parsed once per config ("- bn", "- conv 1x1 64 nobias" recur
        # through a network). Inline text → (name, layer, column offset, length) per layer;
        # (kind, settings) → layer. A fault is never stored: each occurrence is reported.
        self._inline: dict[str, list[tuple[str | None, Layer | PendingLayer, int, int]]] = {}
        self._built: dict[_Settings, Layer] = {}

    def network(self, node: YNode) -> tuple[Element, ...]:
        """The top-level ``layers:``, refused when it expands past ``max_layers``: as soon
        as the items built so far do (a megabyte of items need not all be built to know)."""
        return tuple(self._items(node, None, (), top=True))

    @contextmanager
    def _nested(self, at: Location) -> Iterator[None]:
        """One more level of groups, concats, residuals and block calls inside each other,
        as expanded (blocks can nest what each writes shallowly): refused past
        MAX_STRUCTURE_DEPTH, where every later pass would still recurse safely."""
        if self._depth >= MAX_STRUCTURE_DEPTH:
            raise ConvcostError(
                f"groups, concats, residuals and block calls nest more than "
                f"{MAX_STRUCTURE_DEPTH} deep here, once blocks are expanded; flatten the "
                "network",
                at,
                final=True,
            )
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def _count(self, element: Element) -> int:
        return row_count(element, self._counted)

    def _refuse_oversize(self, element: Element) -> None:
        """Refuse ``element`` if it expands past the limit, naming the smallest construct
        in it that does and was written somewhere (a residual's body is not: the residual)."""
        if self._count(element) <= self.max_layers:
            return
        culprit = element
        while True:
            inner = _parts(element)
            big = next((e for e in inner if self._count(e) > self.max_layers), None)
            if big is None:
                break
            element = big
            if element.location is not None:
                culprit = element
        raise ConvcostError(
            f"{_what(culprit)} expands to {self._count(culprit):,} layers and groups, more "
            f"than the limit of {self.max_layers:,}; shrink it, or raise the limit with "
            "--max-layers",
            culprit.location,
        )

    def items(
        self, node: YNode, env: Mapping[str, object] | None, stack: tuple[str, ...]
    ) -> tuple[Element, ...]:
        """The elements of a list of items; one list reached again (through a YAML alias)
        gives the very same tuple, so the groups made of it share it (see row_count)."""
        known = self._lists.get(id(node))
        if known is not None and env is None:
            return known[1]
        elements = tuple(self._items(node, env, stack))
        if env is None:
            self._lists[id(node)] = (node, elements)
        return elements

    def _items(
        self,
        node: YNode,
        env: Mapping[str, object] | None,
        stack: tuple[str, ...],
        top: bool = False,
    ) -> list[Element]:
        """The items' elements; at the ``top`` (the network's), refused past the limit as
        soon as the elements so far are."""
        if not isinstance(node.value, list) or not node.value:
            raise ConvcostError(
                "expected a non-empty list of layers (each line '- conv 5x5 32' or "
                "'- conv: {kernel: 5x5, filters: 32}')",
                node.at,
            )
        # Items are independent: report every faulty one, not just the first.
        elements: list[Element] = []
        faults = Faults()
        fault_of: dict[int, ConvcostError] = {}  # by item: see _comma_split
        rows = 0
        for item in node.value:
            try:
                made = self.item(item, env, stack)
            except ConvcostError as caught:
                index = next(i for i, other in enumerate(node.value) if other is item)
                fault, split = caught, _comma_split(node.value, index)
                if split is not None:  # one fault for the item a flow list's comma split
                    start, fault = split
                    for i in range(start, index):  # its pieces so far: said better now
                        if i in fault_of:
                            faults.discard(fault_of[i])
                fault_of[index] = fault
                faults.add(fault)
                continue
            elements.extend(made)
            self._made += len(made)
            if self._made > self.max_layers:
                faults.check()  # faults before it come first
                raise passed_limit(self.max_layers, item.at)
            if top:
                for element in made:  # a layer is one row: no call for the most common
                    rows += 1 if type(element) is Node else self._count(element)
                if rows > self.max_layers:
                    faults.check()
                    for element in made:  # one that passes the limit alone is named
                        self._refuse_oversize(element)
                    raise passed_limit(self.max_layers, item.at)
        faults.check()
        return elements

    def item(
        self, item: YNode, env: Mapping[str, object] | None, stack: tuple[str, ...]
    ) -> list[Element]:
        if env is not None:
            item = substitute(item, env)
        if isinstance(item.value, str):
            # A layer in the inline grammar; a quoted string starts one column further in.
            column = item.at.column + (1 if item.quoted else 0)
            return self._inline_layers(item.value, item.at.line, column)
        if not isinstance(item.value, dict) or not item.value:
            raise ConvcostError(
                "a layer is a mapping or a string such as 'conv 5x5 32', "
                f"not {describe(item.value)}",
                item.at,
            )
        settings: dict[str, YNode] = dict(item.value)
        key_at = dict(item.key_at)
        typed = "type" in settings
        if "from" in settings and not typed:
            raise ConvcostError(
                "from: goes with the layer's settings: {conv: {kernel: 1, filters: 8, from: a}}"
                " or {type: conv, from: a}",
                key_at["from"],
            )
        sources_node = settings.pop("from", None)
        # repeat:, start: and first: go beside any item (or in a layer's or call's settings).
        repeat_nodes: dict[str, YNode] = {}
        if "repeat" in settings or "start" in settings or "first" in settings:  # seldom
            repeat_nodes = {key: settings.pop(key) for key in REPEAT_KEYS if key in settings}
        if typed:
            kind_node = settings.pop("type")
            if not isinstance(kind_node.value, str):
                raise ConvcostError("type: must be a layer kind such as conv", kind_node.at)
            kind, kind_at, body = kind_node.value, kind_node.at, None
        else:
            keys = list(settings)
            if "name" in settings:
                keys.remove("name")
            if len(keys) != 1:
                beside = ", ".join(f"{key}:" for key in ("name", *REPEAT_KEYS))
                raise ConvcostError(
                    "this layer has no 'type:'; write type: conv (or make the kind the only "
                    "key: '- conv: {kernel: 5x5, filters: 32}'"
                    + (f", with {beside} beside it)" if repeat_nodes else ")"),
                    item.at,
                )
            kind, kind_at = keys[0], key_at[keys[0]]
            body = settings.pop(kind)
        name = _name(settings.pop("name", None))
        if (
            body is not None
            and isinstance(body.value, dict)
            and "from" in body.value
            and kind not in ("group", "residual")  # their own keys refuse it, located
        ):
            sources_node = body.value["from"]
            body = YNode({k: v for k, v in body.value.items() if k != "from"}, body.at,
                         body.key_at)  # fmt: skip
        # concat: [branches] joins branches from one input; concat with from: is the merge
        # kind, joining the layers it names.
        if kind in STRUCTURES and not (kind == "concat" and sources_node is not None):
            if sources_node is not None:
                raise ConvcostError(
                    f"from: names what a layer reads; a {kind} reads the layer before it "
                    "(put from: on its first layer)",
                    sources_node.at,
                )
            if settings:
                key = next(iter(settings))
                raise ConvcostError(
                    f"{kind} takes name:, repeat: and start: beside it, not '{key}'", key_at[key]
                )
            repeat = _repeat(repeat_nodes, key_at, f"this {kind}") if repeat_nodes else None
            if repeat is not None and repeat.first is not None:
                raise ConvcostError(
                    f"first: overrides a block's arguments (or a layer's settings) in copy 0; "
                    f"a {kind} has none to override",
                    key_at["first"],
                )
            with self._nested(kind_at):
                structure = self._structure(kind, body, None if repeat else name, kind_at, env,
                                            stack)  # fmt: skip
                if repeat is None:
                    return [structure]
                return [self._repeated(lambda _: structure, repeat, name, kind, kind_at,
                                       f"this {kind}")]  # fmt: skip
        if body is not None:
            if isinstance(body.value, dict):
                body_settings = dict(body.value)
                if "name" in body_settings:
                    name = _name(body_settings.pop("name"))
                for key in REPEAT_KEYS:
                    if key in body_settings:
                        if key in repeat_nodes:
                            raise ConvcostError(
                                f"{key}: is given twice, beside '{kind}' and in its settings; "
                                "give it once",
                                body.key_at[key],
                            )
                        repeat_nodes[key] = body_settings.pop(key)
                        key_at[key] = body.key_at[key]
                settings.update(body_settings)
                key_at.update(body.key_at)
            elif body.value is not None:
                raise ConvcostError(
                    f"the settings of '{kind}' must be a mapping such as "
                    "{kernel: 5x5, filters: 32}",
                    body.at,
                )
        if kind in self.blocks:
            if sources_node is not None:
                raise ConvcostError(
                    "from: names what a layer reads; a block call reads the layer before it "
                    "(put from: on the block's first layer)",
                    sources_node.at,
                )
            block = self.blocks[kind]
            repeat = (
                _repeat(repeat_nodes, key_at, "this call", "arguments") if repeat_nodes else None
            )
            with self._nested(kind_at):
                return [self._call(block, settings, key_at, name, kind_at, stack, repeat)]
        repeat = _repeat(repeat_nodes, key_at, "this layer") if repeat_nodes else None
        node = self._layer(kind, settings, key_at, None if repeat else name, kind_at)
        if sources_node is not None:
            names, places = _sources(sources_node)
            if len(names) > 1 and not isinstance(node.layer, Merge):
                raise ConvcostError(_ONE_SOURCE.format(kind=kind, n=len(names)), sources_node.at)
            node = node._replace(sources=names, sources_at=places)
        if repeat is None:
            return [node]
        head = node
        if repeat.first is not None:  # copy 0 with its own settings (the strided first conv)
            first_settings, first_at = _first(repeat.first, "settings")
            head = self._layer(kind, settings | first_settings, key_at | first_at, None, kind_at)
            head = head._replace(sources=node.sources, sources_at=node.sources_at)
        stem = node.layer.kind_name
        with self._nested(kind_at):
            return [self._repeated(lambda index: head if index == 0 else node, repeat, name, stem,
                                   kind_at, f"this {stem}")]  # fmt: skip

    def _repeated(
        self,
        copy: Callable[[int], Element],
        repeat: _Repeat,
        name: str | None,
        stem: str,
        at: Location,
        what: str,
    ) -> Group:
        """``repeat.copies`` copies of what ``copy(index)`` makes (index 0: the first, with
        first:'s overrides), named ``start``, ``start + 1``… as a group labelled
        ``stem×count``; refused by arithmetic, before the copies are made, when they would
        expand past the limit."""
        count, offset = repeat.copies, repeat.start
        copies = [_renamed(copy(i), str(offset + i)) for i in range(min(count, 2))]
        # Counted by id (see row_count): kept, so that no later element takes an id counted.
        self._counted_alive += copies
        if count > 1:
            # Known before the copies are made: the first, then count − 1 alike.
            total = 1 + self._count(copies[0]) + (count - 1) * self._count(copies[1])
            if total > self.max_layers:
                raise ConvcostError(
                    f"{what} repeated {count:,} times expands to {total:,} layers and groups, "
                    f"more than the limit of {self.max_layers:,}; repeat it less, or raise the "
                    "limit with --max-layers",
                    at,
                )
        copies += (_renamed(copy(i), str(offset + i)) for i in range(2, count))
        return Group(name, tuple(copies), f"{stem}×{count}", at)

    def _inline_layers(self, text: str, line: int, column: int) -> list[Element]:
        known = self._inline.get(text)
        if known is None:
            room = self.max_layers - self._made
            layers = parse_layers(
                text,
                self.defaults,
                self.source,
                line,
                column,
                room,
                self.max_layers,
                self.by_name,
            )
            assert all(at.text is None for _, _, at in layers)  # only inline specs show it
            known = [(name, layer, at.column - column, at.length) for name, layer, at in layers]
            if "$" not in text:  # a layer reading its input reports faults where it is written
                self._inline[text] = known
        source = self.source
        return [
            Node(name, layer, make_location(source, line, column + shift, None, length))
            for name, layer, shift, length in known
        ]

    def _layer(
        self,
        kind: str,
        settings: dict[str, YNode],
        key_at: dict[str, Location],
        name: str | None,
        kind_at: Location,
    ) -> Node:
        raw = {
            key: node.value if type(node.value) not in (dict, list) else _plain(key, node)
            for key, node in settings.items()
        }
        # Types in the key: 1, 1.0 and true are equal in Python, not to every parser.
        key: _Settings = (kind, tuple((k, type(v), v) for k, v in raw.items()))
        try:
            layer, remember = self._built.get(key), True
        except TypeError:  # a list value (padding: [1, 2]): built each time
            layer, remember = None, False
        if layer is not None:
            return Node(name, layer, kind_at)

        def locate(field: str | None) -> Location:
            return _setting_at(kind, field, settings, key_at, kind_at)

        defaults = self.by_name.get(kind.lower(), self.defaults) if self.by_name else self.defaults
        try:
            # A setting that reads the layer's input: the layer is built when it is known.
            pending = pending_layer(kind, raw, defaults, locate)
            if pending is not None:
                return Node(name, pending, kind_at)
            layer = build_layer(kind, raw, defaults)
        except ConvcostError as error:
            if error.field == "type":  # an unknown kind: it may be a misspelt block, too
                hint = f", or one of the blocks {', '.join(self.blocks)}" if self.blocks else ""
                raise ConvcostError(error.message + hint, kind_at) from None
            # An unknown key is shown at the key, a bad value at the value.
            raise error.located(_setting_at(kind, error.field, settings, key_at, kind_at)) from None
        if remember:
            self._built[key] = layer
        return Node(name, layer, kind_at)

    def _structure(
        self,
        kind: str,
        body: YNode | None,
        name: str | None,
        at: Location,
        env: Mapping[str, object] | None,
        stack: tuple[str, ...],
    ) -> Element:
        if body is None:
            raise ConvcostError(f"{kind}: needs its layers", at)
        if kind == "group":
            return Group(name, tuple(self.items(body, None, stack)), "group", at)
        if kind == "concat":
            if not isinstance(body.value, list) or len(body.value) < 2:
                raise ConvcostError("concat: needs a list of two or more branches", body.at)
            branches = _every(partial(self._branch, branch, stack) for branch in body.value)
            return Concat(name, tuple(branches), at)
        return self._residual(body, name, at, stack)

    def _branch(self, node: YNode, stack: tuple[str, ...]) -> Group:
        if isinstance(node.value, list):
            return Group("", tuple(self.items(node, None, stack)), "branch", node.at)
        if isinstance(node.value, dict) and "layers" in node.value:
            extra = set(node.value) - set(BRANCH_KEYS)
            if extra:
                key = sorted(extra)[0]
                raise ConvcostError(
                    f"a branch takes name: and layers:, not '{key}'", node.key_at[key]
                )
            name = _name(node.value.get("name")) or ""
            return Group(
                name, tuple(self.items(node.value["layers"], None, stack)), "branch", node.at
            )
        return Group("", tuple(self.item(node, None, stack)), "branch", node.at)

    def _residual(
        self, body: YNode, name: str | None, at: Location, stack: tuple[str, ...]
    ) -> Residual:
        if isinstance(body.value, list):
            return Residual(name, Group("", tuple(self.items(body, None, stack))), "identity", at)
        if not isinstance(body.value, dict) or "body" not in body.value:
            raise ConvcostError(
                "residual: takes a list of layers, or {body: [...], shortcut: auto}", body.at
            )
        for key in body.value:
            if key not in RESIDUAL_KEYS:
                raise ConvcostError(_unknown(key, RESIDUAL_KEYS, "residual"), body.key_at[key])
        if "name" in body.value:
            name = _name(body.value["name"])
        main_node = body.value["body"]
        main, shortcut = _every(
            (
                lambda: Group("", tuple(self.items(main_node, None, stack))),
                partial(self._shortcut, body.value.get("shortcut"), stack),
            )
        )
        assert isinstance(main, Group)
        return Residual(name, main, shortcut, at)

    def _shortcut(self, node: YNode | None, stack: tuple[str, ...]) -> Group | str:
        if node is None:
            return "identity"
        if isinstance(node.value, str):
            if node.value not in SHORTCUTS:
                raise ConvcostError(
                    f"shortcut: expected {', '.join(SHORTCUTS)} or a list of layers, "
                    f"got {node.value!r}",
                    node.at,
                )
            return node.value
        return Group(None, tuple(self.items(node, None, stack)), "shortcut", node.at)

    def _call(
        self,
        block: Block,
        settings: dict[str, YNode],
        key_at: dict[str, Location],
        name: str | None,
        at: Location,
        stack: tuple[str, ...],
        repeat: _Repeat | None,
    ) -> Group:
        if block.name in stack:
            chain = " → ".join((*stack[stack.index(block.name) :], block.name))
            raise ConvcostError(f"block '{block.name}' uses itself ({chain})", at)
        if len(stack) >= MAX_NESTING:
            raise ConvcostError(f"blocks are nested more than {MAX_NESTING} deep", at)
        first: dict[str, YNode] = {}
        first_at: dict[str, Location] = {}
        if repeat is not None and repeat.first is not None:
            first, first_at = _first(repeat.first, "parameters")
        for key, node in (*settings.items(), *first.items()):
            if key not in block.params:
                where = key_at.get(key) or first_at.get(key) or node.at
                raise ConvcostError(_unknown(key, tuple(block.params), f"block '{block.name}'",
                                             "parameter"), where)  # fmt: skip
        args: dict[str, object] = {}
        for key, node in settings.items():
            args[key] = _plain(key, node)
        missing = [
            p for p, default in block.params.items() if default is REQUIRED and p not in args
        ]
        if missing:
            example = ", ".join(f"{p}: ..." for p in missing)
            raise ConvcostError(
                f"block '{block.name}' needs {', '.join(missing)}; "
                f"call it as {block.name}: {{{example}}}",
                at,
            )
        env = {p: d for p, d in block.params.items() if d is not REQUIRED} | args
        inner = (*stack, block.name)

        def instance(values: dict[str, object], instance_name: str | None) -> Group:
            # The same arguments make the same layers: built once, shared by every call.
            key = (block.name, repr(sorted(values.items())))
            elements = self._instances.get(key)
            if elements is None:
                try:
                    elements = tuple(self.items(block.layers, values, inner))
                except ConvcostError as error:
                    raise error.located(at) from None
                self._instances[key] = elements
            return Group(instance_name, elements, block.name, at)

        if repeat is None:
            return instance(env, name)
        overrides = {k: _plain(k, v) for k, v in first.items()}
        return self._repeated(
            lambda index: instance(env | overrides if index == 0 else env, None),
            repeat, name, block.name, at, f"block '{block.name}'",
        )  # fmt: skip


def _setting_at(
    kind: str,
    field: str | None,
    settings: dict[str, YNode],
    key_at: dict[str, Location],
    kind_at: Location,
) -> Location:
    """Where a layer's setting is at fault: an unknown key at the key, a bad value at the
    value, a missing one (None) at the layer's kind."""
    if field is None or field not in settings:
        return kind_at
    return settings[field].at if field in recipe(kind).parsers else key_at[field]


def _comma_split(items: list[YNode], index: int) -> tuple[int, ConvcostError] | None:
    """Whether the faulty item ``index`` is a piece of an item that a flow list's comma
    split (``[conv 3x3 8 padding=0,3, relu]`` holds ``conv 3x3 8 padding=0`` and ``3``):
    then the index of the item it was split from, and the fault that says so, there."""
    piece = items[index]
    if not _split_piece(piece):
        return None
    start = index - 1
    while start >= 0 and items[start].at.line == piece.at.line:
        before = items[start]
        if isinstance(before.value, str) and not before.quoted:
            setting = before.value.split()[-1] if before.value.split() else ""
            if "=" in setting:
                break
        if not _split_piece(before):
            return None
        start -= 1
    else:
        return None
    pieces = [str(items[i].value) for i in range(start, index + 1)]
    key, _, first = setting.partition("=")
    values = [first, *(str(items[i].value).split()[0] for i in range(start + 1, index + 1))]
    written = f"{key}={','.join(values)}"
    joined = all(value.isdigit() for value in values) and len(values) == 2
    instead = f"write {key}={values[0]}x{values[1]}, or " if joined else ""
    return start, ConvcostError(
        f"'{written}' is split at its comma: in a flow list [a, b] a comma separates items; "
        f'{instead}quote the item: "{",".join(pieces)}"',
        items[start].at,
    )


def _split_piece(node: YNode) -> bool:
    """Whether ``node`` reads like what follows a comma inside a setting: a number, or text
    that starts with one (``3 s2``) or closes a bracket."""
    value = node.value
    if node.quoted or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(value) and (value[0].isdigit() or value[0] in ")]")


def _every(builds: Iterable[Callable[[], T]]) -> list[T]:
    """What each build makes; the parts are independent, so every one's faults are reported
    (as ``Builder.items`` does for items), not just the first part's."""
    made: list[T] = []
    faults = Faults()
    for build in builds:
        try:
            made.append(build())
        except ConvcostError as error:
            faults.add(error)
    faults.check()
    return made


def substitute(
    node: YNode, env: Mapping[str, object], done: dict[int, YNode] | None = None
) -> YNode:
    """The node with ``$name`` / ``${expression}`` replaced by the block's arguments. A node
    reached twice (a YAML alias) is substituted once and shared (``done``, by id), so an
    aliased structure stays as small as it was written."""
    done = {} if done is None else done
    known = done.get(id(node))
    if known is not None:
        return known
    value = node.value
    try:
        if isinstance(value, str) and has_parameters(value):
            return YNode(interpolate(value, env), node.at, quoted=node.quoted)
    except ConvcostError as error:
        raise error.located(node.at) from None
    result = node
    if isinstance(value, dict):
        result = YNode(
            {k: substitute(v, env, done) for k, v in value.items()}, node.at, node.key_at
        )
    elif isinstance(value, list):
        result = YNode([substitute(v, env, done) for v in value], node.at)
    done[id(node)] = result
    return result


def _parts(element: Element) -> tuple[Element, ...]:
    if isinstance(element, Group):
        return element.elements
    if isinstance(element, Concat):
        return element.branches
    if isinstance(element, Residual):
        shortcut = element.shortcut
        return (element.body, shortcut) if isinstance(shortcut, Group) else (element.body,)
    return ()


def _what(element: Element) -> str:
    """A construct as the user wrote it, for messages."""
    if isinstance(element, Concat | Residual):
        return f"this {'concat' if isinstance(element, Concat) else 'residual'}"
    assert isinstance(element, Group)
    label = element.label
    if label in ("group", "branch", "shortcut"):
        return f"this {label}"
    stem = label.split("×")[0]
    if stem in STRUCTURES or _is_layer_kind(stem):  # a repeat of a structure or a layer
        return f"this repeated {stem}"
    return f"block '{stem}'"


def _plain(key: str, node: YNode) -> object:
    try:
        return node.plain()
    except ConvcostError as error:
        raise ConvcostError(f"{key}: {error.message}", node.at) from None


_READS_INPUT = (
    "{}: ${{in.…}} reads a layer's input, which only a layer's settings can use; write a "
    "number here"
)


def _name(node: YNode | None) -> str | None:
    if node is None:
        return None
    if reads_input(node.value):
        raise ConvcostError(_READS_INPUT.format("name").replace("a number", "a name"), node.at)
    if isinstance(node.value, bool) or not isinstance(node.value, str | int):
        raise ConvcostError("name: must be a string", node.at)
    try:
        return bounded_name(str(node.value))
    except ConvcostError as error:
        raise error.located(node.at) from None


_ONE_SOURCE = (
    "from: a {kind} reads one layer, but this names {n}; only a merge (concat, add, mul) reads "
    "several: merge them first ({{type: add, from: [a, b], name: m}}) and give the {kind} "
    "from: m, or name one layer"
)


def _sources(node: YNode) -> tuple[tuple[str, ...], tuple[Location, ...]]:
    """``from: NAME`` or ``from: [NAME, ...]``: the layers a layer reads, by name, and where
    each name is written (a Node's ``sources`` and ``sources_at``)."""
    # A block's parameter substituted into from: gives plain values, not nodes: each takes
    # the place of the from: it was written in.
    listed = node.value if isinstance(node.value, list) else [node]
    items = [item if isinstance(item, YNode) else YNode(item, node.at) for item in listed]
    if not items:
        raise ConvcostError("from: names no layer; write from: NAME or from: [NAME, NAME]", node.at)
    names = []
    for item in items:
        if isinstance(item.value, bool) or not isinstance(item.value, str | int):
            what = "a mapping" if isinstance(item.value, dict) else describe(item.value)
            raise ConvcostError(
                f"from: expected a layer's name (as analyze prints it), got {what}", item.at
            )
        names.append(_name(item) or "")
    return tuple(names), tuple(item.at for item in items)


class _Repeat(NamedTuple):
    """An item's repeat: ``copies`` named from ``start``; ``first`` overrides copy 0's
    arguments (a block call) or settings (a layer)."""

    copies: int
    start: int
    first: YNode | None


def _repeat(
    nodes: dict[str, YNode], key_at: dict[str, Location], what: str, values: str = "settings"
) -> _Repeat | None:
    """The repeat: (with start: and first:) written on an item, or None; start: or first:
    without repeat: would change nothing, and is refused rather than ignored."""
    if "repeat" not in nodes:
        if "first" in nodes:  # one copy: first: would override nothing, silently
            raise ConvcostError(
                f"first: overrides copy 0 of a repeat:, but {what} has no repeat:; put its "
                f"{values} beside the others, or add repeat: N",
                key_at["first"],
            )
        if "start" in nodes:
            raise ConvcostError(
                f"start: numbers the copies of a repeat:, but {what} has no repeat:; add "
                "repeat: N, or remove start:",
                key_at["start"],
            )
        return None
    count = _count(nodes["repeat"], 1, "repeat")
    start = _count(nodes.get("start"), 0, "start")
    assert count is not None
    return _Repeat(count, start or 0, nodes.get("first"))


def _first(node: YNode, what: str) -> tuple[dict[str, YNode], dict[str, Location]]:
    """first:'s mapping, and where each of its keys is written."""
    if not isinstance(node.value, dict):
        raise ConvcostError(f"first: must map {what} to values", node.at)
    return dict(node.value), dict(node.key_at)


def _renamed(element: Element, name: str) -> Element:
    return element._replace(name=name)


def _count(node: YNode | None, minimum: int, key: str) -> int | None:
    if node is None:
        return None
    if reads_input(node.value):
        raise ConvcostError(_READS_INPUT.format(key), node.at)
    try:
        value = positive_int(node.value) if minimum else node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConvcostError(f"expected a whole number, got {node.value!r}")
        return value
    except ConvcostError as error:
        raise ConvcostError(f"{key}: {error.message}", node.at) from None


def _unknown(key: str, known: tuple[str, ...], where: str, what: str = "key") -> str:
    hint = did_you_mean(key, known)
    return f"{where} has no {what} '{key}'; {hint}known: {', '.join(known) or 'none'}"
