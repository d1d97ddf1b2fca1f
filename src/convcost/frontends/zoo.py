"""The built-in model zoo: configs shipped inside the package (``configs/`` in a checkout)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from convcost.frontends.config import parse_config
from convcost.network import Network


def model_names() -> list[str]:
    folder = resources.files("convcost.zoo")
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and not entry.name.startswith("_")
    )


def model_text(name: str) -> str:
    return resources.files("convcost.zoo").joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def load_model(name: str, defaults: Mapping[str, object] | None = None) -> Network:
    return parse_config(model_text(name), f"{name}.yaml", defaults)
