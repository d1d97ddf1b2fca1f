"""Caffe prototxt: AlexNet, CaffeNet and GoogLeNet written from the papers' tables
(tests/caffe_nets.py) give the published shapes and the zoo's totals in both layer syntaxes
and every input form; Caffe's pooling rule, BatchNorm+Scale, and every bad file refused
where it is wrong."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError
from convcost.core.report import Report
from convcost.frontends import analyze_spec
from convcost.frontends.prototxt import parse_prototxt
from tests import caffe_nets


def report(path: Path | str) -> Report:
    return analyze_spec(str(path))[1]


def shapes(result: Report) -> dict[str, str]:
    return {layer.name: str(layer.output_shape) for layer in result.layers}


def by_name(result: Report) -> dict[str, tuple[int, int]]:
    return {layer.name: (layer.macs, layer.params) for layer in result.layers}


def write(tmp_path: Path, text: str, name: str = "net.prototxt") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def refused(text: str) -> ConvcostError:
    with pytest.raises(ConvcostError) as caught:
        graph, _ = parse_prototxt(text, "net.prototxt")
        from convcost.core.analysis import analyze

        analyze(graph)
    return caught.value


# --- AlexNet, CaffeNet and GoogLeNet ---------------------------------------------------------

# Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep Convolutional
# Neural Networks", Figure 2 (55×55×96 after conv1, 27×27×256, 13×13×384, 13×13×384,
# 13×13×256, dense 4096, 4096, 1000); pool5's 6×6×256 is fc6's 9216 inputs. Caffe's AlexNet
# (the BVLC model zoo's bvlc_alexnet) takes 227×227 crops, which make these sizes.
ALEXNET_SHAPES = {
    "conv1": "55×55×96", "norm1": "55×55×96", "pool1": "27×27×96", "conv2": "27×27×256",
    "pool2": "13×13×256", "conv3": "13×13×384", "conv4": "13×13×384", "conv5": "13×13×256",
    "pool5": "6×6×256", "fc6": "4096", "fc7": "4096", "fc8": "1000", "prob": "1000",
}  # fmt: skip


def test_alexnet_published_shapes(tmp_path: Path) -> None:
    result = report(write(tmp_path, caffe_nets.alexnet(), "alexnet.prototxt"))
    assert result.input_shape.as_list() == [227, 227, 3]
    assert {k: v for k, v in shapes(result).items() if k in ALEXNET_SHAPES} == ALEXNET_SHAPES
    # In-place ReLUs and dropouts (top == bottom) are layers of their own, read in order.
    names = [layer.name for layer in result.layers]
    assert names[:5] == ["conv1", "relu1", "norm1", "pool1", "conv2"]
    assert names[-7:] == ["relu6", "drop6", "fc7", "relu7", "drop7", "fc8", "prob"]


def test_caffenet_swaps_pool_and_norm_at_the_same_cost(tmp_path: Path) -> None:
    """CaffeNet is AlexNet with each pool before its LRN: the same MACs and params, the LRNs
    on the pooled maps (27×27×96, 13×13×256)."""
    alexnet = report(write(tmp_path, caffe_nets.alexnet(), "alexnet.prototxt"))
    caffenet = report(write(tmp_path, caffe_nets.caffenet(), "caffenet.prototxt"))
    assert (caffenet.totals.macs, caffenet.totals.params) == (724_406_816, 60_965_224)
    assert (alexnet.totals.macs, alexnet.totals.params) == (724_406_816, 60_965_224)
    assert shapes(caffenet)["norm1"] == "27×27×96"
    assert shapes(caffenet)["norm2"] == "13×13×256"
    assert [layer.name for layer in caffenet.layers][:4] == ["conv1", "relu1", "pool1", "norm1"]


def test_alexnet_groups_and_lrn_against_the_zoo(tmp_path: Path) -> None:
    """The zoo's alexnet is torchvision's (64-192-384-256-256 filters, no groups, no LRN, 224
    input padded 2); Caffe's is the paper's two-GPU model. Their classifiers are the same
    layers; the difference is the features, each conv by its own formula."""
    text = caffe_nets.alexnet()
    caffe = by_name(report(write(tmp_path, text, "alexnet.prototxt")))
    zoo = by_name(report("alexnet"))
    for caffe_name, zoo_name in (("fc6", "classifier.1"), ("fc7", "classifier.4"),
                                 ("fc8", "classifier.6")):  # fmt: skip
        assert caffe[caffe_name] == zoo[zoo_name]
    assert caffe["fc6"] == (9216 * 4096, 9216 * 4096 + 4096)
    # group: 2 on conv2, conv4 and conv5: each filter sees half the input channels.
    assert caffe["conv2"] == (27 * 27 * 256 * 5 * 5 * 48, 5 * 5 * 48 * 256 + 256)
    assert caffe["conv4"] == (13 * 13 * 384 * 3 * 3 * 192, 3 * 3 * 192 * 384 + 384)
    assert caffe["conv5"] == (13 * 13 * 256 * 3 * 3 * 192, 3 * 3 * 192 * 256 + 256)
    assert caffe["norm1"] == caffe["norm2"] == (0, 0)  # LRN: no MACs, no params
    # Without groups the three convs would hold 307,200 + 663,552 + 442,368 more weights.
    assert text.count("group: 2") == 3
    ungrouped = text.replace("group: 2", "group: 1")
    graph, _ = parse_prototxt(ungrouped, "ungrouped.prototxt")
    from convcost.core.analysis import analyze

    assert analyze(graph).totals.params - 60_965_224 == 307_200 + 663_552 + 442_368
    conv_params = sum(p for name, (_, p) in caffe.items() if name.startswith("conv"))
    zoo_conv = sum(p for name, (_, p) in zoo.items() if name.startswith("features"))
    assert (conv_params, zoo_conv) == (2_334_080, 2_469_696)


# Szegedy et al. 2014, "Going deeper with convolutions", Table 1 (output sizes).
GOOGLENET_SHAPES = {
    "conv1/7x7_s2": "112×112×64", "pool1/3x3_s2": "56×56×64", "conv2/3x3": "56×56×192",
    "pool2/3x3_s2": "28×28×192", "inception_3a/output": "28×28×256",
    "inception_3b/output": "28×28×480", "pool3/3x3_s2": "14×14×480",
    "inception_4a/output": "14×14×512", "inception_4b/output": "14×14×512",
    "inception_4c/output": "14×14×512", "inception_4d/output": "14×14×528",
    "inception_4e/output": "14×14×832", "pool4/3x3_s2": "7×7×832",
    "inception_5a/output": "7×7×832", "inception_5b/output": "7×7×1024",
    "pool5/7x7_s1": "1×1×1024", "loss3/classifier": "1000",
}  # fmt: skip


def test_googlenet_published_shapes_and_the_zoo(tmp_path: Path) -> None:
    result = report(write(tmp_path, caffe_nets.googlenet(), "googlenet.prototxt"))
    assert {k: v for k, v in shapes(result).items() if k in GOOGLENET_SHAPES} == GOOGLENET_SHAPES
    # The zoo's googlenet (src/convcost/zoo/googlenet.yaml, written apart from this net from
    # the same table) agrees: the same totals, and every conv and the classifier the same
    # MACs and params under the same name.
    zoo = report("googlenet")
    assert (result.totals.macs, result.totals.params) == (1_582_671_872, 6_998_552)
    assert (zoo.totals.macs, zoo.totals.params) == (result.totals.macs, result.totals.params)
    caffe_layers, zoo_layers = by_name(result), by_name(zoo)
    weighted = [name for name, (_, params) in caffe_layers.items() if params]
    assert len(weighted) == 58  # 57 convs and the classifier
    assert {name: caffe_layers[name] for name in weighted} == {
        name: zoo_layers[name] for name in weighted
    }
    # What the Caffe net has and the zoo does not: the final softmax 'prob' (no MACs, no
    # params).
    assert set(caffe_layers) - set(zoo_layers) >= {"prob"}
    assert caffe_layers["prob"] == (0, 0)


NIN_SHAPES = {
    "conv1": "54×54×96", "cccp2": "54×54×96", "pool0": "27×27×96", "conv2": "27×27×256",
    "pool2": "13×13×256", "cccp6": "13×13×384", "pool3": "6×6×384", "conv4-1024": "6×6×1024",
    "cccp8-1024": "6×6×1000", "pool4": "1×1×1000",
}  # fmt: skip


@pytest.mark.parametrize("syntax", ["layer", "layers"])
def test_nin_train_val_published_shapes_and_the_zoo(
    tmp_path: Path, syntax: caffe_nets.Syntax
) -> None:
    """NiN as released, a train_val file (its loss and accuracy left out), in either
    syntax: the stages' shapes, and the zoo's nin (written apart from it) layer by layer."""
    result = report(write(tmp_path, caffe_nets.nin(syntax), "train_val.prototxt"))
    assert {k: v for k, v in shapes(result).items() if k in NIN_SHAPES} == NIN_SHAPES
    assert "loss" not in shapes(result) and "accuracy" not in shapes(result)
    zoo = report("nin")
    assert (result.totals.macs, result.totals.params) == (1_100_188_800, 7_595_176)
    assert (zoo.totals.macs, zoo.totals.params) == (result.totals.macs, result.totals.params)
    caffe_layers, zoo_layers = by_name(result), by_name(zoo)
    weighted = [name for name, (_, params) in caffe_layers.items() if params]
    assert len(weighted) == 12  # four mlpconv stages of three convolutions
    assert {name: caffe_layers[name] for name in weighted} == {
        name: zoo_layers[name] for name in weighted
    }
    # The zoo ends in a flatten after the global pool; Caffe's pool4 blob is N×1000×1×1.
    assert result.output_shape.as_list() == [1, 1, 1000]
    assert zoo.output_shape == result.output_shape._replace(flat=True)


def read_alike(text: str) -> list[tuple[object, ...]]:
    """What the reader makes of a net: each layer's name, kind, inputs, shapes and counts."""
    graph, _ = parse_prototxt(text, "net.prototxt")
    from convcost.core.analysis import analyze

    result = analyze(graph)
    return [(layer.name, layer.layer.kind_name, node.inputs, str(layer.input_shape),
             str(layer.output_shape), layer.macs, layer.params, layer.buffers)
            for layer, node in zip(result.layers, graph.nodes, strict=True)]  # fmt: skip


NETS = {"alexnet": caffe_nets.alexnet, "caffenet": caffe_nets.caffenet,
        "googlenet": caffe_nets.googlenet}  # fmt: skip
# A mark of each way of writing a net, found in its text and in no other way's.
INPUT_MARKS = {"input_dim": "input_dim: ", "input_shape": "input_shape {",
               "Input": "input_param {", "Data": "crop_size: "}  # fmt: skip


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize(("syntax", "form"), caffe_nets.forms())
def test_every_syntax_and_input_form_reads_alike(
    net: str, syntax: caffe_nets.Syntax, form: caffe_nets.InputForm
) -> None:
    """The old layers { type: CONVOLUTION } syntax and each input form (input with
    input_dim, input_shape, an Input layer, a TEST data layer's crop_size beside a TRAIN one
    with another crop) give the same layers, edges, shapes and counts as the new syntax with
    an Input layer."""
    text = NETS[net](syntax, form)
    assert ("layers {" in text, "layer {" in text) == (syntax == "layers", syntax == "layer")
    assert ("type: CONVOLUTION" in text) == (syntax == "layers")
    assert [mark in text for mark in INPUT_MARKS.values()] == [f == form for f in INPUT_MARKS]
    assert read_alike(text) == read_alike(NETS[net]())


# --- the reader ---------------------------------------------------------------------------

OLD_SYNTAX = """\
name: "tiny_v1"  # the old V1 syntax, as Caffe wrote it before 2015
input: "data"
input_dim: 1 input_dim: 3 input_dim: 32 input_dim: 32
layers {
  name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2
  convolution_param { num_output: 16 kernel_size: 5 pad: 2 stride: 1
    weight_filler { type: "gaussian" std: 0.01 } }
}
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layers { name: "ip1" type: INNER_PRODUCT bottom: "pool1" top: "ip1"
  inner_product_param { num_output: 10 } }
layers { name: "prob" type: SOFTMAX bottom: "ip1" top: "prob" }
"""


def test_old_syntax() -> None:
    graph, name = parse_prototxt(OLD_SYNTAX, "v1.prototxt")
    assert name == "tiny_v1"
    from convcost.core.analysis import analyze

    result = analyze(graph)
    assert shapes(result) == {
        "conv1": "32×32×16", "relu1": "32×32×16", "pool1": "16×16×16", "ip1": "10",
        "prob": "10",
    }  # fmt: skip
    # pool1: Caffe's ceil, ⌈(32 − 3) / 2⌉ + 1 = 16 (the floor would give 15).
    assert by_name(result)["conv1"] == (32 * 32 * 16 * 5 * 5 * 3, 5 * 5 * 3 * 16 + 16)
    assert by_name(result)["ip1"] == (16 * 16 * 16 * 10, 16 * 16 * 16 * 10 + 10)


@pytest.mark.parametrize(
    "head",
    [
        'input: "data" input_shape { dim: 1 dim: 3 dim: 20 dim: 24 }',
        'input: "data"\ninput_dim: 10\ninput_dim: 3\ninput_dim: 20\ninput_dim: 24',
        'layer { name: "data" type: "Input" top: "data"\n'
        "  input_param { shape: { dim: 10 dim: 3 dim: 20 dim: 24 } } }",
        # A train_val's data layers: the TRAIN one is not in a deploy network.
        'layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }\n'
        "  transform_param { crop_size: 99 } }\n"
        'layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }\n'
        "  transform_param { crop_size: 20 mirror: false } }",
    ],
)
def test_input_forms(head: str) -> None:
    text = head + '\nlayer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
    text += "  convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_w: 1 } }\n"
    graph, _ = parse_prototxt(text, "net.prototxt")
    from convcost.core.analysis import analyze

    result = analyze(graph)
    h, w = (20, 20) if "crop_size" in head else (20, 24)
    assert result.layers[0].input_shape.as_list() == [h, w, 3]
    assert str(result.layers[0].output_shape) == f"{h - 2}×{w + 2}×4"  # pad_w 1, kernel_w 1


BATCHNORM = """\
input: "data"
input_shape { dim: 1 dim: 8 dim: 6 dim: 6 }
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv"
  batch_norm_param { use_global_stats: true } }
layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
layer { name: "split" type: "Split" bottom: "conv" top: "a" top: "b" }
layer { name: "sum" type: "Eltwise" bottom: "a" bottom: "data" top: "sum" }
layer { name: "prod" type: "Eltwise" bottom: "sum" bottom: "b" top: "prod"
  eltwise_param { operation: PROD } }
layer { name: "cat" type: "Concat" bottom: "prod" bottom: "data" top: "cat" }
layer { name: "flat" type: "Flatten" bottom: "cat" top: "flat" }
"""


def test_batchnorm_scale_in_place_and_merges() -> None:
    """A BatchNorm and the Scale after it are one batchnorm: γ and β (the Scale's 2·C
    params) and the running mean and variance (2·C buffers; Caffe's third blob, the one
    moving-average factor, is not counted). In-place layers read the blob's last maker;
    Split fans a blob out without a layer of its own."""
    graph, _ = parse_prototxt(BATCHNORM, "bn.prototxt")
    from convcost.core.analysis import analyze

    result = analyze(graph)
    names = [layer.name for layer in result.layers]
    assert names == ["conv", "bn", "relu", "sum", "prod", "cat", "flat"]
    bn = result.layers[1]
    assert (bn.layer.kind_name, bn.params, bn.buffers) == ("batchnorm", 2 * 8, 2 * 8)
    assert result.layers[0].params == 3 * 3 * 8 * 8  # bias_term: false
    inputs = [node.inputs for node in graph.nodes]
    assert inputs == [(-1,), (0,), (1,), (2, -1), (3, 2), (4, -1), (5,)]
    assert [layer.layer.kind_name for layer in result.layers[3:6]] == ["add", "mul", "concat"]
    assert shapes(result)["cat"] == "6×6×16" and shapes(result)["flat"] == "576"


def test_batchnorm_alone_has_no_affine_params() -> None:
    text = BATCHNORM.replace('layer { name: "scale"', '# layer { name: "scale"')
    graph, _ = parse_prototxt(text, "bn.prototxt")
    assert graph.nodes[1].layer.kind_name == "batchnorm"
    from convcost.core.analysis import analyze

    assert analyze(graph).layers[1].params == 0


def caffe_pool_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Caffe's PoolingLayer::Reshape (src/caffe/layers/pooling_layer.cpp, BVLC master
    9b89154, lines 93-113), one axis, round_mode CEIL."""
    pooled = -(-(size + 2 * pad - kernel) // stride) + 1
    if pad and (pooled - 1) * stride >= size + pad:
        pooled -= 1
    return pooled


def test_pooling_follows_caffes_rounding() -> None:
    """Every size, window, stride and padding convcost accepts gives Caffe's output size,
    ceil and clipping included (a pad of at most kernel // 2, PyTorch's bound; a window
    smaller than its stride is checked in the next test)."""
    checked = 0
    for kernel in range(1, 5):
        for stride in range(1, kernel + 1):
            for pad in range(kernel // 2 + 1):
                for size in range(max(1, kernel - 2 * pad), 24):
                    text = (
                        f'input: "d" input_shape {{ dim: 1 dim: 1 dim: {size} dim: {size} }}\n'
                        'layer { name: "p" type: "Pooling" bottom: "d" top: "p"\n'
                        f"  pooling_param {{ pool: MAX kernel_size: {kernel} stride: {stride} "
                        f"pad: {pad} }} }}"
                    )
                    graph, _ = parse_prototxt(text, "pool.prototxt")
                    from convcost.core.analysis import analyze

                    out = analyze(graph).layers[0].output_shape
                    expected = caffe_pool_size(size, kernel, stride, pad)
                    assert (out.h, out.w) == (expected, expected), (size, kernel, stride, pad)
                    checked += 1
    assert checked == 505
    # Clipping: 5 wide, window 2, stride 2, pad 1: ⌈5/2⌉ + 1 = 4, the last would start in
    # the padding (3 · 2 ≥ 5 + 1), so 3.
    assert caffe_pool_size(5, 2, 2, 1) == 3


def test_pool_with_an_empty_caffe_window_is_refused() -> None:
    text = (
        'input: "d" input_shape { dim: 1 dim: 1 dim: 4 dim: 5 }\n'
        'layer { name: "p" type: "Pooling" bottom: "d" top: "p"\n'
        "  pooling_param { pool: MAX kernel_size: 1 stride: 2 } }"
    )
    error = refused(text)
    assert str(error.location) == "net.prototxt:2:1"
    assert "Caffe makes 3 windows on 4" in error.message
    # 5 wide: ⌈4 / 2⌉ + 1 = 3 windows, all inside: accepted.
    graph, _ = parse_prototxt(text.replace("dim: 4", "dim: 5"), "ok.prototxt")
    assert graph.nodes[0].layer.kind_name == "maxpool"


# --- refusals -----------------------------------------------------------------------------

HEAD = 'input: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (HEAD + 'layer { name: "x" type: "Crop" bottom: "data" top: "x" }',
         "3:25", "layer 'x' has type 'Crop', which convcost does not count"),
        (HEAD + 'layer { name: "r" type: "ReLU" bottom: "dat" top: "r" }',
         "3:40", "layer 'r' reads blob 'dat', which no layer before it makes"),
        (HEAD + 'layer { name: "e" type: "Eltwise" bottom: "data" bottom: "data" top: "e"\n'
         "  eltwise_param { operation: MAX } }",
         "4:3", "operation MAX cannot be counted"),
        (HEAD + 'layer { name: "s" type: "Scale" bottom: "data" top: "s" }',
         "3:1", "Scale layer 's' does not follow a BatchNorm"),
        (HEAD + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
         "  convolution_param { num_output: 4 kernel_size: 3 kernel_h: 3 } }",
         "4:52", "gives both kernel_size and kernel_h"),
        (HEAD + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
         "  convolution_param { num_output: 4 kernel_size: 3 weird: 1 } }",
         "4:52", "has no field 'weird' that convcost knows"),
        (HEAD + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
         "  convolution_param { num_output: -4 kernel_size: 3 } }",
         "4:35", "num_output must be a positive whole number"),
        (HEAD + 'layer { name: "c" type: "Convolution" bottom: "data" top: "c"\n'
         "  convolution_param { num_output: 4 kernel_size: 11 } }",
         "3:1", "kernel 11x11 does not fit the 8x8 input"),
        (HEAD + 'layers { name: "c" type: "Convolution" bottom: "data" top: "c" }',
         "3:26", "unknown layer type 'Convolution' in the old layers { } syntax"),
        ('layer { name: "r" type: "ReLU" bottom: "data" top: "r" }',
         "1:40", "reads blob 'data', which no layer before it makes"),
        ('input: "data"\n', "1:1", "input 'data' has no shape"),
        ("", "1:1", "the network has no input shape"),
        (HEAD + 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\n'
         'layer { name: "r" type: "ReLU" bottom: "r" top: "r" }',
         "4:1", "layer name 'r' is used twice"),
        (HEAD + "layer { name: 'x' ", "3:19", "the file ends inside the message opened at "
         "line 3, column 1; close it with '}'"),
        (HEAD + "layer { name 'x' }", "3:14", "expected ':' or '{' after the field name"),
        (HEAD + 'layer { name: "x\n', "3:15", "this string is not closed on its line"),
        (HEAD + "}", "3:1", "'}' closes no message"),
        (HEAD + "layer { name: 12ab }", "3:15", "'12a' is neither a number nor a name"),
        (HEAD + "layer { name: @ }", "3:15", "unexpected character '@'"),
        (HEAD + 'layer { name: "\\q" }', "3:15", "unknown escape '\\q'"),
        ("inputs: 'data'", "1:1", "a network has no field 'inputs' that convcost knows"),
    ],
)  # fmt: skip
def test_refused_where_wrong(text: str, where: str, words: str) -> None:
    error = refused(text)
    assert error.location is not None
    assert f"{error.location.line}:{error.location.column}" == where, error.message
    assert words in error.message


def test_syntax_error_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "layer {\n  name: 'conv1'\n  type: 'ReLU'\n  bottom 'data'\n}\n")
    result = runner.invoke(app, ["analyze", path])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{path}:6:10: expected ':' or '{{' after the field name 'bottom', found a string; "
        "write bottom: VALUE or bottom { ... }\n"
    )


def test_unknown_type_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    text = HEAD + 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "data" top: "l" }\n'
    result = runner.invoke(app, ["analyze", write(tmp_path, text)])
    assert result.exit_code == 2
    assert ":3:28: layer 'loss' has type 'SoftmaxWithLoss', which convcost does not count" in (
        result.stderr
    )


def test_analyze_reads_the_file_by_its_ending(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path, caffe_nets.googlenet(), "googlenet.prototxt")
    result = runner.invoke(app, ["analyze", path, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert '"name": "inception_5b/output"' in result.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a {" * 4000, "messages nest more than 32 deep"),
        ("a <" * 4000, "messages nest more than 32 deep"),
        ('a: "' + "x" * 5000 + '"', "a string of 5,002 characters is too long"),
        ("a: " + "9" * 5000, "a number of 5,000 characters is too long"),
        (HEAD + 'layer { name: "r" type: "ReLU" bottom: "data" top: "data" }\n' * 2,
         "used twice"),
    ],
)  # fmt: skip
def test_hostile_files_are_cheap(text: str, words: str) -> None:
    start = time.perf_counter()
    error = refused(text)
    assert time.perf_counter() - start < 0.2
    assert words in error.message


def test_token_bound() -> None:
    with pytest.raises(ConvcostError, match="more than 1,000 tokens"):
        parse_prototxt(HEAD + "name: 1\n" * 400, "big.prototxt", max_layers=20)


def test_layer_bound() -> None:
    text = HEAD + "".join(
        f'layer {{ name: "r{i}" type: "ReLU" bottom: "data" top: "data" }}\n' for i in range(30)
    )
    with pytest.raises(ConvcostError, match="more than 20 layers; raise --max-layers"):
        parse_prototxt(text, "many.prototxt", max_layers=20)


@pytest.mark.parametrize(
    ("layers", "heads"),
    [('layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }\n'
      'layer { name: "acc" type: "Accuracy" bottom: "ip" bottom: "label" top: "acc"\n'
      "  include { phase: TEST } }", "new"),
     ('layers { name: "loss" type: SOFTMAX_LOSS bottom: "ip" bottom: "label" top: "loss" }\n'
      'layers { name: "acc" type: ACCURACY bottom: "ip" bottom: "label" top: "acc"\n'
      "  include { phase: TEST } }", "old")],
)  # fmt: skip
def test_a_train_vals_loss_and_accuracy_are_left_out(layers: str, heads: str) -> None:
    """They read the data layer's labels: training and evaluation, not the network."""
    kind = "layers" if heads == "old" else "layer"
    data, product = ("DATA", "INNER_PRODUCT") if heads == "old" else ('"Data"', '"InnerProduct"')
    text = (
        f'{kind} {{ name: "data" type: {data} top: "data" top: "label"\n'
        "  transform_param { crop_size: 8 } }\n"
        f'{kind} {{ name: "ip" type: {product} bottom: "data" top: "ip"\n'
        "  inner_product_param { num_output: 10 } }\n" + layers
    )
    from convcost.core.analysis import analyze

    result = analyze(parse_prototxt(text, "train_val.prototxt")[0])
    assert [(r.name, r.kind, r.macs) for r in result.layers] == [("ip", "dense", 8 * 8 * 3 * 10)]


def test_a_head_that_reads_no_labels_is_refused() -> None:
    text = (
        'input: "data" input_shape { dim: 1 dim: 3 dim: 4 dim: 4 }\n'
        'layer { name: "loss" type: "EuclideanLoss" bottom: "data" bottom: "data" top: "l" }\n'
    )
    with pytest.raises(ConvcostError, match="layer 'loss' has type 'EuclideanLoss', which "
                       "convcost does not count"):  # fmt: skip
        parse_prototxt(text, "net.prototxt")


@pytest.mark.parametrize(
    ("fields", "size", "params"),
    [("num_output: 6 kernel_size: 4 stride: 2 pad: 1", 10, 4 * 6 * 16 + 6),
     ("num_output: 6 kernel_size: 3 stride: 2 bias_term: false", 11, 4 * 6 * 9),
     ("num_output: 6 kernel_size: 2 stride: 2 group: 2", 10, 4 * 3 * 4 + 6),
     ("num_output: 6 kernel_size: 3 dilation: 2 pad: 2", 5, 4 * 6 * 9 + 6)],
)  # fmt: skip
def test_deconvolution_is_pytorchs_transposed_conv(fields: str, size: int, params: int) -> None:
    """Caffe's Deconvolution, as FCN's upsampling writes it: stride·(n − 1) + dilated
    kernel − 2·pad; its MACs and params checked against nn.ConvTranspose2d."""
    text = (
        'input: "data" input_shape { dim: 1 dim: 4 dim: 5 dim: 5 }\n'
        'layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"\n'
        f"  convolution_param {{ {fields} }} }}\n"
    )
    from convcost.core.analysis import analyze

    (row,) = analyze(parse_prototxt(text, "net.prototxt")[0]).layers
    assert (row.kind, str(row.output_shape), row.params) == (
        "convtranspose", f"{size}×{size}×6", params,
    )  # fmt: skip
    torch = pytest.importorskip("torch", reason="torch is not installed: pip install -e '.[test]'")
    settings = dict(item.split(": ") for item in re.findall(r"\w+: \w+", fields))
    module = torch.nn.ConvTranspose2d(
        4, 6, int(settings["kernel_size"]), int(settings.get("stride", 1)),
        int(settings.get("pad", 0)), groups=int(settings.get("group", 1)),
        bias=settings.get("bias_term") != "false", dilation=int(settings.get("dilation", 1)),
    )  # fmt: skip
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        out = module(torch.zeros(1, 4, 5, 5))
    assert list(out.shape) == [1, 6, size, size]
    assert sum(p.numel() for p in module.parameters()) == params
    assert counter.get_total_flops() == 2 * row.macs


def test_input_shape_replaces_the_files_and_its_pools_are_checked_there() -> None:
    text = (
        'input: "data" input_shape { dim: 1 dim: 3 dim: 5 dim: 5 }\n'
        'layer { name: "p" type: "Pooling" bottom: "data" top: "p"\n'
        "  pooling_param { pool: MAX kernel_size: 1 stride: 2 } }\n"
    )
    from convcost.core.analysis import analyze
    from convcost.core.shapes import Shape

    assert str(analyze(parse_prototxt(text, "n.prototxt")[0]).output_shape) == "3×3×3"
    at = parse_prototxt(text, "n.prototxt", input_shape=Shape(9, 9, 3))[0]
    assert str(analyze(at).output_shape) == "5×5×3"
    with pytest.raises(ConvcostError, match="Caffe makes 4 windows"):
        parse_prototxt(text, "n.prototxt", input_shape=Shape(6, 6, 3))
