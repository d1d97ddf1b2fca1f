"""The HTML report's size and load time in headless Chromium (Debian's chromium, driven by
Playwright): ResNet-50 (target: under 1 MB, loaded under 2 s) and a generated 10,000-layer
network (target: usable, its groups folded). ``--shots DIR`` also writes the README's two
screenshots: ResNet-50's page 1600 pixels wide (its head, the graph beside the start of the
table, the charts) and compare's page 1200 wide.

    python -m benchmarks.report [--shots docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.test_report_browser import ARGS  # the browser tests' Chromium flags

from benchmarks.generate import yaml_text

CHROMIUM = "/usr/bin/chromium"
_TIMING = ("() => { const n = performance.getEntriesByType('navigation')[0]; "
           "return n.loadEventEnd; }")  # fmt: skip


def _write(args: list[str], target: Path) -> None:
    command = [sys.executable, "-m", "convcost", *args]
    output = subprocess.run(command, check=True, capture_output=True).stdout
    target.write_bytes(output)


def _load_ms(context: Any, path: Path) -> float:
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    loaded: float = page.evaluate(_TIMING)
    page.close()
    return loaded


def _shots(context: Any, work: Path, target: Path) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto((work / "resnet50_--device_a100.html").as_uri())
    # The graph's first stages beside the table's first rows: one picture of both.
    page.add_style_tag(content=".scroll{max-height:620px}#cc-graph-and-table{display:flex;gap:16px}"
                       "#cc-graph-and-table>*{min-width:0}#cc-graph-and-table>:first-child"
                       "{flex:none}")  # fmt: skip
    page.evaluate("""() => {
        const pair = document.createElement('div'); pair.id = 'cc-graph-and-table';
        const graph = document.getElementById('cc-net').parentNode;
        const table = document.getElementById('cc-layers').parentNode;
        graph.before(pair); pair.append(graph, table);
        const heading = document.getElementById('table');
        heading.nextElementSibling.remove(); heading.remove();
    }""")
    page.screenshot(path=str(target / "report-resnet50.png"), full_page=True)
    page.close()
    page = context.new_page()
    page.goto((work / "seed_compare.html").as_uri())
    page.screenshot(path=str(target / "report-compare.png"), full_page=True)
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=Path, help="write the README's screenshots here")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="convcost-report-"))
    (work / "big.yaml").write_text(yaml_text(10_000), encoding="utf-8")
    pages = {
        "resnet50": ["analyze", "resnet50", "-f", "html"],
        "resnet50 --device a100": ["analyze", "resnet50", "--device", "a100", "-f", "html"],
        "10,000 layers": ["analyze", str(work / "big.yaml"), "-f", "html"],
        "seed compare": ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "-f",
                         "html"],
    }  # fmt: skip
    missed = False
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(work / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True,
            viewport={"width": 1200, "height": 900},
        )  # fmt: skip
        for name, args in pages.items():
            path = work / f"{name.replace(' ', '_')}.html"
            _write(args, path)
            size = path.stat().st_size
            loads = sorted(_load_ms(context, path) for _ in range(3))
            print(f"{name:24} {size / 1e6:7.3f} MB   loaded in {loads[1]:7.0f} ms (median of 3)")
            if name.startswith("resnet50") and (size >= 1e6 or loads[1] >= 2000):
                missed = True
        if options.shots:
            _shots(context, work, options.shots)
        context.close()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
