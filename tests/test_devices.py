"""Device presets, rates read from text, and device files with their error locations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convcost.core.devices import (
    DTYPES,
    PRESETS,
    custom_device,
    device_from_mapping,
    parse_rate,
    preset,
)
from convcost.core.errors import ConvcostError
from convcost.frontends.devicefile import parse_device, read_device_file

# --- presets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_has_an_fp32_peak_a_bandwidth_and_a_cited_source(key: str) -> None:
    device = PRESETS[key]
    assert device.key == key == key.lower()
    assert device.peak["fp32"] > 0 and device.bandwidth > 0
    assert set(device.peak) <= set(DTYPES)
    assert all(rate > 0 for rate in device.peak.values())
    assert re.search(r"https://\S+", device.source), device.source
    assert device.name and device.note


def test_the_presets_cover_datacenter_edge_and_cpu_hardware() -> None:
    assert len(PRESETS) >= 8
    assert {"a100", "h100", "l4", "t4", "orin-nano", "m2", "pi4", "xeon-8380"} <= set(PRESETS)
    assert len({device.name for device in PRESETS.values()}) == len(PRESETS)


def test_preset_figures_are_the_datasheets_dense_ones() -> None:
    # NVIDIA prints tensor-core figures with sparsity: the presets hold half of them.
    assert PRESETS["h100"].peak == {
        "fp32": 67e12, "fp16": 989.5e12, "bf16": 989.5e12, "int8": 1979e12
    }  # fmt: skip
    assert PRESETS["l4"].peak["int8"] == 485e12 / 2
    assert PRESETS["a100"].peak["fp16"] == 312e12 and PRESETS["a100"].bandwidth == 2039e9
    assert "bf16" not in PRESETS["t4"].peak  # Turing has none: absent, not invented
    assert set(PRESETS["m2"].peak) == {"fp32"}
    # The CPUs' derivations, factor by factor.
    assert PRESETS["pi4"].peak["fp32"] == 4 * 1.5e9 * 8
    assert PRESETS["pi4"].bandwidth == 3200e6 * 4
    assert PRESETS["xeon-8380"].peak["fp32"] == pytest.approx(40 * 2.3e9 * 2 * 16 * 2)
    assert PRESETS["xeon-8380"].bandwidth == 8 * 3200e6 * 8


def test_a_preset_by_any_case_and_a_near_miss_named() -> None:
    assert preset("T4") is PRESETS["t4"]
    with pytest.raises(ConvcostError, match=r"no device preset 'a10'; did you mean 'a100'\?"):
        preset("a10")


def test_presets_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        PRESETS["t4"].peak["fp32"] = 1.0  # type: ignore[index]


# --- rates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("19.5T", 19.5e12),
        ("19.5TFLOPS", 19.5e12),
        ("19.5 TFLOPS", 19.5e12),
        ("19.5Tflop/s", 19.5e12),
        ("130TOPS", 130e12),
        ("1.1T", 1.1e12),
        ("900G/s", 900e9),
        ("2P", 2e15),
        ("500M", 500e6),
        ("1.95e13", 1.95e13),
        ("1_000G", 1e12),
        ("1,000,000M", 1e12),
        ("1,600.5G", 1600.5e9),
        (19.5e12, 19.5e12),
        (2_000_000, 2e6),
    ],
)
def test_peaks(text: object, rate: float) -> None:
    assert parse_rate(text, "peak") == rate


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("1.5TB/s", 1.5e12),
        ("1.5 TB/s", 1.5e12),
        ("2039GB/s", 2039e9),
        ("900GiB/s", 900 * 2**30),
        ("68GB/s", 68e9),
        ("512MiB/s", 512 * 2**20),
        ("100000kB/s", 100e6),
        ("1TiB/s", 2**40),
        ("12.8e9", 12.8e9),
    ],
)
def test_bandwidths(text: str, rate: float) -> None:
    assert parse_rate(text, "bandwidth") == rate


@pytest.mark.parametrize(
    ("text", "what", "message"),
    [
        ("1,5T", "peak",
         "peak: '1,5T' is ambiguous: 1.5T (a decimal comma) or 15T (a thousands separator)? "
         "write 1.5T or 15T"),
        ("1,555GB/s", "bandwidth",
         "bandwidth: '1,555GB/s' is ambiguous: 1.555GB/s (a decimal comma) or 1555GB/s (a "
         "thousands separator)? write 1.555GB/s or 1555GB/s"),
        ("1,55,000G", "peak",
         "peak: '1,55,000G' is not a peak: a comma only groups digits in threes (1,600 or "
         "1,600.5G); write the number without commas"),
        ("1.5TB", "bandwidth",
         "bandwidth: '1.5TB' has no '/s'; a bandwidth is bytes a second: write 1.5TB/s"),
        ("10Gb/s", "bandwidth",
         "bandwidth: '10Gb/s' is in bits; a bandwidth is bytes a second (8 bits a byte), such "
         "as 1.5TB/s or 900GiB/s"),
        ("1KB/s", "bandwidth",
         "bandwidth: '1KB/s' is ambiguous: KB is 1000 bytes (write kB/s) or 1024 (write "
         "KiB/s)?"),
        ("1.5T", "bandwidth",
         "bandwidth: '1.5T' has no byte unit; a bandwidth is bytes a second such as 1.5TB/s "
         "or 900GiB/s"),
        ("1.5TB/s", "peak",
         "peak: '1.5TB/s' is bytes, a bandwidth; a peak is operations a second such as 19.5T "
         "or 19.5TFLOPS (--bandwidth takes bytes a second)"),
        ("19.5", "peak",
         "peak: '19.5' is 19.5 a second, below what any device does; a suffix forgotten? "
         "write e.g. 19.5T or 19.5TFLOPS"),
        ("3mFLOPS", "peak",
         "peak: '3mFLOPS': 'm' is no multiplier here (m would be milli); write MFLOPS: the "
         "multipliers are k M G T P"),
        ("19.5X", "peak",
         "peak: '19.5X' is not a peak: unknown unit 'X'; write k M G T P with FLOPS, OPS or "
         "/s (e.g. 19.5T or 19.5TFLOPS)"),
        ("fast", "peak",
         "peak: 'fast' is not a peak; write a number with a unit such as 19.5T or 19.5TFLOPS"),
        ("-5T", "peak",
         "peak: '-5T' is not a peak; write a number with a unit such as 19.5T or 19.5TFLOPS"),
        ("1__0T", "peak",
         "peak: '1__0T' is not a peak: an underscore only stands between two digits (1_000)"),
        ("1e999", "peak",
         "peak: '1e999' is not a finite rate; write e.g. 19.5T or 19.5TFLOPS"),
        (True, "peak", "peak: expected a rate such as 19.5T or 19.5TFLOPS, got True"),
        (float("nan"), "bandwidth",
         "bandwidth: nan is not a finite rate; write e.g. 1.5TB/s or 900GiB/s"),
    ],
)  # fmt: skip
def test_rates_refused_saying_what_to_write(text: object, what: str, message: str) -> None:
    with pytest.raises(ConvcostError) as caught:
        parse_rate(text, what)
    assert caught.value.message == message


def test_a_label_names_the_setting() -> None:
    with pytest.raises(ConvcostError, match=r"^--peak: 'x'"):
        parse_rate("x", "peak", "--peak")


# --- devices from flags and mappings ----------------------------------------------------------


def test_a_custom_device_takes_one_peak_for_every_type() -> None:
    device = custom_device("19.5T", "1.5TB/s", name="My Board 2")
    assert device.peak == dict.fromkeys(DTYPES, 19.5e12)
    assert (device.key, device.name, device.bandwidth) == ("my-board-2", "My Board 2", 1.5e12)


def test_a_custom_device_takes_a_peak_per_type() -> None:
    device = custom_device({"fp32": "10T", "int8": "80TOPS"}, "200GB/s")
    assert device.peak == {"fp32": 10e12, "int8": 80e12}
    assert custom_device("1T", "1GB/s", dtypes=("fp16",)).peak == {"fp16": 1e12}
    with pytest.raises(ConvcostError, match=r"peak has no data type 'fp8'; types: fp32, fp16"):
        custom_device("1T", "1GB/s", dtypes=("fp8",))
    with pytest.raises(ConvcostError, match=r"^--bandwidth: '1GB' has no '/s'"):
        custom_device("1T", "1GB")


def test_a_mapping_gives_a_device() -> None:
    device = device_from_mapping(
        {"name": "L4 capped", "peak": {"fp32": "25T"}, "bandwidth": "300GB/s", "note": "n"}
    )
    assert device.peak == {"fp32": 25e12} and device.bandwidth == 300e9
    assert (device.key, device.source, device.note) == ("l4-capped", "a device file", "n")


def test_a_mapping_with_faults_reports_them_all_at_once() -> None:
    with pytest.raises(ConvcostError) as caught:
        device_from_mapping({"nmae": "x", "peak": {"fp33": "1T", "fp16": "2"}})
    messages = [e.message for e in (caught.value, *caught.value.more)]
    assert messages == [
        "a device has no key 'nmae'; did you mean 'name'? known keys: name, peak, bandwidth, "
        "source, note",
        "the device has no 'bandwidth:'; write e.g. bandwidth: 1.5TB/s",
        "peak has no data type 'fp33'; did you mean 'fp32'? types: fp32, fp16, bf16, int8",
        "peak fp16: '2' is 2 a second, below what any device does; a suffix forgotten? write "
        "e.g. 19.5T or 19.5TFLOPS",
    ]


# --- device files ----------------------------------------------------------------------------


def test_a_device_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "board.yaml"
    path.write_text(
        "name: lab board\n"
        "peak: {fp32: 10T, fp16: 40T}\n"
        "bandwidth: 900GiB/s\n"
        "source: measured in the lab, https://example.org/board\n",
        encoding="utf-8",
    )
    device = read_device_file(str(path))
    assert device.peak == {"fp32": 10e12, "fp16": 40e12}
    assert device.bandwidth == 900 * 2**30
    assert device.source == "measured in the lab, https://example.org/board"


def test_one_peak_in_a_device_file_is_every_types() -> None:
    device = parse_device("peak: 2T\nbandwidth: 1.5e11\n", "d.yaml")
    assert device.peak == dict.fromkeys(DTYPES, 2e12) and device.bandwidth == 1.5e11


def _rendered(text: str) -> str:
    with pytest.raises(ConvcostError) as caught:
        parse_device(text, "d.yaml")
    return caught.value.render()


def test_device_file_errors_say_file_line_column() -> None:
    text = (
        "name: lab board\n"
        "peak:\n"
        "  fp32: 10T\n"
        "  fp61: 40T\n"
        "  int8: 8\n"
        "bandwidth: 200GB\n"
        "colour: red\n"
    )
    assert _rendered(text) == (
        "d.yaml:7:1: a device has no key 'colour'; known keys: name, peak, bandwidth, source, "
        "note\n"
        "d.yaml:4:3: peak has no data type 'fp61'; did you mean 'fp16'? types: fp32, fp16, "
        "bf16, int8\n"
        "d.yaml:5:9: peak int8: 8 is 8 a second, below what any device does; a suffix "
        "forgotten? write e.g. 19.5T or 19.5TFLOPS\n"
        "d.yaml:6:12: bandwidth: '200GB' has no '/s'; a bandwidth is bytes a second: write "
        "200GB/s"
    )


def test_a_device_file_missing_keys_is_refused_at_its_start() -> None:
    assert _rendered("name: x\n") == (
        "d.yaml:1:1: the device has no 'peak:'; write e.g. peak: {fp32: 19.5T}\n"
        "d.yaml:1:1: the device has no 'bandwidth:'; write e.g. bandwidth: 1.5TB/s"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "d.yaml:1:1: the device file is empty; write name:, peak: and bandwidth:"),
        ("# only a comment\n", "d.yaml:1:1: the device file is empty; write name:, peak: and "
         "bandwidth:"),
        ("- 1T\n", "d.yaml:1:1: a device is a mapping with name:, peak: and bandwidth: (and "
         "source:, note:)"),
        ("peak: {}\nbandwidth: 1GB/s\n", "d.yaml:1:7: peak: names no data type; give at least "
         "fp32, e.g. peak: {fp32: 19.5T} (types: fp32, fp16, bf16, int8)"),
        ("peak: [1T]\nbandwidth: 1GB/s\n", "d.yaml:1:7: peak: expected a rate such as 19.5T "
         "or 19.5TFLOPS, got ['1T']"),
        ("peak: 1T\nbandwidth: 1GB/s\nname: [a]\n", "d.yaml:3:7: name: expected text, got "
         "['a']"),
        ("peak: 1T\nbandwidth: 1GB/s\npeak: 2T\n", "d.yaml:3:1: key 'peak' appears twice"),
        ("peak: 1T\nbandwidth: [1GB/s\n", "d.yaml:3:1: YAML syntax: while parsing a flow "
         "sequence did not find expected ',' or ']'"),
    ],
)  # fmt: skip
def test_device_file_refusals(text: str, message: str) -> None:
    assert _rendered(text) == message


def test_a_missing_or_binary_device_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConvcostError, match=r"nothing\.yaml: no such device file$"):
        read_device_file(str(tmp_path / "nothing.yaml"))
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: x\npeak: \xff\n")
    with pytest.raises(ConvcostError) as caught:
        read_device_file(str(path))
    assert caught.value.render() == (
        f"{path}:2:7: byte 0xff is not UTF-8 text; save the device file as UTF-8"
    )


def test_the_benchmarks_device_file_reads() -> None:
    # benchmarks/honesty.py writes it for the machine it ran on; it stays a valid file.
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "this-machine.yaml"
    device = read_device_file(str(path))
    assert device.peak["fp32"] > 0 and device.bandwidth > 0
    assert "torch.mm" in device.note and "copy" in device.note
