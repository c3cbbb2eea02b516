"""What a policy check knows about signal values beyond their types, and the
comparisons that, knowing it, can never hold or always hold.

Knowledge, attached to the signal schemas (``schema.FieldSchema``):

- closed vocabularies: a map's keys (``toxicity.scores``) or a scalar's values
  (``pii.entities.type``), from a classifier's optional hook
  ``field_vocabulary(options) -> {dotted path inside its signal: (names...)}``,
  from ``Literal`` fields, and, for the service's own ``banks`` signal, the
  registered hash signal types and bank purposes (bank names are added by lint
  from the database, see ``with_bank_names``);
- renamed fields: ``renamed_fields() -> {old dotted path: new name}``; a rule
  naming the old field is told the new name;
- value ranges: pydantic ``Field(ge=..., le=...)`` on the signal models (read by
  ``schema.schema_of``), or a classifier's ``field_ranges(options) -> {path:
  (low, high)}`` where the range depends on its options (a hash's bit length).

``comparison_problem`` turns that into an error message for one comparison.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from moderation_service.policy.schema import NUMBER, FieldSchema

# ``a OP c`` read from the other side: ``c OP a`` is ``a FLIPPED[OP] c``.
FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}


def _hook(klass: type, name: str, *arguments: Any) -> dict:
    method = getattr(klass, name, None)
    return dict(method(*arguments) or {}) if callable(method) else {}


def classifier_knowledge(klass: type, options: Mapping[str, Any], schema: FieldSchema) -> FieldSchema:
    """``schema`` with what ``klass``'s hooks say for these configuration options."""
    return annotate(schema, _hook(klass, "field_vocabulary", dict(options)), _hook(klass, "renamed_fields"),
                    _hook(klass, "field_ranges", dict(options)), where=klass.__name__)


def annotate(schema: FieldSchema, vocabulary: Mapping[str, Iterable[str]] | None = None,
             renamed: Mapping[str, str] | None = None,
             ranges: Mapping[str, tuple[float | None, float | None]] | None = None, where: str = "") -> FieldSchema:
    for path, values in (vocabulary or {}).items():
        schema = _update(schema, path.split("."), where, values=tuple(str(value) for value in values))
    for path, (low, high) in (ranges or {}).items():
        schema = _update(schema, path.split("."), where, minimum=low, maximum=high)
    for path, new_name in (renamed or {}).items():
        *parent, old = path.split(".")
        schema = _update(schema, parent, where, add_renamed={old: new_name})
        if not parent and schema.kind == "object":  # a bare key: also a key of the signal's maps (scores)
            for name, child in schema.fields.items():
                if child.kind == "map":
                    schema = _update(schema, [name], where, add_renamed={old: new_name})
    return schema


def _update(schema: FieldSchema, parts: list[str], where: str, **changes: Any) -> FieldSchema:
    if schema.kind == "list" and schema.item is not None:
        return dataclasses.replace(schema, item=_update(schema.item, parts, where, **changes))
    if not parts:
        if "add_renamed" in changes:
            return dataclasses.replace(schema, renamed={**schema.renamed, **changes["add_renamed"]})
        return dataclasses.replace(schema, **changes)
    head, rest = parts[0], parts[1:]
    if schema.kind == "object":
        if head not in schema.fields:
            raise ValueError(f"{where}: its signal has no field {head!r} (named in a vocabulary or range hook)")
        return dataclasses.replace(schema, fields={**schema.fields, head: _update(schema.fields[head], rest, where,
                                                                                   **changes)})
    if schema.kind == "map" and schema.item is not None:
        return dataclasses.replace(schema, item=_update(schema.item, rest, where, **changes))
    raise ValueError(f"{where}: cannot describe {'.'.join(parts)!r} inside a {schema.kind}")


def service_knowledge(signal: str, schema: FieldSchema) -> FieldSchema:
    """The service's own signals (``prompt``, ``banks``)."""
    if signal == "prompt":
        return annotate(schema, ranges={"length": (0, None)})
    if signal == "banks":
        from moderation_service.banks.signals.registry import SIGNAL_TYPES
        from moderation_service.banks.store import PURPOSES

        widest = max(kind.bits for kind in SIGNAL_TYPES.values())
        parts = ("matches", "quarantined")
        return annotate(schema,
                        vocabulary={**{f"{p}.signal_type": tuple(SIGNAL_TYPES) for p in parts},
                                    **{f"{p}.purpose": PURPOSES for p in parts}},
                        ranges={f"{p}.distance": (0, widest) for p in parts})
    return schema


def with_bank_names(schemas: Mapping[str, FieldSchema], names: Iterable[str]) -> dict[str, FieldSchema]:
    """``schemas`` where ``banks.matches.bank`` takes only these names (the database's banks)."""
    result = dict(schemas)
    if "banks" in result:
        result["banks"] = annotate(result["banks"], vocabulary={"matches.bank": tuple(names),
                                                                "quarantined.bank": tuple(names)})
    return result


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def comparison_problem(label: str, schema: FieldSchema | None, op: str, constant: Any,
                       constant_label: str) -> str | None:
    """Why ``label OP constant`` never holds or always holds, or None when it may go either way.

    ``constant``: a number, a string, or a list (for ``in``/``not in``)."""
    if schema is None or schema.kind != "scalar":
        return None
    if schema.values is not None:
        known = schema.values
        if op in ("in", "not in") and isinstance(constant, list):
            unknown = [item for item in constant if str(item) not in known]
            if unknown:
                return (f"{label} is never {', '.join(map(str, unknown))}; its values are: {', '.join(known)}"
                        + (" (so this is always true)" if op == "not in" and len(unknown) == len(constant) else ""))
            if op == "in" and set(known) <= {str(item) for item in constant}:
                return f"{label} in {constant_label} always holds: the list names every value it can take"
        elif op in ("==", "!=") and isinstance(constant, str) and constant not in known:
            consequence = "never holds" if op == "==" else "always holds"
            return f"{label} {op} {constant} {consequence}: {label} is never {constant!r}; its values are: " \
                   f"{', '.join(known)}"
    value = _number(constant)
    if value is None or schema.type != NUMBER or (schema.minimum is None and schema.maximum is None):
        return None
    low, high = schema.minimum, schema.maximum
    above, below = high is not None, low is not None
    never = {">=": above and value > high, ">": above and value >= high,
             "<=": below and value < low, "<": below and value <= low,
             "==": (above and value > high) or (below and value < low)}.get(op, False)
    always = {">=": below and value <= low, ">": below and value < low,
              "<=": above and value >= high, "<": above and value > high,
              "!=": (above and value > high) or (below and value < low)}.get(op, False)
    if not (never or always):
        return None
    span = (f"between {_plain(low)} and {_plain(high)}" if above and below
            else f"at least {_plain(low)}" if below else f"at most {_plain(high)}")
    verdict = "never holds" if never else "always holds"
    shown = f"{constant_label} ({_plain(value)})" if constant_label.startswith("thresholds.") else constant_label
    return f"{label} {op} {shown} {verdict}: {label} is {span}"


def _plain(number: float | None) -> str:
    return f"{number:g}" if number is not None else "?"


def redact_entity_problems(entities: list[str], schemas: Mapping[str, FieldSchema] | None) -> list[tuple[int, str]]:
    """(index, message) for each entity type a redact action names that ``pii`` never reports."""
    pii = (schemas or {}).get("pii")
    entity = pii.fields.get("entities") if pii is not None and pii.kind == "object" else None
    item = entity.item if entity is not None else None
    known = item.fields["type"].values if item is not None and "type" in item.fields else None
    if known is None:
        return []
    return [(index, f"redact names {name!r}, which pii never reports; it reports: {', '.join(known)}")
            for index, name in enumerate(entities) if name not in known]
