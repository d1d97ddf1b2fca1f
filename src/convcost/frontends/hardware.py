"""The costing settings the command line and the API ask for: number formats, optimizer,
and the device (a preset's name, a device file, or ``--peak``/``--bandwidth`` figures)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from convcost.core.errors import ConvcostError, did_you_mean

if TYPE_CHECKING:
    from convcost.core.costs import Settings
    from convcost.core.devices import Device


def device_named(name: str) -> Device:
    """A preset by its name (``t4``), or the device a YAML file describes."""
    from convcost.core.devices import PRESETS

    found = PRESETS.get(name.strip().lower())
    if found is not None:
        return found
    if name.endswith((".yaml", ".yml", ".json")) or Path(name).is_file():
        from convcost.frontends.devicefile import read_device_file

        return read_device_file(name)
    names = list(PRESETS)
    raise ConvcostError(
        f"--device: no device '{name}'; {did_you_mean(name, names)}presets: "
        f"{', '.join(names)} (convcost devices lists them), or a device file (YAML)"
    )


def device_of(name: str | None, peak: str | None, bandwidth: str | None) -> Device | None:
    """The device the options name: a preset or file, its peak and bandwidth replaced by
    ``--peak``/``--bandwidth`` where given; without ``--device``, both figures are needed."""
    if name is None and peak is None and bandwidth is None:
        return None
    from convcost.core.devices import DTYPES, custom_device, parse_rate

    if name is None:
        if peak is None or bandwidth is None:
            missing = "--peak" if peak is None else "--bandwidth"
            raise ConvcostError(
                f"a custom device needs both --peak and --bandwidth (missing {missing}), "
                "e.g. --peak 19.5T --bandwidth 1.5TB/s; or name a preset with --device"
            )
        return custom_device(peak, bandwidth)
    device = device_named(name)
    if peak is not None:
        rate = parse_rate(peak, "peak", "--peak")
        device = device._replace(peak=dict.fromkeys(DTYPES, rate))
    if bandwidth is not None:
        device = device._replace(bandwidth=parse_rate(bandwidth, "bandwidth", "--bandwidth"))
    if peak is not None or bandwidth is not None:  # the figures are the user's now
        given = " and ".join(f"--{o}" for o, v in (("peak", peak), ("bandwidth", bandwidth)) if v)
        device = device._replace(
            name=f"{device.name} with {given}", source=f"{device.source}; {given} given"
        )
    return device


_EXAMPLES = {
    "dtype": "fp16", "weight_dtype": "int8", "activation_dtype": "fp16", "optimizer": "adam",
    "device": "t4", "peak": "19.5T", "bandwidth": "1.5TB/s",
}  # fmt: skip


def settings_of(
    dtype: str | None = None,
    weight_dtype: str | None = None,
    activation_dtype: str | None = None,
    optimizer: str = "adam",
    device: str | None = None,
    peak: str | None = None,
    bandwidth: str | None = None,
    fuse: bool = False,
) -> Settings:
    """Costing settings from the options' texts; a bad name is refused with the valid ones."""
    from convcost.core.costs import Settings, optimizer_states
    from convcost.core.dtypes import precision

    texts = {
        "dtype": dtype,
        "weight_dtype": weight_dtype,
        "activation_dtype": activation_dtype,
        "optimizer": optimizer,
        "device": device,
        "peak": peak,
        "bandwidth": bandwidth,
    }
    for name, value in texts.items():
        if value is not None and not isinstance(value, str):
            raise ConvcostError(f"{name}: expected a name or text such as "
                                f"{_EXAMPLES[name]!r}, got {value!r}")  # fmt: skip
        if name == "optimizer" and value is None:
            raise ConvcostError("optimizer: expected one of sgd, momentum, adam, adamw, got None")
    if not isinstance(fuse, bool):
        raise ConvcostError(f"fuse: expected True or False, got {fuse!r}")

    optimizer_states(optimizer)
    chosen = device_of(device, peak, bandwidth)
    if fuse and chosen is None:
        raise ConvcostError("--fuse changes the roofline time: give a device with --device")
    settings = Settings(
        precision(dtype, weight_dtype, activation_dtype), optimizer.strip().lower(), chosen, fuse
    )
    check_device(settings)
    return settings


def check_device(settings: Settings) -> None:
    """A device without a peak at the activations' format is refused, with those it has."""
    device, dtype = settings.device, settings.precision.activations.name
    if device is not None and dtype not in device.peak:
        raise ConvcostError(
            f"{device.name} has no published {dtype} peak (it has: {', '.join(device.peak)}); "
            "choose one of those with --dtype/--activation-dtype, or give the peak with --peak"
        )
