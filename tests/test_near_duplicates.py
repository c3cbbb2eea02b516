"""Earlier items on the banks' multi-index: exact search, one hash at a time, beside bank entries."""
import uuid
from datetime import datetime, timezone

import numpy as np
import pytest

from moderation_service.banks.matcher import BankMatcher
from moderation_service.banks.store import BankStore, NewEntry
from moderation_service.banks.sync import BankSync
from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
from moderation_service.db.tables import ItemHash, ModerationItem, ReviewQueueEntry
from moderation_service.near_duplicates import EarlierItems, item_hash_rows
from moderation_service.repository import ModerationRepository


@pytest.fixture
def sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_to_head(url)
    return make_session_factory(make_engine(url))


def store_item(sessions, phash=None, pdq=None, decision="allow", reasons=(), review=None) -> tuple[str, list]:
    item_id, now = str(uuid.uuid4()), datetime.now(timezone.utc)
    signals = {}
    if phash:
        signals["image_hash"] = {"phash": phash, "dhash": phash, "near_duplicates": []}
    if pdq:
        signals["pdq"] = {"hash": pdq, "quality": 100}
    item = ModerationItem(id=item_id, surface="default", created_at=now, decision=decision, policy_name="p",
                          policy_sha256="0" * 64, phash=phash, signals=signals, reasons=list(reasons),
                          model_versions={}, timings_ms={}, request_metadata={})
    rows = item_hash_rows(item_id, now, signals)
    ModerationRepository(sessions).save(item, review(item_id, now) if review else None, rows)
    return item_id, rows


def test_search_finds_exactly_what_brute_force_finds_and_ignores_bank_entries(sessions):
    rng = np.random.default_rng(7)
    values = [int(h) for h in rng.integers(0, 2**63, size=300, dtype=np.int64)]
    matcher = BankMatcher(BankStore(sessions).entry_details)
    earlier = EarlierItems(matcher, sessions)
    ids = []
    for value in values:
        item_id, rows = store_item(sessions, phash=f"{value:016x}")
        earlier.add(rows)
        ids.append(item_id)
    # A bank entry with the same hash as item 0 shares the index but is never an earlier item.
    store = BankStore(sessions)
    store.create_bank("known", "block")
    store.add_entries("known", [NewEntry("phash", f"{values[0]:016x}")], "test")
    BankSync(store, matcher).sync_once()
    for value in values[:20]:
        query = value ^ (1 << int(rng.integers(0, 64))) ^ (1 << int(rng.integers(0, 64)))
        expected = sorted((bin(query ^ other).count("1"), number) for number, other in enumerate(values)
                          if bin(query ^ other).count("1") <= 12)
        found = earlier.search("phash", f"{query:016x}", limit=10_000, radius=12)
        assert sorted((m.distance, ids.index(m.item_id)) for m in found) == expected
        assert [m.distance for m in found] == sorted(m.distance for m in found)


def test_one_structure_one_sync_a_second_process_sees_items_and_pdq(sessions):
    first, _ = store_item(sessions, phash="0000000000000000", pdq="0" * 64, decision="block")
    matcher = BankMatcher(BankStore(sessions).entry_details)
    sync = BankSync(BankStore(sessions), matcher)
    sync.load_all()  # start-up: the item is loaded in the same bulk build as bank entries
    later, _ = store_item(sessions, phash="00000000000000ff", pdq="f" + "0" * 63)
    sync.sync_once()  # another process's item arrives with the bank sync
    sync.sync_once()  # and a second round adds nothing twice
    earlier = EarlierItems(matcher, sessions)
    found = earlier.search("phash", "0000000000000001", limit=5, radius=8)
    assert [(m.item_id, m.distance) for m in found] == [(first, 1), (later, 7)]
    assert [m.item_id for m in earlier.search("pdq", "1" + "0" * 63, limit=5)] == [first, later]
    assert matcher.stats()["phash"]["entries"] == 2 and matcher.stats()["pdq"]["entries"] == 2
    # The built-in bank's own threshold applies when none is given.
    matcher.set_earlier_items_thresholds({"phash": 2, "pdq": 31})
    assert [m.item_id for m in earlier.search("phash", "0000000000000001", limit=5)] == [first]


def test_each_item_once_nearest_first_within_limit_with_the_decision_in_force(sessions):
    rejected = lambda item_id, now: ReviewQueueEntry(  # noqa: E731
        item_id=item_id, queue="nsfw", priority=0, status="decided", enqueued_at=now, verdict="reject",
        final_decision="block", decided_by="alice", decided_at=now)
    image_review = [{"rule_id": "nsfw-borderline", "action": "review", "values": {"nsfw.probability": 0.5},
                     "modalities": ["image"]}]
    far, _ = store_item(sessions, phash="00000000000000ff", pdq="0" * 64)
    near, _ = store_item(sessions, phash="0000000000000001", decision="review", reasons=image_review, review=rejected)
    same, _ = store_item(sessions, phash="0000000000000000")
    matcher = BankMatcher(BankStore(sessions).entry_details)
    BankSync(BankStore(sessions), matcher).load_all()
    earlier = EarlierItems(matcher, sessions)
    found = earlier.search("phash", "0000000000000000", limit=2, radius=8)
    assert [(m.item_id, m.distance, m.decision, m.image_decision) for m in found] == [
        (same, 0, "allow", "allow"), (near, 1, "block", "block")]
    assert earlier.search("phash", "ffffffffffffffff", limit=5, radius=3) == []
    assert [m.item_id for m in earlier.search("phash", "0000000000000000", limit=5, radius=8, exclude=same)] == [near, far]
    # Ties go to the oldest: later identical copies never push the original out of the limit.
    copies = [store_item(sessions, phash="0000000000000000")[0] for _ in range(3)]
    BankSync(BankStore(sessions), matcher).sync_once()
    assert [m.item_id for m in earlier.search("phash", "0000000000000000", limit=2, radius=0)] == [same, copies[0]]


def test_hash_rows_follow_the_signals():
    now = datetime.now(timezone.utc)
    assert item_hash_rows("a", now, {}) == []
    rows = item_hash_rows("a", now, {"image_hash": {"phash": "00ff"}, "pdq": {"quality": 10}})
    assert [(r.signal_type, r.hash) for r in rows] == [("phash", "00ff")]  # an untrusted PDQ has no hash
    assert isinstance(rows[0], ItemHash)


def test_the_built_in_bank_name_is_reserved(sessions):
    from moderation_service.errors import ApiError

    with pytest.raises(ApiError) as refused:
        BankStore(sessions).create_bank("earlier-items", "block")
    assert refused.value.code == "bank_name_invalid"
