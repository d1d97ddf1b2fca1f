"""convcost diff's alignment: its invariants on random edits, and its bounded methods for long
groups (anchors, Myers' diff, by position) giving an insertion as one insertion."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.analyses import alignment
from convcost.analyses.diff import Diff, diff
from convcost.core.report import Report
from convcost.frontends import analyze_spec
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import analyze

# Layers that keep an 8×8×8 input's shape, so that any edit of a stack of them is a network.
KEEPING = ("conv 3x3 8", "conv 1x1 8", "relu", "bn", "maxpool 3 1 p1", "conv 3x3 8 nobias")


def _report(layers: list[str]) -> Report:
    return analyze(parse_inline(" | ".join(["8x8x8", *layers])))


def _check_covers(result: Diff, old: Report, new: Report) -> None:
    """Every layer of either network once, the new ones in order; deltas sum to the totals."""
    assert [c.new for c in result.layers if c.new] == list(new.layers)
    olds = [c.old for c in result.layers if c.old]
    assert Counter(r.name for r in olds) == Counter(r.name for r in old.layers)
    assert len(olds) == len(old.layers)
    assert sum(c.macs_delta or 0 for c in result.layers) == new.totals.macs - old.totals.macs
    assert all(c.known for c in result.layers)  # the configs here have no uncounted operator
    assert sum(c.params_delta or 0 for c in result.layers) == new.totals.params - old.totals.params
    for change in result.layers:
        assert (change.status == "added") == (change.old is None)
        assert (change.status == "removed") == (change.new is None)


stacks = st.lists(st.sampled_from(KEEPING), min_size=1, max_size=14)


@settings(max_examples=150, deadline=None)
@given(stacks, st.data())
def test_one_insertion_is_one_added_layer(layers: list[str], data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(layers)))
    inserted = data.draw(st.sampled_from(KEEPING))
    old, new = _report(layers), _report([*layers[:at], inserted, *layers[at:]])
    result = diff(old, new)
    _check_covers(result, old, new)
    (added,) = result.changed
    assert added.status == "added" and added.new is not None
    assert added.new.config == new.layers[at].config  # where it went, or beside its equal
    assert all(c.status in ("unchanged", "renamed") for c in result.layers if c is not added)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(KEEPING), min_size=2, max_size=14), st.data())
def test_one_removal_is_one_removed_layer(layers: list[str], data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(layers) - 1))
    old, new = _report(layers), _report(layers[:at] + layers[at + 1 :])
    result = diff(old, new)
    _check_covers(result, old, new)
    (removed,) = result.changed
    assert removed.status == "removed" and removed.old is not None
    assert removed.old.config == old.layers[at].config


@settings(max_examples=100, deadline=None)
@given(stacks, stacks)
def test_any_two_stacks_are_covered(a: list[str], b: list[str]) -> None:
    old, new = _report(a), _report(b)
    _check_covers(diff(old, new), old, new)
    same = diff(old, old)
    assert all(c.status == "unchanged" for c in same.layers) and same.groups == ()


@settings(max_examples=100, deadline=None)
@given(stacks, stacks)
def test_the_bounded_methods_cover_too(a: list[str], b: list[str]) -> None:
    # With no room for the exact alignment, anchors, Myers' diff or positions decide.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alignment, "CELLS", 1)
        old, new = _report(a), _report(b)
        _check_covers(diff(old, new), old, new)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=12), st.lists(st.integers(0, 3), max_size=12))
def test_myers_finds_a_longest_common_subsequence(a: list[int], b: list[int]) -> None:
    pairs = alignment._myers(a, b, alignment.Budget())
    assert pairs is not None
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(i < k and j < m for (i, j), (k, m) in pairwise(pairs))
    longest = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            longest[i + 1][j + 1] = (
                longest[i][j] + 1 if x == y else max(longest[i][j + 1], longest[i + 1][j])
            )
    assert len(pairs) == longest[-1][-1]


def test_myers_gives_up_past_its_budget() -> None:
    budget = alignment.Budget()
    budget.steps = 10 * 20  # two rounds on sequences of 10 + 10
    assert alignment._myers(list(range(10)), list(range(10, 20)), budget) is None
    assert budget.steps < 0


def test_increasing_keeps_the_longest_ordered_run() -> None:
    pairs = [(0, 5), (1, 1), (2, 2), (3, 9), (4, 3), (5, 4), (6, 0)]
    assert alignment._increasing(pairs) == [(1, 1), (2, 2), (4, 3), (5, 4)]
    assert alignment._increasing([]) == []


# --- long groups: cut at anchors, or by Myers' diff -----------------------------------------


def _widths(count: int) -> Iterator[int]:
    for i in range(count):
        yield 16 + 8 * (i % 4)


def _grouped(convs: int, insert_after: int | None = None) -> dict[str, Any]:
    """conv/bn/relu triples, widths in a cycle of four, a residual every tenth; with
    ``insert_after``, a 1×1 conv of the same width after that triple's relu (so that no
    shape after it changes)."""
    items: list[Any] = []
    for i, width in enumerate(_widths(convs)):
        items += [f"conv 3x3 {width}", "bn", "relu"]
        if i % 10 == 9:
            items.append({"residual": {"body": [f"conv 3x3 {width}", "bn"]}, "name": f"res{i}"})
        if i == insert_after:
            items.append(f"conv 1x1 {width}")
    return {"input": "16x16x16", "layers": items}


def _analysed(tmp_path: Path, name: str, document: dict[str, Any]) -> Report:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return analyze_spec(str(path))[1]


def _spy(patch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    original: Callable[..., Any] = getattr(alignment, name)

    def counted(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    patch.setattr(alignment, name, counted)
    return calls


def test_an_insertion_in_a_long_group_is_one_insertion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1,000 triples and 100 residuals at the top level: past CELLS, so cut at anchors (the
    # bn, relu and residual names do not shift; the convs after the insertion do).
    anchors, exact = _spy(monkeypatch, "_anchors"), _spy(monkeypatch, "_exact")
    old = _analysed(tmp_path, "old", _grouped(1000))
    new = _analysed(tmp_path, "new", _grouped(1000, insert_after=500))
    result = diff(old, new)
    _check_covers(result, old, new)
    assert anchors and exact
    assert [(c.name, c.status) for c in result.changed] == [("conv502", "added")]
    assert result.changed[0].new is not None and result.changed[0].new.config == "1x1 s1 same"
    # conv502 … conv1101 (the residuals' convs are inside them, unshifted) renamed:
    assert len(result.renamed) == 499
    assert result.listed(False) == result.changed


def _flat(convs: int, insert_at: int | None = None) -> dict[str, Any]:
    widths = list(_widths(convs))
    layers = [f"conv 3x3 {w}" for w in widths]
    if insert_at is not None:  # a 1×1 conv as wide as the conv before it: no shape changes
        layers.insert(insert_at, f"conv 1x1 {widths[insert_at - 1]}")
    return {"input": "16x16x16", "layers": layers}


def test_a_long_run_of_convs_aligns_by_myers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every name after the insertion shifts and every width recurs: nothing to anchor on.
    myers = _spy(monkeypatch, "_myers")
    old = _analysed(tmp_path, "old", _flat(2000))
    new = _analysed(tmp_path, "new", _flat(2000, insert_at=10))
    result = diff(old, new)
    _check_covers(result, old, new)
    assert myers
    assert [(c.name, c.status) for c in result.changed] == [("conv11", "added")]
    assert len(result.renamed) == 1990


def test_past_every_budget_layers_are_matched_by_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The last resort: what matching by name gave (each shifted conv changed, one added).
    monkeypatch.setattr(alignment, "BUDGET", 0)
    monkeypatch.setattr(alignment, "MYERS_STEPS", 0)
    old = _analysed(tmp_path, "old", _flat(300))
    new = _analysed(tmp_path, "new", _flat(300, insert_at=10))
    result = diff(old, new)
    _check_covers(result, old, new)
    statuses = Counter(c.status for c in result.layers)
    assert statuses == Counter({"unchanged": 10, "changed": 290, "added": 1})
