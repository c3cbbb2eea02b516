"""A block travels with its cause: near-duplicates inherit only what the image caused.

Real classifiers and the real default policy, plus one test rule each where a
block must be certain (a keyword rule for the caption, an exact-hash rule for
the image), so the tests do not hang on a model's score for one sentence.
"""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from conftest import PROJECT_ROOT, animation, encode, synthetic_scene, with_key
from moderation_service.api.app import create_app
from moderation_service.banks.feedback import REVIEWER_REJECTED_BANK
from moderation_service.decision_cause import annotate, image_decision, reject_covers_image
from moderation_service.settings import Settings
from review_support import login

DEFAULT = (PROJECT_ROOT / "policies" / "default.yaml").read_text()
HATEFUL = "those immigrants are vermin and should be exterminated"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def app_with(tmp_path, real_classifiers, extra_rules: str) -> TestClient:
    policy = tmp_path / "policy.yaml"
    policy.write_text(DEFAULT + extra_rules)
    settings = Settings(data_dir=tmp_path / "data", policy_path=policy, policy_watch_interval_s=0,
                        rate_limit_per_minute=0)
    return TestClient(create_app(settings, real_classifiers))


CAPTION_RULE = """
  - id: test-caption-block
    description: a caption the test wants blocked for certain
    when: prompt.text contains_any [vermin, exterminated]
    then: block
"""


def copy_of(scene) -> bytes:
    return encode(scene.resize((320, 320)), "JPEG", quality=70)


def test_a_caption_blocked_item_does_not_block_a_benign_reuse_of_its_image(tmp_path, real_classifiers):
    scene = synthetic_scene(61)
    with app_with(tmp_path, real_classifiers, CAPTION_RULE) as client:
        with_key(client)
        first = client.post("/v1/moderations", json={"prompt": HATEFUL, "image": b64(encode(scene))}).json()
        assert first["decision"] == "block"
        caption_rule = next(r for r in first["reasons"] if r["rule_id"] == "test-caption-block")
        assert caption_rule["signals"] == ["prompt"] and caption_rule["modalities"] == ["text"]
        # The cause is stored with the decision, not only returned.
        stored = client.get(f"/v1/moderations/{first['id']}").json()
        assert {r["rule_id"]: r["modalities"] for r in stored["reasons"]}["test-caption-block"] == ["text"]

        second = client.post("/v1/moderations", json={"prompt": "a sunny afternoon", "image": b64(copy_of(scene))}).json()
        # And the same copy again: the allowed copy must not have become a blocker either.
        third = client.post("/v1/moderations", json={"prompt": "sunset", "image": b64(copy_of(scene))}).json()
    duplicates = {d["item_id"]: d for d in second["signals"]["image_hash"]["near_duplicates"]}
    assert duplicates[first["id"]]["decision"] == "block"
    assert duplicates[first["id"]]["image_decision"] == "allow"
    assert second["decision"] == "allow", second["reasons"]
    assert third["decision"] == "allow", third["reasons"]


def test_an_image_caused_block_is_inherited_by_near_duplicates(tmp_path, real_classifiers):
    scene = synthetic_scene(62)
    phash = real_classifiers["image_hash"].classify(_decoded(encode(scene))).phash
    copy_hash = real_classifiers["image_hash"].classify(_decoded(copy_of(scene))).phash
    assert copy_hash != phash  # so only inheritance can block the copy
    image_rule = f"""
  - id: test-image-block
    description: this exact image hash is blocked
    when: image_hash.phash == "{phash}"
    then: block
"""
    with app_with(tmp_path, real_classifiers, image_rule) as client:
        with_key(client)
        first = client.post("/v1/moderations", json={"prompt": "a quiet lake", "image": b64(encode(scene))}).json()
        assert first["decision"] == "block"
        second = client.post("/v1/moderations", json={"prompt": "a quiet lake", "image": b64(copy_of(scene))}).json()
    duplicate = second["signals"]["image_hash"]["near_duplicates"][0]
    assert duplicate["item_id"] == first["id"] and duplicate["image_decision"] == "block"
    assert second["decision"] == "block"
    assert "near-duplicate-of-blocked" in {r["rule_id"] for r in second["reasons"]}
    assert "test-image-block" not in {r["rule_id"] for r in second["reasons"]}


def test_a_reviewer_reject_of_a_caption_neither_banks_nor_spreads_to_the_image(tmp_path, real_classifiers):
    review_rule = """
  - id: test-caption-review
    description: the test sends this caption to the text queue
    when: prompt.text contains_any [vermin]
    then: {action: review, queue: text, priority: 1}
"""
    scene = synthetic_scene(63)
    with app_with(tmp_path, real_classifiers, review_rule) as client:
        with_key(client)
        first = client.post("/v1/moderations", json={"prompt": "we found vermin in the old barn", "image": b64(encode(scene))}).json()
        assert first["decision"] == "review" and first["review"]["queue"] == "text"
        reviewer = login(client, "carol")
        assert client.post("/v1/review/claim", json={"queue": "text"}, headers=reviewer).json()["item"]["id"] == first["id"]
        verdict = client.post(f"/v1/review/{first['id']}/verdict", headers=reviewer,
                              json={"verdict": "reject", "reason_code": "hate", "key": "k1"})
        assert verdict.status_code == 200, verdict.text
        second = client.post("/v1/moderations", json={"prompt": "a calm morning", "image": b64(copy_of(scene))}).json()
        banks = client.app.state.banks.store.list_banks()
    duplicate = second["signals"]["image_hash"]["near_duplicates"][0]
    assert duplicate["item_id"] == first["id"]
    assert (duplicate["decision"], duplicate["image_decision"]) == ("block", "allow")
    assert second["decision"] == "allow", second["reasons"]
    assert all(bank["entries"] == 0 for bank in banks if bank["name"] == REVIEWER_REJECTED_BANK)


def test_only_the_frame_that_caused_a_block_passes_it_on(tmp_path, real_classifiers):
    """An animation blocked for one banked frame: a later still of one of its benign frames is
    allowed (it had been blocked, and each such block blocked the next reuse, item after item),
    while a copy of the banked frame is blocked through the animation even once the entry is gone."""
    title, banked = synthetic_scene(64, (256, 256)), synthetic_scene(65, (256, 256))
    middle = [synthetic_scene(66 + index, (256, 256)) for index in range(6)]
    with app_with(tmp_path, real_classifiers, "") as client:
        with_key(client, scopes=("moderate", "admin"))  # an upstream service that also keeps its banks
        assert client.post("/v1/banks", json={"name": "known-bad", "purpose": "block"}).status_code == 201
        hashes = client.post("/v1/banks/lookup", json={"image": b64(encode(banked))}).json()["hashes"]
        entries = [{"signal_type": "phash", "hash": hashes["phash"][0]}, {"signal_type": "pdq", "hash": hashes["pdq"][0]}]
        added = client.post("/v1/banks/known-bad/entries", json={"entries": entries})
        assert added.status_code == 201, added.text
        frames = animation("GIF", [title, *middle, banked], [100] * 8)
        blocked = client.post("/v1/moderations", json={"image": b64(frames)}).json()
        assert blocked["decision"] == "block"
        assert {m["frame"] for m in blocked["signals"]["banks"]["matches"]} == {7}

        still = client.post("/v1/moderations", json={"prompt": "our logo", "image": b64(copy_of(title))}).json()
        found = {d["item_id"]: d for d in still["signals"]["image_hash"]["near_duplicates"]}
        assert found[blocked["id"]]["image_decision"] == "allow"  # matched through a benign frame
        assert still["decision"] == "allow", still["reasons"]
        # The still was allowed, so a reuse of its picture has nothing to inherit: no chain.
        again = client.post("/v1/moderations", json={"image": b64(encode(title.resize((200, 200)), "PNG"))}).json()
        assert again["decision"] == "allow", again["reasons"]

        for entry in client.get("/v1/banks/known-bad/entries").json()["entries"]:
            client.delete(f"/v1/banks/known-bad/entries/{entry['id']}")
        copy = client.post("/v1/moderations", json={"prompt": "a calm morning", "image": b64(copy_of(banked))}).json()
    assert "banks" not in copy["signals"] or not copy["signals"]["banks"]["matches"]
    inherited = {d["item_id"]: d for d in copy["signals"]["image_hash"]["near_duplicates"]}[blocked["id"]]
    assert inherited["image_decision"] == "block"
    assert copy["decision"] == "block" and "near-duplicate-of-blocked" in {r["rule_id"] for r in copy["reasons"]}


def _decoded(data: bytes):
    from moderation_service.images import decode_image
    from moderation_service.settings import Settings as S

    return decode_image(data, S().image_limits)


# The rules on their own, with inputs of other shapes.

MODALITIES = {"toxicity": "text", "pii": "text", "nsfw": "image", "image_hash": "image", "pdq": "image",
              "self_harm_indicators": "text", "minor_indicators": "text"}


def reason(rule_id, action, **values):
    return {"rule_id": rule_id, "description": "", "action": action, "values": values}


@pytest.mark.parametrize("values, expected", [
    ({"toxicity.scores.hate": 0.9, "thresholds.hate_block": 0.85}, ["text"]),
    ({"nsfw.probability": 0.9}, ["image"]),
    ({"nsfw.probability": 0.5, "prompt.text": "x"}, ["image", "text"]),
    ({"nsfw.error": "Timeout"}, ["image"]),  # a failed image classifier
    ({"thresholds.x": 1}, []),
    # A count of a signal's list: a self-harm phrase is the caption's (a reject of it had banked the image).
    ({"count(self_harm_indicators.indicators)": 1}, ["text"]),
    ({"count(minor_indicators.indicators)": 1, "nsfw.probability": 0.5}, ["image", "text"]),
])
def test_annotate_names_the_signals_and_modalities_each_rule_read(values, expected):
    [annotated] = annotate([reason("r", "block", **values)], {}, MODALITIES)
    assert annotated["modalities"] == expected
    assert "thresholds" not in annotated["signals"]


def test_a_bank_match_is_text_or_image_by_its_signal_type():
    facts = {"banks": {"matches": [{"purpose": "block", "signal_type": "text_sha256"},
                                   {"purpose": "allow", "signal_type": "pdq"}]}}
    [annotated] = annotate([reason("hash-bank-block", "block", **{"banks.matches.purpose": "block"})], facts, MODALITIES)
    assert annotated["modalities"] == ["text"]
    facts["banks"]["matches"][1]["purpose"] = "block"
    [annotated] = annotate([reason("hash-bank-block", "block", **{"banks.matches.purpose": "block"})], facts, MODALITIES)
    assert annotated["modalities"] == ["image", "text"]


def test_image_decision_follows_the_image_only_rules_and_the_reviewer():
    text_block = annotate([reason("hate", "block", **{"toxicity.scores.hate": 0.9})], {}, MODALITIES)
    both = annotate([reason("combo", "block", **{"toxicity.scores.hate": 0.9, "nsfw.probability": 0.5})], {}, MODALITIES)
    image_review = annotate([reason("nsfw-borderline", "review", **{"nsfw.probability": 0.5})], {}, MODALITIES)
    assert image_decision(text_block) == "allow"
    assert image_decision(both) == "allow"  # the image alone did not block it
    assert image_decision(text_block + image_review) == "review"
    assert image_decision(image_review, verdict="reject", final_decision="block") == "block"
    assert image_decision(text_block, verdict="reject", final_decision="block") == "allow"
    assert image_decision(image_review, verdict="approve", final_decision="allow") == "allow"
    assert image_decision([], verdict="reject", final_decision="block") == "block"  # a report: the whole item
    assert image_decision(text_block, final_decision="block", decided_by="retro-hunt") == "block"
    assert not reject_covers_image(text_block) and reject_covers_image(both)
    # A record stored before causes were kept: worked out from its values.
    legacy = [reason("nsfw-explicit", "block", **{"nsfw.probability": 0.95})]
    assert image_decision(legacy) == "block"
    # A block inherited from an earlier item is not passed on again: a chain of near-duplicates,
    # each near the last, had carried it to pictures far from the one that caused it.
    inherited = annotate([reason("near-duplicate-of-blocked", "block",
                                 **{"image_hash.near_duplicates.image_decision": "block"})], {}, MODALITIES)
    assert inherited[0]["modalities"] == ["image"] and image_decision(inherited) == "allow"
    assert image_decision(inherited, verdict="reject", final_decision="block") == "block"  # unless a person says so


def test_a_rejected_animation_banks_the_frame_that_caused_it_not_its_benign_ones():
    from types import SimpleNamespace

    from moderation_service.banks.feedback import item_hashes

    views = [{"frame": frame, "background": None, "phash": f"{frame:x}" * 16} for frame in (0, 4, 7)]
    pdq_views = [{"frame": frame, "background": None, "hash": f"{frame:x}" * 64, "quality": 90} for frame in (0, 4, 7)]
    signals = {"image_hash": {"phash": views[0]["phash"], "views": views},
               "pdq": {"hash": pdq_views[0]["hash"], "views": pdq_views},
               "banks": {"matches": [{"bank": "b", "purpose": "block", "signal_type": "pdq", "distance": 9,
                                      "entry_id": 1, "hash": "x", "frame": 7, "background": None}]}}
    flagged = [{**reason("hash-bank-block", "block", **{"banks.matches.purpose": "block"}), "modalities": ["image"]}]

    def banked(reasons, frames_of=signals):
        item = SimpleNamespace(id="i", signals=frames_of, reasons=reasons, phash=views[0]["phash"], image_sha256="ab" * 32)
        return {(entry.signal_type, entry.hash) for entry in item_hashes(item)}

    assert banked(flagged) == {("phash", "7" * 16), ("pdq", "7" * 64), ("sha256", "ab" * 32)}
    # No image rule flagged any frame (a person rejected the whole item): its exact bytes only.
    assert banked([]) == {("sha256", "ab" * 32)}
    # A still picture: its own hashes, as before.
    still = {"image_hash": {"phash": "7" * 16}, "pdq": {"hash": "7" * 64, "quality": 90}}
    assert banked([], still) == {("phash", "7" * 16), ("pdq", "7" * 64), ("sha256", "ab" * 32)}
