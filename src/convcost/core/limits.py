"""The bounds on work that every input is held to (documented in the README).

A config of a few kilobytes can describe an enormous network through repeats, blocks and
YAML aliases, or enormous numbers through expressions; these bounds make every input cost
at most seconds and megabytes. Each refusal says which bound, and how to pass it where one
can (``--max-layers``).
"""

from __future__ import annotations

MAX_SIZE = 2**40
"""Any count: a size, channels, batch, a padding, every intermediate of an expression.
2**40 (about 10^12) filters or pixels is far beyond any network that exists."""

MAX_LAYERS = 20_000
"""Layers and groups (the rows of an analysis: merges and named groups included) a network
may expand to; ``--max-layers`` raises it. Real CNNs
have hundreds to a few thousand; at this bound every command answers within about two
seconds (benchmarks/hostile.py), whatever the config asks for."""

COLLECTIONS_PER_ROW = 5
"""Lists and mappings a YAML or JSON config may hold, per row of the layer bound (100,000
by default): a layer takes one to three (its mapping, its settings, a padding list); a
megabyte of nothing but nested lists would take the YAML reader seconds."""

VALUES_PER_ROW = 50
"""Values (scalars and collections) a config may hold, per row of the layer bound (1,000,000
by default): the readers count them as they read, so a long file of numbers stops early."""

MAX_INPUT_BYTES = 64 * 2**20
"""Bytes read from one config file or standard input; more is refused unread."""

MAX_EXPRESSION = 200
"""Characters in one ``${...}`` expression."""

MAX_NAME = 200
"""Characters in a name (a layer's, a group's, a block's, the network's): tables lay out
every name, and a megabyte-long one would cost seconds to fold."""
