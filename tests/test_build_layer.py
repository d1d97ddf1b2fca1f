"""``build_layer`` fills a layer's fields directly (for speed): its layers must be exactly
what ``__init__`` makes: equal, same hash, same repr, same fields, frozen. (``__init__``
itself is ``Layer``'s, shared by every kind: see ``convcost.core.kinds.base``.)"""

from __future__ import annotations

import dataclasses

import pytest

from convcost.core.kinds import all_kinds, build_layer
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv
from convcost.frontends import analyze_spec, zoo
from convcost.frontends.tree import Concat, Element, Group, Residual

# A valid value for each setting some kind requires.
REQUIRED_VALUES = {
    "kernel": 3, "units": 10, "padding": 1, "fn": "relu", "factor": 2, "groups": 2, "index": 0,
}  # fmt: skip


def _same_as_init(layer: Layer) -> None:
    values = {f.name: getattr(layer, f.name) for f in dataclasses.fields(layer)}
    made = type(layer)(**values)
    assert layer == made and made == layer
    assert hash(layer) == hash(made)
    assert repr(layer) == repr(made)
    assert vars(layer) == vars(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.kind_name_ = "x"  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", sorted(all_kinds()))
def test_every_kind_with_its_defaults(kind: str) -> None:
    cls, preset = all_kinds()[kind]
    needed = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
    raw = {name: REQUIRED_VALUES[name] for name in needed - set(preset)}
    _same_as_init(build_layer(kind, raw))


def test_defaults_and_settings_together() -> None:
    layer = build_layer("conv", {"kernel": "3x5", "stride": 2, "padding": [1, 2]}, {"bias": False})
    _same_as_init(layer)
    assert repr(layer) == (
        "Conv(kernel=(3, 5), filters=None, stride=(2, 2), padding=(1, 1, 2, 2), "
        "dilation=(1, 1), groups=1, bias=False)"
    )


def _layers(elements: tuple[Element, ...]) -> list[Layer]:
    found: list[Layer] = []
    for element in elements:
        if isinstance(element, Group):
            found += _layers(element.elements)
        elif isinstance(element, Concat):
            found += _layers(tuple(element.branches))
        elif isinstance(element, Residual):
            shortcut = element.shortcut
            found += _layers((element.body, *((shortcut,) if isinstance(shortcut, Group) else ())))
        elif isinstance(element.layer, Layer):  # else its settings read its input
            found.append(element.layer)
    return found


@pytest.mark.parametrize("name", zoo.model_names())
def test_every_layer_of_the_zoo(name: str) -> None:
    # A layer whose settings read its input (mobilenet_v2's ``${in.c * 6}``) is built when
    # the network is analysed: those come from the analysis, the rest as the zoo reads them.
    written = _layers(zoo.load_model(name).nodes)
    assert written
    for layer in written:
        _same_as_init(layer)
    analysed = [row.layer for row in analyze_spec(name)[1].layers]
    assert len(analysed) >= len(written)
    for layer in analysed:
        _same_as_init(layer)


def test_init_is_keyword_only_checked_and_frozen() -> None:
    with pytest.raises(
        TypeError, match=r"^Conv.__init__\(\) got an unexpected keyword argument 'size'$"
    ):
        Conv(kernel=(3, 3), size=2)  # type: ignore[call-arg]
    with pytest.raises(
        TypeError,
        match=r"^Conv.__init__\(\) missing 1 required keyword-only argument: 'kernel'$",
    ):
        Conv(filters=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):
        Conv((3, 3))  # type: ignore[call-arg]
    conv = Conv(kernel=(3, 3))
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'kernel'"):
        del conv.kernel
    assert [f.name for f in dataclasses.fields(conv)] == list(vars(conv))  # in field order
