"""Faults of the environment, not of the input: output that cannot be written, closed
streams, a reader that goes away, memory or stack running out, Ctrl-C. Each ends with its own
exit code and at most one line on stderr, never a traceback (issue 11 §2).

The installed ``convcost`` runs in a subprocess with the fault made real (bash redirections,
/dev/full, a pipe with no reader, an address-space limit, SIGINT); faults no command can be
made to meet on purpose are raised inside ``entry.guarded`` in-process.
"""

from __future__ import annotations

import errno
import io
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from convcost import entry, exits
from convcost.exits import EXIT_CODES

_FOUND = shutil.which("convcost", path=str(Path(sys.executable).parent))
assert _FOUND is not None, "install convcost first: pip install -e '.[test]'"
CONVCOST = _FOUND
README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")

NOT_WRITTEN = "convcost: cannot write the output: "
NO_SPACE = NOT_WRITTEN + os.strerror(errno.ENOSPC) + "\n"
STDOUT_CLOSED = NOT_WRITTEN + "standard output is closed\n"
STDIN_CLOSED = "convcost: standard input is closed; pipe a config into - or name a file\n"
OUT_OF_MEMORY = "convcost: out of memory; the input is too large for the memory available\n"
TOO_DEEP = (
    "convcost: the input nests too deeply to follow (Python's recursion limit); "
    "flatten the nesting\n"
)
MISSING = "no-such-config.yaml"


def _expected_stdout(args: list[str]) -> str:
    done = subprocess.run([CONVCOST, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _in_bash(args: list[str], redirect: str) -> subprocess.CompletedProcess[str]:
    """convcost run by bash with ``redirect`` applied to it alone (>&-, <&-, >/dev/full ...)."""
    return subprocess.run(
        ["bash", "-c", f'"$0" "$@" {redirect}', CONVCOST, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "redirect", "status", "stderr"),
    [
        # stdout on a full disk: every way output is written (Rich table, text renderer,
        # --version before anything is imported, Click's help), and the exit flush.
        (["analyze", "resnet50"], ">/dev/full", 74, NO_SPACE),
        (["analyze", "resnet50", "-f", "json"], ">/dev/full", 74, NO_SPACE),
        (["check", "resnet50", "--max-macs", "1", "-f", "junit"], ">/dev/full", 74, NO_SPACE),
        (["--version"], ">/dev/full", 74, NO_SPACE),
        (["--help"], ">/dev/full", 74, NO_SPACE),
        # stdout closed: the output is refused in one line; with nothing to write, the
        # command's own status stands.
        (["analyze", "resnet50"], ">&-", 74, STDOUT_CLOSED),
        (["--version"], ">&-", 74, STDOUT_CLOSED),
        (["analyze", MISSING], ">&-", 2, None),
        # stdin closed with - as the config: bad input.
        (["analyze", "-"], "<&-", 2, STDIN_CLOSED),
        (["check", "-", "--max-macs", "1G"], "<&- >/dev/null", 2, STDIN_CLOSED),
        # stderr closed or full: the messages are lost, never the status.
        (["analyze", MISSING], "2>&-", 2, ""),
        (["analyze", MISSING], "2>/dev/full", 2, ""),
        (["compare", "28x28x192", "--5x5"], "2>&-", 2, ""),
        (["check", "resnet50", "--max-macs", "1"], "2>&- >/dev/null", 1, ""),
    ],
)  # fmt: skip
def test_a_fault_of_the_environment_ends_with_its_status_and_one_line(
    args: list[str], redirect: str, status: int, stderr: str | None
) -> None:
    done = _in_bash(args, redirect)
    assert done.returncode == status, done.stderr
    if stderr is None:  # the command's own message (tested elsewhere): one line
        assert done.stderr.startswith("convcost: ") and done.stderr.count("\n") == 1
    else:
        assert done.stderr == stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    "args", [["analyze", "resnet50"], ["compare", "28x28x192", "--5x5", "32", "-f", "csv"]]
)
def test_with_stderr_closed_good_input_succeeds_with_its_whole_output(args: list[str]) -> None:
    done = _in_bash(args, "2>&-")
    assert (done.returncode, done.stdout, done.stderr) == (0, _expected_stdout(args), "")


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "resnet50", "--explain"],
        ["analyze", "resnet50", "-f", "json"],
        ["check", "resnet50", "--max-macs", "1", "-f", "github"],
        ["--version"],
    ],
)
def test_a_reader_that_went_away_ends_it_quietly_as_a_filter(args: list[str]) -> None:
    # A pipe whose read end is closed before convcost starts: its first write meets EPIPE,
    # however large the kernel's pipe buffer (| head would leave that to chance).
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [CONVCOST, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write_end)
    # 128 + SIGPIPE, what a shell reports for a filter killed by it; never 1 (a failed
    # check), and no "Exception ignored ... BrokenPipeError" as the interpreter exits.
    assert (done.returncode, done.stderr) == (128 + signal.SIGPIPE, "")


def test_a_pipefail_pipeline_reports_the_broken_pipe_not_a_failed_check() -> None:
    # The shell's view of the same: `set -o pipefail` sees 141, which no CI job takes for 1.
    done = subprocess.run(
        # The reader exits at once; convcost starts a second later, when it surely has.
        [
            "bash",
            "-c",
            'set -o pipefail; { sleep 1; exec "$0" analyze resnet50; } | true',
            CONVCOST,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (141, "")


def test_output_that_cannot_be_encoded_is_one_line_not_a_traceback() -> None:
    done = subprocess.run(
        [CONVCOST, "analyze", "resnet50"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 74
    assert done.stderr.startswith(NOT_WRITTEN) and done.stderr.count("\n") == 1
    assert "PYTHONIOENCODING=utf-8" in done.stderr
    assert done.stdout == ""  # encoded in one piece before anything is written


def test_running_out_of_memory_is_one_line(tmp_path: Path) -> None:
    # A 1 GiB config (sparse: no disk used) under a 72 MiB address-space limit: convcost's
    # start-up fits (a small input is analysed under it), the one 64 MiB read buffer of the
    # input bound does not. One large allocation fails, so the failure is deterministic.
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as file:
        file.truncate(1 << 30)
    limit = 72 << 20

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CONVCOST, "analyze", *args],
            capture_output=True,
            text=True,
            preexec_fn=limit_memory,
            timeout=120,
        )

    done = run(str(huge))
    assert (done.returncode, done.stdout, done.stderr) == (71, "", OUT_OF_MEMORY)
    small = run("8x8x3 | relu", "-f", "csv")
    assert (small.returncode, small.stderr) == (0, "")


def test_ctrl_c_while_waiting_for_input_ends_quietly_with_130() -> None:
    process = subprocess.Popen(
        [CONVCOST, "analyze", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Interrupt it once it is blocked reading its standard input (read(0, ...) in
        # /proc/PID/syscall: the system call number and the descriptor), not while starting.
        syscall = Path(f"/proc/{process.pid}/syscall")
        deadline = time.monotonic() + 60
        while not syscall.read_text().startswith("0 0x0 "):
            assert time.monotonic() < deadline, "convcost never waited for its input"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, stdout, stderr) == (130, "", "")


# In-process: what entry.guarded makes of a command that raises what no input can be made to
# raise on purpose, and of a stdout that fails only when flushed at the end.


class _Stdout(io.StringIO):
    """A stdout that counts its writes and can fail on flush, as a full disk does."""

    def __init__(self, flush_error: OSError | None = None) -> None:
        super().__init__()
        self.writes, self.flush_error = 0, flush_error

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)

    def flush(self) -> None:
        if self.flush_error is not None:
            raise self.flush_error


def _guarded(
    monkeypatch: pytest.MonkeyPatch, command: Callable[[], object], stdout: _Stdout
) -> tuple[int, str]:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    status = entry.guarded(command)
    assert (sys.stdout, sys.stderr) == (stdout, stderr)  # put back as they were
    return status, stderr.getvalue()


def _raise(error: BaseException) -> Callable[[], NoReturn]:
    def command() -> NoReturn:
        print("half a report")
        raise error

    return command


def _recurse() -> None:
    _recurse()


def _exit(code: int) -> Callable[[], NoReturn]:
    return _raise(SystemExit(code))


@pytest.mark.parametrize(
    ("command", "status", "stderr"),
    [
        (_raise(MemoryError()), 71, OUT_OF_MEMORY),
        (_recurse, 71, TOO_DEEP),
        (_raise(RecursionError()), 71, TOO_DEEP),
        (_raise(KeyboardInterrupt()), 130, ""),
        (_raise(ValueError("a\x1b[2Jb")), 70,
         "convcost: internal error (ValueError: a\\x1b[2Jb); this is a bug in convcost: please "
         "report it with the command that gave it\n"),
        (_exit(0), 0, ""),
        (_exit(1), 1, ""),
        (_exit(2), 2, ""),
        (lambda: print("a", "report", sep="\n"), 0, ""),
    ],
)  # fmt: skip
def test_guard_ends_a_command_with_its_status_and_at_most_one_line(
    monkeypatch: pytest.MonkeyPatch, command: Callable[[], object], status: int, stderr: str
) -> None:
    stdout = _Stdout()
    assert _guarded(monkeypatch, command, stdout) == (status, stderr)
    # Whatever the command printed, in one write (several print calls made it).
    assert stdout.writes == (1 if stdout.getvalue() else 0)


@pytest.mark.parametrize(
    ("error", "status", "stderr"),
    [
        (OSError(errno.EIO, os.strerror(errno.EIO)), 74,
         NOT_WRITTEN + os.strerror(errno.EIO) + "\n"),
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), 74, NO_SPACE),
        (BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE)), 141, ""),
    ],
)  # fmt: skip
def test_guard_reports_an_output_that_fails_as_it_is_flushed(
    monkeypatch: pytest.MonkeyPatch, error: OSError, status: int, stderr: str
) -> None:
    stdout = _Stdout(flush_error=error)
    assert _guarded(monkeypatch, lambda: print("a report"), stdout) == (status, stderr)


def test_help_and_readme_list_the_same_exit_codes() -> None:
    table = README.split("## Errors and exit codes", 1)[1].split("\n\n", 2)[1]
    readme_codes = [int(code) for code in re.findall(r"^\| (\d+) \|", table, flags=re.M)]
    assert readme_codes == [code for code, _ in EXIT_CODES]
    assert [code for code, _ in EXIT_CODES] == [
        0, 1, 2, exits.EXIT_INTERNAL, exits.EXIT_NO_RESOURCES, exits.EXIT_OUTPUT_FAILED,
        exits.EXIT_INTERRUPTED, exits.EXIT_BROKEN_PIPE,
    ]  # fmt: skip


def test_the_command_sees_stdout_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rich picks colours and box characters by what stdout is; the guard's stand-in must not
    # change its choice (a terminal keeps its colours).
    class Terminal(_Stdout):
        encoding = "ascii"

        def isatty(self) -> bool:
            return True

    seen: list[tuple[bool, str]] = []
    status = _guarded(
        monkeypatch, lambda: seen.append((sys.stdout.isatty(), sys.stdout.encoding)), Terminal()
    )
    assert (status, seen) == ((0, ""), [(True, "ascii")])


# The commands that write a file's bytes to stdout for ``-o -``: the same bytes as the file.
BYTES_TO_STDOUT = [["export", "resnet18"], ["report", "resnet18"]]


@pytest.mark.parametrize("args", BYTES_TO_STDOUT, ids=lambda args: args[0])
def test_a_file_written_to_stdout_is_the_file_byte_for_byte(
    args: list[str], tmp_path: Path
) -> None:
    written = tmp_path / "out"
    assert subprocess.run([CONVCOST, *args, "-o", str(written)], timeout=120).returncode == 0
    done = subprocess.run([CONVCOST, *args, "-o", "-"], capture_output=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout == written.read_bytes() and done.stdout


@pytest.mark.parametrize("args", BYTES_TO_STDOUT, ids=lambda args: args[0])
def test_a_file_written_to_a_full_stdout_is_one_line(args: list[str]) -> None:
    done = _in_bash([*args, "-o", "-"], ">/dev/full")
    assert (done.returncode, done.stdout, done.stderr) == (74, "", NO_SPACE)
