"""The inline spec: a whole layer stack in one shell-friendly string.

Grammar (also in ``convcost analyze --help`` and the README)::

    SPEC  := INPUT ( "|" LAYER )*          28x28x192 | conv 1x1 16 relu | conv 5x5 32
    INPUT := HxWxC
    LAYER := KIND TOKEN* ( KIND TOKEN* )*   a kind name inside a segment starts another
                                            layer: "conv 3x3 64 bn relu" is three layers
    TOKEN := key=value                      kernel=3x3  padding=1,2  bias=false  name=stem
           | word                           same valid nobias dw ceil (per kind)
           | sN dN gN pN opN                stride, dilation, groups, padding, output
                                            padding shorthands
           | value                          positional: conv and convtranspose KERNEL
                                            FILTERS, pool KERNEL STRIDE, dense UNITS,
                                            dropout RATE, lrn SIZE
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from convcost.core.errors import ConvcostError, Faults, Location
from convcost.core.fields import bounded_name, scalar
from convcost.core.kinds import all_kinds, build_layer, recipe, unknown_kind_message
from convcost.core.kinds.base import Layer
from convcost.core.limits import MAX_LAYERS
from convcost.core.shapes import parse_shape
from convcost.frontends.common import channels_first_warning, located_layer
from convcost.frontends.expressions import reads_input
from convcost.frontends.pending import PendingLayer, pending_layer
from convcost.frontends.tree import Network, Node

SOURCE = "<spec>"
# An expression (``s${in.h // 7}``) is a value too: its input is read when the network is
# lowered (see frontends.pending), and its spaces do not split it.
_EXPRESSION = r"\$\{[^}]*\}"
_SHORTHAND = re.compile(r"^(op|[sdgp])(\d+(?:x\d+)?|" + _EXPRESSION + ")$")
_SHORTHAND_FIELD = {
    "s": "stride", "d": "dilation", "g": "groups", "p": "padding", "op": "output_padding",
}  # fmt: skip
_TOKEN = re.compile(r"\||(?:" + _EXPRESSION + r"|[^\s|])+")


class Token(NamedTuple):
    text: str
    column: int  # 1-based, in the whole spec


_BARE_SHAPE = re.compile(r"^-?\d+\s*[x×X]\s*-?\d+\s*[x×X]\s*-?\d+$")


def looks_inline(text: str) -> bool:
    """Whether a command-line SPEC is an inline spec rather than a file name."""
    head = text.split("|", 1)[0].strip()
    return "|" in text or bool(_BARE_SHAPE.match(head))


def starts_inline(text: str) -> bool:
    """Whether a text (standard input) is an inline spec rather than a config: its first
    line that is not blank starts with a bare shape HxWxC, then ends or goes on with ``|``.
    (A ``|`` alone would not do: YAML writes block text as ``description: |``.)"""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip():
            return bool(_BARE_SHAPE.match(line.split("|", 1)[0].strip()))
    return False


def parse_inline(
    spec: str,
    defaults: Mapping[str, object] | None = None,
    source: str = SOURCE,
    max_layers: int = MAX_LAYERS,
) -> Network:
    where = _Where(spec, source)
    segments = _segments(spec, where, max_layers, max_layers)
    first = segments[0]
    if len(first) != 1:
        raise ConvcostError(
            "an inline spec starts with the input shape alone, e.g. "
            "'28x28x192 | conv 1x1 16 relu | conv 5x5 32'",
            where(first[1]),
        )
    try:
        input_shape = parse_shape(first[0].text)
    except ConvcostError as error:
        raise error.located(where(first[0])) from None
    layers = _layers(segments[1:], defaults or {}, where, max_layers, max_layers)
    warning = channels_first_warning(input_shape, first[0].text, "")
    return Network.of(
        input_shape,
        (Node(name, layer, at) for name, layer, at in layers),
        warnings=(f"{source}: {warning}",) if warning else (),
    )


def parse_layers(
    text: str,
    defaults: Mapping[str, object],
    source: str,
    line: int,
    column: int,
    room: int = MAX_LAYERS,
    limit: int = MAX_LAYERS,
    by_name: Mapping[str, Mapping[str, object]] | None = None,
) -> list[tuple[str | None, Layer | PendingLayer, Location]]:
    """Layers written in the inline grammar inside a config file (``- conv 5x5 32 relu``).

    ``line``/``column`` are where ``text`` starts in the file, so errors point into it.
    ``room``: the layers the network may still take (``limit`` in all, for the message).
    ``by_name``: the config's defaults: for the kinds it gives them (see
    ``common.defaults_by_name``), ``defaults`` for the others.
    """
    word = text.strip().lower()
    if word in all_kinds() and " " not in word:  # "- bn", "- relu": the common case, quickly
        try:
            layer = build_layer(word, {}, by_name.get(word, defaults) if by_name else defaults)
        except ConvcostError:
            pass  # the general path below words the error and places it
        else:
            return [(None, layer, Location(source, line, column + text.index(text.strip())))]
    where = _Where(text, source, line, column - 1, show_text=False)
    return _layers(_segments(text, where, room, limit), defaults, where, room, limit, by_name)


WORDS_PER_LAYER = 32  # far more than any layer takes (conv 3x3 64 s2 p1 d2 g2 nobias name=x)


def passed_limit(limit: int, at: Location | None) -> ConvcostError:
    """The network passes the bound on its rows (see limits.MAX_LAYERS) at ``at``; nothing
    more is checked (building on would only cost time)."""
    return ConvcostError(
        f"the network passes the limit of {limit:,} layers and groups here; shrink it, or "
        "raise the limit with --max-layers",
        at,
        final=True,
    )


def _layers(
    segments: list[list[Token]],
    defaults: Mapping[str, object],
    where: _Where,
    room: int,
    limit: int,
    by_name: Mapping[str, Mapping[str, object]] | None = None,
) -> list[tuple[str | None, Layer | PendingLayer, Location]]:
    """Every segment's layers, at most ``room`` of them; the faults of all segments are
    reported together."""
    layers: list[tuple[str | None, Layer | PendingLayer, Location]] = []
    faults = Faults()
    for segment in segments:
        try:
            for group in _split_layers(segment, where):
                kind = group[0].text.lower()
                layers.append(_layer(group, by_name.get(kind, defaults) if by_name else defaults,
                                     where))  # fmt: skip
                if len(layers) > room:
                    raise passed_limit(limit, where(group[0]))
        except ConvcostError as error:
            faults.add(error)
    faults.check()
    return layers


class _Where:
    """Locations inside one spec string, for carets under the offending token."""

    def __init__(
        self, spec: str, source: str, line: int = 1, shift: int = 0, show_text: bool = True
    ) -> None:
        self.spec, self.source, self.line, self.shift = spec, source, line, shift
        self.text = spec if show_text else None

    def __call__(self, token: Token, offset: int = 0, length: int | None = None) -> Location:
        size = len(token.text) - offset if length is None else length
        column = self.shift + token.column + offset
        return Location(self.source, self.line, column, self.text, max(1, size))

    def end(self) -> Location:
        return self(Token(" ", max(1, len(self.spec))))


def _segments(spec: str, where: _Where, room: int, limit: int) -> list[list[Token]]:
    """The spec's words, by layer segment; no more than WORDS_PER_LAYER for each layer the
    network has ``room`` for (words past that are not even made)."""
    segments: list[list[Token]] = [[]]
    words = WORDS_PER_LAYER * (room + 1)
    for match in _TOKEN.finditer(spec):
        words -= 1
        if words < 0:
            raise passed_limit(limit, where(Token(match.group(), match.start() + 1)))
        if match.group() == "|":
            if not segments[-1]:
                raise ConvcostError(
                    "empty layer: nothing before this '|'; write a layer such as 'relu'",
                    where(Token("|", match.start() + 1)),
                )
            segments.append([])
        else:
            segments[-1].append(Token(match.group(), match.start() + 1))
    if not segments[-1]:
        raise ConvcostError(
            "empty spec: write an input shape and layers, e.g. '28x28x192 | conv 5x5 32'"
            if len(segments) == 1
            else "empty layer after the last '|'; remove the '|' or add a layer",
            where.end(),
        )
    return segments


def _split_layers(segment: list[Token], where: _Where) -> list[list[Token]]:
    """One segment may hold several layers: each kind name starts a new one."""
    groups: list[list[Token]] = []
    kinds = all_kinds()
    for token in segment:
        word = token.text.lower()
        starts = word in kinds and not (groups and _is_word_of(groups[-1][0], word))
        if not groups or starts:
            if word not in kinds:
                raise ConvcostError(unknown_kind_message(token.text), where(token))
            groups.append([token])
        else:
            groups[-1].append(token)
    return groups


def _is_word_of(kind_token: Token, word: str) -> bool:
    cls, _ = all_kinds()[kind_token.text.lower()]
    return word in cls.words


class _Kind(NamedTuple):
    """What parsing a kind's tokens needs to know of it (made once per kind name)."""

    cls: type[Layer]
    preset: Mapping[str, object]
    declared: frozenset[str]  # the settings a user may give (a preset's are taken)
    positional: tuple[str, ...]


_KINDS: dict[str, _Kind] = {}


def _kind(name: str) -> _Kind:
    found = _KINDS.get(name)
    if found is None:
        cls, preset, parsers, _, _ = recipe(name)
        declared = frozenset(parsers)
        positional = tuple(p for p in cls.positional if p not in preset)
        found = _KINDS[name] = _Kind(cls, preset, declared, positional)
    return found


def _layer(
    group: list[Token], defaults: Mapping[str, object], where: _Where
) -> tuple[str | None, Layer | PendingLayer, Location]:
    kind_token, *args = group
    cls, _, declared, positional = _kind(kind_token.text.lower())
    words = cls.words
    raw: dict[str, object] = {}
    # Where each setting was written, as (token, offset, length): a Location only on error.
    at: dict[str, tuple[Token, int, int | None]] = {}
    name: str | None = None
    extra: list[Token] = []
    for token in args:
        text = token.text
        key, eq, value = text.partition("=")
        if eq:
            if not value:
                raise ConvcostError(f"'{key}=' has no value; write {key}=VALUE", where(token))
            if key == "name":
                if reads_input(value):
                    raise ConvcostError(
                        "name=${in.…}: a name cannot read the layer's input; write a name",
                        where(token),
                    )
                try:
                    name = bounded_name(value)
                except ConvcostError as error:
                    raise error.located(where(token)) from None
                continue
            # An unknown key: build_layer words the message, the caret marks the key.
            field, parsed = key, scalar(value)
            spot = (token, len(key) + 1, None) if key in declared else (token, 0, len(key))
        else:
            word = text.lower()
            if word in words:
                field, parsed = words[word]
                spot = (token, 0, None)
            else:
                shorthand = _SHORTHAND.match(word)
                if shorthand:
                    # Always the setting it abbreviates: a kind without it says so
                    # (build_layer), with the caret under the whole token.
                    prefix = shorthand.group(1)
                    field, parsed = _SHORTHAND_FIELD[prefix], scalar(shorthand.group(2))
                    spot = (token, len(prefix) if field in declared else 0, None)
                else:
                    extra.append(token)
                    continue
        if field in raw:
            raise ConvcostError(f"{field} is set twice in this layer", where(*spot))
        raw[field], at[field] = parsed, spot
    if extra:
        free = [p for p in positional if p not in raw]
        if len(extra) > len(free):
            token = extra[len(free)]
            takes = (
                f"takes {len(positional)} positional value(s) ({', '.join(positional)})"
                if positional
                else "takes no positional values"
            )
            raise ConvcostError(
                f"{cls.kind} {takes}; '{token.text}' is one too many (use key=value, e.g. "
                "stride=2)",
                where(token),
            )
        for field, token in zip(free, extra, strict=False):
            raw[field], at[field] = scalar(token.text), (token, 0, None)
    here = where(kind_token, 0, group[-1].column + len(group[-1].text) - kind_token.column)

    def locate(field: str | None) -> Location:
        spot = at.get(field or "")
        return here if spot is None else where(*spot)

    try:
        pending = pending_layer(kind_token.text, raw, defaults, locate)
    except ConvcostError as error:
        raise error.located(locate(error.field)) from None
    if pending is not None:
        return name, pending, here
    return name, located_layer(kind_token.text, raw, defaults, locate), here
