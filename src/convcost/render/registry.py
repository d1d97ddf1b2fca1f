"""The one output path: every command hands its result to ``emit`` with a format.

Writers are registered per (result type, format) with ``@writer``. Each format's writers
live in the modules named in ``_MODULES``, imported only when that format is asked for, so
that ``--format json`` never imports Rich nor ``--format csv`` the json module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

if TYPE_CHECKING:
    from convcost.core.multipliers import Scaling


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    github = "github"
    junit = "junit"
    html = "html"


class Unit(StrEnum):
    macs = "macs"
    flops = "flops"


class Options(NamedTuple):
    """How to render, as the command line said; each writer reads what applies to it."""

    unit: str = Unit.macs.value
    explain: bool = False
    depth: int | None = None  # --depth: the rows every format lists (render.columns.shown_rows)
    count_buffers: bool = False
    title: str = ""  # the table's title: the spec as given
    show_all: bool = False  # diff --all
    names: tuple[str, str] = ("", "")  # diff: the old and new spec as given
    scaling: Scaling | None = None  # --width-multiplier, --divisor, --resolution: None if none


class Document(NamedTuple):
    """A JSON document as it is, such as the config schema: written with ``indent=2``."""

    data: dict[str, Any]


Writer = Callable[[Any, Options], "str | None"]
"""Returns the output (``emit`` adds the final newline), or None when it printed itself."""

_WRITERS: dict[tuple[str, Format], Writer] = {}

# Where each format's writers are registered (importing the module registers them).
_MODULES: dict[Format, tuple[str, ...]] = {
    Format.table: ("convcost.render.table", "convcost.render.advise"),
    Format.json: (
        "convcost.render.text",
        "convcost.render.checks",
        "convcost.render.diffs",
        "convcost.render.advise",
    ),
    Format.csv: ("convcost.render.text", "convcost.render.advise"),
    Format.markdown: ("convcost.render.text", "convcost.render.diffs", "convcost.render.advise"),
    Format.github: ("convcost.render.checks",),
    Format.junit: ("convcost.render.checks",),
    Format.html: ("convcost.render.html",),
}

W = TypeVar("W", bound=Writer)


def type_name(result_type: type) -> str:
    """``convcost.analyses.compare.Comparison``: how the registry knows a result type."""
    return f"{result_type.__module__}.{result_type.__qualname__}"


def writer(result_type: type | str, output_format: Format) -> Callable[[W], W]:
    """Register the decorated function as the writer of ``result_type`` in ``output_format``.

    A type may be given by its full name, so that registering a writer does not import the
    module that defines the result (compare imports fractions, the model list the zoo).
    """
    name = result_type if isinstance(result_type, str) else type_name(result_type)

    def register(write: W) -> W:
        key = (name, output_format)
        assert key not in _WRITERS, f"two writers for {name} in {output_format}"
        _WRITERS[key] = write
        return write

    return register


def find(result_type: type, output_format: Format) -> Writer:
    """The writer of ``result_type`` in ``output_format``, its modules imported on first use."""
    key = (type_name(result_type), output_format)
    for module in _MODULES[output_format]:
        if key in _WRITERS:
            break
        import_module(module)
    try:
        return _WRITERS[key]
    except KeyError:
        raise LookupError(f"no {output_format} writer for {key[0]}") from None


def render(result: object, output_format: Format, options: Options | None = None) -> str | None:
    """``result`` in ``output_format`` (None: the writer printed it itself, as Rich does)."""
    return find(type(result), output_format)(result, options or Options())


def emit(result: object, output_format: Format, options: Options | None = None) -> None:
    """Write ``result`` to stdout in ``output_format``, in one piece, so that a failure never
    leaves half an output (the console script's guard, entry.guarded, writes all of a
    command's output at its end)."""
    text = render(result, output_format, options)
    if text is not None:
        sys.stdout.write(text + "\n")
