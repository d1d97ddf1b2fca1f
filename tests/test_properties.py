"""Property test: random conv/pool stacks with branches and residuals against PyTorch."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convcost.core.errors import ConvcostError
from convcost.core.kinds.activations import Activation
from convcost.core.kinds.base import Layer
from convcost.core.kinds.conv import Conv
from convcost.core.kinds.normalization import BatchNorm
from convcost.core.kinds.pooling import AvgPool, MaxPool
from convcost.core.shapes import Shape
from convcost.frontends.tree import (
    SHORTCUTS,
    Concat,
    Element,
    Group,
    Network,
    Node,
    Residual,
    analyze,
)

small = st.integers(1, 3)


@st.composite
def paddings(draw: st.DrawFn, kernel: tuple[int, int]) -> object:
    choice = draw(st.sampled_from(["same", "valid", "sym", "asym"]))
    if choice == "same":
        return "same"
    if choice == "valid":
        return (0, 0, 0, 0)
    if choice == "sym":
        p, q = draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2))
        return (p, p, q, q)
    return tuple(draw(st.integers(0, 2)) for _ in range(4))


@st.composite
def convs(draw: st.DrawFn) -> Layer:
    kernel = (draw(small), draw(small))
    groups = draw(st.sampled_from([1, 1, 1, "depthwise"]))
    return Conv(
        kernel=kernel,
        filters=None if groups == "depthwise" else draw(st.integers(1, 6)),
        stride=(draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        padding=draw(paddings(kernel)),  # type: ignore[arg-type]
        dilation=(draw(st.integers(1, 2)), 1),
        groups=groups,  # type: ignore[arg-type]
        bias=draw(st.booleans()),
    )


@st.composite
def pools(draw: st.DrawFn) -> Layer:
    kernel = (draw(small), draw(small))
    p, q = draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2))
    cls = draw(st.sampled_from([MaxPool, AvgPool]))
    return cls(  # type: ignore[no-any-return]
        kernel=kernel,
        stride=(draw(small), draw(small)),
        padding=(p, p, q, q),
        ceil_mode=draw(st.booleans()),
    )


leaves = st.one_of(
    convs(),
    pools(),
    st.just(BatchNorm()),
    st.sampled_from(["relu", "sigmoid", "tanh"]).map(lambda fn: Activation(fn=fn)),
).map(lambda layer: Node(None, layer))


def _elements(children: st.SearchStrategy[Element]) -> st.SearchStrategy[tuple[Element, ...]]:
    return st.lists(children, min_size=1, max_size=3).map(tuple)


def _extend(children: st.SearchStrategy[Element]) -> st.SearchStrategy[Element]:
    body = _elements(children)
    return st.one_of(
        st.builds(Group, st.sampled_from([None, ""]), body),
        st.builds(
            Concat,
            st.just(None),
            st.lists(body.map(lambda e: Group("", e)), min_size=2, max_size=3).map(tuple),
        ),
        st.builds(
            Residual,
            st.sampled_from([None, ""]),
            body.map(lambda e: Group("", e)),
            st.one_of(st.sampled_from(SHORTCUTS), body.map(lambda e: Group(None, e))),
        ),
    )


networks = st.builds(
    Network.of,
    st.builds(Shape, st.integers(3, 14), st.integers(3, 14), st.integers(1, 6), st.just(False)),
    st.lists(st.recursive(leaves, _extend, max_leaves=8), min_size=1, max_size=4),
)


@pytest.mark.usefixtures("torch_present")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(networks, st.integers(1, 2))
def test_random_networks_match_pytorch(network: Network, batch: int) -> None:
    from tests.torch_bridge import check_network_against_torch

    try:
        report = analyze(network, batch)
    except ConvcostError:
        assume(False)  # a window that does not fit, branches that disagree: not comparable
        return
    check_network_against_torch(network, report)


def _transparent_residual(layer: Layer, shortcut: str | Group) -> Group:
    return Group("", (Residual("", Group("", (Node(None, layer),)), shortcut),))


@pytest.mark.usefixtures("torch_present")
def test_regression_two_transparent_auto_residuals_in_one_scope() -> None:
    from tests.torch_bridge import check_network_against_torch

    # Found by the property test: both projections were named 'downsample'.
    network = Network.of(
        Shape(1, 1, 1),
        [
            Concat(
                None,
                (
                    _transparent_residual(MaxPool(kernel=(1, 1), stride=(1, 1)), "auto"),
                    _transparent_residual(Conv(kernel=(1, 1), filters=2, bias=False), "auto"),
                ),
            )
        ],
    )
    report = analyze(network)
    assert [r.name for r in report.layers] == [
        "concat1/maxpool1", "concat1/add1", "concat1/conv1", "concat1/downsample1/0",
        "concat1/downsample1/1", "concat1/add2", "concat1/concat1",
    ]  # fmt: skip
    check_network_against_torch(network, report)


@pytest.mark.usefixtures("torch_present")
def test_regression_two_transparent_explicit_shortcuts_in_one_scope() -> None:
    from tests.torch_bridge import check_network_against_torch

    # Found by the property test: both shortcut groups were named 'shortcut'.
    relu = Group(None, (Node(None, Activation(fn="relu")),))
    network = Network.of(
        Shape(2, 2, 1),
        [
            _transparent_residual(Activation(fn="tanh"), relu),
            _transparent_residual(Activation(fn="tanh"), relu),
        ],
    )
    report = analyze(network)
    assert [r.name for r in report.layers if "relu" in r.name] == [
        "shortcut/relu1", "shortcut1/relu1",
    ]  # fmt: skip
    check_network_against_torch(network, report)
