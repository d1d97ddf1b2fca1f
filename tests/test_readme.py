"""The README says what the tool does: its tables and examples are the tool's own output."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from convcost.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _between(start: str, end: str) -> str:
    return README.split(start, 1)[1].split(end, 1)[0].strip()


def test_zoo_table_is_the_tools_own(runner: CliRunner) -> None:
    result = runner.invoke(app, ["models", "-f", "markdown"])
    assert result.exit_code == 0
    assert _between("<!-- zoo:start -->", "<!-- zoo:end -->") == result.stdout.strip()


def test_shown_commands_print_what_the_readme_shows(runner: CliRunner) -> None:
    # Every "$ convcost ..." block in the README, run, prints exactly what follows it.
    # A block may set the terminal's width first ("$ COLUMNS=140 convcost ...").
    blocks = re.findall(
        r"```text\n\$ (?:COLUMNS=(\d+) )?(convcost [^\n]*)\n(.*?)```", README, flags=re.S
    )
    assert len(blocks) >= 2
    for columns, command, shown in blocks:
        args = [a.strip("'") for a in re.findall(r"'[^']*'|\S+", command)][1:]
        result = runner.invoke(app, args, env={"COLUMNS": columns} if columns else None)
        assert result.stdout + result.stderr == shown, command


def test_readme_opens_with_the_install_and_test_commands() -> None:
    first_block = _between("```bash", "```")
    assert "pip install . && convcost compare 28x28x192 --5x5 32 --bottleneck 16" in first_block
    test_command = (
        "apt-get update -qq && apt-get install -y -qq chromium && "
        "pip install -e '.[test]' && python -m pytest -q -p no:cacheprovider"
    )
    assert test_command in first_block
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci


# The options shared between commands, as the README's table of them lists them: a column
# each, headed by the option (or, for a family, its first member and a word).
_SHARED = {
    "`--explain`": ("--explain",),
    "`--unit`": ("--unit",),
    "`--batch`": ("--batch",),
    "`--no-bias`": ("--no-bias",),
    "`--input-shape`": ("--input-shape",),
    "`--max-layers`": ("--max-layers",),
    "`--dtype`, `--optimizer`": ("--dtype", "--optimizer"),
    "`--device`": ("--device",),
    "`--width-multiplier`, `--resolution`": ("--width-multiplier", "--resolution"),
}


# What a command without --format writes (a new one must say here).
_ONE_FORMAT = {"report": "HTML (`-o FILE`)", "export": "ONNX (`-o FILE`)", "schema": "json (only)"}


def options_table() -> str:
    """The README's table of which formats and shared options each command takes, made from
    the command line itself."""
    import typer.main

    group = typer.main.get_command(app)
    lines = ["| command | `--format` (`-f`) | " + " | ".join(_SHARED) + " |",
             "|---|---|" + "---|" * len(_SHARED)]  # fmt: skip
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        taken: dict[str, object] = {p.opts[0]: p for p in command.params if p.opts[0][:1] == "-"}
        formats = getattr(getattr(taken.get("--format"), "type", None), "choices", None)
        cells = [", ".join(formats) if formats else _ONE_FORMAT[name]]
        cells += ["✓" if all(o in taken for o in opts) else "" for opts in _SHARED.values()]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def test_options_table_is_the_clis_own() -> None:
    assert _between("<!-- options:start -->", "<!-- options:end -->") == options_table()
