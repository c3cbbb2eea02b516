"""Concurrency on a real PostgreSQL: three reviewers decide 300 items at once, over HTTP."""
from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from moderation_service.db.tables import ReviewAuditEntry, ReviewQueueEntry
from review_support import PASSWORD, ServedApp, queued_item, review_app

ITEMS = 300
REVIEWERS = ("ana", "ben", "cy")


def test_three_reviewers_decide_300_items_each_exactly_once(tmp_path, postgres_url):
    app = review_app(tmp_path / "data", database_url=postgres_url)
    repository = app.state.storage.repository
    # Some near-duplicate pairs, so group claims race as well.
    ids = [queued_item(repository, priority=i % 3, nsfw=(i % 10) / 10,
                       phash=f"{i // 2:016x}" if i < 40 else None) for i in range(ITEMS)]
    for name in REVIEWERS:
        app.state.review.users.create(name, PASSWORD, "reviewer")
    decided_by: dict[str, list[str]] = {name: [] for name in REVIEWERS}
    errors: list[str] = []
    start = threading.Barrier(len(REVIEWERS))

    def reviewer(name: str, base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post("/v1/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
            http.headers["Authorization"] = f"Bearer {token}"
            start.wait()
            while True:
                claimed = http.post("/v1/review/claim", json={"queue": "default"})
                if claimed.status_code != 200:
                    errors.append(f"{name} claim {claimed.status_code} {claimed.text}")
                    return
                body = claimed.json()
                if body["item"] is None:
                    return
                item_id = body["item"]["id"]
                group = [g["id"] for g in body["group"]]
                verdict = http.post(f"/v1/review/{item_id}/verdict", json={
                    "verdict": "reject" if len(item_id) % 2 else "approve", "reason_code": "spam",
                    "key": f"{name}-{item_id}", "also_decide": group})
                if verdict.status_code != 200:
                    errors.append(f"{name} verdict {verdict.status_code} {verdict.text}")
                    return
                decided_by[name].extend(d["item_id"] for d in verdict.json()["decided"])

    with ServedApp(app) as served:
        threads = [threading.Thread(target=reviewer, args=(name, served.url)) for name in REVIEWERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors[:5]
    everything = [item for items in decided_by.values() for item in items]
    assert len(everything) == ITEMS and set(everything) == set(ids)  # each exactly once, none lost
    assert all(decided_by.values()), "every reviewer got work"
    with app.state.storage.session_factory() as session:
        statuses = Counter(session.scalars(select(ReviewQueueEntry.status)))
        verdict_rows = Counter(session.scalars(select(ReviewAuditEntry.item_id).where(
            ReviewAuditEntry.action == "verdict")))
        claimed_twice = session.scalar(select(func.count()).select_from(ReviewQueueEntry).where(
            ReviewQueueEntry.decided_by.is_(None)))
    assert statuses == {"decided": ITEMS}  # none stuck pending or claimed
    assert set(verdict_rows.values()) == {1} and len(verdict_rows) == ITEMS
    assert claimed_twice == 0
