"""The built-in models analysed: what ``convcost models`` lists."""

from __future__ import annotations

from typing import NamedTuple

from convcost.core.costing import cost
from convcost.core.report import Report
from convcost.frontends import zoo
from convcost.frontends.tree import analyze


class ModelEntry(NamedTuple):
    name: str
    description: str
    report: Report


class Models(NamedTuple):
    entries: tuple[ModelEntry, ...]


def catalogue() -> Models:
    """Every built-in model, by name, with its report."""
    entries = []
    for name in zoo.model_names():
        network = zoo.load_model(name)
        entries.append(ModelEntry(name, network.description, cost(analyze(network))))
    return Models(tuple(entries))
