"""The ``convcost`` console script: ``--version`` answers before anything is imported, and
faults of the environment end cleanly with their own exit code.

``guarded`` runs the command with its output kept in memory and written in one piece at the
end, so a failed write is known to be the output's (a full disk, a closed stdout, a reader
that went away), and the interpreter has nothing left to flush at exit. Diagnostics on stderr
are best effort: a closed or failing stderr loses the message, never the exit status.
"""

from __future__ import annotations

import io
import os
import sys

from convcost.core.gcpause import gc_paused
from convcost.exits import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_RESOURCES,
    EXIT_OUTPUT_FAILED,
)

TYPE_CHECKING = False  # typing itself costs --version tens of milliseconds
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO


_OUT_OF_MEMORY = "convcost: out of memory; the input is too large for the memory available"
_TOO_DEEP = (
    "convcost: the input nests too deeply to follow (Python's recursion limit); flatten the nesting"
)


class _StandIn(io.TextIOBase):
    """A standard stream's stand-in while the command runs. It answers as the real stream
    does (a terminal or not, its encoding), so that Rich draws the same table, colours
    included, and Click takes it for a text stream."""

    def __init__(self, real: TextIO | None) -> None:
        super().__init__()
        self.real = real

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.real is not None and self.real.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only, as on a real stream
        return self.real.encoding if self.real is not None else "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return (self.real.errors if self.real is not None else None) or "strict"


class _Output(_StandIn):
    """stdout: kept, for ``guarded`` to write in one piece at the end. Bytes written to its
    ``buffer`` (an ONNX model or a page for ``-o -``) are kept in order with the text."""

    def __init__(self, real: TextIO | None) -> None:
        super().__init__(real)
        self.parts: list[str | bytes] = []
        self.buffer = _OutputBytes(self.parts)

    def write(self, text: str) -> int:
        _text_only(text)
        self.parts.append(text)
        return len(text)


class _OutputBytes(io.RawIOBase):
    """stdout's binary side while the command runs: what is written joins the text's parts."""

    def __init__(self, parts: list[str | bytes]) -> None:
        super().__init__()
        self.parts = parts

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]  # bytes-like, as BufferedWriter takes
        self.parts.append(chunk)
        return len(chunk)


class _Diagnostics(_StandIn):
    """stderr: each message written and flushed at once; one that cannot be written (stderr
    closed, full, or a pipe nobody reads) is dropped."""

    def write(self, text: str) -> int:
        _text_only(text)
        if self.real is not None:
            try:
                self.real.write(text)
                self.real.flush()
            except (OSError, ValueError):  # ValueError: a stream closed from within Python
                _discard_rest(self.real)
                self.real = None
        return len(text)


def _text_only(text: object) -> None:
    # As a real text stream does: Click probes with write(b"") to tell text from binary.
    if not isinstance(text, str):
        raise TypeError(f"write() argument must be str, not {type(text).__name__}")


class _OutputFailed(Exception):
    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _discard_rest(stream: TextIO) -> None:
    """Point a failed stream's descriptor at /dev/null: what it still buffers goes nowhere at
    exit instead of failing again as "Exception ignored ..." (the Python docs' recipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _deliver(parts: list[str | bytes], stdout: TextIO | None) -> None:
    """Write the command's output in one piece and flush it, or raise _OutputFailed. Text
    alone goes through the text stream; with bytes among it, all goes to its binary side,
    the text encoded as the stream would."""
    if not parts:
        return
    if stdout is None:  # started with stdout closed (>&-)
        raise _OutputFailed(
            EXIT_OUTPUT_FAILED, "convcost: cannot write the output: standard output is closed"
        )
    try:
        if all(isinstance(part, str) for part in parts):
            stdout.write("".join(parts))  # type: ignore[arg-type]  # str parts only
        else:
            encoding, errors = stdout.encoding, stdout.errors or "strict"
            stdout.flush()
            stdout.buffer.write(
                b"".join(p if isinstance(p, bytes) else p.encode(encoding, errors) for p in parts)
            )
        stdout.flush()
    except BrokenPipeError:  # the reader has gone (| head): end quietly, as filters do
        _discard_rest(stdout)
        raise _OutputFailed(EXIT_BROKEN_PIPE, None) from None
    except OSError as error:
        _discard_rest(stdout)
        reason = error.strerror or str(error)
        raise _OutputFailed(
            EXIT_OUTPUT_FAILED, f"convcost: cannot write the output: {reason}"
        ) from None
    except UnicodeEncodeError as error:  # encoded before anything is written
        raise _OutputFailed(
            EXIT_OUTPUT_FAILED,
            f"convcost: cannot write the output: standard output takes {stdout.encoding}, "
            f"which has no {error.object[error.start]!r}; set PYTHONIOENCODING=utf-8",
        ) from None


def guarded(command: Callable[[], object]) -> int:
    """Run ``command`` as the console script does and return its exit status: SystemExit's
    code, or the environment's status with one line on stderr instead of a traceback."""
    stdout, stderr = sys.stdout, sys.stderr
    output = _Output(stdout)
    sys.stdout, sys.stderr = output, _Diagnostics(stderr)
    try:
        try:
            try:
                command()
            finally:
                _deliver(output.parts, stdout)
        except SystemExit as exit:
            if exit.code is None or isinstance(exit.code, int):
                return exit.code or 0
            sys.stderr.write(f"{exit.code}\n")  # sys.exit("text"): as Python would, status 1
            return 1
        except _OutputFailed as failed:
            if failed.message is not None:
                sys.stderr.write(failed.message + "\n")
            return failed.status
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        except MemoryError:
            sys.stderr.write(_OUT_OF_MEMORY + "\n")
            return EXIT_NO_RESOURCES
        except RecursionError:
            sys.stderr.write(_TOO_DEEP + "\n")
            return EXIT_NO_RESOURCES
        except Exception as error:  # a bug: said in one line, never as a silent success
            from convcost.render.escape import visible

            sys.stderr.write(
                f"convcost: internal error ({type(error).__name__}: {visible(str(error))[:200]}); "
                "this is a bug in convcost: please report it with the command that gave it\n"
            )
            return EXIT_INTERNAL
        return 0
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _command() -> None:
    if sys.argv[1:] == ["--version"]:
        from convcost import __version__

        sys.stdout.write(f"convcost {__version__}\n")
        return
    from convcost.cli import main as cli_main

    cli_main()


def main() -> None:
    # One short pass that makes no reference cycles worth collecting: the cyclic collector
    # would only rescan, again and again, every object made so far (imports included), which
    # costs more than a second on 100,000-layer configs. Reference counting frees as usual.
    # Off until the process ends (see gc_paused).
    with gc_paused(resume=False):
        status = guarded(_command)
    if status:
        raise SystemExit(status)
