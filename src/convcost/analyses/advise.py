"""Where substitutes pay: every spatial convolution of a network, with what a 1×1 bottleneck
in front of it, a depthwise-separable pair or a grouped conv in its place would save.

Each substitute is built from real layers, analysed and costed on the conv's input as
``analyze`` costs a network. A substitute reads what the conv read and ends in a tensor of
the conv's output shape, so the rest of the network is unchanged: the network's MACs,
params and time with it are its totals less the conv's figures plus the substitute's (sums
over layers), and its peak memory changes at the substitute's steps only
(``core.costing.Substitution``); each exact, in linear time for the whole network. Only
``--apply`` builds and analyses the substituted network. Inserted convolutions carry a
bias when the replaced conv does; no BatchNorm or activation is inserted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NamedTuple

from convcost.analyses.compare import Ratio, break_even_width
from convcost.analyses.quantities import Limit
from convcost.analyses.ranking import MIN_GROUPS, By
from convcost.core.analysis import analyze
from convcost.core.costing import Substitution, cost
from convcost.core.costs import Settings
from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.graph import Graph, GraphNode, chain
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv
from convcost.core.metrics import METRICS
from convcost.core.report import LayerResult, Report
from convcost.core.shapes import Shape

BY = {by.value: by.metric for by in By}
"""``--by``: the metric (``core.metrics``) layers are ranked by."""

SUBSTITUTES = ("bottleneck", "separable", "grouped")

Number = int | float


class UnknownLayer(ConvcostError):
    """A name among the layers asked for that is not a spatial conv's."""


class Reason(StrEnum):
    """Why a candidate is not suggested (the renderers word it)."""

    none = ""
    grouped_conv = "grouped_conv"  # a bottleneck in front of a grouped conv: not advised
    indivisible = "indivisible"  # the groups do not divide the channels
    invalid = "invalid"  # it cannot be built (``detail`` says why)
    no_saving = "no_saving"  # it saves nothing in the metric ranked by


class Figures(NamedTuple):
    """The network's figures with a substitute in place (time: with a device)."""

    macs: int
    params: int
    peak_activation_bytes: int
    latency_s: float | None


class Candidate(NamedTuple):
    """One substitute for one conv: the layers that take its place (the last keeps the
    conv's name), those layers analysed on the conv's input (``path``), the network's
    figures with it and what it saves in the metric ranked by; ``reason`` says why it is
    not suggested (``Reason.none`` when it is)."""

    kind: str  # bottleneck, separable or grouped
    value: int | None  # the bottleneck's width, the groups
    label: str  # "bottleneck 96 (Cin/2)", "separable", "grouped 2"
    layers: tuple[tuple[str, Layer], ...]
    path: Report | None  # None: it cannot be built (reason says why)
    network: Figures | None
    saving: Number | None = None
    reason: Reason = Reason.none
    detail: str = ""  # Reason.invalid: the error

    @property
    def suggested(self) -> bool:
        return self.network is not None and self.reason is Reason.none

    @property
    def note(self) -> str:
        """Why it is not suggested, in words ("" when it is)."""
        return {
            Reason.none: "",
            Reason.grouped_conv: "a grouped conv: no bottleneck advised",
            Reason.indivisible: self.detail,
            Reason.invalid: self.detail,
            Reason.no_saving: "does not pay",
        }[self.reason]


class LayerAdvice(NamedTuple):
    at: int  # of the layer in the report (and its node in the graph)
    result: LayerResult
    direct: Report  # the conv alone, analysed on its input
    break_even: Ratio | None  # b*, for a conv of one group, in ``break_even_metric``
    break_even_formula: str
    candidates: tuple[Candidate, ...]
    best: Candidate | None  # the suggested candidate that saves most, if any saves
    break_even_metric: str = "macs"  # macs or params (ranked by memory or time: macs)

    @property
    def separable_terms(self) -> tuple[int, int]:
        """Cout and K²: a separable pair costs 1/Cout + 1/K² of a one-group conv's MACs."""
        layer = self.result.layer
        assert isinstance(layer, Conv)
        return self.result.output_shape.c, layer.kernel[0] * layer.kernel[1]


class Source(NamedTuple):
    """What the config ``--apply`` writes keeps of the spec advised on: its config's
    ``name:`` and ``budget:`` (so that ``check`` holds the new network to them), and the
    options it was analysed with whose effect the written widths and input hold
    (``width multiplier 0.5``, ``no bias``), said in its ``description:``."""

    name: str = ""
    budget: tuple[Limit, ...] = ()
    baked: tuple[str, ...] = ()


NO_SOURCE = Source()


def baked(scaling: str, input_shape: Shape | None, no_bias: bool) -> tuple[str, ...]:
    """The options in a ``Source``'s ``baked``: ``scaling`` as ``Scaling`` says it."""
    return (
        ((scaling,) if scaling else ())
        + ((f"input {input_shape}",) if input_shape is not None else ())
        + (("no bias",) if no_bias else ())
    )


class Advice(NamedTuple):
    """Every spatial conv's substitutes, ranked by what the best saves (``by``)."""

    title: str
    report: Report
    by: str  # a key of BY
    layers: tuple[LayerAdvice, ...]  # ranked, best saving first (all of them)
    shown: int  # how many of ``layers`` to list (--top; all by default)
    pointwise: int  # 1×1 convs: not advised
    depthwise: int  # depthwise convs: already separable
    applied: Applied | None = None
    source: Source = NO_SOURCE

    @property
    def applied_description(self) -> str:
        """What ``--apply`` made, for the written config's ``description:``."""
        applied = self.applied
        if applied is None:
            return ""
        layers = ", ".join(name for name, _ in applied.layers) or "no layer"
        said = (f"{self.source.name or self.title} with {applied.substitute} applied to "
                f"{layers} (convcost advise --apply)")  # fmt: skip
        if self.source.baked:
            said += (f"; at {', '.join(self.source.baked)}, which this config's widths and "
                     "input hold: analyse it without those options")  # fmt: skip
        return said

    @property
    def metric_key(self) -> str:
        return BY[self.by]

    @property
    def total(self) -> Number:
        value = METRICS[self.metric_key].read(self.report.totals)
        assert value is not None  # a device is required for time (see advise)
        return value

    def saving(self, candidate: Candidate) -> Number | None:
        return candidate.saving

    def share(self, candidate: Candidate) -> Ratio | float | None:
        """The saving as a part of the network's total (a Ratio of counts; time: a float)."""
        saving, total = candidate.saving, self.total
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


def _whole(text: str) -> int | None:
    """A whole number written in ASCII digits (``str.isdigit`` takes ² and １２ too)."""
    return int(text) if text and text.isascii() and text.isdigit() else None


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
    least = 1 if kind == "bottleneck" else MIN_GROUPS
    number = _whole(value)
    if number is None or number < least:
        what = "a width" if kind == "bottleneck" else "a number of groups"
        raise ConvcostError(f"--apply {text}: {kind} needs {what}, a whole number of at least "
                            f"{least} (got '{value}'); {usage}")  # fmt: skip
    return Choice(kind, number, text=text)


def spatial(layer: Layer, result: LayerResult) -> str:
    """Why a layer has no substitute ("" when it has: a conv larger than 1×1, not depthwise).
    A conv of as many groups as input channels is depthwise, one channel included."""
    if type(layer) is not Conv:
        return "not a conv"
    if layer.kernel == (1, 1):
        return "1×1"
    cin = result.input_shape.c
    groups = cin if layer.groups == "depthwise" else layer.groups
    if (
        groups == cin
        and result.output_shape.c % groups == 0
        and (groups > 1 or layer.groups == "depthwise")
    ):
        return "depthwise"  # fmt: skip
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
        shown = node.shown_input
        node = node._replace(shown_input=None if shown is None else moved.get(shown, shown))
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


class _Network(NamedTuple):
    """What a substitute's figures are worked out from: the network's, once; and the paths
    analysed so far, by what they depend on (a deep network repeats a few convs)."""

    report: Report
    settings: Settings | None
    by: str
    memory: Substitution  # the peak's bookkeeping
    paths: dict[tuple[object, ...], Report]

    def path(self, layers: tuple[tuple[str, Layer], ...], inp: Shape) -> Report:
        """``layers`` analysed and costed on ``inp``, named as given."""
        key = (inp, *(layer for _, layer in layers))
        found = self.paths.get(key)
        if found is None:
            found = self.paths[key] = cost(analyze(chain(inp, layers), self.report.batch),
                                           self.settings)  # fmt: skip
        if all(r.local_name == name for r, (name, _) in zip(found.layers, layers, strict=True)):
            return found
        named = tuple(r._replace(local_name=name)
                      for r, (name, _) in zip(found.layers, layers, strict=True))  # fmt: skip
        return found._replace(layers=named, rows=named)

    def figures(self, index: int, path: Report) -> Figures:
        """The network's figures with the layer at ``index`` replaced by ``path``'s layers."""
        totals, layer = self.report.totals, self.report.layers[index]
        macs = totals.macs - layer.macs + path.totals.macs
        params = totals.params - layer.params + path.totals.params
        peak = self.memory.peak(index, [r.output_shape for r in path.layers[:-1]])
        latency = None
        if totals.cost is not None and totals.cost.latency_s is not None:
            assert layer.cost is not None and path.totals.cost is not None
            latency = totals.cost.latency_s - (layer.cost.latency_s or 0.0)
            latency += path.totals.cost.latency_s or 0.0
        return Figures(macs, params, peak, latency)


# --- the analysis -----------------------------------------------------------------------------


def check_by(by: str, settings: Settings | None) -> By:
    """``by`` as a ``By``; time needs a device."""
    if by not in BY:
        raise ConvcostError(f"by={by!r}: rank by macs, params, memory or time")
    if by == "time" and (settings is None or settings.device is None):
        raise ConvcostError("--by time is a roofline time: give --device NAME (convcost devices "
                            "lists them) or --peak and --bandwidth")  # fmt: skip
    return By(by)


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
    source: Source = NO_SOURCE,
) -> Advice:
    """Every spatial conv of ``report`` (analysed and costed by ``settings``) with its
    substitutes: bottlenecks of Cin/2, Cin/4 and ``widths`` channels, a depthwise-separable
    pair and, with ``groups``, a grouped conv; ranked by what the best suggested one saves
    in ``by``. ``top`` or ``names`` choose the layers listed (and ``apply``'d); ``source``:
    what the written config keeps of the spec."""
    ranked_by = check_by(by, settings)
    if groups is not None and groups < MIN_GROUPS:
        raise ConvcostError(f"groups={groups}: a grouped conv has at least {MIN_GROUPS} groups")
    if report.graph is None or report.uncounted:
        raise ConvcostError("advise needs a network whose every operator convcost counts")
    network = _Network(report, settings, ranked_by.value, Substitution(report, settings), {})
    found: list[LayerAdvice] = []
    pointwise = depthwise = 0
    for index, result in enumerate(report.layers):
        why = spatial(result.layer, result)
        pointwise += why == "1×1"
        depthwise += why == "depthwise"
        if not why:
            found.append(_layer(network, index, result, widths, groups))
    ranked = sorted(found, key=_rank_key)
    shown = len(ranked)
    if names:
        ranked, shown = _named_first(ranked, names, report)
    elif top is not None:
        shown = min(top, len(ranked))
    advice = Advice(title, report, by, tuple(ranked), shown, pointwise, depthwise, None, source)
    if apply is not None:
        advice = advice._replace(applied=_apply(advice, network, apply))
    return advice


def _rank_key(layer: LayerAdvice) -> tuple[int, float, int]:
    best = layer.best
    saving = best.saving if best is not None else None
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
            raise UnknownLayer(f"'{name}' is {what}; only spatial convs (larger than "
                                "1×1, not depthwise) have substitutes")  # fmt: skip
        raise UnknownLayer(f"no layer '{name}'; {did_you_mean(name, list(by_name))}"
                            "give full names as analyze prints them")  # fmt: skip
    rest = [a for a in ranked if a not in chosen]
    return chosen + rest, len(chosen)


def _layer(
    network: _Network,
    index: int,
    result: LayerResult,
    widths: Sequence[int],
    groups: int | None,
) -> LayerAdvice:
    layer = result.layer
    assert isinstance(layer, Conv)
    inp, cin = result.input_shape, result.input_shape.c
    labelled = [(cin // 2, f"bottleneck {cin // 2} (Cin/2)"),
                (cin // 4, f"bottleneck {cin // 4} (Cin/4)")]  # fmt: skip
    labelled += [(w, f"bottleneck {w}") for w in widths]
    chosen = [(w, text) for w, text in labelled if w >= 1]
    chosen = [(w, text) for k, (w, text) in enumerate(chosen)
              if w not in [x for x, _ in chosen[:k]]]  # fmt: skip
    candidates: list[Candidate] = []
    break_even: Ratio | None = None
    formula = ""
    metric = "params" if network.by == "params" else "macs"
    direct = network.path(((result.local_name, layer),), inp)
    one_group = _groups(layer, cin) == 1
    if one_group:
        break_even, formula = break_even_width(inp, result.output_shape, layer, metric)
    for width, text in chosen:
        if one_group:
            candidates.append(_candidate(network, index, result, "bottleneck", width, text))
        else:
            candidates.append(Candidate("bottleneck", width, text, (), None, None,
                                        reason=Reason.grouped_conv))  # fmt: skip
    candidates.append(_candidate(network, index, result, "separable", None, "separable"))
    if groups is not None:
        candidates.append(_candidate(network, index, result, "grouped", groups,
                                     f"grouped {groups}"))  # fmt: skip
    paying = [c for c in candidates if c.suggested]
    best = max(paying, key=lambda c: c.saving or 0, default=None)
    return LayerAdvice(index, result, direct, break_even, formula, tuple(candidates), best,
                       metric)  # fmt: skip


def _candidate(
    network: _Network, index: int, result: LayerResult, kind: str, value: int | None, label: str
) -> Candidate:
    """The substitute, with what it saves; suggested when it saves in the metric ranked by."""
    layer = result.layer
    assert isinstance(layer, Conv)
    layers = substitute_layers(kind, value, result.local_name, layer, result)
    if kind == "grouped" and value is not None:
        cin, cout = result.input_shape.c, result.output_shape.c
        for what, channels in (("input channels", cin), ("filters", cout)):
            if channels % value:
                detail = f"{value} groups do not divide the {channels} {what}"
                return Candidate(kind, value, label, layers, None, None, None,
                                 Reason.indivisible, detail)  # fmt: skip
    try:
        path = network.path(layers, result.input_shape)
    except ConvcostError as error:
        return Candidate(kind, value, label, layers, None, None, None, Reason.invalid,
                         error.message)  # fmt: skip
    figures = network.figures(index, path)
    key = BY[network.by]
    total = METRICS[key].read(network.report.totals)
    after = getattr(figures, key)
    assert total is not None and after is not None
    saving: Number = total - after
    reason = Reason.none if saving > 0 else Reason.no_saving
    return Candidate(kind, value, label, layers, path, figures, saving, reason)


def _apply(advice: Advice, network: _Network, choice: Choice) -> Applied:
    """The listed layers with ``choice`` in their place, those it saves in; the others
    skipped, each with why. Nothing to apply it to: refused."""
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
        candidate = _candidate(network, layer_advice.at, result, choice.kind, value, choice.text)
        if candidate.network is None:
            skipped.append((result.name, candidate.note))
            continue
        if not candidate.suggested:
            metric, added = METRICS[BY[advice.by]], -(candidate.saving or 0)
            more = ""
            if isinstance(added, int):
                more = f" (it would add {added:,})" if added else " (it would be the same)"
            skipped.append((result.name, f"it saves no {metric.title}{more}"))
            continue
        replacements[layer_advice.at] = candidate.layers
        applied.append((result.name, candidate))
    if not replacements:
        if not advice.shown:
            raise ConvcostError(f"--apply {choice.text}: the network has no spatial convolution "
                                "to apply it to; no config written")  # fmt: skip
        why = "; ".join(f"{name}: {reason}" for name, reason in skipped)
        listed = ("does not apply to the layer listed" if advice.shown == 1
                  else f"applies to none of the {advice.shown} layers listed")  # fmt: skip
        raise ConvcostError(f"--apply {choice.text}: {listed} ({why}); no config written")
    report = network.report
    assert report.graph is not None
    graph = substituted(report.graph, replacements)
    return Applied(choice.text, tuple(applied), tuple(skipped), graph,
                   cost(analyze(graph, report.batch), network.settings))  # fmt: skip
