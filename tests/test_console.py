"""The Streamlit console driven by AppTest against a real API served over HTTP."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from conftest import encode, synthetic_scene, with_key
from moderation_service.db.tables import ModerationItem
from moderation_service.review import audit
from review_support import PASSWORD, ServedApp, queued_item, review_app
from review_ui import render

CONSOLE = str(__import__("conftest").PROJECT_ROOT / "review_ui" / "app.py")


@pytest.fixture
def served(tmp_path, monkeypatch):
    app = review_app(tmp_path / "data")
    with ServedApp(app) as server:
        monkeypatch.setenv("MODERATION_API_URL", server.url)
        monkeypatch.delenv("MODERATION_REVIEW_TOKEN", raising=False)
        yield app


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.success, *at.error, *at.info, *at.warning)]
    parts += [h.proto.body for h in at.get("html")]
    return "\n".join(str(p) for p in parts)


def logged_in(served, name: str = "alice", role: str = "reviewer") -> AppTest:
    served.state.review.users.create(name, PASSWORD, role)
    at = AppTest.from_file(CONSOLE, default_timeout=30).run()
    at.text_input(key="username").input(name)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def audit_rows(served, item_id):
    return audit.search(served.state.storage.session_factory, item_ids=[item_id])


def test_login_claim_reveal_and_verdict(served):
    storage = served.state.storage
    item_id = queued_item(storage.repository, image=encode(synthetic_scene(5)), image_store=storage.image_store,
                          client="feed")
    served.state.review.users.create("alice", PASSWORD, "reviewer")
    at = AppTest.from_file(CONSOLE, default_timeout=30).run()
    at.text_input(key="username").input("alice")
    at.text_input(key="password").input("not the password")
    at.button[0].click().run()
    assert "unknown user or wrong password" in texts(at)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception

    press(at, "claim")
    shown = texts(at)
    assert "blurred — hold or tap v to reveal" in shown
    assert "PERSON" in shown and "nsfw-borderline" in shown
    assert storage.repository.review_entry(item_id).claimed_by == "user:alice"
    assert at.query_params["item"] == item_id and at.query_params["queue"] == "default"

    press(at, "reveal_image")
    assert "original — this view was audited" in texts(at)
    press(at, "reason_2")  # "3 nudity"
    at.text_input(key=f"note_{item_id}").input("explicit")
    press(at, "reject")
    assert "reject (nudity) recorded for 1 item(s)" in texts(at)
    entry = storage.repository.review_entry(item_id)
    assert (entry.status, entry.verdict, entry.reason_code, entry.final_decision) == \
        ("decided", "reject", "nudity", "block")
    assert {"claim", "reveal_image", "verdict"} <= {row["action"] for row in audit_rows(served, item_id)}


def test_stats_page_renders_once_verdicts_exist(served):
    """Broken 1: reviewer names like ``user:alice`` were chart field names, read as ``name:type``."""
    first, second = queued_item(served.state.storage.repository, age_s=5), queued_item(served.state.storage.repository)
    at = logged_in(served)
    press(at, "claim")
    press(at, "reason_2")
    press(at, "reject")  # auto-advance claims the second
    press(at, "approve")
    assert served.state.storage.repository.review_entry(second).verdict == "approve"
    at.radio(key="page").set_value("Stats").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decisions"] == "2"
    assert metrics["Reviewers agree (items decided twice)"] == "none decided twice"
    assert metrics["Reviewers agree with the policy"] == "all sent to review"
    assert "n/a" not in metrics.values()
    [table] = [d.value for d in at.dataframe if "reviewer" in d.value.columns]
    assert table.set_index("reviewer").loc["user:alice", "decisions"] == 2
    at.radio(key="page").set_value("History").run()
    assert not at.exception, at.exception
    history = at.dataframe[0].value
    assert "renew" not in set(history["action"]) and {"verdict", "claim"} <= set(history["action"])
    assert first in " ".join(history["item"])


def test_a_reject_needs_a_reason_that_fits_and_labels_are_whole(served):
    """Broken 6: the reason defaulted to policy_ok, also for a reject."""
    item_id = queued_item(served.state.storage.repository)
    at = logged_in(served)
    press(at, "claim")
    assert [at.button(key=f"reason_{i}").label for i in range(2)] == ["1 policy_ok", "2 false_positive"]
    press(at, "reject")
    assert "A reject needs a reason" in texts(at)
    assert served.state.storage.repository.review_entry(item_id).status == "claimed"
    press(at, "reason_0")  # policy_ok: says the content is fine
    press(at, "reject")
    assert "A reject needs a reason" in texts(at)
    press(at, "reason_7")  # spam
    press(at, "approve")
    assert "names a violation" in texts(at)
    press(at, "reject")
    assert served.state.storage.repository.review_entry(item_id).reason_code == "spam"


def test_appeal_view_shows_the_reason_and_earlier_verdict_with_outcome_labels(served):
    """Broken 4: seniors decided appeals without the appeal reason or the earlier verdict."""
    item_id = queued_item(served.state.storage.repository, client="feed")
    at = logged_in(served)
    press(at, "claim")
    press(at, "reason_6")  # self_harm
    at.text_input(key=f"note_{item_id}").input("shows a blade")
    press(at, "reject")
    upstream = with_key(TestClient(served), client_name="feed")
    assert upstream.post(f"/v1/moderations/{item_id}/appeal",
                         json={"reason": "It is a *cooking* video [link](http://x.test)"}).status_code == 201
    senior = logged_in(served, "sam", "senior")
    senior.selectbox(key="queue").set_value("appeals").run()
    press(senior, "claim")
    shown = texts(senior)
    assert "It is a *cooking* video [link](http://x.test)" in shown  # as typed, not Markdown
    assert "user:alice" in shown and "self_harm" in shown and "shows a blade" in shown
    assert senior.button(key="reject").label == "Uphold: keep blocked (r)"
    assert senior.button(key="approve").label == "Overturn: allow (a)"
    press(senior, "reason_1")  # false_positive
    press(senior, "approve")
    assert "appeal overturned" in texts(senior)


def test_no_reveal_claim_without_a_stored_prompt_and_matched_words_shown(served):
    """Broken 5: 'Reveal prompt' claimed an audited reveal when no raw prompt was stored."""
    storage = served.state.storage
    item_id = queued_item(storage.repository, prompt="draw <PERSON> with a machete")
    with storage.session_factory.begin() as session:
        item = session.get(ModerationItem, item_id)
        item.reasons = [{"rule_id": "weapons-words", "description": "weapon words", "action": "review",
                         "values": {"prompt.text": "machete"}}]
    at = logged_in(served)
    press(at, "claim")
    assert not [b for b in at.button if b.key == "reveal_prompt"]
    shown = texts(at)
    assert "No original is stored for this item, so there is nothing to reveal." in shown
    assert "Rule matched" in shown and "machete" in shown
    assert "reveal_prompt" not in {row["action"] for row in audit_rows(served, item_id)}


def test_skipping_through_only_skipped_items_offers_each_in_turn(served):
    """Broken 8: once all were skipped, s then n returned the same item again and again."""
    first = queued_item(served.state.storage.repository, age_s=10)
    second = queued_item(served.state.storage.repository)
    at = logged_in(served)
    at.toggle(key="auto_advance").set_value(False).run()
    seen = []
    for _ in range(4):
        press(at, "claim")
        seen.append(at.query_params["item"])
        press(at, "skip")
    assert seen == [first, second, first, second]
    press(at, "claim")
    assert "Every item left in 'default' is one you skipped" in texts(at)


def test_claim_refreshes_the_counts_and_a_reclaim_gets_a_fresh_lease(served):
    """Broken 10: the queue counts were read before the claim, and the countdown kept an old lease."""
    settings = served.state.review.settings
    settings.lease_s = 600
    queued_item(served.state.storage.repository)
    at = logged_in(served)
    at.toggle(key="auto_advance").set_value(False).run()
    press(at, "claim")
    assert "**0** waiting · **1** claimed" in texts(at)
    press(at, "skip")
    assert "**1** waiting · **0** claimed" in texts(at)
    settings.lease_s = 1200
    at.session_state["config"] = {**at.session_state["config"], "lease_s": 1200}
    press(at, "claim")
    [lease] = [p for p in at.get("progress") if "Lease" in p.proto.text]
    minutes = int(lease.proto.text.split("Lease: ")[1].split(":")[0])
    assert minutes >= 19, lease.proto.text


def test_item_link_opens_read_only_until_claimed(served):
    item_id = queued_item(served.state.storage.repository, age_s=10)
    queued_item(served.state.storage.repository)
    served.state.review.users.create("alice", PASSWORD, "reviewer")
    at = AppTest.from_file(CONSOLE, default_timeout=30)
    at.query_params["item"] = item_id
    at.run()
    at.text_input(key="username").input("alice")
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert "Shared link · status **pending**" in texts(at)
    assert not [b for b in at.button if b.key == "approve"]
    press(at, "claim_item")
    assert served.state.storage.repository.review_entry(item_id).claimed_by == "user:alice"
    assert at.button(key="approve")


def test_group_member_taken_out_is_not_decided_and_bank_opt_out_is_sent(served):
    storage = served.state.storage
    phash = "8f373714acfcf4d0"
    main = queued_item(storage.repository, phash=phash, age_s=10, image=encode(synthetic_scene(1)),
                       image_store=storage.image_store)
    kept = queued_item(storage.repository, phash=phash[:-1] + "1", age_s=5)
    out = queued_item(storage.repository, phash=phash[:-1] + "3", age_s=4)
    at = logged_in(served)
    press(at, "claim")
    assert "Near-duplicate group: 2 more" in texts(at)
    press(at, f"ungroup_{out}")
    assert "taken out of the group" in texts(at)
    at.checkbox(key=f"bank_{main}").uncheck().run()
    press(at, "reason_7")
    press(at, "reject")
    assert "recorded for 2 item(s)" in texts(at) and "not banked" in texts(at)
    assert storage.repository.review_entry(kept).verdict == "reject"
    assert storage.repository.review_entry(out).verdict is None  # back in the queue, undecided
    verdict_row = next(r for r in audit_rows(served, main) if r["action"] == "verdict")
    assert verdict_row["details"]["bank"] is False
    assert any(r["action"] == "ungroup" for r in audit_rows(served, out))


def test_legal_report_action_only_for_reportable_items(served):
    storage = served.state.storage
    item_id = queued_item(storage.repository)
    at = logged_in(served)
    press(at, "claim")
    assert not [b for b in at.button if b.key == "legal_report"]
    press(at, "release")
    with storage.session_factory.begin() as session:
        item = session.get(ModerationItem, item_id)
        item.reasons = [{**item.reasons[0], "reportable": True}]
    press(at, "claim")
    press(at, "legal_report")
    assert "Escalated for a legal report" in texts(at)
    assert any(r["action"] == "legal_report" for r in audit_rows(served, item_id))


def test_prompt_renders_as_escaped_plain_text_with_visible_controls():
    """Broken 3 (the part that needs no browser): no Markdown, no tags, invisible characters shown."""
    shown = render.prompt_html("[](hidden words) ![x](http://host/p.png) <img src=x> <PERSON>\tend\u200b  ",
                               ["hidden"])
    assert "[](" in shown and "![x](http://host/p.png)" in shown
    assert "<img" not in shown and "&lt;img src=x&gt;" in shown
    assert ">PERSON</span>" in shown and "U+200B" in shown and "→" in shown and "··" in shown
    assert 'title="matched by a rule">hidden</span>' in shown
    assert "·" not in render.prompt_html("a <PERSON> b")  # a space before a placeholder is not trailing
    assert "··" in render.prompt_html("line  \nnext")  # spaces before a line break are trailing
    assert render.short(0.123456) == "0.12" and render.short(0.004) == "0.004"


def test_ages_are_never_negative():
    assert render.age(-5) == "0m 0s" and render.age(7200) == "2h 0m" and render.age(None) == "n/a"


def test_blur_strength_is_saved_per_reviewer_and_hover_unblur_is_an_audited_reveal(served):
    storage = served.state.storage
    item_id = queued_item(storage.repository, image=encode(synthetic_scene(2)), image_store=storage.image_store)
    at = logged_in(served)
    at.slider(key="blur").set_value(6).run()
    assert not at.exception, at.exception
    me = served.state.storage.session_factory
    from moderation_service.review.actions import preferences

    assert preferences(me, "user:alice", 18)["own_blur_radius"] == 6
    press(at, "claim")
    assert "blur 6" in texts(at)
    assert "reveal_image" not in {row["action"] for row in audit_rows(served, item_id)}
    at.toggle(key="hover_unblur").set_value(True).run()
    assert not at.exception, at.exception
    assert 'class="hover-unblur"' in texts(at) and "filter: blur(6px)" in texts(at)
    assert "reveal_image" in {row["action"] for row in audit_rows(served, item_id)}


def test_banks_page_for_admins_lists_adds_and_removes_entries(served):
    reviewer = logged_in(served, "rita")
    assert "Banks" not in reviewer.radio(key="page").options
    banks = served.state.storage.banks
    banks.store.create_bank("spam-images", "block", {}, "known spam")
    at = logged_in(served, "ada", "admin")
    at.radio(key="page").set_value("Banks").run()
    assert not at.exception, at.exception
    listing = at.dataframe[0].value.set_index("bank")
    assert listing.loc["spam-images", "purpose"] == "block" and listing.loc["spam-images", "entries"] == 0
    at.selectbox(key="bank_name").set_value("spam-images").run()
    [signal] = [s for s in at.selectbox if s.label == "Signal"]
    signal.set_value("phash")
    [value] = [t for t in at.text_input if t.label == "Hash"]
    value.input("b6a9c995c94e16ca")
    [submit] = [b for b in at.button if b.label == "Add entry"]
    submit.click().run()
    assert not at.exception, at.exception
    assert banks.store.get_bank("spam-images")["entries"] == 1
    press(at, "bank_remove_button")
    assert banks.store.get_bank("spam-images")["entries"] == 0
