"""Who did something, as one string for the audit log and claim columns."""
from __future__ import annotations

from moderation_service.auth import Principal

USER_ROLES = ("reviewer", "senior", "admin")


def actor_id(principal: Principal) -> str:
    """``user:alice`` for a logged-in person, ``client:feed`` for an API key."""
    return f"user:{principal.name}" if principal.kind in USER_ROLES else f"client:{principal.name}"


def may_decide_appeals(principal: Principal) -> bool:
    """Appeals are for senior reviewers and admins (or an admin API key)."""
    return principal.kind in ("senior", "admin") or (principal.kind == "client" and "admin" in principal.scopes)
