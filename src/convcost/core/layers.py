"""Every layer kind: its fields, its shape rule and its cost, each in one class.

A kind is found by name through ``REGISTRY`` (aliases included). Front ends hand
``build_layer`` a kind name and a mapping of raw field values; the field declarations here
(``param(...)`` metadata: parser and one-line doc) drive parsing, error messages and help.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Literal,
    NamedTuple,
    TypeVar,
    dataclass_transform,
)

from convcost.core import fields
from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.geometry import Axis, Padding, describe_padding, window, window_size
from convcost.core.shapes import Shape

_REQUIRED: Any = dataclasses.MISSING


def param(parse: fields.Parser, doc: str, *, default: Any = _REQUIRED) -> Any:
    """A layer field: how to parse it from a config value, and what it means."""
    return field(default=default, metadata={"parse": parse, "doc": doc})


_Kind = TypeVar("_Kind", bound=type)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(param, field))
def layer_kind(cls: _Kind) -> _Kind:
    """Declares a layer kind: a frozen, keyword-only dataclass whose ``__init__``, equality,
    hash, repr and immutability are ``Layer``'s, written once. dataclass() would generate and
    compile them anew for every kind: most of what importing the kinds cost (~7 ms)."""
    dataclass(init=False, eq=False, repr=False, kw_only=True)(cls)  # fills in cls itself
    return cls


# Named tuples made with tuple.__new__ skip the Python-level __new__ the class would call:
# evaluate() runs once per layer, so the two per layer are worth saving. (No defaults then.)
_new = tuple.__new__


class Evaluation(NamedTuple):
    """What one layer does to one sample: its output shape and its costs.

    ``bias_adds`` are the additions a bias makes (one per output value), counted in FLOPs.
    (A named tuple: made once per layer, it has to be cheap to make.)
    """

    output_shape: Shape
    macs: int = 0
    params: int = 0
    buffers: int = 0
    bias_adds: int = 0


@layer_kind
class Layer:
    """Base of every layer kind.

    Kinds are frozen dataclasses (``@layer_kind``) whose ``__init__``, equality, hash, repr
    and immutability are these, written once; they behave as dataclass()'s generated ones do.
    """

    kind: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    summary: ClassVar[str] = ""
    # Inline spec: fields that may be given by position, and bare words that set a field.
    positional: ClassVar[tuple[str, ...]] = ()
    words: ClassVar[Mapping[str, tuple[str, object]]] = {}
    # Settings a kind lacks although its likes have them, and why: said when one is given.
    absent: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A docstring, so dataclass() need not make one from inspect.signature (slow).
        if cls.__doc__ is None:
            cls.__doc__ = cls.summary or cls.__name__

    def __init__(self, **values: Any) -> None:
        names, defaults = _init_facts(type(self))
        for name in values:
            if name not in names:
                raise TypeError(
                    f"{type(self).__qualname__}.__init__() got an unexpected keyword argument "
                    f"'{name}'"
                )
        missing = [name for name in names if name not in values and name not in defaults]
        if missing:
            raise TypeError(
                f"{type(self).__qualname__}.__init__() missing {len(missing)} required "
                f"keyword-only argument(s): {', '.join(map(repr, missing))}"
            )
        self.__dict__.update({n: values[n] if n in values else defaults[n] for n in names})

    if not TYPE_CHECKING:  # mypy knows kinds are frozen (layer_kind); this is the runtime's

        def __setattr__(self, name: str, value: object) -> None:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self, name: str) -> None:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _field_names(type(self)))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Layer)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        names = _field_names(type(self))
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({shown})"

    @property
    def kind_name(self) -> str:
        return self.kind

    def evaluate(self, inp: Shape) -> Evaluation:
        return _new(Evaluation, (inp, 0, 0, 0, 0))

    def config(self) -> str:
        """Short description of the settings (kernel/stride/padding) for tables."""
        return ""

    def mac_factors(self, inp: Shape, out: Shape) -> tuple[tuple[str, int], ...]:
        """Named numbers whose product is the MACs, for ``--explain``."""
        return ()

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        """For window layers: each axis through the output-size formula (padding included)."""
        return None

    def param_formula(self, inp: Shape, out: Shape) -> str:
        """How the parameters add up, for ``--explain`` ("" when there are none)."""
        return ""


REGISTRY: dict[str, tuple[type[Layer], Mapping[str, object]]] = {}


def register(cls: type[Layer]) -> type[Layer]:
    for kind_name in (cls.kind, *cls.aliases):
        REGISTRY[kind_name] = (cls, {})
    return cls


def _spatial(inp: Shape, kind: str) -> None:
    if inp.flat:
        raise ConvcostError(
            f"{kind} needs a spatial H×W×C input, but its input is a flat vector of {inp.c}; "
            "move it before the flatten/dense layer"
        )


def _xy(value: tuple[int, int]) -> str:
    return f"{value[0]}x{value[1]}" if value[0] != value[1] else str(value[0])


def _window_config(
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int] = (1, 1),
) -> str:
    text = f"{kernel[0]}x{kernel[1]} s{_xy(stride)} {describe_padding(padding)}"
    if dilation != (1, 1):
        text += f" d{_xy(dilation)}"
    return text


ACTIVATIONS = (
    "relu", "relu6", "leakyrelu", "elu", "selu", "gelu", "silu", "swish", "mish",
    "sigmoid", "hardsigmoid", "tanh", "hardswish", "softmax", "identity",
)  # fmt: skip

_WINDOW_WORDS: Mapping[str, tuple[str, object]] = {
    "same": ("padding", "same"),
    "valid": ("padding", "valid"),
}


@register
@layer_kind
class Conv(Layer):
    kind = "conv"
    aliases = ("conv2d", "convolution")
    summary = "2-D convolution (grouped and depthwise too)"
    positional = ("kernel", "filters")
    words = {
        **_WINDOW_WORDS,
        "nobias": ("bias", False),
        "depthwise": ("groups", "depthwise"),
        "dw": ("groups", "depthwise"),
    }

    kernel: tuple[int, int] = param(fields.pair, "kernel size: K, KhxKw or [Kh, Kw]")
    filters: int | None = param(
        fields.positive_int,
        "output channels (default for depthwise: the input channels)",
        default=None,
    )
    stride: tuple[int, int] = param(fields.pair, "stride: S, SHxSW or [sh, sw]", default=(1, 1))
    padding: Padding = param(
        fields.padding, "same (TensorFlow rule), valid, N, [h, w] or [t, b, l, r]", default="same"
    )
    dilation: tuple[int, int] = param(fields.pair, "dilation: D or [dh, dw]", default=(1, 1))
    groups: int | Literal["depthwise"] = param(
        fields.groups, "channel groups, or depthwise (one per input channel)", default=1
    )
    bias: bool = param(fields.boolean, "add a bias per output channel", default=True)

    def _groups_and_filters(self, inp: Shape) -> tuple[int, int]:
        groups = inp.c if self.groups == "depthwise" else self.groups
        if self.filters is not None:
            return groups, self.filters
        if self.groups != "depthwise":
            raise ConvcostError(
                "conv needs filters, the number of output channels (e.g. filters: 32)",
                field="filters",
            )
        return groups, inp.c

    def evaluate(self, inp: Shape) -> Evaluation:
        h, w, c, flat = inp
        if flat:
            _spatial(inp, "conv")
        groups, filters = self.groups, self.filters
        if groups != 1 or filters is None:  # the plain conv skips this (it runs per layer)
            groups, filters = self._groups_and_filters(inp)
            if c % groups:
                raise ConvcostError(
                    f"groups {groups} does not divide the {c} input channels; use a divisor of {c}",
                    field="groups",
                )
            if filters % groups:
                raise ConvcostError(
                    f"groups {groups} does not divide the {filters} filters; "
                    f"use a multiple of {groups} filters",
                    field="filters",
                )
        kernel, stride, padding = self.kernel, self.stride, self.padding
        if padding == "same":  # window_size's first rule, written out: the common case
            out_h, out_w = -(-h // stride[0]), -(-w // stride[1])
        else:
            out_h, out_w = window_size(h, w, kernel, stride, self.dilation, padding)
        outputs = out_h * out_w * filters
        weights = kernel[0] * kernel[1] * (c // groups)
        out = _new(Shape, (out_h, out_w, filters, False))
        if self.bias:
            return _new(
                Evaluation, (out, outputs * weights, weights * filters + filters, 0, outputs)
            )
        return _new(Evaluation, (out, outputs * weights, weights * filters, 0, 0))

    def axes(self, inp: Shape) -> tuple[Axis, Axis] | None:
        return window(inp.h, inp.w, self.kernel, self.stride, self.dilation, self.padding)

    def mac_factors(self, inp: Shape, out: Shape) -> tuple[tuple[str, int], ...]:
        groups, _ = self._groups_and_filters(inp)
        return (
            ("H_out", out.h),
            ("W_out", out.w),
            ("C_out", out.c),
            ("K_h", self.kernel[0]),
            ("K_w", self.kernel[1]),
            ("C_in" if groups == 1 else "C_in/groups", inp.c // groups),
        )

    def param_formula(self, inp: Shape, out: Shape) -> str:
        groups, filters = self._groups_and_filters(inp)
        bias = f" + {filters} (bias)" if self.bias else ""
        return f"{self.kernel[0]} × {self.kernel[1]} × {inp.c // groups} × {filters}{bias}"

    def config(self) -> str:
        text = _window_config(self.kernel, self.stride, self.padding, self.dilation)
        if self.groups != 1:
            text += " dw" if self.groups == "depthwise" else f" g{self.groups}"
        return text


MERGES = ("concat", "add", "mul")


@layer_kind
class Merge(Layer):
    """Where inputs meet: ``concat`` (channels), ``add`` or ``mul`` (elementwise, a 1×1×C
    input broadcast over H×W; no MACs). The graph core computes a merge's shape from all
    its inputs (``convcost.core.graph.merged_shape``); a config writes one as
    ``{type: add, from: [a, b]}``, and concat:/residual: constructs make them too."""

    kind = "merge"
    summary = "joins the layers from: names: concat (channels), add or mul (elementwise)"
    op: str = param(fields.choice(*MERGES), "concat, add or mul", default="add")

    @property
    def kind_name(self) -> str:
        return self.op

    def config(self) -> str:
        return "channels" if self.op == "concat" else "elementwise"


for _op in MERGES:
    REGISTRY[_op] = (Merge, {"op": _op})


_FIELDS: dict[type[Layer], tuple[dataclasses.Field[Any], ...]] = {}
_NAMES: dict[type[Layer], tuple[str, ...]] = {}


def _field_names(cls: type[Layer]) -> tuple[str, ...]:
    found = _NAMES.get(cls)
    if found is None:
        found = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return found


_INIT: dict[type[Layer], tuple[tuple[str, ...], dict[str, object]]] = {}


def _init_facts(cls: type[Layer]) -> tuple[tuple[str, ...], dict[str, object]]:
    """A kind's field names, in order, and the defaults of those that have one."""
    found = _INIT.get(cls)
    if found is None:
        every = dataclasses.fields(cls)
        assert not any(f.default_factory is not dataclasses.MISSING for f in every)
        defaults = {f.name: f.default for f in every if f.default is not _REQUIRED}
        found = _INIT[cls] = (tuple(f.name for f in every), defaults)
    return found


def layer_fields(cls: type[Layer]) -> tuple[dataclasses.Field[Any], ...]:
    """The settings of a kind (asked once per layer built; a class's fields never change)."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls) if "parse" in f.metadata)
    return found


def all_kinds() -> dict[str, tuple[type[Layer], Mapping[str, object]]]:
    """The registry with every kind in it. Only ``conv`` is defined here: the other kinds
    live in ``layer_kinds`` and are imported the first time a name is not found, so that
    commands that need only a conv (``compare``) start faster."""
    if "maxpool" not in REGISTRY:  # a kind of layer_kinds': import it once, not per call
        import convcost.core.layer_kinds  # noqa: F401  (registers the kinds)
    return REGISTRY


def __getattr__(name: str) -> Any:
    """``from convcost.core.layers import MaxPool`` still works: it imports the other kinds."""
    if name.startswith("__"):  # the import system asks for __path__ and the like: not kinds
        raise AttributeError(name)
    import convcost.core.layer_kinds as kinds

    try:
        return getattr(kinds, name)
    except AttributeError:
        raise AttributeError(f"module 'convcost.core.layers' has no attribute {name!r}") from None


def lookup(kind: str) -> tuple[type[Layer], Mapping[str, object]]:
    found = REGISTRY.get(kind.lower()) or all_kinds().get(kind.lower())
    if found is None:
        raise ConvcostError(unknown_kind_message(kind), field="type")
    return found


def unknown_kind_message(kind: str) -> str:
    hint = did_you_mean(kind.lower(), all_kinds())
    kinds = sorted({cls.kind for cls, _ in REGISTRY.values()} - {"activation", "merge"})
    return (
        f"unknown layer kind '{kind}'; {hint}known kinds: {', '.join(kinds)}, "
        f"and the activations {', '.join(ACTIVATIONS)}"
    )


class Recipe(NamedTuple):
    """How build_layer makes a kind, worked out once per kind name (it runs once per layer).
    ``parsers`` is also the one answer to "which settings may a user give this kind"."""

    cls: type[Layer]
    preset: Mapping[str, object]
    parsers: dict[str, fields.Parser]  # the settings a user may give (a preset's are taken)
    required: tuple[str, ...]  # of those, the ones without a default
    start: dict[str, object]  # every field's default, and the preset's values, parsed


_RECIPES: dict[str, Recipe] = {}


def recipe(kind: str) -> Recipe:
    found = _RECIPES.get(kind.lower())
    if found is None:
        cls, preset = lookup(kind)  # an unknown kind is named as the user wrote it
        declared = layer_fields(cls)
        every = dataclasses.fields(cls)
        start = {f.name: f.default for f in every if f.default is not _REQUIRED}
        bare = [f.name for f in every if f not in declared and f.name not in start]
        assert not bare, f"{cls.__name__}.{bare[0]}: give it param() or a default"
        # build_layer fills fields without __init__: a check in __post_init__ would be skipped.
        assert not hasattr(cls, "__post_init__"), f"{cls.__name__}: validate in evaluate()"
        parse = {f.name: f.metadata["parse"] for f in declared}
        start.update({key: parse[key](value) for key, value in preset.items()})
        found = _RECIPES[kind.lower()] = Recipe(
            cls,
            preset,
            {name: parser for name, parser in parse.items() if name not in preset},
            tuple(f.name for f in declared if f.default is _REQUIRED and f.name not in preset),
            start,
        )
    return found


def build_layer(
    kind: str, raw: Mapping[str, object], defaults: Mapping[str, object] | None = None
) -> Layer:
    """A layer of the named kind from raw field values (as a front end decoded them).

    ``defaults`` (e.g. ``bias: False`` from ``--no-bias``) apply where the kind has the field
    and the raw values do not set it. Errors name the field (``ConvcostError.field``).
    """
    cls, _, parsers, required, start = recipe(kind)
    values: dict[str, object] = {}
    for key, value in raw.items():
        parse = parsers.get(key)
        if parse is None:
            raise ConvcostError(_unknown_field_message(cls, key, parsers), field=key)
        try:
            values[key] = parse(value)
        except ConvcostError as error:
            raise ConvcostError(f"{cls.kind} {key}: {error.message}", field=key) from None
    if defaults:
        for key, value in defaults.items():
            if key not in values and key in parsers:
                values[key] = parsers[key](value)
    for name in required:
        if name not in values:
            missing = [name for name in required if name not in values]
            declared = {f.name: f for f in layer_fields(cls)}
            docs = "; ".join(f"{name}: {declared[name].metadata['doc']}" for name in missing)
            raise ConvcostError(f"{cls.kind} needs {', '.join(missing)} ({docs})")
    # What the dataclass's __init__ does (one object.__setattr__ per field), several times
    # faster: every field has a parsed value or its default, and no kind has __post_init__.
    layer = object.__new__(cls)
    layer.__dict__.update(start)
    layer.__dict__.update(values)
    return layer


def _unknown_field_message(cls: type[Layer], key: str, parsers: Mapping[str, object]) -> str:
    known = list(parsers)
    hint = did_you_mean(key, known)
    takes = f"it takes {', '.join(known)}" if known else "it takes no settings"
    why = f" ({cls.absent[key]})" if key in cls.absent else ""
    return f"{cls.kind} has no setting '{key}'{why}; {hint}{takes}"
