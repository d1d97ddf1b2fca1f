"""The two YAML readers (frontends/yamlread.py) give the same YNodes, and the same errors.

The fast reader (libyaml composes the tree) runs on shallow documents and defers anything
unusual to the careful one (the event stream), which words every error. These tests check
that the fast one is really taken where it should be, and that it never changes an outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError, Location
from convcost.frontends import zoo
from convcost.frontends.config import parse_config
from convcost.frontends.tree import analyze
from convcost.frontends.yamlnode import YNode
from convcost.frontends.yamlread import (
    _compose_nodes,
    _shallow,
    _Unusual,
    compose,
    compose_events,
)


def _outcome(read: object, text: str) -> tuple[str, object]:
    assert callable(read)
    try:
        return "ok", read(text, "net.yaml")
    except ConvcostError as error:
        return "error", error.render()


@pytest.mark.parametrize("name", zoo.model_names())
def test_zoo_configs_take_the_fast_reader_and_read_the_same(name: str) -> None:
    text = zoo.model_text(name)
    assert _shallow(text)
    fast = _compose_nodes(text, "net.yaml")  # raises _Unusual if it deferred
    assert fast == compose_events(text, "net.yaml")
    assert compose(text, "net.yaml") == fast


SAME = {
    "scalars of every kind": (
        "a: [1, -3, +5, 0x10, 0o7, 00, 0b101, 1_000, 0, 12345678901234567890123]\n"
        "b: [1.5, -2e3, .inf, -.Inf, .nan, 1_0.5, 6.8523015e+5]\n"
        "c: [yes, No, on, OFF, true, False, y, n]\n"
        "d: [~, null, Null, '', \"\"]\n"
        "e: ['quoted', \"double\", plain words, 'yes', \"12\"]\n"
        "f:\n"
    ),
    "anchors and aliases": "base: &b {kernel: 3, filters: 8}\nlayers: [*b, *b, {conv: *b}]\n",
    "an aliased scalar": "x: &w 16\ny: [*w, *w]\n",
    "block and flow mixed": (
        "input: 8x8x3\nlayers:\n  - conv: {kernel: [3, 3], filters: 8}\n"
        "  - concat:\n    - [relu]\n    - - bn\n      - {type: relu}\n"
    ),
    "compact nested sequences": "- - - a\n    - b\n  - c\n- d\n",
    "complex keys are refused alike": "? [a, b]\n: c\n",
    "a key that is a number": "1: a\n",
    "a duplicate key": "a: 1\na: 2\n",
    "an empty document": "",
    "only a comment": "# nothing\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "a syntax error": "a: [1, 2\n",
    "an undefined alias": "a: *nowhere\n",
    "a recursive alias": "a: &x [1, *x]\n",
    "a timestamp": "a: 2001-12-14\n",
    "a merge key": "a: &x {b: 1}\nc: {<<: *x}\n",
    "a python tag": "a: !!python/name:os.system x\n",
    "a local tag": "a: !mine x\n",
    "a binary tag": "a: !!binary aGk=\n",
    "a non-specific tag": "a: ! 12\nb: ! [1]\n",
    "brackets in quotes": "a: 'x[y'\nb: \"{\"\n",
    "deep flow": "a: " + "[" * 40 + "]" * 40 + "\n",
    "deep block": "".join("  " * i + f"k{i}:\n" for i in range(40)) + "  " * 40 + "v\n",
    "a huge integer": "a: " + "7" * 5000 + "\n",
    "a tab in a value": "a: \tb\n",
    "a byte-order mark": "\ufeffa: 1\n",
    "an octal number": "a: [1, 020]\n",
    "a base-60 number": "a: {b: 190:20:30}\n",
}


@pytest.mark.parametrize("text", SAME.values(), ids=SAME.keys())
def test_fast_and_careful_readers_agree(text: str) -> None:
    assert _outcome(compose, text) == _outcome(compose_events, text)


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("a: 1\n", True),
        ("a: " + "[" * 31 + "]" * 31 + "\n", True),
        ("a: " + "[" * 32 + "]" * 32 + "\n", False),  # flow nesting past the bound
        (" " * 63 + "a: 1\n", True),
        (" " * 64 + "a: 1\n", False),  # content past column 64
        ("- " * 32 + "a\n", False),  # compact sequences: 32 levels on one line
        ("a: 'x[y'\n", False),  # unbalanced brackets in a string: the careful reader
    ],
)
def test_shallow_bound(text: str, fast: bool) -> None:
    assert _shallow(text) is fast


DEEP = "the YAML document nests more than 200 levels deep; flatten it (blocks: name a repeated \
structure once)"


@pytest.mark.parametrize(
    ("layers", "line", "column"),
    [
        ("[" * 100_000 + "]" * 100_000, 2, 208),  # past libyaml's own limit, in its look-ahead
        ("[" * 250 + "]" * 250, 2, 208),  # refused by the event reader
        ("[\n" * 250 + "]" * 250, 201, 1),  # one a line: the event reader
        ("[" * 150 + "{a: " * 100 + "1" + "}" * 100 + "]" * 150, 2, 159 + 4 * 49),
        ('["' + "[" * 1000 + '", ' + "[" * 1000 + "]" * 1001, 2, 1212),  # quoted: not a list
        ("{a: " * 5000 + "1" + "}" * 5000, 2, 9 + 4 * 199),
    ],
)
@pytest.mark.parametrize("read", [compose, compose_events])
def test_deep_documents_are_refused_in_convcost_words(
    read: Callable[[str, str], YNode], layers: str, line: int, column: int
) -> None:
    # Refused at the collection that goes too deep, whatever libyaml's own limit and
    # wording are, by either reader.
    text = "input: 8x8x3\nlayers: " + layers + "\n"
    assert not _shallow(text)
    with pytest.raises(ConvcostError) as error:
        read(text, "net.yaml")
    assert (error.value.message, error.value.location) == (DEEP, Location("net.yaml", line, column))


@pytest.mark.parametrize(
    "layers",
    ["[" * 201 + "]" * 201, "[\n" * 300 + "]" * 300, "[" * 100 + "{a: " * 150 + "1" + "}" * 150
     + "]" * 100, "\n" + "".join(" " * i + f"- k{i}:\n" for i in range(0, 600, 2))],
)  # fmt: skip
def test_the_fast_reader_refuses_depth_as_the_careful_one(layers: str) -> None:
    # Should the fast reader ever meet nesting past the bound (a few hundred levels are
    # safe for libyaml's composer), it refuses it where and as the careful one does.
    text = "input: 8x8x3\nlayers: " + layers + "\n"
    outcome = _outcome(compose_events, text)
    assert _outcome(_compose_nodes, text) == outcome
    assert outcome[0] == "error"
    assert str(outcome[1]).startswith("net.yaml:") and str(outcome[1]).endswith(DEEP)


def test_the_fast_reader_defers_what_is_unusual() -> None:
    # Found by test_mutated_configs_read_the_same: a collection tagged as a scalar (and the
    # reverse) crashed the fast reader.
    for text in (
        "a: &x [1, *x]\n",
        "a: 2001-12-14\n",
        "",
        "a: 1\na: 2\n",
        "a: {<<: {b: 1}}\n",
        "a: !!str {b: 1}\n",
        "a: !!int [1]\n",
        "a: !!seq x\n",
        "a: !!map x\n",
    ):
        with pytest.raises(_Unusual):
            _compose_nodes(text, "net.yaml")


def test_alias_shares_one_node() -> None:
    root = compose("a: &x [1, 2]\nb: *x\n", "net.yaml")
    assert root.value["a"] is root.value["b"]
    assert isinstance(root.value["a"], YNode)


def test_huge_integer_is_an_error_not_a_traceback() -> None:
    # Python refuses to read integers of over 4,300 digits; this was a traceback once.
    text = "input: 8x8x3\nlayers:\n- conv: {kernel: 3, filters: " + "1" * 5000 + "}\n"
    result = CliRunner().invoke(app, ["analyze", "-"], input=text)
    assert result.exit_code == 2
    assert result.stderr == (
        "<stdin>:3:30: a number of 5000 characters is too large; sizes above 2**40 are refused\n"
    )
    assert result.stdout == ""


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(zoo.model_names()),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 3), st.sampled_from(
            ["", " ", "\n", "-", ":", "[", "]", "{", "}", "&a", "*a", "'", '"', "#", "!", "!!str",
             "? ", "0x", "1", "yes", "~", "\t", ",", "|"]
        )),
        min_size=1,
        max_size=4,
    ),
)  # fmt: skip
def test_mutated_configs_read_the_same(name: str, edits: list[tuple[int, int, str]]) -> None:
    text = zoo.model_text(name)
    for position, cut, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    assert _outcome(compose, text) == _outcome(compose_events, text)


def test_long_texts_go_to_the_careful_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast reader composes a whole document before looking at it, so a text that could
    # hold more values than the bound never reaches it; the careful reader counts and
    # refuses. Two lists and mappings go with 20 values (limits: 5 and 50 per row).
    import convcost.frontends.yamlread as yamlread

    def composed(text: str, source: str, max_collections: int) -> YNode:
        raise AssertionError("the fast reader was used")

    monkeypatch.setattr(yamlread, "_compose_nodes", composed)
    text = "a: [1, 2]  # a text of over 20 characters\n"
    assert compose(text, "net.yaml", 2).value["a"].value[1].value == 2
    with pytest.raises(ConvcostError) as error:
        compose("a: [" + ", ".join("1" * 30) + "]\n", "net.yaml", 2)
    assert error.value.render() == (
        "net.yaml:1:56: the config holds more than 20 values, more than a network of the layer "
        "bound needs; shrink it, or raise the bound with --max-layers"
    )


ODD_BREAKS = pytest.mark.parametrize("odd", ["\x85", "\u2028", "\u2029"], ids=["NEL", "LS", "PS"])


@ODD_BREAKS
@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("input: 8x8x3\n# a comment{odd}{odd}\nlayers:\n  - conv 3x3 0\n", "4:14"),
        ("input: 8x8x3\n# a{odd}# b{odd}# c\nlayers:\n  - conv 3x3 0\n", "4:14"),
        ("input: 8x8x3\nlayers: ['relu{odd}{odd}', conv 3x3 0]\n", "2:29"),
        ("\ufeffinput: 8x8x3 # {odd}\nlayers: [relu, conv 3x3 0]\n", "2:25"),
        ("\ufeffinput: 8x8x3 # {odd}{odd}  \nlayers: [relu, conv 3x3 0]\n", "2:25"),
        ("input: 8x8x3\r\n# {odd}\rlayers:\r\n  - conv 3x3 0\r\n", "4:14"),
    ],
)  # fmt: skip
def test_places_are_lines_as_editors_show_them(odd: str, text: str, place: str) -> None:
    # YAML 1.1 also ends lines at NEL, LS and PS; editors show them inside a line, and only
    # \r\n, \r and \n end one: every place is counted as editors do.
    text = text.format(odd=odd)
    with pytest.raises(ConvcostError) as error:
        analyze(parse_config(text, "net.yaml"))
    assert error.value.render() == f"net.yaml:{place}: conv filters: must be positive, got 0"
    assert _outcome(compose, text) == _outcome(compose_events, text)


@ODD_BREAKS
def test_yaml_syntax_and_encoding_errors_are_placed_as_editors_show_them(
    runner: CliRunner, tmp_path: Path, odd: str
) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(f"input: 8x8x3\n# a{odd}{odd}\nlayers:\n  - [relu\n", encoding="utf-8")
    with pytest.raises(ConvcostError) as error:
        parse_config(path.read_text(encoding="utf-8"), "net.yaml")
    assert error.value.render().startswith("net.yaml:5:1: YAML syntax: ")  # then PyYAML's words
    path.write_bytes(f"input: 8x8x3\n# a{odd}{odd}\nlayers: [é".encode() + b"\xff]\n")
    result = runner.invoke(app, ["analyze", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{path}:3:11: byte 0xff is not UTF-8 text; save the config as UTF-8\n"


# YAML 1.1 reads these plain numbers otherwise than people do: both readers refuse them, at
# the value, with both readings; the fast one defers them to the careful one.
MISREAD = [
    ("017", "1:20: 017: a leading zero makes it octal in YAML 1.1 (15), not 17; write 17 "
     "(or '017' in quotes for text)"),
    ("-0_17", "1:20: -0_17: a leading zero makes it octal in YAML 1.1 (-15), not -17; write "
     "-17 (or '-0_17' in quotes for text)"),
    ("1:20", "1:20: 1:20: YAML 1.1 reads numbers with colons in base 60 (80), not as the text "
     "1:20; write 80, or '1:20' in quotes for text"),
    ("1:20.5", "1:20: 1:20.5: YAML 1.1 reads numbers with colons in base 60 (80.5), not as the "
     "text 1:20.5; write 80.5, or '1:20.5' in quotes for text"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), MISREAD)
@pytest.mark.parametrize("read", [compose, compose_events])
def test_octal_and_base_60_numbers_are_refused(read: object, value: str, message: str) -> None:
    text = f"layers: [{{filters: {value}}}]\n"
    assert _outcome(read, text) == ("error", f"net.yaml:{message}")
    with pytest.raises(_Unusual):
        _compose_nodes(text, "net.yaml")


@pytest.mark.parametrize(
    ("value", "decoded"),
    [("0x1F", 31), ("0b101", 5), ("1_000", 1000), ("+5", 5), ("00", 0), ("08", "08"),
     ("'017'", "017"), ("'1:20'", "1:20"), ("0.17", 0.17)],
)  # fmt: skip
@pytest.mark.parametrize("read", [compose, compose_events])
def test_numbers_that_read_as_they_look_are_kept(read: object, value: str, decoded: object) -> None:
    assert callable(read)
    assert read(f"a: {value}\n", "net.yaml").plain() == {"a": decoded}


@pytest.mark.parametrize(
    ("spec", "stderr"),
    [
        ("layers:\n  - {type: conv, kernel: 3, filters: 017}\n",
         "net.yaml:3:38: 017: a leading zero makes it octal in YAML 1.1 (15), not 17; write 17 "
         "(or '017' in quotes for text)\n"),
        ("layers:\n  - {type: relu, name: 1:20}\n",
         "net.yaml:3:24: 1:20: YAML 1.1 reads numbers with colons in base 60 (80), not as the "
         "text 1:20; write 80, or '1:20' in quotes for text\n"),
        ("budget: {params: 0700}\nlayers: [relu]\n",
         "net.yaml:2:18: 0700: a leading zero makes it octal in YAML 1.1 (448), not 700; write "
         "700 (or '0700' in quotes for text)\n"),
    ],
)  # fmt: skip
def test_a_config_never_reads_octal_or_base_60(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, stderr: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.yaml").write_text("input: 8x8x3\n" + spec)
    result = runner.invoke(app, ["analyze", "net.yaml"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr)


def test_inline_specs_read_leading_zeros_as_decimal() -> None:
    # Not YAML: a token's digits are decimal, as people read them; 1:20 is no number there.
    from convcost.frontends.inline import parse_inline

    assert analyze(parse_inline("8x8x3 | conv 3 017")).output_shape.c == 17
    with pytest.raises(ConvcostError, match="conv filters: expected an integer, got '1:20'"):
        parse_inline("8x8x3 | conv 3 1:20")
