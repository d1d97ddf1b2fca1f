"""``convcost advise``: each spatial conv's substitutes and what they save, in every format.

The table is written here as plain columns (no Rich): one row per layer's substitute, the
layer's figures on its first row.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from convcost.core.metrics import METRICS
from convcost.render.escape import md_cell, md_code, visible
from convcost.render.explain import explain_layer
from convcost.render.numbers import figure, fixed
from convcost.render.registry import Format, Options, writer

if TYPE_CHECKING:
    from convcost.analyses.advise import Advice, Candidate, LayerAdvice, Number
    from convcost.analyses.compare import Ratio

_ADVICE = "convcost.analyses.advise.Advice"
_RIGHT = {0, 4, 5, 7, 8, 9}
NOTHING = "no spatial convolution to advise on"


def _unit(advice: Advice) -> str:
    return METRICS[advice.metric_key].unit


def _header(advice: Advice) -> list[str]:
    """The columns; the figures before and after are in the metric ranked by."""
    title = METRICS[advice.metric_key].title
    return ["#", "layer", "conv", "input", title, "b*", "substitute", f"{title} after", "saves",
            "share", "note"]  # fmt: skip


def _before(advice: Advice, layer: LayerAdvice) -> int | float | None:
    """The layer's figure in the metric ranked by (peak memory: the network's)."""
    if advice.by == "memory":
        return advice.total
    return METRICS[advice.metric_key].read(layer.result)


def _after(advice: Advice, candidate: Candidate) -> int | float | None:
    """The substitute's figure (peak memory: the network's with it)."""
    if advice.by == "memory":
        network = candidate.network
        return None if network is None else network.peak_activation_bytes
    path = candidate.path
    return None if path is None else METRICS[advice.metric_key].read(path.totals)


def _saving_text(advice: Advice, candidate: Candidate) -> str:
    return figure(advice.saving(candidate), _unit(advice))


def _share_text(share: Ratio | float | None) -> str:
    if share is None:
        return "-"
    if isinstance(share, float):
        return f"{100 * share:.2f} %"
    return f"{fixed(100 * share.numerator, share.denominator, 2)} %"


def _break_even_text(layer: LayerAdvice) -> str:
    b = layer.break_even
    return "-" if b is None else fixed(b.numerator, b.denominator, 1)


def _note(layer: LayerAdvice, candidate: Candidate) -> str:
    return "best" if candidate is layer.best else candidate.note


def _rows(advice: Advice) -> list[list[str]]:
    return [
        row
        for rank, layer in enumerate(advice.layers[: advice.shown], 1)
        for row in _rows_of(advice, rank, layer)
    ]


def _rows_of(advice: Advice, rank: int, layer: LayerAdvice) -> list[list[str]]:
    """A layer's rows: one per substitute, the layer's figures on the first."""
    result, unit = layer.result, _unit(advice)
    first = [str(rank), visible(result.name), result.config, str(result.input_shape),
             figure(_before(advice, layer), unit), _break_even_text(layer)]  # fmt: skip
    return [
        [
            *(first if k == 0 else [""] * len(first)),
            candidate.label,
            figure(_after(advice, candidate), unit),
            _saving_text(advice, candidate),
            _share_text(advice.share(candidate)),
            _note(layer, candidate),
        ]
        for k, candidate in enumerate(layer.candidates)
    ]


def _title(advice: Advice, options: Options) -> str:
    """What is listed, of which network (``options.title``: as the command line names it)."""
    metric = METRICS[advice.metric_key]
    total = figure(advice.total, metric.unit)
    found = len(advice.layers)
    convs = "spatial conv" if found == 1 else "spatial convs"
    listed = f"the top {advice.shown} of {found}" if advice.shown < found else f"{found}"
    whose = "its" if advice.shown == 1 else "their"
    return (f"{options.title or advice.title}: {listed} {convs} by what {whose} best substitute "
            f"saves in {metric.title} (network: {total})")  # fmt: skip


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _footer(advice: Advice) -> list[str]:
    metric = "params" if advice.by == "params" else "MACs"
    unadvised = [
        *([f"{_count(advice.pointwise, '1×1 conv')} (a bottleneck in front of one would be a "
           "low-rank factorisation)"] if advice.pointwise else []),
        *([f"{_count(advice.depthwise, 'depthwise conv')} (already separable)"]
          if advice.depthwise else []),
    ]  # fmt: skip
    lines = [
        *([f"not advised: {', '.join(unadvised)}"] if unadvised else []),
        "substitutes: a 1×1 bottleneck to b channels before the conv, a depthwise K×K then a "
        "1×1 to Cout (separable), a grouped conv; inserted convs take a bias as the conv has "
        "one, no BatchNorm; suggested where they save in the metric ranked by",
        f"b*: the bottleneck width at which it costs the conv's {metric} (narrower saves)",
    ]
    if advice.by == "memory":
        lines.append("peak memory: the network's, without and with each substitute")
    applied = advice.applied
    if applied is not None:
        lines += _applied_lines(advice)
    return lines


def _applied_lines(advice: Advice) -> list[str]:
    applied = advice.applied
    assert applied is not None
    changes = ", ".join(
        f"{label} {figure(old, unit)} → {figure(new, unit)} ({_percent(old, new)})"
        for label, unit, old, new in _applied_figures(advice)
    )
    # The layers skipped are named on stderr (convcost advise), in JSON as "skipped".
    return [f"applied {applied.substitute} to {_count(len(applied.layers), 'layer')}: {changes}"]


def _applied_figures(advice: Advice) -> list[tuple[str, str, Number | None, Number | None]]:
    """MACs, params and the metric ranked by (peak memory, time), each before and after
    ``--apply``: its title, unit and values."""
    applied = advice.applied
    assert applied is not None
    keys = ["macs", "params"]
    if advice.metric_key not in keys:
        keys.append(advice.metric_key)
    before, after = advice.report.totals, applied.report.totals
    label = {"macs": "MACs", "params": "params"}
    return [(label.get(key, METRICS[key].title), METRICS[key].unit, METRICS[key].read(before),
             METRICS[key].read(after)) for key in keys]  # fmt: skip


def _percent(before: Number | None, after: Number | None) -> str:
    if not before or after is None:
        return "-"
    sign = "−" if after < before else "+"
    if isinstance(before, int) and isinstance(after, int):
        return f"{sign}{fixed(100 * abs(after - before), before, 1)} %"
    return f"{sign}{100 * abs(after - before) / before:.1f} %"


def _explain_lines(advice: Advice) -> list[str]:
    lines: list[str] = []
    for layer in advice.layers[: advice.shown]:
        result = layer.result
        lines.append(f"{visible(result.name)}:")
        lines += [f"  {line}" for line in explain_layer(result)]
        if layer.break_even is not None:
            lines.append(
                f"  break-even width ({layer.break_even_metric}) {layer.break_even_formula}"
            )
        for candidate in layer.candidates:
            if candidate.path is None:
                lines.append(f"  {candidate.label}: {candidate.note}")
                continue
            macs = candidate.path.totals.macs
            lines.append(f"  {candidate.label}: {macs:,} MACs, {candidate.path.totals.params:,} "
                         f"params, in place of {result.macs:,} and {result.params:,}")  # fmt: skip
            for part in candidate.path.layers:
                for line in explain_layer(part):
                    lines.append(f"    {visible(part.name)}: {line}")
            if candidate.kind == "separable" and layer.break_even is not None:
                cout, k2 = layer.separable_terms
                lines.append(f"    {macs:,} / {result.macs:,} = 1/{cout} + 1/{k2} of the direct "
                             "MACs (MobileNet's depthwise-separable ratio)")  # fmt: skip
            saving = advice.saving(candidate)
            if saving is not None:
                metric = METRICS[advice.metric_key]
                lines.append(f"    network {metric.title}: {figure(advice.total, metric.unit)} "
                             f"− {figure(advice.total - saving, metric.unit)} = "
                             f"{figure(saving, metric.unit)} saved")  # fmt: skip
    return lines


def _nothing(advice: Advice, options: Options) -> str:
    return (f"{options.title or advice.title}: {NOTHING} "
            f"({_count(advice.pointwise, '1×1 conv')}, "
            f"{_count(advice.depthwise, 'depthwise conv')})")  # fmt: skip


@writer(_ADVICE, Format.table)
def advise_table(advice: Advice, options: Options) -> str | None:
    if not advice.layers:
        return _nothing(advice, options)
    from convcost.render.table import print_grid  # Rich: only for the table

    header = _header(advice)
    after = [*_footer(advice), *(["", *_explain_lines(advice)] if options.explain else [])]
    right = [h for i, h in enumerate(header) if i in _RIGHT]
    # On a narrow terminal the input, the conv's settings and the figures before and after
    # give way first, then the share and b*: the layer, the substitute and what it saves stay.
    give_way = [header[3], header[2], header[7], header[4], header[9], header[5]]
    print_grid(_title(advice, options), header, right, _rows(advice), give_way, after, head=2)
    return None


@writer(_ADVICE, Format.markdown)
def advise_markdown(advice: Advice, options: Options) -> str:
    if not advice.layers:
        return md_cell(_nothing(advice, options))
    names = _header(advice)
    header = "| " + " | ".join(names) + " |"
    rule = "|" + "|".join("---:" if i in _RIGHT else "---" for i in range(len(names))) + "|"
    body = []
    for rank, layer in enumerate(advice.layers[: advice.shown], 1):
        for k, row in enumerate(_rows_of(advice, rank, layer)):
            name = md_code(layer.result.name) if k == 0 else ""
            cells = [row[0], name, *row[2:]]
            body.append("| " + " | ".join(map(md_cell, cells)) + " |")
    lines = [md_cell(_title(advice, options)), "", header, rule, *body, "", *_footer(advice)]
    if options.explain:
        lines += ["", "```text", *_explain_lines(advice), "```"]
    return "\n".join(lines)


@writer(_ADVICE, Format.csv)
def advise_csv(advice: Advice, options: Options) -> str:
    """As ``analyze -f csv`` writes (shapes ``16x16x8``, ratios as decimals), a row a
    substitute: the fields of JSON's layer and substitute records, by their names (the
    substitute's ``macs`` and ``params`` as ``substitute_macs``, ``substitute_params``)."""
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    write(["rank", "name", "config", "input", "output", "macs", "params", "break_even",
           "break_even_exact", "break_even_metric", "substitute", "value", "label",
           "substitute_macs", "substitute_params", "saves", "share", "suggested", "best",
           "note"])  # fmt: skip
    for rank, layer in enumerate(advice.layers[: advice.shown], 1):
        result = layer.result
        b = layer.break_even
        for candidate in layer.candidates:
            path, share, saving = candidate.path, advice.share(candidate), advice.saving(candidate)
            write([rank, visible(result.name), result.config, result.input_shape.ascii,
                   result.output_shape.ascii, result.macs, result.params,
                   "" if b is None else float(b), "" if b is None else str(b),
                   "" if b is None else layer.break_even_metric, candidate.kind,
                   "" if candidate.value is None else candidate.value, candidate.label,
                   "" if path is None else path.totals.macs,
                   "" if path is None else path.totals.params,
                   "" if saving is None else saving,
                   "" if share is None else float(share),
                   "yes" if candidate.suggested else "no",
                   "yes" if candidate is layer.best else "no",
                   _note(layer, candidate)])  # fmt: skip
    return out.getvalue().rstrip("\n")


def _candidate_json(advice: Advice, layer: LayerAdvice, candidate: Candidate) -> dict[str, Any]:
    path, share = candidate.path, advice.share(candidate)
    return {
        "substitute": candidate.kind,
        "value": candidate.value,
        "label": candidate.label,
        "layers": [{"name": name, "config": part.config()} for name, part in candidate.layers],
        "macs": None if path is None else path.totals.macs,
        "params": None if path is None else path.totals.params,
        "saves": advice.saving(candidate),
        "share": None if share is None else float(share),
        "suggested": candidate.suggested,
        "best": candidate is layer.best,
        "note": _note(layer, candidate),
    }


def _layer_json(advice: Advice, rank: int, layer: LayerAdvice) -> dict[str, Any]:
    result, b = layer.result, layer.break_even
    return {
        "rank": rank,
        "name": result.name,
        "config": result.config,
        "input": str(result.input_shape),
        "output": str(result.output_shape),
        "macs": result.macs,
        "params": result.params,
        "break_even": None if b is None else float(b),
        "break_even_exact": None if b is None else str(b),
        "break_even_metric": None if b is None else layer.break_even_metric,
        "substitutes": [_candidate_json(advice, layer, c) for c in layer.candidates],
    }


@writer(_ADVICE, Format.json)
def advise_json(advice: Advice, options: Options) -> str:
    from convcost.render.text import json_text, scaling_json

    data: dict[str, Any] = {
        "spec": advice.title,
        **scaling_json(options),
        "by": advice.by,
        "total": advice.total,
        "layers": [_layer_json(advice, rank, layer)
                   for rank, layer in enumerate(advice.layers[: advice.shown], 1)],
        "not_advised": {"pointwise": advice.pointwise, "depthwise": advice.depthwise},
    }  # fmt: skip
    applied = advice.applied
    if applied is not None:
        data["applied"] = {
            "substitute": applied.substitute,
            "layers": [name for name, _ in applied.layers],
            "skipped": [{"layer": name, "why": why} for name, why in applied.skipped],
            "macs": applied.report.totals.macs,
            "params": applied.report.totals.params,
        }
        if advice.metric_key not in ("macs", "params"):
            # the metric ranked by, before and after (peak memory, time)
            totals = (advice.report.totals, applied.report.totals)
            data["applied"][advice.metric_key] = dict(zip(("before", "after"), (
                METRICS[advice.metric_key].read(t) for t in totals), strict=True))  # fmt: skip
    return json_text(data)
