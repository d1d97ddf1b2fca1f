"""The command line: parse options, call the core, hand the result to a renderer.

Rich, PyYAML and the renderers are imported only by the commands that use them, so that
``--version`` and ``--format json`` start fast in shell loops.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer import exceptions as typer_exceptions
from typer._click import exceptions as click_exceptions
from typer._click.parser import _OptionParser
from typer._types import TyperChoice
from typer.core import TyperCommand, TyperGroup

from convcost import __version__
from convcost.analyses.ranking import MIN_GROUPS, By
from convcost.core.errors import ConvcostError
from convcost.core.limits import MAX_LAYERS, MAX_SIZE
from convcost.exits import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_CODES, EXIT_INTERRUPTED, EXIT_OK
from convcost.render.registry import Document, Format, Options, Unit, emit

if TYPE_CHECKING:
    from convcost.analyses.compare import Comparison
    from convcost.analyses.shape import LayerShape
    from convcost.core.multipliers import Scaling
    from convcost.core.report import Report
    from convcost.core.shapes import Shape
    from convcost.frontends.loaded import Loaded

T = TypeVar("T")


class _Group(TyperGroup):
    """Usage errors as one line on stderr (exit 2), like every other input error."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.pop("standalone_mode", True)
        kwargs["standalone_mode"] = False
        if not standalone:
            return super().main(*args, **kwargs)
        try:
            code = super().main(*args, **kwargs)
        except click_exceptions.NoArgsIsHelpError as error:
            _fail(error.ctx.get_help() if error.ctx else "convcost --help")
        except click_exceptions.ClickException as error:
            ctx = getattr(error, "ctx", None)
            command = ctx.command_path if ctx is not None else "convcost"
            _fail(f"{command}: {error.format_message()} (see {command} --help)")
        except typer_exceptions.Abort:
            _fail("convcost: aborted", EXIT_INTERRUPTED)
        # typer.Exit comes back as its exit code when not standalone.
        raise SystemExit(code if isinstance(code, int) else EXIT_OK)


# An argument in an option's place that starts with '-' and a digit, or holds a '|', is a
# value: no option is named so. It is a shape or spec with a sign ('-8x8x3|relu'), which
# convcost then refuses in its own words rather than Click's "No such option: -8".
_VALUE_NOT_OPTION = re.compile(r"-[0-9]|[^|]*\|")


class _Parser(_OptionParser):
    def _process_opts(self, arg: str, state: Any) -> None:
        name = arg.split("=", 1)[0]
        known = name in self._long_opt or name in self._short_opt
        if not known and _VALUE_NOT_OPTION.match(arg):
            state.largs.append(arg)
            return
        super()._process_opts(arg, state)


class _Command(TyperCommand):
    """A command whose arguments may start with '-' where they cannot be an option."""

    def make_parser(self, ctx: Any) -> _OptionParser:
        parser = _Parser(ctx)
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser


# Shell completion (--install-completion): what a SPEC or --device may be. At most this
# many paths are offered, so that a large folder costs no time at a <Tab>.
_COMPLETED_PATHS = 200


def _complete_spec(incomplete: str) -> list[str]:
    """Built-in models and the files and folders that start with what was typed."""
    from convcost.frontends.zoo import model_names

    return [name for name in model_names() if name.startswith(incomplete)] + _paths(incomplete)


def _complete_device(incomplete: str) -> list[str]:
    """Device presets and the files that start with what was typed (a device file)."""
    from convcost.core.devices import PRESETS

    return [name for name in PRESETS if name.startswith(incomplete.lower())] + _paths(incomplete)


def _paths(incomplete: str) -> list[str]:
    import glob
    import itertools
    import os

    found = itertools.islice(glob.iglob(glob.escape(incomplete) + "*"), _COMPLETED_PATHS)
    return sorted(path + os.sep if os.path.isdir(path) else path for path in found)


def _typer() -> typer.Typer:
    return typer.Typer(
        cls=_Group,
        name="convcost",
        help="What a convolutional layer stack costs: output shapes, MACs, parameters, memory, "
        "and how much a 1×1 bottleneck saves. Exit codes: "
        + ", ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES)
        + ".",
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=True,
        no_args_is_help=True,
    )


app = _typer()


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    from convcost.render.escape import visible_lines  # usage errors echo what was typed

    sys.stderr.write(visible_lines(message) + "\n")
    raise SystemExit(code)


def _say(line: str) -> None:
    """A diagnostic line on stderr, the run going on."""
    sys.stderr.write(line + "\n")


def _warn_uncounted(spec: str, report: Report) -> None:
    """Operators a model file holds that convcost cannot count, said on stderr."""
    if report.uncounted:
        from convcost.render.escape import visible
        from convcost.render.words import uncounted_line

        for line in uncounted_line(report, table=False):
            _say(visible(f"{spec}: {line}"))


def _warn_loaded(loaded: Loaded) -> None:
    """What the reader of a spec noticed (an input that looks channels-first), on stderr."""
    if loaded.warnings:
        from convcost.render.escape import visible

        for line in loaded.warnings:
            _say(visible(line))


def _guard(action: Callable[[], T]) -> T:
    try:
        return action()
    except ConvcostError as error:
        _fail(error.render())


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"convcost {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """convcost: what a convolutional layer stack costs."""


def _format_option(help_text: str, *accepted: Format) -> Any:
    """``--format``/``-f`` taking the formats a command has writers for; any other is refused
    as Click refuses an invalid choice."""
    choice = TyperChoice([f.value for f in accepted])
    return typer.Option("--format", "-f", click_type=choice, help=help_text)


FormatOption = Annotated[
    Format,
    _format_option("table (for people), json, csv or markdown.", Format.table, Format.json,
                   Format.csv, Format.markdown),
]  # fmt: skip
PageFormatOption = Annotated[
    Format,
    _format_option("table (for people), json, csv, markdown or html (a self-contained page; "
                   "see convcost report).", Format.table, Format.json, Format.csv,
                   Format.markdown, Format.html),
]  # fmt: skip
UnitOption = Annotated[
    Unit,
    typer.Option(help="macs (multiply-accumulates) or flops (2 × MACs + bias additions)."),
]
ExplainOption = Annotated[
    bool, typer.Option("--explain", help="Write out each layer's arithmetic.")
]
BatchOption = Annotated[
    int,
    typer.Option(
        min=1, max=MAX_SIZE, help="Batch size: multiplies MACs and activations, not params."
    ),
]
MaxLayersOption = Annotated[
    int,
    typer.Option(
        "--max-layers",
        min=1,
        max=MAX_SIZE,
        metavar="N",
        help="Refuse networks that expand to more than N layers and groups (rows; default "
        f"{MAX_LAYERS:,}).",
    ),
]
SpecArgument = Annotated[
    str,
    typer.Argument(
        metavar="SPEC",
        autocompletion=_complete_spec,
        help="A YAML config file, - for standard input, a built-in model (see convcost models) "
        "or an inline spec.",
    ),
]
OutputOption = Annotated[
    str, typer.Option("--output", "-o", metavar="FILE", help="Where to write (- : stdout).")
]
InputShapeOption = Annotated[
    str | None,
    typer.Option(
        "--input-shape",
        metavar="HxWxC",
        help="Analyse at this input instead of the spec's (height x width x channels): an ONNX "
        "model's symbolic sizes, or another resolution.",
    ),
]
NoBiasOption = Annotated[
    bool, typer.Option("--no-bias", help="Convolutions and dense layers without bias.")
]


_COST_OPTIONS: tuple[tuple[str, Any, Any, bool], ...] = (
    ("dtype", str | None, typer.Option(
        metavar="FORMAT", help="Number format of weights and activations: fp32 (default), "
        "fp16, bf16 or int8."), False),
    ("weight_dtype", str | None, typer.Option(
        metavar="FORMAT", help="Weights' format when it differs (e.g. int8)."), False),
    ("activation_dtype", str | None, typer.Option(
        metavar="FORMAT", help="Activations' format when it differs (e.g. fp16)."), False),
    ("optimizer", str, typer.Option(
        metavar="NAME", help="Training memory's optimizer: sgd, momentum, adam (default) or "
        "adamw."), False),
    ("device", str | None, typer.Option(
        metavar="NAME", help="Roofline time on a device: a preset (convcost devices) or a "
        "device file (YAML).", autocompletion=_complete_device), True),
    ("peak", str | None, typer.Option(
        metavar="RATE", help="The device's peak operations/s, e.g. 19.5T (all formats)."),
     True),
    ("bandwidth", str | None, typer.Option(
        metavar="RATE", help="The device's memory bandwidth, e.g. 1.5TB/s."), True),
    ("fuse", bool, typer.Option(
        "--fuse", help="Fold BatchNorm and activations into the conv before them (time)."),
     True),
)  # fmt: skip
_COST_DEFAULTS: dict[str, Any] = {"optimizer": "adam", "fuse": False}


def _with_cost_options(device: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the costing options (number formats, optimizer, and with ``device``
    the roofline's), placed before its ``--format``; the command gets them as ``costing``,
    the ``Settings`` they make (a bad name exits 2 with the valid ones)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        chosen = [option for option in _COST_OPTIONS if device or not option[3]]
        generated = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                              default=_COST_DEFAULTS.get(name), annotation=Annotated[kind, option])
            for name, kind, option, _ in chosen
        ]  # fmt: skip

        def with_costing(**options: Any) -> None:
            from convcost.frontends.hardware import settings_of

            texts = {name: options.pop(name) for name, _, _, _ in chosen}
            command(**options, costing=_guard(lambda: settings_of(**texts)))

        return _with_generated(command, with_costing, "costing", generated)

    return decorate


_SCALING_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("width_multiplier", typer.Option(
        "--width-multiplier", metavar="ALPHA", help="Scale every layer's channels by ALPHA "
        "(MobileNet's width multiplier, e.g. 0.5), rounded to a multiple of --divisor; the "
        "input's channels and the layers giving the outputs (the classes) keep theirs.")),
    ("divisor", typer.Option(
        metavar="N", help="Round scaled channel counts to a multiple of N, at least N and "
        "never 10 % below (MobileNet v2 uses 8; default 1: the nearest integer).")),
    ("resolution", typer.Option(
        metavar="R", help="Analyse at an R×R input, the spec's channels kept (MobileNet's "
        "resolution multiplier); --input-shape HxWxC says all three.")),
)  # fmt: skip


def _with_scaling_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command ``--width-multiplier``, ``--divisor`` and ``--resolution``, placed
    before its ``--format``; the command gets them as ``scaling``, the ``Scaling`` they make
    (a bad value, or ``--resolution`` beside ``--input-shape``, exits 2 with one line)."""
    generated = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[str | None, option])
        for name, option in _SCALING_OPTIONS
    ]  # fmt: skip

    def with_scaling(**options: Any) -> None:
        texts = [options.pop(name) for name, _ in _SCALING_OPTIONS]
        if texts[2] is not None and options.get("input_shape") is not None:
            _fail(f"convcost {command.__name__}: --resolution {texts[2]} and --input-shape "
                  f"{options['input_shape']} both give the input's size; give one")  # fmt: skip
        command(**options, scaling=_guard(lambda: _scaling(*texts)))

    return _with_generated(command, with_scaling, "scaling", generated)


def _scaling(width: str | None, divisor: str | None, resolution: str | None) -> Scaling:
    """The options' ``Scaling``; a bad value raises, naming its option."""
    from convcost.core.fields import positive_int
    from convcost.core.multipliers import Scaling, Width, parse_multiplier

    chosen = None
    if width is not None or divisor is not None:
        # As written, not as YAML would read it: a decimal's digits are kept exactly.
        alpha = _named("--width-multiplier", parse_multiplier, "1" if width is None else width)
        chosen = Width(alpha, 1 if divisor is None else _option_value("--divisor", positive_int,
                                                                      divisor))  # fmt: skip
    side = None if resolution is None else _option_value("--resolution", positive_int, resolution)
    return Scaling(chosen, side)


def _with_generated(
    command: Callable[..., None],
    wrapper: Callable[..., None],
    given: str,
    generated: list[inspect.Parameter],
) -> Callable[..., None]:
    """``wrapper`` made to look like ``command`` to Typer, which reads a command's options
    from its signature: ``command``'s parameters without ``given`` (what the wrapper passes
    it), ``generated`` placed before ``--format``."""
    signature = inspect.signature(command, eval_str=True)
    before: list[inspect.Parameter] = []
    after: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if param.name == given:
            continue
        (after if after or param.name == "output_format" else before).append(param)
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in after]
    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*before, *generated, *keyword]
    )
    return wrapper


def _bias_defaults(no_bias: bool) -> dict[str, object]:
    return {"bias": False} if no_bias else {}


class PoolKind(StrEnum):
    max = "max"
    avg = "avg"


_KXK_OPTION = re.compile(r"^--(\d+)x(\d+)(?:=(.*))?$")


def _kxk_options(extra: Sequence[str]) -> list[tuple[str, str]]:
    """``--5x5 32`` (or ``--5x5=32``) → [("5x5", "32")]; anything else is a usage error."""
    found, rest = [], list(extra)
    while rest:
        word = rest.pop(0)
        match = _KXK_OPTION.match(word)
        if not match:
            _fail(f"convcost compare: unexpected '{word}'; see convcost compare --help")
        value = match.group(3)
        if value is None:
            if not rest:
                _fail(f"convcost compare: {word} needs the number of filters, e.g. {word} 32")
            value = rest.pop(0)
        found.append((f"{match.group(1)}x{match.group(2)}", value))
    return found


@app.command(
    cls=_Command,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    epilog="Example: convcost compare 28x28x192 --5x5 32 --bottleneck 16",
)
@_with_cost_options()
def compare(
    ctx: typer.Context,
    input_shape: Annotated[str, typer.Argument(metavar="HxWxC", help="Input, e.g. 28x28x192.")],
    kernel: Annotated[
        str | None, typer.Option("--kernel", "-k", help="K×K kernel, e.g. 5x5 (or: --5x5 N).")
    ] = None,
    filters: Annotated[
        int | None, typer.Option("--filters", "-n", min=1, help="Filters of the K×K conv.")
    ] = None,
    bottleneck: Annotated[
        list[str] | None,
        typer.Option("--bottleneck", "-b", help="1×1 reduction width; repeat or list: 8,16,32."),
    ] = None,
    stride: Annotated[str, typer.Option(help="Stride of the K×K conv.")] = "1",
    padding: Annotated[
        str, typer.Option(help="Padding of the K×K conv: same, valid or N.")
    ] = "same",
    no_bias: NoBiasOption = False,
    batch: BatchOption = 1,
    unit: UnitOption = Unit.macs,
    output_format: PageFormatOption = Format.table,
    explain: ExplainOption = False,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
) -> None:
    """A direct K×K conv versus the same conv behind a 1×1 bottleneck (one path per width).

    Give the conv as --KxK FILTERS (--3x3 128, --5x5 32, --7x7 64) or as
    --kernel KxK --filters N. Prints per-layer MACs and params, path totals, how many times
    fewer MACs each bottleneck needs, and the break-even width b* above which it stops paying.
    In the table, ≈ is the MACs (or FLOPs) rounded: k, M, G for thousands, millions, billions.
    """
    from convcost.analyses.compare import compare as run_compare
    from convcost.core.fields import scalar
    from convcost.core.shapes import parse_shape

    shortcuts = _kxk_options(ctx.args)
    if len(shortcuts) + (kernel is not None) > 1:
        _fail("convcost compare: give one conv: --KxK N or --kernel KxK --filters N, not both")
    if shortcuts:
        if filters is not None:
            _fail("convcost compare: --filters goes with --kernel, not with --KxK N")
        kernel, filters_text = shortcuts[0]
        filters_value: object = scalar(filters_text)
    elif kernel is None or filters is None:
        _fail("convcost compare: say which conv to compare: --5x5 32, or --kernel 5x5 --filters 32")
    else:
        filters_value = filters
    widths_text = [part for item in bottleneck or [] for part in item.split(",") if part]

    def run() -> Comparison:
        from convcost.core.fields import positive_int
        from convcost.core.kinds import build_layer
        from convcost.core.kinds.conv import Conv

        conv = build_layer(
            "conv",
            {"kernel": kernel, "filters": filters_value, "stride": scalar(stride),
             "padding": scalar(padding)},
            _bias_defaults(no_bias),
        )  # fmt: skip
        assert isinstance(conv, Conv)
        widths = tuple(_option_value("--bottleneck", positive_int, w) for w in widths_text)
        return run_compare(parse_shape(input_shape), conv, widths, batch, costing)

    emit(_guard(run), output_format, Options(unit=unit.value, explain=explain))


def _stdin_once(command: str, specs: Sequence[str]) -> None:
    """'-' at most once: a second read of standard input would find it empty."""
    times = list(specs).count("-")
    if times > 1:
        _fail(
            f"convcost {command}: standard input can be read only once, but '-' is given "
            f"{times} times; give '-' for one config and the others as files"
        )


def _input_shape(text: str | None) -> Shape | None:
    """``--input-shape``'s value; a bad one ends the command (exit 2)."""
    if text is None:
        return None
    from convcost.core.shapes import parse_shape

    try:
        shape = parse_shape(text)
    except ConvcostError as error:
        _fail(f"convcost: --input-shape: {error.message}")
    from convcost.frontends.common import channels_first_warning

    warning = channels_first_warning(shape, text.strip(), "")
    if warning:
        _say(f"convcost: --input-shape: {warning}")
    return shape


def _option_value(option: str, parse: Callable[[object], T], text: str) -> T:
    from convcost.core.fields import scalar

    return _named(option, lambda text: parse(scalar(str(text))), text)


def _named(option: str, parse: Callable[[object], T], text: str) -> T:
    """``parse(text)``; its error names the option and the value given."""
    try:
        return parse(text)
    except ConvcostError as error:
        raise ConvcostError(f"{option} {text}: {error.message}") from None


@app.command(
    cls=_Command, epilog="Example: convcost shape 28x28x8 --kernel 3 --stride 2 --padding valid"
)
def shape(
    input_shape: Annotated[str, typer.Argument(metavar="HxWxC", help="Input, e.g. 28x28x8.")],
    kernel: Annotated[str, typer.Option("--kernel", "-k", help="Kernel: K or KhxKw.")],
    stride: Annotated[str, typer.Option(help="Stride: S or SHxSW.")] = "1",
    padding: Annotated[
        str | None,
        typer.Option(
            help="same, valid, N, H,W or T,B,L,R (default: same for conv, valid for pools)."
        ),
    ] = None,
    dilation: Annotated[str, typer.Option(help="Dilation: D or DHxDW.")] = "1",
    filters: Annotated[
        int | None, typer.Option("--filters", "-n", min=1, help="Output depth (conv).")
    ] = None,
    pool: Annotated[
        PoolKind | None, typer.Option(help="A max or avg pool instead of a conv.")
    ] = None,
    ceil_mode: Annotated[
        bool, typer.Option("--ceil-mode", help="Pools: round up, as PyTorch's ceil_mode.")
    ] = False,
    output_format: FormatOption = Format.table,
    explain: ExplainOption = False,
) -> None:
    """The output shape of one conv (or pool) layer, with the formula's numbers filled in.

    The depth stays as it is unless --filters sets it (a conv has as many output channels
    as filters).
    """
    from convcost.analyses.shape import layer_shape

    def run() -> LayerShape:
        return layer_shape(input_shape, kernel, stride, padding, dilation, filters, pool,
                           ceil_mode)  # fmt: skip

    emit(_guard(run), output_format, Options(explain=explain))


@app.command(
    cls=_Command,
    epilog="Examples: convcost analyze net.yaml; "
    "convcost analyze '28x28x192 | conv 1x1 16 relu | conv 5x5 32'; "
    "cat net.yaml | convcost analyze -",
)
@_with_cost_options()
@_with_scaling_options
def analyze(
    spec: SpecArgument,
    batch: BatchOption = 1,
    no_bias: NoBiasOption = False,
    unit: UnitOption = Unit.macs,
    output_format: PageFormatOption = Format.table,
    explain: ExplainOption = False,
    depth: Annotated[
        int | None,
        typer.Option(min=1, help="Show N levels of nesting; deeper ones fold into their group."),
    ] = None,
    count_buffers: Annotated[
        bool,
        typer.Option(
            "--count-buffers",
            help="Also show BatchNorm running statistics (Keras counts them as non-trainable "
            "params).",
        ),
    ] = False,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """Per-layer shapes, MACs, params and activations of a layer stack, and totals.

    \b
    Table columns: MACs (or FLOPs) exact; ≈ the same rounded (k, M, G: thousands,
    millions, billions); % MACs its share of the total, with a bar; outputs the values a
    layer writes; with --device, time, % time and what bounds it (compute or memory).
    Off a terminal the table is printed whole, at its own width (COLUMNS sets one).

    \b
    Inline spec: INPUT | LAYER | LAYER ...
      28x28x192 | conv 1x1 16 relu | conv 5x5 32
      224x224x3 | conv 7x7 64 s2 bn relu | maxpool 3 2 p1 | gap | fc 1000
    A layer is a kind, then positional values, words and key=value settings:
      conv KERNEL FILTERS [s2] [d2] [g4|dw] [p1|same|valid] [nobias]  (padding: same)
      maxpool|avgpool [KERNEL [STRIDE]] [p1|same] [ceil]               (2, stride = kernel)
      dense|fc UNITS   flatten   gap   bn   dropout [RATE]   lrn [SIZE]   pad N
      upsample SCALE [bilinear]   (merges and from: links: in YAML configs)
      relu relu6 sigmoid tanh gelu silu softmax ...   name=NAME on any layer
    A kind name inside a segment starts another layer: 'conv 3x3 64 bn relu'.
    A value may read the layer's input: conv 1x1 ${in.c // 2}.
    """
    loaded, report = _analyzed(spec, no_bias, batch, max_layers, costing, input_shape, scaling)
    title = _title(spec, report, scaling, loaded)
    options = Options(unit.value, explain, depth, count_buffers, title, scaling=scaling)
    emit(report, output_format, options)


def _analyzed(spec: str, no_bias: bool, batch: int, max_layers: int, costing: Any,
              input_shape: str | None, scaling: Scaling) -> tuple[Loaded, Report]:  # fmt: skip
    """What analyze and report analyse: the spec read and costed, warnings on stderr."""
    defaults = _bias_defaults(no_bias)
    at = _input_shape(input_shape)

    def run() -> tuple[Loaded, Report]:
        from convcost.frontends import analyze_spec

        return analyze_spec(spec, defaults, batch, max_layers, costing, at, _warn_loaded,
                            scaling)  # fmt: skip

    loaded, report = _guard(run)
    _warn_uncounted(spec, report)
    return loaded, report


@app.command(
    cls=_Command,
    epilog="Examples: convcost report resnet50 -o resnet50.html; "
    "convcost report googlenet --device a100 -o googlenet.html",
)
@_with_cost_options()
@_with_scaling_options
def report(
    spec: SpecArgument,
    output: OutputOption,
    batch: BatchOption = 1,
    no_bias: NoBiasOption = False,
    depth: Annotated[
        int | None,
        typer.Option(min=1, help="Open with groups folded below N levels; bars per row there."),
    ] = None,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """One self-contained HTML page (no network, nothing fetched): the network drawn as a
    graph, its boxes coloured by share of MACs (with --device, of time), groups foldable;
    the per-layer table, sortable; bar charts of MACs, params and activation bytes; with
    --device the roofline. The same as analyze SPEC --format html, written to FILE.
    For compare's paths and break-even: convcost compare ... --format html."""
    from convcost.render.registry import render

    loaded, result = _analyzed(spec, no_bias, batch, max_layers, costing, input_shape, scaling)
    title = _title(spec, result, scaling, loaded)
    text = render(result, Format.html, Options(depth=depth, title=title))
    assert text is not None  # the HTML writer returns its page
    _write(output, (text + "\n").encode(), "report")


@app.command()
def devices(output_format: FormatOption = Format.table) -> None:
    """The device presets --device takes, with their dense peaks per number format, memory
    bandwidth and sources (the vendors' datasheets)."""
    from convcost.core.devices import presets

    emit(presets(), output_format)


@app.command(
    epilog="Examples: convcost models -f markdown; convcost models show resnet50 > net.yaml"
)
def models(
    show: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[show NAME]",
            help="Print the built-in model NAME's YAML config, to start your own from it.",
        ),
    ] = None,
    output_format: Annotated[
        Format | None,
        _format_option(
            "table (for people), json, csv or markdown.",
            Format.table,
            Format.json,
            Format.csv,
            Format.markdown,
        ),
    ] = None,
) -> None:
    """The built-in models (analyze them by name: convcost analyze googlenet), with totals;
    'convcost models show NAME' prints one's YAML config."""
    if show:
        _show_model(show, output_format)
        return
    from convcost.analyses.models import catalogue

    emit(_guard(catalogue), output_format or Format.table)


def _show_model(words: list[str], output_format: Format | None) -> None:
    """``convcost models show NAME``: the zoo's file, as it is."""
    from convcost.core.errors import did_you_mean
    from convcost.frontends import zoo

    names = zoo.model_names()
    listed = f"built-in models: {', '.join(names)}"
    if words[0] != "show":
        _fail(f"convcost models: unexpected '{words[0]}'; convcost models lists the built-in "
              "models, convcost models show NAME prints one's YAML config")  # fmt: skip
    if len(words) != 2:
        what = "a model's name" if len(words) == 1 else "one model's name"
        _fail(f"convcost models show: give {what}, e.g. convcost models show resnet50 ({listed})")
    if output_format is not None:
        _fail("convcost models show: prints the model's YAML config as it is; --format is for "
              "the list of models")  # fmt: skip
    name = words[1]
    if name not in names:
        _fail(f"convcost models show: no built-in model '{name}'; "
              f"{did_you_mean(name, names)}{listed}")  # fmt: skip
    sys.stdout.write(zoo.model_text(name))


def _with_budget_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` a ``--max-KEY QUANTITY`` option for each budgetable metric
    (core.metrics), placed before its ``--format``; the command gets them as ``limits``, a
    dict by metric key. Typer reads a command's options from its signature, so the
    signature is built here from the metrics table."""
    from convcost.core.metrics import budgetable

    metrics = budgetable()
    generated = [
        inspect.Parameter(
            f"max_{metric.budget_name}",
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    f"--max-{metric.budget_name.replace('_', '-')}",
                    metavar="QUANTITY",
                    help=f"Budget for {metric.label}, e.g. {metric.budget_example}.",
                ),
            ],
        )
        for metric in metrics
    ]

    def with_limits(**options: Any) -> None:
        limits = {m.key: options.pop(f"max_{m.budget_name}") for m in metrics}
        command(**options, limits=limits)

    return _with_generated(command, with_limits, "limits", generated)


@app.command(
    cls=_Command,
    epilog="Example: convcost check configs/*.yaml --max-macs 1.6G --format github",
)
@_with_budget_options
@_with_cost_options()
@_with_scaling_options
def check(
    configs: Annotated[
        list[str],
        typer.Argument(
            metavar="CONFIG...",
            help="Configs (files, built-in models or inline specs).",
            autocompletion=_complete_spec,
        ),
    ],
    output_format: Annotated[
        Format,
        _format_option(
            "table, json, github (workflow commands) or junit.",
            Format.table,
            Format.json,
            Format.github,
            Format.junit,
        ),
    ] = Format.table,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    allow_uncounted: Annotated[
        bool,
        typer.Option(
            "--allow-uncounted",
            help="Check a model holding operators convcost cannot count (its totals leave "
            "them out) instead of refusing it (exit 2).",
        ),
    ] = False,
    limits: dict[str, str | None] | None = None,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """Check configs against compute budgets: exit 0 when all are within them, 1 when any
    budget is exceeded (or a config has none), 2 on bad input.

    Budgets come from each config's budget: section (macs, params, activations, memory);
    flags override them. Quantities are integers or take k, M, G, T (bytes: kB, MB, GB or
    KiB, MiB, GiB). A value exactly at its limit passes.
    """
    from convcost.analyses.budget import check_configs, flag_limits
    from convcost.core.metrics import METRICS
    from convcost.frontends import analyze_spec

    _stdin_once("check", configs)
    at = _input_shape(input_shape)
    try:
        flags = flag_limits(limits or {})
    except ConvcostError as error:
        _fail(f"convcost check: {error.message}")
    timed = [m for m in flags if METRICS[m].source == "device"]
    if timed and costing.device is None:
        option = METRICS[timed[0]].budget_name
        _fail(f"convcost check: --max-{option} is a roofline time: give --device NAME (convcost "
              "devices lists them) or --peak and --bandwidth")  # fmt: skip

    def analyzed(config: str) -> tuple[Loaded, Report]:
        loaded, report = analyze_spec(
            config, max_layers=max_layers, settings=costing, input_shape=at,
            on_loaded=_warn_loaded, scaling=scaling,
        )  # fmt: skip
        if allow_uncounted:
            _warn_uncounted(config, report)
        return loaded, report

    checks = check_configs(configs, flags, analyzed, _say, allow_uncounted)
    emit(checks, output_format, Options(scaling=scaling))
    raise SystemExit(checks.exit_code)


@app.command(cls=_Command, epilog="Example: convcost diff old/net.yaml net.yaml --format markdown")
@_with_cost_options(device=False)
@_with_scaling_options
def diff(
    old: Annotated[
        str,
        typer.Argument(
            metavar="OLD", help="The network before the change.", autocompletion=_complete_spec
        ),
    ],
    new: Annotated[
        str,
        typer.Argument(metavar="NEW", help="The network after it.", autocompletion=_complete_spec),
    ],
    fail_above: Annotated[
        float | None,
        typer.Option(
            metavar="PCT",
            help="Exit 1 when total MACs or params grow by more than PCT percent.",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List unchanged layers and every rename too.")
    ] = False,
    output_format: Annotated[
        Format,
        _format_option("table, json or markdown.", Format.table, Format.json, Format.markdown),
    ] = Format.table,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    allow_uncounted: Annotated[
        bool,
        typer.Option(
            "--allow-uncounted",
            help="Hold --fail-above to totals that leave out operators convcost cannot count "
            "instead of refusing (exit 2).",
        ),
    ] = False,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """What a change costs: each group's layers aligned by kind and settings, names as
    hints (changed, added, removed, renamed), with the MACs and params delta per layer and
    in total."""
    import math
    from fractions import Fraction

    from convcost.analyses.diff import diff as run_diff
    from convcost.frontends import analyze_spec

    # Before any output: nan and inf (1e400 is inf) compare false with every number.
    if fail_above is not None and not (math.isfinite(fail_above) and fail_above >= 0):
        _fail(f"convcost diff: --fail-above takes a percentage of at least 0, such as 5 or "
              f"2.5; got {fail_above:g}")  # fmt: skip
    _stdin_once("diff", (old, new))
    at = _input_shape(input_shape)

    def analyzed(spec: str) -> Report:
        report = analyze_spec(spec, max_layers=max_layers, settings=costing, input_shape=at,
                              on_loaded=_warn_loaded, scaling=scaling)[1]  # fmt: skip
        _warn_uncounted(spec, report)
        return report

    result = _guard(lambda: run_diff(analyzed(old), analyzed(new)))
    unknown = [*result.old.uncounted, *result.new.uncounted]
    if fail_above is not None and unknown and not allow_uncounted:
        from convcost.core.kinds.uncounted import described

        _fail(f"convcost diff: --fail-above would compare totals that leave out operators "
              f"convcost cannot count ({described(unknown)}): pass --allow-uncounted to compare "
              "them anyway")  # fmt: skip
    emit(result, output_format, Options(show_all=show_all, names=(old, new), scaling=scaling))
    if fail_above is not None:
        grown = result.grows_more_than(Fraction(str(fail_above)))
        if grown:
            sys.stderr.write(
                f"convcost diff: {' and '.join(grown)} grow by more than {fail_above:g} %\n"
            )
            raise SystemExit(EXIT_CHECK_FAILED)


@app.command(
    cls=_Command,
    epilog="Examples: convcost advise googlenet --width 16; "
    "convcost advise vgg16 --apply bottleneck=CIN/4 --top 5 -o new.yaml",
)
@_with_cost_options()
@_with_scaling_options
def advise(
    spec: SpecArgument,
    by: Annotated[
        By, typer.Option(help="Rank by macs, params, memory (peak) or time (needs --device).")
    ] = By.macs,
    width: Annotated[
        list[int] | None,
        typer.Option(
            "--width",
            min=1,
            max=MAX_SIZE,
            metavar="B",
            help="Also a 1×1 bottleneck of B channels (repeat for several).",
        ),
    ] = None,
    groups: Annotated[
        int | None,
        typer.Option(
            "--groups",
            min=MIN_GROUPS,
            max=MAX_SIZE,
            metavar="G",
            help="Also a grouped conv of G groups in each conv's place.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            "--top",
            min=1,
            max=MAX_SIZE,
            metavar="N",
            help="List (and --apply to) the N layers whose substitutes save most.",
        ),
    ] = None,
    layers: Annotated[
        str | None,
        typer.Option(
            "--layers", metavar="NAME,...", help="List (and --apply to) these layers, by full name."
        ),
    ] = None,
    apply: Annotated[
        str | None,
        typer.Option(
            "--apply",
            metavar="SUBSTITUTE",
            help="Write the network with this substitute applied to the layers "
            "listed: bottleneck=CIN/2, bottleneck=CIN/4, bottleneck=WIDTH, separable "
            "or grouped=G (needs -o).",
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Where --apply writes the config (- : stdout, the advice then not).",
        ),
    ] = None,
    batch: BatchOption = 1,
    no_bias: NoBiasOption = False,
    output_format: FormatOption = Format.table,
    explain: ExplainOption = False,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    costing: Any = None,  # the Settings the costing options make (see _with_cost_options)
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """Where substitutes pay: for every spatial conv (larger than 1×1, not depthwise), what a
    1×1 bottleneck in front of it (Cin/2, Cin/4, --width; suggested below the break-even
    width b*), a depthwise-separable pair or a grouped conv (--groups) would save, ranked by
    what the best one saves, with its share of the network's total."""
    from convcost.analyses.advise import Source, UnknownLayer, baked, check_by, parse_choice
    from convcost.analyses.advise import advise as run_advise
    from convcost.render.escape import visible

    if layers is not None and top is not None:
        _fail("convcost advise: give --top N or --layers NAME,..., not both")
    names = [name.strip() for name in (layers or "").split(",") if name.strip()]
    if layers is not None and not names:
        _fail("convcost advise: --layers names no layer; give full names: --layers a/conv,b/conv")
    if (apply is None) != (output is None):
        _fail("convcost advise: --apply and -o go together: --apply SUBSTITUTE -o FILE")
    try:
        choice = None if apply is None else parse_choice(apply)
        check_by(by.value, costing)
    except ConvcostError as error:
        _fail(f"convcost advise: {error.message}")
    loaded, report = _analyzed(spec, no_bias, batch, max_layers, costing, input_shape, scaling)
    held = baked(str(scaling), _input_shape(input_shape), no_bias)
    source = Source(getattr(loaded.network, "name", ""), loaded.budget, held)
    try:
        result = run_advise(report, spec, by.value, tuple(width or ()), groups, top, names,
                            costing, choice, source)  # fmt: skip
    except UnknownLayer as error:
        _fail(f"convcost advise: --layers: {error.message}")
    except ConvcostError as error:
        _fail(f"convcost advise: {error.message}")
    if result.applied is not None and output is not None:
        for name, why in result.applied.skipped:
            sys.stderr.write(f"convcost advise: not applied to {visible(name)}: {why}\n")
        _write_config(result, output)
        if output == "-":
            return
    title = _title(spec, report, scaling, loaded)
    emit(result, output_format, Options(explain=explain, title=title, scaling=scaling))


def _write_config(result: Any, output: str) -> None:
    """``advise --apply``'s network as a YAML config, to ``output`` (- : stdout)."""
    from convcost.frontends.configwrite import config_text

    applied, description = result.applied, result.applied_description
    source = result.source
    text = _guard(lambda: config_text(applied.graph, source.name, description, source.budget))
    _write(output, text.encode(), "advise")


@app.command(
    cls=_Command,
    epilog="Example: convcost export resnet50 -o resnet50.onnx (then open it in Netron)",
)
@_with_scaling_options
def export(
    spec: SpecArgument,
    output: OutputOption,
    batch: BatchOption = 1,
    no_bias: NoBiasOption = False,
    opset: Annotated[
        int, typer.Option(min=13, max=19, help="The ONNX opset written (13 to 19).")
    ] = 17,
    max_layers: MaxLayersOption = MAX_LAYERS,
    input_shape: InputShapeOption = None,
    scaling: Any = None,  # the Scaling the scaling options make (see _with_scaling_options)
) -> None:
    """The network as an ONNX model, to draw in Netron or read with ONNX tools: every layer
    as its ONNX operator, names kept, weights as inputs of their shapes without data (a
    ResNet-50 is about 33 kB). Needs the onnx package: pip install 'convcost[onnx]'."""
    at = _input_shape(input_shape)

    def run() -> bytes:
        from convcost.frontends import analyze_spec
        from convcost.render.onnxwrite import onnx_bytes

        report = analyze_spec(spec, _bias_defaults(no_bias), batch, max_layers, input_shape=at,
                              on_loaded=_warn_loaded, scaling=scaling)[1]  # fmt: skip
        return onnx_bytes(report, opset)

    _write(output, _guard(run), "export")


def _write(output: str, data: bytes, command: str) -> None:
    """``data`` to the file ``-o`` names, or to stdout for ``-``; a file that cannot be
    written ends the command (EXIT_OUTPUT_FAILED)."""
    from convcost.exits import EXIT_OUTPUT_FAILED

    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        with open(output, "wb") as file:
            file.write(data)
    except OSError as error:
        _fail(f"convcost {command}: cannot write {output}: {error.strerror}", EXIT_OUTPUT_FAILED)


@app.command()
def schema() -> None:
    """The JSON Schema of the config format (for editors and validators), generated from the
    parser's own definitions. Save it beside your configs and start each with
    '# yaml-language-server: $schema=./convcost.schema.json'."""
    from convcost.frontends.schema import config_schema

    emit(Document(config_schema()), Format.json)


def _title(spec: str, report: Report, scaling: Scaling, loaded: Loaded | None = None) -> str:
    """The title of ``report``: the config's ``name:`` (``loaded``'s) or the spec, how it
    was scaled and the batch."""
    from convcost.render.words import report_title

    notes = (str(scaling),) if str(scaling) else ()
    name = "" if loaded is None else getattr(loaded.network, "name", "")
    return report_title(spec, report.batch, notes, name)


def main() -> None:
    """The console script. Typer turns every command's signature into options on each run;
    when the command is named, only that one is built (the rest cost start-up time)."""
    args = sys.argv[1:]
    names = {info.name or info.callback.__name__: info for info in app.registered_commands
             if info.callback is not None}  # fmt: skip
    if args and args[0] in names and "--help" not in args:
        single = _typer()
        single.registered_callback = app.registered_callback
        single.registered_commands = [names[args[0]]]
        single()
    else:
        app()
