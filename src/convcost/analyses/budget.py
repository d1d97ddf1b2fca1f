"""Checking reports against their compute budgets: the ``check`` command's work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from convcost.analyses.quantities import Limit, parse_quantity
from convcost.core.errors import ConvcostError
from convcost.core.kinds.uncounted import UncountedOps, described
from convcost.core.metrics import METRICS, budgetable
from convcost.core.report import Report


def no_budget() -> str:
    """What a config without any budget is told."""
    keys = ", ".join(m.budget_name for m in budgetable())
    return f"no budget: add a budget: section ({keys}) or pass --max-macs and the like"


@dataclass(frozen=True)
class Verdict:
    """One budget of one config: the actual figure against the limit."""

    metric: str  # the metric's key
    actual: int | float
    limit: Limit

    @property
    def passed(self) -> bool:
        return self.actual <= self.limit.value  # exactly at the limit is within it

    @property
    def headroom(self) -> int | float:
        return self.limit.value - self.actual

    @property
    def name(self) -> str:
        """The budget's name, as configs and flags write it."""
        return METRICS[self.metric].budget_name


def actual(report: Report, metric: str, limit: Limit | None = None) -> int | float:
    """The report's figure for ``metric``; a time without a device is refused, where the
    budget that asks for it was written."""
    value = METRICS[metric].read(report.totals)
    if value is None:
        raise ConvcostError(
            f"budget {METRICS[metric].budget_name}: a roofline time needs a device; give "
            "--device NAME (convcost devices lists them) or --peak and --bandwidth",
            None if limit is None else limit.location,
        )
    return value


def check(report: Report, limits: Mapping[str, Limit]) -> list[Verdict]:
    return [Verdict(m.key, actual(report, m.key, limits[m.key]), limits[m.key])
            for m in budgetable() if m.key in limits]  # fmt: skip


@dataclass(frozen=True)
class ConfigCheck:
    """One config checked: its verdicts, or the error that kept it from being checked."""

    config: str
    verdicts: tuple[Verdict, ...] = ()
    error: ConvcostError | None = None
    uncounted: tuple[UncountedOps, ...] = ()  # allowed: operators its totals leave out

    @property
    def status(self) -> str:
        if self.error is not None:
            return "ERROR"
        if not self.verdicts:
            return "NO BUDGET"
        return "PASS" if all(v.passed for v in self.verdicts) else "FAIL"


class Budgeted(Protocol):
    """What a front end read: the config's own budget (a ``Loaded`` record)."""

    @property
    def budget(self) -> tuple[Limit, ...]: ...


class Checks(NamedTuple):
    """What ``convcost check`` found: a check per config, in the order given."""

    configs: tuple[ConfigCheck, ...]

    @property
    def exit_code(self) -> int:
        return exit_code(list(self.configs))


def limits_for(network_budget: tuple[Limit, ...], flags: Mapping[str, Limit]) -> dict[str, Limit]:
    """The config's own budget, with the command line's limits taking precedence."""
    return {limit.metric: limit for limit in network_budget} | dict(flags)


def exit_code(checks: list[ConfigCheck]) -> int:
    """2 when any input was bad, else 1 when any budget was exceeded or missing, else 0."""
    statuses = {c.status for c in checks}
    if "ERROR" in statuses:
        return 2
    return 1 if statuses & {"FAIL", "NO BUDGET"} else 0


def flag_limits(texts: Mapping[str, str | None]) -> dict[str, Limit]:
    """The ``--max-NAME`` options given (``texts`` by metric key), by metric key, as limits;
    a bad quantity is refused as ``--max-macs: ...``."""
    flags: dict[str, Limit] = {}
    for metric in budgetable():
        text = texts.get(metric.key)
        if text is not None:
            try:
                flags[metric.key] = Limit(metric.key, parse_quantity(text, metric.key))
            except ConvcostError as error:
                name, _, rest = error.message.partition(":")
                raise ConvcostError(f"--max-{name.replace('_', '-')}:{rest}") from None
    return flags


def check_configs(
    configs: Iterable[str],
    flags: Mapping[str, Limit],
    analyze: Callable[[str], tuple[Budgeted, Report]],
    say: Callable[[str], None],
    allow_uncounted: bool = False,
) -> Checks:
    """Each config analysed (``analyze`` returns what was read and its report) and checked against
    its budget and ``flags``. A config that cannot be analysed is an ERROR, one without any
    budget NO BUDGET; ``say`` gets the line that tells the user of either. A model holding
    operators convcost cannot count is an ERROR too (its totals leave them out), unless
    ``allow_uncounted``."""
    from convcost.render.escape import visible

    checks: list[ConfigCheck] = []
    for config in configs:
        try:
            loaded, report = analyze(config)
            if report.uncounted and not allow_uncounted:
                raise ConvcostError(
                    f"{config}: operators convcost cannot count: {described(report.uncounted)}; "
                    "its totals would leave them out: pass --allow-uncounted to check it anyway"
                )
            limits = limits_for(loaded.budget, flags)
            verdicts = tuple(check(report, limits))
        except ConvcostError as error:
            say(error.render())
            checks.append(ConfigCheck(config, error=error))
            continue
        if not limits:
            say(f"{visible(config)}: {no_budget()}")
        checks.append(ConfigCheck(config, verdicts, uncounted=report.uncounted))
    return Checks(tuple(checks))
