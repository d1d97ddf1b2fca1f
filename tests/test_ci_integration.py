"""convcost in CI for real: the pre-commit hook through ``pre-commit try-repo`` on a
throwaway repository, and the README's shell-script example run by bash."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GOOD = (
    "input: 28x28x192\nbudget: {macs: 13M, params: 16k}\nlayers: [conv 1x1 16 relu, conv 5x5 32]\n"
)
BAD = "input: 28x28x192\nbudget: {macs: 100M}\nlayers: [conv 5x5 32]\n"


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture
def throwaway_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "configs").mkdir(parents=True)
    (repo / "configs" / "good.yaml").write_text(GOOD)
    (repo / "configs" / "bad.yaml").write_text(BAD)
    (repo / "notes.yaml").write_text("not: a network\n")  # outside configs/: not checked
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
    ):
        assert _run(command, repo).returncode == 0  # fmt: skip
    return repo


def test_pre_commit_hook_fails_the_over_budget_config_and_passes_the_rest(
    throwaway_repo: Path, tmp_path: Path
) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which(
        "pre-commit"
    )
    assert pre_commit, "pre-commit is in the test extra"
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    args = [pre_commit, "try-repo", str(ROOT), "convcost-check", "--all-files"]
    failing = _run(args, throwaway_repo, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert re.search(r"convcost check\.+Failed", failing.stdout)
    assert re.search(r"bad\.y\s*a?m?l?.*FAIL", failing.stdout.replace("\n", " ")), failing.stdout
    assert "notes.yaml" not in failing.stdout
    (throwaway_repo / "configs" / "bad.yaml").unlink()
    passing = _run(args, throwaway_repo, env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert re.search(r"convcost check\.+Passed", passing.stdout)


def test_readme_shell_example_runs(throwaway_repo: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = (
        readme.split("<!-- shell-example -->", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = _run(["bash", "-c", script], throwaway_repo, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "configs over budget: exit code 1"
    (throwaway_repo / "configs" / "bad.yaml").unlink()
    result = _run(["bash", "-c", script], throwaway_repo, env)
    assert result.stdout.splitlines()[-1] == "all configs within budget"
