"""The ``convcost`` console script: ``--version`` answers before anything is imported."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from convcost import __version__

        sys.stdout.write(f"convcost {__version__}\n")
        return
    from convcost.cli import main as cli_main

    cli_main()
