"""The kinds package: every kind found by each of its names, kinds declared without what they
need refused as the class is created, the record makers' arity, the one GC pause."""

from __future__ import annotations

import dataclasses
import gc
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from convcost.core import fields, kinds
from convcost.core.errors import ConvcostError, Location, make_location
from convcost.core.gcpause import gc_paused
from convcost.core.kinds import all_kinds, build_layer, lookup
from convcost.core.kinds.activations import (
    FUNCTIONS,
    Activation,
    Identity,
    LeakyReLU,
    Softmax,
)
from convcost.core.kinds.base import KINDS, Evaluation, KindError, Layer, make_evaluation, param
from convcost.core.kinds.conv import Conv, ConvTranspose
from convcost.core.kinds.dense import Dense
from convcost.core.kinds.merges import Merge
from convcost.core.kinds.normalization import (
    BatchNorm,
    GroupNorm,
    LayerNorm,
    LocalResponseNorm,
    Scale,
)
from convcost.core.kinds.pooling import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
)
from convcost.core.kinds.resampling import Upsample
from convcost.core.kinds.reshaping import (
    ChannelShuffle,
    Crop,
    Dropout,
    Flatten,
    PixelShuffle,
    PixelUnshuffle,
    Split,
    ZeroPad,
)
from convcost.core.records import record_maker
from convcost.core.shapes import Shape, make_shape
from convcost.frontends.yamlnode import NO_KEYS, YNode, make_ynode

NAMES: dict[type[Layer], tuple[str, ...]] = {
    Conv: ("conv", "conv2d", "convolution"),
    ConvTranspose: ("convtranspose", "deconv", "convtranspose2d", "conv2dtranspose"),
    MaxPool: ("maxpool", "maxpool2d", "max_pool"),
    AvgPool: ("avgpool", "avgpool2d", "avg_pool"),
    GlobalAvgPool: ("globalavgpool", "gap", "global_avg_pool", "globalaveragepooling"),
    AdaptiveAvgPool: ("adaptiveavgpool", "adaptive_avg_pool"),
    GlobalMaxPool: ("globalmaxpool", "gmp", "global_max_pool"),
    Dense: ("dense", "fc", "linear"),
    Flatten: ("flatten",),
    ZeroPad: ("pad", "zeropad", "zeropadding"),
    Dropout: ("dropout",),
    BatchNorm: ("batchnorm", "bn", "batchnorm2d"),
    LocalResponseNorm: ("lrn", "localresponsenorm"),
    Activation: ("activation", "act"),
    Merge: ("merge",),
    Upsample: ("upsample", "upsampling", "upsampling2d", "interpolate"),
    AdaptiveMaxPool: ("adaptivemaxpool", "adaptive_max_pool", "adaptivemaxpool2d"),
    LayerNorm: ("layernorm", "layernorm2d", "ln"),
    GroupNorm: ("groupnorm", "gn"),
    Scale: ("scale", "layerscale"),
    LeakyReLU: ("leakyrelu", "leaky_relu"),
    Softmax: ("softmax",),
    Identity: ("identity",),
    PixelShuffle: ("pixelshuffle", "depthtospace"),
    PixelUnshuffle: ("pixelunshuffle",),
    ChannelShuffle: ("channelshuffle", "shuffle"),
    Crop: ("crop", "cropping", "cropping2d", "centercrop"),
    Split: ("split", "chunk"),
}
EVERY_NAME = [(name, cls) for cls, names in NAMES.items() for name in names]


def test_the_registry_holds_exactly_these_names() -> None:
    presets = set(FUNCTIONS) | {"concat", "add", "mul"}
    assert set(all_kinds()) == {name for name, _ in EVERY_NAME} | presets


@pytest.mark.parametrize(("name", "cls"), EVERY_NAME)
def test_every_kind_is_found_by_each_name_in_any_case(name: str, cls: type[Layer]) -> None:
    assert lookup(name) == (cls, {})
    assert lookup(name.upper()) == (cls, {})


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_each_activation_name_presets_the_activation(fn: str) -> None:
    assert lookup(fn) == (Activation, {"fn": fn})
    assert build_layer(fn, {}) == Activation(fn=fn)


@pytest.mark.parametrize("op", ["concat", "add", "mul"])
def test_each_merge_name_presets_the_merge(op: str) -> None:
    assert lookup(op) == (Merge, {"op": op})
    assert build_layer(op, {}) == Merge(op=op)
    assert Merge(op=op).kind_name == op


_FAMILY = "convcost.core.kinds.pooling"
_FIND = """
import sys
import convcost.core.kinds.conv
from convcost.core.kinds import lookup
lookup("conv")
print("{family}" in sys.modules)
lookup("gap")
print("{family}" in sys.modules)
"""


def test_the_other_families_are_imported_at_the_first_name_not_found() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FIND.format(family=_FAMILY)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout.split()) == (0, ["False", "True"]), done.stderr


@pytest.fixture
def registry_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test declares leaves the registry (and build_layer's recipes) as it was."""
    all_kinds()
    monkeypatch.setattr(kinds, "_RECIPES", {})
    before = dict(KINDS)
    yield
    KINDS.clear()
    KINDS.update(before)


def _bare_setting() -> None:
    class Bare(Layer):
        kind = "bare"
        summary = "a test kind"
        size: int  # no param(), no default


def _post_init() -> None:
    class Checked(Layer):
        kind = "checked"
        summary = "a test kind"

        def __post_init__(self) -> None:
            pass


def _no_summary() -> None:
    class Silent(Layer):
        kind = "silent"


def _name_not_a_word() -> None:
    class Nameless(Layer):
        kind = ""
        summary = "a test kind"


def _factory_default() -> None:
    class Made(Layer):
        kind = "made"
        summary = "a test kind"
        sizes: list[int] = dataclasses.field(default_factory=list)


def _word_for_no_setting() -> None:
    class Wordy(Layer):
        kind = "wordy"
        summary = "a test kind"
        words = {"big": ("size", 9)}


def _positional_for_no_setting() -> None:
    class Placed(Layer):
        kind = "placed"
        summary = "a test kind"
        positional = ("size",)


def _subclass_without_its_own_kind() -> None:
    class WideConv(Conv):
        summary = "a conv by another name"


def _name_taken() -> None:
    class Rectifier(Layer):
        kind = "rectifier"
        aliases = ("relu",)
        summary = "a test kind"


@pytest.mark.usefixtures("registry_kept")
@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (_bare_setting, "Bare.size: declare it with param(parser, doc) or give it a default"),
        (_post_init, "Checked: a layer kind has no __post_init__ (build_layer makes layers "
                     "without calling __init__); check settings in evaluate()"),
        (_no_summary, 'Silent: give the kind a one-line summary (summary = "...")'),
        (_name_not_a_word, "Nameless: kind must be a non-empty name, not ''"),
        (_factory_default, "Made.sizes: a setting takes a default=, not a factory"),
        (_word_for_no_setting, "Wordy: the word 'big' sets 'size', which is no setting"),
        (_positional_for_no_setting, "Placed: positional 'size' is no setting"),
        (_subclass_without_its_own_kind,
         "WideConv: a subclass of the kind 'conv' must name its own kind (kind = \"...\")"),
        (_name_taken, "Rectifier: the name 'relu' is taken by Activation"),
    ],
)  # fmt: skip
def test_a_kind_declared_without_what_it_needs_is_refused_at_creation(
    declare: Callable[[], None], message: str
) -> None:
    before = dict(KINDS)
    with pytest.raises(KindError) as refused:
        declare()
    assert str(refused.value) == message
    assert before == KINDS  # nothing of it registered


@pytest.mark.usefixtures("registry_kept")
def test_a_kind_declared_in_full_is_registered_and_built() -> None:
    class Shift(Layer):
        kind = "shift"
        aliases = ("roll",)
        presets = {"shift1": {"by": 1}}
        summary = "a test kind"
        positional = ("by",)

        by: int = param(fields.positive_int, "places to shift")

    assert {name: KINDS[name] for name in ("shift", "roll", "shift1")} == {
        "shift": (Shift, {}),
        "roll": (Shift, {}),
        "shift1": (Shift, {"by": 1}),
    }
    assert build_layer("roll", {"by": 3}) == Shift(by=3)
    assert build_layer("shift1", {}) == Shift(by=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Shift(by=2).by = 3  # type: ignore[misc]


def test_a_kind_kept_out_of_the_registry() -> None:
    class Junction(Layer, register=False):
        kind = "junction"

    assert "junction" not in all_kinds()
    assert Junction() == Junction()


SHAPE = Shape(2, 2, 3)
AT = Location("net.yaml", 1, 1)


@pytest.mark.parametrize(
    ("make", "cls", "values"),
    [
        (make_evaluation, Evaluation, (SHAPE, 1, 2, 3, 4)),
        (make_shape, Shape, (2, 2, 3, False)),
        (make_location, Location, ("net.yaml", 3, 5, None, 1)),
        (make_ynode, YNode, (7, AT, NO_KEYS, False)),
    ],
)
def test_a_record_maker_makes_what_the_class_makes_and_refuses_a_wrong_arity(
    make: Callable[..., tuple[Any, ...]], cls: type[tuple[Any, ...]], values: tuple[Any, ...]
) -> None:
    made = make(*values)
    assert (type(made), made) == (cls, cls(*values))
    with pytest.raises(TypeError, match="positional argument"):
        make(*values, 0)  # one too many
    with pytest.raises(TypeError, match="missing"):
        make()


def test_a_record_maker_fills_defaults_as_the_class_does() -> None:
    assert make_evaluation(SHAPE, 5) == (SHAPE, 5, 0, 0, 0)


def test_record_maker_takes_only_named_tuple_classes() -> None:
    with pytest.raises(TypeError, match="named-tuple class"):
        record_maker(tuple)


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("resume", [True, False])
def test_gc_paused(enabled: bool, resume: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        with gc_paused(resume=resume):
            assert not gc.isenabled()
        assert gc.isenabled() == (enabled and resume)
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "upsample takes a scale or a size, got neither scale nor size (e.g. upsample 2, "
             "or size: 28x28)"),
        ({"scale": 2, "size": 8}, "upsample takes a scale or a size, got both scale and size "
                                  "(e.g. upsample 2, or size: 28x28)"),
    ],
)  # fmt: skip
def test_upsample_takes_a_scale_or_a_size(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConvcostError) as caught:
        build_layer("upsample", settings).evaluate(Shape(4, 4, 3))
    assert caught.value.message == message
