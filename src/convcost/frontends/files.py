"""Opening a file a front end reads: every way it can fail said in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from convcost.core.errors import ConvcostError


def read_file(path: str, read: Callable[[BinaryIO], bytes], missing: str, directory: str) -> bytes:
    """What ``read`` takes from the file at ``path`` (it may refuse, bounding the size);
    ``missing`` and ``directory`` say what to give instead of a file that is not there and
    of a directory."""
    try:
        with open(path, "rb") as file:
            return read(file)
    except FileNotFoundError:
        raise ConvcostError(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise ConvcostError(f"{path}: is a directory; {directory}") from None
    except OSError as error:
        raise ConvcostError(f"{path}: cannot be read ({error.strerror})") from None
    except ValueError:  # Python refuses names with NUL bytes before asking the system
        raise ConvcostError(f"{path!r} is not a file name (it has a NUL byte)") from None
