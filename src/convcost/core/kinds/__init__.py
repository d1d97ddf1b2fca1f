"""The layer kinds, one module per family, and how a kind is found by name and built.

``base`` holds what every kind is made of and how one is declared; the families are
``conv``, ``pooling``, ``dense``, ``normalization``, ``activations``, ``reshaping``,
``resampling`` and ``merges``. A kind joins ``base.KINDS`` when its module is imported.
The functions here find kinds by name: a name not found yet imports every family once
(``all_kinds``), so that a command that needs only a conv (``compare``, which imports
``conv`` itself) does not pay for declaring the rest.

Front ends hand ``build_layer`` a kind name and a mapping of raw setting values; the
settings' declarations (``param(...)``: parser and one-line doc) drive parsing, error
messages and help.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple

from convcost.core import fields
from convcost.core.errors import ConvcostError, did_you_mean
from convcost.core.kinds.base import KINDS, REQUIRED, Layer, layer_fields

_every_family_imported = False


def all_kinds() -> dict[str, tuple[type[Layer], Mapping[str, object]]]:
    """Every kind by each name it answers to (see ``base.KINDS``), all families imported."""
    global _every_family_imported
    if not _every_family_imported:
        # The family modules: importing one declares its kinds. A new family is added here.
        from convcost.core.kinds import (  # noqa: F401
            activations,
            conv,
            dense,
            merges,
            normalization,
            pooling,
            resampling,
            reshaping,
        )

        _every_family_imported = True
    return KINDS


def lookup(kind: str) -> tuple[type[Layer], Mapping[str, object]]:
    """The kind called ``kind`` (any case) and the settings its name presets."""
    found = KINDS.get(kind.lower()) or all_kinds().get(kind.lower())
    if found is None:
        raise ConvcostError(unknown_kind_message(kind), field="type")
    return found


def unknown_kind_message(kind: str) -> str:
    from convcost.core.kinds.activations import ACTIVATIONS

    hint = did_you_mean(kind.lower(), all_kinds())
    # Activations are listed by name after the rest, those with a kind of their own too.
    kinds = sorted({cls.kind for cls, _ in KINDS.values()} - {"activation", "merge"}
                   - set(ACTIVATIONS))  # fmt: skip
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
        start = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not REQUIRED}
        parse = {f.name: f.metadata["parse"] for f in declared}
        start.update({key: parse[key](value) for key, value in preset.items()})
        found = _RECIPES[kind.lower()] = Recipe(
            cls,
            preset,
            {name: parser for name, parser in parse.items() if name not in preset},
            tuple(f.name for f in declared if f.default is REQUIRED and f.name not in preset),
            start,
        )
    return found


def build_layer(
    kind: str, raw: Mapping[str, object], defaults: Mapping[str, object] | None = None
) -> Layer:
    """A layer of the named kind from raw setting values (as a front end decoded them).

    ``defaults`` (e.g. ``bias: False`` from ``--no-bias``) apply where the kind has the
    setting and the raw values do not set it. Errors name the setting
    (``ConvcostError.field``).
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
    # faster. Sound because every field has a parsed value or its default here, and no kind
    # has a __post_init__: base.Layer refuses a kind declared otherwise.
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
