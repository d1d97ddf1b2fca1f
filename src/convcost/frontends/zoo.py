"""The built-in model zoo: configs shipped inside the package (``configs/`` in a checkout)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from convcost.core.limits import MAX_LAYERS
from convcost.frontends.config import parse_config
from convcost.frontends.tree import Network

# The package's own folder of configs, read as plain files: importlib.resources (for packages
# inside zip files, which convcost is never installed as) costs ~4 ms of start-up to import.
_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "zoo")


def model_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in os.scandir(_FOLDER)
        if entry.name.endswith(".yaml") and not entry.name.startswith("_")
    )


def model_text(name: str) -> str:
    with open(os.path.join(_FOLDER, f"{name}.yaml"), encoding="utf-8") as file:
        return file.read()


def load_model(
    name: str, defaults: Mapping[str, object] | None = None, max_layers: int = MAX_LAYERS
) -> Network:
    return parse_config(model_text(name), f"{name}.yaml", defaults, max_layers)
