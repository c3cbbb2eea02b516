"""Retroactive takedown: a hash that joins a block bank takes down the published items it matches."""
from __future__ import annotations

import base64
import http.server
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.banks.runtime import open_banks
from moderation_service.banks.store import NewEntry
from moderation_service.image_store import ImageStore
from moderation_service.review.export import export_dataset
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
from moderation_service.db.tables import (HashBankEntry, ModerationItem, ReviewAuditEntry, ReviewQueueEntry,
                                          WebhookDelivery)
from moderation_service.near_duplicates import EarlierItems, item_hash_rows
from moderation_service.repository import ModerationRepository
from moderation_service.retro_hunt import EVENT, RetroHunter
from moderation_service.review import webhooks
from moderation_service.settings import Settings


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_to_head(url)
    return make_session_factory(make_engine(url))


def store_item(sessions, phash, decision="allow", client="acme", verdict=None, final=None, sha=None) -> str:
    item_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    signals = {"image_hash": {"phash": phash, "dhash": phash, "near_duplicates": []}}
    item = ModerationItem(id=item_id, surface="default", created_at=now, decision=decision, policy_name="p",
                          policy_sha256="0" * 64, phash=phash, signals=signals, reasons=[], model_versions={},
                          timings_ms={}, request_metadata={}, client=client, image_sha256=sha)
    review = None
    if final is not None:
        review = ReviewQueueEntry(item_id=item_id, queue="nsfw", priority=0, status="decided", enqueued_at=now,
                                  verdict=verdict, final_decision=final, decided_by="alice", decided_at=now)
    ModerationRepository(sessions).save(item, review, item_hash_rows(item_id, now, signals))
    return item_id


def hunter_for(sessions, **options) -> RetroHunter:
    banks = open_banks(sessions)
    return RetroHunter(sessions, banks, settle_s=options.pop("settle_s", 0.0), gap_timeout_s=0.0, **options)


def in_force(sessions, item_id) -> str:
    with sessions() as session:
        item = session.get(ModerationItem, item_id)
        review = session.scalar(select(ReviewQueueEntry).where(ReviewQueueEntry.item_id == item_id))
        return (review.final_decision if review else None) or item.decision


def retro_rows(sessions, model, **where):
    with sessions() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(session.scalars(query))


def test_published_matches_are_taken_down_once_each_with_audit_and_webhook(sessions, tmp_path):
    webhooks.register_endpoint(sessions, "acme", "http://127.0.0.1:9/hook")
    hunter = hunter_for(sessions)
    allowed = store_item(sessions, "00000000000000ff")
    redacted = store_item(sessions, "00000000000000fe", decision="redact")
    approved = store_item(sessions, "00000000000000fc", decision="review", verdict="approve", final="allow")
    blocked = store_item(sessions, "00000000000000f0", decision="block")
    pending = store_item(sessions, "00000000000000f1", decision="review")
    far = store_item(sessions, "ffffffffffffff00")
    hunter.banks.store.create_bank("known-bad", "block", thresholds={"phash": 8})
    [entry] = hunter.banks.store.add_entries("known-bad", [NewEntry("phash", "00000000000000ff", "case-1")], "api")

    report = hunter.run_once()
    assert sorted(item for item, _ in report.taken_down) == sorted([allowed, redacted, approved])
    for item_id in (allowed, redacted, approved):
        assert in_force(sessions, item_id) == "block"
    assert (in_force(sessions, blocked), in_force(sessions, pending), in_force(sessions, far)) == ("block", "review", "allow")
    with sessions() as session:  # the policy's own decision is kept
        assert session.get(ModerationItem, redacted).decision == "redact"
    audits = retro_rows(sessions, ReviewAuditEntry, action="retroactive")
    assert sorted(a.item_id for a in audits) == sorted([allowed, redacted, approved])
    assert {(a.details["bank"], a.details["entry_id"], a.actor) for a in audits} == {("known-bad", entry["id"], "retro-hunt")}
    assert {a.details["previous_decision"] for a in audits} == {"allow", "redact"}
    deliveries = retro_rows(sessions, WebhookDelivery, event=EVENT)
    assert sorted(d.item_id for d in deliveries) == sorted([allowed, redacted, approved])
    body = json.loads(deliveries[0].body)
    assert body["bank"] == "known-bad" and body["entry_id"] == entry["id"] and body["final_decision"] == "block"

    # A takedown is a bank's decision, not a reviewer's label: the training export leaves it out.
    assert export_dataset(sessions, ImageStore(tmp_path / "images"), tmp_path / "export")["count"] == 0

    # A second entry matching the same items, and a replayed round: nothing is taken down twice.
    hunter.banks.store.add_entries("known-bad", [NewEntry("phash", "00000000000000fe")], "api")
    assert hunter.run_once().taken_down == []
    assert hunter.run_once().entries == 0
    assert len(retro_rows(sessions, WebhookDelivery, event=EVENT)) == 3
    # The taken-down image now blocks its near-duplicates: it was an image hash that took it down.
    found = EarlierItems(hunter.banks.matcher, sessions).search("phash", "00000000000000ff", limit=1)
    assert (found[0].item_id, found[0].image_decision) == (allowed, "block")


def test_only_block_banks_and_settled_entries_are_hunted_and_old_entries_never(sessions):
    early = open_banks(sessions)
    early.store.create_bank("before", "block")
    early.store.add_entries("before", [NewEntry("phash", "0000000000000000")], "import")
    item = store_item(sessions, "0000000000000000")
    hunter = hunter_for(sessions, settle_s=3600)  # created after "before": its entry is not hunted
    hunter.banks.store.create_bank("watched", "watch")
    hunter.banks.store.create_bank("good", "allow")
    hunter.banks.store.add_entries("watched", [NewEntry("phash", "0000000000000000")], "api")
    hunter.banks.store.add_entries("good", [NewEntry("phash", "0000000000000001")], "api")
    assert hunter.run_once().entries == 0  # not settled yet
    hunter.settle_s = 0
    report = hunter.run_once()
    assert report.entries == 2 and report.taken_down == []
    assert in_force(sessions, item) == "allow"


def test_an_allow_bank_match_protects_an_item_as_the_policy_does(sessions):
    hunter = hunter_for(sessions)
    protected = store_item(sessions, "0000000000000000")
    hunter.banks.store.create_bank("good", "allow", thresholds={"phash": 0})
    hunter.banks.store.add_entries("good", [NewEntry("phash", "0000000000000000")], "api")
    hunter.banks.store.create_bank("bad", "block", thresholds={"phash": 4})
    hunter.banks.store.add_entries("bad", [NewEntry("phash", "0000000000000003")], "api")
    assert hunter.run_once().taken_down == []
    assert in_force(sessions, protected) == "allow"


def test_a_flooding_entry_is_quarantined_instead_of_taking_down_a_flood(sessions):
    hunter = hunter_for(sessions, max_items=3)
    items = [store_item(sessions, "8000000000000000") for _ in range(4)]  # a blank-image hash
    hunter.banks.store.create_bank("bad", "block")
    [entry] = hunter.banks.store.add_entries("bad", [NewEntry("phash", "8000000000000000")], "import")
    report = hunter.run_once()
    assert report.taken_down == [] and report.quarantined == [entry["id"]]
    assert all(in_force(sessions, item) == "allow" for item in items)
    assert retro_rows(sessions, HashBankEntry, id=entry["id"])[0].quarantined_at is not None
    assert hunter.banks.matcher.is_quarantined(entry["id"])


def test_a_released_entry_is_hunted_again_without_the_flood_limit_once(sessions):
    hunter = hunter_for(sessions, max_items=2)
    items = [store_item(sessions, "f0f0f0f00f0f0f0f") for _ in range(3)]
    other = store_item(sessions, "0123456789abcdef")
    hunter.banks.store.create_bank("bad", "block")
    [entry] = hunter.banks.store.add_entries("bad", [NewEntry("phash", "f0f0f0f00f0f0f0f")], "import")
    assert hunter.run_once().quarantined == [entry["id"]]
    assert all(in_force(sessions, item) == "allow" for item in items)

    hunter.banks.store.release(entry["id"])  # an admin vouches that the entry is not generic
    report = hunter.run_once()
    assert report.released == 1 and sorted(report.taken_down) == sorted((item, entry["id"]) for item in items)
    assert all(in_force(sessions, item) == "block" for item in items) and in_force(sessions, other) == "allow"
    audits = retro_rows(sessions, ReviewAuditEntry, action="retroactive")
    assert len(audits) == 3 and {a.details["trigger"] for a in audits} == {"released_from_quarantine"}
    assert hunter.run_once().taken_down == []  # the release is hunted once


def test_an_entry_quarantined_at_match_time_and_released_before_its_hunt_keeps_the_release(sessions):
    hunter = hunter_for(sessions, max_items=1)
    items = [store_item(sessions, "0f0f0f0ff0f0f0f0") for _ in range(2)]
    hunter.banks.store.create_bank("bad", "block")
    [entry] = hunter.banks.store.add_entries("bad", [NewEntry("phash", "0f0f0f0ff0f0f0f0")], "import")
    hunter.banks.store.quarantine(entry["id"], "matched far above its usual rate")
    hunter.banks.store.release(entry["id"])
    report = hunter.run_once()  # the new-entry pass would quarantine it again (2 > 1); the release pass hunts it
    assert report.quarantined == [] and report.released == 1
    assert all(in_force(sessions, item) == "block" for item in items)


def test_a_release_from_an_allow_bank_or_requarantined_takes_nothing_down(sessions):
    hunter = hunter_for(sessions, max_items=1)
    items = [store_item(sessions, "00ff00ff00ff00ff") for _ in range(2)]
    hunter.banks.store.create_bank("bad", "block")
    [entry] = hunter.banks.store.add_entries("bad", [NewEntry("phash", "00ff00ff00ff00ff")], "import")
    hunter.run_once()
    hunter.banks.store.release(entry["id"])
    hunter.banks.store.quarantine(entry["id"], "quarantined again before the hunt")
    assert hunter.run_once().taken_down == []
    assert all(in_force(sessions, item) == "allow" for item in items)


def test_a_crash_mid_round_changes_nothing_and_the_next_round_resumes(sessions, monkeypatch):
    webhooks.register_endpoint(sessions, "acme", "http://127.0.0.1:9/hook")
    hunter = hunter_for(sessions)
    first, second = store_item(sessions, "0000000000000000"), store_item(sessions, "0000000000000001")
    hunter.banks.store.create_bank("bad", "block")
    hunter.banks.store.add_entries("bad", [NewEntry("phash", "0000000000000000")], "api")
    calls = []

    def crash(session, item, event, data):
        calls.append(item.id)
        if len(calls) == 2:
            raise RuntimeError("the process died")
        return original(session, item, event, data)

    import moderation_service.retro_hunt as retro_hunt
    original = retro_hunt.enqueue_event
    monkeypatch.setattr(retro_hunt, "enqueue_event", crash)
    with pytest.raises(RuntimeError):
        hunter.run_once()
    assert in_force(sessions, first) == in_force(sessions, second) == "allow"
    assert retro_rows(sessions, ReviewAuditEntry, action="retroactive") == []
    monkeypatch.setattr(retro_hunt, "enqueue_event", original)
    restarted = hunter_for(sessions)  # a new process: the cursor is in the database
    assert sorted(i for i, _ in restarted.run_once().taken_down) == sorted([first, second])
    assert len(retro_rows(sessions, WebhookDelivery, event=EVENT)) == 2


def test_only_the_frame_a_takedown_matched_passes_it_on_to_near_duplicates(sessions):
    """An allowed animation (no view caused anything, as the service stores it) taken down for its
    last frame: a later copy of that frame inherits the block, a copy of its first frame does not."""
    item_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    views = [{"frame": 0, "background": None, "phash": "0f0f0f0f0f0f0f0f"},
             {"frame": 9, "background": None, "phash": "00000000000000ff"}]
    signals = {"image_hash": {"phash": views[0]["phash"], "views": views, "near_duplicates": []}}
    item = ModerationItem(id=item_id, surface="default", created_at=now, decision="allow", policy_name="p",
                          policy_sha256="0" * 64, phash=views[0]["phash"], signals=signals, reasons=[],
                          model_versions={}, timings_ms={}, request_metadata={}, client="acme")
    rows = item_hash_rows(item_id, now, signals, causes=set())
    assert [row.image_cause for row in rows] == [None, None]
    ModerationRepository(sessions).save(item, None, rows)
    hunter = hunter_for(sessions)
    hunter.banks.store.create_bank("known-bad", "block", thresholds={"phash": 4})
    hunter.banks.store.add_entries("known-bad", [NewEntry("phash", "00000000000000ff")], "api")
    assert [taken for taken, _ in hunter.run_once().taken_down] == [item_id]
    earlier = EarlierItems(hunter.banks.matcher, sessions)
    assert earlier.search("phash", "00000000000000fe", limit=1)[0].image_decision == "block"
    assert earlier.search("phash", "0f0f0f0f0f0f0f0e", limit=1)[0].image_decision == "allow"


def test_an_image_digest_entry_takes_down_exact_copies(sessions):
    hunter = hunter_for(sessions)
    copy = store_item(sessions, "0000000000000000", sha="ab" * 32)
    other = store_item(sessions, "0000000000000000", sha="cd" * 32)
    hunter.banks.store.create_bank("bad", "block")
    hunter.banks.store.add_entries("bad", [NewEntry("sha256", "ab" * 32)], "api")
    assert [i for i, _ in hunter.run_once().taken_down] == [copy]
    assert in_force(sessions, other) == "allow"


def test_the_service_hunts_in_the_background(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_BANKS_RETRO_HUNT_INTERVAL_S", "0.05")
    monkeypatch.setenv("MODERATION_BANKS_RETRO_HUNT_SETTLE_S", "0")
    settings = Settings(data_dir=tmp_path / "data", policy_watch_interval_s=0)
    with TestClient(create_app(settings, {})) as client:
        sessions = client.app.state.storage.session_factory
        item = store_item(sessions, "0000000000000000")
        client.app.state.banks.store.create_bank("bad", "block")
        client.app.state.banks.store.add_entries("bad", [NewEntry("phash", "0000000000000000")], "api")
        deadline = datetime.now(timezone.utc) + timedelta(seconds=30)
        while in_force(sessions, item) != "block":
            assert datetime.now(timezone.utc) < deadline, "the background hunt never ran"
            threading.Event().wait(0.05)
        with_key(client, scopes=("admin",))
        metrics = client.get("/metrics").text
    assert 'moderation_retroactive_blocks_total{bank="bad"} 1.0' in metrics


# On real PostgreSQL, with the real models and two workers.

class Receiver(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.headers[webhooks.SIGNATURE_HEADER], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_on_postgres_a_banked_pdq_takes_down_exactly_its_near_duplicates(postgres_url, tmp_path, real_classifiers,
                                                                        monkeypatch):
    monkeypatch.setenv("MODERATION_BANKS_RETRO_HUNT_INTERVAL_S", "0")  # this test drives the rounds
    monkeypatch.setenv("MODERATION_BANKS_RETRO_HUNT_SETTLE_S", "0")
    # The receiver listens on loopback, which webhooks reach only through this allow-list.
    monkeypatch.setenv("MODERATION_REVIEW_WEBHOOK_ALLOWED_NETWORKS", '["127.0.0.0/8"]')
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.received = []
    settings = Settings(database_url=postgres_url, data_dir=tmp_path / "data", policy_watch_interval_s=0,
                        rate_limit_per_minute=0)
    try:
        with TestClient(create_app(settings, real_classifiers)) as client:
            with_key(client, client_name="acme")
            sessions = client.app.state.storage.session_factory
            secret = webhooks.register_endpoint(sessions, "acme", f"http://127.0.0.1:{server.server_port}/hook")
            target = synthetic_scene(700)
            images = [encode(target), encode(target.resize((300, 300)), "JPEG", quality=70),
                      encode(target.resize((640, 640))), encode(target, "JPEG", quality=50)]
            images += [encode(synthetic_scene(701 + n, (256, 256))) for n in range(50 - len(images))]
            published = []
            for data in images:
                body = client.post("/v1/moderations", json={"prompt": "a landscape",
                                                            "image": base64.b64encode(data).decode()}).json()
                assert body["decision"] == "allow", body["reasons"]
                published.append(body)
            pdq = published[0]["signals"]["pdq"]["hash"]

            def distance(body):
                other = body["signals"]["pdq"].get("hash")
                return (int(pdq, 16) ^ int(other, 16)).bit_count() if other else 256
            expected = {body["id"] for body in published if distance(body) <= 31}
            assert {published[n]["id"] for n in range(4)} <= expected and len(expected) < 10

            # A second worker on the same database, hunting at the same moment.
            # (Its takedowns count in the same metrics here; in production each worker counts its own.)
            other_worker = RetroHunter(sessions, open_banks(sessions), settle_s=0,
                                       on_taken_down=client.app.state.retro_hunt.on_taken_down)
            admin = TestClient(client.app)
            with_key(admin, scopes=("admin",))
            assert admin.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
            added = admin.post("/v1/banks/known-bad/entries", json={"entries": [{"signal_type": "pdq", "hash": pdq}]})
            assert added.status_code == 201
            reports = []
            workers = [threading.Thread(target=lambda h=h: reports.append(h.run_once()))
                       for h in (client.app.state.retro_hunt, other_worker)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            reports.append(client.app.state.retro_hunt.run_once())  # whoever skipped catches up; nothing left
            taken = [item for report in reports for item, _ in report.taken_down]
            assert sorted(taken) == sorted(expected)  # exactly the near-duplicates, once each
            for body in published:
                assert client.get(f"/v1/moderations/{body['id']}").json()["final_decision"] == (
                    "block" if body["id"] in expected else "allow")
            client.app.state.review.webhooks.deliver_due()
            metrics = admin.get("/metrics").text
    finally:
        server.shutdown()
    events = [json.loads(body) for _, body in Receiver.received]
    assert sorted(event["item_id"] for event in events) == sorted(expected)
    assert {event["event"] for event in events} == {EVENT}
    assert all(webhooks.verify_signature(secret, body, signature) for signature, body in Receiver.received)
    assert f'moderation_retroactive_blocks_total{{bank="known-bad"}} {float(len(expected))}' in metrics


def published_picture(sessions, picture) -> tuple[str, dict]:
    """An allowed item with the real PDQ signal of ``picture`` (its hash and seven flips and rotations)."""
    from classifiers.pdq_hash import PdqHashClassifier
    from moderation_service.images import decode_image

    signals = {"pdq": PdqHashClassifier().classify(decode_image(encode(picture))).model_dump(mode="json")}
    assert signals["pdq"]["hash"], "pick a picture whose PDQ hash is trusted"
    item_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    item = ModerationItem(id=item_id, surface="default", created_at=now, decision="allow", policy_name="p",
                          policy_sha256="0" * 64, phash=None, signals=signals, reasons=[], model_versions={},
                          timings_ms={}, request_metadata={}, client="acme")
    ModerationRepository(sessions).save(item, None, item_hash_rows(item_id, now, signals))
    return item_id, signals


def test_a_rejected_picture_takes_down_mirrored_and_rotated_copies_published_before(sessions):
    """Earlier items keep only their plain PDQ hash; a reviewer-rejected picture's entry keeps its
    flips and rotations (``variants``), and the hunt searches them too. Real PDQ hashes."""
    from PIL import ImageOps

    from moderation_service.banks.feedback import item_hashes

    def published(picture) -> tuple[str, dict]:
        return published_picture(sessions, picture)

    original = synthetic_scene(900)
    mirrored, _ = published(ImageOps.mirror(original))
    rotated, _ = published(original.rotate(90))
    unrelated, _ = published(synthetic_scene(901))
    rejected, signals = published(original)
    plain = signals["pdq"]["hash"]
    assert len(signals["pdq"]["dihedral"]) == 7
    hunter = hunter_for(sessions)
    entries = [entry for entry in item_hashes(retro_rows(sessions, ModerationItem, id=rejected)[0])
               if entry.signal_type == "pdq"]
    assert [(entry.hash, len(entry.variants)) for entry in entries] == [(plain, 7)]

    # Without its variants the entry finds only the rejected item itself: the mirrored copies stay up.
    hunter.banks.store.create_bank("plain-only", "block")
    hunter.banks.store.add_entries("plain-only", [NewEntry("pdq", plain)], "api")
    assert [taken for taken, _ in hunter.run_once().taken_down] == [rejected]
    hunter.banks.store.create_bank("reviewer-rejected", "block")
    hunter.banks.store.add_entries("reviewer-rejected", entries, "reviewer")
    assert {taken for taken, _ in hunter.run_once().taken_down} == {mirrored, rotated}
    assert in_force(sessions, unrelated) == "allow"


def mirrored_and_banked_picture(sessions, seed: int) -> tuple[str, dict, RetroHunter]:
    """A picture's mirrored copy published, then the picture itself: (the copy's id, the picture's
    PDQ signal, a hunter that hunts entries added from now on)."""
    from PIL import ImageOps

    original = synthetic_scene(seed)
    mirrored, _ = published_picture(sessions, ImageOps.mirror(original))
    _, signals = published_picture(sessions, original)
    return mirrored, signals["pdq"], hunter_for(sessions)


def test_an_allow_bank_protects_a_mirrored_copy_as_a_lookup_does(sessions):
    mirrored, pdq, hunter = mirrored_and_banked_picture(sessions, 911)
    hunter.banks.store.create_bank("known-good", "allow")
    hunter.banks.store.add_entries("known-good", [NewEntry("pdq", pdq["hash"])], "api")
    hunter.banks.store.create_bank("known-bad", "block")
    hunter.banks.store.add_entries("known-bad", [NewEntry("pdq", pdq["hash"], variants=tuple(pdq["dihedral"]))], "api")
    assert hunter.run_once().taken_down == []
    assert in_force(sessions, mirrored) == "allow"


def test_a_hash_banked_bare_then_from_its_picture_gains_variants_and_is_hunted_again(sessions):
    mirrored, pdq, hunter = mirrored_and_banked_picture(sessions, 920)
    hunter.banks.store.create_bank("known-bad", "block")
    [bare] = hunter.banks.store.add_entries("known-bad", [NewEntry("pdq", pdq["hash"], "from a list")], "import")
    assert bare["variants"] == 0
    assert in_force(sessions, mirrored) == "allow" and hunter.run_once().taken_down != []  # the plain copy only
    [again] = hunter.banks.store.add_entries("known-bad", [NewEntry("pdq", pdq["hash"], "picture",
                                                                    tuple(pdq["dihedral"]))], "api")
    assert (again["id"], again["label"], again["variants"]) == (bare["id"], "from a list", 7)
    assert [item for item, _ in hunter.run_once().taken_down] == [mirrored]
    assert hunter.run_once().taken_down == []  # once


def test_an_entry_removed_before_its_hunt_leaves_no_gap_to_wait_out(sessions):
    """The cursor waits at an id gap (a commit still to come) for gap_timeout_s; a removed entry is not one."""
    item = store_item(sessions, "0000000000000000")
    hunter = RetroHunter(sessions, open_banks(sessions), settle_s=0.0, gap_timeout_s=3600)
    hunter.banks.store.create_bank("bad", "block")
    [mistake] = hunter.banks.store.add_entries("bad", [NewEntry("phash", "ffffffffffffffff")], "api")
    hunter.banks.store.remove_entry("bad", mistake["id"])
    hunter.banks.store.add_entries("bad", [NewEntry("phash", "0000000000000000")], "api")
    assert [taken for taken, _ in hunter.run_once().taken_down] == [item]
