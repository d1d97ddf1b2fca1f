"""What ``advise`` ranks by and the least groups of a grouped conv: kept apart from the
analysis so that the command line declares its options without importing it."""

from __future__ import annotations

from enum import StrEnum


class By(StrEnum):
    """``--by``: what layers are ranked by; ``metric`` is its key in ``core.metrics``."""

    macs = "macs"
    params = "params"
    memory = "memory"
    time = "time"

    @property
    def metric(self) -> str:
        return _METRICS.get(self.value, self.value)


_METRICS = {"memory": "peak_activation_bytes", "time": "latency_s"}  # the others: their name


MIN_GROUPS = 2  # one group is the conv itself
