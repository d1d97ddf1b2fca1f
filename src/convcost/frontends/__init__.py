"""Front ends: each turns what the user wrote into the same ``Network``.

``load_spec`` is the one place where a SPEC (the argument of ``analyze``, ``check``, ``diff``
and of the Python API's ``load``/``analyze``) is resolved; ``READERS`` maps file extensions to
the config readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.graph import Graph
from convcost.core.limits import MAX_LAYERS
from convcost.core.multipliers import AS_WRITTEN, Scaling
from convcost.core.report import Report
from convcost.frontends.loaded import Loaded
from convcost.frontends.tree import Network

if TYPE_CHECKING:
    from convcost.core.costs import Settings
    from convcost.core.multipliers import Width
    from convcost.core.shapes import Shape

__all__ = [
    "READERS", "Loaded", "Reader", "analyze_loaded", "analyze_spec", "load_builtin", "load_spec",
]  # fmt: skip

Reader = Callable[[str, Mapping[str, object] | None, int, "Shape | None"], Loaded]
"""Reads the config file at a path (``-``: standard input) with the given layer defaults,
bound on the network's size and input shape, when one is asked for: a reader that works
shapes out as it reads (ONNX) takes it there; for the others ``load_spec`` sets it on what
they read."""


def _read_yaml(
    path: str, defaults: Mapping[str, object] | None, max_layers: int, _: Shape | None
) -> Loaded:
    from convcost.core.gcpause import gc_paused
    from convcost.frontends.config import parse_config, read_source

    text, source = read_source(path)
    with gc_paused():
        return Loaded.of(parse_config(text, source, defaults, max_layers))


def _read_stdin(defaults: Mapping[str, object] | None, max_layers: int) -> Loaded:
    """Standard input: an inline spec when its first line starts with a shape (its lines
    are one spec: ``224x224x3`` then ``| conv 7x7 64 s2``…), else a YAML config."""
    from convcost.core.gcpause import gc_paused
    from convcost.frontends.config import parse_config, read_source
    from convcost.frontends.inline import parse_inline, starts_inline

    text, source = read_source("-")
    if starts_inline(text):
        spec = " ".join(text.removeprefix("\ufeff").splitlines()).strip()
        return Loaded.of(parse_inline(spec, defaults, source, max_layers))
    with gc_paused():
        return Loaded.of(parse_config(text, source, defaults, max_layers))


def _read_json(
    path: str, defaults: Mapping[str, object] | None, max_layers: int, _: Shape | None
) -> Loaded:
    """The json module's reading is several times faster but keeps no line and column: when
    the analysis finds a fault, ``located`` reads the file again with the YAML reader (JSON
    is YAML), so that the error says where."""
    from convcost.core.gcpause import gc_paused
    from convcost.frontends.config import parse_config, parse_json_config, read_source

    def located() -> Loaded:
        text, source = read_source(path)
        return Loaded.of(parse_config(text, source, defaults, max_layers))

    text, source = read_source(path)
    with gc_paused():
        return Loaded.of(parse_json_config(text, source, defaults, max_layers), located)


def _read_prototxt(
    path: str, defaults: Mapping[str, object] | None, max_layers: int, input_shape: Shape | None
) -> Loaded:
    """A Caffe network file: the graph built directly (see ``frontends.prototxt``)."""
    from convcost.core.gcpause import gc_paused
    from convcost.frontends.config import read_source
    from convcost.frontends.prototxt import parse_prototxt

    text, source = read_source(path)
    with gc_paused():
        graph, name = parse_prototxt(text, source, defaults, max_layers, input_shape)
    return Loaded(graph, name)


def _read_onnx(
    path: str, defaults: Mapping[str, object] | None, max_layers: int, input_shape: Shape | None
) -> Loaded:
    """An ONNX model: its graph, read without the onnx package (see onnxread)."""
    from convcost.frontends.onnxread import read_onnx

    return Loaded(read_onnx(path, max_layers, input_shape))


READERS: dict[str, Reader] = {
    ".yaml": _read_yaml, ".yml": _read_yaml, ".json": _read_json, ".prototxt": _read_prototxt,
    ".onnx": _read_onnx,
}  # fmt: skip
"""Config readers by the file name's ending, compared without regard to case. A name with
none of these endings (``net``, ``net.cfg``) is read as YAML, as configs always were. A reader
for another format (``.onnx``, ``.prototxt``) is one entry here."""


def reader_for(path: str) -> Reader:
    """The reader registered for ``path``'s ending; YAML when none is."""
    lowered = path.lower()
    for ending, reader in READERS.items():
        if lowered.endswith(ending):
            return reader
    return _read_yaml


def load_spec(
    spec: str,
    defaults: Mapping[str, object] | None = None,
    max_layers: int = MAX_LAYERS,
    input_shape: Shape | None = None,
    resolution: int | None = None,
) -> Loaded:
    """The network a SPEC names, with its description and budget. The rule, in this order:

    1. ``-``: standard input: an inline spec when its first line starts with a shape
       (``28x28x192 | conv 5x5 32``), else a config, read as YAML (JSON is YAML too).
    2. Inline text: a spec that holds a ``|`` or is a bare shape ``HxWxC`` (``28x28x192 |
       conv 5x5 32``). The form alone decides, before any file is looked for, so an inline
       spec never depends on what the current directory holds.
    3. A built-in model's name (``resnet50``, see ``convcost models``), unless a file of that
       name exists: a file shadows a built-in model, a directory does not (it could never
       be read as a config).
    4. Anything else is a config file, read by the reader ``READERS`` registers for its
       ending (``.json``: JSON; ``.yaml``, ``.yml`` and any other: YAML).

    An empty spec is refused first. When a reading fails, its error says which and why: an
    inline spec's fault is located in the spec, a config's at its line and column, a file
    that cannot be read says so ("no such file", "is a directory"), and a missing file whose
    name looks like a model's (no ``/``, no ``.``) lists the built-in models, nearest first.

    ``input_shape``: the network's input instead of the one the spec gives (an ONNX model's
    symbolic dimensions, another resolution). ``resolution``: a square input of that many
    pixels a side, its channels the spec's (MobileNet's resolution multiplier).
    """
    loaded = _load(spec, defaults, max_layers, input_shape)
    if resolution is not None:
        written = loaded.network.input_shape
        if written.flat:
            raise ConvcostError(
                f"a resolution of {resolution} needs an image input, but the spec's input is a "
                f"vector of {written.c} features"
            )
        input_shape = written._replace(h=resolution, w=resolution)
        if isinstance(loaded.network, Graph) and spec != "-":  # read knowing its input
            try:
                loaded = _load(spec, defaults, max_layers, input_shape)
            except ConvcostError as error:  # a model file's reader names --input-shape
                message = error.message.replace(f"--input-shape {input_shape.ascii}",
                                                f"--resolution {resolution}")  # fmt: skip
                raise ConvcostError(message, error.location, error.field) from None
    return loaded if input_shape is None else at_input(loaded, input_shape)


def at_input(loaded: Loaded, input_shape: Shape) -> Loaded:
    """What was read, with ``input_shape`` as its network's input (a vector where it was
    one, given as 1x1xF)."""
    located = loaded.located
    if loaded.network.input_shape.flat and (input_shape.h, input_shape.w) == (1, 1):
        input_shape = input_shape._replace(flat=True)
    return loaded._replace(
        network=loaded.network._replace(input_shape=input_shape),
        located=None if located is None else lambda: at_input(located(), input_shape),
        warnings=(),  # what they said of the spec's own input: it is not analysed at it
    )


def _load(
    spec: str,
    defaults: Mapping[str, object] | None,
    max_layers: int,
    input_shape: Shape | None,
) -> Loaded:
    if not spec.strip():  # as a path, "" would name the current directory
        raise ConvcostError(
            "the spec is empty; give a YAML config file, '-' for standard input, a built-in "
            "model (see convcost models) or an inline spec such as '28x28x192 | conv 5x5 32'"
        )
    if spec == "-":
        return _read_stdin(defaults, max_layers)
    from convcost.frontends.inline import looks_inline, parse_inline

    if looks_inline(spec):
        return Loaded.of(parse_inline(spec, defaults, max_layers=max_layers))
    from convcost.frontends import zoo

    if spec in zoo.model_names() and not _names_a_file(spec):
        return load_builtin(spec, defaults, max_layers)
    try:
        return reader_for(spec)(spec, defaults, max_layers, input_shape)
    except ConvcostError as error:
        looks_like_a_name = "/" not in spec and "." not in spec
        if error.message.startswith(f"{spec}: no such file") and looks_like_a_name:
            hint = did_you_mean(spec, zoo.model_names())
            raise ConvcostError(
                f"{spec}: no such file or built-in model; {hint}built-in models: "
                f"{', '.join(zoo.model_names())} (see convcost models)"
            ) from None
        raise


def load_builtin(
    name: str, defaults: Mapping[str, object] | None = None, max_layers: int = MAX_LAYERS
) -> Loaded:
    """A built-in model by name (one of ``zoo.model_names()``), whatever files are about."""
    from convcost.frontends import zoo

    return Loaded.of(zoo.load_model(name, defaults, max_layers))


def _analyze_scaled(network: Network | Graph, batch: int, width: Width) -> Report:
    """``network`` at another width: a graph scaled as it is; a config's layers scaled as
    they are lowered, so that a setting written as an expression of the input
    (``${in.c // 2}``) follows the scaled input, and shortcuts are decided by the scaled
    shapes."""
    from convcost.core.analysis import analyze as analyze_graph
    from convcost.core.multipliers import Scaler, scale_width
    from convcost.frontends.tree import analyze, lower

    if isinstance(network, Graph):
        return analyze_graph(scale_width(network, width), batch)
    return analyze(network, batch, Scaler(width, lower(network)))


def _names_a_file(path: str) -> bool:
    """Whether a file by this name is there to read (a file shadows a built-in model of the
    same name; a directory does not: it could never be read as a config)."""
    try:
        return Path(path).exists() and not Path(path).is_dir()
    except (OSError, ValueError):  # a name the system cannot take (a NUL byte, too long)
        return False


def analyze_spec(
    spec: str,
    defaults: Mapping[str, object] | None = None,
    batch: int = 1,
    max_layers: int = MAX_LAYERS,
    settings: Settings | None = None,
    input_shape: Shape | None = None,
    on_loaded: Callable[[Loaded], None] | None = None,
    scaling: Scaling = AS_WRITTEN,
) -> tuple[Loaded, Report]:
    """``load_spec``, then the analysis and its costs (``settings``: the defaults when
    None). When the analysis fails on a reading without line and column (a JSON config),
    the spec is read again with them and analysed, so that the error says where.
    ``on_loaded`` is given what was read before it is analysed (to say its warnings first:
    they may explain the analysis's fault). ``scaling``: the widths and resolution to
    analyse it at instead of the spec's (``--width-multiplier``, ``--resolution``): a fault
    met there is said to be met there (``at resolution 8: ...``)."""
    loaded = load_spec(spec, defaults, max_layers, input_shape, scaling.resolution)
    if on_loaded is not None:
        on_loaded(loaded)

    def analysed(loaded: Loaded) -> Report:
        try:
            return analyze_loaded(loaded, batch, settings, scaling.width)
        except ConvcostError as error:
            raise scaling.refusing(error) from None

    try:
        return loaded, analysed(loaded)
    except ConvcostError:
        if loaded.located is None:
            raise
    located = loaded.located()
    return located, analysed(located)


def analyze_loaded(
    loaded: Loaded, batch: int = 1, settings: Settings | None = None, width: Width | None = None
) -> Report:
    """What a front end read, analysed and costed: a graph as it is (a reader of a real
    graph builds one directly), the constructs of a config once lowered to one; with
    ``width``, that graph's widths scaled (``core.multipliers``)."""
    from convcost.core.costing import cost
    from convcost.core.costs import Settings

    if width is not None:
        report = _analyze_scaled(loaded.network, batch, width)
    elif isinstance(loaded.network, Graph):
        from convcost.core.analysis import analyze as analyze_graph

        report = analyze_graph(loaded.network, batch)
    else:
        from convcost.frontends.tree import analyze

        report = analyze(loaded.network, batch)
    return cost(report, Settings() if settings is None else settings)
