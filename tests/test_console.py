"""The Streamlit console driven by AppTest against a real API served over HTTP."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from conftest import PROJECT_ROOT, encode, synthetic_scene
from review_support import PASSWORD, ServedApp, queued_item, review_app

CONSOLE = str(PROJECT_ROOT / "review_ui" / "app.py")


@pytest.fixture
def served(tmp_path, monkeypatch):
    app = review_app(tmp_path / "data")
    with ServedApp(app) as server:
        monkeypatch.setenv("MODERATION_API_URL", server.url)
        monkeypatch.delenv("MODERATION_REVIEW_TOKEN", raising=False)
        yield app


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.success, *at.error, *at.info, *at.warning)]
    return "\n".join(str(p) for p in parts)


def test_login_claim_reveal_and_verdict(served):
    storage = served.state.storage
    item_id = queued_item(storage.repository, image=encode(synthetic_scene(5)), image_store=storage.image_store,
                          client="feed")
    served.state.review.users.create("alice", PASSWORD, "reviewer")

    at = AppTest.from_file(CONSOLE, default_timeout=30).run()
    at.text_input(key="username").input("alice")
    at.text_input(key="password").input("not the password")
    at.button[0].click().run()  # the form's submit button
    assert "unknown user or wrong password" in texts(at)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "alice" in texts(at)

    at.button(key="claim").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "blurred — press v to reveal" in shown
    assert "PERSON" in shown and "nsfw-borderline" in shown
    assert served.state.storage.repository.review_entry(item_id).claimed_by == "user:alice"

    at.button(key="reveal_prompt").click().run()
    assert "revealed — this view was audited" in texts(at)
    at.button(key="reveal_image").click().run()
    assert "revealed — this view was audited" in texts(at)

    at.button(key="reason_2").click().run()  # "3 nudity"
    at.text_input(key="note").input("explicit")
    at.button(key="reject").click().run()
    assert not at.exception, at.exception
    assert "reject (nudity) recorded for 1 item(s)" in texts(at)
    entry = served.state.storage.repository.review_entry(item_id)
    assert (entry.status, entry.verdict, entry.reason_code, entry.final_decision) == \
        ("decided", "reject", "nudity", "block")
    actions = [row["action"] for row in
               __import__("moderation_service.review.audit", fromlist=["search"]).search(
                   served.state.storage.session_factory, item_ids=[item_id])]
    assert {"claim", "reveal_prompt", "reveal_image", "verdict"} <= set(actions)


def test_history_and_stats_pages_render(served):
    served.state.review.users.create("bob", PASSWORD, "reviewer")
    at = AppTest.from_file(CONSOLE, default_timeout=30).run()
    at.text_input(key="username").input("bob")
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    at.radio(key="page").set_value("History").run()
    assert not at.exception, at.exception
    at.radio(key="page").set_value("Stats").run()
    assert not at.exception, at.exception
    assert "Reviewers agree with the policy" in [m.label for m in at.metric]
