"""Reviewer feedback: an image that reviewers reject joins the ``reviewer-rejected``
block bank, so its near-duplicates are blocked later without another review.

Only a reject of the image does: when every rule that sent the item to review
read text signals only (a hateful caption), the image is not banked, so a
later benign use of it is not blocked (``decision_cause.reject_covers_image``)."""
from __future__ import annotations

import logging
from typing import Callable

from moderation_service.banks.runtime import Banks
from moderation_service.banks.store import NewEntry
from moderation_service.decision_cause import image_cause_views, reject_covers_image
from moderation_service.image_views import view_entries, view_hashes
from moderation_service.repository import ModerationRepository

log = logging.getLogger(__name__)
REVIEWER_REJECTED_BANK = "reviewer-rejected"


def item_hashes(item) -> list[NewEntry]:
    """The bankable hashes of a stored item's image: its sha256, and the pHash and PDQ (when
    trusted) of the views that caused its image decision (``decision_cause.image_cause_views``):
    every view when a rule read the whole image, or the image is a still; none of an animation
    no image rule flagged. A reviewer judged the whole item, and banking an animation's benign
    frames (a title card, a logo) would block every later use of them and take down earlier ones.
    A PDQ entry carries its view's seven flips and rotations as ``variants`` (``view_entries``)."""
    label = f"item:{item.id}"
    signals = item.signals or {}
    views = view_hashes(signals)
    causes = image_cause_views(item.reasons or [], signals)
    if not views:  # a record that kept no hash signals, only its pHash column
        entries = [NewEntry("phash", item.phash, label)] if item.phash else []
    else:
        if causes is not None and (causes or len({view.frame for view in views}) > 1):
            views = [view for view in views if (view.frame, view.background) in causes]
        entries = view_entries(views, label)
    if item.image_sha256:
        entries.append(NewEntry("sha256", item.image_sha256, label))
    return entries


def bank_rejected_item(banks: Banks, repository: ModerationRepository, item_id: str) -> list[dict]:
    """Adds a stored item's image hashes to ``reviewer-rejected`` (created, purpose block, if missing)."""
    item = repository.get(item_id)
    if item is None:
        raise LookupError(f"no moderation item {item_id!r}")
    entries = item_hashes(item)
    if not entries:
        return []  # a prompt-only item: nothing to bank
    if not reject_covers_image(item.reasons or []):
        log.info("item %s was rejected for its text only; its image is not banked", item_id)
        return []
    banks.store.ensure_bank(REVIEWER_REJECTED_BANK, "block")
    added = banks.store.add_entries(REVIEWER_REJECTED_BANK, entries, source="reviewer")
    banks.sync.sync_once()  # this process blocks the next repost at once; others within a sync interval
    return added


def verdict_listener(banks: Banks, repository: ModerationRepository) -> Callable[[str, str], None]:
    """For ``app.state.verdict_listeners``: called after a review verdict commits."""

    def on_verdict(item_id: str, verdict: str) -> None:
        if verdict == "reject":
            added = bank_rejected_item(banks, repository, item_id)
            log.info("banked %d hash(es) of rejected item %s", len(added), item_id)

    on_verdict.banks_images = True  # a verdict that opts out of banking skips this listener (review.runtime)
    return on_verdict
