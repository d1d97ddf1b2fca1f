"""Outputs captured before the renovation (tests/golden): every built-in model in every
format, compare, shape, models, check, diff, schema and a few refusals. Text formats must
match byte for byte; JSON must hold everything it held (additions allowed)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.golden.cases import FOLDER, run

RECORDS = sorted(FOLDER.glob("*.json"))


def _contains(old: Any, new: Any, where: str = "$", lists_grow: bool = False) -> None:
    """``new`` holds all of ``old``: the same scalars and lists, objects with extra keys
    (and with ``lists_grow``, as for the schema's lists of kinds, lists with extra items)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} is gone"
            _contains(value, new[key], f"{where}.{key}", lists_grow)
        assert [k for k in new if k in old] == list(old), f"{where}: keys reordered"
    elif isinstance(old, list) and lists_grow:
        assert isinstance(new, list), where
        rest = iter(new)
        for index, item in enumerate(old):
            assert any(_holds(item, candidate) for candidate in rest), f"{where}[{index}] is gone"
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _contains(a, b, f"{where}[{index}]")
    else:
        assert type(new) is type(old) and new == old, f"{where}: {old!r} became {new!r}"


def _holds(old: Any, new: Any) -> bool:
    try:
        _contains(old, new, lists_grow=True)
    except AssertionError:
        return False
    return True


def _is_json(args: list[str]) -> bool:
    return args == ["schema"] or any(
        a == "json" and args[i - 1] in ("-f", "--format") for i, a in enumerate(args)
    )


def test_every_case_is_recorded() -> None:
    from tests.golden.cases import cases, slug

    assert len(RECORDS) == len(cases()) > 200
    assert {r.stem for r in RECORDS} == {slug(args) for args in cases()}


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_output_unchanged(record: Any) -> None:
    expected = json.loads(record.read_text(encoding="utf-8"))
    old_out = record.with_suffix(".out").read_text(encoding="utf-8")
    code, out, err = run(expected["args"])
    assert (code, err) == (expected["exit"], expected["stderr"])
    if _is_json(expected["args"]) and old_out.strip():  # a check that fails prints JSON too
        _contains(json.loads(old_out), json.loads(out), lists_grow=expected["args"] == ["schema"])
    else:
        assert _stamped(out) == _stamped(old_out)


def _stamped(text: str) -> str:
    """JUnit reports say when they were made: the one part that may differ."""
    return re.sub(r'timestamp="[^"]*"', 'timestamp=""', text)
