"""convcost report and --format html, read as text: the page is whole and self-contained,
its table carries analyze's figures, names are escaped, the layout is sound. (What a
browser makes of the page: tests/test_report_browser.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.core.graph import INPUT
from convcost.exits import EXIT_OUTPUT_FAILED
from convcost.render.html import layer_table
from convcost.render.layout import layered

HOSTILE = """\
input: 8x8x3
layers:
  - {type: conv, kernel: 3, filters: 4, name: "<script>alert(1)</script>"}
  - group:
      - {type: relu, name: "a&b'\\"c"}
      - {type: conv, kernel: 1, filters: 2, name: "</svg><img src=x onerror=alert(2)>"}
    name: "</script><b>g</b>"
"""


def _data(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="cc-data">(.*?)</script>', page)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


@pytest.mark.parametrize("spec", ["resnet50", "googlenet", "28x28x192 | conv 1x1 16 | conv 5x5 32"])
def test_table_rows_carry_the_figures_analyze_json_gives(runner: CliRunner, spec: str) -> None:
    page = runner.invoke(app, ["report", spec, "-o", "-", "--device", "t4"]).stdout
    analysed = json.loads(
        runner.invoke(app, ["analyze", spec, "-f", "json", "--device", "t4"]).stdout
    )
    rows = _data(page)["rows"]
    assert isinstance(rows, list)
    layers = analysed["layers"]
    assert len(rows) == len(layers)
    keys = [m for m in re.findall(r'<th class="num"[^>]*data-key="([a-z_]+)"', page)]
    assert keys[0] == "macs" and "latency_s" in keys
    for row, layer in zip(rows, layers, strict=True):
        assert row[1] == layer["name"]
        assert {key: cell[1] for key, cell in zip(keys, row[5:], strict=True)} == {
            key: layer[key] for key in keys
        }


def test_report_is_analyze_format_html_written_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "resnet18", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    written = target.read_text(encoding="utf-8")
    assert written == runner.invoke(app, ["analyze", "resnet18", "-f", "html"]).stdout


def test_resnet50_page_is_self_contained_and_under_a_megabyte(runner: CliRunner) -> None:
    page = runner.invoke(app, ["report", "resnet50", "-o", "-"]).stdout
    assert len(page.encode()) < 1_000_000
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    # Nothing is fetched: no URL, no src, no link, no import; links are anchors on the page.
    assert not re.search(r"https?:|//[a-z]|\bsrc=|<link|@import|url\(", page)
    assert set(re.findall(r'href="([^"]*)"', page)) <= {"#graph", "#table", "#charts"}
    # A box per layer, a frame per group.
    assert page.count('<g class="node ') == 174
    assert page.count('<g class="frame"') == 24


def test_hostile_names_are_text_never_markup(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "hostile.yaml"
    config.write_text(HOSTILE, encoding="utf-8")
    page = runner.invoke(app, ["report", str(config), "-o", "-"]).stdout
    body = page.split('<script type="application/json"')[0]
    assert "<script>alert" not in page and "<img" not in page and "<b>g" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "a&amp;b&#39;&quot;c" in body
    # Only convcost's own two scripts, and the data block still decodes to the exact names.
    assert page.count("<script") == 2 and page.count("</script>") == 2
    rows = _data(page)["rows"]
    assert isinstance(rows, list)
    names = [row[1] for row in rows]
    assert names[0] == "<script>alert(1)</script>"
    assert names[1:] == [
        "</script><b>g</b>/a&b'\"c",
        "</script><b>g</b>/</svg><img src=x onerror=alert(2)>",
    ]


def test_compare_page_has_both_paths_and_the_break_even(runner: CliRunner) -> None:
    args = ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "-f", "html"]
    page = runner.invoke(app, args).stdout
    assert "<h3>direct</h3>" in page and "<h3>bottleneck 16</h3>" in page
    assert "120,422,400" in page and "12,443,648" in page
    assert "b* = 154.8" in page
    # The bottleneck's point lies on the line through 0 that crosses direct at b*.
    assert "bottleneck 16: 12,443,648 MACs" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "resnet5", "-o", "-"], "convcost: resnet5: no such file or built-in model"),
        (["report", "resnet50"], "convcost report: Missing option '--output' / '-o'."),
        (["report", "resnet50", "-o", "-", "--depth", "0"], "convcost report: Invalid value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_unwritable_output_is_said(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "r.html"
    result = runner.invoke(app, ["report", "resnet18", "-o", str(target)])
    assert result.exit_code == EXIT_OUTPUT_FAILED
    assert result.stderr == f"convcost report: cannot write {target}: No such file or directory\n"


@pytest.mark.parametrize("spec", ["resnet50", "googlenet", "unet", "densenet121"])
def test_layout_puts_each_layer_below_its_inputs_and_no_two_in_one_place(spec: str) -> None:
    if spec == "densenet121":
        spec = str(Path(__file__).parent / "configs" / "densenet121.yaml")
    graph = convcost.analyze(spec).analysis.graph
    assert graph is not None
    layout = layered(graph)
    places = {(0, 0)}
    for index, node in enumerate(graph.nodes):
        rank = layout.ranks[index]
        assert all(rank > (0 if i == INPUT else layout.ranks[i]) for i in node.inputs)
        places.add((rank, layout.columns[index]))
    assert len(places) == len(graph.nodes) + 1
    # A frame holds exactly the ranks and lanes of its layers.
    for frame in layout.frames:
        assert frame.first_rank <= frame.last_rank and frame.first_column <= frame.last_column


def test_a_chain_is_one_lane_and_inception_branches_sit_side_by_side() -> None:
    chain = layered(convcost.analyze("8x8x3 | conv 3x3 4 | relu | conv 3x3 4").analysis.graph)  # type: ignore[arg-type]
    assert chain.columns == (0, 0, 0) and chain.ranks == (1, 2, 3)
    graph = convcost.analyze("inception_3a").analysis.graph
    assert graph is not None
    layout = layered(graph)
    firsts = [i for i, node in enumerate(graph.nodes) if node.inputs == (INPUT,)]
    assert [layout.columns[i] for i in firsts] == [0, 1, 2, 3]
    assert len({layout.ranks[i] for i in firsts}) == 1


def test_depth_folds_the_table_rows_as_analyze_depth_does(runner: CliRunner) -> None:
    report = convcost.analyze("resnet50").analysis
    _, rows = layer_table(report, 1)
    assert [row[1] for row in rows] == [r.name for r in report.partition(1)]
    assert len(rows) == 10  # stem (4), layer1…layer4, avgpool, flatten, fc
    page = runner.invoke(app, ["report", "resnet50", "--depth", "1", "-o", "-"]).stdout
    assert _data(page)["folded"] == [0, 1, 2, 3]  # the four stages' frames (outer first)


def test_api_report_prints_its_table_and_shows_its_page_in_a_notebook(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # the runner's width
    spec = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"
    report = convcost.analyze(spec)
    assert str(report) == repr(report)
    assert str(report) + "\n" == runner.invoke(app, ["analyze", spec]).stdout
    frame = report._repr_html_()
    assert frame.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    page = runner.invoke(app, ["report", spec, "-o", "-"]).stdout.rstrip("\n")
    assert frame.count("&lt;g class=&quot;node ") == page.count('<g class="node ') == 3
    comparison = convcost.compare("28x28x192", "5x5", 32, [16])
    shown = runner.invoke(app, ["compare", "28x28x192", "--5x5", "32", "-b", "16"]).stdout
    assert str(comparison) + "\n" == shown
    assert "b* = 154.8" in comparison._repr_html_()


@pytest.mark.parametrize(
    "spec", ["unet", "googlenet", "resnet50", "efficientnet_b0", "shufflenet_v2_x1_0"]
)
def test_a_frame_holds_its_own_layers_only(spec: str) -> None:
    """U-Net's crops of the skips sit in their decoder stage, not at the encoder's depth."""
    graph = convcost.analyze(spec).analysis.graph
    assert graph is not None
    layout = layered(graph)
    for frame in layout.frames:
        for index, node in enumerate(graph.nodes):
            scope = node.scope
            while scope not in (-1, frame.scope):
                scope = graph.scopes[scope].parent
            rank, column = layout.ranks[index], layout.columns[index]
            inside = frame.first_rank <= rank <= frame.last_rank
            inside = inside and frame.first_column <= column <= frame.last_column
            assert inside == (scope == frame.scope), (graph.scopes[frame.scope].name, node)


def test_break_even_line_gives_each_width_the_macs_compare_gives(runner: CliRunner) -> None:
    args = ["compare", "28x28x192", "--5x5", "32", "-b", "8,16,32,64,200", "-f", "html"]
    page = runner.invoke(app, args).stdout
    found = re.search(r"<title>bottleneck path: b × ([\d,]+) MACs</title>", page)
    assert found is not None
    slope = int(found.group(1).replace(",", ""))
    for width in (8, 16, 155, 200, 512):
        shown = runner.invoke(app, ["compare", "28x28x192", "--5x5", "32", "-b", str(width),
                                    "-f", "json"]).stdout  # fmt: skip
        paths = json.loads(shown)["paths"]
        assert slope * width == paths[-1]["totals"]["macs"]
    # Each width compared is a labelled point on the page, in the path table's figures.
    assert re.findall(r'class="label point">b = (\d+)<', page) == ["8", "16", "32", "64", "200"]
    assert page.count('<td class="num">') >= 5 * 2 * 3  # MACs and params right-aligned


@pytest.mark.parametrize("args", [["--device", "a100"], ["--device", "t4", "--dtype", "fp16"]])
def test_roofline_points_and_roof_are_analyze_json_figures(
    runner: CliRunner, args: list[str]
) -> None:
    """A point per timed layer at (arithmetic_intensity, ops / latency_s) as analyze's JSON
    gives them, under the roof of the device's peak at the format and its bandwidth."""
    page = runner.invoke(app, ["report", "resnet50", "-o", "-", *args]).stdout
    analysed = json.loads(runner.invoke(app, ["analyze", "resnet50", "-f", "json", *args]).stdout)
    points = re.findall(r'<circle class="(\w+)"[^>]*data-x="([^"]+)" data-y="([^"]+)"><title>'
                        r"([^:<]+):", page)  # fmt: skip
    timed = [layer for layer in analysed["layers"]
             if layer["arithmetic_intensity"] is not None and layer["ops"]]  # fmt: skip
    assert [(bound, float(x), float(y), name) for bound, x, y, name in points] == [
        (layer["bound"], layer["arithmetic_intensity"], layer["ops"] / layer["latency_s"],
         layer["name"]) for layer in timed
    ]  # fmt: skip
    roof = re.search(r'class="roof" points="[^"]*" data-peak="([^"]+)" data-bandwidth="([^"]+)"',
                     page)  # fmt: skip
    assert roof is not None
    device = analysed["device"]
    assert (float(roof[1]), float(roof[2])) == (
        device["peak_ops_per_s"],
        device["bandwidth_bytes_per_s"],
    )
    # Each point sits on the roof: roofline time is the slower of compute and memory.
    for _, x, y, _ in points:
        roofed = min(device["peak_ops_per_s"], device["bandwidth_bytes_per_s"] * float(x))
        assert float(y) == pytest.approx(roofed, rel=1e-12)


def test_graph_has_its_colour_scale_and_the_headline_its_units(runner: CliRunner) -> None:
    page = runner.invoke(app, ["report", "resnet50", "--depth", "1", "-o", "-"]).stdout
    largest = max(layer.macs for layer in convcost.analyze("resnet50").analysis.layers)
    assert largest == 118_013_952  # conv1 (the 3×3 convs of layer1: 115,605,504)
    scale = re.search(r'<p class="legend">colour: (.*?)</p>', page)
    assert scale is not None and scale.group(1).count("<span") == 5
    assert scale.group(1).endswith("</span>118.0M MACs")
    assert "groups below depth 1 open folded" in page
    assert '<div title="bytes of parameters and of all layer outputs' in page
    assert "<span>peak memory</span><b>7.23 MB</b>" in page  # as the footer says it
