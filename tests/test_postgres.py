"""The same API on a real PostgreSQL server: migrations, writes and reads."""
from __future__ import annotations

import base64

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings


def test_migrations_and_a_moderation_round_trip_on_postgres(tmp_path, postgres_url, real_classifiers):
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    image = base64.b64encode(encode(synthetic_scene(12))).decode()
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        created = client.post("/v1/moderations", json={"prompt": "call 212-555-0187", "image": image}).json()
        assert created["decision"] == "redact"
    tables = set(inspect(create_engine(postgres_url)).get_table_names())
    assert {"moderation_items", "review_queue", "api_keys", "alembic_version"} <= tables
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        stored = client.get(f"/v1/moderations/{created['id']}").json()
        again = client.post("/v1/moderations", json={"image": image}).json()
    assert stored["signals"] == created["signals"]
    assert again["signals"]["image_hash"]["near_duplicates"][0]["item_id"] == created["id"]


def test_a_nul_character_is_dropped_from_the_prompt_and_refused_elsewhere_on_postgres(tmp_path, postgres_url,
                                                                                     real_classifiers):
    """PostgreSQL cannot store U+0000: a prompt holding one was a 500 here (and stored on SQLite)."""
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        created = client.post("/v1/moderations", json={"prompt": "a cat\u0000 on a mat"})
        assert created.status_code == 200, created.text
        assert client.get(f"/v1/moderations/{created.json()['id']}").status_code == 200
        refused = client.post("/v1/moderations", json={"prompt": "a cat", "metadata": {"note": "a\u0000b"}})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_text")
