"""Bytes, peak inference memory and training memory (convcost.core.costing), by the rules
the README states; PyTorch's own figures are in test_memory_torch."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import pytest

from convcost.core.costing import Settings, peak_memory, saved_activation_bytes
from convcost.core.dtypes import DTYPES, Precision, precision
from convcost.core.errors import ConvcostError
from convcost.core.kinds.pooling import _window_lengths
from convcost.core.report import Report
from convcost.frontends import analyze_spec

SEED = "28x28x192 | conv 5x5 32"
SEED_BOTTLENECK = "28x28x192 | conv 1x1 16 relu | conv 5x5 32"


def report_of(spec: str, batch: int = 1, settings: Settings | None = None) -> Report:
    return analyze_spec(spec, batch=batch, settings=settings)[1]


# Issue #13's figures by the rule (fp32, batch 1), and where each peak is.
PEAKS = [
    (SEED, 702_464, "conv1"),
    (SEED_BOTTLENECK, 652_288, "conv1"),
    ("resnet18", 4_014_080, "maxpool"),
    ("mobilenet_v2", 6_021_120, "inverted1/conv2"),
]


@pytest.mark.parametrize(("spec", "peak", "layer"), PEAKS)
def test_peak_memory_by_the_rule(spec: str, peak: int, layer: str) -> None:
    report = report_of(spec)
    assert (report.totals.peak_activation_bytes, report.totals.costed.peak.layer) == (peak, layer)
    assert peak_memory(report).bytes == peak


@pytest.mark.parametrize(("spec", "peak", "layer"), PEAKS)
def test_peak_memory_scales_with_batch_and_format(spec: str, peak: int, layer: str) -> None:
    assert report_of(spec, batch=3).totals.peak_activation_bytes == 3 * peak
    fp16 = Settings(precision("fp16"))
    assert report_of(spec, settings=fp16).totals.peak_activation_bytes == peak // 2
    int8_weights = Settings(precision(weights="int8"))  # weights do not count
    assert report_of(spec, settings=int8_weights).totals.peak_activation_bytes == peak


def test_seed_peak_written_out() -> None:
    """The direct conv: its input (28·28·192) and output (28·28·32) alive together; the
    bottleneck: the input and the 1×1's output (28·28·16) at the first step, after which
    the input is dead and the 5×5 holds 28·28·16 + 28·28·32."""
    assert 4 * (28 * 28 * 192 + 28 * 28 * 32) == 702_464
    assert 4 * (28 * 28 * 192 + 28 * 28 * 16) == 652_288
    live = [layer.cost.live_bytes for layer in report_of(SEED_BOTTLENECK).layers if layer.cost]
    assert live == [652_288, 50_176, 4 * (28 * 28 * 16 + 28 * 28 * 32)]


def test_network_outputs_live_to_the_end(tmp_path: Path) -> None:
    """Two heads: the first head's output is still held while the second is made."""
    config = tmp_path / "heads.yaml"
    config.write_text(
        "input: 8x8x4\n"
        "layers:\n"
        "  - {type: conv, kernel: 1, filters: 4, name: trunk}\n"
        "  - {type: conv, kernel: 1, filters: 100, name: head1}\n"
        "  - {type: conv, kernel: 1, filters: 2, name: head2, from: trunk}\n",
        encoding="utf-8",
    )
    report = report_of(str(config))
    assert [layer.name for layer in report.outputs] == ["head1", "head2"]
    # At head2: trunk (its input), head1 (an output, held to the end) and head2.
    assert report.totals.costed.peak == (4 * 8 * 8 * (4 + 100 + 2), 2, "head2")


# Training memory: autograd's saved activations, by each kind's saved(); the parts.
@pytest.mark.parametrize(
    ("spec", "saved"),
    [("resnet18", 22_256_640), ("resnet50", 86_334_464), (SEED, 4 * 28 * 28 * 192)],
)
def test_saved_activations(spec: str, saved: int) -> None:
    report = report_of(spec)
    assert report.totals.saved_activation_bytes == saved == saved_activation_bytes(report)


@pytest.mark.parametrize(("optimizer", "states"), [("sgd", 0), ("momentum", 1), ("adam", 2),
                                                   ("adamw", 2)])  # fmt: skip
def test_training_memory_parts(optimizer: str, states: int) -> None:
    report = report_of("resnet18", settings=Settings(optimizer=optimizer))
    training = report.totals.costed.training
    params, buffers = 11_689_512, 9_600
    assert training == (optimizer, 4 * params, 4 * params, 4 * states * params, 4 * buffers,
                        22_256_640)  # fmt: skip
    assert (
        report.totals.training_bytes
        == training.total
        == (4 * params * (2 + states) + 4 * buffers + 22_256_640)
    )


def test_unknown_names_are_refused_with_the_valid_ones() -> None:
    with pytest.raises(ConvcostError, match="fp32, fp16, bf16, int8"):
        precision("fp64")
    with pytest.raises(ConvcostError, match="sgd, momentum, adam, adamw"):
        report_of(SEED, settings=Settings(optimizer="lion"))


# Bytes by format, per layer.
def test_bytes_by_format() -> None:
    mixed = Settings(Precision(DTYPES["int8"], DTYPES["fp16"]))
    conv = report_of(SEED, settings=mixed).layers[0]
    assert conv.cost is not None
    params = 5 * 5 * 192 * 32 + 32
    assert (conv.cost.param_bytes, conv.cost.weight_bytes) == (params, params)
    assert (conv.cost.input_bytes, conv.cost.output_bytes) == (2 * 28 * 28 * 192, 2 * 28 * 28 * 32)
    assert conv.cost.bytes_moved == params + 2 * 28 * 28 * (192 + 32)
    assert conv.cost.ops == 2 * 120_422_400 + 28 * 28 * 32  # bias additions
    report = report_of(SEED, settings=mixed)
    assert report.totals.param_bytes == params


def test_a_merge_reads_all_its_inputs_and_a_view_moves_nothing() -> None:
    report = report_of("resnet18")
    add = next(layer for layer in report.layers if layer.kind == "add")
    assert add.cost is not None
    assert add.cost.input_bytes == 2 * add.cost.output_bytes
    assert add.cost.ops == add.output_shape.elements  # one addition per value
    vgg = report_of("vgg16")
    views = [layer for layer in vgg.layers if layer.kind in ("flatten", "dropout")]
    assert views and all(layer.cost and layer.cost.bytes_moved == 0 for layer in views)


def test_group_rows_sum_their_layers_costs() -> None:
    from convcost.core.report import GroupResult

    report = report_of("resnet18")
    groups = [row for row in report.rows if isinstance(row, GroupResult)]
    assert groups
    for group in groups:
        members = [layer for layer in report.layers if layer.name.startswith(group.name + ".")]
        assert group.totals.cost is not None
        assert group.totals.cost.bytes_moved == sum(
            layer.cost.bytes_moved for layer in members if layer.cost
        )


def test_adaptive_pool_window_lengths_are_pytorchs() -> None:
    for n in range(1, 30):
        for m in range(1, 30):
            brute = sum(-(-(i + 1) * n // m) - i * n // m for i in range(m))
            assert _window_lengths(n, m) == brute == n + m - gcd(n, m)
    assert _window_lengths(2**40, 2**40 - 1) == 2**41 - 2  # closed form: no loop over sizes
