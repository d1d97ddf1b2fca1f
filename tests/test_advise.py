"""``convcost advise``: each spatial conv's substitutes and what they save, and ``--apply``'s
config, which re-analyses to the totals advise predicted and builds in PyTorch."""

from __future__ import annotations

import csv
import io
import json
import random
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.analyses.advise import Advice, Candidate, Choice, advise, parse_choice, substituted
from convcost.analyses.diff import diff
from convcost.cli import app
from convcost.core.analysis import analyze
from convcost.core.costing import cost
from convcost.core.costs import Settings
from convcost.core.devices import PRESETS
from convcost.core.dtypes import precision
from convcost.core.errors import ConvcostError
from convcost.core.graph import Graph, chain
from convcost.core.kinds.conv import Conv
from convcost.core.kinds.merges import Merge
from convcost.core.report import Report
from convcost.core.shapes import Shape
from convcost.frontends import analyze_spec, zoo
from convcost.frontends.config import parse_config
from convcost.frontends.configwrite import config_text
from convcost.frontends.tree import analyze as analyze_network

ZOO = zoo.model_names()


def _advice(model: str, **options: object) -> Advice:
    report = analyze_spec(model)[1]
    return advise(report, model, **options)  # type: ignore[arg-type]


def _reanalysed(report: Report, at: int, candidate: Candidate, settings: Settings) -> Report:
    """The network with the candidate in place, built and analysed whole: the oracle of
    advise's local arithmetic."""
    assert report.graph is not None
    graph = substituted(report.graph, {at: candidate.layers})
    return cost(analyze(graph, report.batch), settings)


SETTINGS = [
    ("default", 1, Settings(device=PRESETS["a100"])),
    ("fp16-fused-batch-2", 2, Settings(precision("fp16"), device=PRESETS["t4"], fuse=True)),
]


@pytest.mark.parametrize("model", ZOO)
@pytest.mark.parametrize(("label", "batch", "settings"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_every_saving_is_the_reanalysed_networks(
    model: str, label: str, batch: int, settings: Settings
) -> None:
    del label  # the case's id
    report = analyze_spec(model, batch=batch, settings=settings)[1]
    for by in ("macs", "params", "memory"):
        advice = advise(report, model, by=by, groups=2, settings=settings)
        spatial = [r for r in report.layers
                   if isinstance(r.layer, Conv) and r.layer.kernel != (1, 1)]  # fmt: skip
        assert len(advice.layers) + advice.depthwise == len(spatial)
        totals = report.totals
        for layer in advice.layers:
            direct = layer.result
            for candidate in layer.candidates:
                if candidate.path is None:
                    assert candidate.network is None and candidate.note
                    continue
                figures = candidate.network
                assert figures is not None
                again = _reanalysed(report, layer.at, candidate, settings).totals
                assert (figures.macs, figures.params, figures.peak_activation_bytes) == (
                    again.macs, again.params, again.peak_activation_bytes)  # fmt: skip
                # Time is a float sum over layers: the same terms, summed in another order.
                assert again.cost is not None
                assert figures.latency_s == pytest.approx(again.cost.latency_s, rel=1e-12)
                path = candidate.path.totals
                assert totals.macs - figures.macs == direct.macs - path.macs
                saving = advice.saving(candidate)
                key = {"memory": "peak_activation_bytes"}.get(by, by)
                before, after = getattr(totals, key), getattr(again, key)
                assert saving == before - after
                assert candidate.suggested == (saving is not None and saving > 0)
                if candidate.kind == "bottleneck" and by != "memory":
                    # b* of the metric ranked by: narrower saves, as wide or wider does not.
                    assert layer.break_even is not None and layer.break_even_metric == by
                    below = Fraction(candidate.value or 0) < layer.break_even.exact()
                    assert candidate.suggested == below
            if layer.best is not None:
                assert layer.best.suggested
                assert advice.saving(layer.best) == max(
                    advice.saving(c) or 0 for c in layer.candidates if c.suggested
                )
        savings = [advice.saving(a.best) or 0 if a.best else -1 for a in advice.layers]
        assert savings == sorted(savings, reverse=True)


def _random_config(rng: random.Random) -> str:
    """A small random network of convs, in-place layers, views, pools and merges, whose
    branches and outputs share buffers in every way the peak's rule knows."""
    size, channels = rng.choice([5, 8, 9]), rng.choice([3, 4, 8])
    lines = [f"input: {size}x{size}x{channels}", "layers:"]
    shapes = {"/": (size, channels)}
    names = ["/"]
    for i in range(rng.randint(2, 10)):
        source = rng.choice([*names[-3:], "/"]) if rng.random() < 0.4 else names[-1]
        side, depth = shapes[source]
        name = f"l{i}"
        draw = rng.random()
        if draw < 0.5:
            k, filters = rng.choice([1, 3, 3, 5]), rng.choice([4, 8, 16])
            stride = rng.choice([1, 1, 2]) if side >= 4 else 1
            lines.append(f"  - {{type: conv, name: {name}, kernel: {k}x{k}, filters: {filters},"
                         f" stride: {stride}, from: {source}}}")  # fmt: skip
            shapes[name] = (-(-side // stride), filters)
        elif draw < 0.65:
            kind = rng.choice(["relu", "bn", "dropout", "sigmoid"])
            lines.append(f"  - {{type: {kind}, name: {name}, from: {source}}}")
            shapes[name] = (side, depth)
        elif draw < 0.75 and side >= 2:
            lines.append(f"  - {{type: maxpool, name: {name}, kernel: 2, from: {source}}}")
            shapes[name] = (side // 2, depth)
        else:
            op = rng.choice(["add", "concat", "mul"])
            if op == "concat":
                other = rng.choice([m for m in names if shapes[m][0] == side])
                shapes[name] = (side, depth + shapes[other][1])
            else:
                other = rng.choice([m for m in names if shapes[m] == (side, depth)])
                shapes[name] = (side, depth)
            lines.append(f"  - {{type: {op}, name: {name}, from: [{source}, {other}]}}")
        names.append(name)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(4))
def test_random_networks_save_what_they_reanalyse_to(seed: int) -> None:
    # Property: on any graph (branches, outputs sharing an in-place layer's or a view's
    # buffer, a conv last or not), each substitute's predicted totals are the re-analysed
    # network's. Seeded, so a failure names its network.
    rng = random.Random(seed)
    for _ in range(100):
        text = _random_config(rng)
        batch, settings = SETTINGS[rng.randrange(len(SETTINGS))][1:]
        report = cost(analyze_network(parse_config(text, "x.yaml"), batch=batch), settings)
        for by in ("memory", "time", "macs"):
            advice = advise(report, "x", by=by, groups=2, settings=settings)
            for layer in advice.layers:
                for candidate in layer.candidates:
                    if candidate.network is None:
                        continue
                    again = _reanalysed(report, layer.at, candidate, settings).totals
                    figures = candidate.network
                    assert again.cost is not None, text
                    assert (figures.macs, figures.params, figures.peak_activation_bytes) == (
                        again.macs, again.params, again.peak_activation_bytes), text  # fmt: skip
                    assert figures.latency_s == pytest.approx(again.cost.latency_s, rel=1e-12)


@pytest.mark.parametrize("model", ["googlenet", "vgg16", "resnet50", "regnet_y_400mf"])
def test_separable_costs_one_over_cout_plus_one_over_k_squared(model: str) -> None:
    # Howard et al. 2017, "MobileNets", section 3.1: a depthwise-separable conv costs
    # 1/N + 1/D_K² of a standard one (N output channels, D_K × D_K kernel).
    advice = _advice(model)
    checked = 0
    for layer in advice.layers:
        if layer.break_even is None:  # a grouped conv: the ratio is of a one-group conv
            continue
        separable = next(c for c in layer.candidates if c.kind == "separable")
        assert separable.path is not None
        cout, k2 = layer.separable_terms
        ratio = Fraction(separable.path.totals.macs, layer.result.macs)
        assert ratio == Fraction(1, cout) + Fraction(1, k2)
        checked += 1
    assert checked


def _written(text: str, tmp_path: Path, name: str = "new.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("model", ZOO)
def test_a_network_written_as_a_config_reads_back_the_same(model: str) -> None:
    report = analyze_spec(model)[1]
    assert report.graph is not None
    again = analyze_network(parse_config(config_text(report.graph), "new.yaml"))
    assert [(r.name, r.layer, r.input_shape, r.output_shape) for r in again.layers] == [
        (r.name, r.layer, r.input_shape, r.output_shape) for r in report.layers
    ]
    assert again.graph is not None
    assert [n.inputs for n in again.graph.nodes] == [n.inputs for n in report.graph.nodes]
    assert again.totals[:5] == report.totals[:5]
    assert diff(report, again).listed(show_all=False) == ()


def test_a_concat_whose_merge_the_reader_would_name_otherwise_is_written_with_from() -> None:
    graph = analyze_spec("inception_3a")[1].graph
    assert graph is not None
    nodes = [n._replace(local="joined") if n.local == "concat1" else n for n in graph.nodes]
    renamed = graph._replace(nodes=tuple(nodes))
    written = config_text(renamed)
    assert "concat:" not in written and "{type: concat, name: joined, from: [" in written
    again = analyze_network(parse_config(written, "new.yaml")).graph
    assert again is not None
    assert [(n.name, n.inputs) for n in again.nodes] == [(n.name, n.inputs) for n in nodes]


DIFFED = [
    ("googlenet", "separable", 2),
    ("googlenet", "bottleneck=CIN/4", 3),
    ("inception_3a", "separable", 2),
    ("resnet50", "grouped=4", 3),
    ("mobilenet_v2", "bottleneck=CIN/2", 1),
    ("unet", "separable", 2),
    ("squeezenet1_0", "separable", 2),
    ("shufflenet_v2_x1_0", "bottleneck=CIN/2", 1),
]


@pytest.mark.parametrize(("model", "substitute", "top"), DIFFED)
def test_diff_of_the_applied_config_lists_the_substituted_layers_only(
    runner: CliRunner, tmp_path: Path, model: str, substitute: str, top: int
) -> None:
    # Concats are written with their branches, so that a merge shows the input it showed.
    written = tmp_path / "new.yaml"
    args = ["advise", model, "--apply", substitute, "--top", str(top), "-o", str(written)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    old, new = analyze_spec(model)[1], analyze_spec(str(written))[1]
    advice = _advice(model, top=top, apply=parse_choice(substitute))
    assert advice.applied is not None
    changed = {name for name, _ in advice.applied.layers}
    before = {r.name for r in old.layers}
    added = {r.name for r in new.layers} - before
    assert len(added) == len(changed) * (0 if substitute.startswith("grouped") else 1)
    listed = {(c.name, c.status) for c in diff(old, new).listed(show_all=False)}
    assert listed == {(n, "changed") for n in changed} | {(n, "added") for n in added}


def test_from_the_separator_alone_reads_the_networks_input() -> None:
    # A layer named input stays a layer: from: input reads it, from: / the network's input.
    config = """input: 8x8x4
layers:
  - {type: conv, kernel: 3, filters: 6, name: input}
  - {type: conv, kernel: 1, filters: 2, from: /, name: a}
  - {type: conv, kernel: 1, filters: 3, from: input, name: b}
  - {type: concat, from: [a, b, /], name: c}
"""
    report = analyze_network(parse_config(config, "x.yaml"))
    assert report.graph is not None
    assert [n.inputs for n in report.graph.nodes] == [(-1,), (-1,), (0,), (1, 2, -1)]
    assert report.layers[-1].output_shape.c == 2 + 3 + 4
    written = config_text(report.graph)
    assert 'from: "/",' in written and 'from: ["/a", "/b", "/"]' in written
    again = analyze_network(parse_config(written, "x.yaml"))
    assert again.graph is not None
    assert again.graph.nodes == report.graph.nodes


def test_apply_writes_a_network_whose_branches_read_its_input(runner: CliRunner) -> None:
    result = runner.invoke(app, ["advise", "inception_3a", "--apply", "separable", "-o", "-"])
    assert (result.exit_code, result.stderr) == (0, "")
    report = analyze_network(parse_config(result.stdout, "new.yaml"))
    assert report.graph is not None
    reads_input = [n.name for n in report.graph.nodes if -1 in n.inputs]
    assert reads_input == ["inception_3a/1x1", "inception_3a/3x3_reduce",
                           "inception_3a/5x5_reduce", "inception_3a/pool"]  # fmt: skip


APPLIED = [
    ("googlenet", "bottleneck=CIN/4", 5),
    ("googlenet", "separable", 3),
    ("resnet18", "bottleneck=CIN/2", 4),
    ("resnet50", "grouped=4", 5),
    ("vgg16", "bottleneck=CIN/4", 5),
    ("vgg16", "bottleneck=64", 2),
    ("alexnet", "separable", 5),
    ("mobilenet_v2", "bottleneck=CIN/2", 1),
]


@pytest.mark.parametrize(("model", "substitute", "top"), APPLIED)
def test_the_applied_config_reanalyses_to_the_predicted_totals(
    runner: CliRunner, tmp_path: Path, model: str, substitute: str, top: int
) -> None:
    out = tmp_path / "new.yaml"
    args = ["advise", model, "--apply", substitute, "--top", str(top), "-o", str(out)]
    result = runner.invoke(app, [*args, "-f", "json"])
    predicted = json.loads(result.stdout)["applied"]
    # Never silent: each layer listed but not substituted is named on stderr, with why.
    notes = "".join(f"convcost advise: not applied to {skip['layer']}: {skip['why']}\n"
                    for skip in predicted["skipped"])  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, notes)
    assert len(predicted["layers"]) + len(predicted["skipped"]) == top
    again = runner.invoke(app, ["analyze", str(out), "-f", "json"])
    assert again.exit_code == 0, again.stderr
    totals = json.loads(again.stdout)["totals"]
    assert (totals["macs"], totals["params"]) == (predicted["macs"], predicted["params"])
    original = json.loads(runner.invoke(app, ["analyze", model, "-f", "json"]).stdout)["totals"]
    choice = parse_choice(substitute)
    option = {"bottleneck": "--width", "grouped": "--groups"}.get(choice.kind)
    extra = [option, str(choice.value)] if option and choice.value else []
    listed = runner.invoke(app, [*args[:2], "--top", str(top), *extra, "-f", "json"])
    saved = sum(
        layer["macs"] - s["macs"]
        for layer in json.loads(listed.stdout)["layers"]
        for s in layer["substitutes"]
        if layer["name"] in predicted["layers"] and s["label"] == _label(choice, layer)
    )
    # MACs are a sum over layers: the network saves what each substituted layer does.
    assert original["macs"] - totals["macs"] == saved
    # diff sees the change; check gates it
    diff = runner.invoke(app, ["diff", model, str(out), "-f", "json"])
    assert diff.exit_code == 0
    assert json.loads(diff.stdout)["totals"]["macs"]["new"] == predicted["macs"]
    gate = runner.invoke(app, ["check", str(out), "--max-macs", str(predicted["macs"])])
    assert gate.exit_code == 0
    assert runner.invoke(app, ["check", str(out), "--max-macs",
                               str(predicted["macs"] - 1)]).exit_code == 1  # fmt: skip


def _label(choice: Choice, layer: dict[str, object]) -> str:
    if choice.kind == "bottleneck" and choice.divisor:
        channels = int(str(layer["input"]).split("×")[2])
        return f"bottleneck {channels // choice.divisor} (Cin/{choice.divisor})"
    return "separable" if choice.kind == "separable" else f"{choice.kind} {choice.value}"


@pytest.mark.usefixtures("torch_present")
@pytest.mark.parametrize(("model", "substitute", "top"), APPLIED[:5])
def test_the_applied_config_builds_in_pytorch(model: str, substitute: str, top: int) -> None:
    from tests.torch_bridge import check_network_against_torch

    advice = _advice(model, top=top, apply=parse_choice(substitute))
    assert advice.applied is not None
    network = parse_config(config_text(advice.applied.graph), "new.yaml")
    report = analyze_network(network)
    assert report.totals[:5] == advice.applied.report.totals[:5]
    check_network_against_torch(network, report)


def test_layers_names_the_layers_listed_and_applied(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    result = runner.invoke(app, ["advise", "resnet18", "--layers", "layer1.1.conv2,conv1",
                                 "--apply", "separable", "-o", str(out), "-f", "json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [layer["name"] for layer in data["layers"]] == ["layer1.1.conv2", "conv1"]
    assert data["applied"]["layers"] == ["layer1.1.conv2", "conv1"]
    text = out.read_text(encoding="utf-8")
    assert "name: conv1_dw" in text and "name: conv2_dw" in text


def test_apply_to_stdout_writes_the_config_only(runner: CliRunner) -> None:
    result = runner.invoke(app, ["advise", "vgg16", "--top", "1", "--apply", "bottleneck=16",
                                 "-o", "-"])  # fmt: skip
    assert result.exit_code == 0
    network = parse_config(result.stdout, "new.yaml")
    names = [r.name for r in analyze_network(network).layers]
    assert names[names.index("conv9") - 1] == "conv9_reduce"


def test_an_inserted_name_that_is_taken_gets_a_number(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text("input: 16x16x32\nlayers:\n  - conv 3x3 32 name=a_reduce\n"
                    "  - conv 3x3 32 name=a\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["advise", str(spec), "--layers", "a", "--apply",
                                 "bottleneck=CIN/2", "-o", "-"])  # fmt: skip
    assert result.exit_code == 0
    assert [r.name for r in analyze_network(parse_config(result.stdout, "x.yaml")).layers] == [
        "a_reduce",
        "a_reduce_2",
        "a",
    ]


def _last_line(stdout: str) -> str:
    """The summary line that ends the output, its wrapping undone (the runner's 100 columns)."""
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("applied "))
    return " ".join(lines[start:])


def test_vgg16_top_2_table() -> None:
    # Off a terminal, COLUMNS unset: the table at its natural width.
    natural = CliRunner(env={"COLUMNS": None, "NO_COLOR": "1", "TERM": "dumb"})
    result = natural.invoke(app, ["advise", "vgg16", "--top", "2"])
    assert result.exit_code == 0
    assert result.stdout == VGG16_TOP_2


@pytest.mark.parametrize("columns", [40, 60, 80, 100])
def test_the_table_fits_the_width_names_whole(columns: int) -> None:
    narrow = CliRunner(env={"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"})
    result = narrow.invoke(app, ["advise", "googlenet", "--top", "3", "--width", "16"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= columns
    for name in ("conv2/3x3", "inception_3b/3x3", "conv1/7x7_s2", "separable", "best"):
        assert name in result.stdout  # never cut or split
    assert "…" not in result.stdout


def test_a_terminal_too_narrow_for_any_table_gets_a_block_per_row() -> None:
    narrow = CliRunner(env={"COLUMNS": "30", "NO_COLOR": "1", "TERM": "dumb"})
    result = narrow.invoke(app, ["advise", "vgg16", "--top", "1"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "1  conv9" in lines  # the block's head: rank and layer
    assert max(map(len, lines)) <= 30 and "─" not in result.stdout


VGG16_TOP_2 = """\
vgg16: the top 2 of 13 spatial convs by what their best substitute saves in MACs (network: 15,470,264,320)

 #  layer   conv       input               MACs     b*  substitute                 MACs after          saves    share  note
 ──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
 1  conv9   3x3 s1 p1  28×28×512  1,849,688,064  460.8  bottleneck 256 (Cin/2)  1,027,604,480    822,083,584   5.31 %
                                                        bottleneck 128 (Cin/4)    513,802,240  1,335,885,824   8.64 %
                                                        separable                 209,133,568  1,640,554,496  10.60 %  best
 2  conv10  3x3 s1 p1  28×28×512  1,849,688,064  460.8  bottleneck 256 (Cin/2)  1,027,604,480    822,083,584   5.31 %
                                                        bottleneck 128 (Cin/4)    513,802,240  1,335,885,824   8.64 %
                                                        separable                 209,133,568  1,640,554,496  10.60 %  best

substitutes: a 1×1 bottleneck to b channels before the conv, a depthwise K×K then a 1×1 to Cout (separable), a grouped conv; inserted convs take a bias as the conv has one, no BatchNorm; suggested where they save in the metric ranked by
b*: the bottleneck width at which it costs the conv's MACs (narrower saves)
"""  # noqa: E501


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--apply", "pruned", "-o", "x.yaml"],
         "convcost advise: --apply pruned: unknown substitute 'pruned'; give bottleneck=CIN/2, "
         "bottleneck=CIN/4, bottleneck=WIDTH, separable or grouped=G"),
        (["--apply", "grouped=0", "-o", "x.yaml"],
         "convcost advise: --apply grouped=0: grouped needs a number of groups, a whole number "
         "of at least 2 (got '0'); give bottleneck=CIN/2, bottleneck=CIN/4, bottleneck=WIDTH, "
         "separable or grouped=G"),
        (["--apply", "separable"],
         "convcost advise: --apply and -o go together: --apply SUBSTITUTE -o FILE"),
        (["--layers", "conv99"],
         "convcost advise: --layers: no layer 'conv99'; did you mean 'conv9'? give full names as "
         "analyze prints them"),
        (["--top", "2", "--layers", "conv9"],
         "convcost advise: give --top N or --layers NAME,..., not both"),
        (["--by", "time"],
         "convcost advise: --by time is a roofline time: give --device NAME (convcost devices "
         "lists them) or --peak and --bandwidth"),
        (["--groups", "1"],
         "convcost advise: Invalid value for '--groups': 1 is not in the range "
         "2<=x<=1099511627776. (see convcost advise --help)"),
        (["--width", "0"],
         "convcost advise: Invalid value for '--width': 0 is not in the range 1<=x<=1099511627776. "
         "(see convcost advise --help)"),
        (["--top", "0"],
         "convcost advise: Invalid value for '--top': 0 is not in the range 1<=x<=1099511627776. "
         "(see convcost advise --help)"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_with_one_line(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["advise", "vgg16", *args])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_the_api_gives_what_the_command_prints(runner: CliRunner) -> None:
    import convcost

    found = convcost.advise("vgg16", top=5, apply="bottleneck=CIN/4")
    printed = runner.invoke(app, ["advise", "vgg16", "--top", "5", "--apply",
                                  "bottleneck=CIN/4", "-o", "-"]).stdout  # fmt: skip
    assert found.config_text() == printed
    # By hand: conv4, conv6, conv7, conv9 and conv10 each cost H·W·9·C·C = 1,849,688,064
    # (C = 128 at 112×112, 256 at 56×56, 512 at 28×28); behind a C/4 bottleneck,
    # H·W·C·C/4 + H·W·9·(C/4)·C = 513,802,240: 1,335,885,824 saved five times from vgg16's
    # 15,470,264,320 (the zoo table's, torchvision's) leaves 8,790,835,200.
    assert found.to_dict()["applied"]["macs"] == found.applied_macs == 8_790_835_200
    assert found.applied_params == 133_991_624


def test_advise_analyses_no_whole_network_but_to_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    # A substitute keeps its conv's output shape: what it saves is worked out locally, in
    # linear time for the whole network (benchmarks/run.py times it against analyze).
    import convcost.analyses.advise as module

    analysed: list[int] = []
    real = module.analyze  # type: ignore[attr-defined]

    def counting(graph: Graph, batch: int = 1) -> Report:
        analysed.append(len(graph.nodes))
        return real(graph, batch)

    monkeypatch.setattr(module, "analyze", counting)
    report = analyze_spec("resnet50")[1]
    for by in ("macs", "params", "memory"):
        advise(report, "resnet50", by=by, groups=2)
    assert analysed and max(analysed) <= 2
    analysed.clear()
    advise(report, "resnet50", top=3, apply=parse_choice("separable"))
    assert analysed.count(len(report.layers) + 3) == 1  # --apply: the network made, once


HOSTILE_NAMES = [
    "a\x7fb", "nel\x85x", "ls\u2028x", "ps\u2029x", "tab\tx", "nl\nx", "cr\rx", "bell\x07",
    "a: b", "#x", "- y", "yes", "No", "on", "null", "1e3", "0x1f", "~", "*star", "&anchor",
    "!tag", "'single'", '"double"', "back\\slash", "[x]", "{x}", "a,b", "%x", "@x", "`x`",
    "trailing ", " leading", "ünïcödé", "名前", "emoji😀", "rtl\u202eok", "zw\u200bj",
    "input", "x\n", "|pipe", ">fold", "?q",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_name_reads_back_as_written(name: str) -> None:
    graph = chain(Shape(8, 8, 4), ((name, Conv(kernel=(3, 3), filters=4)),
                                   ("b", Conv(kernel=(1, 1), filters=4))))  # fmt: skip
    graph = graph._replace(nodes=(*graph.nodes[:1], graph.nodes[1]._replace(inputs=(0,))))
    written = config_text(graph, name, name)
    assert written.isascii()
    config = parse_config(written, "x.yaml")
    again = analyze_network(config)
    assert [r.name for r in again.layers] == [name, "b"]
    assert (config.name, config.description) == (name, name)


def _write(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_name_with_a_bar_stays_one_markdown_cell(runner: CliRunner, tmp_path: Path) -> None:
    spec = _write(tmp_path, 'input: 16x16x8\nlayers:\n  - {type: conv, kernel: 3, filters: 8, '
                            'name: "a|b"}\n')  # fmt: skip
    result = runner.invoke(app, ["advise", spec, "-f", "markdown"])
    assert result.exit_code == 0
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 1 ")]
    # As analyze escapes it: GitHub splits cells at a bare |, code spans too.
    assert rows == [
        # 16·16·9·8·8 = 147,456 MACs; behind 4: 16·16·8·4 + 16·16·9·4·8 = 81,920
        "| 1 | `a\\|b` | 3x3 s1 same | 16×16×8 | 147,456 | 7.2 | bottleneck 4 (Cin/2) | 81,920 "
        "| 65,536 | 44.44 % |  |"
    ]
    cells = rows[0].replace("\\|", "").split("|")
    assert len(cells) == len(result.stdout.splitlines()[2].split("|"))


@pytest.mark.parametrize("value", ["²", "１２", "٣", "12.0", "-4", "0x10", " "])
def test_apply_takes_ascii_whole_numbers_only(runner: CliRunner, value: str) -> None:
    result = runner.invoke(app, ["advise", "vgg16", "--apply", f"bottleneck={value}", "-o", "-"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(f"convcost advise: --apply bottleneck={value}: bottleneck "
                                    "needs a width, a whole number of at least 1")  # fmt: skip
    assert result.stderr.count("\n") == 1


def test_a_depthwise_conv_on_one_channel_is_depthwise(runner: CliRunner) -> None:
    result = runner.invoke(app, ["advise", "16x16x1 | conv 3x3 8 dw | conv 3x3 8"])
    assert result.exit_code == 0, result.stderr
    assert "not advised: 1 depthwise conv (already separable)\n" in result.stdout
    assert " 1  conv2 " in result.stdout and "conv1 " not in result.stdout


def test_no_spatial_conv_says_so(runner: CliRunner) -> None:
    result = runner.invoke(app, ["advise", "16x16x8 | conv 1x1 8 | maxpool 2"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == ("16x16x8 | conv 1x1 8 | maxpool 2: no spatial convolution to "
                             "advise on (1 1×1 conv, 0 depthwise convs)\n")  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "substitute", "message"),
    [
        ("32x32x64 | conv 3x3 64", "bottleneck=64",
         "convcost advise: --apply bottleneck=64: does not apply to the layer listed (conv1: it "
         "saves no MACs (it would add 4,194,304)); no config written"),
        ("16x16x8 | conv 3x3 8", "grouped=3",
         "convcost advise: --apply grouped=3: does not apply to the layer listed (conv1: 3 "
         "groups do not divide the 8 input channels); no config written"),

        ("16x16x8 | conv 1x1 8", "separable",
         "convcost advise: --apply separable: the network has no spatial convolution to apply "
         "it to; no config written"),
        ("16x16x8 | conv 3x3 8", "grouped=1",
         "convcost advise: --apply grouped=1: grouped needs a number of groups, a whole number "
         "of at least 2 (got '1'); give bottleneck=CIN/2, bottleneck=CIN/4, bottleneck=WIDTH, "
         "separable or grouped=G"),
    ],
)  # fmt: skip
def test_apply_writes_nothing_that_does_not_pay(
    runner: CliRunner, tmp_path: Path, spec: str, substitute: str, message: str
) -> None:
    out = tmp_path / "new.yaml"
    result = runner.invoke(app, ["advise", spec, "--apply", substitute, "-o", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")
    assert not out.exists()


def test_apply_skips_a_layer_it_does_not_pay_for_and_says_so(runner: CliRunner) -> None:
    # conv1: 64→64 at 32×32, b* = 9·64·64/(64 + 9·64) = 57.6: a bottleneck of 64 costs more;
    # conv2: 256→256, b* = 230.4: it pays.
    spec = "32x32x64 | conv 3x3 64 | conv 3x3 256 | conv 3x3 256"
    result = runner.invoke(app, ["advise", spec, "--layers", "conv1,conv3", "--apply",
                                 "bottleneck=64", "-o", "-"])  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr == ("convcost advise: not applied to conv1: it saves no MACs (it would "
                             "add 4,194,304)\n")  # fmt: skip
    names = [r.name for r in analyze_network(parse_config(result.stdout, "x.yaml")).layers]
    assert names == ["conv1", "conv2", "conv3_reduce", "conv3"]


def test_csv_writes_as_analyze_does(runner: CliRunner) -> None:
    result = runner.invoke(app, ["advise", "vgg16", "--top", "1", "-f", "csv"])
    rows = result.stdout.splitlines()
    share = repr(822083584 / 15470264320)
    assert rows[1] == ("1,conv9,3x3 s1 p1,28x28x512,28x28x512,1849688064,2359808,460.8,2304/5,"
                       f"macs,bottleneck,256,bottleneck 256 (Cin/2),1027604480,1311488,822083584,"
                       f"{share},yes,no,")  # fmt: skip
    timed = runner.invoke(app, ["advise", "vgg16", "--top", "1", "-f", "csv", "--by", "time",
                                "--device", "a100"]).stdout.splitlines()  # fmt: skip
    assert timed[1].split(",")[3:8] == ["28x28x512", "28x28x512", "1849688064", "2359808",
                                        "460.8"]  # fmt: skip


@pytest.mark.parametrize("by", ["macs", "params", "memory"])
def test_csv_carries_the_json_records_fields_by_their_names(runner: CliRunner, by: str) -> None:
    args = ["advise", "googlenet", "--top", "3", "--by", by]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    layers = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)["layers"]
    records = [(layer, sub) for layer in layers for sub in layer["substitutes"]]
    assert len(rows) == len(records) > 3
    renamed = {"macs": "substitute_macs", "params": "substitute_params"}
    for row, (layer, sub) in zip(rows, records, strict=True):
        fields = {k: v for k, v in layer.items() if k != "substitutes"}
        fields |= {renamed.get(k, k): v for k, v in sub.items() if k != "layers"}
        assert list(row) == list(fields)
        for key, value in fields.items():
            if key in ("input", "output"):
                value = value.replace("×", "x")
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            assert row[key] == ("" if value is None else str(value)), key


def test_by_params_ranks_by_the_params_break_even(runner: CliRunner) -> None:
    # vgg16 conv9: 3×3, 512 → 512, biased. MACs b* = 9·512·512/(512 + 9·512) = 460.8;
    # params b* = 9·512·512/(512 + 9·512 + 1) = 2,359,296/5,121 = 460.7 (the reduce's bias).
    found = advise(analyze_spec("vgg16")[1], "vgg16", by="params", widths=(460, 461))
    conv9 = next(a for a in found.layers if a.result.name == "conv9")
    assert conv9.break_even == (2_359_296, 5_121) and conv9.break_even_metric == "params"
    by_width = {c.value: c for c in conv9.candidates if c.kind == "bottleneck"}
    assert by_width[460].suggested and (by_width[460].saving or 0) > 0
    assert not by_width[461].suggested and (by_width[461].saving or 0) < 0
    table = runner.invoke(app, ["advise", "vgg16", "--by", "params", "--top", "1"]).stdout
    assert "params after" in table and "MACs after" not in table
    assert "b*: the bottleneck width at which it costs the conv's params" in table


def test_the_api_takes_one_name_and_one_width() -> None:
    import convcost

    found = convcost.advise("vgg16", layers="conv9", widths=8).analysis
    assert [a.result.name for a in found.layers[: found.shown]] == ["conv9"]
    assert [c.label for c in found.layers[0].candidates][2] == "bottleneck 8"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"groups": 1}, "groups=1: a grouped conv has at least 2 groups"),
        ({"widths": 8.5}, "widths: give a whole number or several, not 8.5"),
        ({"layers": "nosuch"}, "layers: no layer 'nosuch'; give full names as analyze prints "
                               "them"),
        ({"by": "speed"}, "by='speed': rank by macs, params, memory or time"),
    ],
)  # fmt: skip
def test_the_api_refuses_what_the_command_refuses(options: dict[str, object], message: str) -> None:
    import convcost

    with pytest.raises(ConvcostError) as caught:
        convcost.advise("vgg16", **options)  # type: ignore[arg-type]
    assert caught.value.message == message


def test_substituting_keeps_what_a_concat_shows_as_its_input() -> None:
    graph = chain(Shape(8, 8, 4), (("a", Conv(kernel=(3, 3), filters=4)),
                                   ("b", Conv(kernel=(3, 3), filters=4))))  # fmt: skip
    merge = graph.nodes[1]._replace(local="m", layer=Merge(op="concat"), inputs=(0, 1),
                                    shown_input=1)  # fmt: skip
    graph = graph._replace(nodes=(*graph.nodes, merge))
    made = substituted(graph, {1: (("b_reduce", Conv(kernel=(1, 1), filters=2)),
                                   ("b", Conv(kernel=(3, 3), filters=4)))})  # fmt: skip
    assert [n.name for n in made.nodes] == ["a", "b_reduce", "b", "m"]
    assert made.nodes[3].inputs == (0, 2) and made.nodes[3].shown_input == 2


def test_the_table_says_what_was_applied(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "new.yaml"
    result = runner.invoke(app, ["advise", "vgg16", "--layers", "conv9", "--apply",
                                 "bottleneck=CIN/4", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0
    # conv9: 1,849,688,064 MACs, 513,802,240 behind Cin/4 (see the API test below)
    assert _last_line(result.stdout) == (
        "applied bottleneck=CIN/4 to 1 layer: MACs 15,470,264,320 → 14,134,378,496 (−8.6 %), "
        "params 138,357,544 → 136,653,736 (−1.2 %)"
    )


def test_a_wide_name_keeps_the_columns_aligned(runner: CliRunner, tmp_path: Path) -> None:
    from rich.cells import cell_len

    config = tmp_path / "wide.yaml"
    config.write_text("input: 16x16x8\nlayers:\n  - {type: conv, kernel: 3, filters: 8, "
                      "name: 中文卷积层}\n  - {type: conv, kernel: 3, filters: 8, name: c2}\n",
                      encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["advise", str(config)])
    assert result.exit_code == 0, result.stderr
    named = [line for line in result.stdout.splitlines() if "3x3 s1" in line]
    assert len(named) == 2  # the two convs' rows: their next column starts in the same cell
    assert len({cell_len(row.split("3x3 s1")[0]) for row in named}) == 1


@pytest.mark.parametrize("command", ["analyze", "advise"])
@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("net.yaml", "input: 8x8x4\nlayers:\n  - {type: conv, name: a, kernel: 3, filters: 4}\n"
                     "  - {type: conv, name: c, kernel: 3, filters: 4, from: [a, /]}\n", "4:56"),
        ("net.json", '{"input": "8x8x4", "layers": [{"type": "conv", "name": "a", "kernel": 3, '
                     '"filters": 4}, {"type": "conv", "kernel": 3, "filters": 4, '
                     '"from": ["a", "/"]}]}', "1:141"),
    ],
)  # fmt: skip
def test_a_conv_reading_several_layers_is_refused_where_written(
    runner: CliRunner, tmp_path: Path, command: str, name: str, text: str, where: str
) -> None:
    # It would read its first input alone (analyze) and has no one input to substitute.
    spec = _write(tmp_path, text, name)
    result = runner.invoke(app, [command, spec])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"{spec}:{where}: from: a conv reads one layer, but this names 2; only a merge (concat, "
        "add, mul) reads several: merge them first ({type: add, from: [a, b], name: m}) and "
        "give the conv from: m, or name one layer\n"
    )


NAMED = """\
name: tiny net
description: what it was
budget: {macs: 40M, params: 100k, latency: 2ms}
input: 32x32x64
layers:
  - conv 3x3 64 name=a
  - conv 3x3 64 name=b
"""


@pytest.mark.parametrize(
    ("options", "description"),
    [
        ([], "tiny net with bottleneck=CIN/4 applied to a, b (convcost advise --apply)"),
        (["--width-multiplier", "0.5", "--no-bias"],
         "tiny net with bottleneck=CIN/4 applied to b, a (convcost advise --apply); at width "
         "multiplier 0.5, no bias, which this config's widths and input hold: analyse it "
         "without those options"),
        (["--input-shape", "16x16x64"],
         "tiny net with bottleneck=CIN/4 applied to a, b (convcost advise --apply); at input "
         "16×16×64, which this config's widths and input hold: analyse it without those "
         "options"),
    ],
)  # fmt: skip
def test_the_applied_config_keeps_the_name_and_budget_and_says_what_it_holds(
    runner: CliRunner, tmp_path: Path, options: list[str], description: str
) -> None:
    spec, out = _write(tmp_path, NAMED), tmp_path / "new.yaml"
    result = runner.invoke(app, ["advise", spec, "--apply", "bottleneck=CIN/4", "-o", str(out),
                                 "--device", "a100", *options])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    network = parse_config(out.read_text(encoding="utf-8"), str(out))
    source = parse_config(NAMED, spec)
    assert (network.name, network.description) == ("tiny net", description)
    assert [limit[:2] for limit in network.budget] == [limit[:2] for limit in source.budget]
    # advise → check: the new network is held to the old one's budget, and passes it
    gate = runner.invoke(app, ["check", str(out), "--device", "a100"])
    assert gate.exit_code == 0, gate.stdout


def test_the_api_writes_the_config_the_command_writes(runner: CliRunner, tmp_path: Path) -> None:
    import convcost

    spec = _write(tmp_path, NAMED)
    args = ["--apply", "bottleneck=CIN/4", "-o", "-", "--width-multiplier", "0.5", "--no-bias"]
    printed = runner.invoke(app, ["advise", spec, *args]).stdout
    found = convcost.advise(spec, apply="bottleneck=CIN/4", width_multiplier=0.5, no_bias=True)
    assert found.config_text() == printed
    assert printed.startswith('name: "tiny net"\ndescription: "tiny net with ')


def test_apply_by_memory_says_the_peak_before_and_after(runner: CliRunner, tmp_path: Path) -> None:
    # 16×16 fp32: the input and conv1's output 32,768 B each, conv2's 65,536: its step
    # peaks at 98,304. Behind a 1×1 to 8 (8,192 B) conv2's step holds 8,192 + 65,536.
    spec, out = "16x16x32 | conv 3x3 32 | conv 3x3 64", tmp_path / "new.yaml"
    args = ["advise", spec, "--by", "memory", "--apply", "bottleneck=CIN/4", "-o", str(out)]
    table = runner.invoke(app, args)
    assert _last_line(table.stdout) == (
        "applied bottleneck=CIN/4 to 1 layer: MACs 7,077,888 → 3,604,480 (−49.1 %), params "
        "27,744 → 14,184 (−48.9 %), peak memory 98,304 → 73,728 (−25.0 %)"
    )
    applied = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)["applied"]
    again = json.loads(runner.invoke(app, ["analyze", str(out), "-f", "json"]).stdout)["totals"]
    assert applied["peak_activation_bytes"] == {"before": 98_304, "after": 73_728}
    assert again["peak_activation_bytes"] == 73_728
    timed = runner.invoke(app, ["advise", spec, "--by", "time", "--device", "a100", "--apply",
                                "separable", "-o", str(out), "-f", "json"])  # fmt: skip
    latency = json.loads(timed.stdout)["applied"]["latency_s"]
    again = json.loads(runner.invoke(app, ["analyze", str(out), "-f", "json", "--device",
                                           "a100"]).stdout)["totals"]  # fmt: skip
    assert latency["after"] == pytest.approx(again["latency_s"], rel=1e-12)
    assert "macs" in json.loads(timed.stdout)["applied"]


def test_a_substitute_that_leaves_the_peak_as_it_is_is_said_so(runner: CliRunner) -> None:
    # conv1 behind a 1×1 to 8: its steps hold at most 32,768 + 32,768; the peak stays
    # conv2's 98,304 (see the test above).
    result = runner.invoke(app, ["advise", "16x16x32 | conv 3x3 32 | conv 3x3 64", "--by",
                                 "memory", "--layers", "conv1", "--apply", "bottleneck=CIN/4",
                                 "-o", "-"])  # fmt: skip
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "convcost advise: --apply bottleneck=CIN/4: does not apply to the layer listed (conv1: "
        "it saves no peak memory (it would be the same)); no config written\n"
    )
