"""Schemathesis against the service's own OpenAPI schema: no 5xx, and every
response matches the schema, for generated requests (bounded count)."""
from __future__ import annotations

import pytest
import schemathesis
import schemathesis.specs.openapi.checks as openapi_checks
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.settings import Settings

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def served(tmp_path_factory, real_classifiers):
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("schemathesis"), rate_limit_per_minute=0,
                         policy_watch_interval_s=0)
    app = create_app(settings_, real_classifiers)
    with TestClient(app):  # runs the lifespan, so the models are in
        key = ApiKeyStore(app.state.storage.session_factory).create("fuzz", ["moderate", "admin"]).secret
        yield app, key


def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_server_errors_and_responses_match_the_schema(served):
    app, key = served
    checks = [openapi_checks.status_code_conformance, openapi_checks.content_type_conformance,
              openapi_checks.response_schema_conformance]
    tested = []
    for operation in operations(app):
        if operation.path == "/v1/policies/reload":
            continue  # reloading would only re-read the same files; tested elsewhere

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case):
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            case.validate_response(response, checks=checks)

        exercise()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/moderations" in tested and "GET /v1/moderations/{item_id}" in tested
