"""convcost as a library: the commands as typed functions, their results as plain data.

Each function does what the command of its name does and raises ``ConvcostError`` (with the
command's message) on bad input; each result's ``to_dict()`` is the dict that the command's
``--format json`` prints, built by the same renderers::

    >>> import convcost
    >>> convcost.compare("28x28x192", "5x5", 32, [16]).bottleneck_macs
    {16: 12443648}
    >>> convcost.analyze("resnet18").params
    11689512
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.limits import MAX_LAYERS
from convcost.frontends import Loaded
from convcost.render.registry import Options

if TYPE_CHECKING:
    from fractions import Fraction

    from convcost.analyses import advise as advise_analysis
    from convcost.analyses import compare as compare_analysis
    from convcost.analyses import diff as diff_analysis
    from convcost.analyses.budget import ConfigCheck
    from convcost.analyses.quantities import Limit
    from convcost.core.costs import Settings
    from convcost.core.kinds.uncounted import UncountedOps
    from convcost.core.multipliers import Scaling
    from convcost.core.report import Report as Analysis
    from convcost.core.shapes import Shape


T = TypeVar("T")

# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Report:
    """What ``analyze`` found: the totals as attributes, every layer and group in
    ``analysis`` (the core's record) and in ``to_dict()``."""

    spec: str
    description: str
    budget: tuple[Limit, ...]
    analysis: Analysis
    warnings: tuple[str, ...] = ()  # what reading the spec noticed (a channels-first input)
    name: str = ""  # the config's name: (none: empty)

    @property
    def macs(self) -> int:
        return self.analysis.totals.macs

    @property
    def uncounted(self) -> tuple[UncountedOps, ...]:
        """Operators of a model file convcost could not count, by type (``op``, ``number``,
        ``layers``): their work is in no total."""
        return self.analysis.uncounted

    @property
    def flops(self) -> int:
        return self.analysis.totals.flops

    @property
    def params(self) -> int:
        return self.analysis.totals.params

    @property
    def activations(self) -> int:
        return self.analysis.totals.activations

    @property
    def output_shape(self) -> tuple[int, int, int]:
        shape = self.analysis.output_shape
        return (shape.h, shape.w, shape.c)

    @property
    def param_bytes(self) -> int:
        return self.analysis.totals.param_bytes

    @property
    def peak_activation_bytes(self) -> int:
        """Peak inference memory, by the README's rule (``peak_layer``: where)."""
        return self.analysis.totals.peak_activation_bytes

    @property
    def peak_layer(self) -> str:
        return self.analysis.totals.costed.peak.layer

    @property
    def saved_activation_bytes(self) -> int:
        return self.analysis.totals.saved_activation_bytes

    @property
    def training_bytes(self) -> int:
        return self.analysis.totals.training_bytes

    @property
    def latency_s(self) -> float | None:
        """Roofline time on the settings' device (None without one)."""
        cost = self.analysis.totals.cost
        return None if cost is None else cost.latency_s

    def to_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """``convcost analyze SPEC -f json`` (``--explain``: each layer's arithmetic too)."""
        return _JsonOutput.analyze(self.analysis, explain)

    def __repr__(self) -> str:
        """The table ``convcost analyze SPEC`` prints: what a console shows."""
        return _shown(self.analysis, "table", self._options)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        """The page ``convcost report SPEC`` writes, for a notebook to show inline."""
        return _framed(_shown(self.analysis, "html", self._options))

    @property
    def _options(self) -> Options:
        from convcost.render.words import report_title

        return Options(title=report_title(self.spec, self.analysis.batch))


@dataclass(frozen=True, repr=False)
class Comparison:
    """What ``compare`` found: the direct conv's totals and each bottleneck path's, by width."""

    analysis: compare_analysis.Comparison

    @property
    def direct_macs(self) -> int:
        return self.analysis.direct.report.totals.macs

    @property
    def direct_params(self) -> int:
        return self.analysis.direct.report.totals.params

    @property
    def bottleneck_macs(self) -> dict[int, int]:
        return {p.width: p.report.totals.macs for p in self.analysis.bottlenecks if p.width}

    @property
    def bottleneck_params(self) -> dict[int, int]:
        return {p.width: p.report.totals.params for p in self.analysis.bottlenecks if p.width}

    @property
    def direct_latency_s(self) -> float | None:
        """The direct path's roofline time on the settings' device (None without one)."""
        cost = self.analysis.direct.report.totals.cost
        return None if cost is None else cost.latency_s

    @property
    def bottleneck_latency_s(self) -> dict[int, float | None]:
        """Each bottleneck path's roofline time, by width (None without a device)."""
        return {
            p.width: None if p.report.totals.cost is None else p.report.totals.cost.latency_s
            for p in self.analysis.bottlenecks
            if p.width
        }

    @property
    def break_even(self) -> float:
        """The bottleneck width b* at which both paths cost the same MACs."""
        return float(self.analysis.break_even)

    def to_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """``convcost compare ... -f json``."""
        return _JsonOutput.compare(self.analysis, explain)

    def __repr__(self) -> str:
        """The table ``convcost compare`` prints: what a console shows."""
        return _shown(self.analysis, "table", Options())

    __str__ = __repr__

    def _repr_html_(self) -> str:
        """The page ``convcost compare ... -f html`` writes, for a notebook to show inline."""
        return _framed(_shown(self.analysis, "html", Options()))


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` found: one ``ConfigCheck`` a spec, in order (its ``status`` is PASS,
    FAIL, NO BUDGET or ERROR, with the error that kept it from being checked)."""

    configs: tuple[ConfigCheck, ...]

    @property
    def passed(self) -> bool:
        """Every spec within all its budgets (``"passed"`` in the JSON)."""
        return all(c.status == "PASS" for c in self.configs)

    @property
    def exit_code(self) -> int:
        """``convcost check``'s exit status: 0 passed, 1 a budget exceeded or missing, 2 a
        spec that could not be read."""
        from convcost.analyses.budget import exit_code

        return exit_code(list(self.configs))

    def to_dict(self) -> dict[str, Any]:
        """``convcost check SPEC... -f json``."""
        return _JsonOutput.check(list(self.configs))


@dataclass(frozen=True)
class DiffReport:
    """What ``diff`` found: layers matched group by group by kind and settings, names as
    hints (``analysis.layers``, ``analysis.groups``)."""

    old: str
    new: str
    analysis: diff_analysis.Diff

    @property
    def macs_delta(self) -> int:
        return self.analysis.new.totals.macs - self.analysis.old.totals.macs

    @property
    def params_delta(self) -> int:
        return self.analysis.new.totals.params - self.analysis.old.totals.params

    def to_dict(self, *, show_all: bool = False) -> dict[str, Any]:
        """``convcost diff OLD NEW -f json`` (``show_all``: ``--all``, unchanged layers too)."""
        return _JsonOutput.diff(self.analysis, self.old, self.new, show_all)


@dataclass(frozen=True)
class AdviceReport:
    """What ``advise`` found: every spatial conv's substitutes, ranked (``analysis``), and
    with ``apply`` the substituted network (``applied_macs``, ``config_text()``)."""

    analysis: advise_analysis.Advice

    @property
    def applied_macs(self) -> int | None:
        applied = self.analysis.applied
        return None if applied is None else applied.report.totals.macs

    @property
    def applied_params(self) -> int | None:
        applied = self.analysis.applied
        return None if applied is None else applied.report.totals.params

    def config_text(self) -> str:
        """The substituted network as a YAML config (what ``advise --apply -o`` writes)."""
        from convcost.frontends.configwrite import config_text

        applied = self.analysis.applied
        if applied is None:
            raise ConvcostError("config_text: advise was not asked to apply a substitute")
        source = self.analysis.source
        return config_text(applied.graph, source.name, self.analysis.applied_description,
                           source.budget)  # fmt: skip

    def to_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """``convcost advise SPEC -f json``."""
        return _json(self.analysis, Options(explain=explain))


# --- functions --------------------------------------------------------------------------------


def load(
    spec: str,
    *,
    no_bias: bool = False,
    max_layers: int = MAX_LAYERS,
    input_shape: str | Sequence[int] | None = None,
) -> Loaded:
    """The network a SPEC names, with its config's description and budget. A SPEC is what
    ``convcost analyze`` takes, resolved by the same rule (see ``frontends.load_spec``):
    ``-`` (standard input), an inline spec, a built-in model's name, or a config file.
    ``input_shape`` (``"224x224x3"`` or ``[224, 224, 3]``) replaces the spec's input, as
    ``--input-shape`` does."""
    from convcost.frontends import load_spec

    return load_spec(spec, _bias_defaults(no_bias), _at_least_1("max_layers", max_layers),
                     _input_shape(input_shape))  # fmt: skip


def settings(
    *,
    dtype: str | None = None,
    weight_dtype: str | None = None,
    activation_dtype: str | None = None,
    optimizer: str = "adam",
    device: str | None = None,
    peak: str | None = None,
    bandwidth: str | None = None,
    fuse: bool = False,
) -> Settings:
    """How to cost a network, as the commands' options of the same names say: number
    formats (``fp32``, ``fp16``, ``bf16``, ``int8``), the optimizer training memory assumes,
    and a device for roofline time (a preset's name or a device file; ``peak="19.5T"`` and
    ``bandwidth="1.5TB/s"`` describe one or replace its figures). Pass it as ``settings=``."""
    from convcost.frontends.hardware import settings_of

    return settings_of(dtype, weight_dtype, activation_dtype, optimizer, device, peak,
                       bandwidth, fuse)  # fmt: skip


def analyze(
    spec: str,
    *,
    batch: int = 1,
    no_bias: bool = False,
    max_layers: int = MAX_LAYERS,
    settings: Settings | None = None,
    input_shape: str | Sequence[int] | None = None,
    width_multiplier: str | float | Fraction | None = None,
    divisor: int | None = None,
    resolution: int | None = None,
) -> Report:
    """``convcost analyze SPEC``: per-layer shapes, MACs, params and activations, and totals,
    with bytes, peak and training memory (and time on a device) costed by ``settings``
    (``convcost.settings(...)``; fp32, Adam, no device when None). ``batch`` multiplies MACs
    and activations, not params; ``no_bias`` takes the bias out of convolutions and dense
    layers; ``max_layers`` bounds the network's size (rows); ``input_shape`` replaces the
    spec's input (``"224x224x3"``: an ONNX model's symbolic sizes, another resolution);
    ``width_multiplier``, ``divisor`` and ``resolution`` scale its widths and input, as
    ``--width-multiplier``, ``--divisor`` and ``--resolution`` do (``0.75`` or ``"3/4"``)."""
    from convcost.frontends import analyze_spec

    at = _input_shape(input_shape)
    loaded, analysis = analyze_spec(
        spec,
        _bias_defaults(no_bias),
        _at_least_1("batch", batch),
        _at_least_1("max_layers", max_layers),
        _settings(settings),
        at,
        scaling=_scaling(width_multiplier, divisor, resolution, at),
    )
    name = getattr(loaded.network, "name", "")
    return Report(spec, loaded.description, loaded.budget, analysis, loaded.warnings, name)


def compare(
    shape: str | Sequence[int],
    kernel: str | int | tuple[int, int],
    filters: int,
    bottlenecks: int | Iterable[int] = (),
    *,
    stride: str | int | tuple[int, int] = 1,
    padding: str | int | Sequence[int] = "same",
    batch: int = 1,
    no_bias: bool = False,
    settings: Settings | None = None,
) -> Comparison:
    """``convcost compare``: a direct K×K conv on ``shape`` (``"28x28x192"`` or
    ``(28, 28, 192)``) against the same conv behind a 1×1 bottleneck of each width.
    ``stride`` and ``padding`` apply to the K×K conv, as the options of that name."""
    from convcost.analyses.compare import compare as run_compare
    from convcost.core.fields import positive_int
    from convcost.core.kinds import build_layer
    from convcost.core.kinds.conv import Conv
    from convcost.core.shapes import shape_from_value

    input_shape = shape_from_value(shape if isinstance(shape, str) else list(shape))
    raw = {"kernel": kernel, "filters": filters, "stride": stride, "padding": padding}
    conv = build_layer("conv", {key: _plain(value) for key, value in raw.items()},
                       _bias_defaults(no_bias))  # fmt: skip
    assert isinstance(conv, Conv)
    widths = (bottlenecks,) if isinstance(bottlenecks, int) else tuple(bottlenecks)
    for width in widths:
        _checked("bottlenecks", positive_int, width)
    chosen = _settings(settings)
    return Comparison(run_compare(input_shape, conv, widths, _at_least_1("batch", batch), chosen))


def advise(
    spec: str,
    *,
    by: str = "macs",
    widths: int | Iterable[int] = (),
    groups: int | None = None,
    top: int | None = None,
    layers: str | Iterable[str] = (),
    apply: str | None = None,
    batch: int = 1,
    no_bias: bool = False,
    max_layers: int = MAX_LAYERS,
    settings: Settings | None = None,
    input_shape: str | Sequence[int] | None = None,
    width_multiplier: str | float | Fraction | None = None,
    divisor: int | None = None,
    resolution: int | None = None,
) -> AdviceReport:
    """``convcost advise SPEC``: every spatial conv's substitutes (bottlenecks of Cin/2,
    Cin/4 and ``widths``, a depthwise-separable pair, ``groups`` groups) and what each saves
    in ``by`` (macs, params, memory, time), ranked; ``top`` or ``layers`` choose the layers
    listed, and ``apply`` (``bottleneck=CIN/4``, ``separable``, ``grouped=4``) substitutes
    them in a copy of the network; ``width_multiplier``, ``divisor`` and ``resolution`` as
    for ``analyze``."""
    from convcost.analyses.advise import Source, UnknownLayer, baked, parse_choice
    from convcost.analyses.advise import advise as run_advise

    loaded = analyze(spec, batch=batch, no_bias=no_bias, max_layers=max_layers,
                     settings=settings, input_shape=input_shape,
                     width_multiplier=width_multiplier, divisor=divisor,
                     resolution=resolution)  # fmt: skip
    # One name or one width given alone is taken as one, not iterated.
    names = (layers,) if isinstance(layers, str) else tuple(layers)
    chosen_widths = tuple(_at_least_1("widths", w) for w in _one_or_many(widths))
    if groups is not None:
        _at_least_1("groups", groups)
    if top is not None:
        _at_least_1("top", top)
    choice = None if apply is None else parse_choice(apply)
    scaled = str(_scaling(width_multiplier, divisor, resolution, _input_shape(input_shape)))
    held = baked(scaled, _input_shape(input_shape), no_bias)
    source = Source(loaded.name, loaded.budget, held)
    try:
        return AdviceReport(run_advise(loaded.analysis, spec, by, chosen_widths, groups, top,
                                       names, settings, choice, source))  # fmt: skip
    except UnknownLayer as error:
        raise ConvcostError(f"layers: {error.message}") from None


def _one_or_many(values: object) -> tuple[object, ...]:
    if isinstance(values, int | str):
        return (values,)
    if isinstance(values, Iterable):
        return tuple(values)
    raise ConvcostError(f"widths: give a whole number or several, not {values!r}")


def check(
    specs: str | Iterable[str],
    *,
    max_layers: int = MAX_LAYERS,
    settings: Settings | None = None,
    input_shape: str | Sequence[int] | None = None,
    allow_uncounted: bool = False,
    width_multiplier: str | float | Fraction | None = None,
    divisor: int | None = None,
    resolution: int | None = None,
    **limits: str | int,
) -> CheckReport:
    """``convcost check``: each spec against its config's ``budget:`` section, with
    ``limits`` (``macs="1.6G"``, ``params=7_000_000``, ``activations=...``,
    ``memory="100MB"``) taking precedence, as ``--max-macs`` and the like do. A spec that
    cannot be read is reported with status ERROR, as the command does, and so is a model
    holding operators convcost cannot count unless ``allow_uncounted``; bad limits raise."""
    from convcost.analyses.budget import check_configs
    from convcost.analyses.quantities import Limit, parse_quantity
    from convcost.core.metrics import METRICS, budgetable
    from convcost.frontends import analyze_spec

    names = [specs] if isinstance(specs, str) else list(specs)
    _stdin_once(names)
    bound = _at_least_1("max_layers", max_layers)
    keys = [metric.budget_name for metric in budgetable()]
    key_of = {metric.budget_name: metric.key for metric in budgetable()}
    flags: dict[str, Limit] = {}
    for metric, value in limits.items():
        if metric not in keys:
            raise ConvcostError(
                f"check has no limit '{metric}'; {did_you_mean(metric, keys)}limits: "
                f"{', '.join(keys)}"
            )
        key = key_of[metric]
        flags[key] = Limit(key, parse_quantity(value, key))
    settings = _settings(settings)
    timed = [key for key in flags if METRICS[key].source == "device"]
    if timed and (settings is None or settings.device is None):
        raise ConvcostError(
            f"{METRICS[timed[0]].budget_name} is a roofline time: give a device, "
            "settings=convcost.settings(device=...)"
        )
    at = _input_shape(input_shape)
    scaling = _scaling(width_multiplier, divisor, resolution, at)
    checks = check_configs(
        names,
        flags,
        lambda spec: analyze_spec(
            spec, max_layers=bound, settings=settings, input_shape=at, scaling=scaling
        ),
        lambda line: None,
        allow_uncounted,
    ).configs
    return CheckReport(tuple(checks))


def diff(
    old: str,
    new: str,
    *,
    max_layers: int = MAX_LAYERS,
    settings: Settings | None = None,
    input_shape: str | Sequence[int] | None = None,
    width_multiplier: str | float | Fraction | None = None,
    divisor: int | None = None,
    resolution: int | None = None,
) -> DiffReport:
    """``convcost diff OLD NEW``: what a change costs, layer by layer (both at
    ``input_shape``, and scaled by ``width_multiplier``, ``divisor`` and ``resolution``,
    when given)."""
    from convcost.analyses.diff import diff as run_diff
    from convcost.frontends import analyze_spec

    _stdin_once([old, new])
    bound = _at_least_1("max_layers", max_layers)
    settings = _settings(settings)
    at = _input_shape(input_shape)
    scaling = _scaling(width_multiplier, divisor, resolution, at)
    before = analyze_spec(old, max_layers=bound, settings=settings, input_shape=at,
                          scaling=scaling)[1]  # fmt: skip
    after = analyze_spec(new, max_layers=bound, settings=settings, input_shape=at,
                         scaling=scaling)[1]  # fmt: skip
    return DiffReport(old, new, run_diff(before, after))


# --- helpers ----------------------------------------------------------------------------------


def _input_shape(value: str | Sequence[int] | None) -> Shape | None:
    from convcost.core.shapes import shape_from_value

    if value is None:
        return None
    if not isinstance(value, str | Sequence):
        raise ConvcostError(f"input_shape takes 'HxWxC' or [h, w, c], not {value!r}")
    return shape_from_value(value if isinstance(value, str) else list(value))


def _scaling(
    width: object, divisor: object, resolution: object, input_shape: Shape | None
) -> Scaling:
    """The multipliers' ``Scaling``; a bad one raises, naming its argument."""
    from convcost.core.multipliers import Scaling, Width, parse_multiplier

    if resolution is not None and input_shape is not None:
        raise ConvcostError(
            "resolution and input_shape both give the input's size; give one of them"
        )
    chosen = None
    if width is not None or divisor is not None:
        alpha = _checked("width_multiplier", parse_multiplier, 1 if width is None else width)
        chosen = Width(alpha, 1 if divisor is None else _at_least_1("divisor", divisor))
    side = None if resolution is None else _at_least_1("resolution", resolution)
    return Scaling(chosen, side)


class _JsonOutput:
    """The dicts the commands' ``--format json`` prints: the CLI's own JSON renderers, their
    text decoded. The one place that knows the renderers' names, so the API's ``to_dict()``
    follows them as they move and can never drift from the command's output."""

    @staticmethod
    def analyze(analysis: Analysis, explain: bool) -> dict[str, Any]:
        return _json(analysis, Options(explain=explain))

    @staticmethod
    def compare(comparison: compare_analysis.Comparison, explain: bool) -> dict[str, Any]:
        return _json(comparison, Options(explain=explain))

    @staticmethod
    def check(checks: list[ConfigCheck]) -> dict[str, Any]:
        from convcost.analyses.budget import Checks

        return _json(Checks(tuple(checks)), Options())

    @staticmethod
    def diff(result: diff_analysis.Diff, old: str, new: str, show_all: bool) -> dict[str, Any]:
        return _json(result, Options(show_all=show_all, names=(old, new)))


def _json(result: object, options: Options) -> dict[str, Any]:
    """What the command prints for ``result`` with ``-f json``, decoded."""
    from convcost.render.registry import Format, render

    text = render(result, Format.json, options)
    assert text is not None  # JSON writers return their text
    return _decoded(text)


def _shown(result: object, output_format: str, options: Options) -> str:
    """What the command prints for ``result`` in ``output_format`` (a table as written to a
    pipe: captured, not printed)."""
    import contextlib
    import io

    from convcost.render.registry import Format, render

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        text = render(result, Format(output_format), options)
    return captured.getvalue().rstrip("\n") if text is None else text


def _framed(page: str) -> str:
    """A page inside an ``iframe``: its script and style apply to it alone, however many
    reports a notebook shows."""
    from convcost.render.escape import html_markup

    return (f'<iframe srcdoc="{html_markup(page)}" style="width:100%;height:720px;border:0" '
            'title="convcost report"></iframe>')  # fmt: skip


def _decoded(text: str) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(text)
    return data


def _bias_defaults(no_bias: bool) -> dict[str, object]:
    return {"bias": False} if no_bias else {}


def _plain(value: object) -> object:
    """An argument as a config value: a tuple as a list, text as on the command line."""
    from convcost.core.fields import scalar

    if isinstance(value, tuple):
        return list(value)
    return scalar(value) if isinstance(value, str) else value


def _checked(name: str, parse: Callable[[object], T], value: object) -> T:
    try:
        return parse(value)
    except ConvcostError as error:
        raise ConvcostError(f"{name}: {error.message}") from None


def _settings(value: object) -> Settings | None:
    """``settings=`` as given: None or what ``convcost.settings(...)`` made."""
    from convcost.core.costs import Settings

    if value is not None and not isinstance(value, Settings):
        raise ConvcostError(f"settings: expected convcost.settings(...), got {value!r}")
    return value


def _at_least_1(name: str, value: object) -> int:
    from convcost.core.fields import positive_int

    return _checked(name, positive_int, value)


def _stdin_once(specs: Sequence[str]) -> None:
    times = list(specs).count("-")
    if times > 1:
        raise ConvcostError(
            f"standard input can be read only once, but '-' is given {times} times; give '-' "
            "for one config and the others as files"
        )
