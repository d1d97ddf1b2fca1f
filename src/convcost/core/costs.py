"""The records of costing (``convcost.core.costing``): how to cost a network (``Settings``)
and what it found, per layer (``LayerCost``) and for the whole network (``NetworkCosts``).
Kept apart from the costing itself so that reports can hold them without importing it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

from convcost.core.dtypes import Precision
from convcost.core.errors import ConvcostError
from convcost.core.records import record_maker

OPTIMIZERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
"""The optimizers training memory knows, and the values of state each keeps per parameter."""


class Hardware(Protocol):
    """What the roofline reads of a device (``convcost.core.devices.Device``)."""

    @property
    def name(self) -> str: ...

    @property
    def peak(self) -> Mapping[str, float]: ...  # operations/s by number format, dense

    @property
    def bandwidth(self) -> float: ...  # memory bytes/s


class Settings(NamedTuple):
    """How to cost a network: its number formats, the optimizer training memory assumes,
    the device the roofline times it on (None: no time), and whether to fuse."""

    precision: Precision = Precision()
    optimizer: str = "adam"
    device: Hardware | None = None
    fuse: bool = False


def optimizer_states(name: str) -> int:
    found = OPTIMIZERS.get(name.strip().lower())
    if found is None:
        raise ConvcostError(
            f"--optimizer: unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}"
        )
    return found


class LayerCost(NamedTuple):
    """One layer's (or, summed, a group's) bytes, arithmetic and time; batch included."""

    param_bytes: int  # its parameters at the weights' format
    weight_bytes: int  # parameters and buffers (BatchNorm's running statistics) it reads
    input_bytes: int  # every tensor it reads
    output_bytes: int  # the tensor it makes (or, in place, overwrites)
    ops: int  # arithmetic operations: 2 per MAC, bias additions, other_ops()
    bytes_moved: int  # what the roofline charges: weights, inputs, output (0: view, fused)
    live_bytes: int  # activations alive during its step (a group: the most, over its steps)
    latency_s: float | None = None  # with a device
    bound: str = ""  # with a device: compute, memory, fused, or none for a view (a group: "")
    fused: bool = False  # folded into the conv or dense layer before it (--fuse)

    @property
    def arithmetic_intensity(self) -> float | None:
        """Operations per byte moved (None when nothing moves)."""
        return self.ops / self.bytes_moved if self.bytes_moved else None


make_layer_cost = record_maker(LayerCost)  # LayerCost(...) without the class call's dispatch


class Peak(NamedTuple):
    bytes: int
    step: int  # the layer's index in the report (-1: no layers, the input alone)
    layer: str  # its full name


class Training(NamedTuple):
    """What training holds, in bytes: each part, and in ``total`` all of them."""

    optimizer: str
    params: int
    gradients: int
    optimizer_state: int
    buffers: int
    saved_activations: int

    @property
    def total(self) -> int:
        return (
            self.params + self.gradients + self.optimizer_state + self.buffers
            + self.saved_activations
        )  # fmt: skip


class NetworkCosts(NamedTuple):
    """The figures of the whole network only: peak inference memory and training memory."""

    settings: Settings
    peak: Peak
    training: Training
