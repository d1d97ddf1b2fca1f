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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from convcost.errors import ConvcostError, Location, did_you_mean
from convcost.fields import positive_int
from convcost.frontends.expressions import has_parameters, interpolate
from convcost.frontends.inline import parse_layers
from convcost.frontends.yamlnode import YNode, describe
from convcost.layers import Layer, build_layer, lookup, recipe
from convcost.network import SHORTCUTS, Concat, Element, Group, Node, Residual

STRUCTURES = ("concat", "residual", "group")
CALL_KEYS = ("name", "repeat", "start", "first")
BLOCK_KEYS = ("params", "layers", "description")
BRANCH_KEYS = ("name", "layers")
RESIDUAL_KEYS = ("body", "shortcut", "name")
MAX_NESTING = 64  # block calls inside block calls; deeper is refused, not a stack overflow


@dataclass(frozen=True)
class Block:
    name: str
    params: dict[str, Any]  # parameter → default (REQUIRED when there is none)
    layers: YNode
    at: Location


REQUIRED = object()
_Settings = tuple[str, tuple[tuple[str, type, object], ...]]  # a layer's kind and raw values


def parse_blocks(node: YNode) -> dict[str, Block]:
    if not isinstance(node.value, dict):
        raise ConvcostError("blocks: must map block names to {params:, layers:}", node.at)
    blocks: dict[str, Block] = {}
    for name, spec in node.value.items():
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
    elif isinstance(node.value, dict):
        defaults = {k: REQUIRED if v.value is None else v.plain() for k, v in node.value.items()}
    else:
        raise ConvcostError(
            f"params of block '{block}' must be a list of names or a mapping name: default",
            node.at,
        )
    for name in defaults:
        if not isinstance(name, str) or not name.isidentifier() or name in CALL_KEYS:
            raise ConvcostError(
                f"block '{block}': parameter {name!r} must be a plain name "
                f"(not {', '.join(CALL_KEYS)})",
                node.at,
            )
    return defaults


def _is_layer_kind(name: str) -> bool:
    try:
        lookup(name)
    except ConvcostError:
        return False
    return True


class Builder:
    """Builds elements from config items; one per config, holding its blocks and defaults."""

    def __init__(self, defaults: Mapping[str, object], source: str, blocks: dict[str, Block]):
        self.defaults, self.source, self.blocks = defaults, source, blocks
        # Layers are immutable values, and the same text or settings make the same layer:
        # each distinct one is parsed once per config ("- bn", "- conv 1x1 64 nobias" recur
        # through a network). Inline text → (name, layer, column offset, length) per layer;
        # (kind, settings) → layer. A fault is never stored: each occurrence is reported.
        self._inline: dict[str, list[tuple[str | None, Layer, int, int]]] = {}
        self._built: dict[_Settings, Layer] = {}

    def items(
        self, node: YNode, env: Mapping[str, object] | None, stack: tuple[str, ...]
    ) -> list[Element]:
        if not isinstance(node.value, list) or not node.value:
            raise ConvcostError(
                "expected a non-empty list of layers (each line '- conv 5x5 32' or "
                "'- conv: {kernel: 5x5, filters: 32}')",
                node.at,
            )
        # Items are independent: report every faulty one, not just the first.
        elements: list[Element] = []
        errors: list[ConvcostError] = []
        for item in node.value:
            try:
                elements.extend(self.item(item, env, stack))
            except ConvcostError as error:
                errors.append(error)
        if errors:
            raise ConvcostError.several(errors)
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
        if "type" in settings:
            kind_node = settings.pop("type")
            if not isinstance(kind_node.value, str):
                raise ConvcostError("type: must be a layer kind such as conv", kind_node.at)
            kind, kind_at, body = kind_node.value, kind_node.at, None
        else:
            keys = list(settings)
            if "name" in settings:
                keys.remove("name")
            if len(keys) != 1:
                raise ConvcostError(
                    "this layer has no 'type:'; write type: conv (or make the kind the only "
                    "key: '- conv: {kernel: 5x5, filters: 32}')",
                    item.at,
                )
            kind, kind_at = keys[0], key_at[keys[0]]
            body = settings.pop(kind)
        name = _name(settings.pop("name", None))
        if kind in STRUCTURES:
            if settings:
                key = next(iter(settings))
                raise ConvcostError(f"{kind} takes name: beside it, not '{key}'", key_at[key])
            return [self._structure(kind, body, name, kind_at, env, stack)]
        if body is not None:
            if isinstance(body.value, dict):
                body_settings = dict(body.value)
                if "name" in body_settings:
                    name = _name(body_settings.pop("name"))
                settings.update(body_settings)
                key_at.update(body.key_at)
            elif body.value is not None:
                raise ConvcostError(
                    f"the settings of '{kind}' must be a mapping such as "
                    "{kernel: 5x5, filters: 32}",
                    body.at,
                )
        if kind in self.blocks:
            return [self._call(self.blocks[kind], settings, key_at, name, kind_at, stack)]
        return [self._layer(kind, settings, key_at, name, kind_at)]

    def _inline_layers(self, text: str, line: int, column: int) -> list[Element]:
        known = self._inline.get(text)
        if known is None:
            layers = parse_layers(text, self.defaults, self.source, line, column)
            assert all(at.text is None for _, _, at in layers)  # only inline specs show it
            known = self._inline[text] = [
                (name, layer, at.column - column, at.length) for name, layer, at in layers
            ]
        source, new = self.source, tuple.__new__
        return [
            Node(name, layer, new(Location, (source, line, column + shift, None, length)))
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
        try:
            layer = build_layer(kind, raw, self.defaults)
        except ConvcostError as error:
            if error.field == "type":  # an unknown kind: it may be a misspelt block, too
                hint = f", or one of the blocks {', '.join(self.blocks)}" if self.blocks else ""
                raise ConvcostError(error.message + hint, kind_at) from None
            # An unknown key is shown at the key, a bad value at the value.
            at = kind_at
            if error.field in settings:
                declared = recipe(kind).parsers
                at = settings[error.field].at if error.field in declared else key_at[error.field]
            raise error.located(at) from None
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
            return Concat(name, tuple(self._branch(b, stack) for b in body.value), at)
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
        main = Group("", tuple(self.items(body.value["body"], None, stack)))
        shortcut_node = body.value.get("shortcut")
        shortcut: Group | str = "identity"
        if shortcut_node is not None:
            if isinstance(shortcut_node.value, str):
                if shortcut_node.value not in SHORTCUTS:
                    raise ConvcostError(
                        f"shortcut: expected {', '.join(SHORTCUTS)} or a list of layers, "
                        f"got {shortcut_node.value!r}",
                        shortcut_node.at,
                    )
                shortcut = shortcut_node.value
            else:
                shortcut = Group(None, tuple(self.items(shortcut_node, None, stack)), "shortcut",
                                 shortcut_node.at)  # fmt: skip
        return Residual(name, main, shortcut, at)

    def _call(
        self,
        block: Block,
        settings: dict[str, YNode],
        key_at: dict[str, Location],
        name: str | None,
        at: Location,
        stack: tuple[str, ...],
    ) -> Group:
        if block.name in stack:
            chain = " → ".join((*stack[stack.index(block.name) :], block.name))
            raise ConvcostError(f"block '{block.name}' uses itself ({chain})", at)
        if len(stack) >= MAX_NESTING:
            raise ConvcostError(f"blocks are nested more than {MAX_NESTING} deep", at)
        repeat = _count(settings.pop("repeat", None), 1)
        start = _count(settings.pop("start", None), 0)
        first_node = settings.pop("first", None)
        first: dict[str, YNode] = {}
        if first_node is not None:
            if repeat is None:  # one copy: first: would override nothing, silently
                raise ConvcostError(
                    "first: overrides copy 0 of a repeat:, but this call has no repeat:; "
                    "put its arguments beside the others, or add repeat: N",
                    key_at["first"],
                )
            if not isinstance(first_node.value, dict):
                raise ConvcostError("first: must map parameters to values", first_node.at)
            first = first_node.value
        args: dict[str, object] = {}
        for key, node in (*settings.items(), *first.items()):
            if key not in block.params:
                where = key_at.get(key) or (first_node.key_at[key] if first_node else node.at)
                raise ConvcostError(_unknown(key, tuple(block.params), f"block '{block.name}'",
                                             "parameter"), where)  # fmt: skip
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
            try:
                elements = self.items(block.layers, values, inner)
            except ConvcostError as error:
                raise error.located(at) from None
            return Group(instance_name, tuple(elements), block.name, at)

        if repeat is None:
            return instance(env, name)
        overrides = {k: _plain(k, v) for k, v in first.items()}
        offset = start or 0
        copies = [
            instance(env | overrides if i == 0 else env, str(offset + i)) for i in range(repeat)
        ]
        return Group(name, tuple(copies), f"{block.name}×{repeat}", at)


def substitute(node: YNode, env: Mapping[str, object]) -> YNode:
    """The node with ``$name`` / ``${expression}`` replaced by the block's arguments."""
    value = node.value
    try:
        if isinstance(value, str) and has_parameters(value):
            return YNode(interpolate(value, env), node.at, quoted=node.quoted)
    except ConvcostError as error:
        raise error.located(node.at) from None
    if isinstance(value, dict):
        return YNode({k: substitute(v, env) for k, v in value.items()}, node.at, node.key_at)
    if isinstance(value, list):
        return YNode([substitute(v, env) for v in value], node.at)
    return node


def _plain(key: str, node: YNode) -> object:
    try:
        return node.plain()
    except ConvcostError as error:
        raise ConvcostError(f"{key}: {error.message}", node.at) from None


def _name(node: YNode | None) -> str | None:
    if node is None:
        return None
    if isinstance(node.value, bool) or not isinstance(node.value, str | int):
        raise ConvcostError("name: must be a string", node.at)
    return str(node.value)


def _count(node: YNode | None, minimum: int) -> int | None:
    if node is None:
        return None
    try:
        value = positive_int(node.value) if minimum else node.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConvcostError(f"expected a whole number, got {node.value!r}")
        return value
    except ConvcostError as error:
        raise ConvcostError(error.message, node.at) from None


def _unknown(key: str, known: tuple[str, ...], where: str, what: str = "key") -> str:
    hint = did_you_mean(key, known)
    return f"{where} has no {what} '{key}'; {hint}known: {', '.join(known) or 'none'}"
