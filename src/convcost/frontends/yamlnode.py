"""YAML decoded with the place of every value, so errors can say file:line:col.

The readers that make YNodes from text are in ``yamlread`` (which imports PyYAML, so that
JSON configs and inline specs start without it)."""

from __future__ import annotations

from typing import Any, NamedTuple

from convcost.core.errors import ConvcostError, Location
from convcost.core.limits import COLLECTIONS_PER_ROW, VALUES_PER_ROW
from convcost.core.records import record_maker

MAX_PLAIN = 100_000  # values in one setting: an aliased "billion laughs" would expand past it


NO_KEYS: dict[str, Location] = {}  # every YNode that is not a mapping shares it, empty


class YNode(NamedTuple):
    """A decoded YAML value with where it was written; mappings keep their keys' places.

    (A named tuple: one is made per value of configs with 100,000 layers. A mapping's
    ``key_at`` must be its own dict: the default one is shared and stays empty.)
    """

    value: Any
    at: Location
    key_at: dict[str, Location] = NO_KEYS  # read-only: a mapping's YNode gets its own
    quoted: bool = False

    def plain(self, budget: list[int] | None = None) -> Any:
        """The value as plain Python; refuses to expand an alias bomb past MAX_PLAIN values."""
        budget = [MAX_PLAIN] if budget is None else budget
        budget[0] -= 1
        if budget[0] < 0:
            raise ConvcostError(
                "this value expands to too many items (an alias bomb?); write it out", self.at
            )
        if isinstance(self.value, dict):
            return {k: v.plain(budget) for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain(budget) for v in self.value]
        return self.value


make_ynode = record_maker(YNode)  # YNode(...) without the class call: one per value


def describe(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"the scalar {value!r}"


def too_many_collections(at: Location | None, limit: int) -> ConvcostError:
    """The refusal of a config holding more lists and mappings than ``limit`` (see
    limits.COLLECTIONS_PER_ROW), at the first one past it: the same from every reader."""
    return ConvcostError(
        f"the config holds more than {limit:,} lists and mappings, more than a network of "
        "the layer bound needs; shrink it, or raise the bound with --max-layers",
        at,
    )


def values_for(max_collections: int) -> int:
    """The bound on values that goes with a bound on lists and mappings (both per row)."""
    return max_collections * VALUES_PER_ROW // COLLECTIONS_PER_ROW


def too_many_values(at: Location | None, limit: int) -> ConvcostError:
    return ConvcostError(
        f"the config holds more than {limit:,} values, more than a network of the layer "
        "bound needs; shrink it, or raise the bound with --max-layers",
        at,
    )
