"""Where branches meet."""

from __future__ import annotations

from convcost.core.kinds.base import Layer


class Merge(Layer, register=False):
    """Where branches meet: ``concat`` (channels) or ``add`` (elementwise, no MACs).

    Not in the registry: the network's structure (concat:, residual:) creates merges.
    """

    kind = "merge"
    op: str

    @property
    def kind_name(self) -> str:
        return self.op

    def config(self) -> str:
        return "elementwise" if self.op == "add" else "channels"
