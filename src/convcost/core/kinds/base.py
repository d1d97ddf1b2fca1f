"""What every layer kind is made of: the ``Layer`` base class and how a kind is declared,
its settings (``param``), what a layer does to one sample (``Evaluation``), the registry kinds
join as they are declared, and the checks and texts several families share.

Declaring a kind: subclass ``Layer`` (or a family's shared base) and give it

- ``kind = "name"``: its name in configs and tables; ``summary``: one line for the schema;
- optionally ``aliases``, ``presets`` (names that stand for the kind with some settings
  given, as ``relu`` for ``activation fn=relu``), ``positional`` and ``words`` (the inline
  spec's shorthands) and ``absent`` (settings its likes have and it lacks, and why);
- its settings as annotated fields, ``name: type = param(parser, doc[, default=...])``;
- its rules as methods: ``evaluate`` (the shape and costs), ``config``, and for ``--explain``
  ``mac_factors``, ``param_formula``, ``axes`` and ``shape_formula``;
- for memory and time: ``storage`` (whether its output is a new tensor, reuses its input's
  buffer in place, or is a view of it), ``saved`` (what training keeps for the backward
  pass, as PyTorch does), ``other_ops`` (arithmetic besides multiply-accumulates and bias
  additions, per sample) and ``fusion`` (what ``--fuse`` does with it, as inference engines
  do: a ``producer`` (conv, dense) absorbs the BatchNorm and activations that follow it, a
  ``folded`` layer (BatchNorm) vanishes into its weights, an ``epilogue`` layer (an
  activation) keeps its arithmetic but moves no memory). The defaults are a new tensor,
  nothing saved, no other arithmetic, no fusion.

Creating the class makes it a frozen, keyword-only dataclass, checks it (``KindError``
says what is missing) and adds it to ``KINDS`` under its kind, aliases and presets. A class
without a ``kind`` of its own is a family's shared base: made a dataclass, not registered.
(Its fields are dataclass fields; ``__init__``, equality, hash, repr and immutability are
``Layer``'s, written once and behaving as dataclass()'s generated ones: generating six
methods per kind made importing every kind 1.6 → 10 ms.)
``register=False`` in the class statement keeps a kind out of the registry (``Merge``: the
network makes merges, users do not write them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, dataclass_transform

from convcost.core import fields
from convcost.core.errors import ConvcostError
from convcost.core.geometry import Axis, Padding, describe_padding, describe_pair
from convcost.core.records import record_maker
from convcost.core.shapes import Shape

REQUIRED: Any = dataclasses.MISSING  # a setting's default when the user must give it


def param(parse: fields.Parser, doc: str, *, default: Any = REQUIRED) -> Any:
    """A layer setting: how to parse it from a config value, and what it means."""
    return field(default=default, metadata={"parse": parse, "doc": doc})


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


make_evaluation = record_maker(Evaluation)  # Evaluation(...) without the class call


Fusion = Literal["none", "producer", "folded", "epilogue"]
Storage = Literal["new", "inplace", "view"]
"""Where a layer's output lives: a ``new`` tensor, its input's buffer reused ``inplace``
(read and written), or a ``view`` of its input (the same values, nothing moved). See
``convcost.core.costing``."""


class Saved(NamedTuple):
    """What training keeps of one layer for its backward pass, as PyTorch's autograd does:
    its input and/or its output tensor (shared with other layers that keep the same tensor,
    and counted once), ``extra_values`` per sample at the activations' format (tensors only
    the backward pass uses: dropout's mask), ``extra_bytes`` per sample at a fixed size
    (max pooling's int64 indices), and ``fixed_bytes`` whatever the batch (BatchNorm's
    float32 batch statistics and running statistics). A layer without parameters whose
    inputs need no gradient (it reads only the network's input, or layers like it) saves
    nothing, whatever it says here: autograd does not record it."""

    input: bool = False
    output: bool = False
    extra_values: int = 0
    extra_bytes: int = 0
    fixed_bytes: int = 0


NOTHING_SAVED = Saved()


class KindError(TypeError):
    """A layer kind declared without what the registry, the parsers or build_layer need."""


KINDS: dict[str, tuple[type[Layer], Mapping[str, object]]] = {}
"""Every kind declared so far, by each name it answers to: the class and the settings the
name presets (``relu``: ``{"fn": "relu"}``). The family modules fill it as they are imported;
``convcost.core.kinds.all_kinds()`` imports them all."""


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(param, field))
class Layer:
    """Base of every layer kind (see this module's docstring for how to declare one)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # set per kind
    _field_names: ClassVar[tuple[str, ...]] = ()  # set per kind: its fields, in order
    _defaults: ClassVar[dict[str, object]] = {}  # set per kind: the defaults there are
    kind: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    presets: ClassVar[Mapping[str, Mapping[str, object]]] = {}
    summary: ClassVar[str] = ""
    # Inline spec: settings that may be given by position, and bare words that set one.
    positional: ClassVar[tuple[str, ...]] = ()
    words: ClassVar[Mapping[str, tuple[str, object]]] = {}
    # Settings a kind lacks although its likes have them, and why: said when one is given.
    absent: ClassVar[Mapping[str, str]] = {}
    fusion: ClassVar[Fusion] = "none"

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own_kind = "kind" in cls.__dict__
        if not own_kind and hasattr(cls, "kind"):
            raise KindError(
                f"{cls.__name__}: a subclass of the kind '{cls.kind}' must name its own "
                'kind (kind = "...")'
            )
        if hasattr(cls, "__post_init__"):
            raise KindError(
                f"{cls.__name__}: a layer kind has no __post_init__ (build_layer makes "
                "layers without calling __init__); check settings in evaluate()"
            )
        # A docstring, so that dataclass() need not make one from inspect.signature (slow).
        if cls.__doc__ is None:
            cls.__doc__ = cls.summary or cls.__name__
        # The fields only: __init__, equality, hash, repr and immutability are Layer's below,
        # written once (see the module's docstring).
        dataclass(init=False, eq=False, repr=False, kw_only=True)(cls)  # fills in cls itself
        cls._field_names = tuple(f.name for f in dataclasses.fields(cls))
        cls._defaults = {
            f.name: f.default for f in dataclasses.fields(cls) if f.default is not REQUIRED
        }
        if own_kind:
            _check_name(cls)
            if register:
                _check_buildable(cls)
                _register(cls)

    # What dataclass(frozen=True, kw_only=True) would make, the same for every kind.
    def __init__(self, **values: Any) -> None:
        names, defaults = self._field_names, self._defaults
        for name in values:
            if name not in names:
                raise TypeError(
                    f"{type(self).__qualname__}.__init__() got an unexpected keyword argument "
                    f"'{name}'"
                )
        missing = [name for name in names if name not in values and name not in defaults]
        if missing:
            listed = " and ".join(map(repr, missing))
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{type(self).__qualname__}.__init__() missing {len(missing)} required "
                f"keyword-only argument{plural}: {listed}"
            )
        self.__dict__.update({n: values[n] if n in values else defaults[n] for n in names})

    if not TYPE_CHECKING:  # mypy knows kinds are frozen (dataclass_transform); the runtime:

        def __setattr__(self, name: str, value: object) -> None:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self, name: str) -> None:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self._field_names])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Layer)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._field_names)
        return f"{type(self).__qualname__}({shown})"

    @property
    def kind_name(self) -> str:
        return self.kind

    def evaluate(self, inp: Shape) -> Evaluation:
        return make_evaluation(inp, 0, 0, 0, 0)

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

    def shape_formula(self, inp: Shape, out: Shape) -> str:
        """How the output's shape comes from the input's, for ``--explain`` where no window
        axes say it ("" when the shape is plain)."""
        return ""

    def resolved(self, inp: Shape) -> Layer:
        """This layer with what its input decides written out: a window's padding in pixels
        (top, bottom, left, right), so that layers that compute the same compare equal
        however their settings were written (``same`` or ``p1`` on a 3×3 stride-1 conv).
        ``convcost diff`` compares these."""
        axes = self.axes(inp)
        if axes is None or "padding" not in self._field_names:
            return self
        h, w = axes
        settings: dict[str, Any] = dict(zip(self._field_names, self._values(), strict=True))
        settings["padding"] = (h.pad_before, h.pad_after, w.pad_before, w.pad_after)
        return type(self)(**settings)

    def storage(self, training: bool = False) -> Storage:
        """Where its output lives at inference, or in training (``training``: PyTorch's
        modules as written, without ``inplace=True``); see ``Storage``."""
        return "new"

    def saved(self, inp: Shape, out: Shape) -> Saved:
        """What training keeps of this layer for the backward pass (see ``Saved``)."""
        return NOTHING_SAVED

    def other_ops(self, inp: Shape, out: Shape) -> int:
        """Arithmetic operations per sample besides multiply-accumulates (two each) and bias
        additions: an activation's, a pool's comparisons or additions, a merge's."""
        return 0


def _check_name(cls: type[Layer]) -> None:
    if not isinstance(cls.kind, str) or not cls.kind:
        raise KindError(f"{cls.__name__}: kind must be a non-empty name, not {cls.kind!r}")


def _check_buildable(cls: type[Layer]) -> None:
    """What build_layer, the parsers and the schema rely on, checked once as a kind that
    users may write is declared."""
    name = cls.__name__
    if not cls.summary:
        raise KindError(f'{name}: give the kind a one-line summary (summary = "...")')
    for each in dataclasses.fields(cls):
        if each.default_factory is not dataclasses.MISSING:
            raise KindError(f"{name}.{each.name}: a setting takes a default=, not a factory")
        if "parse" not in each.metadata and each.default is REQUIRED:
            raise KindError(
                f"{name}.{each.name}: declare it with param(parser, doc) or give it a default"
            )
    settings = {f.name for f in layer_fields(cls)}
    for word, (setting, _) in cls.words.items():
        if setting not in settings:
            raise KindError(f"{name}: the word '{word}' sets '{setting}', which is no setting")
    for setting in cls.positional:
        if setting not in settings:
            raise KindError(f"{name}: positional '{setting}' is no setting")


def _register(cls: type[Layer]) -> None:
    names: dict[str, Mapping[str, object]] = {name: {} for name in (cls.kind, *cls.aliases)}
    names.update(cls.presets)
    for kind_name in names:
        taken = KINDS.get(kind_name)
        if taken is not None and taken[0] is not cls:
            raise KindError(
                f"{cls.__name__}: the name '{kind_name}' is taken by {taken[0].__name__}"
            )
    for kind_name, preset in names.items():
        KINDS[kind_name] = (cls, preset)


_FIELDS: dict[type[Layer], tuple[dataclasses.Field[Any], ...]] = {}


def layer_fields(cls: type[Layer]) -> tuple[dataclasses.Field[Any], ...]:
    """The settings of a kind (asked once per layer built; a class's fields never change)."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f for f in dataclasses.fields(cls) if "parse" in f.metadata)
    return found


def require_spatial(inp: Shape, kind: str) -> None:
    """Refuses a flat input to a kind that needs height and width."""
    if inp.flat:
        raise ConvcostError(
            f"{kind} needs a spatial H×W×C input, but its input is a flat vector of {inp.c}; "
            "move it before the flatten/dense layer"
        )


def saved_window_input(layer: Layer, inp: Shape, extra_bytes: int = 0) -> Saved:
    """What a window layer (conv, pool) keeps for training: its input, or where its padding
    is uneven (TensorFlow's ``same`` with an even overhang), the zero-padded copy PyTorch
    makes before it (a separate pad, as its conv and pool pad both sides alike)."""
    axes = layer.axes(inp)
    if axes is None:
        return Saved(input=True, extra_bytes=extra_bytes)
    h, w = axes
    if h.pad_before == h.pad_after and w.pad_before == w.pad_after:
        return Saved(input=True, extra_bytes=extra_bytes)
    padded = (inp.h + h.pad_before + h.pad_after) * (inp.w + w.pad_before + w.pad_after) * inp.c
    return Saved(extra_values=padded, extra_bytes=extra_bytes)


def window_config(
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: Padding,
    dilation: tuple[int, int] = (1, 1),
) -> str:
    """A window layer's settings as tables show them: ``3x3 s2 same d2``."""
    text = f"{kernel[0]}x{kernel[1]} s{describe_pair(stride)} {describe_padding(padding)}"
    if dilation != (1, 1):
        text += f" d{describe_pair(dilation)}"
    return text


WINDOW_WORDS: Mapping[str, tuple[str, object]] = {
    "same": ("padding", "same"),
    "valid": ("padding", "valid"),
}
"""The inline spec's padding words, shared by the window kinds."""
