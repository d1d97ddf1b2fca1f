"""Bounded work: no config of a few kilobytes may cost seconds or gigabytes. The expanded
size is known before expansion (and refused past --max-layers), every integer stays within
2**40, and no input is read past its bound. Memory is measured (tracemalloc), never time."""

from __future__ import annotations

import os
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcost.cli import app
from convcost.core.errors import ConvcostError
from convcost.core.limits import MAX_INPUT_BYTES, MAX_LAYERS
from convcost.frontends import load_spec
from convcost.frontends.config import parse_config
from convcost.frontends.tree import analyze, row_count
from tests.test_environment import CONVCOST

BLOCK_CHAIN = (
    "input: 8x8x3\nblocks:\n"
    + "".join(f"  b{i}: {{layers: [b{i + 1}: {{}}, b{i + 1}: {{}}]}}\n" for i in range(30))
    + "  b30: {layers: [relu]}\nlayers:\n  - b0: {}\n"
)
GROUP_ALIASES = "input: 8x8x3\nlayers:\n  - group: &a0 [relu, relu]\n" + "".join(
    f"  - group: &a{i} [{{group: *a{i - 1}}}, {{group: *a{i - 1}}}]\n" for i in range(1, 31)
)
CONCAT_ALIASES = "input: 8x8x3\nlayers:\n  - &c0 {concat: [[relu], [relu]]}\n" + "".join(
    f"  - &c{i} {{concat: [[*c{i - 1}], [*c{i - 1}]]}}\n" for i in range(1, 31)
)
ALIAS_IN_BLOCK = (
    "input: 8x8x3\nblocks:\n  b:\n    params: [n]\n    layers:\n"
    "      - group: &g0 [conv 1 $n]\n"
    + "".join(
        f"      - group: &g{i} [{{group: *g{i - 1}}}, {{group: *g{i - 1}}}]\n" for i in range(1, 31)
    )
    + "layers:\n  - b: {n: 4}\n"
)
DISTINCT_CALLS = (
    "input: 8x8x3\nblocks:\n"
    + "".join(
        f"  b{i}: {{params: [p], layers: [b{i + 1}: {{p: '${{p*2}}'}}, "
        f"b{i + 1}: {{p: '${{p*2+1}}'}}]}}\n"
        for i in range(30)
    )
    + "  b30: {params: [p], layers: ['conv 1 $p']}\nlayers:\n  - b0: {p: 1}\n"
)
SQUARES = (
    "input: 8x8x3\nblocks:\n"
    + "".join(
        f"  b{i}: {{params: [p], layers: [b{i + 1}: {{p: '${{p*p}}'}}]}}\n" for i in range(30)
    )
    + "  b30: {params: [p], layers: [conv 1 $p]}\nlayers:\n  - b0: {p: 3}\n"
)


def _expression(body: str) -> str:
    return (
        "input: 8x8x3\nblocks:\n  b: {params: [p], layers: ['conv 1 ${" + body + "}']}\n"
        "layers:\n  - b: {p: 1}\n"
    )


LIMIT = f"more than the limit of {MAX_LAYERS:,}"
CASES = [
    ("blocks calling the next twice, 30 deep", BLOCK_CHAIN,
     f"net.yaml:19:18: block 'b17' expands to 24,575 layers and groups, {LIMIT}; shrink it, "
     "or raise the limit with --max-layers"),
    ("blocks calling the next twice, each call its own arguments", DISTINCT_CALLS,
     "net.yaml:32:31: the network passes the limit of 20,000 layers and groups here; shrink "
     "it, or raise the limit with --max-layers"),
    ("aliases through group bodies", GROUP_ALIASES,
     "net.yaml:15:5: the network passes the limit of 20,000 layers and groups here; "
     "shrink it, or raise the limit with --max-layers"),
    ("aliases through concat branches", CONCAT_ALIASES,
     "net.yaml:14:5: the network passes the limit of 20,000 layers and groups here; "
     "shrink it, or raise the limit with --max-layers"),
    ("aliases inside a block", ALIAS_IN_BLOCK,
     f"net.yaml:19:9: this group expands to 24,575 layers and groups, {LIMIT}; shrink it, or "
     "raise the limit with --max-layers"),
    ("a billion repeats",
     "input: 8x8x3\nblocks:\n  r: {layers: [relu, bn]}\nlayers:\n  - r: {repeat: 1000000000}\n",
     "net.yaml:5:5: block 'r' repeated 1,000,000,000 times expands to 3,000,000,001 layers "
     f"and groups, {LIMIT}; repeat it less, or raise the limit with --max-layers"),
    ("repeats of repeats",
     "input: 8x8x3\nblocks:\n  r: {layers: [relu]}\n  s: {layers: [r: {repeat: 1000}]}\n"
     "layers:\n  - s: {repeat: 1000}\n",
     "net.yaml:6:5: block 's' repeated 1,000 times expands to 2,002,001 layers and groups, "
     f"{LIMIT}; repeat it less, or raise the limit with --max-layers"),
    ("a parameter squared through chained blocks", SQUARES,
     "net.yaml:7:38: ${p*p} reaches a number beyond ±2**40 (1,853,020,188,851,841); sizes "
     "above 2**40 are refused"),
    ("an expression of a thousand terms", _expression("+".join(["p"] * 1000)),
     "net.yaml:3:29: an expression of 1,999 characters is too long (at most 200); give the "
     "block a parameter instead"),
    ("a number of 4,000 digits through a parameter",
     "input: 8x8x3\nblocks:\n  b: {params: [p], layers: ['conv 1 ${p}']}\nlayers:\n"
     "  - b: {p: " + "9" * 4000 + "}\n",
     "net.yaml:3:29: ${p} reaches a number beyond ±2**40 (a number of about 3,987 digits); "
     "sizes above 2**40 are refused"),
    ("a product past 2**40", _expression("1048576 * 1048576 * 2"),
     "net.yaml:3:29: ${1048576 * 1048576 * 2} reaches a number beyond ±2**40 "
     "(2,199,023,255,552); sizes above 2**40 are refused"),
    ("padding past 2**40", "input: 8x8x3\nlayers:\n  - pad 549755813888\n  - pad 549755813888\n",
     "net.yaml:3:5: layer 'pad1' (pad on 8×8×3): its output 1099511627784×1099511627784×3 is "
     "larger than 2**40 in a dimension; sizes above 2**40 are refused"),
    ("a concat past 2**40 channels",
     "input: 1x1x1\nlayers:\n  - conv 1 1099511627776\n  - concat: [[relu], [relu]]\n",
     "net.yaml:4:5: concat 'concat1': its output 1×1×2199023255552 has more than 2**40 "
     "channels; sizes above 2**40 are refused"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_explosive_configs_are_refused_small(text: str, message: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ConvcostError) as error:
            analyze(parse_config(text, "net.yaml"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.render() == message
    assert peak < 30 * 2**20, peak  # ~20k layers' worth at most, never the expansion


def test_shared_structures_analyse_as_if_written_out() -> None:
    # Aliases and repeated calls are built once and shared; the report is the same as for
    # the network written out in full (names, shapes, costs).
    shared = (
        "input: 16x16x8\nblocks:\n  b: {params: [n], layers: [conv 3 $n, bn, relu]}\n"
        "layers:\n  - group: &g [conv 1 8, {concat: [[b: {n: 4}], [b: {n: 4}]]}]\n"
        "  - group: *g\n  - group: [b: {n: 8}, b: {n: 8}, b: {n: 8}]\n"
    )
    branch = "[b: {n: 4}]"
    written = (
        "input: 16x16x8\nblocks:\n  b: {params: [n], layers: [conv 3 $n, bn, relu]}\n"
        f"layers:\n  - group: [conv 1 8, {{concat: [{branch}, {branch}]}}]\n"
        f"  - group: [conv 1 8, {{concat: [{branch}, {branch}]}}]\n"
        "  - group: [b: {n: 8}, b: {n: 8}, b: {n: 8}]\n"
    )
    a, b = analyze(parse_config(shared, "a.yaml")), analyze(parse_config(written, "b.yaml"))
    assert [(r.name, r.output_shape, r.macs, r.params) for r in a.layers] == [
        (r.name, r.output_shape, r.macs, r.params) for r in b.layers
    ]
    assert a.totals == b.totals


@pytest.mark.parametrize("command", ["analyze", "check", "diff"])
def test_max_layers_raises_and_lowers_the_limit(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("r.yaml").write_text(
        "input: 8x8x3\nbudget: {macs: 1}\nblocks:\n  r: {layers: [relu]}\nlayers:\n"
        "  - r: {repeat: 30}\n"
    )
    specs = ["r.yaml", "r.yaml"] if command == "diff" else ["r.yaml"]
    # 61 rows: the repeat's, and a group row and a relu per copy.
    refused = runner.invoke(app, [command, *specs, "--max-layers", "60", "-f", "json"])
    assert refused.exit_code == 2
    assert command == "check" or refused.stdout == ""  # check reports each config's fault
    assert refused.stderr.startswith(
        "r.yaml:6:5: block 'r' repeated 30 times expands to 61 layers and groups, more than the "
        "limit of 60; repeat it less, or raise the limit with --max-layers\n"
    )
    allowed = runner.invoke(app, [command, *specs, "--max-layers", "61", "-f", "json"])
    assert allowed.exit_code == 0, allowed.stderr


@pytest.mark.parametrize("source", ["sparse file", "/dev/zero", "stdin"])
def test_inputs_are_read_no_further_than_the_limit(tmp_path: Path, source: str) -> None:
    args, stdin = [CONVCOST, "analyze"], None
    if source == "sparse file":
        big = tmp_path / "big.yaml"
        with open(big, "wb") as file:
            file.truncate(2 * 2**30)  # 2 GB that take no room on disk
        args.append(str(big))
        shown = str(big)
    elif source == "/dev/zero":
        args.append("/dev/zero")
        shown = "/dev/zero"
    else:
        args.append("-")
        stdin = subprocess.Popen(["yes", "  - relu"], stdout=subprocess.PIPE)
        shown = "<stdin>"
    try:
        done = subprocess.run(
            args, stdin=stdin.stdout if stdin else None, capture_output=True, text=True,
            timeout=120, preexec_fn=_memory_cap,
        )  # fmt: skip
    finally:
        if stdin:
            stdin.kill()
            stdin.wait()
    mib = MAX_INPUT_BYTES // 2**20
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"convcost: {shown}: more than {mib} MiB; a config is at most that long (name a "
        "repeated structure once with blocks: and repeat:)\n"
    )


def _memory_cap() -> None:
    import resource

    # Reading the whole input would need gigabytes; the bound needs the limit, and Python.
    cap = 1536 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


# Structure generated at random: nested groups, concats, residuals, repeats and block calls,
# some of them aliased. Whatever the shape, the outcome is a result or a located refusal in
# bounded memory: never a traceback, a hang or an expansion walked whole.
_LEAVES = st.sampled_from(["relu", "bn", "conv 3 8", "conv 1 4", "maxpool 2", "pad 1", "b: {}"])


def _item(children: list[object], kind: int, repeat: int) -> object:
    if kind == 0:
        return {"group": children}
    if kind == 1:
        return {"concat": [[c] for c in children] * 2}
    if kind == 2:
        return {"residual": {"body": children, "shortcut": "auto"}}
    return {"b2": {"repeat": repeat}} if repeat else {"group": children}


_items = st.recursive(
    _LEAVES,
    lambda inner: st.builds(
        _item,
        st.lists(inner, min_size=1, max_size=3),
        st.integers(0, 3),
        st.sampled_from([0, 1, 7, 1000, 10**6]),
    ),
    max_leaves=12,
)


def _yaml(item: object) -> str:
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return item if ":" not in item else "{" + item + "}"
    if isinstance(item, list):
        return "[" + ", ".join(_yaml(i) for i in item) + "]"
    assert isinstance(item, dict)
    return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in item.items()) + "}"


@settings(max_examples=150, deadline=None)
@given(st.lists(_items, min_size=1, max_size=4), st.integers(1, 6))
# Found by this test: a projection's rows, and a refusal inside a residual's body.
@example(["relu", _item(["conv 1 4"], 2, 0)], 1)
@example([_item([_item(["relu"], 3, 1000), _item(["relu"], 3, 1000)], 2, 0)], 1)
def test_generated_structure_is_analysed_or_refused_in_bounded_memory(
    items: list[object], aliases: int
) -> None:
    lines = [f"  - &x{i} {_yaml(item)}" for i, item in enumerate(items)]
    # Each alias doubles what the one before it reaches.
    for i in range(aliases):
        lines.append(f"  - &y{i} {{group: [*{'x0' if i == 0 else f'y{i - 1}'}, *x0]}}")
        lines.append(f"  - {{group: [*y{i}, *y{i}]}}")
    text = (
        "input: 32x32x8\nblocks:\n  b: {layers: [conv 1 8, relu]}\n"
        "  b2: {layers: [b: {repeat: 3}, conv 3 8]}\nlayers:\n" + "\n".join(lines) + "\n"
    )
    tracemalloc.start()
    try:
        try:
            network = parse_config(text, "gen.yaml")
            report = analyze(network)
            # The arithmetic never counts fewer rows than the analysis makes (it counts a
            # projection where a shortcut may turn out an identity).
            counted: dict[int, int] = {}
            assert sum(row_count(e, counted) for e in network.nodes) >= len(report.rows)
            assert len(report.rows) <= MAX_LAYERS
        except ConvcostError as error:
            assert error.location is not None or error.message.startswith("layer ")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 120 * 2**20, peak


def test_the_default_limit_is_documented() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"--max-layers N` (default {MAX_LAYERS:,})" in readme
    assert f"{MAX_INPUT_BYTES // 2**20} MiB" in readme
    assert os.path.exists("/dev/zero")


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["analyze", "9" * 5000 + "x8x3 | relu"],
         "<spec>:1:1: a number of 5,000 digits is too large; sizes above 2**40 are refused"),
        (["analyze", "8x8x3 | conv 1x1 " + "9" * 100_000],
         "convcost: a number of 100,000 digits is too large; sizes above 2**40 are refused"),
        (["analyze", "net.yaml"],
         "net.yaml:2:38: conv filters: a number of about 4,500 digits is too large; sizes above "
         "2**40 are refused"),
        (["analyze", "shape.yaml"],
         "shape.yaml:1:8: a number of 5,000 digits is too large; sizes above 2**40 are refused"),
        (["shape", "8x8x3", "--kernel", "9" * 5000],
         "convcost: a number of 5,000 digits is too large; sizes above 2**40 are refused"),
    ],
)  # fmt: skip
def test_numbers_of_thousands_of_digits_are_refused_unread(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], stderr: str
) -> None:
    # Python refuses to read an integer of more than 4,300 digits (and reading thousands is
    # slow): no size has more than 14, so longer ones are refused before they are read.
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(
        "input: 8x8x3\nlayers: [{conv: {kernel: 3, filters: 0" + "7" * 4999 + "}}]\n"
    )
    Path("shape.yaml").write_text("input: " + "9" * 5000 + "x8x3\nlayers: [relu]\n")
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.split("\n")[0] == stderr


def test_gathering_faults_stops_past_what_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every fault is reported at once, up to what is shown: past that, a megabyte of
    # misspelt layers would cost a fault (and a search for a near miss) each.
    import convcost.frontends.structure as structure

    built = []
    original = structure.build_layer  # type: ignore[attr-defined]

    def counting(*args: object, **kwargs: object) -> object:
        built.append(args[0])
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(structure, "build_layer", counting)
    items = "".join(f"  - {{type: rleu, name: l{i}}}\n" for i in range(1000))
    with pytest.raises(ConvcostError) as error:
        parse_config("input: 8x8x3\nlayers:\n" + items, "net.yaml")
    lines = error.value.render().split("\n")
    assert len(built) == 21
    assert len(lines) == 21
    assert lines[0].startswith("net.yaml:3:12: unknown layer kind 'rleu'; did you mean 'relu'?")
    assert lines[19].startswith("net.yaml:22:12: unknown layer kind 'rleu'")
    assert lines[20] == (
        "convcost: more errors not shown (checking stops after 20); fix these first"
    )


def test_fewer_faults_than_shown_are_all_counted() -> None:
    items = "".join(f"  - {{type: rleu, name: l{i}}}\n" for i in range(20))
    with pytest.raises(ConvcostError) as error:
        parse_config("input: 8x8x3\nlayers:\n" + items + "  - relu\n", "net.yaml")
    assert error.value.stopped is False
    assert len(error.value.render().split("\n")) == 20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input: 8x8x3\nlayers:\n  - {relu: null, name: " + "a" * 201 + "}\n",
         "net.yaml:3:24: a name of 201 characters is too long (at most 200); shorten it"),
        ("input: 8x8x3\nlayers:\n  - group: [relu]\n    name: " + "é" * 300 + "\n",
         "net.yaml:4:11: a name of 300 characters is too long (at most 200); shorten it"),
        ("input: 8x8x3\nlayers:\n  - relu name=" + "a" * 201 + "\n",
         "net.yaml:3:10: a name of 201 characters is too long (at most 200); shorten it"),
        ("input: 8x8x3\nblocks:\n  " + "b" * 201 + ": {layers: [relu]}\nlayers: [relu]\n",
         "net.yaml:3:3: a name of 201 characters is too long (at most 200); shorten it"),
        ("name: " + "n" * 201 + "\ninput: 8x8x3\nlayers: [relu]\n",
         "net.yaml:1:7: a name of 201 characters is too long (at most 200); shorten it"),
    ],
)  # fmt: skip
def test_names_are_bounded(text: str, message: str) -> None:
    # Tables lay out every name: a megabyte-long one took seconds to fold.
    with pytest.raises(ConvcostError) as error:
        parse_config(text, "net.yaml")
    assert error.value.render() == message


def test_names_of_the_limit_are_kept() -> None:
    text = (
        f"input: 8x8x3\nlayers:\n  - relu name={'a' * 200}\n  - {{relu: null, name: {'b' * 200}}}\n"
    )
    report = analyze(parse_config(text, "net.yaml"))
    assert [r.name for r in report.layers] == ["a" * 200, "b" * 200]


COLLECTIONS = {"input": "8x8x3", "layers": [[[]] for _ in range(60_000)]}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_lists_and_mappings_are_bounded_per_row(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    # Five lists and mappings per row of the layer bound (a layer takes one to three): a
    # megabyte of nothing but nested lists took the YAML reader seconds. Every reader
    # refuses at the same one, the first past the bound; --max-layers raises both bounds.
    import json

    monkeypatch.chdir(tmp_path)
    Path("net" + suffix).write_text(json.dumps(COLLECTIONS))
    result = runner.invoke(app, ["analyze", "net" + suffix])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"net{suffix}:1:300025: the config holds more than 100,000 lists and mappings, more "
        "than a network of the layer bound needs; shrink it, or raise the bound with "
        "--max-layers\n"
    )
    raised = runner.invoke(app, ["analyze", "net" + suffix, "--max-layers", "30000"])
    assert raised.exit_code == 2  # read whole now: its items are lists, not layers
    assert raised.stderr.split("\n")[0] == (
        f"net{suffix}:1:31: a layer is a mapping or a string such as 'conv 5x5 32', not a list"
    )


@pytest.mark.parametrize("read", ["compose", "compose_events", "_compose_nodes"])
def test_every_yaml_reader_bounds_collections_alike(read: str) -> None:
    from convcost.frontends import yamlread

    text = "a: [" + ", ".join(["[1]"] * 20) + "]\n"
    with pytest.raises(ConvcostError) as error:
        getattr(yamlread, read)(text, "net.yaml", 10)
    assert error.value.location is not None
    assert (error.value.location.line, error.value.location.column) == (1, 5 + 5 * 8)
    assert getattr(yamlread, read)(text, "net.yaml", 22).value["a"].value[19].value[0].value == 1


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (["analyze", "8x8x3 | relu | relu | relu", "--max-layers", "2"], "<spec>:1:23: "),
        (["analyze", "resnet50", "--max-layers", "10"], "resnet50.yaml:23:15: "),
        (["analyze", "one.yaml"], "one.yaml:3:100005: "),  # one item of 30,000 layers
        (["diff", "8x8x3 | relu", "8x8x3 | relu | relu", "--max-layers", "1"], "<spec>:1:16: "),
    ],
)
def test_every_front_end_holds_the_layer_bound(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    first_line: str,
) -> None:
    # Inline specs, built-in models and one config item written in the inline grammar are
    # held to --max-layers as every config is; one item stops where it passes the bound.
    monkeypatch.chdir(tmp_path)
    Path("one.yaml").write_text("input: 8x8x3\nlayers:\n  - " + "relu " * 30_000 + "\n")
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, "")
    line = result.stderr.split("\n")[0]
    assert line.startswith(first_line)
    assert line.endswith(
        "the network passes the limit of "
        + ("20,000" if "one.yaml" in args else args[-1])
        + " layers and groups here; shrink it, or raise the limit with --max-layers"
    )


def _chain(levels: str, blocks: int) -> str:
    """Blocks each nesting ``levels`` around a call of the next: shallow as written, deep
    once expanded."""
    body = "".join(
        f"  b{i}: {{layers: [" + levels.format(call=f"{{b{i + 1}: {{}}}}") + "]}\n"
        for i in range(blocks)
    )
    return f"input: 8x8x3\nblocks:\n{body}  b{blocks}: {{layers: [relu]}}\nlayers:\n  - b0: {{}}\n"


@pytest.mark.parametrize("command", ["analyze", "diff", "check"])
def test_structures_nest_at_most_100_deep_once_expanded(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # 99 levels (a call, a residual and a group per block) are analysed by every command;
    # one level more is refused where it is written, not by Python's recursion limit.
    monkeypatch.chdir(tmp_path)
    levels = "{{residual: [{{group: [{call}]}}]}}"
    Path("ok.yaml").write_text(_chain(levels, 33))
    Path("deep.yaml").write_text(_chain(levels, 34))
    for name, status in (("ok.yaml", 0), ("deep.yaml", 2)):
        args = [command, name, name] if command == "diff" else [command, name]
        options = ["--max-macs", "1G"] if command == "check" else ["-f", "json"]
        result = runner.invoke(app, [*args, *options])
        assert result.exit_code == status, result.stderr
    assert result.stderr.split("\n")[0] == (
        "deep.yaml:36:19: groups, concats, residuals and block calls nest more than 100 deep "
        "here, once blocks are expanded; flatten the network"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input: 8x8x3\nlayers: [relu name=c/concat1, {concat: [[relu], [relu]], name: c}]\n",
         "net.yaml:2:10: the full name 'c/concat1' is one convcost gives a merge or a projection "
         "here; rename this element (full names join the levels with '/')"),
        ("input: 8x8x8\nlayers:\n  - residual: {name: r, body: [conv 1x1 6 name=downsample/0], "
         "shortcut: auto}\n",
         "net.yaml:3:32: the full name 'r/downsample/0' is one convcost gives a merge or a "
         "projection here; rename this element (full names join the levels with '/')"),
    ],
)  # fmt: skip
def test_names_that_take_a_generated_full_name_are_located(text: str, message: str) -> None:
    with pytest.raises(ConvcostError) as error:
        analyze(parse_config(text, "net.yaml"))
    assert error.value.render() == message


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_values_are_counted_while_read(tmp_path: Path, suffix: str) -> None:
    # 50 values per row of the layer bound (1,000,000 by default), counted as the text is
    # read: a long list of numbers stops at the bound, in bounded memory.
    path = tmp_path / f"net{suffix}"
    path.write_text(
        '{"input": "8x8x3", "layers": ["relu"], "description": [' + "1, " * 1_200_000 + "1]}\n"
    )
    tracemalloc.start()
    try:
        with pytest.raises(ConvcostError) as error:
            load_spec(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.value.message == (
        "the config holds more than 1,000,000 values, more than a network of the layer bound "
        "needs; shrink it, or raise the bound with --max-layers"
    )
    assert peak < 400 * 2**20, peak
