"""Checking a report against its compute budget."""

from __future__ import annotations

from dataclasses import dataclass

from convcost.analyses.quantities import METRICS, Limit
from convcost.core.errors import ConvcostError
from convcost.core.report import Report


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


@dataclass(frozen=True)
class ConfigCheck:
    """One config checked: its verdicts, or the error that kept it from being checked."""

    config: str
    verdicts: tuple[Verdict, ...] = ()
    error: ConvcostError | None = None

    @property
    def status(self) -> str:
        if self.error is not None:
            return "ERROR"
        if not self.verdicts:
            return "NO BUDGET"
        return "PASS" if all(v.passed for v in self.verdicts) else "FAIL"


def limits_for(network_budget: tuple[Limit, ...], flags: dict[str, Limit]) -> dict[str, Limit]:
    """The config's own budget, with the command line's limits taking precedence."""
    return {limit.metric: limit for limit in network_budget} | flags


def exit_code(checks: list[ConfigCheck]) -> int:
    """2 when any input was bad, else 1 when any budget was exceeded or missing, else 0."""
    statuses = {c.status for c in checks}
    if "ERROR" in statuses:
        return 2
    return 1 if statuses & {"FAIL", "NO BUDGET"} else 0
