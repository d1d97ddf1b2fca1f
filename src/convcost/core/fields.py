"""Parsers for layer field values, shared by every front end (YAML, JSON, inline).

Each parser takes the value as the front end decoded it (int, str, bool, float, list) and
returns the typed value, or raises ConvcostError saying what would be right. Booleans are
never numbers here, although Python says True == 1: ``filters: yes`` is a mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from convcost.core.errors import ConvcostError
from convcost.core.geometry import Padding
from convcost.core.limits import MAX_NAME, MAX_SIZE

Parser = Callable[[object], Any]

# JSON Schema of what each parser accepts, for ``convcost schema``: kept beside the parser.
SCHEMAS: dict[Callable[..., Any], dict[str, Any]] = {}
_SIZE = {"type": "integer", "minimum": 1, "maximum": 2**40}


F = TypeVar("F", bound=Callable[..., Any])


def _schema(schema: dict[str, Any]) -> Callable[[F], F]:
    def register(parse: F) -> F:
        SCHEMAS[parse] = schema
        return parse

    return register


def bounded_name(name: str) -> str:
    """``name``, refused past MAX_NAME characters."""
    if len(name) > MAX_NAME:
        raise ConvcostError(
            f"a name of {len(name):,} characters is too long (at most {MAX_NAME}); shorten it"
        )
    return name


_MAX_DIGITS = len(str(MAX_SIZE)) + 1  # past this, a number is too large to be any size


def whole_number(digits: str) -> int:
    """``int(digits)`` for a run of ASCII digits (a sign allowed), refused past any size's
    digits: Python refuses to read more than 4,300, and reading thousands is slow. Numbers
    just past 2**40 still read, for the parsers' own message."""
    if len(digits.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        raise ConvcostError(
            f"a number of {len(digits):,} digits is too large; sizes above 2**40 are refused"
        )
    return int(digits)


def shown_int(value: int) -> str:
    """A number for a message: itself, or for a huge one its size (printing an integer of
    thousands of digits is slow, and past 4,300 Python refuses)."""
    digits = abs(value).bit_length() * 3 // 10 + 1
    return str(value) if digits <= 100 else f"a number of about {digits:,} digits"


_SCALAR_INT = re.compile(r"^-?\d+$")
_SCALAR_FLOAT = re.compile(r"^-?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$")


def scalar(text: str) -> object:
    """A command-line or inline-spec token's value as YAML would decode it (``3`` → 3,
    ``true`` → True, ``1,2``, ``(1,2)`` and ``[1,2]`` → [1, 2]), so every front end feeds
    these parsers alike."""
    if len(text) > 2 and text[0] + text[-1] in ("()", "[]"):  # (0,3) and [0,3]: a list too
        return [scalar(part) for part in text[1:-1].split(",")]
    if "," in text:
        return [scalar(part) for part in text.split(",")]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _SCALAR_INT.match(text):
        return whole_number(text)
    if _SCALAR_FLOAT.match(text):
        return float(text)
    return text


_PAIR = re.compile(r"^\s*(\d+)\s*[x×X]\s*(\d+)\s*$")
_INT = re.compile(r"^\s*(\d+)\s*$")


def _int(value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConvcostError(f"expected an integer, got {_show(value)}")
    if value < minimum:
        what = "positive" if minimum == 1 else f"at least {minimum}"
        raise ConvcostError(f"must be {what}, got {value}")
    if value > MAX_SIZE:
        raise ConvcostError(f"{shown_int(value)} is too large; sizes above 2**40 are refused")
    return value


@_schema(_SIZE)
def positive_int(value: object) -> int:
    return _int(value, 1)


@_schema({"type": "integer", "minimum": 0, "maximum": 2**40})
def non_negative_int(value: object) -> int:
    return _int(value, 0)


@_schema(
    {
        "anyOf": [
            _SIZE,
            {"type": "string", "pattern": r"^\s*\d+\s*([x×X]\s*\d+\s*)?$"},
            {"type": "array", "items": _SIZE, "minItems": 2, "maxItems": 2},
        ]
    }
)
def pair(value: object) -> tuple[int, int]:
    """``3``, ``3x5`` or ``[3, 5]`` → (3, 5), both positive."""
    return _pair_of(value, positive_int)


@_schema(
    {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": 2**40},
            {"type": "string", "pattern": r"^\s*\d+\s*([x×X]\s*\d+\s*)?$"},
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 0, "maximum": 2**40},
                "minItems": 2,
                "maxItems": 2,
            },
        ]
    }
)
def non_negative_pair(value: object) -> tuple[int, int]:
    """``0``, ``1x0`` or ``[1, 0]`` → (1, 0), neither negative."""
    return _pair_of(value, non_negative_int)


def _pair_of(value: object, number: Callable[[object], int]) -> tuple[int, int]:
    if isinstance(value, str):
        match = _PAIR.match(value)
        if match:
            return number(whole_number(match.group(1))), number(whole_number(match.group(2)))
        match = _INT.match(value)
        if match:
            n = number(whole_number(match.group(1)))
            return n, n
        raise ConvcostError(f"expected N, NxM or [N, M], got {_show(value)}")
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ConvcostError(f"expected two numbers [h, w], got {len(value)}")
        return number(value[0]), number(value[1])
    n = number(value)
    return n, n


_NON_NEGATIVE_PAIR = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$")
_PADDING_PAIR = {"type": "string", "pattern": r"^\s*\d+\s*[x×X]\s*\d+\s*$"}
_PADDING_LISTS = {
    "type": "array",
    "items": {"type": "integer", "minimum": 0},
    "minItems": 2,
    "maxItems": 4,
    "not": {"maxItems": 3, "minItems": 3},
}


@_schema(
    {
        "anyOf": [
            {"enum": ["same", "valid"]},
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*\d+\s*$"},
            _PADDING_LISTS,
            _PADDING_PAIR,
        ]
    }
)
def padding(value: object) -> Padding:
    """``same``, ``valid``, N, [h, w] or HxW, or [top, bottom, left, right]."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word == "same":
            return "same"
        if word == "valid":
            return (0, 0, 0, 0)
        if _INT.match(word):
            return padding(whole_number(word))
        match = _NON_NEGATIVE_PAIR.match(word)
        if match:  # 0x3: what [0, 3] is, and a flow list [a, b] does not split it at a comma
            return padding([whole_number(match.group(1)), whole_number(match.group(2))])
        raise ConvcostError(
            "expected same, valid, N, [h, w] or HxW, or [top, bottom, left, right], got "
            f"{_show(value)}"
        )
    if isinstance(value, list | tuple):
        if len(value) == 2:
            h, w = (non_negative_int(v) for v in value)
            return (h, h, w, w)
        if len(value) == 4:
            t, b, left, r = (non_negative_int(v) for v in value)
            return (t, b, left, r)
        raise ConvcostError(
            f"expected [h, w] or [top, bottom, left, right], got a list of {len(value)}"
        )
    n = non_negative_int(value)
    return (n, n, n, n)


@_schema(
    {
        "anyOf": [
            {"const": "valid"},
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": r"^\s*\d+\s*$"},
            _PADDING_LISTS,
            _PADDING_PAIR,
        ]
    }
)
def explicit_padding(value: object) -> tuple[int, int, int, int]:
    result = padding(value)
    if result == "same":
        raise ConvcostError("expected N, [h, w] or HxW, or [top, bottom, left, right], not same")
    return result


@_schema({"type": "boolean"})
def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConvcostError(f"expected true or false, got {_show(value)}")
    return value


@_schema({"anyOf": [_SIZE, {"enum": ["depthwise", "dw"]}]})
def groups(value: object) -> int | Literal["depthwise"]:
    """A positive group count, or ``depthwise`` (one group per input channel)."""
    if isinstance(value, str) and value.strip().lower() in ("depthwise", "dw"):
        return "depthwise"
    if isinstance(value, str):
        raise ConvcostError(f"expected a positive integer or depthwise, got {_show(value)}")
    return positive_int(value)


@_schema({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
def rate(value: object) -> float:
    """A probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConvcostError(f"expected a number between 0 and 1, got {_show(value)}")
    if not 0 <= value < 1:
        raise ConvcostError(f"must be at least 0 and below 1, got {value}")
    return float(value)


# A decimal as text: PyYAML reads 1e-6 (no dot) as a string, and so does the inline reader.
_DECIMAL = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
_DECIMAL_TEXT = re.compile(_DECIMAL)


def _finite(value: object, what: str) -> float:
    if isinstance(value, str) and _DECIMAL_TEXT.match(value):
        value = float(value)
    # NaN and the infinities are refused: YAML reads .nan and .inf as floats.
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ConvcostError(f"expected {what}, got {_show(value)}")
    if abs(value) == float("inf"):
        raise ConvcostError(f"expected {what}, got an infinity")
    return float(value)


@_schema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": _DECIMAL}]})
def number(value: object) -> float:
    """Any finite number (a negative slope may be negative, or above 1)."""
    return _finite(value, "a number")


@_schema(
    {
        "anyOf": [
            {"type": "number", "exclusiveMinimum": 0},
            {"type": "string", "pattern": _DECIMAL},
        ]
    }
)
def positive_number(value: object) -> float:
    """A finite number above 0 (a normalization's epsilon)."""
    found = _finite(value, "a number above 0")
    if found <= 0:
        raise ConvcostError(f"must be above 0, got {value}")
    return found


@_schema({"type": "string", "minLength": 1})
def name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConvcostError(f"expected a non-empty name, got {_show(value)}")
    return value.strip()


def choice(*options: str) -> Parser:
    def parse(value: object) -> str:
        if isinstance(value, str) and value.lower() in options:
            return value.lower()
        raise ConvcostError(f"expected one of {', '.join(options)}; got {_show(value)}")

    SCHEMAS[parse] = {"enum": list(options)}
    return parse


def _show(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return f"the decimal {value}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
