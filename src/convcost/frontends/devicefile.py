"""Device files: hardware for roofline estimates described in a small YAML mapping, each
fault reported as ``file:line:col: message``::

    name: lab board
    peak: {fp32: 10T, fp16: 40T, int8: 80T}   # dense ops a second; or one rate for all: 10T
    bandwidth: 200GB/s                        # bytes a second (GB 10**9, GiB 2**30)
    source: where the figures come from
    note: how a derived figure was worked out
"""

from __future__ import annotations

import re

from convcost.core.devices import Device, device_from_mapping
from convcost.core.errors import ConvcostError, Location
from convcost.frontends.files import read_file

MAX_DEVICE_BYTES = 64 * 1024  # a device is a handful of lines
MAX_DEVICE_COLLECTIONS = 100  # the mapping and its peak: mapping, with room to spare
_NOTHING = re.compile(r"(?:[ \t]*(?:#[^\n]*)?(?:\r\n|\r|\n))*[ \t]*(?:#[^\n]*)?")


def read_device_file(path: str) -> Device:
    """The device a YAML file describes (see the module's docstring)."""
    data = read_file(
        path,
        lambda file: file.read(MAX_DEVICE_BYTES + 1),
        "no such device file",
        "give a YAML device file",
    )
    if len(data) > MAX_DEVICE_BYTES:
        raise ConvcostError(
            f"{path}: more than {MAX_DEVICE_BYTES // 1024} KiB; a device file is a few lines "
            "(name:, peak:, bandwidth:, source:, note:)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[: error.start].decode("utf-8")
        line = before.count("\n") + 1
        column = len(before) - before.rfind("\n")
        raise ConvcostError(
            f"byte 0x{data[error.start]:02x} is not UTF-8 text; save the device file as UTF-8",
            Location(path, line, column),
        ) from None
    return parse_device(text, path)


def parse_device(text: str, source: str) -> Device:
    """The device described by YAML ``text``; ``source`` names it in messages."""
    from convcost.frontends.yamlread import compose  # PyYAML: only when a file is read

    if _NOTHING.fullmatch(text.removeprefix("\ufeff")):
        raise ConvcostError(
            "the device file is empty; write name:, peak: and bandwidth:", Location(source, 1, 1)
        )
    root = compose(text, source, MAX_DEVICE_COLLECTIONS)

    def location_of(path: tuple[str, ...], key: bool) -> Location:
        node = root
        for depth, part in enumerate(path):
            if not isinstance(node.value, dict) or part not in node.value:
                return node.at
            if key and depth == len(path) - 1:
                return node.key_at[part]
            node = node.value[part]
        return node.at

    return device_from_mapping(root.plain(), location_of)
