"""Hash banks through the API, on the real classifiers and a SQLite file."""
from __future__ import annotations

import base64
import csv
import io

import pytest
from fastapi.testclient import TestClient
from PIL import ImageDraw, ImageOps

from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.auth import ApiKeyStore
from moderation_service.banks.feedback import REVIEWER_REJECTED_BANK
from moderation_service.banks.quarantine import FloodMonitor
from moderation_service.banks.signals.exact import prompt_hash
from moderation_service.banks.sync import GapCursor
from moderation_service.settings import Settings

PHASH = "b6a9c995c94e16ca"
PDQ = "f" * 64


@pytest.fixture
def app(tmp_path, real_classifiers, monkeypatch):
    monkeypatch.setenv("MODERATION_BANKS_FLOOD_MIN_MATCHES", "3")
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0, rate_limit_per_minute=0)
    with TestClient(create_app(settings, real_classifiers)) as client:
        yield client.app


@pytest.fixture
def admin(app):
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {ApiKeyStore(app.state.storage.session_factory).create('ops', ['admin']).secret}"
    return client


@pytest.fixture
def moderator(app):
    return with_key(TestClient(app))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def textured_scene():
    return synthetic_scene(2)  # PDQ quality 100: enough detail for a trusted hash


def bank_image(admin, bank: str, image_bytes: bytes) -> dict:
    """Adds every hash the service computes for an image to a bank; returns those hashes."""
    hashes = admin.post("/v1/banks/lookup", json={"image": b64(image_bytes)}).json()["hashes"]
    entries = [{"signal_type": "phash", "hash": hashes["phash"][0], "label": "known"},
               {"signal_type": "pdq", "hash": hashes["pdq"][0], "label": "known"}]
    assert admin.post(f"/v1/banks/{bank}/entries", json={"entries": entries}).status_code == 201
    return hashes


def test_bank_endpoints_need_an_admin_key(app, moderator):
    assert TestClient(app).get("/v1/banks").json()["error"]["code"] == "unauthenticated"
    response = moderator.post("/v1/banks", json={"name": "x", "purpose": "block"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_create_list_update_and_delete_a_bank(admin):
    created = admin.post("/v1/banks", json={"name": "csam-list", "purpose": "block", "thresholds": {"pdq": 20}})
    assert created.status_code == 201
    assert created.json()["thresholds"]["pdq"] == 20 and created.json()["thresholds"]["phash"] == 10
    assert admin.post("/v1/banks", json={"name": "csam-list", "purpose": "block"}).json()["error"]["code"] == "bank_exists"
    assert admin.patch("/v1/banks/csam-list", json={"thresholds": {"phash": 4}}).json()["thresholds"]["phash"] == 4
    assert [b["name"] for b in admin.get("/v1/banks").json()["banks"]] == ["csam-list"]
    assert admin.delete("/v1/banks/csam-list").status_code == 204
    assert admin.get("/v1/banks/csam-list").json()["error"]["code"] == "bank_not_found"


@pytest.mark.parametrize("entry, code", [
    ({"signal_type": "pdq", "hash": "abc"}, "hash_wrong_length"),
    ({"signal_type": "phash", "hash": "zz" * 8}, "hash_invalid"),
    ({"signal_type": "md5", "hash": "00"}, "unknown_signal_type"),
])
def test_malformed_hashes_get_a_clear_422(admin, entry, code):
    admin.post("/v1/banks", json={"name": "b", "purpose": "block"})
    response = admin.post("/v1/banks/b/entries", json={"entries": [entry]})
    assert response.status_code == 422 and response.json()["error"]["code"] == code
    lookup = admin.post("/v1/banks/lookup", json=entry)
    assert lookup.status_code == 422 and lookup.json()["error"]["code"] == code
    bad_threshold = admin.post("/v1/banks", json={"name": "c", "purpose": "block", "thresholds": {"phash": 99}})
    assert bad_threshold.json()["error"]["code"] == "threshold_invalid"


def test_csv_import_is_all_or_nothing_and_reports_line_numbers(admin):
    admin.post("/v1/banks", json={"name": "imported", "purpose": "block"})
    bad = ("signal_type,hash,label\n"
           f"phash,{PHASH},fine\n"
           "phash,123,too short\n"
           f"pdq,{PDQ},fine\n"
           "nonsense\n")
    response = admin.post("/v1/banks/imported/import", content=bad, headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_invalid"
    assert [(e["line"], e["code"]) for e in error["details"]["errors"]] == [(3, "hash_wrong_length"), (5, "row_invalid")]
    assert admin.get("/v1/banks/imported").json()["entries"] == 0  # nothing imported

    good = "\n".join(f"phash,{i:016x},row {i}" for i in range(2500)) + f"\npdq,{PDQ},\nphash,{0:016x},again\n"
    result = admin.post("/v1/banks/imported/import", content=good, headers={"Content-Type": "text/csv"}).json()
    assert result == {"imported": 2501, "already_present": 1, "rows": 2502}

    exported = admin.get("/v1/banks/imported/export").text
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["signal_type", "hash", "label"] and len(rows) == 2502
    assert ["pdq", PDQ, ""] in rows


def test_hma_json_lines_round_trip(admin):
    admin.post("/v1/banks", json={"name": "from-hma", "purpose": "watch"})
    body = f'{{"pdq": "{PDQ}"}}\n{{"phash": "{PHASH}", "label": "x"}}\n'
    assert admin.post("/v1/banks/from-hma/import?format=hma", content=body).json()["imported"] == 2
    exported = admin.get("/v1/banks/from-hma/export?format=hma").text.splitlines()
    assert exported == [f'{{"pdq": "{PDQ}"}}', f'{{"phash": "{PHASH}", "label": "x"}}']
    bad = admin.post("/v1/banks/from-hma/import?format=hma", content='{"pdq": "00"}\n[1]\n').json()["error"]
    assert [e["line"] for e in bad["details"]["errors"]] == [1, 2]


def test_a_reencoded_cropped_repost_of_a_banked_image_is_blocked_unless_an_allow_bank_matches(admin, moderator):
    admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"})
    original = textured_scene()
    bank_image(admin, "known-bad", encode(original))
    width, height = original.size
    repost = encode(original.crop((5, 5, width - 5, height - 5)).resize((480, 480)), "JPEG", quality=60)

    body = moderator.post("/v1/moderations", json={"image": b64(repost)}).json()
    assert body["decision"] == "block"
    assert "hash-bank-block" in [r["rule_id"] for r in body["reasons"]]
    matches = body["signals"]["banks"]["matches"]
    assert {m["signal_type"] for m in matches} >= {"pdq"} and all(m["bank"] == "known-bad" for m in matches)

    # A mirrored repost: PDQ's dihedral hashes still find it.
    mirrored = moderator.post("/v1/moderations", json={"image": b64(encode(ImageOps.mirror(original)))}).json()
    assert mirrored["decision"] == "block"

    admin.post("/v1/banks", json={"name": "known-good", "purpose": "allow"})
    bank_image(admin, "known-good", encode(original))
    allowed = moderator.post("/v1/moderations", json={"image": b64(repost)}).json()
    # Still blocked, but only as a near-duplicate of the earlier blocked repost: the bank rule is overridden.
    assert [r["rule_id"] for r in allowed["reasons"]] == ["near-duplicate-of-blocked"]
    assert {m["purpose"] for m in allowed["signals"]["banks"]["matches"]} == {"block", "allow"}


def test_per_bank_thresholds_decide_what_matches(admin):
    admin.post("/v1/banks", json={"name": "strict", "purpose": "block", "thresholds": {"phash": 0}})
    admin.post("/v1/banks", json={"name": "loose", "purpose": "watch", "thresholds": {"phash": 12}})
    for bank in ("strict", "loose"):
        admin.post(f"/v1/banks/{bank}/entries", json={"entries": [{"signal_type": "phash", "hash": PHASH}]})
    near = f"{int(PHASH, 16) ^ 0b111:016x}"  # 3 bits away
    matches = admin.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": near}).json()["matches"]
    assert [(m["bank"], m["distance"]) for m in matches] == [("loose", 3)]
    exact = admin.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": PHASH}).json()["matches"]
    assert sorted(m["bank"] for m in exact) == ["loose", "strict"]


def test_an_exact_repeat_of_a_banned_prompt_is_blocked(admin, moderator):
    admin.post("/v1/banks", json={"name": "banned-prompts", "purpose": "block"})
    admin.post("/v1/banks/banned-prompts/entries", json={"entries": [
        {"signal_type": "text_sha256", "hash": prompt_hash("a very specific banned prompt"), "label": "spam"}]})
    body = moderator.post("/v1/moderations", json={"prompt": "A  very SPECIFIC banned prompt"}).json()
    assert body["decision"] == "block" and body["signals"]["banks"]["matches"][0]["label"] == "spam"
    other = moderator.post("/v1/moderations", json={"prompt": "a different prompt"}).json()
    assert other["decision"] == "allow" and "banks" not in other["signals"]


def test_a_flooding_entry_is_quarantined_and_reported_instead_of_blocking(app, admin, moderator):
    admin.post("/v1/banks", json={"name": "oops", "purpose": "block"})
    admin.post("/v1/banks/oops/entries", json={"entries": [
        {"signal_type": "text_sha256", "hash": prompt_hash("a lighthouse at dawn"), "label": "too generic"}]})
    # A prompt the text model allows, so that the fifth decision is the bank's alone.
    decisions = [moderator.post("/v1/moderations", json={"prompt": "a lighthouse at dawn"}).json()["decision"]
                 for _ in range(5)]
    assert decisions[:3] == ["block"] * 3 and decisions[4] == "allow"  # min_matches is 3 in this test
    quarantined = admin.get("/v1/banks/quarantine").json()["entries"]
    assert [e["label"] for e in quarantined] == ["too generic"] and "matches in" in quarantined[0]["quarantine_reason"]
    released = admin.post(f"/v1/banks/quarantine/{quarantined[0]['id']}/release")
    assert released.status_code == 200 and admin.get("/v1/banks/quarantine").json()["entries"] == []
    assert moderator.post("/v1/moderations", json={"prompt": "a lighthouse at dawn"}).json()["decision"] == "block"


def test_reviewer_rejection_banks_the_item_so_its_near_duplicates_are_blocked(app, admin, moderator):
    original = textured_scene()
    first = moderator.post("/v1/moderations", json={"image": b64(encode(original))}).json()
    # The review queue calls every listener after a verdict commits; this is the banks' one.
    banks_listener = [f for f in app.state.verdict_listeners if f.__module__ == "moderation_service.banks.feedback"]
    assert len(banks_listener) == 1
    listeners = banks_listener
    listeners[0](first["id"], "approve")
    assert admin.get(f"/v1/banks/{REVIEWER_REJECTED_BANK}").status_code == 404  # approval banks nothing

    listeners[0](first["id"], "reject")
    bank = admin.get(f"/v1/banks/{REVIEWER_REJECTED_BANK}").json()
    assert bank["purpose"] == "block" and bank["entries"] == 3  # phash, pdq, sha256
    edited = original.copy()
    ImageDraw.Draw(edited).text((10, 10), "repost @someone", fill=(255, 255, 255))
    again = moderator.post("/v1/moderations", json={"image": b64(encode(edited, "JPEG", quality=70))}).json()
    assert again["decision"] == "block"
    assert again["signals"]["banks"]["matches"][0]["label"] == f"item:{first['id']}"
    listeners[0](first["id"], "reject")  # idempotent
    assert admin.get(f"/v1/banks/{REVIEWER_REJECTED_BANK}").json()["entries"] == 3


def test_removed_entries_stop_matching(admin):
    admin.post("/v1/banks", json={"name": "b", "purpose": "block"})
    entry = admin.post("/v1/banks/b/entries", json={"entries": [{"signal_type": "phash", "hash": PHASH}]}).json()
    entry_id = entry["entries"][0]["id"]
    assert admin.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": PHASH}).json()["matches"]
    assert admin.delete(f"/v1/banks/b/entries/{entry_id}").status_code == 204
    assert admin.post("/v1/banks/lookup", json={"signal_type": "phash", "hash": PHASH}).json()["matches"] == []
    assert admin.delete(f"/v1/banks/b/entries/{entry_id}").json()["error"]["code"] == "entry_not_found"


def test_flood_monitor_compares_with_the_entrys_usual_rate():
    now = [0.0]
    flagged = []
    monitor = FloodMonitor(window_s=10, min_matches=5, factor=4, on_flood=lambda e, r: flagged.append(e),
                           clock=lambda: now[0])
    for window in range(20):  # a steady 4 matches per window: normal
        now[0] = window * 10.0
        for _ in range(4):
            monitor.record(1)
    assert flagged == []
    now[0] = 200.0
    for _ in range(17):  # 4x the usual ~4 is 16: the 17th trips it
        monitor.record(1)
    assert flagged == [1]


def test_gap_cursor_waits_for_a_late_commit_then_gives_up():
    cursor = GapCursor(0, gap_timeout_s=5)
    cursor.advance([1, 2, 4], now=0)
    assert cursor.position == 2  # 3 may still commit
    cursor.advance([3, 4], now=1)
    assert cursor.position == 4
    cursor.advance([6], now=2)
    assert cursor.position == 4
    cursor.advance([6], now=8)  # 5 was rolled back
    assert cursor.position == 6


def test_a_still_image_added_to_a_bank_is_hashed_as_moderation_does_and_hunts_turned_copies(app, admin, moderator):
    from sqlalchemy import select

    from moderation_service.db.tables import HashBankEntry

    from moderation_service.banks.runtime import open_banks
    from moderation_service.retro_hunt import RetroHunter

    sessions = app.state.storage.session_factory
    original = synthetic_scene(31)
    earlier = moderator.post("/v1/moderations", json={"image": b64(encode(ImageOps.flip(original)))}).json()
    assert earlier["decision"] == "allow"
    hunter = RetroHunter(sessions, open_banks(sessions), settle_s=0, gap_timeout_s=0)  # hunts what follows
    assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
    added = admin.post("/v1/banks/known-bad/entries", json={"image": b64(encode(original)), "label": "case 7"})
    assert added.status_code == 201, added.json()
    body = added.json()
    assert sorted(entry["signal_type"] for entry in body["entries"]) == ["pdq", "phash", "sha256"]
    assert {entry["label"] for entry in body["entries"]} == {"case 7"} and body["withheld"] == []
    with app.state.storage.session_factory() as session:
        pdq = session.scalar(select(HashBankEntry).where(HashBankEntry.signal_type == "pdq"))
    assert len(pdq.variants.split()) == 7  # retro-hunt searches the flips and rotations too
    assert [item for item, _ in hunter.run_once().taken_down] == [earlier["id"]]  # published upside down before
    mirrored = moderator.post("/v1/moderations", json={"image": b64(encode(ImageOps.mirror(original), "JPEG"))})
    assert mirrored.json()["decision"] == "block"


def test_a_flat_image_is_banked_by_its_digest_only_and_says_so(admin):
    from PIL import Image

    assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
    flat = encode(Image.new("RGB", (300, 200), (40, 90, 160)))
    body = admin.post("/v1/banks/known-bad/entries", json={"image": b64(flat)}).json()
    assert [entry["signal_type"] for entry in body["entries"]] == ["sha256"]
    assert body["withheld"] == ["phash", "pdq"]


def test_bad_image_entries_get_a_clear_error(admin):
    from conftest import animation

    assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
    still = b64(encode(synthetic_scene(32)))
    moving = b64(animation("GIF", [synthetic_scene(33, (96, 96)), synthetic_scene(34, (96, 96))], [100, 100]))
    cases = [
        ({"image": still, "entries": [{"signal_type": "pdq", "hash": PDQ}]}, 422, "entries_invalid"),
        ({"entries": [{"signal_type": "pdq", "hash": PDQ}], "label": "x"}, 422, "entries_invalid"),
        ({}, 422, "entries_invalid"),
        ({"image": moving}, 422, "image_animated"),
        ({"image": "not base64!"}, 400, "invalid_base64"),
        ({"image": ""}, 400, "image_empty"),
    ]
    for body, status, code in cases:
        response = admin.post("/v1/banks/known-bad/entries", json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    missing = admin.post("/v1/banks/no-such-bank/entries", json={"image": still})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "bank_not_found")
    assert admin.get("/v1/banks/known-bad").json()["entries"] == 0


def test_image_entries_read_images_as_moderation_does(admin):
    """The body limit, base64 wrapped at 76 columns and a data: URL, and labels, as for /v1/moderations."""
    import numpy as np
    from PIL import Image

    assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
    noise = np.random.default_rng(5).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    large = encode(Image.fromarray(noise), "PNG")
    assert len(large) > 2 << 20  # over the small-body limit of the other bank routes
    added = admin.post("/v1/banks/known-bad/entries", json={"image": b64(large)})
    assert added.status_code == 201, added.json()
    wrapped = base64.encodebytes(encode(synthetic_scene(35))).decode()  # 76 columns, as `base64` writes it
    assert admin.post("/v1/banks/known-bad/entries", json={"image": wrapped}).status_code == 201
    assert admin.post("/v1/banks/known-bad/entries", json={
        "image": "DATA:IMAGE/PNG;BASE64," + b64(encode(synthetic_scene(37)))}).status_code == 201
    data_url = "data:image/png;base64," + b64(encode(synthetic_scene(36)))
    body = admin.post("/v1/banks/known-bad/entries", json={"image": data_url, "label": ""}).json()
    assert {entry["label"] for entry in body["entries"]} == {None}  # "" is no label, as for hashes
    too_long = admin.post("/v1/banks/known-bad/entries", json={"image": data_url, "label": "x" * 300})
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "label_too_long")
    hash_too_long = admin.post("/v1/banks/known-bad/entries",
                               json={"entries": [{"signal_type": "pdq", "hash": PDQ, "label": "x" * 300}]})
    assert (hash_too_long.status_code, hash_too_long.json()["error"]["code"]) == (422, "label_too_long")


def test_a_label_with_a_nul_character_is_refused_in_an_import(admin):
    """PostgreSQL cannot store U+0000 (it was a 500 there); an import is not JSON, so its labels are checked."""
    assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
    body = f"signal_type,hash,label\npdq,{PDQ},fine\nphash,{PHASH},bad\x00label\n".encode()
    response = admin.post("/v1/banks/known-bad/import", content=body, headers={"content-type": "text/csv"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "import_invalid")
    errors = response.json()["error"]["details"]["errors"]
    assert [(error["line"], error["code"]) for error in errors] == [(3, "label_invalid")]
    assert admin.get("/v1/banks/known-bad").json()["entries"] == 0
