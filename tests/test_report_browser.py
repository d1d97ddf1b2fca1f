"""The HTML report in a real browser: Debian's chromium, driven by Playwright, the network
closed. These tests fail (never skip) when the browser is missing: install it with
``apt-get install -y chromium`` (what .ci/run does), or point CONVCOST_CHROMIUM at one."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app

INSTALL = "apt-get install -y chromium as root (Debian/Ubuntu; or set CONVCOST_CHROMIUM)"
ARGS = [
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = os.environ.get("CONVCOST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail(f"NO BROWSER: the report's browser tests need Chromium: {INSTALL}", False)
    return found


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("NO PLAYWRIGHT: pip install -e '.[test]' installs it", False)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, args=ARGS, headless=True,
            viewport={"width": 1200, "height": 900},
        )  # fmt: skip
        yield context
        context.close()


class Opened:
    """A report open in the browser, with what it asked of the network and said wrong."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page()
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: self.errors.append(f"dialog: {d.message}"))
        self.page.goto(path.as_uri())

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file:"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def visible(self, selector: str) -> int:
        count: int = self.page.evaluate(
            "s => Array.from(document.querySelectorAll(s)).filter(e => e.getBBox().width > 0 "
            "&& getComputedStyle(e).display !== 'none' && !e.closest('.hidden')).length",
            selector,
        )
        return count

    def close(self) -> None:
        assert self.errors == []
        assert self.requests == []  # nothing but the file itself was asked for
        self.page.close()


def _report(runner: CliRunner, tmp_path: Path, *args: str) -> Path:
    target = tmp_path / "report.html"
    result = runner.invoke(app, [*args, "-o", str(target)] if args[0] == "report" else list(args))
    assert result.exit_code == 0, result.stderr
    if args[0] != "report":
        target.write_text(result.stdout, encoding="utf-8")
    return target


def test_resnet50_opens_clean_with_a_box_per_layer_sorts_and_folds(
    browser: Any, runner: CliRunner, tmp_path: Path
) -> None:
    opened = Opened(browser, _report(runner, tmp_path, "report", "resnet50", "--device", "a100"))
    report = convcost.analyze("resnet50").analysis
    assert opened.visible("g.node") == len(report.layers) == 174
    assert opened.visible("g.frame > rect.outline") == len(report.groups) == 24
    assert opened.page.locator("svg.roofline circle").count() > 100
    # Sorting by MACs puts the largest layer first; again, the smallest.
    largest = max(report.layers, key=lambda layer: layer.macs)
    opened.page.click("th[data-key=macs]")
    first = opened.page.locator("#cc-layers tbody tr").first
    assert first.locator("td").nth(1).text_content() == largest.name
    assert first.locator("td").nth(5).text_content() == f"{largest.macs:,}"
    opened.page.click("th[data-key=macs]")
    assert (
        opened.page.locator("#cc-layers tbody tr").first.locator("td").nth(5).text_content() == "0"
    )
    # Folding layer1 hides its 34 layers and shows one box in their place.
    inside = sum(1 for layer in report.layers if layer.name.startswith("layer1."))
    opened.page.locator("g.frame[data-f='0'] > text.label").click()
    assert opened.visible("g.node") == 174 - inside
    assert opened.visible("g.frame.folded > g.box") == 1
    opened.page.locator("g.frame[data-f='0'] > g.box").click()
    assert opened.visible("g.node") == 174
    opened.close()


def test_screenshot_is_not_blank(browser: Any, runner: CliRunner, tmp_path: Path) -> None:
    opened = Opened(browser, _report(runner, tmp_path, "report", "googlenet"))
    shot = opened.page.screenshot()
    opened.page.set_content("<html><body></body></html>")
    blank = opened.page.screenshot()
    assert len(shot) > 10 * len(blank)
    opened.close()


def test_hostile_names_run_nothing_and_show_as_written(
    browser: Any, runner: CliRunner, tmp_path: Path
) -> None:
    from tests.test_report_html import HOSTILE

    config = tmp_path / "hostile.yaml"
    config.write_text(HOSTILE, encoding="utf-8")
    opened = Opened(browser, _report(runner, tmp_path, "report", str(config)))
    names = opened.page.locator("g.node > text.n").all_text_contents()
    # Shortened to fit the box (the full name is in the tooltip), never rewritten.
    full = ["<script>alert(1)</script>", "a&b'\"c", "</svg><img src=x onerror=alert(2)>"]
    assert names[1] == full[1]
    for name, written in zip(names[::2], full[::2], strict=True):
        assert name.endswith("…") and written.startswith(name[:-1]) and len(name) > 12
    assert opened.page.evaluate(_OVERFLOWS) == []
    assert (
        opened.page.locator("img, svg b, td b, h1 b").count() == 0
    )  # no markup of a name's became an element
    assert opened.page.locator("#cc-layers tbody td:nth-child(2)").all_text_contents()[0] == (
        "<script>alert(1)</script>"
    )
    opened.close()  # no dialog (alert), no error


def test_compare_report_opens_clean(browser: Any, runner: CliRunner, tmp_path: Path) -> None:
    args = ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "-f", "html"]
    opened = Opened(browser, _report(runner, tmp_path, *args))
    assert opened.page.locator(".paths section").count() == 2
    assert opened.visible("svg.break-even circle") == 1
    assert "b* = 154.8" in (opened.page.locator("svg.break-even").text_content() or "")
    aligned = opened.page.evaluate(
        "() => Array.from(document.querySelectorAll('.paths td.num, .paths th.num'),"
        " e => getComputedStyle(e).textAlign)"
    )
    assert aligned == ["right"] * 14  # MACs and params: headings, layers (1 and 2), totals
    opened.close()


_OVERLAPS = """() => {
  const boxes = Array.from(document.querySelectorAll('svg.break-even text'), t => t.getBBox());
  let count = 0;
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height
        && b.y < a.y + a.height) count++;
  }));
  return count;
}"""


def test_compare_with_many_widths_labels_each_point_apart(
    browser: Any, runner: CliRunner, tmp_path: Path
) -> None:
    args = ["compare", "28x28x192", "--5x5", "32", "-b", "8,16,32,64,200", "-f", "html"]
    opened = Opened(browser, _report(runner, tmp_path, *args))
    assert opened.visible("svg.break-even circle") == 5
    assert opened.page.evaluate(_OVERLAPS) == 0
    opened.close()


def test_a_big_network_opens_folded(browser: Any, runner: CliRunner, tmp_path: Path) -> None:
    from convcost.render.graphsvg import FOLD_ABOVE

    config = tmp_path / "big.yaml"
    config.write_text("input: 32x32x8\nlayers:\n  - group: [conv 3x3 8, bn, relu]\n"
                      "    name: stage\n    repeat: 400\n", encoding="utf-8")  # fmt: skip
    opened = Opened(browser, _report(runner, tmp_path, "report", str(config)))
    layers = opened.page.locator("g.node").count()
    assert layers == 1200 > FOLD_ABOVE
    assert opened.visible("g.node") == 0  # all in the one stage, folded
    assert opened.visible("g.frame.folded > g.box") == 1
    opened.page.click("#cc-unfold")
    assert opened.visible("g.node") == layers
    opened.close()


_OVERFLOWS = """() => {
  const out = [];
  const shown = e => e.getBBox().width > 0 && !e.closest('.hidden')
    && getComputedStyle(e).display !== 'none';
  for (const g of document.querySelectorAll('#cc-net g.node, #cc-net g.input, #cc-net g.box')) {
    if (!shown(g)) continue;
    const room = g.querySelector('rect').getBBox();
    for (const t of g.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < room.x || b.x + b.width > room.x + room.width) out.push(t.textContent);
    }
  }
  for (const f of document.querySelectorAll('#cc-net g.frame')) {
    const label = f.querySelector(':scope > text.label');
    if (!shown(label)) continue;
    const room = f.querySelector(':scope > rect.outline').getBBox(), b = label.getBBox();
    if (b.x < room.x || b.x + b.width > room.x + room.width) out.push(label.textContent);
  }
  return out;
}"""

_THROUGH = """() => {
  const boxes = Array.from(document.querySelectorAll(
      '#cc-net g.node rect, #cc-net g.input rect, #cc-net g.frame.folded > g.box rect'))
    .filter(r => !r.closest('.hidden') && r.getBBox().width > 0)
    .map(r => { const b = r.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; });
  const svg = document.getElementById('cc-net').getBoundingClientRect();
  const crossed = [];
  for (const path of document.querySelectorAll('#cc-net g.edges path')) {
    const length = path.getTotalLength();
    for (let at = 0; at <= length; at += 3) {
      const p = path.getPointAtLength(at), x = svg.left + p.x, y = svg.top + p.y;
      if (boxes.some(b => x > b[0] + 2 && x < b[2] - 2 && y > b[1] + 2 && y < b[3] - 2)) {
        crossed.push(path.getAttribute('d'));
        break;
      }
    }
  }
  return [crossed, document.querySelectorAll('#cc-net g.edges path').length];
}"""


@pytest.mark.parametrize("spec", ["resnet50", "googlenet", "unet"])
def test_every_name_fits_its_box_and_no_edge_runs_through_a_box(
    browser: Any, runner: CliRunner, tmp_path: Path, spec: str
) -> None:
    graph = convcost.analyze(spec).analysis.graph
    assert graph is not None
    edges = sum(len(set(node.inputs)) for node in graph.nodes)  # an edge per input read
    opened = Opened(browser, _report(runner, tmp_path, "report", spec, "--device", "a100"))
    assert opened.page.evaluate(_OVERFLOWS) == []
    crossed, drawn = opened.page.evaluate(_THROUGH)
    assert crossed == [] and drawn == edges
    opened.page.click("#cc-fold")  # folded boxes are wider; their names fit too
    assert opened.page.evaluate(_OVERFLOWS) == []
    assert opened.page.evaluate(_THROUGH)[0] == []
    opened.close()
