"""convcost: what a convolutional layer stack costs, before you train it.

The core (``convcost.core``: shapes, layer kinds, the network as a graph, its analysis, the
table of metrics) is plain records and functions; front ends (inline specs, YAML/JSON
configs, the zoo) build the graph, analyses compute on reports, renderers format them, and
the CLI and this API sit on top. The Python API (``convcost.analyze``, ``compare``,
``advise``, ``check``, ``diff``, ``load`` and their result types, see ``convcost.api``) is
what ``__all__`` lists.

The API's names are looked up on first use (the module ``__getattr__`` below), not imported
here: the console script imports this package for ``__version__`` on every start, and
``convcost --version`` answers before anything else is imported (not even ``typing``).
"""

__version__ = "1.0.0"

__all__ = [
    "AdviceReport",
    "CheckReport",
    "Comparison",
    "ConvcostError",
    "DiffReport",
    "Loaded",
    "Report",
    "advise",
    "analyze",
    "check",
    "compare",
    "diff",
    "load",
    "settings",
]

TYPE_CHECKING = False  # typing itself costs --version tens of milliseconds
if TYPE_CHECKING:
    from convcost.api import (
        AdviceReport,
        CheckReport,
        Comparison,
        DiffReport,
        Report,
        advise,
        analyze,
        check,
        compare,
        diff,
        load,
        settings,
    )
    from convcost.core.errors import ConvcostError
    from convcost.frontends.loaded import Loaded


def __getattr__(name: str) -> object:
    if name in __all__:
        from convcost import api

        value = getattr(api, name)
        globals()[name] = value  # looked up once
        return value
    raise AttributeError(f"module 'convcost' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
