"""convcost diff: layers aligned group by group by what they are (names as hints); deltas
per layer and in total; --fail-above."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.analyses.diff import diff
from convcost.cli import app
from convcost.frontends import zoo
from convcost.frontends.inline import parse_inline
from convcost.frontends.tree import analyze
from tests import caffe_nets

OLD = "28x28x192 | conv 5x5 32 name=main"
NEW = "28x28x192 | conv 1x1 16 name=reduce relu | conv 5x5 32 name=main"

TABLE = """\
28x28x192 | conv 5x5 32 name=main → 28x28x192 | conv 1x1 16 name=reduce relu | conv 5x5 32 name=main

 layer   change                     Δ MACs      Δ %  Δ params
 ────────────────────────────────────────────────────────────
 reduce  added                  +2,408,448      new    +3,088
 relu1   added                           0      0 %         0
 main    input, macs, params  −110,387,200  −91.7 %  −140,800

MACs 120,422,400 → 12,443,648 (−107,978,752, −89.7 %); params 153,632 → 15,920 (−137,712, −89.6 %);
3 of 3 layers differ
memory (fp32, adam): param bytes 0.61 MB → 0.06 MB (−89.6 %); peak memory 0.70 MB → 0.65 MB
(−7.1 %); training memory 3.06 MB → 0.91 MB (−70.4 %)
"""

MARKDOWN = """\
**convcost diff** `28x28x192 | conv 5x5 32 name=main` → `28x28x192 | conv 1x1 16 name=reduce relu | conv 5x5 32 name=main`: MACs −107,978,752 (−89.7 %), params −137,712 (−89.6 %)

| layer | change | MACs | Δ MACs | Δ % | params | Δ params |
|---|---|---:|---:|---:|---:|---:|
| `reduce` | added | 0 → 2,408,448 | +2,408,448 | new | 0 → 3,088 | +3,088 |
| `relu1` | added | 0 → 0 | 0 | 0 % | 0 → 0 | 0 |
| `main` | changed: input, macs, params | 120,422,400 → 10,035,200 | −110,387,200 | −91.7 % | 153,632 → 12,832 | −140,800 |
| **total** | 3 of 3 layers differ | 120,422,400 → 12,443,648 | −107,978,752 | −89.7 % | 153,632 → 15,920 | −137,712 |

memory (fp32, adam): param bytes 0.61 MB → 0.06 MB (−89.6 %); peak memory 0.70 MB → 0.65 MB (−7.1 %); training memory 3.06 MB → 0.91 MB (−70.4 %)
"""  # noqa: E501


def test_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, NEW])
    assert (result.exit_code, result.stdout, result.stderr) == (0, TABLE, "")


def test_markdown_for_pull_request_comments(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, NEW, "-f", "markdown"])
    assert (result.exit_code, result.stdout) == (0, MARKDOWN)


def test_json(runner: CliRunner) -> None:
    data = json.loads(runner.invoke(app, ["diff", OLD, NEW, "-f", "json"]).stdout)
    assert data["totals"]["macs"] | {"percent": None} == {
        "old": 120_422_400, "new": 12_443_648, "delta": -107_978_752, "percent": None,
    }  # fmt: skip
    assert [(c["name"], c["status"], c["macs_delta"]) for c in data["layers"]] == [
        ("reduce", "added", 2_408_448), ("relu1", "added", 0), ("main", "changed", -110_387_200),
    ]  # fmt: skip
    assert data["unchanged"] == 0


def test_removed_and_unchanged_layers() -> None:
    old = analyze(parse_inline("8x8x3 | conv 3x3 8 name=a | conv 3x3 8 name=b | relu name=c"))
    new = analyze(parse_inline("8x8x3 | conv 3x3 8 name=a | relu name=c"))
    result = diff(old, new)
    assert [(c.name, c.status) for c in result.layers] == [
        ("a", "unchanged"), ("b", "removed"), ("c", "unchanged"),
    ]  # fmt: skip
    assert result.layers[1].macs_delta == -(8 * 8 * 8 * 9 * 8)


def test_identical_networks_differ_nowhere() -> None:
    report = analyze(zoo.load_model("googlenet"))
    result = diff(report, report)
    assert result.changed == () and len(result.layers) == len(report.layers)


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        ([OLD, NEW, "--fail-above", "0"], 0, ""),  # shrinking never fails
        ([NEW, OLD, "--fail-above", "868"], 0, ""),  # MACs +867.7 %, params +865.0 %
        ([NEW, OLD, "--fail-above", "867.5"], 1,
         "convcost diff: macs grow by more than 867.5 %\n"),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 33", "--fail-above", "3.125"], 0, ""),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 33", "--fail-above", "3.1"], 1,
         "convcost diff: macs and params grow by more than 3.1 %\n"),
        (["28x28x192 | conv 5x5 32", "28x28x192 | conv 5x5 32 nobias", "--fail-above", "0"], 0, ""),
        (["resnet18", "resnet50", "--fail-above", "120"], 1,
         "convcost diff: macs grow by more than 120 %\n"),
    ],
)  # fmt: skip
def test_fail_above(runner: CliRunner, args: list[str], code: int, stderr: str) -> None:
    # conv 5x5 32 → 33 filters: MACs and params grow by exactly 1/32 = 3.125 %.
    result = runner.invoke(app, ["diff", *args, "-f", "json"])
    assert (result.exit_code, result.stderr) == (code, stderr)


def test_bad_input_is_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", OLD, "28x28x192 | cnv 3"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("<spec>:1:13: unknown layer kind 'cnv'")


# --- structure: an insertion is one insertion, a rename a rename (issue #15) -----------------

STACK = "16x16x16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16"
INSERTED = "16x16x16 | conv 3x3 16 | conv 3x3 16 | conv 1x1 16 | conv 3x3 16"

# Matching by name said "conv3 changed: config, macs, params" and "conv4 added".
INSERTED_TABLE = """\
16x16x16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 → 16x16x16 | conv 3x3 16 | conv 3x3 16 |
conv 1x1 16 | conv 3x3 16

 layer  change   Δ MACs  Δ %  Δ params
 ─────────────────────────────────────
 conv3  added   +65,536  new      +272

MACs 1,769,472 → 1,835,008 (+65,536, +3.7 %); params 6,960 → 7,232 (+272, +3.9 %); 1 of 4 layers
differ, 1 renamed
memory (fp32, adam): param bytes 0.03 MB → 0.03 MB (+3.9 %); peak memory 0.03 MB → 0.03 MB (0.0 %);
training memory 0.16 MB → 0.18 MB (+12.9 %)
"""

INSERTED_ALL = """\
 layer          change      Δ MACs    Δ %  Δ params
 ──────────────────────────────────────────────────
 conv1          unchanged        0  0.0 %         0
 conv2          unchanged        0  0.0 %         0
 conv3          added      +65,536    new      +272
 conv3 → conv4  renamed          0  0.0 %         0
"""


def _conv(config: str, macs: int, params: int) -> dict[str, object]:
    shape = [16, 16, 16]
    return {"kind": "conv", "config": config, "input_shape": shape, "output_shape": shape,
            "macs": macs, "params": params}  # fmt: skip


def _structure(data: dict[str, object]) -> dict[str, object]:
    return {key: data[key] for key in ("layers", "unchanged", "renamed", "groups")}


def test_inserting_a_1x1_conv_is_one_insertion(runner: CliRunner) -> None:
    # conv 1x1 16 on 16×16×16: 16·16·16·16 = 65,536 MACs, 16·16 + 16 = 272 params.
    result = runner.invoke(app, ["diff", STACK, INSERTED])
    assert (result.exit_code, result.stdout, result.stderr) == (0, INSERTED_TABLE, "")
    listed = runner.invoke(app, ["diff", STACK, INSERTED, "--all"]).stdout
    assert INSERTED_ALL in listed
    data = json.loads(runner.invoke(app, ["diff", STACK, INSERTED, "-f", "json"]).stdout)
    assert _structure(data) == {
        "layers": [
            {"name": "conv3", "status": "added", "changes": [], "old": None,
             "new": _conv("1x1 s1 same", 65_536, 272), "macs_delta": 65_536,
             "params_delta": 272, "old_name": None, "new_name": "conv3"},
            {"name": "conv4", "status": "renamed", "changes": [],
             "old": _conv("3x3 s1 same", 589_824, 2_320),
             "new": _conv("3x3 s1 same", 589_824, 2_320), "macs_delta": 0, "params_delta": 0,
             "old_name": "conv3", "new_name": "conv4"},
        ],
        "unchanged": 2,
        "renamed": 1,
        "groups": [],
    }  # fmt: skip


def test_changing_one_kernel_is_one_change(runner: CliRunner) -> None:
    # 3×3 → 5×5: 16·16·16·16·(25 − 9) = 1,048,576 more MACs, 16·16·16 = 4,096 more params.
    result = runner.invoke(
        app, ["diff", STACK, "16x16x16 | conv 3x3 16 | conv 5x5 16 | conv 3x3 16"]
    )
    assert result.stdout == """\
16x16x16 | conv 3x3 16 | conv 3x3 16 | conv 3x3 16 → 16x16x16 | conv 3x3 16 | conv 5x5 16 |
conv 3x3 16

 layer  change                    Δ MACs       Δ %  Δ params
 ───────────────────────────────────────────────────────────
 conv2  config, macs, params  +1,048,576  +177.8 %    +4,096

MACs 1,769,472 → 2,818,048 (+1,048,576, +59.3 %); params 6,960 → 11,056 (+4,096, +58.9 %); 1 of 3
layers differ
memory (fp32, adam): param bytes 0.03 MB → 0.04 MB (+58.9 %); peak memory 0.03 MB → 0.03 MB (0.0 %);
training memory 0.16 MB → 0.23 MB (+40.8 %)
"""  # fmt: skip


SWAP_TABLE = """\
 layer  change                  Δ MACs       Δ %  Δ params
 ─────────────────────────────────────────────────────────
 conv1  config, macs, params  −131,072   −88.9 %      −512
 conv2  config, macs, params  +131,072  +800.0 %      +512
"""


def test_swapping_two_layers(runner: CliRunner) -> None:
    # Generated names say nothing: each place's conv changed its kernel (3×3 ↔ 1×1 on
    # 16×16×8: 147,456 and 16,384 MACs, 584 and 72 params).
    result = runner.invoke(app, ["diff", "16x16x8 | conv 3x3 8 | conv 1x1 8",
                                 "16x16x8 | conv 1x1 8 | conv 3x3 8"])  # fmt: skip
    assert SWAP_TABLE in result.stdout
    assert "(0, 0.0 %); 2 of 2 layers differ\n" in result.stdout
    # Names given by hand are a strong hint: b stays, a moved after it, costing the same.
    named = ["16x16x8 | conv 3x3 8 name=a | conv 1x1 8 name=b",
             "16x16x8 | conv 1x1 8 name=b | conv 3x3 8 name=a"]  # fmt: skip
    table = runner.invoke(app, ["diff", *named]).stdout
    assert """\
 layer  change    Δ MACs    Δ %  Δ params
 ────────────────────────────────────────
 a      position       0  0.0 %         0

MACs 163,840 → 163,840 (0, 0.0 %); params 656 → 656 (0, 0.0 %); 1 of 2 layers differ
""" in table  # fmt: skip
    data = json.loads(runner.invoke(app, ["diff", *named, "-f", "json", "--all"]).stdout)
    shape = [16, 16, 8]
    a = {"kind": "conv", "config": "3x3 s1 same", "input_shape": shape, "output_shape": shape,
         "macs": 147_456, "params": 584}  # fmt: skip
    b = a | {"config": "1x1 s1 same", "macs": 16_384, "params": 72}
    assert _structure(data) == {
        "layers": [
            {"name": "b", "status": "unchanged", "changes": [], "old": b, "new": b,
             "macs_delta": 0, "params_delta": 0, "old_name": "b", "new_name": "b"},
            {"name": "a", "status": "changed", "changes": ["position"], "old": a, "new": a,
             "macs_delta": 0, "params_delta": 0, "old_name": "a", "new_name": "a"},
        ],
        "unchanged": 1,
        "renamed": 0,
        "groups": [],
    }  # fmt: skip


STAGES = """\
input: 32x32x3
layers:
  - conv 3x3 16
  - group: [conv 3x3 32 s2, bn, relu, conv 3x3 32, bn, relu]
    name: stage1
  - group: [conv 3x3 64 s2, bn, relu]
    name: stage2
  - gap
  - fc 10
"""

RENAMED_MARKDOWN = """\
| layer | change | MACs | Δ MACs | Δ % | params | Δ params |
|---|---|---:|---:|---:|---:|---:|
| `stage1` → `down1` | group renamed | 3,538,944 → 3,538,944 | 0 | 0.0 % | 14,016 → 14,016 | 0 |
| **total** | 0 of 12 layers differ, 6 renamed | 5,161,600 → 5,161,600 | 0 | 0.0 % | 33,738 → 33,738 | 0 |
"""  # noqa: E501


def test_renaming_a_group_is_a_rename(runner: CliRunner, tmp_path: Path) -> None:
    # Matching by name said: six layers removed, six added.
    (tmp_path / "old.yaml").write_text(STAGES, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(STAGES.replace("stage1", "down1"), encoding="utf-8")
    old, new = str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")
    table = runner.invoke(app, ["diff", old, new]).stdout
    assert """\
 layer           change         Δ MACs    Δ %  Δ params
 ──────────────────────────────────────────────────────
 stage1 → down1  group renamed       0  0.0 %         0
""" in table  # fmt: skip
    assert RENAMED_MARKDOWN in runner.invoke(app, ["diff", old, new, "-f", "markdown"]).stdout
    data = json.loads(runner.invoke(app, ["diff", old, new, "-f", "json"]).stdout)
    layers = [
        (c["name"], c["status"], c["changes"], c["old_name"], c["macs_delta"], c["old"] == c["new"])
        for c in data["layers"]
    ]  # fmt: skip
    assert layers == [
        (f"down1/{name}", "renamed", [], f"stage1/{name}", 0, True)
        for name in ("conv1", "batchnorm1", "relu1", "conv2", "batchnorm2", "relu2")
    ]
    assert data["groups"] == [
        {"name": "down1", "status": "renamed", "changes": [], "old_name": "stage1",
         "new_name": "down1", "macs_delta": 0, "params_delta": 0},
    ]  # fmt: skip
    assert (data["unchanged"], data["renamed"]) == (6, 6)
    # Totals are totals: a rename grows nothing.
    failing = runner.invoke(app, ["diff", old, new, "--fail-above", "0"])
    assert (failing.exit_code, failing.stderr) == (0, "")


def test_a_zoo_model_against_itself(runner: CliRunner) -> None:
    result = runner.invoke(app, ["diff", "resnet18", "resnet18"])
    assert result.stdout == """\
resnet18 → resnet18
MACs 1,814,073,344 → 1,814,073,344 (0, 0.0 %); params 11,689,512 → 11,689,512 (0, 0.0 %); 0 of 68
layers differ
memory (fp32, adam): param bytes 46.76 MB → 46.76 MB (0.0 %); peak memory 4.01 MB → 4.01 MB (0.0 %);
training memory 209.33 MB → 209.33 MB (0.0 %)
"""  # fmt: skip
    data = json.loads(runner.invoke(app, ["diff", "resnet18", "resnet18", "-f", "json"]).stdout)
    assert _structure(data) == {"layers": [], "unchanged": 68, "renamed": 0, "groups": []}


def _resnet18_variant(tmp_path: Path) -> str:
    """ResNet-18 with its third stage renamed and a 100-class head."""
    text = zoo.model_text("resnet18")
    variant = text.replace("name: layer3,", "name: stage3,").replace("fc 1000", "fc 100")
    assert variant.count("stage3") == 1 and "fc 100 " in variant
    path = tmp_path / "resnet18_100.yaml"
    path.write_text(variant, encoding="utf-8")
    return str(path)


def test_a_zoo_model_against_a_variant(runner: CliRunner, tmp_path: Path) -> None:
    # fc 1000 → fc 100 on 512 features: 512·900 = 460,800 MACs fewer, 460,800 + 900 params.
    variant = _resnet18_variant(tmp_path)
    table = runner.invoke(app, ["diff", "resnet18", variant]).stdout
    assert table[table.index("\n layer") :] == """
 layer            change                  Δ MACs      Δ %  Δ params
 ──────────────────────────────────────────────────────────────────
 layer3 → stage3  group renamed                0    0.0 %         0
 fc               output, macs, params  −460,800  −90.0 %  −461,700

MACs 1,814,073,344 → 1,813,612,544 (−460,800, −0.0 %); params 11,689,512 → 11,227,812 (−461,700,
−3.9 %); 1 of 68 layers differ, 16 renamed
memory (fp32, adam): param bytes 46.76 MB → 44.91 MB (−3.9 %); peak memory 4.01 MB → 4.01 MB
(0.0 %); training memory 209.33 MB → 201.94 MB (−3.5 %)
"""  # fmt: skip
    data = json.loads(runner.invoke(app, ["diff", "resnet18", variant, "-f", "json"]).stdout)
    renamed = [(c["old_name"], c["new_name"]) for c in data["layers"] if c["status"] == "renamed"]
    assert renamed == [
        (f"layer3.{block}.{name}", f"stage3.{block}.{name}")
        for block, names in (
            ("0", ("conv1", "bn1", "relu1", "conv2", "bn2", "downsample.0", "downsample.1",
                   "add1", "relu2")),
            ("1", ("conv1", "bn1", "relu1", "conv2", "bn2", "add1", "relu2")),
        )
        for name in names
    ]  # fmt: skip
    assert data["layers"][-1] | {"old": None, "new": None} == {
        "name": "fc", "status": "changed", "changes": ["output", "macs", "params"],
        "old": None, "new": None, "macs_delta": -460_800, "params_delta": -461_700,
        "old_name": "fc", "new_name": "fc",
    }  # fmt: skip
    assert [(g["old_name"], g["new_name"], g["status"]) for g in data["groups"]] == [
        ("layer3", "stage3", "renamed"), ("layer3.0", "stage3.0", "renamed"),
        ("layer3.0.downsample", "stage3.0.downsample", "renamed"),
        ("layer3.1", "stage3.1", "renamed"),
    ]  # fmt: skip
    assert (data["unchanged"], data["renamed"]) == (51, 16)


GROUPS = """\
input: 16x16x8
layers:
  - group: [conv 3x3 8, relu]
    name: a
  - group: [conv 1x1 8, relu]
    name: b
  - conv 3x3 8
"""


def test_a_group_moved_or_added(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(GROUPS, encoding="utf-8")
    a = "  - group: [conv 3x3 8, relu]\n    name: a\n"
    b = "  - group: [conv 1x1 8, relu]\n    name: b\n"
    swapped = GROUPS.replace(a + b, b + a)
    assert swapped != GROUPS
    (tmp_path / "swapped.yaml").write_text(swapped, encoding="utf-8")
    extra = GROUPS.replace("  - group: [conv 1x1", "  - group: [conv 5x5 8, bn, relu]\n"
                           "    name: extra\n  - group: [conv 1x1")  # fmt: skip
    (tmp_path / "extra.yaml").write_text(extra, encoding="utf-8")
    old = str(tmp_path / "old.yaml")
    # b stays; a, the same layers, moved after it: one row, and no layer differs.
    moved = runner.invoke(app, ["diff", old, str(tmp_path / "swapped.yaml")]).stdout
    assert """\
 layer  change       Δ MACs    Δ %  Δ params
 ───────────────────────────────────────────
 a      group moved       0  0.0 %         0

MACs 311,296 → 311,296 (0, 0.0 %); params 1,240 → 1,240 (0, 0.0 %); 0 of 5 layers differ
""" in moved  # fmt: skip
    data = json.loads(
        runner.invoke(app, ["diff", old, str(tmp_path / "swapped.yaml"), "-f", "json"]).stdout
    )
    assert _structure(data) == {
        "layers": [], "unchanged": 5, "renamed": 0,
        "groups": [{"name": "a", "status": "changed", "changes": ["position"], "old_name": "a",
                    "new_name": "a", "macs_delta": 0, "params_delta": 0}],
    }  # fmt: skip
    # A group added: its layers added (conv 5x5 8 on 16×16×8: 409,600 MACs, 1,608 params).
    added = runner.invoke(app, ["diff", old, str(tmp_path / "extra.yaml")]).stdout
    assert """\
 layer             change    Δ MACs  Δ %  Δ params
 ─────────────────────────────────────────────────
 extra/conv1       added   +409,600  new    +1,608
 extra/batchnorm1  added          0  0 %       +16
 extra/relu1       added          0  0 %         0
""" in added  # fmt: skip
    data = json.loads(
        runner.invoke(app, ["diff", old, str(tmp_path / "extra.yaml"), "-f", "json"]).stdout
    )
    assert data["groups"] == [
        {"name": "extra", "status": "added", "changes": [], "old_name": None,
         "new_name": "extra", "macs_delta": 409_600, "params_delta": 1_624},
    ]  # fmt: skip
    assert [(c["name"], c["status"]) for c in data["layers"]] == [
        ("extra/conv1", "added"), ("extra/batchnorm1", "added"), ("extra/relu1", "added"),
    ]  # fmt: skip


# --- one network grouped, the other flat: a zoo model against its Caffe or ONNX file ---------


def test_a_zoo_model_against_its_caffe_prototxt(runner: CliRunner, tmp_path: Path) -> None:
    # The zoo groups each inception module; the prototxt is flat, its names the full names
    # (inception_3a/1x1): the groups dissolve and every layer matches, none is removed.
    # Settings are compared as they apply (a 1x1 conv's 'same' and 'valid' are one): what
    # differs is Caffe's ceil mode on pools where it changes no size, and a concat's input;
    # the ReLUs, named by the zoo (relu1) and by Caffe (relu_1x1), are renamed.
    prototxt = tmp_path / "googlenet.prototxt"
    prototxt.write_text(caffe_nets.googlenet(), encoding="utf-8")
    result = runner.invoke(app, ["diff", "googlenet", str(prototxt), "-f", "json", "--all"])
    data = json.loads(result.stdout)
    assert Counter(c["status"] for c in data["layers"]) == {
        "unchanged": 65, "changed": 19, "renamed": 57, "added": 1,
    }  # fmt: skip
    assert [c["name"] for c in data["layers"] if c["status"] == "added"] == ["prob"]
    changed = [c for c in data["layers"] if c["status"] == "changed"]
    assert Counter(tuple(c["changes"]) for c in changed) == {("config",): 10, ("input",): 9}
    assert all(c["old_name"] == c["new_name"] for c in changed if c["changes"] == ["config"])
    assert {c["old"]["kind"] for c in data["layers"] if c["status"] == "renamed"} == {"relu"}
    assert [(g["name"], g["status"]) for g in data["groups"]] == [
        (f"inception_{module}", "removed") for module in ("3a", "3b", "4a", "4b", "4c", "4d",
                                                          "4e", "5a", "5b")
    ]  # fmt: skip


def test_a_zoo_model_against_its_onnx_export(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("onnx", reason="the test extra installs onnx: pip install -e '.[test]'")
    path = str(tmp_path / "resnet18.onnx")
    assert runner.invoke(app, ["export", "resnet18", "-o", path]).exit_code == 0
    data = json.loads(runner.invoke(app, ["diff", "resnet18", path, "-f", "json"]).stdout)
    # ONNX names are flat (layer1.0.conv1): the 15 groups dissolve, every layer matches but
    # the head, which ONNX writes as a Flatten (named fc) and a Gemm (fc_2).
    assert [(c["name"], c["status"], c["changes"]) for c in data["layers"]] == [
        ("fc", "changed", ["kind", "output", "macs", "params"]), ("fc_2", "added", []),
    ]  # fmt: skip
    assert (data["unchanged"], data["renamed"]) == (67, 0)
    assert Counter(g["status"] for g in data["groups"]) == {"removed": 15}


@pytest.mark.parametrize(
    ("old", "new", "what"),
    [("conv 3x3 8 same", "conv 3x3 8 p1", ()),  # 1 pixel on each side either way
     ("conv 1x1 8", "conv 1x1 8 valid", ()),
     ("conv 3x3 dw p1", "conv 3x3 4 g4 p1", ()),  # depthwise on 4 channels: 4 groups
     ("convtranspose 2x2 dw s2", "convtranspose 2x2 4 g4 s2 valid", ()),
     ("conv 3x3 8 s2 same", "conv 3x3 8 s2 padding=0,1,0,1", ()),  # TensorFlow's uneven same
     ("maxpool 3 2 same", "maxpool 3 2 p1", ("config",))],  # 0 and 1 before: the same size
)  # fmt: skip
def test_settings_are_compared_as_they_apply_to_the_input(
    old: str, new: str, what: tuple[str, ...]
) -> None:
    """A config and the ONNX file exported from it write settings differently: a layer
    differs in config only when its settings differ for its input."""
    old_report = analyze(parse_inline(f"8x8x4 | {old} name=a"))
    new_report = analyze(parse_inline(f"8x8x4 | {new} name=a"))
    (change,) = diff(old_report, new_report).layers
    assert change.what == what
    assert old_report.layers[0].config != new_report.layers[0].config


def test_names_written_with_another_separator_are_the_same(
    runner: CliRunner, tmp_path: Path
) -> None:
    """layer1.conv1 in a config joined by '.', layer1/conv1 in one joined by '/' (as an
    ONNX file's names are): the same name, not a rename."""
    layers = "layers:\n  - conv 3x3 8 name=conv1\n  - group: [conv 3x3 8 name=conv1, relu]\n" \
             "    name: layer1\n"  # fmt: skip
    dotted, slashed = tmp_path / "dotted.yaml", tmp_path / "slashed.yaml"
    dotted.write_text(f"input: 8x8x3\nseparator: '.'\n{layers}", encoding="utf-8")
    slashed.write_text(f"input: 8x8x3\n{layers}", encoding="utf-8")
    result = runner.invoke(app, ["diff", str(dotted), str(slashed), "-f", "json", "--all"])
    data = json.loads(result.stdout)
    assert (data["unchanged"], data["renamed"]) == (3, 0)
    assert {c["status"] for c in data["layers"]} | {g["status"] for g in data["groups"]} == {
        "unchanged"
    }
