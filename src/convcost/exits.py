"""convcost's exit codes: what a shell script or a CI job can tell apart by the status.

0 to 2 are about the input; 70 is convcost's own fault; from 71 up, the environment's (each
with one line on stderr, never a traceback). The README's table and ``--help`` list these.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # a budget exceeded or missing (check), growth above --fail-above (diff)
EXIT_BAD_INPUT = 2  # bad input or usage
EXIT_INTERNAL = 70  # EX_SOFTWARE: a fault of convcost's own (a bug), said in one line
EXIT_NO_RESOURCES = 71  # out of memory, or nesting deeper than Python's stack allows
EXIT_OUTPUT_FAILED = 74  # EX_IOERR: the output could not be written
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a filter whose reader went away

# What --help lists (the README's table says the same, at more length; a test compares them).
EXIT_CODES = (
    (EXIT_OK, "success"),
    (EXIT_CHECK_FAILED, "a failed check"),
    (EXIT_BAD_INPUT, "bad input or usage"),
    (EXIT_INTERNAL, "an internal error (a bug)"),
    (EXIT_NO_RESOURCES, "out of memory or nesting too deep"),
    (EXIT_OUTPUT_FAILED, "the output cannot be written"),
    (EXIT_INTERRUPTED, "interrupted"),
    (EXIT_BROKEN_PIPE, "the output's reader went away"),
)
