"""The graph core: explicit wiring (from:), merges, several outputs, and the errors of a
graph, through plain calls and the command line; an FPN-like config against PyTorch."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.analysis import analyze
from convcost.core.errors import ConvcostError
from convcost.core.graph import INPUT, Graph, GraphNode, chain
from convcost.core.kinds import build_layer
from convcost.core.kinds.merges import Merge
from convcost.core.report import Report
from convcost.core.shapes import Shape
from convcost.frontends.config import parse_config

CONFIGS = Path(__file__).parent / "configs"


def _analyze(text: str) -> Report:
    from convcost.frontends.tree import analyze as analyze_tree

    return analyze_tree(parse_config(text, "net.yaml", {}))


def test_chain_is_a_stack() -> None:
    conv = build_layer("conv", {"kernel": "5x5", "filters": 32})
    report = analyze(chain(Shape(28, 28, 192), [("conv", conv)]))
    assert report.totals.macs == 120_422_400
    assert report.graph is not None
    assert [node.inputs for node in report.graph.nodes] == [(INPUT,)]


def test_squeeze_and_excitation_scales_each_channel() -> None:
    """mul broadcasts a 1×1×C gate over H×W×C, as a squeeze-and-excitation block does."""
    layer = build_layer
    nodes = (
        GraphNode("", "conv", layer("conv", {"kernel": 3, "filters": 64}), (INPUT,), -1, 0),
        GraphNode("", "gap", layer("gap", {}), (0,), -1, 0),
        GraphNode("", "fc1", layer("conv", {"kernel": 1, "filters": 16}), (1,), -1, 0),
        GraphNode("", "fc2", layer("conv", {"kernel": 1, "filters": 64}), (2,), -1, 0),
        GraphNode("", "gate", layer("sigmoid", {}), (3,), -1, 0),
        GraphNode("", "scale", Merge(op="mul"), (0, 4), -1, 0),
    )
    report = analyze(Graph(Shape(14, 14, 32), nodes))
    assert report.output_shape == Shape(14, 14, 64)
    assert [r.output_shape for r in report.layers][-2:] == [Shape(1, 1, 64), Shape(14, 14, 64)]
    assert report.totals.macs == 14 * 14 * 64 * 9 * 32 + 64 * 16 + 16 * 64


def test_several_outputs_are_reported_and_all_nodes_counted() -> None:
    report = _analyze(
        "input: 8x8x4\nlayers:\n  - conv 3x3 8 name=trunk\n  - conv 1x1 2 name=boxes\n"
        "  - {type: conv, kernel: 1, filters: 3, from: trunk, name: classes}\n"
    )
    assert [r.name for r in report.outputs] == ["boxes", "classes"]
    assert report.totals.macs == 64 * (8 * 9 * 4 + 2 * 8 + 3 * 8)


def test_block_layers_read_their_own_names() -> None:
    """A name is looked up in the enclosing groups first: each call of a block reads its own
    layers, whatever the call is named; a leading '/' names a layer at the top."""
    report = _analyze(
        "input: 8x8x4\nblocks:\n  pair:\n    layers:\n      - conv 3x3 4 name=x\n"
        "      - conv 3x3 4 name=y\n      - {type: add, from: [x, y]}\n"
        "      - {type: add, from: [/x, add1]}\n"
        "layers:\n  - conv 3x3 4 name=x\n  - pair: {name: a}\n  - pair: {name: b}\n"
    )
    assert report.graph is not None
    nodes = report.graph.nodes
    wiring = {node.name: tuple(nodes[i].name for i in node.inputs) for node in nodes}
    assert wiring["a/add1"] == ("a/x", "a/y")
    assert wiring["b/add1"] == ("b/x", "b/y")
    assert wiring["b/add2"] == ("x", "b/add1")


def _refusal(layer: str) -> str:
    text = (
        "input: 8x8x4\nlayers:\n  - conv 3x3 4 name=c1\n  - conv 3x3 4 s2 name=c2\n"
        f"  - {layer}\n  - conv 1x1 4 name=later\n"
    )
    with pytest.raises(ConvcostError) as caught:
        _analyze(text)
    return caught.value.render()


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("{type: add, from: [c1, nope]}",
         "net.yaml:5:28: from: 'nope' names no layer before this one (write a name as analyze "
         "prints it, or '/', the separator alone, for the network's input)"),
        ("{type: add, from: [c1, later]}",
         "net.yaml:5:28: from: 'later' names 'later', which comes later; a layer reads only "
         "layers before it"),
        ("{type: add, from: [c1, c2]}",
         "net.yaml:5:12: add 'add1': input 2 ('c2') gives 4×4×4 but input 1 ('c1') gives "
         "8×8×4; elementwise inputs must have the same shape, or be 1×1×C to scale each "
         "channel"),
        ("{type: concat, from: [c1, c2]}",
         "net.yaml:5:12: concat 'concat1': input 2 ('c2') gives 4×4×4 but input 1 ('c1') "
         "gives 8×8×4; the inputs' height and width must agree"),
        ("{type: add, from: c1}",
         "net.yaml:5:12: add 'add1' reads 1 input; a merge reads two or more (from: [NAME, "
         "NAME])"),
        ("{type: add, from: []}",
         "net.yaml:5:23: from: names no layer; write from: NAME or from: [NAME, NAME]"),
        ("{type: conv, kernel: 1, filters: 4, from: [c1, 3.5]}",
         "net.yaml:5:52: from: expected a layer's name (as analyze prints it), got the scalar "
         "3.5"),
        ("group: [{type: relu, from: g}]\n    name: g",
         "net.yaml:5:32: from: 'g' names 'g', a group this layer is in, which is not finished "
         "here; a layer reads only layers before it"),
    ],
)  # fmt: skip
def test_graph_errors_are_located(layer: str, message: str) -> None:
    assert _refusal(layer) == message


def test_a_block_call_takes_no_from() -> None:
    text = (
        "input: 8x8x4\nblocks:\n  b: {layers: [relu]}\nlayers:\n  - conv 3x3 4 name=c1\n"
        "  - b: {from: c1}\n"
    )
    with pytest.raises(ConvcostError) as caught:
        _analyze(text)
    assert caught.value.render() == (
        "net.yaml:6:15: from: names what a layer reads; a block call reads the layer before "
        "it (put from: on the block's first layer)"
    )


def test_cli_reads_a_graph_and_exits_2_on_a_bad_link(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 8x8x4\nlayers:\n  - conv 3x3 4\n  - {type: add, from: [conv1, x]}\n")
    result = runner.invoke(app, ["analyze", str(bad)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"{bad}:4:31: from: 'x' names no layer before this one (write a name as analyze "
        "prints it, or '/', the separator alone, for the network's input)\n"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('input: 8x8x4\nlayers:\n  - {type: relu, name: "/"}\n',
         "net.yaml:3:12: a layer or group cannot be named '/', the separator alone: from: '/' "
         "reads the network's input"),
        ('input: 8x8x4\nseparator: "."\nlayers:\n  - relu name=a\n  - name: "."\n'
         "    group: [relu]\n",
         "net.yaml:6:5: a layer or group cannot be named '.', the separator alone: from: '.' "
         "reads the network's input"),
        ('input: 8x8x4\nseparator: "."\nlayers:\n  - relu name=a\n'
         "  - {type: relu, from: /}\n",
         "net.yaml:5:24: from: '/' names no layer before this one (write a name as analyze "
         "prints it, or '.', the separator alone, for the network's input)"),
    ],
)  # fmt: skip
def test_the_separator_alone_names_the_input_and_nothing_else(config: str, message: str) -> None:
    with pytest.raises(ConvcostError) as caught:
        _analyze(config)
    assert caught.value.render() == message


def test_fpn_like_config_matches_a_torch_fpn() -> None:
    """Three lateral from: links, two top-down upsample-and-add merges, three outputs:
    against an FPN written in PyTorch by hand (not built from convcost's graph)."""
    pytest.importorskip("torch", reason="the cross-check needs torch (.[test])")
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    from tests.torch_bridge import check_network_against_torch

    report = _analyze((CONFIGS / "fpn.yaml").read_text(encoding="utf-8"))

    def stage(cin: int, cout: int, stride: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.ReLU()]

    class FPN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(*stage(3, 16, 2))
            self.c3 = nn.Sequential(*stage(16, 32, 2), *stage(32, 32, 1))
            self.c4 = nn.Sequential(*stage(32, 64, 2), *stage(64, 64, 1))
            self.c5 = nn.Sequential(*stage(64, 128, 2), *stage(128, 128, 1))
            self.lateral = nn.ModuleList(nn.Conv2d(c, 32, 1) for c in (32, 64, 128))
            self.out = nn.ModuleList(nn.Conv2d(32, 32, 3, 1, 1) for _ in range(3))
            self.up = nn.Upsample(scale_factor=2, mode="nearest")

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            c3 = self.c3(self.stem(x))
            c4 = self.c4(c3)
            c5 = self.c5(c4)
            l3, l4, l5 = (lateral(c) for lateral, c in zip(self.lateral, (c3, c4, c5), strict=True))
            p4 = l4 + self.up(l5)
            p3 = l3 + self.up(p4)
            return [self.out[2](l5), self.out[1](p4), self.out[0](p3)]

    model = FPN().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        outputs = model(torch.zeros(1, 3, 64, 64))
    assert [r.name for r in report.outputs] == ["p5", "p4", "p3"]
    assert [r.output_shape.as_list() for r in report.outputs] == [
        [out.shape[2], out.shape[3], out.shape[1]] for out in outputs
    ]
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.buffers == sum(b.numel() for b in model.buffers() if b.is_floating_point())
    assert 2 * report.totals.macs == counter.get_total_flops()
    check_network_against_torch(None, report)


def test_totals_carry_exactly_the_per_layer_metrics() -> None:
    """The analysis sums what the metrics table says a layer carries, into Totals' fields."""
    from convcost.core.metrics import counted
    from convcost.core.report import COUNTED

    assert tuple(metric.key for metric in counted()) == COUNTED


def test_a_reader_may_hand_over_a_graph() -> None:
    """A front end that reads a real graph builds the Graph itself; it is analysed as is."""
    from convcost.frontends import Loaded, analyze_loaded

    conv = build_layer("conv", {"kernel": "5x5", "filters": 32})
    report = analyze_loaded(Loaded(chain(Shape(28, 28, 192), [("conv", conv)])))
    assert report.totals.macs == 120_422_400


def test_group_totals_are_their_layers_sums() -> None:
    report = _analyze((CONFIGS / "fpn.yaml").read_text(encoding="utf-8"))
    for group in report.groups:
        inside = [r for r in report.layers if r.name.startswith(group.name + "/")]
        assert group.totals.macs == sum(r.macs for r in inside)
        assert group.totals.activations == sum(r.activations for r in inside)
        assert group.output_shape == inside[-1].output_shape
    assert [g.name for g in report.groups] == ["c3", "c4", "c5"]


SEVERAL = (
    "from: a conv reads one layer, but this names 2; only a merge (concat, add, mul) reads "
    "several: merge them first ({type: add, from: [a, b], name: m}) and give the conv from: m, "
    "or name one layer"
)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{group: [conv 3x3 8 p1], from: c1}",
         "net.yaml:5:30: from: goes with the layer's settings: {conv: {kernel: 1, filters: 8, "
         "from: a}} or {type: conv, from: a}"),
        ("{type: group, from: c1}",
         "net.yaml:5:25: from: names what a layer reads; a group reads the layer before it "
         "(put from: on its first layer)"),
        ("residual: {from: c1, body: [conv 3x3 8 p1], shortcut: auto}",
         "net.yaml:5:16: residual has no key 'from'; known: body, shortcut, name"),
        ("{type: add, from: {a: 1}}",
         "net.yaml:5:23: from: expected a layer's name (as analyze prints it), got a mapping"),
        ("concat: [[conv 1x1 2 name=b1], [conv 1x1 2]]\n  - {type: add, from: [c1, b1]}",
         "net.yaml:6:28: from: 'b1' names no layer before this one; did you mean "
         "'concat1/b1'?"),
        # Only a merge reads several layers: anything else would read the first alone.
        ("{type: conv, kernel: 1, filters: 4, from: [c1, relu1]}", "net.yaml:5:47: " + SEVERAL),
        ("{type: relu, from: [/, /]}", "net.yaml:5:24: " + SEVERAL.replace("conv", "relu")),
        ("conv: {kernel: 1, filters: 4, from: [c1, relu1]}", "net.yaml:5:41: " + SEVERAL),
        ("{type: maxpool, kernel: 2, from: [c1, c1], repeat: 2}",
         "net.yaml:5:38: " + SEVERAL.replace("conv", "maxpool")),
    ],
)  # fmt: skip
def test_from_is_refused_where_it_would_be_ignored(item: str, message: str) -> None:
    """from: belongs to a layer's settings: beside a group, a residual or a kind key it
    would be ignored or read two ways, so it is refused there, located."""
    text = f"input: 8x8x4\nlayers:\n  - conv 1x1 4 name=c1\n  - relu\n  - {item}\n"
    with pytest.raises(ConvcostError) as caught:
        _analyze(text)
    assert caught.value.render() == message


def test_a_block_parameter_may_list_what_a_merge_reads() -> None:
    report = _analyze(
        "input: 8x8x4\nblocks:\n  join:\n    params: {inputs: null}\n    layers:\n"
        "      - {type: add, from: $inputs}\nlayers:\n  - conv 1x1 4 name=a\n"
        "  - conv 1x1 4 name=b\n  - join: {inputs: [a, b]}\n"
    )
    assert report.graph is not None
    nodes = report.graph.nodes
    assert [nodes[i].name for i in nodes[-1].inputs] == ["a", "b"]


def test_faults_are_reported_in_the_order_written() -> None:
    """An earlier layer's fault comes before a later unknown name, although names are
    looked up while the graph is built and shapes only after."""
    text = (
        "input: 8x8x4\nlayers:\n  - conv 9x9 4 p0 name=a\n"
        "  - {type: conv, kernel: 1, filters: 4, from: zz}\n"
    )
    with pytest.raises(ConvcostError) as caught:
        _analyze(text)
    assert caught.value.render().startswith("net.yaml:3:5: layer 'a' (conv on 8×8×4): kernel 9x9")
