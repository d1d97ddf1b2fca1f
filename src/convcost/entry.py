"""The ``convcost`` console script: ``--version`` answers before anything is imported."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    # One short pass that makes no reference cycles worth collecting: the cyclic collector
    # would only rescan, again and again, every object made so far (imports included), which
    # costs more than a second on 100,000-layer configs. Reference counting frees as usual.
    gc.disable()
    if sys.argv[1:] == ["--version"]:
        from convcost import __version__

        sys.stdout.write(f"convcost {__version__}\n")
        return
    from convcost.cli import main as cli_main

    cli_main()
