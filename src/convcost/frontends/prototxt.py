"""Caffe network files (``deploy.prototxt``): protobuf text format read into a ``Graph``.

Two parts. ``parse_text`` reads protobuf's text format (messages ``name { ... }`` or
``name < ... >``, scalars ``key: value``, quoted strings with C escapes, ``[a, b]`` lists,
``#`` comments) into ``Message`` records without a schema; it holds every input to bounds
(nesting depth, values read, token length), so a hostile file costs milliseconds. The
builder (``build_graph``) reads Caffe's ``NetParameter`` from those records: both layer
syntaxes (``layer { type: "Convolution" }`` and the old ``layers { type: CONVOLUTION }``),
the input (``input`` with ``input_dim`` or ``input_shape``, an ``Input`` layer, a data layer's
``crop_size``), and makes the graph core's nodes directly, with Caffe's blob names as the
edges. No compiled ``caffe.proto`` is needed: the few fields that decide costs are read by
name, and a field convcost does not know in a parameter message it reads is refused.

Every fault is a ``ConvcostError`` at the file's line and column.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from typing import Literal, NamedTuple

from convcost.core.errors import ConvcostError, Location, make_location
from convcost.core.graph import INPUT, Graph, GraphNode
from convcost.core.kinds import build_layer
from convcost.core.kinds.base import Layer
from convcost.core.kinds.merges import Merge
from convcost.core.kinds.normalization import BatchNorm
from convcost.core.limits import MAX_LAYERS, MAX_NAME, MAX_SIZE, VALUES_PER_ROW
from convcost.core.records import record_maker
from convcost.core.shapes import Shape

MAX_DEPTH = 32
"""Nesting of messages; Caffe's own files nest four deep (layer, param, shape, dim)."""

MAX_TOKEN = 4096
"""Characters in one token (a string, a number, a word): Caffe's are names and numbers."""


# --- protobuf text format -----------------------------------------------------------------


class Scalar(NamedTuple):
    """A value as written: ``string`` (decoded), ``number`` or ``word`` (an enum's name,
    ``true``, ``inf``), with where it starts."""

    kind: Literal["string", "number", "word"]
    text: str
    at: Location


class Field(NamedTuple):
    name: str
    value: Scalar | Message
    at: Location  # where the field's name is


class Message(NamedTuple):
    fields: tuple[Field, ...]
    at: Location  # where the message opens (its field's name; the file's start at the top)

    def all(self, name: str) -> list[Field]:
        return [field for field in self.fields if field.name == name]


class _Token(NamedTuple):
    kind: str  # string, number, word, punct, end
    text: str  # as written (a string: decoded)
    at: Location


make_token = record_maker(_Token)

# One token, after the blanks and comments before it (skipped in the same match).
_TOKEN = re.compile(
    r"""(?:[ \t\f\v\r\n]++|\#[^\r\n]*+)*+
    (?:(?P<string>"(?:[^"\\\r\n]|\\[^\r\n])*"|'(?:[^'\\\r\n]|\\[^\r\n])*')
      |(?P<number>-?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fF]?))
      |(?P<word>-?[A-Za-z_][A-Za-z0-9_]*)
      |(?P<punct>[{}<>:,;\[\]])
      |(?P<end>\Z))""",
    re.VERBOSE,
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANKS = re.compile(r"(?:[ \t\f\v\r\n]++|#[^\r\n]*+)*+")
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{4})|(.))")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip


def _decode_string(body: str, at: Location) -> str:
    """A quoted string's body with its C escapes decoded (octal and hex escapes are bytes,
    so the result is decoded as UTF-8, as protobuf's strings are)."""
    if "\\" not in body:
        return body
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(body):
        out += body[last : match.start()].encode("utf-8")
        octal, hexa, uni, simple = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16))
        elif uni is not None:
            out += chr(int(uni, 16)).encode("utf-8", "surrogatepass")
        elif simple in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[simple].encode("utf-8")
        else:
            raise ConvcostError(
                f"unknown escape '\\{simple}' in a string; write \\\\ for a backslash "
                "(escapes: \\n \\t \\\" \\' \\\\ \\NNN \\xHH \\uHHHH)",
                at,
            )
        last = match.end()
    out += body[last:].encode("utf-8")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ConvcostError(
            "the string's escapes do not make UTF-8 text; write the characters themselves", at
        ) from None


def _tokens(text: str, source: str, max_tokens: int) -> Iterator[_Token]:
    """The tokens of ``text``, the last of kind ``end``; refused past ``max_tokens``. Lines
    end at \\r\\n, \\r or \\n and columns count characters, as editors do."""
    starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
    position = 1 if text.startswith("\ufeff") else 0
    match_at, size, count = _TOKEN.match, len(text), 0

    def place(offset: int) -> Location:
        line = bisect_right(starts, offset)
        return make_location(source, line, offset - starts[line - 1] + 1, None, 1)

    while True:
        match = match_at(text, position)
        if match is None:
            skipped = _BLANKS.match(text, position)
            assert skipped is not None
            at, char = place(skipped.end()), text[skipped.end()]
            if char in "\"'":
                raise ConvcostError(
                    f"this string is not closed on its line; end it with {char} (a line "
                    "break inside a string is written \\n)",
                    at,
                )
            raise ConvcostError(
                f"unexpected character {char!r}; a prototxt holds fields (name: value or "
                "name { ... }), quoted strings, numbers and # comments",
                at,
            )
        kind = match.lastgroup
        assert kind is not None
        begin, end = match.start(kind), match.end()
        at = place(begin)
        if kind == "end":
            yield make_token(kind, "", at)
            return
        if end - begin > MAX_TOKEN:
            raise ConvcostError(
                f"a {kind} of {end - begin:,} characters is too long (at most {MAX_TOKEN}); "
                "shorten it",
                at,
            )
        count += 1
        if count > max_tokens:
            raise ConvcostError(
                f"the file holds more than {max_tokens:,} tokens, more than a network within "
                "the layer bound needs; shorten it or raise --max-layers",
                at,
            )
        value = match.group(kind)
        if kind == "string":
            value = _decode_string(value[1:-1], at)
        elif kind == "number" and end < size and (text[end].isalnum() or text[end] == "_"):
            raise ConvcostError(
                f"'{value}{text[end]}' is neither a number nor a name; separate them with a "
                "space, or quote a name",
                at,
            )
        yield make_token(kind, value, at)
        position = end


class _Parser:
    def __init__(self, text: str, source: str, max_tokens: int) -> None:
        self._tokens = _tokens(text, source, max_tokens)
        self.token = next(self._tokens)

    def take(self) -> _Token:
        token = self.token
        self.token = next(self._tokens)
        return token

    def message(self, closing: str | None, opened: Location, depth: int) -> Message:
        """Fields up to ``closing`` (``}`` or ``>``; None: the end of the file)."""
        fields: list[Field] = []
        while True:
            token = self.token
            if token.kind == "end":
                if closing is None:
                    return Message(tuple(fields), opened)
                raise ConvcostError(
                    f"the file ends inside the message opened at line {opened.line}, column "
                    f"{opened.column}; close it with {closing!r}",
                    token.at,
                )
            if token.kind == "punct" and token.text == closing:
                self.take()
                return Message(tuple(fields), opened)
            if closing is None and token.kind == "punct" and token.text in "}>":
                raise ConvcostError(
                    f"{token.text!r} closes no message; remove it, or open the message "
                    "before it (name { ... })",
                    token.at,
                )
            if token.kind != "word" or token.text.startswith("-"):
                wanted = "a field name" + ("" if closing is None else f" or {closing!r}")
                extension = " (extensions [name] are not read)" if token.text == "[" else ""
                raise ConvcostError(
                    f"expected {wanted}, found {_shown(token)}{extension}", token.at
                )
            self.field(self.take(), fields, depth)
            if self.token.kind == "punct" and self.token.text in ",;":
                self.take()

    def field(self, name: _Token, into: list[Field], depth: int) -> None:
        colon = self.token.kind == "punct" and self.token.text == ":"
        if colon:
            self.take()
        token = self.token
        if token.kind == "punct" and token.text == "[" and colon:
            self.take()
            if self.token.kind == "punct" and self.token.text == "]":
                self.take()
                return
            while True:
                into.append(Field(name.text, self.value(name, depth), name.at))
                token = self.take()
                if token.kind == "punct" and token.text == "]":
                    return
                if not (token.kind == "punct" and token.text == ","):
                    raise ConvcostError(
                        f"expected ',' or ']' in the list of '{name.text}', found {_shown(token)}",
                        token.at,
                    )
        if not colon and not (token.kind == "punct" and token.text in "{<"):
            raise ConvcostError(
                f"expected ':' or '{{' after the field name '{name.text}', found "
                f"{_shown(token)}; write {name.text}: VALUE or {name.text} {{ ... }}",
                token.at,
            )
        into.append(Field(name.text, self.value(name, depth), name.at))

    def value(self, name: _Token, depth: int) -> Scalar | Message:
        token = self.take()
        if token.kind == "punct" and token.text in "{<":
            if depth >= MAX_DEPTH:
                raise ConvcostError(
                    f"messages nest more than {MAX_DEPTH} deep here; a Caffe network nests "
                    "four deep (layer, its parameters, a shape, its dims)",
                    token.at,
                )
            return self.message("}" if token.text == "{" else ">", name.at, depth + 1)
        if token.kind == "string":
            parts = [token.text]
            while self.token.kind == "string":  # adjacent strings are one, as in C
                parts.append(self.take().text)
            return Scalar("string", "".join(parts), token.at)
        if token.kind in ("number", "word"):
            return Scalar(token.kind, token.text, token.at)  # type: ignore[arg-type]
        raise ConvcostError(
            f"expected a value for '{name.text}' (a number, a word such as MAX, a \"string\" "
            f"or {{ ... }}), found {_shown(token)}",
            token.at,
        )


def _shown(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the file"
    if token.kind == "string":
        return "a string"
    return repr(token.text)


def parse_text(text: str, source: str, max_tokens: int) -> Message:
    """A protobuf text-format document as ``Message`` records (no schema)."""
    parser = _Parser(text, source, max_tokens)
    return parser.message(None, Location(source, 1, 1), 0)


# --- typed reading of fields ---------------------------------------------------------------


def _single(message: Message, name: str, what: str) -> Field | None:
    found = message.all(name)
    if len(found) > 1:
        first = found[0].at
        raise ConvcostError(
            f"{what} {name} is given twice (first at line {first.line}, column "
            f"{first.column}); give it once",
            found[1].at,
        )
    return found[0] if found else None


def _scalar(field: Field, what: str) -> Scalar:
    if isinstance(field.value, Message):
        raise ConvcostError(
            f"{what} {field.name} is a value, not a message; write {field.name}: VALUE",
            field.at,
        )
    return field.value


def _whole(field: Field, what: str, least: int) -> int:
    value = _scalar(field, what)
    text = value.text
    try:
        number = int(text, 0) if value.kind == "number" else None
    except ValueError:  # 1.5, 1e3: not whole as written
        number = None
    if number is None or number < least or number > MAX_SIZE:
        bound = "a positive whole number" if least else "a whole number ≥ 0"
        raise ConvcostError(
            f"{what} {field.name} must be {bound} (at most 2**40), got {text!r}", value.at
        )
    return number


def _int(message: Message, name: str, what: str, default: int, least: int = 0) -> int:
    field = _single(message, name, what)
    return default if field is None else _whole(field, what, least)


def _float(message: Message, name: str, what: str, default: float) -> float:
    field = _single(message, name, what)
    if field is None:
        return default
    value = _scalar(field, what)
    try:
        return float(value.text.rstrip("fF")) if value.kind == "number" else float("nan")
    except ValueError:
        pass
    raise ConvcostError(f"{what} {name} must be a number, got {value.text!r}", value.at)


def _bool(message: Message, name: str, what: str, default: bool) -> bool | None:
    """The value, or None when the field is not written (``default`` is Caffe's)."""
    field = _single(message, name, what)
    if field is None:
        return None
    value = _scalar(field, what)
    if value.kind != "string":
        if value.text in ("true", "True", "t", "1"):
            return True
        if value.text in ("false", "False", "f", "0"):
            return False
    raise ConvcostError(
        f"{what} {name} must be true or false (Caffe's default: {str(default).lower()}), got "
        f"{value.text!r}",
        value.at,
    )


def _enum(message: Message, name: str, what: str, choices: tuple[str, ...], default: str) -> str:
    """An enum's name, written by name or number (its index in ``choices``)."""
    field = _single(message, name, what)
    if field is None:
        return default
    value = _scalar(field, what)
    if value.kind == "word" and value.text in choices:
        return value.text
    if value.kind == "number" and value.text.isdigit() and int(value.text) < len(choices):
        return choices[int(value.text)]
    raise ConvcostError(
        f"{what} {name} must be one of {', '.join(choices)}, got {value.text!r}", value.at
    )


def _string(field: Field, what: str) -> str:
    value = _scalar(field, what)
    if value.kind != "string":
        raise ConvcostError(
            f'{what} {field.name} is a name: quote it, {field.name}: "{value.text}"', value.at
        )
    if len(value.text) > MAX_NAME:
        raise ConvcostError(
            f"a name of {len(value.text):,} characters is too long (at most {MAX_NAME})",
            value.at,
        )
    return value.text


def _sub(message: Message, name: str, what: str) -> Message:
    """A nested message (an empty one when not written)."""
    field = _single(message, name, what)
    if field is None:
        return Message((), message.at)
    if not isinstance(field.value, Message):
        raise ConvcostError(f"{what} {name} is a message; write {name} {{ ... }}", field.value.at)
    return field.value


def _only(message: Message, what: str, read: tuple[str, ...], ignored: tuple[str, ...]) -> None:
    """Refuse a field convcost does not know in a parameter message it reads: it could
    change the shapes or costs, and a misread is never silent. ``ignored``: fields that
    change neither (initial weights, the engine, the normalization's constants)."""
    for field in message.fields:
        if field.name not in read and field.name not in ignored:
            raise ConvcostError(
                f"{what} has no field '{field.name}' that convcost knows; it reads "
                f"{', '.join(read)}" + (f" (and ignores {', '.join(ignored)})" if ignored else ""),
                field.at,
            )


# --- Caffe's NetParameter -----------------------------------------------------------------

# The old syntax's LayerType names (V1LayerParameter) for the layer types read here.
_V1_TYPES = {
    "CONVOLUTION": "Convolution", "POOLING": "Pooling", "INNER_PRODUCT": "InnerProduct",
    "RELU": "ReLU", "SIGMOID": "Sigmoid", "TANH": "TanH", "LRN": "LRN", "DROPOUT": "Dropout",
    "SOFTMAX": "Softmax", "CONCAT": "Concat", "ELTWISE": "Eltwise", "FLATTEN": "Flatten",
    "SPLIT": "Split", "DATA": "Data", "IMAGE_DATA": "ImageData",
    "DECONVOLUTION": "Deconvolution",
    "ACCURACY": "Accuracy", "SOFTMAX_LOSS": "SoftmaxWithLoss", "EUCLIDEAN_LOSS": "EuclideanLoss",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "HINGE_LOSS": "HingeLoss",
    "INFOGAIN_LOSS": "InfogainLoss", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
}  # fmt: skip
_HEADS = (
    "Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "SigmoidCrossEntropyLoss", "HingeLoss",
    "InfogainLoss", "MultinomialLogisticLoss", "ContrastiveLoss",
)  # fmt: skip
"""A train_val.prototxt's training and evaluation heads: what they compute is no part of
the network a deploy file runs, so one that reads the data layer's labels is left out. The
layers that feed them are kept: a train_val's auxiliary classifiers (GoogLeNet's loss1 and
loss2 branches) are counted, as the file describes the network that trains."""
_DATA_TYPES = ("Data", "ImageData")
_SUPPORTED = (
    "Input", "Data", "ImageData", "Convolution", "Deconvolution", "Pooling", "InnerProduct",
    "ReLU", "Sigmoid", "TanH", "LRN", "Dropout", "Softmax", "Concat", "Eltwise", "BatchNorm",
    "Scale", "Flatten", "Split",
)  # fmt: skip
_TOP_FIELDS = ("name", "input", "input_dim", "input_shape", "layer", "layers",
               "force_backward", "state", "debug_info")  # fmt: skip
_FILLERS = ("weight_filler", "bias_filler", "engine")


class _Blob(NamedTuple):
    node: int  # the node that makes it (INPUT: the network's input); -2: the data's labels
    at: Location


_LABELS = -2


class _Builder:
    def __init__(
        self,
        net: Message,
        defaults: Mapping[str, object] | None,
        max_layers: int,
        asked: Shape | None = None,
    ) -> None:
        self.net = net
        self.asked = asked  # --input-shape: the input instead of the file's
        self.defaults = defaults
        self.max_layers = max_layers
        self.nodes: list[GraphNode] = []
        self.blobs: dict[str, _Blob] = {}
        self.names: dict[str, Location] = {}
        self.input_shape: Shape | None = None
        self.input_at: Location | None = None
        self.read: set[int] = set()
        # A BatchNorm's node that no Scale has joined yet: Caffe's BatchNorm holds only the
        # statistics; the Scale after it holds γ and β.
        self.batchnorms: set[int] = set()
        self.pools: list[tuple[int, tuple[int, int], tuple[int, int], tuple[int, int]]] = []

    # The input ---------------------------------------------------------------------------

    def set_input(self, shape: Shape, blob: str, at: Location) -> None:
        if self.input_at is not None:
            raise ConvcostError(
                f"a second input '{blob}' (the first is at line {self.input_at.line}); "
                "convcost analyses networks with one image input",
                at,
            )
        self.input_shape, self.input_at = self.asked or shape, at
        self.blobs[blob] = _Blob(INPUT, at)

    def dims_shape(self, dims: list[Field], what: str, at: Location) -> Shape:
        values = [_whole(field, what, 1) for field in dims]
        if len(values) != 4:
            raise ConvcostError(
                f"{what} has {len(values)} dims; convcost reads 4: N, C, H, W (the batch N "
                "is not read: --batch sets it), e.g. dim: 1 dim: 3 dim: 224 dim: 224",
                dims[0].at if dims else at,
            )
        _, c, h, w = values
        return Shape(h, w, c)

    def top_level_input(self) -> None:
        net = self.net
        for field in net.fields:
            if field.name not in _TOP_FIELDS:
                raise ConvcostError(
                    f"a network has no field '{field.name}' that convcost knows; it reads "
                    f"{', '.join(_TOP_FIELDS)}",
                    field.at,
                )
        names = net.all("input")
        dims = net.all("input_dim")
        shapes = net.all("input_shape")
        if not names:
            if dims or shapes:
                where = (dims or shapes)[0].at
                raise ConvcostError(
                    "input_dim or input_shape without input; name the input blob, e.g. "
                    'input: "data"',
                    where,
                )
            return
        what = "the network's"
        name = _string(names[0], what)
        if len(names) > 1:
            raise ConvcostError(
                f"a second input '{_string(names[1], what)}'; "
                "convcost analyses networks with one image input",
                names[1].at,
            )
        if dims and shapes:
            raise ConvcostError(
                "both input_dim and input_shape are given; give one of them", shapes[0].at
            )
        if shapes:
            shape = shapes[0].value
            if not isinstance(shape, Message):
                raise ConvcostError("input_shape is a message: input_shape { dim: N ... }",
                                    shapes[0].at)  # fmt: skip
            self.set_input(self.dims_shape(shape.all("dim"), "input_shape", shape.at), name,
                           names[0].at)  # fmt: skip
        elif dims:
            self.set_input(self.dims_shape(dims, "input_dim", names[0].at), name, names[0].at)
        else:
            raise ConvcostError(
                f"input '{name}' has no shape; add input_shape {{ dim: 1 dim: 3 dim: 224 dim: "
                "224 }, or four input_dim values (N, C, H, W)",
                names[0].at,
            )

    # Layers -------------------------------------------------------------------------------

    def build(self) -> Graph:
        self.top_level_input()
        new = self.net.all("layer")
        old = self.net.all("layers")
        if new and old:
            raise ConvcostError(
                "the file mixes layer { } and the old layers { }; Caffe reads one syntax per "
                "file (upgrade_net_proto_text converts the old one)",
                old[0].at if old[0].at.line > new[0].at.line else new[0].at,
            )
        for field in new or old:
            if not isinstance(field.value, Message):
                raise ConvcostError(f"{field.name} is a message: {field.name} {{ ... }}",
                                    field.at)  # fmt: skip
            self.layer(field.value, old=bool(old))
        if self.input_shape is None:
            raise ConvcostError(
                'the network has no input shape; add input: "data" with input_shape { dim: '
                "1 dim: 3 dim: 224 dim: 224 }, an Input layer, or a data layer's crop_size",
                self.net.at,
            )
        graph = Graph(self.input_shape, tuple(self.nodes))
        self.check_pools(graph)
        return graph

    def layer(self, layer: Message, old: bool) -> None:
        what = "the layer"
        if not _in_test_phase(layer):
            return
        type_field = _single(layer, "type", what)
        if type_field is None:
            raise ConvcostError(
                'a layer without a type; add one, e.g. type: "Convolution"', layer.at
            )
        type_value = _scalar(type_field, what)
        kind = type_value.text
        if old or type_value.kind == "word":
            if type_value.kind == "string" or kind not in _V1_TYPES:
                known = ", ".join(_V1_TYPES)
                raise ConvcostError(
                    f"unknown layer type {kind!r} in the old layers {{ }} syntax; convcost "
                    f"reads {known}",
                    type_value.at,
                )
            kind = _V1_TYPES[kind]
        name_field = _single(layer, "name", what)
        tops = [_string(field, what) for field in layer.all("top")]
        bottoms = [(_string(field, what), field.value.at) for field in layer.all("bottom")
                   if isinstance(field.value, Scalar)]  # fmt: skip
        name = _string(name_field, what) if name_field else (tops[0] if tops else "")
        if not name:
            raise ConvcostError('a layer without a name or top; add name: "..."', layer.at)
        if kind in _HEADS and any(self.reads_labels(blob) for blob, _ in bottoms):
            return
        if kind not in _SUPPORTED:
            raise ConvcostError(
                f"layer '{name}' has type {kind!r}, which convcost does not count; it reads "
                f"{', '.join(_SUPPORTED)} (a deploy.prototxt has no loss or accuracy layers)",
                type_value.at,
            )
        at = layer.at
        if kind in ("Input", *_DATA_TYPES):
            self.input_layer(kind, name, layer, tops, at)
            return
        sources = [self.source(blob, blob_at, name) for blob, blob_at in bottoms]
        if not sources:
            raise ConvcostError(
                f"layer '{name}' ({kind}) has no bottom; name the blob it reads, e.g. "
                'bottom: "data"',
                at,
            )
        if kind == "Split":
            for top in tops:
                self.blobs[top] = _Blob(sources[0], at)
            return
        if kind not in ("Concat", "Eltwise") and len(sources) != 1:
            raise ConvcostError(
                f"layer '{name}' ({kind}) reads {len(sources)} bottoms; it reads one",
                layer.all("bottom")[1].at,
            )
        if len(tops) != 1:
            raise ConvcostError(
                f"layer '{name}' ({kind}) has {len(tops)} tops; it makes one, e.g. top: \"{name}\"",
                at,
            )
        if kind == "Scale":
            self.scale(name, layer, sources[0], tops[0], at)
            return
        made = self.make(kind, name, layer, len(sources))
        self.add(name, made, tuple(sources), tops[0], at)
        if kind == "BatchNorm":
            self.batchnorms.add(len(self.nodes) - 1)

    def reads_labels(self, blob: str) -> bool:
        found = self.blobs.get(blob)
        return found is not None and found.node == _LABELS

    def source(self, blob: str, at: Location, name: str) -> int:
        found = self.blobs.get(blob)
        if found is None:
            known = ", ".join(self.blobs) or "none yet"
            raise ConvcostError(
                f"layer '{name}' reads blob '{blob}', which no layer before it makes; a "
                f"bottom names an earlier top (blobs so far: {known})",
                at,
            )
        if found.node == _LABELS:
            raise ConvcostError(
                f"layer '{name}' reads '{blob}', the data layer's labels; convcost counts "
                "the network from its image input (drop loss and accuracy layers)",
                at,
            )
        if found.node != INPUT:
            self.read.add(found.node)
        return found.node

    def add(self, name: str, layer: Layer, inputs: tuple[int, ...], top: str, at: Location) -> None:
        if name in self.names:
            first = self.names[name]
            raise ConvcostError(
                f"layer name '{name}' is used twice (first at line {first.line}); Caffe's "
                "layer names are unique",
                at,
            )
        if len(self.nodes) >= self.max_layers:
            raise ConvcostError(
                f"the network has more than {self.max_layers:,} layers; raise --max-layers "
                "to read it",
                at,
            )
        self.names[name] = at
        joins, origin = ("input", name) if isinstance(layer, Merge) else ("input", "")
        self.nodes.append(GraphNode("", name, layer, inputs, -1, 0, at, joins, origin))
        self.blobs[top] = _Blob(len(self.nodes) - 1, at)

    def input_layer(
        self, kind: str, name: str, layer: Message, tops: list[str], at: Location
    ) -> None:
        if not tops:
            raise ConvcostError(f"{kind} layer '{name}' has no top; add top: \"data\"", at)
        if kind == "Input":
            param = _sub(layer, "input_param", f"layer '{name}'")
            shapes = param.all("shape")
            if len(shapes) != 1 or len(tops) != 1:
                raise ConvcostError(
                    f"Input layer '{name}' has {len(tops)} tops and {len(shapes)} shapes; "
                    "convcost reads one input: one top, one shape { dim: ... }",
                    at,
                )
            shape = shapes[0].value
            if not isinstance(shape, Message):
                raise ConvcostError("shape is a message: shape { dim: N ... }", shapes[0].at)
            what = f"Input layer '{name}' shape"
            self.set_input(self.dims_shape(shape.all("dim"), what, shape.at), tops[0], at)
            return
        transform = _sub(layer, "transform_param", f"layer '{name}'")
        crop = _int(transform, "crop_size", f"layer '{name}' transform_param", 0)
        if crop == 0:
            raise ConvcostError(
                f"data layer '{name}' has no crop_size, so its image size is the data set's; "
                "add transform_param { crop_size: N }, or use an Input layer with a shape",
                at,
            )
        self.set_input(Shape(crop, crop, 3), tops[0], at)
        for top in tops[1:]:
            self.blobs[top] = _Blob(_LABELS, at)

    def make(self, kind: str, name: str, layer: Message, inputs: int) -> Layer:
        what = f"layer '{name}'"
        if kind in ("Convolution", "Deconvolution"):
            # A Deconvolution is Caffe's transposed convolution, with the same parameters:
            # stride·(n − 1) + dilated kernel − 2·pad, as PyTorch's ConvTranspose2d.
            made = "conv" if kind == "Convolution" else "convtranspose"
            return self.convolution(_sub(layer, "convolution_param", what), what, made)
        if kind == "Pooling":
            return self.pooling(_sub(layer, "pooling_param", what), what)
        if kind == "InnerProduct":
            param = _sub(layer, "inner_product_param", what)
            what += " inner_product_param"
            _only(param, what, ("num_output", "bias_term", "axis"), ("transpose", *_FILLERS))
            _require_axis(param, what, "axis")
            raw: dict[str, object] = {"units": _required(param, "num_output", what)}
            bias = _bool(param, "bias_term", what, True)
            if bias is not None:
                raw["bias"] = bias
            return self.built("dense", raw, param)
        if kind == "ReLU":
            param = _sub(layer, "relu_param", what)
            _only(param, what + " relu_param", ("negative_slope",), ("engine",))
            slope = _float(param, "negative_slope", what + " relu_param", 0.0)
            return self.built("leakyrelu" if slope else "relu", {}, param)
        if kind in ("Sigmoid", "TanH"):
            return self.built(kind.lower(), {}, layer)
        if kind == "Softmax":
            param = _sub(layer, "softmax_param", what)
            _only(param, what + " softmax_param", ("axis",), ("engine",))
            _require_axis(param, what + " softmax_param", "axis")
            return self.built("softmax", {}, param)
        if kind == "LRN":
            param = _sub(layer, "lrn_param", what)
            what += " lrn_param"
            _only(param, what, ("local_size", "norm_region"), ("alpha", "beta", "k", "engine"))
            region = _enum(param, "norm_region", what, ("ACROSS_CHANNELS", "WITHIN_CHANNEL"),
                           "ACROSS_CHANNELS")  # fmt: skip
            if region != "ACROSS_CHANNELS":
                raise ConvcostError(
                    f"{what}: norm_region {region} is not counted; convcost's lrn normalizes "
                    "across channels (ACROSS_CHANNELS, Caffe's default)",
                    param.at,
                )
            return self.built("lrn", {"size": _int(param, "local_size", what, 5, 1)}, param)
        if kind == "Dropout":
            param = _sub(layer, "dropout_param", what)
            _only(param, what + " dropout_param", ("dropout_ratio",), ("scale_train",))
            ratio = _float(param, "dropout_ratio", what + " dropout_param", 0.5)
            return self.built("dropout", {"rate": ratio}, param)
        if kind == "Flatten":
            param = _sub(layer, "flatten_param", what)
            _only(param, what + " flatten_param", ("axis", "end_axis"), ())
            _require_axis(param, what + " flatten_param", "axis")
            if _signed(param, "end_axis", what + " flatten_param", -1) != -1:
                raise ConvcostError(
                    f"{what} flatten_param: end_axis other than -1 is not counted; convcost "
                    "flattens C, H and W together",
                    param.at,
                )
            return self.built("flatten", {}, param)
        if kind == "BatchNorm":
            param = _sub(layer, "batch_norm_param", what)
            _only(param, what + " batch_norm_param", (),
                  ("use_global_stats", "moving_average_fraction", "eps"))  # fmt: skip
            return BatchNorm(affine=False)
        if kind == "Concat":
            param = _sub(layer, "concat_param", what)
            what += " concat_param"
            _only(param, what, ("axis", "concat_dim"), ())
            _require_axis(param, what, "axis")
            _require_axis(param, what, "concat_dim")
            return self.merge("concat", inputs, what, layer)
        assert kind == "Eltwise"
        param = _sub(layer, "eltwise_param", what)
        what += " eltwise_param"
        _only(param, what, ("operation",), ("coeff", "stable_prod_grad"))
        operation = _enum(param, "operation", what, ("PROD", "SUM", "MAX"), "SUM")
        if operation == "MAX":
            raise ConvcostError(
                f"{what}: operation MAX cannot be counted; convcost's merges are concat, add "
                "(SUM) and mul (PROD), and an elementwise maximum is none of them",
                param.at,
            )
        return self.merge("add" if operation == "SUM" else "mul", inputs, what, layer)

    def merge(self, op: str, inputs: int, what: str, layer: Message) -> Layer:
        if inputs < 2:
            raise ConvcostError(f"{what}: a {op} reads two or more bottoms", layer.at)
        return Merge(op=op)

    def built(self, kind: str, raw: Mapping[str, object], param: Message) -> Layer:
        """``build_layer``'s layer; a setting it refuses is reported at the parameters."""
        try:
            return build_layer(kind, raw, self.defaults)
        except ConvcostError as error:
            raise error.located(param.at) from None

    def convolution(self, param: Message, what: str, kind: str = "conv") -> Layer:
        what += " convolution_param"
        _only(
            param,
            what,
            ("num_output", "bias_term", "kernel_size", "kernel_h", "kernel_w", "stride",
             "stride_h", "stride_w", "pad", "pad_h", "pad_w", "dilation", "group", "axis"),
            ("force_nd_im2col", *_FILLERS),
        )  # fmt: skip
        _require_axis(param, what, "axis")
        kernel = _pair(param, "kernel_size", "kernel_h", "kernel_w", what, None)
        raw: dict[str, object] = {
            "filters": _required(param, "num_output", what),
            "kernel": list(kernel),
            "stride": list(_pair(param, "stride", "stride_h", "stride_w", what, 1)),
            "padding": list(_pair(param, "pad", "pad_h", "pad_w", what, 0)),
            "dilation": list(_pair(param, "dilation", None, None, what, 1)),
            "groups": _int(param, "group", what, 1, 1),
        }
        bias = _bool(param, "bias_term", what, True)
        if bias is not None:
            raw["bias"] = bias
        return self.built(kind, raw, param)

    def pooling(self, param: Message, what: str) -> Layer:
        what += " pooling_param"
        _only(
            param,
            what,
            ("pool", "kernel_size", "kernel_h", "kernel_w", "stride", "stride_h", "stride_w",
             "pad", "pad_h", "pad_w", "global_pooling", "round_mode"),
            ("engine",),
        )  # fmt: skip
        pool = _enum(param, "pool", what, ("MAX", "AVE", "STOCHASTIC"), "MAX")
        if pool == "STOCHASTIC":
            raise ConvcostError(
                f"{what}: pool STOCHASTIC is not counted; convcost's pools are MAX and AVE",
                param.at,
            )
        if _bool(param, "global_pooling", what, False):
            return self.built("globalmaxpool" if pool == "MAX" else "globalavgpool", {}, param)
        kernel = _pair(param, "kernel_size", "kernel_h", "kernel_w", what, None)
        stride = _pair(param, "stride", "stride_h", "stride_w", what, 1)
        pad = _pair(param, "pad", "pad_h", "pad_w", what, 0)
        ceil = _enum(param, "round_mode", what, ("CEIL", "FLOOR"), "CEIL") == "CEIL"
        made = self.built(
            "maxpool" if pool == "MAX" else "avgpool",
            {"kernel": list(kernel), "stride": list(stride), "padding": list(pad),
             "ceil_mode": ceil},
            param,
        )  # fmt: skip
        if ceil and pad == (0, 0) and (kernel[0] < stride[0] or kernel[1] < stride[1]):
            self.pools.append((len(self.nodes), kernel, stride, pad))
        return made

    def scale(self, name: str, layer: Message, source: int, top: str, at: Location) -> None:
        """A Scale joins the BatchNorm it follows: the pair is convcost's batchnorm with γ
        and β (Caffe's BatchNorm holds the statistics, its Scale the affine parameters)."""
        what = f"layer '{name}' scale_param"
        param = _sub(layer, "scale_param", f"layer '{name}'")
        _only(param, what, ("bias_term", "axis", "num_axes"), ("filler", "bias_filler"))
        _require_axis(param, what, "axis")
        if _int(param, "num_axes", what, 1) != 1:
            raise ConvcostError(f"{what}: num_axes other than 1 is not counted; convcost "
                                "scales each channel", param.at)  # fmt: skip
        if source not in self.batchnorms:
            raise ConvcostError(
                f"Scale layer '{name}' does not follow a BatchNorm; convcost counts a Scale "
                "only as the γ and β of the BatchNorm whose top it reads",
                at,
            )
        if not _bool(param, "bias_term", what, False):
            raise ConvcostError(
                f"Scale layer '{name}' after a BatchNorm has no bias_term: true; convcost's "
                "batchnorm has γ and β together (add bias_term: true, as Caffe's ResNets do)",
                at,
            )
        self.batchnorms.discard(source)
        self.nodes[source] = self.nodes[source]._replace(layer=BatchNorm(affine=True))
        self.blobs[top] = _Blob(source, at)

    def check_pools(self, graph: Graph) -> None:
        """Caffe's rule and PyTorch's (convcost's ``ceil_mode``) agree except for an
        unpadded pool whose window is smaller than its stride: Caffe drops a last window
        that would start past the input only when padded, so there it keeps an empty one.
        Such a pool is refused rather than counted with a window Caffe computes nothing in."""
        if not self.pools:
            return
        from convcost.core.analysis import evaluate_prefix
        from convcost.core.kinds.base import Evaluation

        evaluations: list[Evaluation] = []
        shapes: list[Shape] = []
        for index, kernel, stride, _ in self.pools:
            evaluate_prefix(graph.nodes, graph.input_shape, evaluations, shapes, index)
            node = graph.nodes[index]
            source = node.inputs[0]
            inp = graph.input_shape if source == INPUT else shapes[source]
            for size, k, s, out in ((inp.h, kernel[0], stride[0], shapes[index].h),
                                    (inp.w, kernel[1], stride[1], shapes[index].w)):  # fmt: skip
                caffe = -(-(size - k) // s) + 1
                if caffe != out:
                    raise ConvcostError(
                        f"layer '{node.name}' (pool {k} stride {s} on {inp}): Caffe makes "
                        f"{caffe} windows on {size}, the last starting past the input (empty); "
                        f"convcost counts the {out} that hold values: pad the pool or make its "
                        "window at least its stride",
                        node.location,
                    )


def _in_test_phase(layer: Message) -> bool:
    """Whether the layer is in the network at test time (a deploy network): a layer
    included only in TRAIN, or excluded from TEST, is not."""
    for rule_name, wanted in (("include", True), ("exclude", False)):
        rules = layer.all(rule_name)
        if not rules:
            continue
        phases = []
        for rule in rules:
            if isinstance(rule.value, Message):
                phase = _single(rule.value, "phase", rule_name)
                if phase is not None:
                    phases.append(_scalar(phase, rule_name).text)
        if wanted and phases and "TEST" not in phases:
            return False
        if not wanted and "TEST" in phases:
            return False
    phase = _single(layer, "phase", "the layer")
    return phase is None or _scalar(phase, "the layer").text == "TEST"


def _required(param: Message, name: str, what: str) -> int:
    field = _single(param, name, what)
    if field is None:
        raise ConvcostError(f"{what} has no {name}; add it, e.g. {name}: 64", param.at)
    return _whole(field, what, 1)


def _signed(param: Message, name: str, what: str, default: int) -> int:
    field = _single(param, name, what)
    if field is None:
        return default
    value = _scalar(field, what)
    try:
        return int(value.text)
    except ValueError:
        raise ConvcostError(f"{what} {name} must be a whole number", value.at) from None


def _require_axis(param: Message, what: str, name: str) -> None:
    """Caffe's axis 1 is the channels, the only one convcost's layers work along."""
    if _signed(param, name, what, 1) != 1:
        raise ConvcostError(
            f"{what} {name} other than 1 is not counted; convcost's layers work along the "
            "channels (axis 1 of N, C, H, W)",
            param.at,
        )


def _pair(
    param: Message,
    name: str,
    name_h: str | None,
    name_w: str | None,
    what: str,
    default: int | None,
) -> tuple[int, int]:
    """A size given as ``name`` (once for both axes, or twice: height, then width) or as
    ``name_h`` and ``name_w``; Caffe refuses both ways at once, and so does convcost."""
    least = 1 if default != 0 else 0
    values = [_whole(field, what, least) for field in param.all(name)]
    split = [f for f in (name_h, name_w) if f is not None and param.all(f)]
    if values and split:
        raise ConvcostError(
            f"{what} gives both {name} and {split[0]}; give one of them",
            param.all(split[0])[0].at,
        )
    if len(values) > 2:
        raise ConvcostError(
            f"{what} {name} is given {len(values)} times; give it once, or twice (height, width)",
            param.all(name)[2].at,
        )
    if values:
        return (values[0], values[-1])
    if split:
        assert name_h is not None and name_w is not None
        if len(split) != 2 and default is None:
            raise ConvcostError(f"{what} needs both {name_h} and {name_w}", param.at)
        fallback = 0 if default is None else default
        return (_int(param, name_h, what, fallback, least), _int(param, name_w, what, fallback,
                                                                 least))  # fmt: skip
    if default is None:
        raise ConvcostError(
            f"{what} has no {name}; add it (e.g. {name}: 3), or {name_h} and {name_w}",
            param.at,
        )
    return (default, default)


def parse_prototxt(
    text: str,
    source: str,
    defaults: Mapping[str, object] | None = None,
    max_layers: int = MAX_LAYERS,
    input_shape: Shape | None = None,
) -> tuple[Graph, str]:
    """A Caffe network file's text as the graph convcost analyses, and its ``name:``;
    ``input_shape`` instead of the file's (its pools checked at that size)."""
    net = parse_text(text, source, VALUES_PER_ROW * max_layers)
    graph = _Builder(net, defaults, max_layers, input_shape).build()
    found = _single(net, "name", "the network's")
    return graph, _string(found, "the network's") if found else ""
