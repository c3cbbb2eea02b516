"""A JSON reader for untrusted bodies: one parse that refuses, with a stable code,
what would otherwise be resolved silently or crash deeper down.

``loads(data)`` returns the document or raises ``ApiError``:

- ``422 duplicate_field``: an object repeats a key (``json`` would keep the last);
- ``422 number_too_large``: an integer of more than ``MAX_INT_DIGITS`` digits or a
  number that is not finite (Python refuses more than 4,300 digits with a ValueError);
- ``422 too_deeply_nested``: arrays/objects nested deeper than ``MAX_DEPTH``;
- ``413 too_many_values``: more than ``MAX_CONTAINERS`` arrays/objects, checked on the
  bytes before parsing, so a body of ``[{},{},...]`` costs no allocation per value;
- ``422 invalid_text``: a lone UTF-16 surrogate in any string or key (``"\\ud800"``),
  which tokenizers, spaCy and PostgreSQL all refuse, or a NUL (``"\\u0000"``), which
  PostgreSQL cannot store (but in the moderation prompt, which drops it: ``nul_allowed``);
- ``400 invalid_json``: anything else that is not JSON (NaN and Infinity included).
"""
from __future__ import annotations

import json
import re
from typing import Any

from moderation_service.errors import ApiError

MAX_INT_DIGITS = 40
MAX_DEPTH = 32
MAX_CONTAINERS = 20_000
_SURROGATE = re.compile("[\ud800-\udfff]")
# MAX_DEPTH + 1 openers in a row, each optionally after a key: '[[[[', '{"a": {"a": {'
_OPENERS = re.compile(rb'(?:[\[{]\s*(?:"[^"\\]{0,64}"\s*:\s*)?){%d}' % (MAX_DEPTH + 1))


def loads(data: bytes | str, nul_allowed: frozenset[str] = frozenset()) -> Any:
    """The document, or ApiError (module doc). ``nul_allowed``: top-level keys whose string may hold
    a NUL (the moderation prompt, which drops it as it drops other control characters)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if raw.count(b"{") + raw.count(b"[") > MAX_CONTAINERS:
        if _OPENERS.search(raw):  # the usual deep-nesting shape, named as such
            raise _too_deep()
        raise ApiError(413, "too_many_values", f"the JSON holds more than {MAX_CONTAINERS} arrays and objects")
    try:
        document = json.loads(data, object_pairs_hook=_unique_keys, parse_int=_bounded_int,
                              parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    check_document(document, nul_allowed)
    return document


def check_document(document: Any, nul_allowed: frozenset[str] = frozenset()) -> None:
    """Depth, lone surrogates and NULs, walked without recursion (``nul_allowed``: see ``loads``)."""
    stack = [(document, 1, False)]  # (value, depth, whether a NUL is allowed in it)
    while stack:
        value, depth, nul_ok = stack.pop()
        if isinstance(value, str):
            check_text(value, allow_nul=nul_ok)
        elif isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                for key, inner in value.items():
                    check_text(key)
                    stack.append((inner, depth + 1, depth == 1 and key in nul_allowed))
            else:
                stack.extend((inner, depth + 1, False) for inner in value)


def check_text(text: str, field: str | None = None, allow_nul: bool = False) -> None:
    """Raises 422 invalid_text for a lone surrogate (it is not a character and cannot be encoded)
    or a NUL (U+0000: PostgreSQL text and JSONB cannot store it, so SQLite and PostgreSQL would
    answer the same request differently)."""
    where = f" in {field}" if field else ""
    if (found := _SURROGATE.search(text)) is not None:
        raise ApiError(422, "invalid_text", f"the text{where} holds a lone UTF-16 surrogate at position "
                       f"{found.start()}; send valid Unicode")
    if not allow_nul and (position := text.find("\x00")) >= 0:
        raise ApiError(422, "invalid_text", f"the text{where} holds a NUL character (U+0000) at position "
                       f"{position}; text fields cannot hold it")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        repeated = sorted({key for key, _ in pairs if key in seen or seen.add(key)})
        raise ApiError(422, "duplicate_field", f"repeated keys: {', '.join(repeated)[:200]}", details=repeated[:20])
    return document


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ApiError(422, "number_too_large", f"an integer has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    if len(text) > 400:
        raise ApiError(422, "number_too_large", "a number is written with more than 400 characters")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ApiError(422, "number_too_large", f"{text[:40]} is beyond a double's range")
    return value


def _no_constant(name: str) -> None:
    raise ApiError(400, "invalid_json", f"{name} is not JSON")


def _too_deep() -> ApiError:
    return ApiError(422, "too_deeply_nested", f"arrays and objects nest deeper than {MAX_DEPTH} levels")
