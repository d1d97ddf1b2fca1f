"""Renderers for ``convcost check``: a table, JSON, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import json
from fractions import Fraction
from xml.etree import ElementTree

from convcost.budget import ConfigCheck, Verdict
from convcost.render.numbers import fixed, grouped
from convcost.render.text import SCHEMA_VERSION


def describe(verdict: Verdict) -> str:
    """``macs 1,700,000,000 exceed the budget 1,600,000,000 by 100,000,000 (+6.3 %)``."""
    over = -verdict.headroom
    share = _percent(abs(over), verdict.limit.value)
    if verdict.passed:
        return (
            f"{verdict.metric} {grouped(verdict.actual)} within the budget "
            f"{grouped(verdict.limit.value)} ({grouped(verdict.headroom)} to spare, {share})"
        )
    return (
        f"{verdict.metric} {grouped(verdict.actual)} exceed the budget "
        f"{grouped(verdict.limit.value)} by {grouped(over)} (+{share})"
    )


def _percent(part: int, whole: int) -> str:
    return "∞ %" if whole == 0 else f"{fixed(Fraction(100 * part, whole), 1)} %"


def _source(verdict: Verdict) -> str:
    return "flag" if verdict.limit.location is None else "config"


def checks_json(checks: list[ConfigCheck]) -> str:
    results = []
    for c in checks:
        entry: dict[str, object] = {"config": c.config, "status": c.status}
        if c.error is not None:
            entry["error"] = c.error.render()
        entry["budgets"] = [
            {
                "metric": v.metric,
                "actual": v.actual,
                "limit": v.limit.value,
                "headroom": v.headroom,
                "passed": v.passed,
                "source": _source(v),
                "line": None if v.limit.location is None else v.limit.location.line,
            }
            for v in c.verdicts
        ]
        results.append(entry)
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "command": "check",
            "passed": all(c.status == "PASS" for c in checks),
            "configs": results,
        },
        indent=2,
        ensure_ascii=False,
    )


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def checks_github(checks: list[ConfigCheck]) -> str:
    """GitHub Actions workflow commands: an annotation on the budget line of each failure."""
    lines = []
    for c in checks:
        file = _escape_property(c.config)
        if c.error is not None:
            first = c.error.alone()
            where = (
                f",line={first.location.line},col={first.location.column}"
                if (first.location and first.location.source == c.config)
                else ""
            )
            lines.append(
                f"::error file={file}{where},title=convcost::{_escape_data(first.message)}"
            )
        elif not c.verdicts:
            lines.append(
                f"::error file={file},title=convcost::no budget: add a budget: section "
                "(macs, params, activations, memory) or pass --max-macs and the like"
            )
        for v in c.verdicts:
            if v.passed:
                continue
            line = "" if v.limit.location is None else f",line={v.limit.location.line}"
            lines.append(
                f"::error file={file}{line},title=convcost budget::{_escape_data(describe(v))}"
            )
    total = sum(len(c.verdicts) for c in checks)
    failed = sum(1 for c in checks for v in c.verdicts if not v.passed)
    lines.append(f"convcost check: {total - failed} of {total} budgets within limits")
    return "\n".join(lines)


def checks_junit(checks: list[ConfigCheck]) -> str:
    """JUnit XML: a test suite per config, a test case per budget."""
    suites = ElementTree.Element("testsuites", name="convcost check")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for c in checks:
        suite = ElementTree.SubElement(suites, "testsuite", name=c.config)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if c.error is not None:
            case = ElementTree.SubElement(
                suite, "testcase", classname=c.config, name="config", time="0"
            )
            error = ElementTree.SubElement(
                case, "error", message=c.error.alone().message, type="ConvcostError"
            )
            error.text = c.error.render()
            counts["tests"] += 1
            counts["errors"] += 1
        elif not c.verdicts:
            case = ElementTree.SubElement(
                suite, "testcase", classname=c.config, name="budget", time="0"
            )
            ElementTree.SubElement(case, "failure", message="no budget", type="NoBudget")
            counts["tests"] += 1
            counts["failures"] += 1
        for v in c.verdicts:
            case = ElementTree.SubElement(
                suite, "testcase", classname=c.config, name=v.metric, time="0"
            )
            counts["tests"] += 1
            if not v.passed:
                failure = ElementTree.SubElement(
                    case, "failure", message=describe(v), type="BudgetExceeded"
                )
                failure.text = describe(v)
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
        suite.set("time", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", "0")
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        suites, encoding="unicode"
    )


def checks_table_rows(checks: list[ConfigCheck]) -> list[list[str]]:
    rows = []
    for c in checks:
        if c.error is not None or not c.verdicts:
            rows.append([c.config, "—", "", "", "", "", c.status])
        for v in c.verdicts:
            sign = "+" if v.headroom >= 0 else "−"
            rows.append([
                c.config, v.metric, grouped(v.actual), grouped(v.limit.value),
                f"{sign}{grouped(abs(v.headroom))}",
                f"{sign}{_percent(abs(v.headroom), v.limit.value)}",
                "PASS" if v.passed else "FAIL",
            ])  # fmt: skip
    return rows
