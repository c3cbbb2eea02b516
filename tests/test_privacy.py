"""Privacy: raw prompts only when configured, and then encrypted; retention purges."""
from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.retention import purge
from moderation_service.settings import Settings

SECRET = "call me on 212-555-0187, my name is Jane Roe"


def dump(settings: Settings) -> str:
    with sqlite3.connect(settings.data_dir / "moderation.db") as connection:
        return "\n".join(connection.iterdump())


def test_raw_prompts_are_not_stored_by_default(tmp_path, real_classifiers):
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client).post("/v1/moderations", json={"prompt": SECRET})
    assert "212-555-0187" not in dump(settings) and "Jane Roe" not in dump(settings)


def test_raw_prompts_when_kept_are_encrypted_with_the_configured_key(tmp_path, real_classifiers):
    key = Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, store_raw_prompts=True, raw_prompt_key=key)
    with TestClient(create_app(settings, real_classifiers)) as client:
        item_id = with_key(client).post("/v1/moderations", json={"prompt": SECRET}).json()["id"]
    assert "212-555-0187" not in dump(settings)
    with sqlite3.connect(tmp_path / "moderation.db") as connection:
        sealed = connection.execute("select prompt_raw from moderation_items where id = ?", (item_id,)).fetchone()[0]
    assert Fernet(key.encode()).decrypt(sealed.encode()).decode() == SECRET


def test_keeping_raw_prompts_without_a_key_is_refused_at_start_up(tmp_path):
    with pytest.raises(ValidationError, match="MODERATION_RAW_PROMPT_KEY must be set"):
        Settings(data_dir=tmp_path, store_raw_prompts=True)
    with pytest.raises(ValidationError, match="not a Fernet key"):
        Settings(data_dir=tmp_path, raw_prompt_key="short")


def test_retention_purges_images_and_raw_data_but_keeps_hashes_and_decisions(tmp_path, real_classifiers):
    key = Fernet.generate_key().decode()
    settings = Settings(data_dir=tmp_path, store_raw_prompts=True, raw_prompt_key=key)
    shared_image = encode(synthetic_scene(21))
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        old = client.post("/v1/moderations", json={"prompt": SECRET, "image": base64.b64encode(shared_image).decode(),
                                                  "metadata": {"user": "u-9"}}).json()
        only_old = client.post("/v1/moderations", json={"image": base64.b64encode(
            encode(synthetic_scene(22))).decode()}).json()
        storage = client.app.state.storage
        with sqlite3.connect(tmp_path / "moderation.db") as connection:
            connection.execute("update moderation_items set created_at = ? where id in (?, ?)",
                               ((datetime.now(timezone.utc) - timedelta(days=40)).isoformat(" "),
                                old["id"], only_old["id"]))
        young = client.post("/v1/moderations", json={"image": base64.b64encode(shared_image).decode()}).json()
        report = purge(storage.session_factory, storage.image_store, older_than_days=30)
        assert (report.items, report.images_deleted) == (2, 1)
        stored = client.get(f"/v1/moderations/{old['id']}").json()
    assert stored["decision"] == old["decision"] and stored["signals"]["image_hash"] == old["signals"]["image_hash"]
    assert stored["metadata"] == {}
    images = storage.image_store
    assert not images.path_for(only_old["image_sha256"], "PNG").exists()
    assert images.path_for(young["image_sha256"], "PNG").exists()  # still used by a young item
    with sqlite3.connect(tmp_path / "moderation.db") as connection:
        raw = connection.execute("select prompt_raw from moderation_items where id = ?", (old["id"],)).fetchone()[0]
    assert raw is None


def test_purge_command(tmp_path):
    env = {**os.environ, "MODERATION_DATA_DIR": str(tmp_path)}
    moderation = str(Path(sys.executable).with_name("moderation"))
    refused = subprocess.run([moderation, "purge"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "no retention period" in refused.stderr
    done = subprocess.run([moderation, "purge", "--older-than-days", "30"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "purged 0 items" in done.stdout
