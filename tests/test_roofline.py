"""Roofline time, worked by hand on the seed layers for two devices, and the options,
budgets and outputs that carry memory and time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.costing import Settings
from convcost.core.devices import PRESETS
from convcost.core.dtypes import precision
from convcost.frontends import analyze_spec

SEED = "28x28x192 | conv 5x5 32"
SEED_BOTTLENECK = "28x28x192 | conv 1x1 16 | conv 5x5 32"

# Each seed layer at fp16 (2 bytes a value), worked out by hand:
#   ops = 2 × MACs + one bias addition per output value;
#   bytes = (params + input values + output values) × 2.
DIRECT = (2 * 120_422_400 + 28 * 28 * 32, (153_632 + 28 * 28 * 192 + 28 * 28 * 32) * 2)
REDUCE = (2 * 2_408_448 + 28 * 28 * 16, (3_088 + 28 * 28 * 192 + 28 * 28 * 16) * 2)
CONV5 = (2 * 10_035_200 + 28 * 28 * 32, (12_832 + 28 * 28 * 16 + 28 * 28 * 32) * 2)


def test_hand_figures() -> None:
    assert DIRECT == (240_869_888, 658_496)
    assert REDUCE == (4_829_440, 332_320)
    assert CONV5 == (20_095_488, 100_928)


# (device, fp16 peak ops/s, bandwidth B/s, bound of each layer: direct, reduce, 5×5)
DEVICES = [
    ("t4", 65e12, 320e9, ("compute", "memory", "memory")),
    ("a100", 312e12, 2039e9, ("compute", "memory", "compute")),
]


@pytest.mark.parametrize(("device", "peak", "bandwidth", "bounds"), DEVICES)
def test_seed_layers_by_hand(
    device: str, peak: float, bandwidth: float, bounds: tuple[str, str, str]
) -> None:
    assert PRESETS[device].peak["fp16"] == peak and PRESETS[device].bandwidth == bandwidth
    settings = Settings(precision("fp16"), device=PRESETS[device])
    direct = analyze_spec(SEED, settings=settings)[1]
    bottleneck = analyze_spec(SEED_BOTTLENECK, settings=settings)[1]
    layers = [*direct.layers, *bottleneck.layers]
    for layer, (ops, moved), bound in zip(layers, (DIRECT, REDUCE, CONV5), bounds, strict=True):
        assert layer.cost is not None
        assert (layer.cost.ops, layer.cost.bytes_moved) == (ops, moved)
        assert layer.cost.latency_s == max(ops / peak, moved / bandwidth)
        assert layer.cost.bound == bound
        assert layer.cost.arithmetic_intensity == ops / moved
    total = bottleneck.totals.cost
    assert total is not None and total.latency_s == sum(
        max(ops / peak, moved / bandwidth) for ops, moved in (REDUCE, CONV5)
    )


def test_the_bottleneck_saves_less_time_than_macs_on_a_t4() -> None:
    """89.7 % of the MACs, but on a T4 at fp16 only 63.5 % of the time: the 1×1's output is
    written and read again, and both bottleneck layers are memory-bound."""
    direct = max(DIRECT[0] / 65e12, DIRECT[1] / 320e9)
    path = REDUCE[1] / 320e9 + CONV5[1] / 320e9
    assert round(100 * (direct - path) / direct, 1) == 63.5
    args = ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "--device", "t4"]
    result = CliRunner().invoke(app, [*args, "--dtype", "fp16"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "roofline time on NVIDIA T4 (fp16): direct 3.706 µs\n" in result.stdout
    assert (
        "bottleneck 16: 1.354 µs, 2.74× less time (−63.5 %) for 9.68× fewer MACs (−89.7 %): it "
        "saves less time than MACs, as reduce_1x1 and conv_5x5 are memory-bound (bytes moved, "
        "not MACs, set their time)\n"
    ) in result.stdout


def test_fuse_folds_batchnorm_and_activation_into_the_conv() -> None:
    spec = "28x28x64 | conv 3x3 64 bn relu"
    plain = analyze_spec(spec, settings=Settings(device=PRESETS["t4"]))[1]
    fused = analyze_spec(spec, settings=Settings(device=PRESETS["t4"], fuse=True))[1]
    conv, bn, relu = (layer.cost for layer in fused.layers)
    assert conv is not None and bn is not None and relu is not None
    assert (bn.fused, relu.fused, bn.bytes_moved, relu.bytes_moved, bn.ops) == (
        True, True, 0, 0, 0,
    )  # fmt: skip
    assert relu.ops == 28 * 28 * 64  # the activation's arithmetic stays, in the conv's epilogue
    assert conv == plain.layers[0].cost
    assert fused.totals.cost is not None and plain.totals.cost is not None
    saved = plain.totals.cost.bytes_moved - fused.totals.cost.bytes_moved
    values = 28 * 28 * 64
    assert saved == 4 * (2 * 64 + 2 * 64 + values * 2) + 4 * values * 2  # bn: weights, in, out


def test_fuse_leaves_a_layer_whose_input_has_other_readers() -> None:
    """A residual's body output feeds the add only; a conv read by two layers is not fused."""
    spec = "resnet18"
    fused = analyze_spec(spec, settings=Settings(device=PRESETS["t4"], fuse=True))[1]
    by_name = {layer.name: layer for layer in fused.layers}
    assert by_name["bn1"].cost is not None and by_name["bn1"].cost.fused
    assert by_name["maxpool"].cost is not None and not by_name["maxpool"].cost.fused


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dtype", "fp64"], "convcost: --dtype: unknown number format 'fp64'; use one of fp32, "
         "fp16, bf16, int8\n"),
        (["--optimizer", "lion"], "convcost: --optimizer: unknown optimizer 'lion'; use one of "
         "sgd, momentum, adam, adamw\n"),
        (["--fuse"], "convcost: --fuse changes the roofline time: give a device with --device\n"),
        (["--peak", "19.5T"], "convcost: a custom device needs both --peak and --bandwidth "
         "(missing --bandwidth), e.g. --peak 19.5T --bandwidth 1.5TB/s; or name a preset with "
         "--device\n"),
        (["--device", "m2", "--dtype", "int8"], "convcost: Apple M2 (10-core GPU) has no "
         "published int8 peak (it has: fp32); choose one of those with --dtype/--activation-dtype, "
         "or give the peak with --peak\n"),
    ],
)  # fmt: skip
def test_bad_costing_options_exit_2_with_the_valid_ones(args: list[str], message: str) -> None:
    assert run("analyze", SEED, *args) == (2, "", message)


def test_unknown_device_names_the_presets() -> None:
    code, out, err = run("analyze", SEED, "--device", "a1000")
    assert (code, out) == (2, "")
    assert err.startswith(
        "convcost: --device: no device 'a1000'; did you mean 'a100'? presets: a100, "
    )
    assert err.count("\n") == 1


def test_custom_device_from_flags_and_from_a_file(tmp_path: Path) -> None:
    code, out, _ = run("analyze", SEED, "--peak", "10T", "--bandwidth", "100GB/s", "-f", "json")
    assert code == 0
    data = json.loads(out)
    ops, moved = 2 * 120_422_400 + 28 * 28 * 32, (153_632 + 28 * 28 * 224) * 4
    assert data["layers"][0]["latency_s"] == max(ops / 10e12, moved / 100e9)
    assert data["device"] == {"name": "custom", "peak_ops_per_s": 10e12,
                              "bandwidth_bytes_per_s": 100e9, "fused": False}  # fmt: skip
    board = tmp_path / "board.yaml"
    board.write_text("name: lab board\npeak: {fp32: 10T}\nbandwidth: 100GB/s\n", encoding="utf-8")
    code, out, _ = run("analyze", SEED, "--device", str(board), "-f", "json")
    assert code == 0
    assert json.loads(out)["layers"][0]["latency_s"] == max(ops / 10e12, moved / 100e9)


def test_json_carries_memory_and_time() -> None:
    code, out, _ = run("analyze", "resnet18", "--device", "t4", "--dtype", "fp16", "-f", "json")
    assert code == 0
    data = json.loads(out)
    totals = data["totals"]
    assert totals["peak_activation_bytes"] == 4_014_080 // 2
    assert totals["peak_layer"] == "maxpool"
    assert totals["param_bytes"] == 2 * 11_689_512
    assert totals["latency_s"] == sum(layer["latency_s"] for layer in data["layers"])
    assert totals["images_per_s"] == 1 / totals["latency_s"]
    assert {layer["bound"] for layer in data["layers"]} == {"compute", "memory"}
    assert data["precision"] == {"weights": "fp16", "activations": "fp16"}
    assert data["training"]["total"] == totals["training_bytes"]
    assert data["bytes_per_value"] == 2
    for layer in data["layers"]:
        assert layer["bytes_moved"] >= 0
        assert set(layer) >= {"weight_bytes", "input_bytes", "output_bytes",
                              "arithmetic_intensity", "latency_s", "bound"}  # fmt: skip


def test_without_a_device_there_is_no_time() -> None:
    code, out, _ = run("analyze", SEED, "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert "latency_s" not in data["layers"][0] and "bound" not in data["layers"][0]
    assert "latency_s" not in data["totals"] and data["device"] is None


def test_check_budgets_of_memory_and_time(tmp_path: Path) -> None:
    code, out, _ = run("check", "resnet18", "--max-peak-memory", "4MB", "--max-training-memory",
                       "1GB", "--max-latency", "2ms", "--device", "t4", "-f", "json")  # fmt: skip
    assert code == 1
    budgets = {b["metric"]: b for b in json.loads(out)["configs"][0]["budgets"]}
    assert budgets["peak_memory"]["actual"] == 4_014_080 and not budgets["peak_memory"]["passed"]
    assert budgets["training_memory"]["passed"] and budgets["latency"]["passed"]
    config = tmp_path / "net.yaml"
    config.write_text(
        "input: 28x28x192\nlayers:\n  - conv 5x5 32\nbudget:\n  peak_memory: 702464\n"
        "  latency: 1ms\n",
        encoding="utf-8",
    )
    code, out, err = run("check", str(config), "--device", "t4")
    assert code == 0, err
    code, _, err = run("check", str(config))
    assert code == 2
    assert err == (
        f"{config}:6:3: budget latency: a roofline time needs a device; give --device NAME "
        "(convcost devices lists them) or --peak and --bandwidth\n"
    )
    code, _, err = run("check", "resnet18", "--max-latency", "2ms")
    assert (code, err) == (
        2,
        "convcost check: --max-latency is a roofline time: give --device "
        "NAME (convcost devices lists them) or --peak and --bandwidth\n",
    )


def test_bad_time_budget_is_refused() -> None:
    code, _, err = run("check", SEED, "--max-latency", "2", "--device", "t4")
    assert code == 2
    assert err == (
        "convcost check: --max-latency: '2' is not a time; write it with a unit: s, ms, us or ns "
        "(e.g. 2ms)\n"
    )


def test_table_footer_names_the_peak_and_training_parts() -> None:
    code, out, _ = run("analyze", SEED_BOTTLENECK)
    assert code == 0
    assert out.endswith(
        "params size: 0.06 MB (15,920 × 4 B, fp32)\n"
        "peak activation memory: 0.65 MB at conv1 (fp32)\n"
        "training memory (adam): 0.91 MB = params 0.06 MB + gradients 0.06 MB + optimizer "
        "state 0.13 MB + buffers 0.00 MB + saved activations 0.65 MB\n"
    )


def test_devices_lists_the_presets() -> None:
    code, out, _ = run("devices", "-f", "json")
    assert code == 0
    devices = json.loads(out)["devices"]
    assert [d["name"] for d in devices] == list(PRESETS)
    assert all(d["source"] and d["peak_ops_per_s"]["fp32"] > 0 for d in devices)


def test_a_batchnorm_after_an_activation_is_not_folded() -> None:
    spec = "28x28x64 | conv 3x3 64 relu bn | conv 3x3 64"
    report = analyze_spec(spec, settings=Settings(device=PRESETS["t4"], fuse=True))[1]
    relu, bn = (layer.cost for layer in report.layers[1:3])
    assert relu is not None and bn is not None
    assert (relu.fused, bn.fused, bn.bound) == (True, False, "memory")
    assert bn.ops == 2 * 28 * 28 * 64  # a scale and a shift per value, not folded away


def test_views_take_no_time_and_zero_time_has_no_rate() -> None:
    code, out, _ = run("analyze", "8x8x3 | flatten", "--device", "t4", "-f", "json")
    data = json.loads(out)
    assert code == 0
    assert (data["layers"][0]["bound"], data["layers"][0]["latency_s"]) == ("none", 0.0)
    assert (data["totals"]["latency_s"], data["totals"]["images_per_s"]) == (0.0, None)


def test_the_input_alone_is_the_peak() -> None:
    code, out, _ = run("analyze", "8x8x3", "-f", "json")
    totals = json.loads(out)["totals"]
    assert code == 0
    assert (totals["peak_activation_bytes"], totals["peak_layer"]) == (4 * 8 * 8 * 3, None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--peak", "1e999999999T", "--bandwidth", "1TB/s"],
         "convcost: --peak: '1e999999999T' is not a finite rate; write e.g. 19.5T or 19.5TFLOPS\n"),
        (["--peak", "9" * 70, "--bandwidth", "1TB/s"],
         f"convcost: --peak: '{'9' * 20}'… is 70 characters long; a rate is a number with a unit "
         "such as 19.5T or 19.5TFLOPS\n"),
    ],
)  # fmt: skip
def test_huge_rates_are_refused(args: list[str], message: str) -> None:
    assert run("analyze", SEED, *args) == (2, "", message)


def test_a_huge_time_budget_is_refused() -> None:
    code, _, err = run("check", SEED, "--device", "t4", "--max-latency", "9" * 400 + "s")
    assert (code, err) == (
        2,
        f"convcost check: --max-latency: '{'9' * 20}'… is 401 characters long; a budget is a "
        "number with a unit such as 2ms\n",
    )


def test_compare_markdown_time_lines_show_a_device_name_as_code(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text('name: "a|b *x* <b>hi</b>"\npeak: 10T\nbandwidth: 100GB/s\n', encoding="utf-8")
    code, out, _ = run("compare", "28x28x192", "--5x5", "32", "-b", "16", "--device", str(board),
                       "-f", "markdown")  # fmt: skip
    assert code == 0
    line = next(line for line in out.splitlines() if "roofline time on" in line)
    assert line.startswith("- `roofline time on a|b *x* <b>hi</b> (fp32): direct ")


def test_api_settings_refuse_wrong_types() -> None:
    import convcost

    with pytest.raises(convcost.ConvcostError, match="dtype: expected a name or text"):
        convcost.settings(dtype=16)  # type: ignore[arg-type]


def test_device_files_read_formats_as_the_options_do(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text("name: lab\npeak: {FP32: 10T}\nbandwidth: 100GB/s\n", encoding="utf-8")
    assert run("analyze", SEED, "--device", str(board))[0] == 0
    board.write_text('name: ""\npeak: 10T\nbandwidth: 100GB/s\n', encoding="utf-8")
    assert run("analyze", SEED, "--device", str(board)) == (
        2, "", f"{board}:1:7: name: a device's name is shown beside its time; give one\n"
    )  # fmt: skip
