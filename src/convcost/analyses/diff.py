"""What changed between two versions of a network, layer by layer.

Layers are matched by what they are, with their names as hints: each group's sequence of
direct layers and subgroups is aligned with its counterpart by an edit distance (see
``alignment``), matched groups are aligned inside in turn, and what is left over is added or
removed. Inserting a layer therefore shows as one insertion even where the generated names
after it shift (``conv5`` is now ``conv6``), and a group renamed with the same contents as a
rename. Where one network groups layers that the other lists flat (a zoo model against its
Caffe prototxt or ONNX export), the unmatched groups dissolve into their parent's sequence
and their layers align there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, NamedTuple, Protocol

from convcost.analyses.alignment import Budget, Item, align
from convcost.core.metrics import METRICS, diffed
from convcost.core.report import LayerResult, Report
from convcost.core.shapes import Shape

Status = Literal["unchanged", "changed", "added", "removed", "renamed"]
REAL: frozenset[str] = frozenset({"changed", "added", "removed"})
"""The statuses that change what a network computes (a rename changes only names)."""

POSITION = "position"
"""In ``what``: matched by its name out of order (a layer or group moved among its peers)."""


class _Side(Protocol):
    """What a change reads of either side: a layer's result or a group's sums."""

    @property
    def name(self) -> str: ...
    @property
    def local_name(self) -> str: ...
    @property
    def macs(self) -> int: ...
    @property
    def params(self) -> int: ...


class _Sides:
    """What a layer's change and a group's share: their two sides, names and deltas."""

    old: _Side | None
    new: _Side | None

    def delta(self, figure: Literal["macs", "params"]) -> int:
        """The new side's figure less the old one's (0 for a side that is missing)."""
        old, new = self.old, self.new
        return (getattr(new, figure) if new else 0) - (getattr(old, figure) if old else 0)

    @property
    def old_name(self) -> str | None:
        return None if self.old is None else self.old.name

    @property
    def new_name(self) -> str | None:
        return None if self.new is None else self.new.name

    @property
    def renamed_itself(self) -> bool:
        """Its own name differs (not only the groups' it is in)."""
        old, new = self.old, self.new
        if old is None or new is None:
            return False
        return old.local_name != new.local_name and old.name != new.name


@dataclass(frozen=True)
class LayerChange(_Sides):
    name: str  # its name in the new network (the old one's when removed)
    status: Status
    old: LayerResult | None
    new: LayerResult | None
    what: tuple[str, ...] = ()  # for a changed layer: position, kind, config, input, ...

    @property
    def known(self) -> bool:
        """Whether both sides' work is known (neither is an operator convcost could not
        count): else the deltas are unknown (None)."""
        return all(side is None or side.counted for side in (self.old, self.new))

    @property
    def macs_delta(self) -> int | None:
        return self.delta("macs") if self.known else None

    @property
    def params_delta(self) -> int | None:
        return self.delta("params") if self.known else None


@dataclass(frozen=True)
class GroupSide:
    """A group (block, repeat, concat, residual, named group) on one side, with its layers'
    summed figures."""

    name: str
    local_name: str
    kind: str
    macs: int
    params: int


@dataclass(frozen=True)
class GroupChange(_Sides):
    """A group of either network: ``changed`` when a layer inside it is changed, added or
    removed, or it moved; ``renamed`` when only its name (or an enclosing group's) differs."""

    status: Status
    old: GroupSide | None
    new: GroupSide | None
    what: tuple[str, ...] = ()  # position (moved), layers (a layer inside it differs)

    @property
    def name(self) -> str:
        side = self.new or self.old
        assert side is not None  # a change has at least one side
        return side.name

    @property
    def macs_delta(self) -> int:
        return self.delta("macs")

    @property
    def params_delta(self) -> int:
        return self.delta("params")


Change = LayerChange | GroupChange


@dataclass(frozen=True)
class Diff:
    """``layers``: every layer of either network, in the new network's order with removed
    layers where they stood in the old one; ``groups`` likewise for groups; ``entries``:
    both, each group before its contents."""

    old: Report
    new: Report
    layers: tuple[LayerChange, ...]
    groups: tuple[GroupChange, ...] = ()
    entries: tuple[Change, ...] = ()

    @property
    def changed(self) -> tuple[LayerChange, ...]:
        """The layers that differ in what they compute: changed, added or removed."""
        return tuple(c for c in self.layers if c.status in REAL)

    @property
    def renamed(self) -> tuple[LayerChange, ...]:
        return tuple(c for c in self.layers if c.status == "renamed")

    def listed(self, show_all: bool) -> tuple[Change, ...]:
        """What a table lists: every layer that differs, every rename made by hand and every
        move; with ``show_all`` every layer, and every group renamed or moved. Renames that
        only renumber (``conv5`` → ``conv6``, what generated names do after an insertion) and
        layers renamed with their group are left to ``show_all`` (JSON lists them all)."""
        return tuple(c for c in self.entries if _listed(c, show_all))

    def growth(self, metric: str) -> Fraction | None:
        """Relative growth of the total (0.05 for +5 %); None when the old total is 0."""
        read = METRICS[metric].count
        old, new = read(self.old.totals), read(self.new.totals)
        return None if old == 0 else Fraction(new - old, old)

    def grows_more_than(self, percent: Fraction) -> list[str]:
        """The compared totals (core.metrics: macs, params) that grow by more than
        ``percent`` percent."""
        grown = []
        for metric in (m.key for m in diffed()):
            growth = self.growth(metric)
            old = METRICS[metric].count(self.old.totals)
            new = METRICS[metric].count(self.new.totals)
            if (growth is None and new > old) or (growth is not None and growth * 100 > percent):
                grown.append(metric)
        return grown


def renumbered(old: str, new: str) -> bool:
    """Two names that differ only in the number they end with (``conv5``, ``conv6``)."""
    return old != new and old.rstrip("0123456789") == new.rstrip("0123456789")


def _listed(change: Change, show_all: bool) -> bool:
    if isinstance(change, GroupChange):
        if change.old is None or change.new is None:
            return False  # its layers are listed, added or removed
        moved = POSITION in change.what
        return moved or (change.renamed_itself and (show_all or not _renumbering(change)))
    if show_all or change.status in REAL:
        return True
    return change.renamed_itself and not _renumbering(change)


def _renumbering(change: Change) -> bool:
    old, new = change.old, change.new
    return old is not None and new is not None and renumbered(old.local_name, new.local_name)


def _what(a: Item, b: Item, old: LayerResult, new: LayerResult) -> tuple[str, ...]:
    """What differs between two matched layers (their items hold kind, config, shapes)."""
    assert a.detail is not None and b.detail is not None
    fields: list[tuple[str, object, object]] = [
        ("kind", a.kind, b.kind),
        *zip(("config", "input", "output"), a.detail, b.detail, strict=True),
    ]
    fields += [(m.key, m.read(old), m.read(new)) for m in diffed()]
    return tuple(name for name, x, y in fields if x != y)


# --- the networks as trees of items -----------------------------------------------------------


class _Keys:
    """Interns what items are (their kind, settings, shapes and figures; a group's: its kind
    and its items'), shared by both networks, so that equal contents have equal keys."""

    def __init__(self) -> None:
        self.ids: dict[object, int] = {}
        # By layer object and input (both reports keep them alive): its settings as they
        # apply to that input (Layer.resolved), so that a config and the ONNX file exported
        # from it, which write them differently (1x1 'same' or 'valid'), agree.
        self.configs: dict[tuple[int, Shape], str] = {}

    def __call__(self, value: object) -> int:
        return self.ids.setdefault(value, len(self.ids))


class _Tree:
    """One network: the items of each group (and of the top level) in order."""

    def __init__(self, report: Report, keys: _Keys) -> None:
        self.report = report
        readers = tuple(m.read for m in diffed())
        layers = report.layers
        graph = report.graph
        scopes = graph.scopes if graph is not None else ()
        layer_items: list[Item] = []
        add = layer_items.append
        configs = keys.configs
        for index, result in enumerate(layers):
            layer = result.layer
            kind = layer.kind_name
            inp, out = result.input_shape, result.output_shape
            config = configs.get((id(layer), inp))  # the builder shares equal layers' objects
            if config is None:
                config = configs[id(layer), inp] = layer.resolved(inp).config()
            figures = tuple(read(result) for read in readers)
            key = keys((kind, config, inp, out, figures))
            add(Item(key, keys(kind), result.local_name, index, False, kind, (config, inp, out)))
        if graph is None:  # a report made without its graph: one flat sequence, full names
            for item, result in zip(layer_items, layers, strict=True):
                item.name = result.name
        self.group_items = [
            Item(0, 0, scope.local, index, True, scope.kind, None)
            for index, scope in enumerate(scopes)
        ]
        self.scopes = scopes
        self.separator = graph.separator if graph is not None else "/"
        self.top: list[Item] = []
        registered = [False] * len(scopes)
        own_scopes = [node.scope for node in graph.nodes] if graph is not None else []
        for item, own in zip(layer_items, own_scopes or [-1] * len(layer_items), strict=True):
            scope, opened = own, []
            while scope != -1 and not registered[scope]:  # groups first met here, outermost last
                registered[scope] = True
                opened.append(scope)
                scope = scopes[scope].parent
            for first in reversed(opened):
                self._items(scopes[first].parent).append(self.group_items[first])
            self._items(own).append(item)
        # Groups' keys from their items', innermost first; their figures summed likewise.
        self.figures = [[0, 0] for _ in scopes]
        for index in sorted(range(len(scopes)), key=lambda s: -scopes[s].depth):
            group = self.group_items[index]
            items = group.children
            group.key = keys(("group", group.kind, tuple(i.key for i in items)))
            group.skeleton = keys(("skeleton", group.kind, tuple(i.skeleton for i in items)))
            macs = params = 0
            for child in items:
                if child.group:
                    child_figures = self.figures[child.index]
                    macs, params = macs + child_figures[0], params + child_figures[1]
                else:
                    result = layers[child.index]
                    macs, params = macs + result.macs, params + result.params
            self.figures[index] = [macs, params]

    def _items(self, scope: int) -> list[Item]:
        return self.top if scope == -1 else self.group_items[scope].children

    def side(self, group: Item) -> GroupSide:
        scope = self.scopes[group.index]
        macs, params = self.figures[group.index]
        return GroupSide(scope.name, scope.local, scope.kind, macs, params)

    def every_layer(self, items: Sequence[Item]) -> list[tuple[bool, Item]]:
        """The groups and layers of ``items``, groups before their contents (True: a group)."""
        found: list[tuple[bool, Item]] = []
        stack = list(reversed(items))
        while stack:
            item = stack.pop()
            found.append((item.group, item))
            if item.group:
                stack.extend(reversed(item.children))
        return found


def diff(old: Report, new: Report) -> Diff:
    """Layers matched group by group by an alignment of what they are (kind, settings,
    shapes; names as hints), in the new network's order, with removed layers where they
    stood in the old one."""
    keys = _Keys()
    before, after = _Tree(old, keys), _Tree(new, keys)
    return _Differ(before, after).run()


Step = tuple[Item | None, Item | None, bool]
"""Two matched items (and whether matched out of order), or one, removed or added."""


class _Frame(NamedTuple):
    """A matched pair of groups whose steps are being emitted; ``slot``: where its own entry
    waits for its status (-1 at the top level)."""

    steps: list[Step]
    at: int
    slot: int
    old: Item | None
    new: Item | None
    moved: bool


class _Differ:
    def __init__(self, old: _Tree, new: _Tree) -> None:
        self.old, self.new = old, new
        self.entries: list[Change | None] = []
        self.budget = Budget()
        # Groups dissolved into their parent's items (see _steps), by the first of those
        # items: their entries go before it.
        self.opened: tuple[dict[int, list[Item]], dict[int, list[Item]]] = ({}, {})

    def run(self) -> Diff:
        # Depth first with a stack of its own: groups may nest deeper than Python recurses.
        stack = [_Frame(self._steps(self.old.top, self.new.top), 0, -1, None, None, False)]
        while stack:
            frame = stack.pop()
            if frame.at == len(frame.steps):
                if frame.old is not None and frame.new is not None:
                    self._close(frame.slot, frame.old, frame.new, frame.moved)
                continue
            stack.append(frame._replace(at=frame.at + 1))
            a, b, moved = frame.steps[frame.at]
            self._open(a, b)
            if a is not None and b is not None and a.group:
                self.entries.append(None)  # the group's entry, once its contents are known
                steps = self._steps(a.children, b.children, same=a.key == b.key)
                stack.append(_Frame(steps, 0, len(self.entries) - 1, a, b, moved))
            elif a is not None and b is not None:
                self.entries.append(self._pair(a, b, moved))
            else:
                self._one_side(a, b)
        entries = tuple(e for e in self.entries if e is not None)
        layers = tuple(e for e in entries if isinstance(e, LayerChange))
        groups = tuple(e for e in entries if isinstance(e, GroupChange))
        return Diff(self.old.report, self.new.report, layers, groups, entries)

    def _steps(self, old: list[Item], new: list[Item], same: bool = False) -> list[Step]:
        """The items of two matched groups in order: matched pairs, and (old, None) removed
        and (None, new) added between them, removals first."""
        if same:  # equal contents: the same items in the same order
            return [(a, b, False) for a, b in zip(old, new, strict=True)]
        while True:
            matches = align(old, new, self.budget)
            separators = (self.old.separator, self.new.separator)
            old_groups, new_groups = _unmatched_groups(old, new, matches, separators)
            if not old_groups and not new_groups:
                break
            old = self._dissolved(old, old_groups, 0)
            new = self._dissolved(new, new_groups, 1)
        moved = _moved(old, new, matches)
        moved_old = set(moved.values())
        steps: list[Step] = []
        i = j = 0
        for next_i, next_j in [*matches, (len(old), len(new))]:
            steps += [(old[x], None, False) for x in range(i, next_i) if x not in moved_old]
            for y in range(j, next_j):
                x = moved.get(y)
                steps.append((None, new[y], False) if x is None else (old[x], new[y], True))
            if next_i < len(old):
                steps.append((old[next_i], new[next_j], False))
            i, j = next_i + 1, next_j + 1
        return steps

    def _dissolved(self, items: list[Item], groups: set[int], side: int) -> list[Item]:
        """``items`` with each of ``groups`` (indices) replaced by its items, named by their
        path from here (``layer1.0.conv1``): where one network groups what the other does
        not (a zoo model and its ONNX export, or a Caffe prototxt), they still align."""
        if not groups:
            return items
        separator = (self.old, self.new)[side].separator
        opened = self.opened[side]
        flat: list[Item] = []
        for index, item in enumerate(items):
            if index not in groups:
                flat.append(item)
                continue
            inner = [child.renamed(item.name + separator + child.name) for child in item.children]
            opened[id(inner[0])] = [*opened.pop(id(item), []), item]
            flat += inner
        return flat

    def _open(self, a: Item | None, b: Item | None) -> None:
        """The entries of groups dissolved before their first item ``a`` or ``b``: gone from
        one network (their layers matched, or not, on their own)."""
        for side, item in enumerate((a, b)):
            groups = self.opened[side].pop(id(item), []) if item is not None else []
            tree = (self.old, self.new)[side]
            for group in groups:
                figures = tree.side(group)
                if side == 0:
                    self.entries.append(GroupChange("removed", figures, None))
                else:
                    self.entries.append(GroupChange("added", None, figures))

    def _pair(self, a: Item, b: Item, moved: bool) -> LayerChange:
        old, new = self.old.report.layers[a.index], self.new.report.layers[b.index]
        what = ((POSITION,) if moved else ()) + (() if a.key == b.key else _what(a, b, old, new))
        return LayerChange(new.name, self._status(what, old.name, new.name), old, new, what)

    def _close(self, slot: int, a: Item, b: Item, moved: bool) -> None:
        """A matched group's entry, once the entries of its contents (all after it) are in."""
        differ = any(
            (isinstance(e, LayerChange) and e.status in REAL)
            or (isinstance(e, GroupChange) and POSITION in e.what)
            for e in self.entries[slot + 1 :]
        )  # a group dissolved inside it (only regrouped) is no difference of its own
        what = ((POSITION,) if moved else ()) + (("layers",) if differ else ())
        old, new = self.old.side(a), self.new.side(b)
        self.entries[slot] = GroupChange(self._status(what, old.name, new.name), old, new, what)

    def _status(self, what: tuple[str, ...], old_name: str, new_name: str) -> Status:
        """As ``_status``, a name written with either network's separator the same name (a
        config's ``layer1.0.conv1`` and an ONNX file's ``layer1/0/conv1``)."""
        written = old_name.replace(self.old.separator, self.new.separator)
        return _status(what, new_name if written == new_name else old_name, new_name)

    def _one_side(self, a: Item | None, b: Item | None) -> None:
        """An item of one network only, and everything inside it."""
        removed = a is not None
        tree, item = (self.old, a) if removed else (self.new, b)
        status: Status = "removed" if removed else "added"
        assert item is not None
        for group, each in tree.every_layer([item]):
            if group:
                side = tree.side(each)
                old_side, new_side = (side, None) if removed else (None, side)
                self.entries.append(GroupChange(status, old_side, new_side))
            else:
                result = tree.report.layers[each.index]
                old, new = (result, None) if removed else (None, result)
                self.entries.append(LayerChange(result.name, status, old, new))


def _status(what: tuple[str, ...], old_name: str, new_name: str) -> Status:
    return "changed" if what else ("renamed" if old_name != new_name else "unchanged")


def _unmatched_groups(
    old: list[Item], new: list[Item], matches: list[tuple[int, int]], separators: tuple[str, str]
) -> tuple[set[int], set[int]]:
    """The groups left unmatched whose path begins the name of an item left unmatched on the
    other side (``layer1`` and ``layer1.0.conv1``): the other network lists their layers
    without the group, and dissolved, they may match them (both sides' indices)."""
    old_groups: set[int] = set()
    new_groups: set[int] = set()
    i = j = 0
    for next_i, next_j in [*matches, (len(old), len(new))]:
        old_gap, new_gap = old[i:next_i], new[j:next_j]
        for groups, gap, start, other, separator in (
            (old_groups, old_gap, i, new_gap, separators[0]),
            (new_groups, new_gap, j, old_gap, separators[1]),
        ):
            if not any(item.group for item in gap):
                continue
            paths = {
                item.name[: at + 1]
                for item in other
                for at, character in enumerate(item.name)
                if character == separator
            }
            groups.update(
                start + k
                for k, item in enumerate(gap)
                if item.group and item.name + separator in paths
            )
        i, j = next_i + 1, next_j + 1
    return old_groups, new_groups


def _moved(old: list[Item], new: list[Item], matches: list[tuple[int, int]]) -> dict[int, int]:
    """Items left unmatched on both sides under the same name and of the same sort (layer
    or group): one item that moved among its peers (new index → old index)."""
    matched_old = {i for i, _ in matches}
    matched_new = {j for _, j in matches}
    left = {(item.name, item.group): i for i, item in enumerate(old) if i not in matched_old}
    moved: dict[int, int] = {}
    for j, item in enumerate(new):
        if j not in matched_new:
            i = left.get((item.name, item.group))
            if i is not None:
                moved[j] = i
    return moved
