"""Where inputs meet: concat, add and mul."""

from __future__ import annotations

from convcost.core import fields
from convcost.core.kinds.base import Layer, param

MERGES = ("concat", "add", "mul")


class Merge(Layer):
    """Where inputs meet: ``concat`` (channels), ``add`` or ``mul`` (elementwise, a 1×1×C
    input broadcast over H×W; no MACs). The analysis computes a merge's output from all its
    inputs (``convcost.core.analysis.merged_shape``); a config writes one as
    ``{type: add, from: [a, b]}``, and the concat: and residual: constructs make them too."""

    kind = "merge"
    summary = "joins the layers from: names: concat (channels), add or mul (elementwise)"
    presets = {op: {"op": op} for op in MERGES}

    op: str = param(fields.choice(*MERGES), "concat, add or mul", default="add")

    @property
    def kind_name(self) -> str:
        return self.op

    def config(self) -> str:
        return "channels" if self.op == "concat" else "elementwise"
