"""An operator convcost cannot count: read from a model file, kept in the graph so that
the network goes on through it, and reported rather than counted as zero."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import field
from typing import NamedTuple

from convcost.core import fields
from convcost.core.kinds.base import Evaluation, Layer, param
from convcost.core.shapes import Shape


class Uncounted(Layer, register=False):
    """An operator of a model file (``op``: its type, ``Einsum``, ``com.example.Foo``)
    whose arithmetic and weights convcost does not know. Its output shape is the one the
    file gives (or ONNX's shape inference); its MACs, parameters, buffers and operations are
    unknown, shown as such, and left out of the totals, which then say so. Users do not
    write it: readers of model files make it."""

    kind = "uncounted"
    summary = "an operator of a model file that convcost cannot count"

    op: str = param(fields.name, "the operator's type, as the file names it")
    output: Shape = field()  # its output's shape, as the file gives it
    reason: str = field(default="")  # for a known operator: the form convcost does not count

    def evaluate(self, inp: Shape) -> Evaluation:
        return Evaluation(self.output)

    def config(self) -> str:
        return self.op


class UncountedOps(NamedTuple):
    """The operators of one type that a network could not count, and the layers they are."""

    op: str
    number: int
    layers: tuple[str, ...]


def uncounted_ops(layers: Iterable[tuple[str, Layer]]) -> tuple[UncountedOps, ...]:
    """The uncounted operators among named layers, by type, in the order first met."""
    found: dict[str, list[str]] = {}
    for name, layer in layers:
        if isinstance(layer, Uncounted):
            found.setdefault(layer.op, []).append(name)
    return tuple(UncountedOps(op, len(names), tuple(names)) for op, names in found.items())


def described(ops: Iterable[UncountedOps], shown: int = 3) -> str:
    """``Einsum ×2 (a, b); TopK ×1 (t)``: each type, its count and its first layers."""
    parts = []
    for op in ops:
        names = ", ".join(op.layers[:shown]) + (", ..." if op.number > shown else "")
        parts.append(f"{op.op} ×{op.number} ({names})")
    return "; ".join(parts)
