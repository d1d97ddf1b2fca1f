"""What a front end hands back: the network, and what the config says about it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from convcost.core.graph import Graph
from convcost.frontends.tree import Network

if TYPE_CHECKING:
    from convcost.analyses.quantities import Limit


class Loaded(NamedTuple):
    """A network as read from a spec, with the config's own metadata beside it.

    ``description`` is the config's ``description:`` (shown by ``convcost models``) and
    ``budget`` its ``budget:`` section (what ``convcost check`` holds it to); both are empty
    for inline specs. ``warnings`` are what the reader noticed and went on from (an input
    that looks channels-first), each a line for stderr. ``located`` reads the spec again
    with line and column for every value, where the first reading kept none (a JSON
    config): ``analyze_spec`` calls it when the analysis fails, so that the error says
    where. None: the first reading has them already.
    """

    network: Network | Graph  # a config's constructs, or a graph a reader built directly
    description: str = ""
    budget: tuple[Limit, ...] = ()
    located: Callable[[], Loaded] | None = None
    warnings: tuple[str, ...] = ()  # one line each, for stderr: the reading went on

    @classmethod
    def of(cls, network: Network, located: Callable[[], Loaded] | None = None) -> Loaded:
        """The record for a network that still carries its description, budget and
        warnings."""
        return cls(network, network.description, network.budget, located, network.warnings)
