"""What changed between two versions of a network, layer by layer (matched by name)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from convcost.core.metrics import METRICS, diffed
from convcost.core.report import LayerResult, Report

Status = Literal["same", "changed", "added", "removed"]


@dataclass(frozen=True)
class LayerChange:
    name: str
    status: Status
    old: LayerResult | None
    new: LayerResult | None
    what: tuple[str, ...] = ()  # for a changed layer: kind, config, input, output, macs, params

    @property
    def macs_delta(self) -> int:
        return (self.new.macs if self.new else 0) - (self.old.macs if self.old else 0)

    @property
    def params_delta(self) -> int:
        return (self.new.params if self.new else 0) - (self.old.params if self.old else 0)


@dataclass(frozen=True)
class Diff:
    old: Report
    new: Report
    layers: tuple[LayerChange, ...]

    @property
    def changed(self) -> tuple[LayerChange, ...]:
        return tuple(c for c in self.layers if c.status != "same")

    def growth(self, metric: str) -> Fraction | None:
        """Relative growth of the total (0.05 for +5 %); None when the old total is 0."""
        read = METRICS[metric].count
        old, new = read(self.old.totals), read(self.new.totals)
        return None if old == 0 else Fraction(new - old, old)

    def grows_more_than(self, percent: Fraction) -> list[str]:
        """The compared totals (core.metrics: macs, params) that grow by more than
        ``percent`` percent."""
        grown = []
        for metric in (m.key for m in diffed()):
            growth = self.growth(metric)
            old = METRICS[metric].count(self.old.totals)
            new = METRICS[metric].count(self.new.totals)
            if (growth is None and new > old) or (growth is not None and growth * 100 > percent):
                grown.append(metric)
        return grown


def _what(old: LayerResult, new: LayerResult) -> tuple[str, ...]:
    fields: list[tuple[str, object, object]] = [
        ("kind", old.kind, new.kind),
        ("config", old.config, new.config),
        ("input", old.input_shape, new.input_shape),
        ("output", old.output_shape, new.output_shape),
    ]
    fields += [(m.key, m.read(old), m.read(new)) for m in diffed()]
    return tuple(name for name, a, b in fields if a != b)


def diff(old: Report, new: Report) -> Diff:
    """Layers matched by their hierarchical name, in the new network's order, with removed
    layers where they stood in the old one."""
    old_names = [r.name for r in old.layers]
    new_names = [r.name for r in new.layers]
    new_by_name = {r.name: r for r in new.layers}
    old_by_name = {r.name: r for r in old.layers}
    changes: list[LayerChange] = []
    matcher = difflib.SequenceMatcher(a=old_names, b=new_names, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for name in new_names[j1:j2]:
                changes.append(_pair(name, old_by_name[name], new_by_name[name]))
            continue
        # A name can move: one that is in both lists is a change, not a removal and an add.
        for name in old_names[i1:i2]:
            if name not in new_by_name:
                changes.append(LayerChange(name, "removed", old_by_name[name], None))
        for name in new_names[j1:j2]:
            if name in old_by_name:
                changes.append(_pair(name, old_by_name[name], new_by_name[name]))
            else:
                changes.append(LayerChange(name, "added", None, new_by_name[name]))
    return Diff(old, new, tuple(changes))


def _pair(name: str, old: LayerResult, new: LayerResult) -> LayerChange:
    what = _what(old, new)
    return LayerChange(name, "changed" if what else "same", old, new, what)
