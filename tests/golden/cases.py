"""The golden cases: command lines whose output was captured before the renovation (issue
#12) and must stay the same, byte for byte (JSON: the same, additions allowed).

Regenerate only for a deliberate change of output: ``python -m tests.golden.cases``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

MODELS = (
    "alexnet", "googlenet", "inception_3a", "inception_4a", "mobilenet_v1", "mobilenet_v2",
    "nin", "resnet18", "resnet50", "squeezenet1_0", "vgg16",
)  # fmt: skip
FORMATS = ("table", "json", "csv", "markdown")
EXPLAINED = ("googlenet", "resnet18", "mobilenet_v2", "alexnet")

ENV = {"COLUMNS": "1000", "NO_COLOR": "1", "TERM": "dumb"}
FOLDER = Path(__file__).parent / "outputs"


def cases() -> list[list[str]]:
    found: list[list[str]] = []
    for model in MODELS:
        for fmt in FORMATS:
            found.append(["analyze", model, "-f", fmt])
            found.append(["analyze", model, "-f", fmt, "--depth", "1"])
            found.append(["analyze", model, "-f", fmt, "--depth", "2", "--unit", "flops"])
        found.append(["analyze", model, "--count-buffers", "--batch", "8"])
        found.append(["analyze", model, "-f", "json", "--batch", "8", "--no-bias"])
    for model in EXPLAINED:
        for fmt in FORMATS:
            found.append(["analyze", model, "-f", fmt, "--explain"])
    for fmt in FORMATS:
        found.append(["models", "-f", fmt])
        for explain in ([], ["--explain"]):
            found.append(["compare", "28x28x192", "--5x5", "32", "--bottleneck", "16", "-f", fmt,
                          *explain])  # fmt: skip
            found.append(["compare", "14x14x480", "--kernel", "5x5", "--filters", "48", "-b",
                          "8,16,32", "--unit", "flops", "--no-bias", "--stride", "2", "-f", fmt,
                          *explain])  # fmt: skip
            found.append(["shape", "28x28x8", "--kernel", "3", "--stride", "2", "--padding",
                          "valid", "-f", fmt, *explain])  # fmt: skip
            found.append(["shape", "112x112x64", "--kernel", "3", "--stride", "2", "--pool",
                          "max", "--ceil-mode", "-f", fmt, *explain])  # fmt: skip
        found.append(["analyze", "28x28x192 | conv 1x1 16 relu | conv 5x5 32", "-f", fmt])
        found.append(["analyze", "224x224x3 | conv 7x7 64 s2 bn relu | maxpool 3 2 p1 | gap | "
                      "fc 1000", "-f", fmt, "--explain"])  # fmt: skip
    for fmt in ("table", "json", "github", "junit"):
        found.append(["check", *MODELS, "--max-macs", "1G", "--max-memory", "100MB", "-f", fmt])
        found.append(["check", "resnet18", "--max-params", "12M", "--max-activations", "3M",
                      "-f", fmt])  # fmt: skip
    for fmt in ("table", "json", "markdown"):
        found.append(["diff", "resnet18", "resnet50", "-f", fmt])
        found.append(["diff", "inception_3a", "inception_4a", "-f", fmt, "--all"])
        found.append(["diff", "mobilenet_v1", "mobilenet_v2", "-f", fmt, "--fail-above", "5"])
    for fmt in FORMATS:  # MobileNet's width and resolution multipliers
        found.append(["analyze", "mobilenet_v1", "--width-multiplier", "0.5", "--resolution",
                      "160", "-f", fmt])  # fmt: skip
    found.append(["analyze", "mobilenet_v2", "--width-multiplier", "0.35", "--divisor", "8",
                  "-f", "json", "--depth", "1"])  # fmt: skip
    found.append(["check", "mobilenet_v1", "mobilenet_v2", "--width-multiplier", "0.75",
                  "--max-macs", "200M"])  # fmt: skip
    for fmt in ("json", "junit"):  # the scaling recorded
        found.append(["check", "mobilenet_v1", "--width-multiplier", "3/4", "--resolution", "160",
                      "--max-macs", "200M", "-f", fmt])  # fmt: skip
    found.append(["diff", "mobilenet_v1", "mobilenet_v2", "--width-multiplier", "0.5",
                  "--divisor", "8", "-f", "json"])  # fmt: skip
    found.append(["advise", "mobilenet_v1", "--resolution", "160", "--top", "2", "-f", "json"])
    found.append(["diff", "mobilenet_v1", "mobilenet_v1", "--width-multiplier", "0.25",
                  "--resolution", "128"])  # fmt: skip
    for fmt in FORMATS:
        found.append(["advise", "googlenet", "-f", fmt])
        found.append(["advise", "vgg16", "--top", "5", "-f", fmt])
    found.append(["advise", "resnet18", "--top", "2", "--width", "16", "--groups", "4",
                  "--explain"])  # fmt: skip
    for by in ("params", "memory"):
        found.append(["advise", "vgg16", "--top", "2", "--by", by])
    found.append(["advise", "16x16x8 | conv 1x1 8 | maxpool 2"])
    found.append(["schema"])
    for bad in (
        ["analyze", "28x28x192 | conv 9x9 32 valid | conv 30x30 8 valid"],
        ["analyze", "nosuchmodel"],
        ["analyze", "28x28x3 | conv 3x3 0"],
        ["compare", "28x28x192", "--5x5", "32", "--bottleneck", "0"],
        ["check", "resnet18", "--max-macs", "1,6G"],
        ["shape", "28x28x8", "--kernel", "3", "--pool", "max", "--filters", "3"],
        ["analyze", "mobilenet_v1", "--width-multiplier", "0"],
        ["analyze", "regnet_y_400mf", "--width-multiplier", "0.5", "--divisor", "8"],
        ["advise", "vgg16", "--apply", "prune=2", "-o", "new.yaml"],
        ["advise", "vgg16", "--layers", "conv1,nosuch"],
    ):
        found.append(bad)
    return found


def slug(args: list[str]) -> str:
    words = "_".join(args)[:60]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in words)
    return f"{safe}-{hashlib.sha1(json.dumps(args).encode()).hexdigest()[:8]}"


def run(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from convcost.cli import app

    result = CliRunner(env=ENV).invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for old in FOLDER.iterdir():
        old.unlink()
    for args in cases():
        code, out, err = run(args)
        record = {"args": args, "exit": code, "stderr": err}
        (FOLDER / (slug(args) + ".json")).write_text(json.dumps(record, ensure_ascii=False) + "\n")
        (FOLDER / (slug(args) + ".out")).write_text(out, encoding="utf-8")


if __name__ == "__main__":
    main()
