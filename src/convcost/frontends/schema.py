"""The JSON Schema of the config format, generated from what the parser itself uses: the
layer registry and its fields' parsers, the top-level keys, the structures, the budget
metrics. ``convcost schema`` prints it; ``configs/convcost.schema.json`` is a copy that a
test keeps current."""

from __future__ import annotations

from typing import Any

from convcost.core import fields
from convcost.core.kinds import all_kinds
from convcost.core.kinds.base import layer_fields
from convcost.core.metrics import budgetable
from convcost.frontends.config import SEPARATORS, TOP_LEVEL
from convcost.frontends.structure import (
    BLOCK_KEYS,
    BRANCH_KEYS,
    CALL_KEYS,
    REPEAT_KEYS,
    RESIDUAL_KEYS,
    STRUCTURES,
)  # fmt: skip
from convcost.frontends.tree import SHORTCUTS

REGISTRY = all_kinds()
SCHEMA_ID = "https://convcost.invalid/schema/config-v1.json"
_PARAMETER = {"type": "string", "pattern": r"\$", "description": "a block parameter: $name"}
_NAME = {"type": ["string", "integer"], "description": "the layer's name in its group"}
_FROM = {
    "anyOf": [
        {"type": ["string", "integer"]},
        {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}},
    ],
    "description": "the layers this one reads, by name as analyze prints them (or relative to "
    "its group), the separator alone for the network's input; without from: a layer "
    "reads the one before it",
}
_LAYERS = {"$ref": "#/$defs/layers"}


def _field_schema(parse: fields.Parser, doc: str) -> dict[str, Any]:
    return {"anyOf": [fields.SCHEMAS[parse], _PARAMETER], "description": doc}


def _definition(kind: str) -> str:
    """The $defs entry of a kind's settings: aliases share their kind's."""
    cls, preset = REGISTRY[kind]
    return f"settings_{kind if preset else cls.kind}"


_REPEAT = {
    "repeat": {"type": "integer", "minimum": 1, "description": "copies, named 0, 1, …"},
    "start": {"type": "integer", "minimum": 0, "description": "the first copy's number"},
    "first": {"type": "object", "description": "what copy 0 takes instead"},
}
assert tuple(_REPEAT) == REPEAT_KEYS


def _fields(kind: str) -> dict[str, Any]:
    """The settings a user may give a kind, by name."""
    cls, preset = REGISTRY[kind]
    return {
        f.name: _field_schema(f.metadata["parse"], f.metadata["doc"])
        for f in layer_fields(cls)
        if f.name not in preset
    }


def _settings(kind: str) -> dict[str, Any]:
    """A layer's settings (its kind's fields, shared with defaults:), and what every layer
    takes beside them."""
    properties = {"name": _NAME, "from": _FROM, **_REPEAT}
    return {
        "type": ["object", "null"],
        "$ref": f"#/$defs/{_fields_definition(kind)}",
        "properties": properties,
        "description": REGISTRY[kind][0].summary,
    }


def _fields_definition(kind: str) -> str:
    return _definition(kind).replace("settings_", "fields_")


def _defaults() -> dict[str, Any]:
    """``defaults: {conv: {padding: 0}}``: a kind's settings, by any name of the kind (a
    preset's name gives the preset's defaults)."""
    return {
        "type": "object",
        "description": "settings every layer of a kind takes where it does not give them",
        "properties": {
            kind: {
                "type": "object",
                "$ref": f"#/$defs/{_fields_definition(kind)}",
                "unevaluatedProperties": False,
            }
            for kind in sorted(REGISTRY)
        },
        "additionalProperties": False,
    }


def _ref(kind: str, **more: Any) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{_definition(kind)}", **more, "unevaluatedProperties": False}


def _typed_layer() -> dict[str, Any]:
    """``{type: conv, kernel: 3, ...}``; a type that is no layer kind calls a block."""
    conditions = []
    for kind in sorted(REGISTRY):
        then = _ref(kind, properties={"type": {"const": kind}})
        conditions.append({"if": {"properties": {"type": {"const": kind}}}, "then": then})
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
        "allOf": conditions,
    }


def _keyed_layer() -> dict[str, Any]:
    """``{conv: {...}}``, a structure (``concat: [...]``…) or a block call ``{NAME: {...}}``."""
    properties: dict[str, Any] = {kind: _ref(kind) for kind in sorted(REGISTRY)}
    branch = {
        "anyOf": [
            _LAYERS,
            {
                "type": "object",
                "required": ["layers"],
                "properties": {"name": _NAME, "layers": _LAYERS},
                "additionalProperties": False,
            },
            {"$ref": "#/$defs/layer"},
        ]
    }
    assert set(BRANCH_KEYS) == {"name", "layers"} and set(RESIDUAL_KEYS) == {
        "body", "shortcut", "name",
    }  # fmt: skip
    structures = {
        "concat": {
            "anyOf": [
                {"type": "array", "minItems": 2, "items": branch},
                _ref("concat", required=["from"]),
            ]
        },
        "residual": {
            "anyOf": [
                _LAYERS,
                {
                    "type": "object",
                    "required": ["body"],
                    "properties": {
                        "body": _LAYERS,
                        "shortcut": {"anyOf": [{"enum": list(SHORTCUTS)}, _LAYERS]},
                        "name": _NAME,
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "group": _LAYERS,
    }
    assert set(structures) == set(STRUCTURES)
    properties.update(structures)
    properties["name"] = _NAME
    properties.update(_REPEAT)
    call = {
        "type": ["object", "null"],
        "description": "a block call: its parameters, and " + ", ".join(CALL_KEYS),
        "properties": {
            "name": _NAME,
            "repeat": {"type": "integer", "minimum": 1},
            "start": {"type": "integer", "minimum": 0},
            "first": {"type": "object"},
        },
    }
    # One key is the kind (or structure, or block); beside it, name: and a repeat. JSON
    # Schema cannot count "the other keys", so each set of keys beside it is one case.
    beside = [
        [*named, *repeat]
        for named in ([], ["name"])
        for repeat in ([], ["repeat"], ["repeat", "start"], ["repeat", "first"],
                       ["repeat", "start", "first"])
    ]  # fmt: skip
    return {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 5,
        "properties": properties,
        "additionalProperties": call,
        "anyOf": [
            {"required": keys, "minProperties": len(keys) + 1, "maxProperties": len(keys) + 1}
            for keys in beside
        ],
        "not": {"propertyNames": {"enum": ["name", *REPEAT_KEYS]}},
    }


def config_schema() -> dict[str, Any]:
    count = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}
    time = {"type": "string", "pattern": "s\\s*$"}  # a time always has its unit: 2ms
    top: dict[str, Any] = {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "input": {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*\d+\s*[x×X,]\s*\d+\s*[x×X,]\s*\d+\s*$"},
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1},
                    "minItems": 3,
                    "maxItems": 3,
                },
                {
                    "type": "object",
                    "required": ["h", "w", "c"],
                    "properties": {k: {"type": "integer", "minimum": 1} for k in "hwc"},
                    "additionalProperties": False,
                },
            ]
        },
        "layers": _LAYERS,
        "blocks": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["layers"],
                "properties": {
                    "params": {
                        "anyOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {"type": "object"},
                            {"type": "null"},
                        ]
                    },
                    "layers": _LAYERS,
                    "description": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
        "separator": {"enum": list(SEPARATORS)},
        "budget": {
            "type": "object",
            "properties": {
                metric.budget_name: {
                    **(time if metric.unit == "seconds" else count),
                    "description": f"at most this many {metric.label}",
                }
                for metric in budgetable()
            },
            "additionalProperties": False,
        },
        "defaults": _defaults(),
    }
    assert set(top) == set(TOP_LEVEL), "the schema and the parser disagree on top-level keys"
    assert set(BLOCK_KEYS) == set(top["blocks"]["additionalProperties"]["properties"])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "convcost network config",
        "type": "object",
        "required": ["input", "layers"],
        "properties": top,
        "additionalProperties": False,
        "$defs": {
            **{_definition(kind): _settings(kind) for kind in sorted(REGISTRY)},
            **{
                _fields_definition(kind): {"properties": _fields(kind)} for kind in sorted(REGISTRY)
            },
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
            "layer": {
                "anyOf": [
                    {"type": "string", "description": "a layer in the inline grammar"},
                    _typed_layer(),
                    _keyed_layer(),
                ]
            },
        },
    }
