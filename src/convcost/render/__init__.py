"""Renderers: they format core results (tables, JSON, CSV, Markdown) and never compute.

Each format lives in its own module so that ``--format json`` never imports Rich.
"""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class Unit(StrEnum):
    macs = "macs"
    flops = "flops"
