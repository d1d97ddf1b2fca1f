"""Block parameters in configs: ``$name`` and ``${expression}`` inside values.

Expressions are integer arithmetic on parameters (``${planes * 4}``, ``${c // 2 + 1}``),
evaluated by walking Python's own syntax tree with only these operators allowed: nothing
else of Python is reachable from a config.
"""

from __future__ import annotations

import ast
import keyword
import operator
import re
from collections.abc import Callable, Mapping

from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.fields import shown_int
from convcost.core.limits import MAX_EXPRESSION, MAX_SIZE

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(r"\$\{([^}]*)\}|\$(" + _NAME.pattern + ")")
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


def interpolate(text: str, env: Mapping[str, object]) -> object:
    """``$c1`` → the value itself (an int stays an int); ``s$stride`` → ``s2``."""
    whole = _TOKEN.fullmatch(text.strip())
    if whole:
        return _value(whole, env)
    return _TOKEN.sub(lambda match: str(_value(match, env)), text)


def _value(match: re.Match[str], env: Mapping[str, object]) -> object:
    expression, name = match.group(1), match.group(2)
    if name is not None:
        return _lookup(name, env)
    return evaluate(expression, env)


def _lookup(name: str, env: Mapping[str, object]) -> object:
    if name not in env:
        hint = did_you_mean(name, env)
        known = ", ".join(sorted(env)) or "none"
        raise ConvcostError(f"unknown parameter '{name}'; {hint}this block's parameters: {known}")
    return env[name]


def evaluate(expression: str, env: Mapping[str, object]) -> int:
    """Integer arithmetic: + − × // % and exact /, on integers and parameters. Every
    value, given or worked out, stays within ±MAX_SIZE, and the text within MAX_EXPRESSION
    characters, so no expression costs more than a moment."""
    if len(expression) > MAX_EXPRESSION:
        raise ConvcostError(
            f"an expression of {len(expression):,} characters is too long (at most "
            f"{MAX_EXPRESSION}); give the block a parameter instead"
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ConvcostError(f"'${{{expression}}}' is not an arithmetic expression") from None
    return _eval(tree.body, env, expression)


def _bounded(value: int, text: str) -> int:
    if -MAX_SIZE <= value <= MAX_SIZE:
        return value
    raise ConvcostError(
        f"${{{text}}} reaches a number beyond ±2**40 ({shown(value)}); sizes above 2**40 "
        "are refused"
    )


def shown(value: int) -> str:
    return f"{value:,}" if abs(value) < 10**100 else shown_int(value)


def _eval(node: ast.AST, env: Mapping[str, object], text: str) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        value = _lookup(node.id, env)
        if type(value) is not int:
            raise ConvcostError(
                f"parameter '{node.id}' is {value!r}, not an integer, in ${{{text}}}"
            )
        return _bounded(value, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env, text)
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env, text), _eval(node.right, env, text)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise ConvcostError(f"division by zero in ${{{text}}}")
        if isinstance(node.op, ast.Div):
            if left % right:
                raise ConvcostError(f"${{{text}}} = {left}/{right} is not a whole number")
            return left // right
        if isinstance(node.op, ast.Pow):
            raise ConvcostError(f"${{{text}}}: powers are not supported; multiply instead")
        op = _OPERATORS.get(type(node.op))
        if op is not None:
            return _bounded(op(left, right), text)
    raise ConvcostError(f"${{{text}}}: only integers, parameters and + - * / // % ( ) are allowed")
