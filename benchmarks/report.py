"""The HTML report's size and load time in headless Chromium (Debian's chromium, driven by
Playwright): ResNet-50 (target: under 1 MB, loaded under 2 s) and a generated 10,000-layer
network (target: usable, its groups folded). ``--shots DIR`` also writes the README's two
screenshots (1200 pixels wide).

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
            for name, shot in (("resnet50 --device a100", "report-resnet50.png"),
                               ("seed compare", "report-compare.png")):  # fmt: skip
                page = context.new_page()
                page.goto((work / f"{name.replace(' ', '_')}.html").as_uri())
                page.screenshot(path=str(options.shots / shot))
                page.close()
        context.close()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
