"""Pausing the cyclic garbage collector while convcost works: the one place that does it.

Reading and analysing a network make several objects per layer and no reference cycles;
with the collector on, it rescans everything made so far again and again as the objects
pile up, so 100,000 layers took 15 to 20 times as long as 10,000 instead of 10 times, and
the console script's imports alone are rescanned several times. Reference counting still
frees everything as usual.
"""

from __future__ import annotations

import gc

TYPE_CHECKING = False  # typing costs --version tens of milliseconds (entry.py uses this)
if TYPE_CHECKING:
    from types import TracebackType


class gc_paused:  # lower case: it reads as a function, ``with gc_paused():``
    """The collector off inside the ``with`` block; on again after it if it was on before.

    ``resume=False`` leaves it off after the block: for the console script, whose process
    ends there. Turning it on again then would only add a full collection of everything
    still alive (the imported modules) as the interpreter exits: ``convcost compare`` took
    159 → 175 ms of CPU with it (best of 15).
    (A class, not contextlib.contextmanager: contextlib's imports cost ``--version``.)
    """

    def __init__(self, *, resume: bool = True) -> None:
        self.resume = resume
        self.collecting = False

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.collecting and self.resume:
            gc.enable()
