"""Sentences shared by the human formats (table and Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcost.core.kinds.uncounted import described
from convcost.render.numbers import count, fixed, grouped, seconds, unit_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcost.analyses.compare import Comparison, Ratio
    from convcost.core.report import Report


def report_title(spec: str, batch: int, notes: Sequence[str] = (), name: str = "") -> str:
    """An analysis's title: the config's ``name:`` when it has one, else the spec as given
    (whole: a table folds it on a narrow terminal), then ``notes`` (how it was scaled) and
    the batch."""
    title = name or spec
    said = [*notes, *([] if batch == 1 else [f"batch {batch}"])]
    return f"{title}  ({', '.join(said)})" if said else title


def saving_lines(comparison: Comparison, unit: str = "macs") -> list[str]:
    """``bottleneck 16: 9.68× fewer MACs (−89.7 %), …`` (or FLOPs: ``unit``) and the
    break-even width (of MACs: its formula's)."""
    direct = count(comparison.direct.report.totals, unit)
    lines = [
        f"{saving.path.name}: "
        f"{_times((direct, count(saving.path.report.totals, unit)), unit_label(unit))}, "
        f"{_times(saving.params_ratio, 'params')}"
        for saving in comparison.savings
    ]
    b = comparison.break_even
    whole, rest = divmod(b.numerator, b.denominator)  # both positive
    saving = whole - 1 if rest == 0 else whole  # the widest bottleneck that saves MACs
    if saving == 0:
        verdict = "no bottleneck saves MACs"
    elif saving == 1:
        verdict = "a bottleneck of 1 channel saves MACs"
    else:
        verdict = f"bottlenecks of up to {saving} channels save MACs"
    if rest == 0:
        verdict += f", {whole} breaks even"
    elif saving:
        verdict += ", wider ones cost more"
    # The formula is of MACs; in FLOPs a bottleneck's bias additions move it (lower).
    what = "MAC break-even width" if unit == "flops" else "break-even width"
    lines.append(f"{what} {comparison.break_even_formula}: {verdict}")
    return lines


def _times(ratio: Ratio | tuple[int, int], what: str) -> str:
    direct, path = ratio  # both positive
    if direct == path:
        return f"the same {what}"
    # The bottleneck's change against the direct path: (path − direct) / direct, in per cent.
    sign = "−" if path < direct else "+"
    percent = f"({sign}{fixed(100 * abs(path - direct), direct, 1)} %)"
    if direct >= path:
        return f"{fixed(direct, path, 2)}× fewer {what} {percent}"
    return f"{fixed(path, direct, 2)}× more {what} {percent}"


def megabytes(n: int) -> str:
    """4014080 → ``4.01 MB`` (10**6 bytes, two decimals, rounded half up; thousands grouped:
    ``1,234.57 MB``)."""
    whole, _, decimals = fixed(n, 10**6, 2).partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}.{decimals} MB"


def uncounted_line(report: Report, table: bool = True) -> list[str]:
    """What could not be counted, when anything (the totals are then lower bounds): under
    a table, whose cells show ``?``, or on stderr (``table=False``)."""
    ops = report.uncounted
    if not ops:
        return []
    count = sum(op.number for op in ops)
    return [
        f"not counted: {described(ops)}: {'its' if count == 1 else 'their'} MACs, parameters "
        f"and operations are unknown{' (?)' if table else ''} and not in the totals"
    ]


def footer_lines(report: Report) -> list[str]:
    """What a costed analysis holds, under its table (as torchinfo's summary ends): the
    parameters' size, peak activation memory and where, training memory part by part, and
    with a device the roofline time."""
    totals, network = report.totals, report.totals.network
    unknown = uncounted_line(report)
    if network is None or totals.cost is None:
        return unknown
    settings, peak, training = network.settings, network.peak, network.training
    precision = settings.precision
    batch = f", batch {report.batch}" if report.batch > 1 else ""
    where = f" at {peak.layer}" if peak.layer else ""
    lines = [
        *unknown,
        f"params size: {megabytes(totals.param_bytes)} ({grouped(totals.params)} × "
        f"{precision.weights.bytes} B, {precision.weights.name})",
        f"peak activation memory: {megabytes(peak.bytes)}{where} "
        f"({precision.activations.name}{batch})",
        f"training memory ({training.optimizer}): {megabytes(training.total)} = params "
        f"{megabytes(training.params)} + gradients {megabytes(training.gradients)} + "
        f"optimizer state {megabytes(training.optimizer_state)} + buffers "
        f"{megabytes(training.buffers)} + saved activations "
        f"{megabytes(training.saved_activations)}",
    ]
    device, latency = settings.device, totals.cost.latency_s
    if device is not None and latency is not None:
        bound = [layer for layer in report.layers if layer.cost and layer.cost.bound == "memory"]
        fused = ", fused" if settings.fuse else ""
        rate = f", {report.batch / latency:,.0f} images/s" if latency else ""
        lines.append(
            f"roofline time on {device.name} ({precision.activations.name}{fused}): "
            f"{seconds(latency)}{rate}; {len(bound)} of {len(report.layers)} layers "
            "memory-bound (a lower bound: perfect reuse inside each layer)"
        )
    return lines


def time_lines(comparison: Comparison, unit: str = "macs") -> list[str]:
    """With a device: each path's roofline time against the direct path's, and plainly
    where a bottleneck saves less time than work (MACs or FLOPs: ``unit``; its layers'
    bytes, not their MACs, set their time: the extra tensor a bottleneck writes and
    reads)."""
    direct = comparison.direct.report.totals
    network = direct.network
    if network is None or network.settings.device is None or direct.cost is None:
        return []
    device, precision = network.settings.device, network.settings.precision
    direct_time = direct.cost.latency_s
    assert direct_time is not None
    lines = [
        f"roofline time on {device.name} ({precision.activations.name}): direct "
        f"{seconds(direct_time)}"
    ]
    for saving in comparison.savings:
        time = saving.latency_s
        if time is None or time <= 0:
            continue
        saved = 100 * (direct_time - time) / direct_time
        direct_work = count(comparison.direct.report.totals, unit)
        work = direct_work, count(saving.path.report.totals, unit)
        work_saved = 100 * (work[0] - work[1]) / work[0] if work[0] else 0.0
        factor = direct_time / time
        change = (
            f"{factor:.2f}× less time (−{saved:.1f} %)"
            if time <= direct_time
            else f"{1 / factor:.2f}× more time (+{-saved:.1f} %)"
        )
        line = f"{saving.path.name}: {seconds(time)}, {change} for {_times(work, unit_label(unit))}"
        if work_saved > 0 and saved < work_saved:
            bound = [
                layer.name
                for layer in saving.path.report.layers
                if layer.cost is not None and layer.cost.bound == "memory"
            ]
            if bound:
                names = " and ".join(bound)
                verb, whose = ("is", "its") if len(bound) == 1 else ("are", "their")
                line += (
                    f": it saves less time than {unit_label(unit)}, as {names} {verb} "
                    f"memory-bound (bytes moved, not {unit_label(unit)}, set {whose} time)"
                )
        lines.append(line)
    return lines
