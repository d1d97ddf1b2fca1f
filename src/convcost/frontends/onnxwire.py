"""A bounded reader of the ONNX protobuf wire format, for the part of ``onnx.proto`` that
convcost needs: the opsets, the graph's nodes, attributes, inputs and outputs, and the names,
shapes and (small) values of initializers.

No ``onnx`` or ``protobuf`` import: ``import onnx`` alone takes most of a second (it pulls
NumPy and more), more than analysing a ResNet-50 file takes here. Weight bytes are skipped
by their length without being copied or decoded; only tensors of a few elements (shapes for
Reshape, scales for Resize, a Clip's bounds) have their values read. External data is never
opened.

Field numbers are those of ONNX's published schema, ``onnx/onnx.in.proto`` in
https://github.com/onnx/onnx (the same in onnx 1.23.1's ``onnx.proto``), cited at each
message below. Protobuf's wire format: https://protobuf.dev/programming-guides/encoding/
(varints, the four wire types used here, packed repeated fields).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

MAX_NODES = 200_000
MAX_TENSORS = 200_000
MAX_DIMS = 16  # a tensor's rank
MAX_LIST = 4096  # ints or floats in one attribute, names in a node's inputs or outputs
MAX_VALUES = 4096  # elements of a constant tensor whose values are read
MAX_NESTING = 4  # graphs in attributes of graphs' nodes: deeper ones are not read


class Garbled(Exception):
    """The bytes are not an ONNX model as the schema lays it out (the reason says where)."""


BATCH = "N"
"""The batch dimension in a shape read from a file (symbolic, or whatever the file says)."""

Dim = int | str  # a fixed size, or a symbolic dimension's name (dim_param)


class Tensor(NamedTuple):
    """A constant tensor: its dims and, for small tensors of numbers, its values (flat)."""

    name: str
    dims: tuple[int, ...]
    data_type: int
    values: tuple[int | float, ...] | None  # None: not read (weights), or not numbers
    external: bool = False


class Attribute(NamedTuple):
    name: str
    value: int | float | str | tuple[int, ...] | tuple[float, ...] | Tensor | Subgraph | None


SUBGRAPH = "\x00subgraph"
"""The value of an attribute that holds a graph not read (nested deeper, or a list)."""


class Node(NamedTuple):
    name: str
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, Attribute]
    subgraph: bool = False  # holds a graph (If, Loop, Scan): reads tensors it does not list


class Subgraph(NamedTuple):
    """A graph an attribute holds (an If's branches): its nodes, and the names it returns."""

    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]


class ValueInfo(NamedTuple):
    name: str
    dims: tuple[Dim | None, ...] | None  # None: no shape given; a None dim: unknown


class Model(NamedTuple):
    opsets: dict[str, int]
    nodes: tuple[Node, ...]
    initializers: dict[str, Tensor]
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    value_info: tuple[ValueInfo, ...] = ()  # shapes of inner tensors, where the file has them


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise Garbled("a number runs past the end of its message (truncated?)")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise Garbled("a number longer than 10 bytes")


def _signed(value: int) -> int:
    """An int64 as protobuf writes it (two's complement in 64 bits)."""
    value &= 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= 1 << 63 else value


def _fields(data: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Each field of a message as (number, wire type, value or start, stop): a varint's
    value (stop unused), or where a length-delimited or fixed-size field's bytes lie."""
    while pos < end:
        key, pos = _varint(data, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise Garbled("a field numbered 0")
        if wire == 0:
            value, pos = _varint(data, pos, end)
            yield number, 0, value, pos
        elif wire == 2:
            length, pos = _varint(data, pos, end)
            stop = pos + length
            if stop > end:
                raise Garbled("a field runs past the end of its message (truncated?)")
            yield number, 2, pos, stop
            pos = stop
        elif wire == 1 or wire == 5:
            stop = pos + (8 if wire == 1 else 4)
            if stop > end:
                raise Garbled("a field runs past the end of its message (truncated?)")
            yield number, wire, pos, stop
            pos = stop
        else:
            raise Garbled(f"wire type {wire}, which ONNX does not use")


def _text(data: bytes, start: int, stop: int) -> str:
    if stop - start > 4096:
        raise Garbled("a name longer than 4096 bytes")
    text = bytes(data[start:stop]).decode("utf-8", errors="replace")
    if text.isprintable():
        return text
    # Messages and tables show names on one line: no control characters.
    return "".join(char if char.isprintable() else "?" for char in text)


def _ints(data: bytes, wire: int, value: int, stop: int, into: list[int]) -> None:
    """A repeated int64/int32 field: one varint, or a packed run of them."""
    if wire == 0:
        into.append(_signed(value))
    elif wire == 2:
        pos = value
        while pos < stop:
            item, pos = _varint(data, pos, stop)
            into.append(_signed(item))
    else:
        raise Garbled("an integer list of the wrong wire type")
    if len(into) > MAX_LIST:
        raise Garbled(f"a list of more than {MAX_LIST} integers")


def _floats(data: bytes, wire: int, value: int, stop: int, into: list[float]) -> None:
    """A repeated float field: one fixed32, or a packed run of them."""
    if wire == 5:
        into.append(struct.unpack_from("<f", data, value)[0])
    elif wire == 2:
        if (stop - value) % 4:
            raise Garbled("a packed float list whose length is not a multiple of 4")
        into.extend(struct.unpack_from(f"<{(stop - value) // 4}f", data, value))
    else:
        raise Garbled("a float list of the wrong wire type")
    if len(into) > MAX_LIST:
        raise Garbled(f"a list of more than {MAX_LIST} floats")


_RAW_FORMATS = {1: "f", 6: "i", 7: "q", 11: "d"}  # TensorProto.DataType: FLOAT INT32 INT64 DOUBLE
_INTEGER_TYPES = {2, 3, 4, 5, 6, 7, 9, 12, 13}  # UINT8 INT8 UINT16 INT16 INT32 INT64 BOOL UINT32/64


def _tensor(data: bytes, start: int, end: int) -> Tensor:
    """TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7,
    name = 8, raw_data = 9, double_data = 10, data_location = 14 (EXTERNAL = 1)."""
    name = ""
    dims: list[int] = []
    data_type = 0
    raw: tuple[int, int] | None = None
    ints: list[int] = []
    floats: list[float] = []
    external = False
    for number, wire, value, stop in _fields(data, start, end):
        if number == 1:
            _ints(data, wire, value, stop, dims)
            if len(dims) > MAX_DIMS:
                raise Garbled(f"a tensor of more than {MAX_DIMS} dimensions")
        elif number == 2 and wire == 0:
            data_type = value
        elif number == 8 and wire == 2:
            name = _text(data, value, stop)
        elif number == 9 and wire == 2:
            raw = (value, stop)  # weights: where they lie, not copied
        elif number == 14 and wire == 0:
            external = value == 1
        elif number in (5, 7) and ((wire == 2 and stop - value <= 10 * MAX_VALUES) or wire == 0):
            _ints(data, wire, value, stop, ints)
        elif number == 4 and ((wire == 2 and stop - value <= 4 * MAX_VALUES) or wire == 5):
            _floats(data, wire, value, stop, floats)
    if any(dim < 0 for dim in dims):
        raise Garbled(f"tensor '{name}' has a negative dimension")
    count = 1
    for dim in dims:
        count *= dim
    values: tuple[int | float, ...] | None = None
    if count <= MAX_VALUES and not external:
        if raw is not None and data_type in _RAW_FORMATS:
            size = struct.calcsize(_RAW_FORMATS[data_type])
            if raw[1] - raw[0] == size * count:
                values = struct.unpack_from(f"<{count}{_RAW_FORMATS[data_type]}", data, raw[0])
        elif len(ints) == count and data_type in _INTEGER_TYPES:
            values = tuple(ints)
        elif len(floats) == count and data_type == 1:
            values = tuple(floats)
    return Tensor(name, tuple(dims), data_type, values, external)


def _attribute(data: bytes, start: int, end: int, nesting: int) -> Attribute:
    """AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8,
    graphs = 11, type = 20 (FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7,
    GRAPHS 10). A graph's nodes and outputs are read (PyTorch writes an If in its
    LocalResponseNorm), down to MAX_NESTING levels; deeper graphs and lists of graphs are
    only noted (``SUBGRAPH``); the other kinds are not read."""
    name = ""
    kind = 0
    scalar: int | float | str | Tensor | Subgraph | None = None
    ints: list[int] = []
    floats: list[float] = []
    for number, wire, value, stop in _fields(data, start, end):
        if number == 1 and wire == 2:
            name = _text(data, value, stop)
        elif number == 20 and wire == 0:
            kind = value
        elif number == 2 and wire == 5:
            scalar = struct.unpack_from("<f", data, value)[0]
        elif number == 3 and wire == 0:
            scalar = _signed(value)
        elif number == 4 and wire == 2:
            scalar = _text(data, value, stop)
        elif number == 5 and wire == 2:
            scalar = _tensor(data, value, stop)
        elif number == 6 and wire == 2 and nesting < MAX_NESTING:
            scalar = _subgraph(data, value, stop, nesting + 1)
            kind = 5
        elif number == 7:
            _floats(data, wire, value, stop, floats)
        elif number == 8:
            _ints(data, wire, value, stop, ints)
        elif number in (6, 11):
            kind = 10  # noted, not read
    if kind == 5 and isinstance(scalar, Subgraph):
        return Attribute(name, scalar)
    if kind in (5, 10):
        return Attribute(name, SUBGRAPH)
    if kind == 6 or (kind == 0 and floats):
        return Attribute(name, tuple(floats))
    if kind == 7 or (kind == 0 and ints):
        return Attribute(name, tuple(ints))
    return Attribute(name, scalar)


def _node(data: bytes, start: int, end: int, nesting: int = 0) -> Node:
    """NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7.
    ``nesting``: how many graphs in attributes hold the node."""
    inputs: list[str] = []
    outputs: list[str] = []
    name = op_type = domain = ""
    attributes: dict[str, Attribute] = {}
    for number, wire, value, stop in _fields(data, start, end):
        if wire != 2:
            continue
        if number == 1:
            inputs.append(_text(data, value, stop))
        elif number == 2:
            outputs.append(_text(data, value, stop))
        elif number == 3:
            name = _text(data, value, stop)
        elif number == 4:
            op_type = _text(data, value, stop)
        elif number == 7:
            domain = _text(data, value, stop)
        elif number == 5:
            attribute = _attribute(data, value, stop, nesting)
            attributes[attribute.name] = attribute
        if len(inputs) + len(outputs) + len(attributes) > MAX_LIST:
            raise Garbled(f"a node with more than {MAX_LIST} inputs, outputs and attributes")
    subgraph = any(a.value == SUBGRAPH or isinstance(a.value, Subgraph)
                   for a in attributes.values())  # fmt: skip
    return Node(name, op_type, domain, tuple(inputs), tuple(outputs), attributes, subgraph)


def _subgraph(data: bytes, start: int, end: int, nesting: int) -> Subgraph:
    """GraphProto in an attribute: node = 1, output = 12 (ValueInfoProto: name = 1)."""
    nodes: list[Node] = []
    outputs: list[str] = []
    for number, wire, value, stop in _fields(data, start, end):
        if wire != 2:
            continue
        if number == 1:
            nodes.append(_node(data, value, stop, nesting))
            if len(nodes) > MAX_NODES:
                raise Garbled(f"more than {MAX_NODES:,} nodes in a graph of an attribute")
        elif number == 12:
            outputs.append(_value_info(data, value, stop).name)
            if len(outputs) > MAX_LIST:
                raise Garbled(f"more than {MAX_LIST} outputs of a graph of an attribute")
    return Subgraph(tuple(nodes), tuple(outputs))


def _dimension(data: bytes, start: int, end: int) -> Dim | None:
    """TensorShapeProto.Dimension: dim_value = 1, dim_param = 2."""
    found: Dim | None = None
    for number, wire, value, stop in _fields(data, start, end):
        if number == 1 and wire == 0:
            found = _signed(value)
        elif number == 2 and wire == 2:
            found = _text(data, value, stop)
    return found


def _value_info(data: bytes, start: int, end: int) -> ValueInfo:
    """ValueInfoProto: name = 1, type = 2; TypeProto: tensor_type = 1; TypeProto.Tensor:
    shape = 2; TensorShapeProto: dim = 1."""
    name = ""
    dims: tuple[Dim | None, ...] | None = None
    for number, wire, value, stop in _fields(data, start, end):
        if number == 1 and wire == 2:
            name = _text(data, value, stop)
        elif number == 2 and wire == 2:
            for n1, w1, v1, s1 in _fields(data, value, stop):
                if n1 != 1 or w1 != 2:
                    continue
                for n2, w2, v2, s2 in _fields(data, v1, s1):
                    if n2 != 2 or w2 != 2:
                        continue
                    found: list[Dim | None] = []
                    for n3, w3, v3, s3 in _fields(data, v2, s2):
                        if n3 == 1 and w3 == 2:
                            found.append(_dimension(data, v3, s3))
                            if len(found) > MAX_DIMS:
                                raise Garbled(f"a shape of more than {MAX_DIMS} dimensions")
                    dims = tuple(found)
    return ValueInfo(name, dims)


def _graph(data: bytes, start: int, end: int) -> tuple[
    tuple[Node, ...], dict[str, Tensor], tuple[ValueInfo, ...], tuple[ValueInfo, ...],
    tuple[ValueInfo, ...],
]:  # fmt: skip
    """GraphProto: node = 1, initializer = 5, input = 11, output = 12, value_info = 13
    (convcost works shapes out itself; the file's are the output shapes of operators it
    cannot count)."""
    nodes: list[Node] = []
    initializers: dict[str, Tensor] = {}
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    inner: list[ValueInfo] = []
    for number, wire, value, stop in _fields(data, start, end):
        if wire != 2:
            continue
        if number == 1:
            nodes.append(_node(data, value, stop))
            if len(nodes) > MAX_NODES:
                raise Garbled(f"more than {MAX_NODES:,} nodes")
        elif number == 5:
            tensor = _tensor(data, value, stop)
            initializers[tensor.name] = tensor
            if len(initializers) > MAX_TENSORS:
                raise Garbled(f"more than {MAX_TENSORS:,} initializers")
        elif number == 11:
            inputs.append(_value_info(data, value, stop))
        elif number == 12:
            outputs.append(_value_info(data, value, stop))
        elif number == 13:
            inner.append(_value_info(data, value, stop))
        if len(inputs) + len(outputs) + len(inner) > MAX_TENSORS:
            raise Garbled(f"more than {MAX_TENSORS:,} graph inputs, outputs and value infos")
    return tuple(nodes), initializers, tuple(inputs), tuple(outputs), tuple(inner)


_MODEL_FIELDS = {1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26}  # ModelProto's field numbers


def read_model(data: bytes) -> Model:
    """ModelProto: opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2), graph =
    7. Raises Garbled for bytes that are not laid out as one."""
    opsets: dict[str, int] = {}
    graph: tuple[int, int] | None = None
    if data:
        key, _ = _varint(data, 0, min(len(data), 10))
        if key >> 3 not in _MODEL_FIELDS or key & 7 not in (0, 2):
            raise Garbled("its first bytes are no field of an ONNX model (another kind of file?)")
    for number, wire, value, stop in _fields(data, 0, len(data)):
        if number == 7 and wire == 2:
            graph = (value, stop)
        elif number == 8 and wire == 2:
            domain, version = "", 0
            for n1, w1, v1, s1 in _fields(data, value, stop):
                if n1 == 1 and w1 == 2:
                    domain = _text(data, v1, s1)
                elif n1 == 2 and w1 == 0:
                    version = _signed(v1)
            opsets[domain] = version
            if len(opsets) > MAX_LIST:
                raise Garbled(f"more than {MAX_LIST} opsets")
    if graph is None:
        raise Garbled("it has no graph")
    return Model(opsets, *_graph(data, *graph))
