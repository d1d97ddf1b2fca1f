from __future__ import annotations

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    # A fixed-width, colourless console so table output can be asserted exactly.
    return CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})


TORCH_ABSENT = (
    "torch is not installed: this test checks convcost against PyTorch "
    "(pip install -e '.[test]' installs the pinned CPU build)"
)


@pytest.fixture(scope="session")
def torch_present() -> None:
    """For tests that run PyTorch: without torch they are skipped, saying why, never passed
    silently. The test extra installs torch, so in CI none is skipped."""
    pytest.importorskip("torch", reason=TORCH_ABSENT)
