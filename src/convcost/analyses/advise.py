"""Where substitutes pay: every spatial convolution of a network, with what a 1×1 bottleneck
in front of it, a depthwise-separable pair or a grouped conv in its place would save.

Each substitute is built from real layers and costed as ``analyze`` costs a network: the
substituted network is analysed (and costed by the same settings) as a whole, so a saving
is the original total minus the substituted network's, whatever the metric (peak memory
and time included). Inserted convolutions carry a bias when the replaced conv does; no
BatchNorm or activation is inserted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from convcost.analyses.compare import Ratio, compare
from convcost.core.analysis import analyze
from convcost.core.costing import cost
from convcost.core.costs import Settings
from convcost.core.errors import ConvcostError
from convcost.core.graph import Graph, GraphNode, chain
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv
from convcost.core.metrics import METRICS
from convcost.core.report import LayerResult, Report, Totals

BY = {"macs": "macs", "params": "params", "memory": "peak_activation_bytes", "time": "latency_s"}
"""``--by``: the metric (``core.metrics``) layers are ranked by."""

SUBSTITUTES = ("bottleneck", "separable", "grouped")

Number = int | float


class Candidate(NamedTuple):
    """One substitute for one conv: the layers that take its place (the last keeps the
    conv's name), those layers analysed on the conv's input, and the network's totals with
    it; ``note`` says why it is not suggested ("" when it is)."""

    kind: str  # bottleneck, separable or grouped
    value: int | None  # the bottleneck's width, the groups
    label: str  # "bottleneck 96 (Cin/2)", "separable", "grouped 2"
    layers: tuple[tuple[str, Layer], ...]
    path: Report | None  # None: it cannot be built (note says why)
    totals: Totals | None
    note: str = ""

    @property
    def suggested(self) -> bool:
        return self.totals is not None and not self.note


class LayerAdvice(NamedTuple):
    at: int  # of the layer in the report (and its node in the graph)
    result: LayerResult
    direct: Report  # the conv alone, analysed on its input
    break_even: Ratio | None  # b*, for a conv of one group
    break_even_formula: str
    candidates: tuple[Candidate, ...]
    best: Candidate | None  # the suggested candidate that saves most, if any saves

    @property
    def separable_terms(self) -> tuple[int, int]:
        """Cout and K²: a separable pair costs 1/Cout + 1/K² of a one-group conv's MACs."""
        layer = self.result.layer
        assert isinstance(layer, Conv)
        return self.result.output_shape.c, layer.kernel[0] * layer.kernel[1]


class Advice(NamedTuple):
    """Every spatial conv's substitutes, ranked by what the best saves (``by``)."""

    title: str
    report: Report
    by: str  # a key of BY
    layers: tuple[LayerAdvice, ...]  # ranked, best saving first (all of them)
    shown: int  # how many of ``layers`` to list (--top; all by default)
    pointwise: int  # 1×1 convs: nothing to substitute
    depthwise: int  # depthwise convs: already separable
    applied: Applied | None = None

    @property
    def applied_description(self) -> str:
        """What ``--apply`` made, for the written config's ``description:``."""
        applied = self.applied
        if applied is None:
            return ""
        layers = ", ".join(name for name, _ in applied.layers) or "no layer"
        return (
            f"{self.title} with {applied.substitute} applied to {layers} (convcost advise --apply)"
        )

    @property
    def metric_key(self) -> str:
        return BY[self.by]

    def read(self, totals: Totals) -> Number:
        value = METRICS[self.metric_key].read(totals)
        assert value is not None  # a device is required for time (see advise)
        return value

    @property
    def total(self) -> Number:
        return self.read(self.report.totals)

    def saving(self, candidate: Candidate) -> Number | None:
        if candidate.totals is None:
            return None
        return self.total - self.read(candidate.totals)

    def share(self, candidate: Candidate) -> Ratio | float | None:
        """The saving as a part of the network's total (a Ratio of counts; time: a float)."""
        saving, total = self.saving(candidate), self.total
        if saving is None or not total:
            return None
        if isinstance(saving, int) and isinstance(total, int):
            return Ratio(saving, total)
        return saving / total


class Applied(NamedTuple):
    """``--apply``: the substitute chosen, the layers it went to, and the network made."""

    substitute: str  # as given: bottleneck=CIN/4
    layers: tuple[tuple[str, Candidate], ...]  # (layer's full name, the candidate applied)
    skipped: tuple[tuple[str, str], ...]  # (layer, why the substitute was not applied)
    graph: Graph
    report: Report  # the substituted network, analysed and costed


# --- the substitutes --------------------------------------------------------------------------


class Choice(NamedTuple):
    """A substitute as ``--apply`` names it: ``bottleneck`` with a width (a whole number, or
    Cin divided by ``divisor``), ``separable`` or ``grouped`` with groups."""

    kind: str
    value: int | None = None
    divisor: int | None = None
    text: str = ""

    def width(self, channels: int) -> int | None:
        return channels // self.divisor if self.divisor else self.value


def parse_choice(text: str) -> Choice:
    """``bottleneck=CIN/4``, ``bottleneck=CIN/2``, ``bottleneck=64``, ``separable``,
    ``grouped=4``."""
    kind, _, value = text.strip().partition("=")
    kind, value = kind.strip().lower(), value.strip()
    usage = "give bottleneck=CIN/2, bottleneck=CIN/4, bottleneck=WIDTH, separable or grouped=G"
    if kind not in SUBSTITUTES:
        raise ConvcostError(f"--apply {text}: unknown substitute '{kind}'; {usage}")
    if kind == "separable":
        if value:
            raise ConvcostError(f"--apply {text}: separable takes no value; {usage}")
        return Choice(kind, text=text)
    if kind == "bottleneck" and value.lower().replace(" ", "") in ("cin/2", "cin/4"):
        return Choice(kind, divisor=int(value[-1]), text=text)
    if not value.isdigit() or int(value) < 1:
        what = "a width" if kind == "bottleneck" else "a number of groups"
        raise ConvcostError(f"--apply {text}: {kind} needs {what}, a whole number of at least 1 "
                            f"(got '{value}'); {usage}")  # fmt: skip
    return Choice(kind, int(value), text=text)


def spatial(layer: Layer, result: LayerResult) -> str:
    """Why a layer has no substitute ("" when it has: a conv larger than 1×1, not depthwise)."""
    if type(layer) is not Conv:
        return "not a conv"
    if layer.kernel == (1, 1):
        return "1×1"
    groups = result.input_shape.c if layer.groups == "depthwise" else layer.groups
    if groups == result.input_shape.c and result.output_shape.c % groups == 0 and groups > 1:
        return "depthwise"
    return ""


def _groups(layer: Conv, channels: int) -> int:
    return channels if layer.groups == "depthwise" else layer.groups


def substitute_layers(
    kind: str, value: int | None, name: str, layer: Conv, inp: LayerResult
) -> tuple[tuple[str, Layer], ...]:
    """The layers that take the conv's place, named (the last keeps the conv's name)."""
    channels, filters = inp.input_shape.c, inp.output_shape.c
    if kind == "bottleneck":
        assert value is not None
        reduce = Conv(kernel=(1, 1), filters=value, bias=layer.bias)
        return ((f"{name}_reduce", reduce), (name, layer))
    if kind == "separable":
        depthwise = Conv(kernel=layer.kernel, filters=channels, stride=layer.stride,
                         padding=layer.padding, dilation=layer.dilation, groups=channels,
                         bias=layer.bias)  # fmt: skip
        pointwise = Conv(kernel=(1, 1), filters=filters, bias=layer.bias)
        return ((f"{name}_dw", depthwise), (name, pointwise))
    assert value is not None
    grouped = Conv(kernel=layer.kernel, filters=filters, stride=layer.stride,
                   padding=layer.padding, dilation=layer.dilation, groups=value,
                   bias=layer.bias)  # fmt: skip
    return ((name, grouped),)


def substituted(graph: Graph, replacements: Mapping[int, Sequence[tuple[str, Layer]]]) -> Graph:
    """``graph`` with node ``i`` replaced by the chain ``replacements[i]`` (local names, in
    the node's scope): the chain reads what the node read, its readers read the chain's
    last layer."""
    nodes: list[GraphNode] = []
    moved: dict[int, int] = {}  # old index → new
    taken = {node.name for node in graph.nodes} | {scope.name for scope in graph.scopes}
    for index, node in enumerate(graph.nodes):
        inputs = tuple(moved.get(i, i) for i in node.inputs)
        chain_layers = replacements.get(index)
        if chain_layers is None:
            nodes.append(node._replace(inputs=inputs))
        else:
            for k, (local, layer) in enumerate(chain_layers):
                last = k == len(chain_layers) - 1
                if not last:
                    local = _unique(node.prefix, local, taken)
                nodes.append(node._replace(local=local, layer=layer, inputs=inputs))
                inputs = (len(nodes) - 1,)
        moved[index] = len(nodes) - 1
    return graph._replace(nodes=tuple(nodes))


def _unique(prefix: str, local: str, taken: set[str]) -> str:
    name, count = local, 1
    while prefix + name in taken:
        count += 1
        name = f"{local}_{count}"
    taken.add(prefix + name)
    return name


def _network(report: Report, replacements: Mapping[int, Sequence[tuple[str, Layer]]],
             settings: Settings | None) -> tuple[Graph, Report]:  # fmt: skip
    assert report.graph is not None
    graph = substituted(report.graph, replacements)
    return graph, cost(analyze(graph, report.batch), settings)


# --- the analysis -----------------------------------------------------------------------------


def advise(
    report: Report,
    title: str = "",
    by: str = "macs",
    widths: Sequence[int] = (),
    groups: int | None = None,
    top: int | None = None,
    names: Sequence[str] = (),
    settings: Settings | None = None,
    apply: Choice | None = None,
) -> Advice:
    """Every spatial conv of ``report`` (analysed and costed by ``settings``) with its
    substitutes: bottlenecks of Cin/2, Cin/4 and ``widths`` channels, a depthwise-separable
    pair and, with ``groups``, a grouped conv; ranked by what the best suggested one saves
    in ``by``. ``top`` or ``names`` choose the layers listed (and ``apply``'d)."""
    if by not in BY:
        raise ConvcostError(f"--by {by}: rank by macs, params, memory or time")
    if by == "time" and (settings is None or settings.device is None):
        raise ConvcostError("--by time is a roofline time: give --device NAME (convcost devices "
                            "lists them) or --peak and --bandwidth")  # fmt: skip
    if report.graph is None or report.uncounted:
        raise ConvcostError("advise needs a network whose every operator convcost counts")
    found: list[LayerAdvice] = []
    pointwise = depthwise = 0
    empty = Advice(title, report, by, (), 0, 0, 0)
    for index, result in enumerate(report.layers):
        why = spatial(result.layer, result)
        pointwise += why == "1×1"
        depthwise += why == "depthwise"
        if not why:
            found.append(_layer(empty, index, result, widths, groups, settings))
    ranked = sorted(found, key=lambda a: _rank_key(empty, a))
    shown = len(ranked)
    if names:
        ranked, shown = _named_first(ranked, names, report)
    elif top is not None:
        shown = min(top, len(ranked))
    advice = Advice(title, report, by, tuple(ranked), shown, pointwise, depthwise)
    if apply is not None:
        advice = advice._replace(applied=_apply(advice, apply, widths, groups, settings))
    return advice


def _rank_key(advice: Advice, layer: LayerAdvice) -> tuple[int, float, int]:
    best = layer.best
    saving = advice.saving(best) if best is not None else None
    return (saving is None, -(saving or 0), layer.at)


def _named_first(
    ranked: list[LayerAdvice], names: Sequence[str], report: Report
) -> tuple[list[LayerAdvice], int]:
    by_name = {a.result.name: a for a in ranked}
    chosen: list[LayerAdvice] = []
    every = {r.name: r for r in report.layers}
    for name in dict.fromkeys(names):
        if name in by_name:
            chosen.append(by_name[name])
            continue
        if name in every:
            why = spatial(every[name].layer, every[name])
            what = "a 1×1 conv" if why == "1×1" else "a depthwise conv" if why else "no conv"
            raise ConvcostError(f"--layers: '{name}' is {what}; only spatial convs (larger than "
                                "1×1, not depthwise) have substitutes")  # fmt: skip
        from convcost.core.errors import did_you_mean

        raise ConvcostError(f"--layers: no layer '{name}'; {did_you_mean(name, list(by_name))}"
                            "give full names as analyze prints them")  # fmt: skip
    rest = [a for a in ranked if a not in chosen]
    return chosen + rest, len(chosen)


def _layer(
    advice: Advice,
    index: int,
    result: LayerResult,
    widths: Sequence[int],
    groups: int | None,
    settings: Settings | None,
) -> LayerAdvice:
    report, layer = advice.report, result.layer
    assert isinstance(layer, Conv)
    inp, cin = result.input_shape, result.input_shape.c
    local, batch = result.local_name, report.batch
    one_group = _groups(layer, cin) == 1
    labelled = [(cin // 2, f"bottleneck {cin // 2} (Cin/2)"),
                (cin // 4, f"bottleneck {cin // 4} (Cin/4)")]  # fmt: skip
    labelled += [(w, f"bottleneck {w}") for w in widths]
    chosen = [(w, text) for w, text in labelled if w >= 1]
    chosen = [(w, text) for k, (w, text) in enumerate(chosen)
              if w not in [x for x, _ in chosen[:k]]]  # fmt: skip
    candidates: list[Candidate] = []
    break_even: Ratio | None = None
    formula = ""
    if one_group:
        comparison = compare(inp, layer, tuple(w for w, _ in chosen), batch, settings)
        break_even, formula = comparison.break_even, comparison.break_even_formula
        direct = comparison.direct.report
        for width, text in chosen:
            note = "" if width < break_even.exact() else f"b ≥ b* = {float(break_even):.1f}"
            candidates.append(_candidate(report, index, result, "bottleneck", width, text,
                                         settings, note))  # fmt: skip
    else:
        direct = cost(analyze(chain(inp, ((local, layer),)), batch), settings)
        for width, text in chosen:
            candidates.append(Candidate("bottleneck", width, text, (), None, None,
                                        "a grouped conv: no bottleneck advised"))  # fmt: skip
    candidates.append(_candidate(report, index, result, "separable", None, "separable",
                                 settings))  # fmt: skip
    if groups is not None:
        candidates.append(_candidate(report, index, result, "grouped", groups,
                                     f"grouped {groups}", settings))  # fmt: skip
    return LayerAdvice(index, result, direct, break_even, formula, tuple(candidates),
                       _best(advice, candidates))  # fmt: skip


def _candidate(
    report: Report,
    index: int,
    result: LayerResult,
    kind: str,
    value: int | None,
    label: str,
    settings: Settings | None,
    note: str = "",
) -> Candidate:
    layer = result.layer
    assert isinstance(layer, Conv)
    layers = substitute_layers(kind, value, result.local_name, layer, result)
    if kind == "grouped" and value is not None:
        cin, cout = result.input_shape.c, result.output_shape.c
        for what, channels in (("input channels", cin), ("filters", cout)):
            if channels % value:
                note = f"{value} groups do not divide the {channels} {what}"
                return Candidate(kind, value, label, layers, None, None, note)
    try:
        path = cost(analyze(chain(result.input_shape, layers), report.batch), settings)
    except ConvcostError as error:
        return Candidate(kind, value, label, layers, None, None, error.message)
    totals = _network(report, {index: layers}, settings)[1].totals
    return Candidate(kind, value, label, layers, path, totals, note)


def _best(advice: Advice, candidates: Sequence[Candidate]) -> Candidate | None:
    """The suggested candidate that saves most in ``advice.by``, if any saves."""
    paying = [c for c in candidates if c.suggested and (advice.saving(c) or 0) > 0]
    return max(paying, key=lambda c: advice.saving(c) or 0, default=None)


def _apply(
    advice: Advice,
    choice: Choice,
    widths: Sequence[int],
    groups: int | None,
    settings: Settings | None,
) -> Applied:
    replacements: dict[int, tuple[tuple[str, Layer], ...]] = {}
    applied: list[tuple[str, Candidate]] = []
    skipped: list[tuple[str, str]] = []
    for layer_advice in advice.layers[: advice.shown]:
        result = layer_advice.result
        layer = result.layer
        assert isinstance(layer, Conv)
        value = choice.width(result.input_shape.c) if choice.kind == "bottleneck" else choice.value
        if choice.kind == "bottleneck" and (value or 0) < 1:
            skipped.append((result.name, f"Cin/{choice.divisor} of {result.input_shape.c} "
                            "channels is below 1"))  # fmt: skip
            continue
        if choice.kind == "bottleneck" and _groups(layer, result.input_shape.c) != 1:
            skipped.append((result.name, "a grouped conv: no bottleneck advised"))
            continue
        candidate = _candidate(advice.report, layer_advice.at, result, choice.kind, value,
                               choice.text, settings)  # fmt: skip
        if candidate.totals is None:
            skipped.append((result.name, candidate.note))
            continue
        replacements[layer_advice.at] = candidate.layers
        applied.append((result.name, candidate))
    graph, report = _network(advice.report, replacements, settings)
    return Applied(choice.text, tuple(applied), tuple(skipped), graph, report)
