"""Hardware for roofline estimates: named presets with cited figures, and rates read from
flags (``--peak 19.5T``, ``--bandwidth 1.5TB/s``) or from a device file's mapping.

Every preset gives DENSE peaks: where a datasheet prints a figure "with sparsity" (2:4
structured sparsity doubles it), the preset holds half of it and its note says so. A data
type the vendor gives no figure for is absent, never guessed; a figure derived rather than
printed says how in its note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation, Overflow
from types import MappingProxyType
from typing import NamedTuple

from convcost.core.digits import whole_digits
from convcost.core.errors import ConvcostError, Faults, Location, did_you_mean
from convcost.core.fields import bounded_name

DTYPES = ("fp32", "fp16", "bf16", "int8")
KINDS = ("peak", "bandwidth")
# Below these a device is no target for a network's cost; a value this small is a
# forgotten suffix (19.5 meant for 19.5T), refused rather than taken as 19.5 FLOP/s.
MIN_RATE = 1e6
MAX_TEXT = 64  # no rate is longer: refused before any arithmetic on its digits


class Device(NamedTuple):
    """A processor as a roofline sees it.

    ``peak`` maps a data type (of DTYPES) to dense operations per second: FLOP/s for the
    float types, OP/s for int8 (a multiply-accumulate counts two). ``bandwidth`` is memory
    bytes per second. ``source`` cites where the figures come from; ``note`` says which
    units they are for and how any derived one was worked out.
    """

    key: str
    name: str
    peak: Mapping[str, float]
    bandwidth: float
    source: str
    note: str = ""


def _device(
    key: str, name: str, peak: dict[str, float], bandwidth: float, source: str, note: str
) -> Device:
    return Device(key, name, MappingProxyType(peak), bandwidth, source, note)


_NVIDIA_SPARSE = (
    "Tensor-core figures are dense: the datasheet prints them with sparsity (marked *), "
    "and these are half of those"
)

PRESETS: dict[str, Device] = {
    device.key: device
    for device in (
        _device(
            "a100",
            "NVIDIA A100 SXM4 80GB",
            {"fp32": 19.5e12, "fp16": 312e12, "bf16": 312e12, "int8": 624e12},
            2039e9,
            "NVIDIA A100 Tensor Core GPU datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4),"
            " specifications table, A100 80GB SXM column: https://www.nvidia.com/content/dam/"
            "en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-"
            "web.pdf",
            "fp32 is the non-tensor-core FP32 figure; fp16/bf16/int8 are the tensor-core dense"
            " figures (the datasheet prints 312 | 624* TFLOPS and 624 | 1248* TOPS, * with "
            "sparsity); bandwidth is the 80GB SXM part's 2,039 GB/s (the 40GB part: 1,555 GB/s)",
        ),
        _device(
            "h100",
            "NVIDIA H100 SXM5 80GB",
            {"fp32": 67e12, "fp16": 989.5e12, "bf16": 989.5e12, "int8": 1979e12},
            3.35e12,
            "NVIDIA H100 Tensor Core GPU datasheet, specifications table, H100 SXM column: "
            "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet",
            f"fp32 is the non-tensor-core FP32 figure (67 TFLOPS). {_NVIDIA_SPARSE}: FP16 and "
            "BF16 1,979* TFLOPS → 989.5, INT8 3,958* TOPS → 1,979",
        ),
        _device(
            "l4",
            "NVIDIA L4",
            {"fp32": 30.3e12, "fp16": 121e12, "bf16": 121e12, "int8": 242.5e12},
            300e9,
            "NVIDIA L4 Tensor Core GPU datasheet, specifications table: "
            "https://resources.nvidia.com/en-us-data-center-overview/l4-gpu-datasheet",
            f"fp32 is the non-tensor-core FP32 figure (30.3 TFLOPS). {_NVIDIA_SPARSE}: FP16 and "
            "BF16 242* TFLOPS → 121, INT8 485* TOPS → 242.5",
        ),
        _device(
            "t4",
            "NVIDIA T4",
            {"fp32": 8.1e12, "fp16": 65e12, "int8": 130e12},
            320e9,
            "NVIDIA T4 Tensor Core GPU datasheet (t4-tensor-core-datasheet-951643), "
            "specifications table: https://www.nvidia.com/content/dam/en-zz/Solutions/"
            "Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf",
            "fp32 is 'Single-Precision 8.1 TFLOPS' (no tensor cores); fp16 is 'Mixed-Precision"
            " (FP16/FP32) 65 TFLOPS' and int8 '130 INT8 TOPS' on tensor cores (Turing has no "
            "sparsity, so these are dense); Turing has no bf16; bandwidth '320+ GB/s'",
        ),
        _device(
            "orin-nano",
            "NVIDIA Jetson Orin Nano 8GB (15 W, GPU at 625 MHz)",
            {"fp32": 1.28e12, "fp16": 10e12, "int8": 20e12},
            68e9,
            "NVIDIA Jetson Orin Nano Series Data Sheet (DS-11105-001), module specifications "
            "table: https://developer.nvidia.com/embedded/downloads#?search=Jetson%20Orin%20Nano"
            "%20Series%20Data%20Sheet",
            "int8 is the datasheet's 'Up to 40 (Sparse) INT8 TOPs and 20 (Dense) INT8 TOPs'. "
            "fp32 is derived: 1024 CUDA cores × 2 FLOPs (one FMA) × 625 MHz maximum GPU "
            "frequency = 1.28 TFLOPS. fp16 is derived: half the dense INT8 rate, the ratio "
            "of Ampere tensor cores (A100 datasheet: FP16 312, INT8 624 dense); the datasheet "
            "gives no fp16 figure, and no bf16 one. Bandwidth: 128-bit LPDDR5, 68 GB/s. "
            "JetPack 6.1's 25 W 'Super' mode (1020 MHz, 102 GB/s, 67 sparse TOPS) is faster",
        ),
        _device(
            "m2",
            "Apple M2 (10-core GPU)",
            {"fp32": 3.6e12},
            100e9,
            "Apple WWDC 2022 keynote and newsroom release 'Apple unveils M2 with breakthrough "
            "performance and capabilities' (2022-06-06): https://www.apple.com/newsroom/2022/06/"
            "apple-unveils-m2-with-breakthrough-performance-and-capabilities/",
            "fp32 is Apple's 3.6 TFLOPS for the 10-core GPU (the 8-core M2 has less), which "
            "agrees with 10 cores × 128 FP32 ALUs × 2 (FMA) × 1.398 GHz = 3.58 TFLOPS; "
            "bandwidth is the release's '100GB/s of unified memory bandwidth', shared with the"
            " CPU. Apple gives no fp16, bf16 or int8 figure for the GPU (the Neural Engine's "
            "15.8 TOPS is another unit), so none is given here",
        ),
        _device(
            "pi4",
            "Raspberry Pi 4 Model B (Cortex-A72 ×4 at 1.5 GHz)",
            {"fp32": 48e9},
            12.8e9,
            "Raspberry Pi 4 Model B product brief (BCM2711, quad Cortex-A72, LPDDR4-3200): "
            "https://datasheets.raspberrypi.com/rpi4/raspberry-pi-4-product-brief.pdf; Arm "
            "Cortex-A72 Software Optimization Guide (UAN 0016A), section 2 pipelines and 3.15 "
            "ASIMD floating-point instructions: https://developer.arm.com/documentation/"
            "uan0016/a/",
            "fp32 is derived: 4 cores × 1.5 GHz × 8 FLOPs/cycle = 48 GFLOPS. 8 FLOPs/cycle: "
            "the A72 has two FP/ASIMD pipelines (F0, F1) and a 128-bit FMLA (4 fp32 "
            "multiply-adds) takes both, so one starts each cycle (LLVM's Cortex-A57 model, with "
            "which it also schedules the A72, has Q-form FMLA on both V pipes: "
            "llvm/lib/Target/AArch64/AArch64SchedA57.td). 1.5 GHz is the first boards' clock;"
            " boards with the C0 stepping of the BCM2711 (from 2021) run at 1.8 GHz: 57.6 "
            "GFLOPS. Bandwidth is derived: LPDDR4-3200 on a 32-bit bus, 3200 MT/s × 4 bytes. "
            "No int8 figure: NEON's int8 dot product is not in the A72 (ARMv8.0)",
        ),
        _device(
            "xeon-8380",
            "Intel Xeon Platinum 8380 (one socket)",
            {"fp32": 5.888e12},
            204.8e9,
            "Intel ARK, Intel Xeon Platinum 8380 Processor specifications (40 cores, base "
            "2.30 GHz, # of AVX-512 FMA Units 2, DDR4-3200, 8 memory channels): "
            "https://www.intel.com/content/www/us/en/products/sku/212287/intel-xeon-platinum-"
            "8380-processor-60m-cache-2-30-ghz/specifications.html",
            "fp32 is derived: 40 cores × 2.30 GHz base × 64 FLOPs/cycle (2 AVX-512 FMA units ×"
            " 16 fp32 lanes × 2 FLOPs an FMA) = 5.888 TFLOPS; under heavy AVX-512 the cores "
            "may run below base. Bandwidth is derived: 8 channels × 3200 MT/s × 8 bytes = "
            "204.8 GB/s. Ice Lake has no bf16 or fp16 arithmetic; its int8 (AVX-512 VNNI) "
            "rate Intel gives no figure for, so none is given here",
        ),
    )
}


# --- rates from text ------------------------------------------------------------------------

_SI = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
_EXAMPLE = {"peak": "19.5T or 19.5TFLOPS", "bandwidth": "1.5TB/s or 900GiB/s"}

_RATE = re.compile(r"^\s*([0-9][0-9_,]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*(\S*)\s*$")
# The multiplier's case matters (M is mega, m would be milli); the word's does not.
_PEAK_UNIT = re.compile(r"^([kMGTP]?)((?i:flops|flop/s|ops|op/s|/s)?)$")
_BYTES_UNIT = re.compile(r"^([kMGTP]|[KMGT]i)?B/s$")
_BITS_UNIT = re.compile(r"^([kKmMgGtTpP]i?)?(b/s|bps|bits?/s)$")  # b: bits, B: bytes


def parse_rate(value: object, what: str, label: str | None = None) -> float:
    """A rate of ``what`` ("peak": operations a second; "bandwidth": bytes a second).

    ``19.5T`` / ``19.5TFLOPS`` / ``130TOPS`` → 1.95e13 ops/s; ``1.5TB/s`` → 1.5e12 B/s,
    ``900GiB/s`` → 900·2**30 B/s; a plain number is the rate itself. What reads two ways
    (``1,5T``: a decimal comma or a thousands separator; ``1KB/s``: 1000 or 1024) is refused
    with both readings, as is a bandwidth in bits or without "/s", or a rate too small for
    any device (a forgotten suffix). ``label`` names the setting in messages (default:
    ``what``).
    """
    name = label or what
    example = _EXAMPLE[what]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConvcostError(f"{name}: expected a rate such as {example}, got {value!r}")
    if isinstance(value, int | float):
        return _checked(float(value), value, name, example)
    if len(value) > MAX_TEXT:
        raise ConvcostError(
            f"{name}: {value[:20]!r}… is {len(value):,} characters long; a rate is a number "
            f"with a unit such as {example}"
        )
    match = _RATE.match(value)
    if not match:
        raise ConvcostError(
            f"{name}: {value!r} is not a {what}; write a number with a unit such as {example}"
        )
    whole, fraction, exponent, unit = (g or "" for g in match.groups())
    scale = _unit_scale(value, unit, what, name, example)
    digits = whole_digits(whole, fraction, unit, value, f"{name}: {value!r} is not a {what}",
                          "1,600 or 1,600.5G", "1_000")  # fmt: skip
    try:
        exact = Decimal(digits + fraction + exponent) * scale
    except (InvalidOperation, Overflow):  # an exponent past what Decimal holds
        exact = Decimal("Infinity")
    return _checked(float(exact), value, name, example)


def _unit_scale(text: str, unit: str, what: str, name: str, example: str) -> int:
    """What the unit after the number multiplies it by; a unit of the other kind, bits, an
    ambiguous or a misspelt one refused, saying what to write."""
    if what == "peak":
        found = _PEAK_UNIT.match(unit)
        if found:
            return _SI[found.group(1)]
        if _BYTES_UNIT.match(unit) or unit.endswith("B"):
            raise ConvcostError(
                f"{name}: {text!r} is bytes, a bandwidth; a peak is operations a second "
                f"such as {example} (--bandwidth takes bytes a second)"
            )
    else:
        if unit == "":
            return 1
        found = _BYTES_UNIT.match(unit)
        if found:
            prefix = found.group(1) or ""
            return _BINARY[prefix] if prefix in _BINARY else _SI[prefix]
        if _BITS_UNIT.match(unit):
            raise ConvcostError(
                f"{name}: {text!r} is in bits; a bandwidth is bytes a second (8 bits a "
                f"byte), such as {example}"
            )
        if re.fullmatch(r"K(B/s|B)", unit):
            raise ConvcostError(
                f"{name}: {text!r} is ambiguous: KB is 1000 bytes (write kB/s) or 1024 "
                "(write KiB/s)?"
            )
        if re.fullmatch(r"([kMGTP]|[KMGT]i)?B", unit):
            raise ConvcostError(
                f"{name}: {text!r} has no '/s'; a bandwidth is bytes a second: write "
                f"{text.strip()}/s"
            )
        if _PEAK_UNIT.match(unit):
            raise ConvcostError(
                f"{name}: {text!r} has no byte unit; a bandwidth is bytes a second such as "
                f"{example}"
            )
    if unit[:1] in ("m", "g", "t", "p"):
        raise ConvcostError(
            f"{name}: {text!r}: '{unit[0]}' is no multiplier here (m would be milli); write"
            f" {unit[0].upper()}{unit[1:]}: the multipliers are k M G T P"
        )
    units = "k M G T P with FLOPS, OPS or /s" if what == "peak" else "kB MB GB TB, KiB MiB"
    units += "" if what == "peak" else " GiB TiB, each with /s"
    raise ConvcostError(
        f"{name}: {text!r} is not a {what}: unknown unit {unit!r}; write {units} (e.g. {example})"
    )


def _checked(rate: float, value: object, name: str, example: str) -> float:
    if rate != rate or rate in (float("inf"), float("-inf")):
        raise ConvcostError(f"{name}: {value!r} is not a finite rate; write e.g. {example}")
    if rate < MIN_RATE:
        raise ConvcostError(
            f"{name}: {value!r} is {rate:g} a second, below what any device does; a suffix "
            f"forgotten? write e.g. {example}"
        )
    return rate


# --- devices from flags and files -----------------------------------------------------------

FILE_KEYS = ("name", "peak", "bandwidth", "source", "note")
# Where the value at a path of keys was written (its key's place when the flag is true).
Locator = Callable[[tuple[str, ...], bool], Location | None]


def custom_device(
    peak: object,
    bandwidth: object,
    name: str = "custom",
    dtypes: Iterable[str] = DTYPES,
) -> Device:
    """A device from flags: ``peak`` one rate for every type in ``dtypes`` (text such as
    ``19.5T`` or a number), or a mapping of type to rate; ``bandwidth`` such as ``1.5TB/s``."""
    if isinstance(peak, Mapping):
        peaks = _peaks(peak, lambda _path, _key: None)
    else:
        rate = parse_rate(peak, "peak", "--peak")
        wanted = tuple(dtypes)
        for dtype in wanted:
            if dtype not in DTYPES:
                raise ConvcostError(_unknown_dtype(dtype))
        peaks = dict.fromkeys(wanted, rate)
    rate = parse_rate(bandwidth, "bandwidth", "--bandwidth")
    return _device(_key(name), bounded_name(name), peaks, rate, "given on the command line", "")


def device_from_mapping(mapping: object, location_of: Locator | None = None) -> Device:
    """A device from a decoded mapping such as ``{name: L4 at 60 W, peak: {fp32: 30.3T,
    fp16: 121T}, bandwidth: 300GB/s, source: ...}`` (``peak:`` may also be one rate for
    every type). ``location_of(path, key)`` says where the value at ``path`` (its key when
    ``key``) was written, for messages; every fault found is reported at once."""

    def at(path: tuple[str, ...], key: bool = False) -> Location | None:
        return location_of(path, key) if location_of is not None else None

    if not isinstance(mapping, Mapping):
        raise ConvcostError(
            "a device is a mapping with name:, peak: and bandwidth: (and source:, note:)",
            at(()),
        )
    faults = Faults()
    for key in mapping:
        if key not in FILE_KEYS:
            faults.add(
                ConvcostError(_unknown_key(str(key), FILE_KEYS, "a device"), at((key,), True))
            )
    for required, example in (("peak", "peak: {fp32: 19.5T}"), ("bandwidth", "bandwidth: 1.5TB/s")):
        if required not in mapping:
            faults.add(
                ConvcostError(f"the device has no '{required}:'; write e.g. {example}", at(()))
            )
    name = "custom"
    if "name" in mapping:
        try:
            name = bounded_name(_text(mapping["name"], "name"))
            if not name.strip():
                raise ConvcostError("name: a device's name is shown beside its time; give one")
        except ConvcostError as error:
            faults.add(error.located(at(("name",))))
    texts = {}
    for optional in ("source", "note"):
        if optional in mapping:
            try:
                texts[optional] = _text(mapping[optional], optional)
            except ConvcostError as error:
                faults.add(error.located(at((optional,))))
    peaks: dict[str, float] = {}
    if "peak" in mapping:
        given = mapping["peak"]
        if isinstance(given, Mapping):
            peaks = _peaks(given, lambda path, key: at(("peak", *path), key), faults)
        else:
            try:
                peaks = dict.fromkeys(DTYPES, parse_rate(given, "peak"))
            except ConvcostError as error:
                faults.add(error.located(at(("peak",))))
    bandwidth = 0.0
    if "bandwidth" in mapping:
        try:
            bandwidth = parse_rate(mapping["bandwidth"], "bandwidth")
        except ConvcostError as error:
            faults.add(error.located(at(("bandwidth",))))
    faults.check()
    source = texts.get("source", "a device file")
    return _device(_key(name), name, peaks, bandwidth, source, texts.get("note", ""))


def _peaks(
    given: Mapping[object, object], at: Locator, faults: Faults | None = None
) -> dict[str, float]:
    """Type → rate from a mapping; each fault added to ``faults`` (raised when None)."""
    peaks: dict[str, float] = {}
    for dtype, value in given.items():
        try:
            name = str(dtype).lower()  # as --dtype reads it: FP16 is fp16
            if name not in DTYPES:
                raise ConvcostError(_unknown_dtype(str(dtype)), at((str(dtype),), True))
            peaks[name] = parse_rate(value, "peak", f"peak {dtype}")
        except ConvcostError as error:
            located = error.located(at((str(dtype),), False))
            if faults is None:
                raise located from None
            faults.add(located)
    if not given:
        empty = ConvcostError(
            f"peak: names no data type; give at least fp32, e.g. peak: {{fp32: 19.5T}} "
            f"(types: {', '.join(DTYPES)})",
            at((), False),
        )
        if faults is None:
            raise empty
        faults.add(empty)
    return peaks


def _text(value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConvcostError(f"{key}: expected text, got {value!r}")
    return str(value)


def _key(name: str) -> str:
    """A preset-style key for a device name: lowercase words joined by hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower())) or "custom"


def _unknown_dtype(dtype: str) -> str:
    return (
        f"peak has no data type '{dtype}'; {did_you_mean(dtype, DTYPES)}types: {', '.join(DTYPES)}"
    )


def _unknown_key(key: str, known: tuple[str, ...], where: str) -> str:
    return f"{where} has no key '{key}'; {did_you_mean(key, known)}known keys: {', '.join(known)}"


def preset(key: str) -> Device:
    """The preset named ``key`` (any case), or a refusal listing the presets."""
    found = PRESETS.get(key.lower())
    if found is None:
        raise ConvcostError(
            f"no device preset '{key}'; {did_you_mean(key.lower(), PRESETS)}"
            f"presets: {', '.join(PRESETS)} (or give --peak and --bandwidth, or a device file)"
        )
    return found


class Devices(NamedTuple):
    """The presets, as ``convcost devices`` lists them."""

    entries: tuple[Device, ...]


def presets() -> Devices:
    return Devices(tuple(PRESETS.values()))
