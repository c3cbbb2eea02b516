"""The rule for answering without a key: the probes, the login and the API's own
documentation are public; every other operation in the schema answers 401. The
README states the same rule."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from moderation_service.api.edge_guard import PUBLIC_PATHS
from review_support import review_app

README = Path(__file__).resolve().parent.parent / "README.md"
DOCUMENTATION = ("/docs", "/redoc", "/openapi.json")


def test_documentation_is_public_and_every_other_operation_needs_a_key(tmp_path):
    with TestClient(review_app(tmp_path)) as anonymous:
        for path in DOCUMENTATION:
            assert anonymous.get(path).status_code == 200, path
        checked = 0
        for path, operations in anonymous.app.openapi()["paths"].items():
            for method in operations:
                concrete = re.sub(r"\{[^}]+\}", "x", path)
                response = anonymous.request(method.upper(), concrete)
                if path in PUBLIC_PATHS:
                    assert response.status_code != 401, (method, path)
                else:
                    assert response.status_code == 401, (method, path, response.status_code)
                    assert response.json()["error"]["code"] == "unauthenticated"
                    checked += 1
        assert checked >= 30


def test_the_readme_states_the_same_rule():
    text = " ".join(README.read_text().split())
    rule = text[text.index("Every endpoint needs an API key"):][:600]
    for path in sorted(PUBLIC_PATHS - {"/docs/oauth2-redirect"}):
        assert f"`{path}`" in rule, path
