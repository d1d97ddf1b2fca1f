"""Renderers for ``convcost diff``: JSON, Markdown (for pull-request comments), table rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcost.core.metrics import METRICS, diffed, diffed_totals
from convcost.render.columns import UNKNOWN
from convcost.render.escape import md_cell, md_code
from convcost.render.numbers import fixed, grouped
from convcost.render.registry import Format, Options, writer
from convcost.render.text import SCHEMA_VERSION, json_text, scaling_json

if TYPE_CHECKING:
    from convcost.analyses.diff import Change, Diff
    from convcost.core.report import LayerResult, Totals

_DIFF = "convcost.analyses.diff.Diff"  # named, not imported: diff imports its alignment


def signed(n: int | None) -> str:
    if n is None:
        return UNKNOWN
    return f"+{grouped(n)}" if n > 0 else ("0" if n == 0 else f"−{grouped(-n)}")


def percent(delta: int | None, old: int | None) -> str:
    if delta is None or old is None:
        return UNKNOWN
    if old == 0:
        return "new" if delta else "0 %"
    sign = "+" if delta * old > 0 else ("−" if delta * old < 0 else "")
    return f"{sign}{fixed(100 * abs(delta), abs(old), 1)} %"


def _side(result: LayerResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "kind": result.kind,
        "config": result.config,
        "input_shape": result.input_shape.as_list(),
        "output_shape": result.output_shape.as_list(),
        **{m.key: m.read(result) if result.counted else None for m in diffed()},
    }


def _total(old: Totals, new: Totals, metric: str) -> dict[str, Any]:
    read = METRICS[metric].count
    a, b = read(old), read(new)
    return {"old": a, "new": b, "delta": b - a, "percent": None if a == 0 else (b - a) * 100 / a}


@writer(_DIFF, Format.json)
def diff_json(result: Diff, options: Options) -> str:
    (old_name, new_name), show_all = options.names, options.show_all
    layers = [c for c in result.layers if show_all or c.status != "unchanged"]
    groups = [c for c in result.groups if show_all or c.status != "unchanged"]
    return json_text(
        {
            "schema_version": SCHEMA_VERSION,
            "command": "diff",
            "old": old_name,
            "new": new_name,
            **scaling_json(options),
            "totals": {
                m.key: _total(result.old.totals, result.new.totals, m.key)
                for m in (*diffed(), *diffed_totals())
            },
            **_costing(result),
            "layers": [
                {
                    "name": c.name,
                    "status": c.status,
                    "changes": list(c.what),
                    "old": _side(c.old),
                    "new": _side(c.new),
                    "macs_delta": c.macs_delta,
                    "params_delta": c.params_delta,
                    "old_name": c.old_name,
                    "new_name": c.new_name,
                }
                for c in layers
            ],
            "unchanged": sum(c.status == "unchanged" for c in result.layers),
            "renamed": len(result.renamed),
            "groups": [
                {
                    "name": c.name,
                    "status": c.status,
                    "changes": list(c.what),
                    "old_name": c.old_name,
                    "new_name": c.new_name,
                    "macs_delta": c.macs_delta,
                    "params_delta": c.params_delta,
                }
                for c in groups
            ],
        }
    )


def _label(change: Change) -> str:
    """A row's name: the new one, or both where the item itself was renamed."""
    if change.renamed_itself:
        return f"{change.old_name} → {change.new_name}"
    return change.name


def _md_label(change: Change) -> str:
    if change.renamed_itself:
        return f"{md_code(str(change.old_name))} → {md_code(str(change.new_name))}"
    return md_code(change.name)


def _change(change: Change) -> str:
    from convcost.analyses.diff import POSITION, GroupChange

    if isinstance(change, GroupChange):
        words = ["renamed"] if change.renamed_itself else []
        words += ["moved"] if POSITION in change.what else []
        words += ["changed"] if "layers" in change.what else []
        return "group " + ", ".join(words)
    if change.status == "changed":
        return "changed: " + ", ".join(change.what)
    return change.status


def _figures(change: Change) -> tuple[int | None, int | None, int | None, int | None]:
    """MACs and params before and after (0 where a side is missing, None where it is an
    operator convcost could not count)."""
    old, new = change.old, change.new

    def known(side: object, value: int) -> int | None:
        return None if getattr(side, "counted", True) is False else value

    return (
        known(old, old.macs) if old else 0, known(new, new.macs) if new else 0,
        known(old, old.params) if old else 0, known(new, new.params) if new else 0,
    )  # fmt: skip


def rows(result: Diff, show_all: bool) -> list[list[str]]:
    """layer, change, MACs old → new, Δ MACs, Δ %, params old → new, Δ params; total last.
    A group's row (renamed or moved) carries the sums over its layers."""

    def pair(old: int | None, new: int | None) -> str:
        def shown(n: int | None) -> str:
            return UNKNOWN if n is None else grouped(n)

        return f"{shown(old)} → {shown(new)}"

    out = []
    for c in result.listed(show_all):
        old_macs, new_macs, old_params, new_params = _figures(c)
        out.append([
            _label(c), _change(c), pair(old_macs, new_macs), signed(c.macs_delta),
            percent(c.macs_delta, old_macs), pair(old_params, new_params),
            signed(c.params_delta),
        ])  # fmt: skip
    old, new = result.old.totals, result.new.totals
    out.append([
        "total", _count(result), pair(old.macs, new.macs), signed(new.macs - old.macs),
        percent(new.macs - old.macs, old.macs), pair(old.params, new.params),
        signed(new.params - old.params),
    ])  # fmt: skip
    return out


def _count(result: Diff) -> str:
    """How many layers differ in what they compute (renamed ones, apart)."""
    renamed = len(result.renamed)
    text = f"{len(result.changed)} of {len(result.layers)} layers differ"
    return text + (f", {renamed} renamed" if renamed else "")


TABLE_HEADERS = ["layer", "change", "Δ MACs", "Δ %", "Δ params"]


def table_rows(result: Diff, show_all: bool) -> list[list[str]]:
    """The terminal's narrower table: the deltas, without the before/after columns."""
    return [[row[0], row[1].removeprefix("changed: "), row[3], row[4], row[6]]
            for row in rows(result, show_all)[:-1]]  # fmt: skip


def summary(result: Diff) -> str:
    old, new = result.old.totals, result.new.totals
    return (
        f"MACs {grouped(old.macs)} → {grouped(new.macs)} ({signed(new.macs - old.macs)}, "
        f"{percent(new.macs - old.macs, old.macs)}); params {grouped(old.params)} → "
        f"{grouped(new.params)} ({signed(new.params - old.params)}, "
        f"{percent(new.params - old.params, old.params)}); {_count(result)}"
    )


def _costing(result: Diff) -> dict[str, Any]:
    """The formats and optimizer the memory figures were costed at (JSON)."""
    network = result.new.totals.network
    if network is None:
        return {}
    precision = network.settings.precision
    return {
        "precision": {"weights": precision.weights.name, "activations": precision.activations.name},
        "optimizer": network.settings.optimizer,
    }


def memory_line(result: Diff) -> str:
    """The networks' memory, before and after, at the formats asked (--dtype)."""
    from convcost.render.words import megabytes

    old, new = result.old.totals, result.new.totals
    parts = [
        f"{m.title} {megabytes(m.count(old))} → {megabytes(m.count(new))} "
        f"({percent(m.count(new) - m.count(old), m.count(old))})"
        for m in diffed_totals()
    ]
    network = new.network
    label = ""
    if network is not None:
        label = f" ({network.settings.precision.label}, {network.settings.optimizer})"
    return f"memory{label}: " + "; ".join(parts)


HEADERS = ["layer", "change", "MACs", "Δ MACs", "Δ %", "params", "Δ params"]


@writer(_DIFF, Format.markdown)
def diff_markdown(result: Diff, options: Options) -> str:
    (old_name, new_name), show_all = options.names, options.show_all
    old, new = result.old.totals, result.new.totals
    lines = [
        f"**convcost diff** {md_code(old_name)} → {md_code(new_name)}: "
        f"MACs {signed(new.macs - old.macs)} ({percent(new.macs - old.macs, old.macs)}), "
        f"params {signed(new.params - old.params)} "
        f"({percent(new.params - old.params, old.params)})",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    *changes, total = rows(result, show_all)
    labels = [_md_label(c) for c in result.listed(show_all)]
    # The total row by its place: a layer may be called "total" too.
    cells = [[label, *row[1:]] for label, row in zip(labels, changes, strict=True)]
    cells += [["**total**", *total[1:]]]
    lines += ["| " + " | ".join(map(md_cell, row)) + " |" for row in cells]
    lines += ["", memory_line(result)]
    return "\n".join(lines)
