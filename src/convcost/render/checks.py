"""Renderers for ``convcost check``: a table, JSON, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

from convcost.analyses.budget import Checks, ConfigCheck, Verdict, no_budget
from convcost.core.metrics import METRICS
from convcost.render.escape import github_data, github_property, visible, xml_text
from convcost.render.numbers import figure, fixed
from convcost.render.registry import Format, Options, writer
from convcost.render.text import SCHEMA_VERSION, json_text, scaling_json


def describe(verdict: Verdict) -> str:
    """``macs 1,700,000,000 exceed the budget 1,600,000,000 by 100,000,000 (+6.3 %)``."""
    over = -verdict.headroom
    share = _percent(abs(over), verdict.limit.value)
    unit = METRICS[verdict.metric].unit
    actual, limit = figure(verdict.actual, unit), figure(verdict.limit.value, unit)
    if verdict.passed:
        return (
            f"{verdict.name} {actual} within the budget "
            f"{limit} ({figure(verdict.headroom, unit)} to spare, {share})"
        )
    return f"{verdict.name} {actual} exceed the budget {limit} by {figure(over, unit)} (+{share})"


def _percent(part: int | float, whole: int | float) -> str:
    if whole == 0:
        return "∞ %"
    if isinstance(part, float) or isinstance(whole, float):
        return f"{100 * part / whole:.1f} %"
    return f"{fixed(100 * part, whole, 1)} %"


def _source(verdict: Verdict) -> str:
    return "flag" if verdict.limit.location is None else "config"


@writer(Checks, Format.json)
def checks_json(result: Checks, options: Options) -> str:
    checks = result.configs
    results = []
    for c in checks:
        entry: dict[str, object] = {"config": c.config, "status": c.status}
        if c.error is not None:
            entry["error"] = c.error.render()
        entry["budgets"] = [
            {
                "metric": v.name,
                "actual": v.actual,
                "limit": v.limit.value,
                "headroom": v.headroom,
                "passed": v.passed,
                "source": _source(v),
                "line": None if v.limit.location is None else v.limit.location.line,
            }
            for v in c.verdicts
        ]
        entry["uncounted_ops"] = [
            {"op": op.op, "count": op.number, "layers": list(op.layers)} for op in c.uncounted
        ]
        results.append(entry)
    return json_text(
        {
            "schema_version": SCHEMA_VERSION,
            "command": "check",
            "passed": all(c.status == "PASS" for c in checks),
            **scaling_json(options),
            "configs": results,
        }
    )


@writer(Checks, Format.github)
def checks_github(result: Checks, options: Options) -> str:
    """GitHub Actions workflow commands: an annotation on the budget line of each failure."""
    checks = result.configs
    lines = []
    for c in checks:
        file = github_property(c.config)
        if c.error is not None:
            first = c.error.alone()
            where = (
                f",line={first.location.line},col={first.location.column}"
                if (first.location and first.location.source == c.config)
                else ""
            )
            lines.append(f"::error file={file}{where},title=convcost::{github_data(first.message)}")
        elif not c.verdicts:
            lines.append(f"::error file={file},title=convcost::{no_budget()}")
        for v in c.verdicts:
            if v.passed:
                continue
            line = "" if v.limit.location is None else f",line={v.limit.location.line}"
            lines.append(
                f"::error file={file}{line},title=convcost budget::{github_data(describe(v))}"
            )
    total = sum(len(c.verdicts) for c in checks)
    failed = sum(1 for c in checks for v in c.verdicts if not v.passed)
    lines.append(f"convcost check: {total - failed} of {total} budgets within limits")
    return "\n".join(lines)


@writer(Checks, Format.junit)
def checks_junit(result: Checks, options: Options, now: datetime | None = None) -> str:
    """JUnit XML as the common (Apache Ant JUnitReport) schema has it: an aggregated
    <testsuites> of one <testsuite> per config (package, id, name, timestamp, hostname,
    counts, time; properties, test cases, system-out, system-err), a test case per budget."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    suites = ElementTree.Element("testsuites")
    scaled = "" if options.scaling is None else str(options.scaling)
    for index, check in enumerate(result.configs):
        _suite(suites, index, check, stamp, scaled)
    ElementTree.indent(suites)
    xml = ElementTree.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml


def _suite(
    suites: ElementTree.Element, index: int, check: ConfigCheck, stamp: str, scaled: str
) -> None:
    """``scaled``: how the network was scaled (``width multiplier 0.5, resolution 160``), a
    property of the suite; "" when as written."""
    suite = ElementTree.SubElement(suites, "testsuite")
    config = visible(check.config)  # a name is one line; the error text keeps its lines
    suite.attrib.update(
        package="convcost", id=str(index), name=config, timestamp=stamp,
        hostname="localhost",
    )  # fmt: skip
    properties = ElementTree.SubElement(suite, "properties")
    if scaled:
        ElementTree.SubElement(properties, "property", name="scaling", value=scaled)
    outcomes: list[tuple[str, str | None, str, str]] = []  # name, failure|error, type, text
    if check.error is not None:
        outcomes.append(("config", "error", "ConvcostError", check.error.render()))
    elif not check.verdicts:
        outcomes.append(("budget", "failure", "NoBudget", "no budget"))
    for v in check.verdicts:
        outcomes.append((v.name, None if v.passed else "failure", "BudgetExceeded", describe(v)))
    for name, outcome, kind, text in outcomes:
        case = ElementTree.SubElement(suite, "testcase", name=name, classname=config)
        case.set("time", "0")
        if outcome is not None:
            text = xml_text(text)
            first_line = text.split("\n")[0]
            ElementTree.SubElement(case, outcome, message=first_line, type=kind).text = text
    ElementTree.SubElement(suite, "system-out")
    ElementTree.SubElement(suite, "system-err")
    suite.attrib.update(
        tests=str(len(outcomes)),
        failures=str(sum(1 for o in outcomes if o[1] == "failure")),
        errors=str(sum(1 for o in outcomes if o[1] == "error")),
        skipped="0",
        time="0",
    )


def checks_table_rows(checks: Checks) -> list[list[str]]:
    rows = []
    for c in checks.configs:
        if c.error is not None or not c.verdicts:
            rows.append([c.config, "—", "", "", "", "", c.status])
        for v in c.verdicts:
            sign = "+" if v.headroom >= 0 else "−"
            rows.append([
                c.config, v.name, figure(v.actual, METRICS[v.metric].unit),
                figure(v.limit.value, METRICS[v.metric].unit),
                f"{sign}{figure(abs(v.headroom), METRICS[v.metric].unit)}",
                f"{sign}{_percent(abs(v.headroom), v.limit.value)}",
                "PASS" if v.passed else "FAIL",
            ])  # fmt: skip
    return rows
