"""Fast makers of named-tuple records, for the records made once per layer or per config value.

Calling a named-tuple class goes through ``type.__call__``, which looks ``__new__`` up and
then runs ``tuple.__init__``; on 100,000-layer networks that dispatch is a measurable part of
the run. ``tuple.__new__(cls, values)`` skips it but checks nothing: ``(shape, 5)`` makes a
two-field Evaluation that breaks later, far from where it was made. ``record_maker`` gives
the class's own ``__new__`` bound to the class: the same record, the same defaults, the same
refusal of too many or too few values (Python's argument binding, at C speed), without the
dispatch.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MethodType
from typing import Any, ParamSpec, TypeVar

_Values = ParamSpec("_Values")
_Record = TypeVar("_Record", bound=tuple[Any, ...])


def record_maker(cls: Callable[_Values, _Record]) -> Callable[_Values, _Record]:
    """A function that makes ``cls`` records as ``cls(...)`` does, only faster.

    >>> from typing import NamedTuple
    >>> class Pair(NamedTuple):
    ...     a: int
    ...     b: int = 0
    >>> make_pair = record_maker(Pair)
    >>> make_pair(1, 2), make_pair(1)
    (Pair(a=1, b=2), Pair(a=1, b=0))
    >>> make_pair(1, 2, 3)
    Traceback (most recent call last):
    TypeError: Pair.__new__() takes from 2 to 3 positional arguments but 4 were given
    """
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise TypeError(f"record_maker takes a named-tuple class, not {cls!r}")
    # A NamedTuple's __new__ is generated from its fields (typing forbids overriding it).
    make: Callable[_Values, _Record] = MethodType(cls.__new__, cls)
    return make
