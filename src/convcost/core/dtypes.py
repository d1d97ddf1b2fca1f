"""Number formats: how many bytes a value takes in weights and in activations."""

from __future__ import annotations

from typing import NamedTuple

from convcost.core.errors import ConvcostError


class DType(NamedTuple):
    name: str  # as options and JSON write it: fp32
    bytes: int  # per value
    title: str  # in words, for tables' footers: float32


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("fp32", 4, "float32"),
        DType("fp16", 2, "float16"),
        DType("bf16", 2, "bfloat16"),
        DType("int8", 1, "int8"),
    )
}
FP32 = DTYPES["fp32"]


class Precision(NamedTuple):
    """The formats of a network's weights (parameters and buffers) and of its activations
    (every tensor a layer reads or writes). Arithmetic runs at the activations' format."""

    weights: DType = FP32
    activations: DType = FP32

    @property
    def label(self) -> str:
        """``fp32``, or ``int8 weights, fp16 activations`` when they differ."""
        if self.weights == self.activations:
            return self.weights.name
        return f"{self.weights.name} weights, {self.activations.name} activations"


def dtype(name: str, what: str = "--dtype") -> DType:
    """The format called ``name``; anything else is refused with the list of formats."""
    found = DTYPES.get(name.strip().lower())
    if found is None:
        raise ConvcostError(
            f"{what}: unknown number format {name!r}; use one of {', '.join(DTYPES)}"
        )
    return found


def precision(
    dtype_name: str | None = None,
    weights: str | None = None,
    activations: str | None = None,
) -> Precision:
    """The precision options ask for: ``--dtype`` for both, ``--weight-dtype`` and
    ``--activation-dtype`` for either (each overrides ``--dtype``)."""
    both = dtype(dtype_name) if dtype_name is not None else FP32
    return Precision(
        dtype(weights, "--weight-dtype") if weights is not None else both,
        dtype(activations, "--activation-dtype") if activations is not None else both,
    )
