"""What fields each signal has, derived from the classifiers' typed signals.

A policy may only name fields that exist, and may only compare them with
values of the same type. The schema comes from each configured classifier's
``Signal`` model, so a new classifier brings its fields with it.
"""
from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import BaseModel

from moderation_service.image_views import ViewBanksSignal

NUMBER, STRING, BOOLEAN, ANY = "number", "string", "boolean", "any"


@dataclass(frozen=True)
class FieldSchema:
    """``scalar`` (with ``type``), ``object`` (named ``fields``), ``map`` (any key
    to ``item``) or ``list`` (of ``item``)."""

    kind: str
    type: str = ANY
    fields: Mapping[str, "FieldSchema"] = field(default_factory=dict)
    item: "FieldSchema | None" = None


class PromptSignal(BaseModel):
    """The prompt itself, for text conditions: normalised text and its length."""

    text: str
    length: int


# Signals the service adds beside the classifiers' own.
SERVICE_SIGNALS: dict[str, type[BaseModel]] = {"prompt": PromptSignal, "banks": ViewBanksSignal}


def schema_of(annotation: Any) -> FieldSchema:
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in arguments if a is not type(None)]
        return schema_of(present[0]) if len(present) == 1 else FieldSchema("scalar", ANY)
    if origin in (list, tuple, typing.Sequence):
        return FieldSchema("list", item=schema_of(arguments[0]) if arguments else FieldSchema("scalar", ANY))
    if origin in (dict, typing.Mapping):
        return FieldSchema("map", item=schema_of(arguments[1]) if len(arguments) == 2 else FieldSchema("scalar", ANY))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FieldSchema("object", fields={name: schema_of(info.annotation) for name, info in
                                             annotation.model_fields.items()})
    if annotation is bool:
        return FieldSchema("scalar", BOOLEAN)
    if annotation in (int, float):
        return FieldSchema("scalar", NUMBER)
    if annotation is str:
        return FieldSchema("scalar", STRING)
    return FieldSchema("scalar", ANY)


def signal_model_of(classifier_class: type) -> type[BaseModel] | None:
    """The Signal type from ``class X(Classifier[Input, SignalType])``."""
    for klass in classifier_class.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            arguments = typing.get_args(base)
            if len(arguments) == 2 and isinstance(arguments[1], type) and issubclass(arguments[1], BaseModel):
                return arguments[1]
    return None


def signal_schemas(classifier_config: Mapping[str, Mapping[str, Any]]) -> dict[str, FieldSchema]:
    """Schemas for every configured classifier plus the service's own signals."""
    from classifiers.registry import resolve_class

    schemas = {name: schema_of(model) for name, model in SERVICE_SIGNALS.items()}
    for name, entry in classifier_config.items():
        if entry.get("shadow"):
            continue  # a candidate model is never read by a policy; it shares its live entry's signal
        model = signal_model_of(resolve_class(entry["class"])) if entry.get("class") else None
        schemas[name] = schema_of(model) if model else FieldSchema("map", item=FieldSchema("scalar", ANY))
    return schemas


def field_type(schemas: Mapping[str, FieldSchema], path: str) -> tuple[FieldSchema, bool]:
    """The schema at ``path`` and whether walking it crossed a list.

    Raises KeyError with a readable reason for an unknown signal or field.
    """
    signal, *parts = path.split(".")
    if signal not in schemas:
        raise KeyError(f"unknown signal {signal!r}; known: {', '.join(sorted(schemas))}")
    current, through_list = schemas[signal], False
    for depth, part in enumerate(parts):
        while current.kind == "list" and current.item is not None:
            current, through_list = current.item, True
        if current.kind == "object":
            if part not in current.fields:
                where = ".".join([signal, *parts[:depth]])
                raise KeyError(f"{where} has no field {part!r}; it has: {', '.join(sorted(current.fields))}")
            current = current.fields[part]
        elif current.kind == "map":
            current = current.item or FieldSchema("scalar", ANY)
        elif current.type != ANY:
            raise KeyError(f"{'.'.join([signal, *parts[:depth]])} is a {current.type}; it has no field {part!r}")
    return current, through_list
