"""Renderers: they format core results (tables, JSON, CSV, Markdown, GitHub workflow
commands, JUnit XML) and never compute. ``registry.emit`` is the one way out.

Each format's writers are imported only when that format is asked for: ``--format json``
never imports Rich.
"""

from __future__ import annotations

from convcost.render.registry import Format, Options, Unit, emit

__all__ = ["Format", "Options", "Unit", "emit"]
