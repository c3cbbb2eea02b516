"""Every timestamp in every response is RFC 3339 in UTC with an explicit offset, on
SQLite too (which keeps no zone), and an idempotent replay returns exactly the first
body. The app here has no classifiers (a prompt rule decides): no model runs."""
from __future__ import annotations

import re
import typing
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from conftest import with_key
from moderation_service.api.schemas import UtcTimestamp, rfc3339
from review_support import login, review_app

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
POLICY = """\
name: default
rules:
  - id: lighthouses
    when: prompt.text contains_any [lighthouse]
    then: {action: review, queue: text, queue_priority: 3}
"""


def _datetime_fields(model: type[BaseModel], path: str = "") -> list[tuple[str, typing.Any]]:
    """(path, annotation) of every field of ``model`` (recursively) whose type holds a datetime."""
    found = []
    for name, info in model.model_fields.items():
        annotation = info.rebuild_annotation() if hasattr(info, "rebuild_annotation") else info.annotation
        for inner in _leaves(annotation):
            if inner is datetime:
                found.append((f"{path}{name}", annotation))
            elif isinstance(inner, type) and issubclass(inner, BaseModel):
                found.extend(_datetime_fields(inner, f"{path}{name}."))
    return found


def _leaves(annotation: typing.Any) -> list[typing.Any]:
    if typing.get_origin(annotation) is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    arguments = typing.get_args(annotation)
    if arguments:
        return [leaf for argument in arguments for leaf in _leaves(argument)]
    return [annotation]


def _is_utc_timestamp(annotation: typing.Any) -> bool:
    options = typing.get_args(annotation) if typing.get_origin(annotation) is not typing.Annotated else (annotation,)
    return any(option is UtcTimestamp or option == UtcTimestamp for option in (annotation, *options))


@pytest.fixture
def app(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "default.yaml").write_text(POLICY)
    return review_app(tmp_path / "data", policy_path=folder)


def test_every_route_response_model_declares_its_timestamps_utc(app):
    # Routes that return a plain dict have no model to walk; their bodies are checked below.
    models = {route.response_model for route in app.routes if isinstance(route, APIRoute)
              and isinstance(route.response_model, type) and issubclass(route.response_model, BaseModel)}
    assert models, "no route declares a response model"
    checked = 0
    for model in models:
        for path, annotation in _datetime_fields(model):
            assert _is_utc_timestamp(annotation), f"{model.__name__}.{path} is {annotation}, not UtcTimestamp"
            checked += 1
    assert checked >= 2  # created_at and review.decided_at at least


def test_the_timestamp_type_writes_utc_with_an_offset():
    naive = datetime(2026, 11, 29, 23, 1, 32, 308701)
    assert rfc3339(naive) == "2026-11-29T23:01:32.308701Z"
    assert rfc3339(naive.replace(tzinfo=timezone(timedelta(hours=2)))) == "2026-11-29T21:01:32.308701Z"


def _timestamps(body: typing.Any, path: str = "") -> list[tuple[str, str]]:
    """(path, value) of every field named *_at or at, anywhere in a JSON body."""
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if (key.endswith("_at") or key == "at") and isinstance(value, str):
                found.append((f"{path}{key}", value))
            found.extend(_timestamps(value, f"{path}{key}."))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found.extend(_timestamps(value, f"{path}{index}."))
    return found


def test_every_timestamp_of_every_response_has_an_offset_and_a_replay_is_the_first_body(app):
    with TestClient(app) as client:
        with_key(client, scopes=("moderate", "admin"))
        seen: list[tuple[str, str]] = []
        headers = {"Idempotency-Key": "order-1"}
        first = client.post("/v1/moderations", json={"prompt": "a lighthouse at dawn"}, headers=headers)
        assert first.status_code == 200, first.text
        assert first.json()["decision"] == "review"
        again = client.post("/v1/moderations", json={"prompt": "a lighthouse at dawn"}, headers=headers)
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.content == first.content
        item_id = first.json()["id"]
        fetched = client.get(f"/v1/moderations/{item_id}").json()
        assert fetched["created_at"] == first.json()["created_at"]
        seen += _timestamps(first.json()) + _timestamps(fetched)

        assert client.post("/v1/banks", json={"name": "known", "purpose": "block"}).status_code == 201
        seen += _timestamps(client.get("/v1/banks").json())

        reviewer = login(client, "alice")
        claimed = client.post("/v1/review/claim", json={"queue": "text"}, headers=reviewer)
        assert claimed.status_code == 200, claimed.text
        seen += _timestamps(claimed.json())
        verdict = client.post(f"/v1/review/{item_id}/verdict", headers=reviewer,
                              json={"verdict": "approve", "reason_code": "policy_ok", "key": "v1"})
        assert verdict.status_code == 200, verdict.text
        seen += _timestamps(verdict.json())
        decided = client.get(f"/v1/moderations/{item_id}").json()
        assert decided["review"]["decided_at"]
        seen += _timestamps(decided) + _timestamps(client.get(f"/v1/review/{item_id}", headers=reviewer).json())
        # After the verdict, a replay still returns the first body, not today's state.
        assert client.post("/v1/moderations", json={"prompt": "a lighthouse at dawn"},
                           headers=headers).content == first.content

    paths = {path for path, _ in seen}
    assert {"created_at", "review.decided_at", "banks.0.created_at"} <= paths, paths
    wrong = [(path, value) for path, value in seen if not RFC3339.match(value)]
    assert not wrong, wrong
