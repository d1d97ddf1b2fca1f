"""Aligning two sequences of items (a group's layers and subgroups) by what they are.

An edit distance: deleting or inserting an item costs ``INDEL``; matching two items costs
what differs between them (``substitution``), so that a layer with the same kind and
settings in the same place is the same layer whatever its name, and an equal name is a
strong hint between two layers that differ. Matching two items that cost as much as
deleting one and inserting the other is never done.

The exact alignment (Wagner–Fischer) takes time n·m; where a stretch is long (``CELLS``)
or a diff has filled its ``BUDGET`` of cells, it is cut first at anchors (items equal in
what and name, then in what alone, that occur once on each side, kept in order) and aligned
between them, or by the greedy diff of Myers (1986) on what the items are while the
differences are few (``MYERS_STEPS``), and at the last by position. Everything past the
bounded exact alignment is linear or near it: two 10,000-layer networks align in a fraction
of a second, and in about a second at worst.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Sequence

INDEL = 100
"""Deleting or inserting one item (a layer, or a group with everything inside it)."""

CELLS = 40_000
"""The largest n·m aligned exactly in one piece (longer stretches are cut at anchors)."""

BUDGET = 400_000
"""The cells the exact alignment may fill over a whole diff (about a second): past it, the
stretches left are aligned by the linear methods alone."""

MYERS_STEPS = 2_000_000
"""The work the greedy diff may take over a whole diff: differences times lengths."""

RENUMBERED = 20
"""Matching two different items whose names differ only in their number (``conv5`` and
``conv6``): generated names shift after an insertion, so theirs are a weak hint."""

_NEVER = 2 * INDEL  # a match this dear is never better than a deletion and an insertion


class Item:
    """A layer or a group as aligned: ``key`` says what it is (equal keys: equal kind,
    settings, shapes and figures, or for a group equal items), ``skeleton`` what sort of
    thing (a layer's kind; a group's kind and its items' skeletons)."""

    __slots__ = ("_counts", "_stem", "children", "detail", "group", "index", "key", "kind",
                 "name", "skeleton")  # fmt: skip

    def __init__(
        self,
        key: int,
        skeleton: int,
        name: str,
        index: int,
        group: bool,
        kind: str,
        detail: tuple[object, ...] | None,
    ) -> None:
        self.key, self.skeleton, self.name, self.index = key, skeleton, name, index
        self.group, self.kind, self.detail = group, kind, detail
        self.children: list[Item] = []
        self._stem: str | None = None
        self._counts: tuple[Counter[int], Counter[int]] | None = None

    def renamed(self, name: str) -> Item:
        """This item under another name, its contents shared."""
        item = Item(self.key, self.skeleton, name, self.index, self.group, self.kind, self.detail)
        item.children, item._counts = self.children, self._counts
        return item

    @property
    def stem(self) -> str:
        """The name without the number it ends with: generated names share their stem."""
        if self._stem is None:
            self._stem = self.name.rstrip("0123456789")
        return self._stem

    @property
    def counts(self) -> tuple[Counter[int], Counter[int]]:
        """A group's items' keys and skeletons, counted."""
        if self._counts is None:
            children = self.children
            self._counts = (Counter(c.key for c in children), Counter(c.skeleton for c in children))
        return self._counts


def substitution(a: Item, b: Item) -> int:
    """What matching ``a`` with ``b`` costs: 0 for equal items under one name, 1 under two
    (a rename); for different items, what differs (below ``INDEL``), plus ``RENUMBERED``
    when their names differ only in their number, or ``INDEL`` when they differ otherwise
    (so two items that differ in both are matched only when they are much alike)."""
    if a.group != b.group:
        return _NEVER
    if a.key == b.key:
        return 0 if a.name == b.name else 1
    return _distance(a, b) + _names(a, b)


def _distance(a: Item, b: Item) -> int:
    """What differs between two items of the same sort (layers, or groups)."""
    return _group_distance(a, b) if a.group else _layer_distance(a, b)


def _names(a: Item, b: Item) -> int:
    """What two different items' names add to the cost of matching them."""
    if a.name == b.name:
        return 0
    return RENUMBERED if a.stem == b.stem else INDEL


def _layer_distance(a: Item, b: Item) -> int:
    if a.kind != b.kind:
        return INDEL
    assert a.detail is not None and b.detail is not None
    (config_a, in_a, out_a), (config_b, in_b, out_b) = a.detail, b.detail
    cost = 50 * (config_a != config_b) + 25 * (out_a != out_b) + 15 * (in_a != in_b)
    return max(cost, 10)  # differing only in a figure (its parameters, say)


def _group_distance(a: Item, b: Item) -> int:
    """Below ``INDEL`` by how much of their items are alike: 10 when they differ only a
    little, 50 when their items are of the same sorts in the same numbers but all differ
    (two inception modules), up to 100; +25 between groups of different kinds."""
    (keys_a, skeletons_a), (keys_b, skeletons_b) = a.counts, b.counts
    size = len(a.children) + len(b.children)
    if size == 0:
        return 10 + 25 * (a.kind != b.kind)
    same_keys = 2 * sum((keys_a & keys_b).values())
    same_skeletons = 2 * sum((skeletons_a & skeletons_b).values())
    cost = INDEL - (40 * same_keys + 50 * same_skeletons) // size
    return min(INDEL, max(cost, 10) + 25 * (a.kind != b.kind))


class Budget:
    """What is left of ``BUDGET`` and ``MYERS_STEPS`` for one diff (shared by the
    alignments of its groups)."""

    def __init__(self) -> None:
        self.cells, self.steps = BUDGET, MYERS_STEPS


def align(
    old: Sequence[Item], new: Sequence[Item], budget: Budget | None = None
) -> list[tuple[int, int]]:
    """The matched pairs (old index, new index), both increasing."""
    budget = Budget() if budget is None else budget
    matches: list[tuple[int, int]] = []
    # Stretches still to align: (old start, old end, new start, new end).
    work = [(0, len(old), 0, len(new))]
    while work:
        lo_a, hi_a, lo_b, hi_b = work.pop()
        while lo_a < hi_a and lo_b < hi_b and _same(old[lo_a], new[lo_b]):
            matches.append((lo_a, lo_b))
            lo_a, lo_b = lo_a + 1, lo_b + 1
        while lo_a < hi_a and lo_b < hi_b and _same(old[hi_a - 1], new[hi_b - 1]):
            hi_a, hi_b = hi_a - 1, hi_b - 1
            matches.append((hi_a, hi_b))
        n, m = hi_a - lo_a, hi_b - lo_b
        if n == 0 or m == 0:
            continue
        if n == m and all(old[lo_a + k].key == new[lo_b + k].key for k in range(n)):
            matches += [(lo_a + k, lo_b + k) for k in range(n)]  # renamed, nothing else
            continue
        if n * m <= min(CELLS, budget.cells):
            budget.cells -= n * m
            matches += _exact(old, new, lo_a, hi_a, lo_b, hi_b)
            continue
        anchors = _anchors(old, new, lo_a, hi_a, lo_b, hi_b, budget)
        if anchors is None:
            matches += _by_position(old, new, lo_a, hi_a, lo_b, hi_b)
            continue
        matches += anchors
        for (i, j), (next_i, next_j) in zip(
            [(lo_a - 1, lo_b - 1), *anchors], [*anchors, (hi_a, hi_b)], strict=True
        ):
            if i + 1 < next_i or j + 1 < next_j:
                work.append((i + 1, next_i, j + 1, next_j))
    matches.sort()
    return matches


def _same(a: Item, b: Item) -> bool:
    return a.key == b.key and a.name == b.name


def _exact(
    old: Sequence[Item], new: Sequence[Item], lo_a: int, hi_a: int, lo_b: int, hi_b: int
) -> list[tuple[int, int]]:
    """The least-cost alignment (Wagner–Fischer): where costs tie, a match, then a removal
    before an addition."""
    a, b = old[lo_a:hi_a], new[lo_b:hi_b]
    n, m = len(a), len(b)
    cost: list[list[int]] = [[INDEL * j for j in range(m + 1)]]
    subs: list[list[int]] = []
    differs: dict[tuple[int, int], int] = {}  # what differs, by keys: networks repeat
    for i in range(1, n + 1):
        item = a[i - 1]
        row_subs = []
        for other in b:
            if item.key == other.key or item.group != other.group:
                row_subs.append(substitution(item, other))
                continue
            pair = (item.key, other.key)
            content = differs.get(pair)
            if content is None:
                content = differs[pair] = _distance(item, other)
            row_subs.append(content + _names(item, other))
        subs.append(row_subs)
        above = cost[-1]
        row = [INDEL * i]
        for j in range(1, m + 1):
            best = above[j] + INDEL
            left = row[j - 1] + INDEL
            if left < best:
                best = left
            sub = row_subs[j - 1]
            if sub < _NEVER and above[j - 1] + sub < best:
                best = above[j - 1] + sub
            row.append(best)
        cost.append(row)
    matches: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 and j > 0:
        sub = subs[i - 1][j - 1]
        if sub < _NEVER and cost[i][j] == cost[i - 1][j - 1] + sub:
            matches.append((lo_a + i - 1, lo_b + j - 1))
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i][j - 1] + INDEL:
            j -= 1  # an addition, listed after the removals before it
        else:
            i -= 1
    matches.reverse()
    return matches


def _anchors(
    old: Sequence[Item],
    new: Sequence[Item],
    lo_a: int,
    hi_a: int,
    lo_b: int,
    hi_b: int,
    budget: Budget,
) -> list[tuple[int, int]] | None:
    """Pairs to cut a long stretch at, in order: items once on each side with the same key
    and name, else with the same key; else the equal runs of a diff by keys. None when
    nothing can be anchored within bounded work."""
    keyed: tuple[Callable[[Item], Hashable], ...] = (
        lambda item: (item.key, item.name),
        lambda item: item.key,
    )
    for key_of in keyed:
        pairs = _unique_pairs(old, new, lo_a, hi_a, lo_b, hi_b, key_of)
        if pairs:
            return _increasing(pairs)
    runs = _myers([x.key for x in old[lo_a:hi_a]], [x.key for x in new[lo_b:hi_b]], budget)
    if not runs:
        return None
    return [(lo_a + i, lo_b + j) for i, j in runs]


def _unique_pairs(
    old: Sequence[Item],
    new: Sequence[Item],
    lo_a: int,
    hi_a: int,
    lo_b: int,
    hi_b: int,
    key_of: Callable[[Item], Hashable],
) -> list[tuple[int, int]]:
    seen_a: dict[Hashable, int] = {}
    for i in range(lo_a, hi_a):
        key = key_of(old[i])
        seen_a[key] = -1 if key in seen_a else i
    seen_b: dict[Hashable, int] = {}
    for j in range(lo_b, hi_b):
        key = key_of(new[j])
        seen_b[key] = -1 if key in seen_b else j
    return sorted(
        (i, seen_b[key]) for key, i in seen_a.items() if i >= 0 and seen_b.get(key, -1) >= 0
    )


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of ``pairs`` (sorted by old index) whose new indices increase."""
    tails: list[int] = []  # the least new index ending a run of each length
    tail_at: list[int] = []  # which pair ends it
    before = [-1] * len(pairs)
    for at, (_, j) in enumerate(pairs):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_at.append(at)
        else:
            tails[length], tail_at[length] = j, at
        before[at] = tail_at[length - 1] if length else -1
    run: list[tuple[int, int]] = []
    at = tail_at[-1] if tail_at else -1
    while at >= 0:
        run.append(pairs[at])
        at = before[at]
    run.reverse()
    return run


def _myers(a: Sequence[int], b: Sequence[int], budget: Budget) -> list[tuple[int, int]] | None:
    """The equal pairs of a shortest edit script between ``a`` and ``b`` (Myers' greedy
    O((n+m)·D) algorithm), or None when it would take more than the budget's steps."""
    n, m = len(a), len(b)
    limit = budget.steps // max(1, n + m)
    furthest: dict[int, int] = {1: 0}
    trace: list[dict[int, int]] = []
    for d in range(min(limit, n + m) + 1):
        budget.steps -= n + m  # what a round may take at most: its diagonals' snakes
        trace.append(dict(furthest))
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and furthest[k - 1] < furthest[k + 1]):
                x = furthest[k + 1]
            else:
                x = furthest[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            furthest[k] = x
            if x >= n and y >= m:
                return _snakes(trace, n, m, a, b)
    return None


def _snakes(
    trace: list[dict[int, int]], n: int, m: int, a: Sequence[int], b: Sequence[int]
) -> list[tuple[int, int]]:
    """The diagonal (equal) steps of the path ``_myers`` found, walked back from the end:
    ``trace[d]`` holds the furthest reach on each diagonal before step ``d``."""
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        furthest = trace[d]
        k = x - y
        down = k == -d or (k != d and furthest[k - 1] < furthest[k + 1])
        previous_k = k + 1 if down else k - 1
        previous_x = furthest[previous_k]
        previous_y = previous_x - previous_k
        while x > previous_x and y > previous_y:
            x, y = x - 1, y - 1
            pairs.append((x, y))
        x, y = previous_x, previous_y
    pairs.reverse()
    return pairs


def _by_position(
    old: Sequence[Item], new: Sequence[Item], lo_a: int, hi_a: int, lo_b: int, hi_b: int
) -> list[tuple[int, int]]:
    """The last resort, linear: the k-th item with the k-th where they may match."""
    return [
        (lo_a + k, lo_b + k)
        for k in range(min(hi_a - lo_a, hi_b - lo_b))
        if substitution(old[lo_a + k], new[lo_b + k]) < _NEVER
    ]
