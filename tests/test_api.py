"""The API end to end, in-process, on the real classifiers and a real SQLite file."""
from __future__ import annotations

import base64
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from conftest import PROJECT_ROOT, encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings

ALL_SIGNALS = {"toxicity", "nsfw", "nsfw_drawings", "pii", "image_hash", "pdq", "text", "minor_indicators",
               "self_harm_indicators"}


def make_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, **overrides)


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data", max_image_bytes=2_000_000, max_image_pixels=4_000_000,
                         max_prompt_chars=2_000)


@pytest.fixture
def client(settings, real_classifiers):
    with TestClient(create_app(settings, real_classifiers)) as test_client:
        yield with_key(test_client)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def stored_rows(settings: Settings) -> int:
    with sqlite3.connect(settings.data_dir / "moderation.db") as connection:
        return connection.execute("select count(*) from moderation_items").fetchone()[0]


def test_prompt_and_image_get_one_decision_with_all_four_signals(client):
    image = encode(synthetic_scene(3))
    response = client.post("/v1/moderations", json={
        "prompt": "a watercolour painting of a lighthouse at dawn", "image": b64(image),
        "external_id": "post-1", "metadata": {"user": "u1"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"] == "allow"
    assert body["reasons"] == []
    assert set(body["signals"]) == ALL_SIGNALS
    for signal in body["signals"].values():
        assert set(signal["model"]) == {"name", "version", "weights_sha256"}
        assert len(signal["model"]["weights_sha256"]) == 64
    assert 0.0 <= body["signals"]["nsfw"]["probability"] < 0.3
    drawings = body["signals"]["nsfw_drawings"]
    assert set(drawings["scores"]) == {"drawing", "hentai", "neutral", "porn", "sexy"}
    assert drawings["scores"]["hentai"] < 0.2 and drawings["model"]["name"] == "nsfwjs/mobilenet_v2"
    assert body["signals"]["toxicity"]["scores"]["toxic"] < 0.5
    assert body["redacted_prompt"] == "a watercolour painting of a lighthouse at dawn"
    assert body["policy"]["name"] == "default" and len(body["policy"]["sha256"]) == 64
    # The stored timings: "store" (the commit itself) goes to the metrics, so a replay returns this same body.
    assert {"decode", "toxicity", "nsfw", "nsfw_drawings", "pii", "image_hash", "policy"} <= set(body["timings_ms"])
    assert response.headers["server-timing"].startswith("store;dur=")
    assert body["external_id"] == "post-1" and body["metadata"] == {"user": "u1"}


def test_prompt_only_runs_only_text_classifiers(client):
    body = client.post("/v1/moderations", json={"prompt": "a red bicycle in the snow"}).json()
    assert set(body["signals"]) == {"toxicity", "pii", "text", "minor_indicators", "self_harm_indicators"}
    assert body["image_sha256"] is None


def test_multipart_with_an_image_file(client):
    image = encode(synthetic_scene(4), "JPEG", quality=90)
    response = client.post("/v1/moderations", data={"prompt": "mountains", "surface": "feed_post"},
                           files={"image": ("scene.jpg", image, "image/jpeg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["signals"]) == ALL_SIGNALS
    assert body["surface"] == "feed_post"


def test_personal_data_is_redacted_and_never_stored_in_clear(client, settings):
    prompt = "mail me at jane.doe@example.com or call 212-555-0187"
    body = client.post("/v1/moderations", json={"prompt": prompt}).json()
    assert body["decision"] == "redact"
    assert "<EMAIL_ADDRESS>" in body["redacted_prompt"] and "jane.doe" not in body["redacted_prompt"]
    assert any(reason["rule_id"] == "personal-data" for reason in body["reasons"])
    with sqlite3.connect(settings.data_dir / "moderation.db") as connection:
        dump = "\n".join(connection.iterdump())
    assert "jane.doe@example.com" not in dump and "555-0187" not in dump


def test_hateful_prompt_is_not_allowed(client):
    body = client.post("/v1/moderations", json={"prompt": "I hate all immigrants, they are filthy animals"}).json()
    assert body["decision"] in {"block", "review"}
    assert body["signals"]["toxicity"]["scores"]["hate"] > body["signals"]["toxicity"]["scores"].get("sexual", 0)
    assert body["reasons"]


def test_record_survives_a_restart(settings, real_classifiers):
    image = encode(synthetic_scene(5))
    with TestClient(create_app(settings, real_classifiers)) as first:
        with_key(first)
        created = first.post("/v1/moderations", json={"prompt": "a quiet harbour", "image": b64(image)}).json()
    with TestClient(create_app(settings, real_classifiers)) as second:
        with_key(second)
        response = second.get(f"/v1/moderations/{created['id']}")
        assert response.status_code == 200
        stored = response.json()
        assert stored["decision"] == created["decision"]
        assert stored["signals"] == created["signals"]
        assert stored["policy"] == created["policy"]
        # The restarted index still knows the earlier image.
        again = second.post("/v1/moderations", json={"image": b64(image)}).json()
        assert again["signals"]["image_hash"]["near_duplicates"][0]["item_id"] == created["id"]
    sha = created["image_sha256"]
    assert (settings.image_dir / sha[:2] / sha[2:4] / f"{sha}.png").read_bytes() == image


def test_resized_reencoded_copy_is_found_as_near_duplicate_and_a_prompt_block_does_not_travel(tmp_path, real_classifiers):
    policy = tmp_path / "policy.yaml"
    policy.write_text((PROJECT_ROOT / "policies" / "default.yaml").read_text().replace(
        "    then: {action: redact, entities: [EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS]}",
        "    then: block"))
    settings = make_settings(tmp_path / "data", policy_path=policy)
    scene = synthetic_scene(6)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        first = client.post("/v1/moderations", json={"prompt": "write to bob@example.org", "image": b64(encode(scene))}).json()
        assert first["decision"] == "block"
        copy = encode(scene.resize((320, 320)), "JPEG", quality=70)
        second = client.post("/v1/moderations", json={"image": b64(copy)}).json()
    duplicates = second["signals"]["image_hash"]["near_duplicates"]
    assert duplicates[0]["item_id"] == first["id"] and duplicates[0]["decision"] == "block"
    # The first item was blocked for the e-mail address in its prompt, not for its image.
    assert duplicates[0]["image_decision"] == "allow"
    assert second["decision"] == "allow"


def test_review_decisions_enter_the_review_queue(tmp_path, real_classifiers):
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: review-all\nrules:\n  - {id: all-images, when: {not: 'missing(nsfw)'}, "
                      "then: {action: review, queue: images, queue_priority: 4}}\n")
    settings = make_settings(tmp_path / "data", policy_path=policy)
    with TestClient(create_app(settings, real_classifiers)) as client:
        with_key(client)
        body = client.post("/v1/moderations", json={"image": b64(encode(synthetic_scene(7)))}).json()
        assert body["decision"] == "review"
        assert body["review"] == {"queue": "images", "priority": 4, "status": "pending"}
        assert client.get(f"/v1/moderations/{body['id']}").json()["review"]["queue"] == "images"


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def bmp_bytes() -> bytes:
    return encode(Image.new("RGB", (32, 32), "white"), "BMP")


BAD_REQUESTS = [
    ("malformed base64", {"image": "not*base64!"}, 400, "invalid_base64"),
    ("not an image", {"image": b64(b"hello, I am text and not a picture" * 4)}, 422, "image_invalid"),
    ("truncated image", {"image": b64(encode(synthetic_scene(8), "JPEG")[:2000])}, 422, "image_truncated"),
    ("over the byte limit", {"image": b64(b"\xff" * 2_100_000)}, 413, "image_too_large"),
    ("decompression bomb", {"image": b64(png_declaring(100_000, 100_000))}, 413, "image_too_many_pixels"),
    ("unsupported format", {"image": b64(bmp_bytes())}, 415, "image_unsupported_format"),
    ("prompt over the limit", {"prompt": "word " * 1000}, 422, "prompt_too_long"),
    ("neither prompt nor image", {"surface": "feed_post"}, 422, "empty_request"),
    ("empty prompt and no image", {"prompt": "   "}, 422, "empty_request"),
    ("unknown field", {"prompt": "hi", "colour": "red"}, 422, "unknown_field"),
    ("wrong type", {"prompt": 42}, 422, "invalid_request"),
    ("bad surface", {"prompt": "hi", "surface": "Not A Surface!"}, 422, "invalid_request"),
]


@pytest.mark.parametrize(("case", "payload", "status", "code"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_input_gets_a_clear_error_and_stores_nothing(client, settings, case, payload, status, code):
    before = stored_rows(settings)
    response = client.post("/v1/moderations", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert stored_rows(settings) == before


def test_malformed_bodies_get_clear_errors(client):
    not_json = client.post("/v1/moderations", content=b"{not json", headers={"content-type": "application/json"})
    assert (not_json.status_code, not_json.json()["error"]["code"]) == (400, "invalid_json")
    not_object = client.post("/v1/moderations", json=["a", "list"])
    assert (not_object.status_code, not_object.json()["error"]["code"]) == (422, "invalid_request")
    wrong_type = client.post("/v1/moderations", content=b"prompt=hi", headers={"content-type": "text/plain"})
    assert (wrong_type.status_code, wrong_type.json()["error"]["code"]) == (415, "unsupported_media_type")
    extra_part = client.post("/v1/moderations", data={"prompt": "hi", "colour": "red"},
                             files={"image": ("a.png", encode(synthetic_scene(9)), "image/png")})
    assert (extra_part.status_code, extra_part.json()["error"]["code"]) == (422, "unknown_field")


def test_unknown_id_is_404_with_a_code(client):
    response = client.get("/v1/moderations/does-not-exist")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_health_readiness_and_docs(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["models"]) == ALL_SIGNALS
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    content = schema["paths"]["/v1/moderations"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)


def test_readyz_is_unready_until_the_models_are_loaded(settings):
    app = create_app(settings)  # no lifespan run: nothing has loaded yet
    response = TestClient(app).get("/readyz")
    assert (response.status_code, response.json()["error"]["code"]) == (503, "not_ready")
    response = with_key(TestClient(app)).post("/v1/moderations", json={"prompt": "hello"})
    assert (response.status_code, response.json()["error"]["code"]) == (503, "not_ready")


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result(client, settings):
    body = {"prompt": "a lantern in the fog", "image": b64(encode(synthetic_scene(13)))}
    first = client.post("/v1/moderations", json=body, headers={"Idempotency-Key": "publish-77"})
    before = stored_rows(settings)
    again = client.post("/v1/moderations", json=body, headers={"Idempotency-Key": "publish-77"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and stored_rows(settings) == before
    other = client.post("/v1/moderations", json={**body, "prompt": "something else"},
                        headers={"Idempotency-Key": "publish-77"})
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    bad = client.post("/v1/moderations", json=body, headers={"Idempotency-Key": "no spaces allowed"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_idempotency_key")
    fresh = client.post("/v1/moderations", json=body)
    assert fresh.json()["id"] != first.json()["id"]
