"""Front ends: each turns what the user wrote into the same ``Network``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.limits import MAX_LAYERS
from convcost.core.report import Report
from convcost.frontends.tree import Network


def load_network(
    spec: str, defaults: Mapping[str, object] | None = None, max_layers: int = MAX_LAYERS
) -> Network:
    """A network from what the user named: an inline spec, ``-`` (YAML on standard input),
    a config file, or a built-in model such as ``googlenet``."""
    from convcost.frontends.inline import looks_inline, parse_inline

    if not spec.strip():  # as a path, "" would name the current directory
        raise ConvcostError(
            "the spec is empty; give a YAML config file, '-' for standard input, a built-in "
            "model (see convcost models) or an inline spec such as '28x28x192 | conv 5x5 32'"
        )
    if spec != "-" and looks_inline(spec):
        return parse_inline(spec, defaults, max_layers=max_layers)
    from convcost.frontends import zoo

    if spec != "-" and spec in zoo.model_names() and not _names_a_file(spec):
        return zoo.load_model(spec, defaults, max_layers)
    from convcost.frontends.config import load_config

    try:
        return load_config(spec, defaults, max_layers)
    except ConvcostError as error:
        looks_like_a_name = "/" not in spec and "." not in spec
        if error.message.startswith(f"{spec}: no such file") and looks_like_a_name:
            hint = did_you_mean(spec, zoo.model_names())
            raise ConvcostError(
                f"{spec}: no such file or built-in model; {hint}built-in models: "
                f"{', '.join(zoo.model_names())} (see convcost models)"
            ) from None
        raise


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
) -> tuple[Network, Report]:
    """``load_network`` and ``analyze``. A JSON config is read without line and column; when
    its layers turn out wrong (a kernel larger than its input, say), it is read again with
    them, so that the error says where."""
    from convcost.frontends.tree import analyze

    network = load_network(spec, defaults, max_layers)
    try:
        return network, analyze(network, batch)
    except ConvcostError:
        if not spec.lower().endswith(".json"):
            raise
    from convcost.frontends.config import parse_config, read_source

    text, source = read_source(spec)
    located = parse_config(text, source, defaults, max_layers)
    return located, analyze(located, batch)
