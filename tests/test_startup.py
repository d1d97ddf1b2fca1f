"""What each start-up path imports: the deferrals issue #6 measures, kept from creeping back.

Each case runs the console script's entry point in a fresh interpreter and lists the modules
it loaded (timings stay in benchmarks/; which modules load is exact and not flaky).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_CHILD = """
import sys
from convcost.entry import main
sys.argv = ["convcost", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    assert exit.code in (None, 0), exit.code
sys.stderr.write(repr(sorted(sys.modules)))
"""
COMPARE = ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16"]


def _modules(code: str, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return set(ast.literal_eval(done.stderr))


def loaded_modules(args: list[str]) -> set[str]:
    """What convcost loaded: the modules of the run, less those the bare interpreter has
    (a site-packages .pth file may import some, importlib.resources say, on every start)."""
    bare = _modules("import sys; sys.stderr.write(repr(sorted(sys.modules)))")
    return _modules(_CHILD, *args) - bare


@pytest.mark.parametrize(
    ("args", "absent", "present"),
    [
        (["--version"], {"typer", "rich", "yaml", "convcost.cli", "typing"}, set()),
        ([*COMPARE, "-f", "json"], {"rich.console", "rich.table", "fractions", "yaml", "csv"},
         {"json", "convcost.analyses.compare"}),
        # rich.table imports fractions itself; of the layer kinds, compare needs only conv.
        (COMPARE, {"yaml", "csv", "convcost.core.kinds.pooling"}, {"rich.table"}),
        (["analyze", "28x28x192 | conv 5x5 32", "-f", "csv"],
         {"rich.console", "rich.table", "yaml", "fractions", "convcost.analyses.compare"}, {"csv"}),
        (["analyze", "configs/resnet50.yaml", "-f", "json"], {"rich.console", "fractions"},
         {"yaml"}),
        (["analyze", "resnet50", "-f", "csv"],
         {"rich.console", "fractions", "json", "importlib.resources"}, {"yaml", "csv"}),
        # The writer registry imports a format's modules only until the result's writer is found.
        (["analyze", "28x28x192 | conv 5x5 32", "-f", "json"],
         {"convcost.render.table", "convcost.render.checks", "convcost.render.diffs"},
         {"convcost.render.text"}),
    ],
)  # fmt: skip
def test_start_up_imports_only_what_the_path_needs(
    args: list[str], absent: set[str], present: set[str]
) -> None:
    loaded = loaded_modules(args)
    assert (absent & loaded, present - loaded) == (set(), set())


def test_json_config_does_not_import_yaml(tmp_path: Path) -> None:
    config = tmp_path / "net.json"
    config.write_text('{"input": "8x8x3", "layers": [{"type": "conv", "filters": 4, "kernel": 3}]}')
    loaded = loaded_modules(["analyze", str(config), "-f", "json"])
    assert {"yaml", "_yaml", "rich.console"} & loaded == set()
