"""Hostile request bodies and policy regexes, built in memory; each case names the
answer it must get. Used by tests/test_hostile_requests.py and tests/test_load_isolation.py.

JSON_BODIES and MULTIPART go to POST /v1/moderations; OTHER_ROUTES to other routes
(every route parses JSON the same strict way). Each value: (body, status, code).
"""
from __future__ import annotations

import json

BIG_INT = "9" * 5000
DEEP = 100_000


def _json(text: str) -> bytes:
    return text.encode()


JSON_BODIES: dict[str, tuple[bytes, int, str]] = {
    "5,000-digit integer in metadata": (_json('{"prompt": "hi", "metadata": {"n": %s}}' % BIG_INT), 422,
                                        "number_too_large"),
    "5,000-digit integer as the prompt": (_json('{"prompt": %s}' % BIG_INT), 422, "number_too_large"),
    "negative 5,000-digit integer as surface": (_json('{"prompt": "hi", "surface": -%s}' % BIG_INT), 422,
                                                "number_too_large"),
    "float beyond a double": (_json('{"prompt": "hi", "metadata": {"x": 1e999}}'), 422, "number_too_large"),
    "100,000-digit float": (_json('{"prompt": "hi", "metadata": {"x": 1.%s}}' % ("0" * 100_000)), 422,
                            "number_too_large"),
    "NaN": (_json('{"prompt": "hi", "metadata": {"x": NaN}}'), 400, "invalid_json"),
    "100,000 nested arrays": (_json("[" * DEEP + "]" * DEEP), 422, "too_deeply_nested"),
    "40 nested objects in metadata": (_json('{"prompt": "hi", "metadata": ' + '{"a": ' * 40 + "1" + "}" * 41), 422,
                                      "too_deeply_nested"),
    "deep nesting behind a long key": (_json('{"prompt": "hi", "metadata": {"k": ' + '[1, ' * 200 + "1"
                                             + "]" * 200 + "}}"), 422, "too_deeply_nested"),
    "200,000 empty objects": (_json("[" + ",".join(["{}"] * 200_000) + "]"), 413, "too_many_values"),
    "duplicate prompt key": (_json('{"prompt": "a sunny beach", "prompt": "something else"}'), 422,
                             "duplicate_field"),
    "duplicate key inside metadata": (_json('{"prompt": "hi", "metadata": {"a": 1, "b": 2, "a": 3}}'), 422,
                                      "duplicate_field"),
    "lone high surrogate in the prompt": (_json('{"prompt": "hello \\ud800"}'), 422, "invalid_text"),
    "lone low surrogate in a metadata key": (_json('{"prompt": "hi", "metadata": {"\\udc00": 1}}'), 422,
                                             "invalid_text"),
    "reversed surrogate pair": (_json('{"prompt": "x \\ude00\\ud83d y"}'), 422, "invalid_text"),
    "invalid UTF-8 bytes": (b'{"prompt": "caf\xe9 \xff"}', 400, "invalid_json"),
    # PostgreSQL cannot store a NUL: it was a 500 there and stored on SQLite (the prompt drops it).
    "NUL in a metadata value": (_json('{"prompt": "hi", "metadata": {"k": "a\\u0000"}}'), 422, "invalid_text"),
}

# A valid pair is one emoji, not an error.
VALID_SURROGATE_PAIR = _json('{"prompt": "a smiling face \\ud83d\\ude00"}')

MULTIPART: dict[str, tuple[list[tuple[str, tuple[None, bytes]]], int, str]] = {
    "two prompt fields": ([("prompt", (None, b"a sunny beach")), ("prompt", (None, b"something else"))], 422,
                          "duplicate_field"),
    "two metadata fields": ([("prompt", (None, b"hi")), ("metadata", (None, b"{}")), ("metadata", (None, b"{}"))],
                            422, "duplicate_field"),
    "5,000-digit metadata": ([("prompt", (None, b"hi")), ("metadata", (None, BIG_INT.encode()))], 422,
                             "number_too_large"),
    "100,000 nested brackets as metadata": ([("prompt", (None, b"hi")),
                                             ("metadata", (None, ("[" * DEEP + "]" * DEEP).encode()))], 422,
                                            "too_deeply_nested"),
    "duplicate keys in metadata": ([("prompt", (None, b"hi")), ("metadata", (None, b'{"a": 1, "a": 2}'))], 422,
                                   "duplicate_field"),
    "NUL in the external id": ([("prompt", (None, b"hi")), ("external_id", (None, b"id\x00"))], 422, "invalid_text"),
}

# (method, path, body, status, code): the same kinds on routes other than moderation.
OTHER_ROUTES: list[tuple[str, str, bytes, int, str]] = [
    ("PUT", "/v1/webhooks/endpoint", _json('{"url": "https://a.example/h", "url": "https://b.example/h"}'), 422,
     "duplicate_field"),
    ("POST", "/v1/moderations/x/appeal", _json('{"reason": "wrong", "n": %s}' % BIG_INT), 422, "number_too_large"),
    ("POST", "/v1/auth/login", _json("[" * DEEP + "]" * DEEP), 422, "too_deeply_nested"),
    ("POST", "/v1/auth/login", _json('{"username": "ada", "password": "x\\ud800yyyyyyyy"}'), 422, "invalid_text"),
    ("POST", "/v1/banks", _json(json.dumps({"name": "x", "purpose": "block"})[:-1] + ', "name": "y"}'), 422,
     "duplicate_field"),
    ("POST", "/v1/banks", _json('{"name": "x", "purpose": "block", "description": "a\\u0000"}'), 422, "invalid_text"),
]

# Patterns that backtrack exponentially in Python's `re`; RE2 matches them in linear time.
CATASTROPHIC_REGEXES = ["(a|aa)*c", ".*.*.*=", "(a+)+$", "(x+x+)+y", "(\\w+\\s?)*$", "(a|a?)+b", "(.*a){20}"]
# Texts that make the patterns above backtrack.
CATASTROPHIC_TEXTS = ["a" * 5_000, "=" * 1 + "x" * 5_000, "x" * 5_000, "word " * 1_000 + "!"]
# Patterns RE2 cannot compile: refused at lint.
UNSUPPORTED_REGEXES = ["(?=a)b", "(?<=a)b", "(?<!a)b", "(?!a)b", "a++", "(?P<x>a)(?P=x)", "(a)\\1"]
