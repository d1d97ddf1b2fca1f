"""Fuzzing: random and mutated inline specs and YAML configs. The only outcomes allowed are a
result (exit 0) or convcost's own error (exit 2, stderr only) — never a traceback or a hang."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.kinds import all_kinds
from convcost.core.kinds.base import layer_fields
from convcost.frontends import zoo

REGISTRY = all_kinds()

_runner = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})
_FIELDS = sorted({f.name for cls, _ in REGISTRY.values() for f in layer_fields(cls)})
_WORDS = [
    *sorted(REGISTRY),
    "same", "valid", "nobias", "dw", "ceil", "s2", "d2", "g2", "p1", "3x3", "1x1", "5x5", "7",
    "0", "-1", "3.5", "1e3", "99999999999999999999", "x", "=", "name=", "|", "||", "é", "🙂",
    "28x28x3", "0x0x0", "true", "null", "[", "]", "{", "}", ",", "$x", "${1/0}",
]  # fmt: skip
_KEYS = [
    *_FIELDS, "input", "layers", "type", "name", "blocks", "params", "concat", "residual",
    "body", "shortcut", "repeat", "first", "start", "group", "separator",
]  # fmt: skip

settings.register_profile("fuzz", max_examples=1000, deadline=None,
                          suppress_health_check=list(HealthCheck))  # fmt: skip

tokens = st.one_of(
    st.sampled_from(_WORDS),
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(_KEYS), st.sampled_from(_WORDS)),
    st.text(max_size=4),
)
specs = st.builds(
    lambda shape, parts: " ".join([shape, *parts]),
    st.sampled_from(["28x28x3", "8x8x1", "1x1x1", "224x224x3", "3x3", "x"]),
    st.lists(tokens, max_size=12),
)


def _outcome_is_clean(args: list[str], stdin: str | None = None) -> None:
    result = _runner.invoke(app, args, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    if result.exit_code == 2:
        assert result.stderr and not result.stdout, args
    else:
        assert result.stdout and not result.stderr, args


@settings(settings.get_profile("fuzz"))
@given(specs)
@example("28x28x3 | conv 3x3 8 | | relu")
@example("28x28x3 | conv name= 3")
@example("28x28x3 \x00")  # found by this test: a NUL byte in a file name crashed Path()
def test_inline_specs(spec: str) -> None:
    _outcome_is_clean(["analyze", spec, "-f", "json"])


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**41), st.floats(allow_nan=True),
    st.sampled_from(_WORDS), st.text(max_size=6),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(settings.get_profile("fuzz"))
@given(documents)
def test_random_yaml_documents(document: object) -> None:
    _outcome_is_clean(["analyze", "-", "-f", "json"], yaml.safe_dump(document))


@settings(settings.get_profile("fuzz"))
@given(
    st.sampled_from(zoo.model_names()),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.text(max_size=3)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_zoo_configs(name: str, edits: list[tuple[int, int, str]]) -> None:
    text = zoo.model_text(name)
    for position, cut, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    _outcome_is_clean(["analyze", "-", "-f", "json"], text)
