"""Checking a report against its compute budget."""

from __future__ import annotations

from dataclasses import dataclass

from convcost.network import Report
from convcost.quantities import METRICS, Limit


@dataclass(frozen=True)
class Verdict:
    """One budget of one config: the actual figure against the limit."""

    metric: str
    actual: int
    limit: Limit

    @property
    def passed(self) -> bool:
        return self.actual <= self.limit.value  # exactly at the limit is within it

    @property
    def headroom(self) -> int:
        return self.limit.value - self.actual


def actual(report: Report, metric: str) -> int:
    t = report.totals
    return {
        "macs": t.macs,
        "params": t.params,
        "activations": t.activations,
        "memory": t.param_bytes + t.activation_bytes,
    }[metric]


def check(report: Report, limits: dict[str, Limit]) -> list[Verdict]:
    return [Verdict(metric, actual(report, metric), limits[metric]) for metric in METRICS
            if metric in limits]  # fmt: skip
