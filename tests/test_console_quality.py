"""The console on the blind quality sample: no decision shown before the verdict, and the Stats
page's enforcement estimates (AppTest against a real API served over HTTP)."""
from __future__ import annotations

from datetime import datetime, timezone

from moderation_service.db.tables import ReviewQueueEntry
from review_support import queued_item
from test_console import logged_in, press, served, texts  # noqa: F401  (served is a fixture)


def sampled(served, prompt: str) -> str:
    """An item the policy allowed, drawn for blind review with probability 0.5."""
    repository = served.state.storage.repository
    item_id = queued_item(repository, decision="allow", prompt=prompt, nsfw=0.93)
    with served.state.storage.session_factory.begin() as session:
        session.add(ReviewQueueEntry(item_id=item_id, queue="quality", priority=0, status="pending",
                                     enqueued_at=datetime.now(timezone.utc), sampling="uniform",
                                     sampling_probability=0.5))
    return item_id


def test_a_blind_item_shows_no_decision_and_its_label_feeds_the_estimates(served):
    item_id = sampled(served, "a lighthouse at dawn")
    sampled(served, "a red bicycle")
    at = logged_in(served)
    at.selectbox(key="queue").set_value("quality").run()
    press(at, "claim")
    shown = texts(at)
    assert "blind review" in shown and "policy says" not in shown
    assert "0.93" not in shown  # no scores either
    press(at, "reason_2")
    press(at, "reject")
    assert served.state.storage.repository.review_entry(item_id).verdict == "reject"
    at.radio(key="page").set_value("Stats").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Harmful among allowed"].startswith("100.0%"), metrics  # 1 of 1 labelled allowed item
