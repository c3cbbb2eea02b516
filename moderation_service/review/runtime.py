"""The review parts built once per app: queue, verdicts, users, webhooks, and the verdict feedback."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.orm import sessionmaker

from moderation_service.review import risk  # noqa: F401  (registers the risk-score hook on queue inserts)
from moderation_service.review.config import ReviewSettings
from moderation_service.review.queue import ReviewQueue
from moderation_service.review.verdicts import Verdicts
from moderation_service.review.webhooks import WebhookDispatcher
from moderation_service.users import UserStore

log = logging.getLogger(__name__)


@dataclass
class ReviewRuntime:
    sessions: sessionmaker
    settings: ReviewSettings
    queue: ReviewQueue
    verdicts: Verdicts
    users: UserStore
    webhooks: WebhookDispatcher
    # Usually app.state.verdict_listeners: called as listener(item_id, verdict) after a verdict commits.
    verdict_listeners: list[Callable[[str, str], None]] = field(default_factory=list)

    def notify(self, decided: list[dict], verdict: str) -> None:
        """Feedback after the commit: a failing listener is logged, never undoes the verdict."""
        for item in decided:
            for listener in list(self.verdict_listeners):
                if item.get("bank") is False and getattr(listener, "banks_images", False):
                    continue  # the reviewer opted this item out of the reviewer-rejected bank
                try:
                    listener(item["item_id"], verdict)
                except Exception:
                    log.exception("verdict listener %r failed for item %s", listener, item["item_id"])
        self.webhooks.wake()


def build_review(sessions: sessionmaker, settings: ReviewSettings | None = None,
                 verdict_listeners: list | None = None) -> ReviewRuntime:
    settings = settings or ReviewSettings()
    return ReviewRuntime(sessions, settings, ReviewQueue(sessions, settings), Verdicts(sessions, settings),
                         UserStore(sessions, settings.token_ttl_s), WebhookDispatcher(sessions, settings),
                         verdict_listeners if verdict_listeners is not None else [])
