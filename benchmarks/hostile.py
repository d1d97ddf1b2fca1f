"""Hostile inputs: every one of up to 1 MB must be refused or analysed in ≤ 2 s and ≤ 300 MB.

    python -m benchmarks.hostile                 # all (~10 minutes while many time out)
    python -m benchmarks.hostile -k alias -k repeat   # only the cases whose name has a word
    python -m benchmarks.hostile --list          # the cases, with the size of each input
    python -m benchmarks.hostile --keep DIR      # write the inputs to DIR and keep them

Each case is generated into a folder, then run once through the installed ``convcost`` in a
fresh process with a hard timeout and an address-space limit (so that a runaway case cannot
take the machine down). The process's own wall time and peak resident memory (``os.wait4``:
the child's rusage, not a delta over all children) decide the verdict: PASS is exit 0 or 2,
no traceback, no output on stdout with an error, within 2 s and 300 MB (10**6 bytes). Cases
marked "context" are over 1 MB: shown apart, not part of the target. A row per case goes to
stderr as it ends; the report goes to stdout at the end. The script is a report: it exits 0
whatever the verdicts say.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

PYTHON = sys.executable
CONVCOST = shutil.which("convcost", path=str(Path(PYTHON).parent)) or "convcost"
ONE_MB = 1_000_000  # the target's bound on an input, and its unit of memory
SECONDS, MEGABYTES = 2.0, 300.0  # the target
TIMEOUT, MEMORY_LIMIT = 20.0, 4 * 10**9  # where a run is stopped: the machine must survive
HEAD = "input: 8x8x3\nlayers:\n"
# Tables are as wide as COLUMNS says (80 off a terminal): the same width for every run.
ENVIRONMENT = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}


@dataclass(frozen=True)
class Attack:
    """What to run: convcost's arguments, the input's size (None: endless), and whether
    standard input is fed without end."""

    args: list[str]
    size: int | None
    endless_stdin: bool = False


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Attack]
    context: bool = False  # over 1 MB: shown apart, not part of the target


@dataclass(frozen=True)
class Result:
    case: Case
    size: int | None
    exit: int | None  # None: killed at the timeout; negative: killed by that signal
    seconds: float
    cpu: float  # user + system seconds: steadier than wall time on a busy host
    megabytes: float
    traceback: bool
    stdout: int  # bytes written to stdout
    stderr: str  # its first and last 4 kB
    stderr_bytes: int
    stderr_lines: int

    @property
    def faults(self) -> list[str]:
        """Why the case fails the target (empty: it passes)."""
        faults = []
        if self.exit is None:
            faults.append("timeout")
        elif self.exit not in (0, 2):
            faults.append(f"exit {self.exit}")
        if self.traceback:
            faults.append("traceback")
        if self.exit == 2 and self.stdout:
            faults.append("stdout on error")
        if self.seconds > SECONDS and self.exit is not None:
            faults.append(f"> {SECONDS:g} s")
        if self.megabytes > MEGABYTES:
            faults.append(f"> {MEGABYTES:g} MB")
        return faults

    @property
    def passed(self) -> bool:
        return not self.faults


# --- generators: each the smallest nasty form, parametrised to scale toward 1 MB ----------


def fit(make: Callable[[int], str], size: int = ONE_MB) -> str:
    """``make(n)`` for the largest n whose text is at most ``size`` bytes (make grows with n)."""
    low, high = 1, 2
    while len(make(high).encode()) <= size:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(make(middle).encode()) <= size else (low, middle)
    return make(low)


def alias_chain(levels: int, kind: str) -> str:
    """Each level an anchored list holding two aliases of the level below: 2**levels layers
    from a few hundred bytes. ``kind``: the structure whose body is aliased (group, concat,
    residual), ``block`` (blocks' layers: anchored, the last block called) or ``layers``
    (the same anchors, the top level's layers: an alias of the last)."""
    wrapper = "group" if kind in ("block", "layers") else kind
    base = "[[relu], [relu]]" if kind == "concat" else "[relu, relu]"

    def ref(level: int) -> str:
        return f"[{{concat: *a{level}}}]" if kind == "concat" else f"{{{wrapper}: *a{level}}}"

    bodies = [base] + [f"[{ref(i - 1)}, {ref(i - 1)}]" for i in range(1, levels)]
    if kind in ("block", "layers"):
        blocks = "".join(f"  b{i}: {{layers: &a{i} {body}}}\n" for i, body in enumerate(bodies))
        call = f"[{{b{levels - 1}: null}}]" if kind == "block" else f"*a{levels - 1}"
        return f"input: 8x8x3\nblocks:\n{blocks}layers: {call}\n"
    return HEAD + "".join(f"  - {kind}: &a{i} {body}\n" for i, body in enumerate(bodies))


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    """The classic: anchors in a value convcost ignores, layers: the last alias."""
    anchors = ["description:", f"  a0: &a0 [{', '.join(['relu'] * width)}]"]
    anchors += [
        f"  a{i}: &a{i} [{', '.join([f'{{group: *a{i - 1}}}'] * width)}]" for i in range(1, levels)
    ]
    return "\n".join(anchors) + f"\ninput: 8x8x3\nlayers: *a{levels - 1}\n"


def wide_alias(refs: int, width: int = 1000) -> str:
    """No depth at all: one anchored group of ``width`` layers, aliased ``refs`` times."""
    return HEAD + f"  - group: &a [{', '.join(['relu'] * width)}]\n" + "  - group: *a\n" * refs


def deep_items(lines: int, depth: int = 40, inner: str = "") -> str:
    """Items each nested ``depth`` flow lists deep: past the fast reader's bound (32), so
    the careful one reads every event (two a character)."""
    return HEAD + ("  - " + "[" * depth + inner + "]" * depth + "\n") * lines


def nested_groups(lines: int, depth: int = 20) -> str:
    """Items each ``depth`` groups deep: a row per group, past the fast reader's bound."""
    return HEAD + ("  - " + "{group: [" * depth + "relu" + "]}" * depth + "\n") * lines


def distinct_doubling(depth: int) -> str:
    """Each block calls the next twice with arguments of its own: nothing can be shared."""
    blocks = "".join(
        f"  b{i}: {{params: [p], layers: [b{i + 1}: {{p: '${{p*2}}'}}, "
        f"b{i + 1}: {{p: '${{p*2+1}}'}}]}}\n"
        for i in range(depth)
    )
    return (
        f"input: 8x8x3\nblocks:\n{blocks}  b{depth}: {{params: [p], layers: ['conv 1 $p']}}\n"
        "layers: [{b0: {p: 1}}]\n"
    )


def one_item(count: int) -> str:
    """One item in the inline grammar holding ``count`` layers."""
    return HEAD + "  - " + "relu " * count + "\n"


def numbers(count: int) -> str:
    """A description that is a list of ``count`` numbers: values, and nothing else."""
    return HEAD + "  - relu\ndescription: [" + "1, " * count + "1]\n"


def deep_calls(blocks: int) -> str:
    """Blocks each nesting a residual and a group around the next call: 3 levels a block."""
    body = "".join(f"  b{i}: {{layers: [{{residual: [{{group: [{{b{i + 1}: {{}}}}]}}]}}]}}\n"
                   for i in range(blocks))  # fmt: skip
    return f"input: 8x8x3\nblocks:\n{body}  b{blocks}: {{layers: [relu]}}\nlayers: [{{b0: {{}}}}]\n"


def block_doubling(depth: int) -> str:
    """Each block calls the next twice: 2**depth layers."""
    blocks = "".join(f"  b{i}: {{layers: [{{b{i + 1}: null}}, {{b{i + 1}: null}}]}}\n"
                     for i in range(depth))  # fmt: skip
    return (
        f"input: 8x8x3\nblocks:\n{blocks}  b{depth}: {{layers: [relu]}}\nlayers: [{{b0: null}}]\n"
    )


def nested_repeats(levels: int, count: int) -> str:
    """repeat: count inside repeat: count ... ``levels`` deep: count**levels layers."""
    blocks = "  b0: {layers: [relu]}\n" + "".join(
        f"  b{i}: {{layers: [{{b{i - 1}: {{repeat: {count}}}}}]}}\n" for i in range(1, levels)
    )
    return f"input: 8x8x3\nblocks:\n{blocks}layers: [{{b{levels - 1}: {{repeat: {count}}}}}]\n"


def squared_parameter(depth: int, start: int = 3) -> str:
    """Each block squares its parameter for the next: start**(2**depth) at the bottom."""
    blocks = "".join(
        f"  b{i}: {{params: [p], layers: [{{b{i + 1}: {{p: '${{p * p}}'}}}}]}}\n"
        for i in range(depth)
    )
    last = f"  b{depth}: {{params: [p], layers: ['conv 1x1 $p']}}\n"
    return f"input: 8x8x3\nblocks:\n{blocks}{last}layers: [{{b0: {{p: {start}}}}}]\n"


def in_block(layer: str, call: str = "null") -> str:
    """A block whose one layer is ``layer`` (parameters are only read in blocks), called."""
    return f"input: 8x8x3\nblocks:\n  b: {{layers: ['{layer}']}}\nlayers: [{{b: {call}}}]\n"


def expression_terms(terms: int) -> str:
    return in_block("conv 1x1 ${" + "+".join(["1"] * terms) + "}")


def input_expressions(copies: int) -> str:
    """A conv repeated ``copies`` times whose every setting reads its input, the channels
    growing so that no copy meets the same input: each is worked out again."""
    growing = "in.c + " + " + ".join(["in.h // 64"] * 14) + " + 1"  # 190 characters
    same = "${1 + in.h // 1000}"
    return (
        f"input: 8x8x1\nlayers:\n  - {{type: conv, kernel: '{same}', filters: '${{{growing}}}', "
        f"stride: '{same}', dilation: '{same}', groups: '{same}', padding: "
        f"'${{in.h // 1000}}', repeat: {copies}}}\n"
    )


def nested_parentheses(depth: int) -> str:
    return in_block("conv 1x1 ${" + "(" * depth + "1" + ")" * depth + "}")


def nested_mappings(depth: int) -> str:
    """Block mappings, each indented one column further than its parent."""
    return HEAD + "".join(" " * (i + 2) + "- a:\n" if i == 0 else " " * (i + 4) + "a:\n"
                          for i in range(depth))  # fmt: skip


def nested(opening: str, inner: str, closing: str, depth: int, head: str = HEAD) -> str:
    return head + opening * depth + inner + closing * depth + "\n"


def lines(line: str, count: int, head: str = HEAD) -> str:
    return head + line * count


def flow(item: str, count: int, head: str = "input: 8x8x3\nlayers: ", sep: str = ", ") -> str:
    """One line: head then [item, item, ...]."""
    return head + "[" + sep.join([item] * count) + "]\n"


def named(name: str) -> str:
    return HEAD + "  - {type: relu, name: " + name + "}\n"


def digits(count: int) -> str:
    return HEAD + "  - {conv: {kernel: 1, filters: " + "9" * count + "}}\n"


def described(length: int) -> str:
    return "input: 8x8x3\nlayers: [relu]\ndescription: " + "a" * length + "\n"


def top_keys(count: int) -> str:
    return HEAD + "  - relu\n" + "".join(f"k{i}: 1\n" for i in range(count))


def layer_keys(count: int) -> str:
    return HEAD + "  - {type: relu, " + ", ".join(f"k{i}: 1" for i in range(count)) + "}\n"


def json_layers(item: str, count: int, extra: str = "") -> str:
    return '{"input": "8x8x3", ' + extra + '"layers": [' + ", ".join([item] * count) + "]}"


def inline_pipes(count: int) -> str:
    return "8x8x3" + " | relu" * count


# --- the catalogue ------------------------------------------------------------------------


def config(name: str, make: Callable[[], str], suffix: str = ".yaml", options: tuple[str, ...] = (),
           context: bool = False) -> Case:  # fmt: skip
    """A case whose input is a config file made by ``make``."""

    def attack(folder: Path) -> Attack:
        path = folder / f"case{suffix}"
        with path.open("w", encoding="utf-8") as file:
            file.write(make())
        return Attack(["analyze", str(path), *options], path.stat().st_size)

    return Case(name, attack, context)


def filled(name: str, make: Callable[[int], str], suffix: str = ".yaml", *options: str) -> Case:
    """A config of ``make(n)`` for the largest n that fits in 1 MB."""
    return config(name, lambda: fit(make), suffix, options)


def argument(name: str, spec: Callable[[], str], *options: str) -> Case:
    """A case whose input is an inline spec (the size is the spec's and options' bytes)."""

    def attack(folder: Path) -> Attack:
        args = ["analyze", spec(), *options]
        return Attack(args, sum(len(arg.encode()) for arg in args[1:]))

    return Case(name, attack)


def special(name: str, path: str, endless_stdin: bool = False) -> Case:
    """A path that cannot be read to its end (a device, standard input fed without end)."""
    return Case(name, lambda folder: Attack(["analyze", path], None, endless_stdin))


def sparse_file(folder: Path) -> Attack:
    path = folder / "sparse.yaml"
    with path.open("wb") as file:
        file.truncate(2**31)  # 2 GiB of NULs that take no disk
    return Attack(["analyze", str(path)], 2**31)


def catalogue() -> list[Case]:
    d5000 = "9" * 5000
    kinds = {"group": "group bodies", "concat": "concat branches", "residual": "residual bodies",
             "block": "block layers:", "layers": "top layers: *a29"}  # fmt: skip
    return [
        # aliases: 2**30 layers from a few hundred bytes, through each kind of body
        *(
            config(f"alias ×2, 30 levels: {label}", partial(alias_chain, 30, kind))
            for kind, label in kinds.items()
        ),
        config("billion laughs: 9 levels of 10 relu", billion_laughs),
        filled("alias of 1,000 relu, 1 MB of references", wide_alias),
        # blocks and repeats
        config("blocks calling the next twice, 30 deep", partial(block_doubling, 30)),
        config("structures 3,000 deep once 1,000 blocks are expanded", partial(deep_calls, 1000)),
        config("the same, each call its own arguments", partial(distinct_doubling, 30)),
        config(
            "repeat: 1,000,000,000 on a block call",
            partial(in_block, "relu", "{repeat: 1000000000}"),
        ),
        config("repeat 1,000 inside repeat 1,000, 6 deep", partial(nested_repeats, 6, 1000)),
        config(
            "block repeat start: of 4,000 digits",
            partial(in_block, "relu", "{repeat: 2, start: " + "9" * 4000 + "}"),
        ),
        config("parameter squared through 30 blocks", partial(squared_parameter, 30)),
        # expressions (parameters are read only in blocks)
        config("expression of 1,000 terms ${1+1+...}", partial(expression_terms, 1000)),
        config("expression of 100,000 terms", partial(expression_terms, 100_000)),
        filled("expression of 1 MB of terms", expression_terms),
        config("expression in 10,000 parentheses", partial(nested_parentheses, 10_000)),
        filled("expression in 1 MB of parentheses", nested_parentheses),
        config(
            "20,000 convs whose every setting reads ${in...}", partial(input_expressions, 19_998)
        ),
        # numbers
        config("filters: of 5,000 digits", partial(digits, 5000)),
        filled("filters: of 1 MB of digits", digits),
        config("input: [5,000 digits, 8, 3]", lambda: f"input: [{d5000}, 8, 3]\nlayers: [relu]\n"),
        config("input: 5,000-digit x8x3", lambda: f"input: {d5000}x8x3\nlayers: [relu]\n"),
        argument("inline conv of 100,000 digits", lambda: "8x8x3 | conv 1x1 " + "9" * 100_000),
        argument("--batch of 4,295 digits", lambda: "8x8x3 | relu", "--batch", "9" * 4295),
        argument("--batch of 5,000 digits", lambda: "8x8x3 | relu", "--batch", d5000),
        argument(
            "pad 2**40 then conv 3x3 2**30",
            lambda: "8x8x3 | pad 1099511627776 | conv 3x3 1073741824",
        ),
        config(
            "concat of 1,200 branches of 10**9 channels",
            lambda: HEAD + "  - concat: " + flow("[conv 1x1 1000000000]", 1200, ""),
        ),
        # big strings
        filled("description: of 1 MB", described),
        config("description: of 10 MB", partial(described, 10 * ONE_MB), context=True),
        filled("layer name of 1 MB", lambda n: named("a" * n)),
        filled("layer name of 1 MB, -f json", lambda n: named("a" * n), ".yaml", "-f", "json"),
        filled("layer name of 1 MB of wide characters", lambda n: named("界" * n)),
        # nesting
        config(
            "100,000 nested flow lists [[[...]]]",
            partial(nested, "[", "", "]", 100_000, "input: 8x8x3\nlayers: "),
        ),
        filled(
            "1 MB of nested flow lists",
            partial(nested, "[", "", "]", head="input: 8x8x3\nlayers: "),
        ),
        filled("1 MB of items 40 flow lists deep", deep_items),
        filled("1 MB of relu in one item", one_item),
        filled("1 MB of numbers in a description", numbers),
        filled("1 MB of relu 40 flow lists deep", partial(deep_items, inner="relu")),
        filled("1 MB of items 20 groups deep", nested_groups),
        config("100,000 nested block lists - - - relu", partial(nested, "- ", "relu", "", 100_000)),
        filled("1 MB of nested block lists", partial(nested, "- ", "relu", "")),
        filled("nested block mappings, 1 MB deep (~1,400)", nested_mappings),
        config("nested block mappings, 3,000 deep", partial(nested_mappings, 3000), context=True),
        config(
            "100,000 nested flow mappings {a: {a: ...}}",
            partial(nested, "{a: ", "1", "}", 100_000, HEAD + "  - "),
        ),
        # many small things
        filled("1 MB of '- relu' lines (a real network)", partial(lines, "  - relu\n")),
        filled(
            "1 MB of '- relu' lines, -f json", partial(lines, "  - relu\n"), ".yaml", "-f", "json"
        ),
        filled(
            "1 MB of '- conv 3x3 16' lines",
            lambda n: lines("  - conv 3x3 16\n", n, "input: 8x8x16\nlayers:\n"),
        ),
        filled("1 MB line: layers: [relu, relu, ...]", partial(flow, "relu")),
        filled("1 MB of '- rleu' lines (an error each)", partial(lines, "  - rleu\n")),
        filled("1 MB of [[],[],...]", lambda n: flow("[]", n, sep=",")),
        filled("1 MB of {a: 1} mappings", partial(flow, "{a: 1}")),
        config("300,000 {} mappings", lambda: flow("{}", 300_000, sep=",")),
        filled("1 MB of keys in the top mapping", top_keys),
        filled("1 MB of keys in one layer", layer_keys),
        filled("1 MB of one key repeated", lambda n: HEAD + "  - relu\n" + "name: a\n" * n),
        argument("inline spec of 100 kB: 8x8x3 | relu | ...", lambda: fit(inline_pipes, 100_000)),
        # JSON: read by the json module first, by the YAML reader on a fault
        filled("JSON: 1 MB of relu layers", partial(json_layers, '"relu"'), ".json"),
        filled("JSON: 1 MB of [] layers", partial(json_layers, "[]"), ".json"),
        filled("JSON: 1 MB of {} layers", partial(json_layers, "{}"), ".json"),
        config(
            "JSON: 100,000 nested lists",
            partial(nested, "[", "", "]", 100_000, '{"input": "8x8x3", "layers": '),
            ".json",
        ),
        filled(
            "JSON: 1 MB of nested objects",
            lambda n: json_layers('{"a": ' * n + "1" + "}" * n, 1),
            ".json",
        ),
        filled(
            "JSON: layer name of 1 MB",
            lambda n: json_layers('{"type": "relu", "name": "' + "a" * n + '"}', 1),
            ".json",
        ),
        filled(
            "JSON: description of 1 MB",
            lambda n: json_layers('"relu"', 1, '"description": "' + "a" * n + '", '),
            ".json",
        ),
        # what cannot be read to its end
        special("/dev/zero as the config", "/dev/zero"),
        Case("2 GiB sparse file", sparse_file),
        special("endless stdin (yes | convcost analyze -)", "-", endless_stdin=True),
    ]


# --- running ------------------------------------------------------------------------------


def _limits(memory: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec: a runaway case stops at this much
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return apply


def _feed(pipe: IO[bytes]) -> None:
    """``yes``: writes "y" lines until the reader goes away."""
    chunk = b"y\n" * 32768
    try:
        while True:
            pipe.write(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass


def prepare(case: Case, folder: Path) -> Attack:
    """The case's input, made in a forked child. A child's peak resident memory starts at its
    parent's at the fork (the pages it inherits count until exec), so this process must stay
    small: the megabytes a generator allocates are a throwaway child's, not its own."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: make the input, send back what to run, leave at once
        code = 0
        try:
            attack = case.make(folder)
            message = [attack.args, attack.size, attack.endless_stdin]
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(json.dumps(message).encode())
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    if os.waitpid(pid, 0)[1]:
        raise RuntimeError(f"making the input of {case.name!r} failed (see above)")
    args, size, endless = json.loads(data)
    return Attack(args, size, endless)


def run(case: Case, folder: Path, timeout: float, memory: int, clean: bool = True) -> Result:
    attack = prepare(case, folder)
    out_path, err_path = folder / "stdout", folder / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            [CONVCOST, *attack.args],
            stdin=subprocess.PIPE if attack.endless_stdin else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            preexec_fn=_limits(memory),
            start_new_session=True,  # the timeout kills its whole group
            env=ENVIRONMENT,
        )
        feeder = None
        if attack.endless_stdin:
            feeder = threading.Thread(target=_feed, args=(child.stdin,), daemon=True)
            feeder.start()
        # Poll rather than block: the child is only killed while it is known unreaped (its
        # pid cannot have been reused), and wait4 gives this child's own rusage.
        killed = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.perf_counter() - start > timeout:
                os.killpg(child.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    if feeder is not None:
        assert child.stdin is not None
        feeder.join(timeout=5)
        with contextlib.suppress(OSError):
            child.stdin.close()
    lines, traceback_found = _scan(err_path)
    result = Result(
        case, attack.size, None if killed else child.returncode, seconds,
        usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / ONE_MB, traceback_found,
        out_path.stat().st_size, _read_ends(err_path), err_path.stat().st_size, lines,
    )  # fmt: skip
    if clean:  # the next case starts in an empty folder
        for path in folder.iterdir():
            path.unlink()
    return result


def _read_ends(path: Path, size: int = 4096) -> str:
    """The start and the end of a file that may be huge."""
    with path.open("rb") as file:
        head = file.read(size)
        file.seek(0, os.SEEK_END)
        if file.tell() > 2 * size:
            file.seek(-size, os.SEEK_END)
            head += b"\n...\n" + file.read()
        else:
            file.seek(len(head))
            head += file.read()
    return head.decode("utf-8", "replace")


TRACEBACK = b"Traceback (most recent call last)"


def _scan(path: Path) -> tuple[int, bool]:
    """The lines of a file that may be huge, and whether a traceback is anywhere in it."""
    lines, last, found = 0, b"\n", False
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            found = found or TRACEBACK in last + chunk  # ``last``: the tail before this chunk
            lines, last = lines + chunk.count(b"\n"), chunk[-len(TRACEBACK) :]
    return lines + (not last.endswith(b"\n")), found


def run_all(cases: list[Case], timeout: float, memory: int, keep: Path | None,
            progress: bool = True) -> list[Result]:  # fmt: skip
    """Each case in turn; with ``keep``, each in its own folder there, its input and outputs
    kept for a rerun by hand."""
    results = []
    with _folder(keep) as folder:
        for case in cases:
            here = folder
            if keep is not None:
                here = keep / _slug(case.name)
                here.mkdir(parents=True, exist_ok=True)
            results.append(run(case, here, timeout, memory, clean=keep is None))
            if progress:  # on stderr: the report on stdout comes whole at the end
                print(_row(results[-1]), file=sys.stderr, flush=True)
    return results


class _folder:
    """A temporary folder, or the one given (kept)."""

    def __init__(self, keep: Path | None):
        self.keep = keep
        self.temp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if self.keep is not None:
            return self.keep
        self.temp = tempfile.TemporaryDirectory(prefix="convcost-hostile-")
        return Path(self.temp.name)

    def __exit__(self, *exc: object) -> None:
        if self.temp is not None:
            self.temp.cleanup()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:60]


# --- reporting ----------------------------------------------------------------------------


def human(size: int | None) -> str:
    return "endless" if size is None else f"{size:,}"


def _what(result: Result) -> str:
    """What happened, in a few words: the faults, then convcost's answer."""
    if result.exit is None:
        said = ""
    elif result.traceback:
        tail = [line for line in result.stderr.splitlines() if line.strip()]
        said = tail[-1] if tail else ""
    elif result.exit == 0:
        said = f"analysed, {result.stdout:,} bytes of output"
    else:  # the first error without its location, then how much more there is
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        said = errors[0] if errors else "(no message)"
        said = said.split(": ", 1)[1] if said.startswith(("/", "<")) and ": " in said else said
        more = [f"+{result.stderr_lines - 1} lines"] * (result.stderr_lines > 1)
        more += [f"{result.stderr_bytes:,} bytes"] * (result.stderr_bytes > 1000)
        if more:
            return _clip(result.faults, said, f" ({', '.join(more)})")
    return _clip(result.faults, said)


def _clip(faults: list[str], said: str, tail: str = "", width: int = 90) -> str:
    """The faults, then what convcost said, cut to fit ``width`` (keeping ``tail``)."""
    head = ", ".join(faults) + (": " if faults and said else "")
    room = width - len(head) - len(tail)
    return head + (said if len(said) <= room else said[: max(room - 3, 0)] + "...") + tail


HEADER = (f"{'case':46s} {'input bytes':>13s} {'exit':>5s} {'seconds':>8s} {'cpu s':>6s} "
          f"{'peak MB':>8s}  verdict  what")  # fmt: skip


def _row(result: Result) -> str:
    code = "kill" if result.exit is None else str(result.exit)
    verdict = "PASS" if result.passed else "FAIL"
    return (f"{result.case.name:46s} {human(result.size):>13s} {code:>5s} "
            f"{result.seconds:8.2f} {result.cpu:6.2f} {result.megabytes:8.0f}  {verdict:7s}  "
            f"{_what(result)}")  # fmt: skip


def report(results: list[Result], timeout: float) -> None:
    target = [r for r in results if not r.case.context]
    context = [r for r in results if r.case.context]
    print(f"\nhostile inputs of up to 1 MB: refused or analysed in ≤ {SECONDS:g} s and "
          f"≤ {MEGABYTES:g} MB (timeout {timeout:g} s)\n")  # fmt: skip
    print(HEADER)
    for result in target:
        print(_row(result))
    if context:
        print("\nover 1 MB (context, not part of the target)")
        for result in context:
            print(_row(result))
    if target:
        slowest = max(target, key=lambda r: r.seconds)
        biggest = max(target, key=lambda r: r.megabytes)
        print(f"\nworst by time:   {slowest.case.name} ({slowest.seconds:.2f} s"
              f"{', killed at the timeout' if slowest.exit is None else ''})")  # fmt: skip
        print(f"worst by memory: {biggest.case.name} ({biggest.megabytes:.0f} MB)")
        passed = sum(r.passed for r in target)
        print(f"{passed} of {len(target)} cases pass (python {sys.version.split()[0]}, "
              f"{os.cpu_count()} cores)")  # fmt: skip


def select(cases: list[Case], words: list[str] | None) -> list[Case]:
    if not words:
        return cases
    return [case for case in cases if any(w.lower() in case.name.lower() for w in words)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", action="append", metavar="WORD", help="only cases naming WORD")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds before a kill")
    parser.add_argument("--memory-limit", type=float, default=MEMORY_LIMIT / 10**9, metavar="GB",
                        help="address space allowed to each run (GB)")  # fmt: skip
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write inputs to DIR, keep them")
    parser.add_argument("--list", action="store_true", help="list the cases and their sizes")
    args = parser.parse_args(argv)
    cases = select(catalogue(), args.k)
    if args.list:
        with _folder(None) as folder:
            for case in cases:
                attack = case.make(folder)
                print(f"{case.name:46s} {human(attack.size):>13s}{'  (context)' * case.context}")
                for path in folder.iterdir():
                    path.unlink()
        return 0
    print(f"convcost: {CONVCOST}\n{HEADER}", file=sys.stderr, flush=True)
    results = run_all(cases, args.timeout, int(args.memory_limit * 10**9), args.keep)
    report(results, args.timeout)
    return 0  # a report: the verdicts say what fails


if __name__ == "__main__":
    raise SystemExit(main())
