"""Generated networks for the benchmarks: mixed conv/pool/bn/relu layers with concat
branches and residuals every few layers, as YAML or JSON configs. Nothing here imports
convcost: the runner measures trees of any layout (probe.py reads these configs there)."""

from __future__ import annotations

import json
from typing import Any

INPUT = "32x32x16"


def config(layers: int, distinct: bool = False) -> dict[str, Any]:
    """A config document with ``layers`` layers (merges not counted), a tenth in branches.
    Its layers repeat, as a network's do; ``distinct``: every conv's width differs instead,
    so that no two convs are alike (what the builder's per-config memo cannot help)."""
    items: list[Any] = []
    count = 0
    i = 0
    while count < layers:
        width = 16 + i if distinct else 16 + 8 * (i % 4)
        if i % 10 == 9:
            items.append({"concat": [[f"conv 1x1 {width // 2} nobias", "relu"],
                                     ["maxpool 3 1 p1", f"conv 1x1 {width // 2}"]],
                          "name": f"mix{i}"})  # fmt: skip
            count += 5
        elif i % 10 == 4:
            items.append({"residual": {"body": [{"conv": {"kernel": 3, "filters": 16}}, "bn"],
                                       "shortcut": "auto"}, "name": f"res{i}"})  # fmt: skip
            count += 4
        elif i % 3 == 0:
            items.append({"type": "conv", "kernel": "3x3", "filters": width, "bias": False})
            count += 1
        elif i % 3 == 1:
            items.append("bn")
            count += 1
        else:
            items.append({"relu": None})
            count += 1
        i += 1
    return {"name": f"generated-{layers}", "input": INPUT, "layers": items}


def yaml_text(layers: int, distinct: bool = False) -> str:
    import yaml

    return yaml.safe_dump(config(layers, distinct), sort_keys=False, width=200)


def json_text(layers: int) -> str:
    return json.dumps(config(layers))
