"""Block parameters in configs: ``$name`` and ``${expression}`` inside values.

Expressions are integer arithmetic on parameters (``${planes * 4}``, ``${c // 2 + 1}``),
read with Python's own parser and evaluated by functions made from its syntax tree, with
only these operators allowed: nothing else of Python is reachable from a config.

An expression may also read the input of the layer whose setting holds it: ``in.c``,
``in.h`` and ``in.w`` (``conv 1x1 ${in.c // 2}``). That input is known only once the
network is lowered, so such an expression is kept as text until then: a block's
parameters are bound into it when the block is called (``${in.c * growth}`` becomes
``${in.c * 32}``), and ``interpolate`` evaluates it when ``env`` holds the input under
``INPUT`` (``in`` is a Python keyword, so no parameter can take that name).
"""

from __future__ import annotations

import ast
import functools
import keyword
import operator
import re
from collections.abc import Callable, Mapping

from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.fields import shown_int
from convcost.core.limits import MAX_EXPRESSION, MAX_SIZE

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(r"\$\{([^}]*)\}|\$(" + _NAME.pattern + ")")
INPUT = "in"  # env's key for the layer's input Shape: a keyword, so never a parameter's name
INPUT_FIELDS = ("c", "h", "w")
# ``in`` as a word of an expression (not the end of a longer name, nor after a dot).
_INPUT_WORD = re.compile(r"(?<![\w.])in(?!\w)")
# Python's parser takes ``in`` for the keyword: expressions are parsed with this name in its
# place, a non-ASCII one that no parameter can have (parameters are ASCII names).
_INPUT_ALIAS = "\u0131n"
_WORD = re.compile(r"(?<![\w.])[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a block parameter (None: it can): ``$name`` and ``${...}``
    must both read it, and Python's parser takes keywords (``class``) for syntax."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return "is not a name of letters, digits and _ that starts with a letter or _"
    if keyword.iskeyword(name):
        return f"is a reserved word in ${{...}} expressions; call it e.g. {name}_"
    return None


def has_parameters(text: str) -> bool:
    return "$" in text


def reads_input(value: object) -> bool:
    """Whether ``value`` (a setting's text, or a list of them) holds an expression that
    reads the layer's input (``${in.c // 2}``), to be evaluated once that is known."""
    if isinstance(value, str):
        return "$" in value and any(
            match.group(1) is not None and _INPUT_WORD.search(match.group(1))
            for match in _TOKEN.finditer(value)
        )
    if isinstance(value, list):
        return any(reads_input(item) for item in value)
    return False


def interpolate(text: str, env: Mapping[str, object]) -> object:
    """``$c1`` → the value itself (an int stays an int); ``s$stride`` → ``s2``. An
    expression that reads the input while ``env`` holds none is kept, with ``env``'s
    parameters bound into it (see the module's docstring)."""
    whole = _TOKEN.fullmatch(text.strip())
    if whole:
        return _value(whole, env)
    return _TOKEN.sub(lambda match: str(_value(match, env)), text)


def _value(match: re.Match[str], env: Mapping[str, object]) -> object:
    expression, name = match.group(1), match.group(2)
    if name is not None:
        return _lookup(name, env)
    if INPUT not in env and _INPUT_WORD.search(expression):
        return "${" + _bind(expression, env) + "}"
    return evaluate(expression, env)


def _bind(expression: str, env: Mapping[str, object]) -> str:
    """``expression`` with every parameter replaced by its value, ``in`` left to read the
    input later; checked now, so that a fault is reported where the block is called."""

    def value(match: re.Match[str]) -> str:
        name = match.group()
        if name == INPUT or keyword.iskeyword(name):
            return name  # the input, or syntax the parser will judge
        found = _lookup(name, env)
        if type(found) is not int:
            raise ConvcostError(
                f"parameter '{name}' is {found!r}, not an integer, in ${{{expression}}}"
            )
        return f"({found})" if found < 0 else str(found)

    _check_length(expression, MAX_EXPRESSION)
    bound = _WORD.sub(value, expression)
    tree = _parsed(bound)  # refused now if it is no expression at all, or reads in wrongly
    fields = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute)]
    for node in fields:
        if _is_input(node.value) and node.attr not in INPUT_FIELDS:
            raise ConvcostError(_no_such_field(expression, node.attr))
    read = {id(node.value) for node in fields}
    if any(_is_input(node) and id(node) not in read for node in ast.walk(tree)):
        raise ConvcostError(_whole_input(expression))
    return bound


def _lookup(name: str, env: Mapping[str, object]) -> object:
    if name not in env:
        if name == INPUT:
            raise ConvcostError(
                "$in is not a parameter: the layer's input is read as ${in.c}, ${in.h} or ${in.w}"
            )
        parameters = sorted(key for key in env if key != INPUT)
        if not parameters:
            raise ConvcostError(
                f"unknown parameter '{name}': parameters are a block's (blocks: NAME: "
                "params:), and here there are none"
            )
        hint = did_you_mean(name, parameters)
        known = ", ".join(parameters)
        raise ConvcostError(f"unknown parameter '{name}'; {hint}this block's parameters: {known}")
    return env[name]


def evaluate(expression: str, env: Mapping[str, object]) -> int:
    """Integer arithmetic: + − × // % and exact /, on integers and parameters. Every
    value, given or worked out, stays within ±MAX_SIZE, and the text within MAX_EXPRESSION
    characters, so no expression costs more than a moment. (One that reads the input may
    be longer by the parameters' values bound into it: see ``_bind``.)"""
    _check_length(expression, _BOUND_LENGTH if INPUT in env else MAX_EXPRESSION)
    return _compiled(expression)(env)


# An expression with its parameters bound: each name of at least one character became a
# number of at most 16 characters (−2**40 in parentheses).
_BOUND_LENGTH = 16 * MAX_EXPRESSION


def _check_length(expression: str, limit: int) -> None:
    if len(expression) > limit:
        raise ConvcostError(
            f"an expression of {len(expression):,} characters is too long (at most "
            f"{MAX_EXPRESSION}); give the block a parameter instead"
        )


def _parsed(expression: str) -> ast.expr:
    try:
        return ast.parse(_INPUT_WORD.sub(_INPUT_ALIAS, expression.strip()), mode="eval").body
    except SyntaxError:
        raise ConvcostError(f"'${{{expression}}}' is not an arithmetic expression") from None


def _bounded(value: int, text: str) -> int:
    if -MAX_SIZE <= value <= MAX_SIZE:
        return value
    raise ConvcostError(
        f"${{{text}}} reaches a number beyond ±2**40 ({shown(value)}); sizes above 2**40 "
        "are refused"
    )


def shown(value: int) -> str:
    return f"{value:,}" if abs(value) < 10**100 else shown_int(value)


Compiled = Callable[[Mapping[str, object]], int]


@functools.lru_cache(maxsize=1024)
def _compiled(expression: str) -> Compiled:
    """The expression as a function of its environment, made once per text: a layer that
    reads its input is worked out again for each input it meets (every copy of a repeat),
    and walking the syntax tree each time would cost as much as the rest of the analysis."""
    return _compile(_parsed(expression), expression)


def _compile(node: ast.AST, text: str) -> Compiled:
    """The function that evaluates ``node``: every value, given or worked out, within
    ±MAX_SIZE; a fault raised when it is evaluated, operands first (as written)."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        value: int = node.value
        return lambda env: _bounded(value, text)
    if isinstance(node, ast.Attribute) and _is_input(node.value):
        attr = node.attr

        def field(env: Mapping[str, object]) -> int:
            if attr not in INPUT_FIELDS:
                raise ConvcostError(_no_such_field(text, attr))
            shape = env.get(INPUT)
            if shape is None:  # not bound to an input (a value no layer's setting reads)
                raise ConvcostError(
                    f"${{{text}}} reads a layer's input, and only a layer's settings can: "
                    "here there is none"
                )
            return _bounded(getattr(shape, attr), text)

        return field
    if _is_input(node):
        return lambda env: _refuse(_whole_input(text))
    if isinstance(node, ast.Name):
        name = node.id

        def parameter(env: Mapping[str, object]) -> int:
            value = _lookup(name, env)
            if type(value) is not int:
                raise ConvcostError(
                    f"parameter '{name}' is {value!r}, not an integer, in ${{{text}}}"
                )
            return _bounded(value, text)

        return parameter
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _compile(node.operand, text)
        return lambda env: -operand(env)
    if isinstance(node, ast.BinOp):
        return _binary(node, _compile(node.left, text), _compile(node.right, text), text)
    return lambda env: _refuse(_only(text))


def _binary(node: ast.BinOp, left: Compiled, right: Compiled, text: str) -> Compiled:
    kind = type(node.op)
    if kind is ast.Div:

        def divide(env: Mapping[str, object]) -> int:
            a, b = left(env), right(env)
            if b == 0:
                raise ConvcostError(f"division by zero in ${{{text}}}")
            if a % b:
                raise ConvcostError(f"${{{text}}} = {a}/{b} is not a whole number")
            return a // b

        return divide
    op = _OPERATORS.get(kind)
    if op is None:  # the operands first, as written, then the operator's fault
        fault = (
            f"${{{text}}}: powers are not supported; multiply instead"
            if kind is ast.Pow
            else _only(text)
        )
        return lambda env: _refuse(fault, left(env), right(env))
    checked = kind in (ast.FloorDiv, ast.Mod)

    def binary(env: Mapping[str, object]) -> int:
        a, b = left(env), right(env)
        if checked and b == 0:
            raise ConvcostError(f"division by zero in ${{{text}}}")
        return _bounded(op(a, b), text)

    return binary


def _refuse(message: str, *evaluated: int) -> int:
    raise ConvcostError(message)


def _only(text: str) -> str:
    return (
        f"${{{text}}}: only integers, parameters, in.c, in.h, in.w and + - * / // % ( ) are allowed"
    )


def _no_such_field(text: str, field: str) -> str:
    return f"${{{text}}}: the input has c, h and w (in.c, in.h, in.w), not '{field}'"


def _whole_input(text: str) -> str:
    return f"${{{text}}}: in is the layer's input: write in.c, in.h or in.w"


def _is_input(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _INPUT_ALIAS
