"""ORM tables. Alembic migrations in moderation_service/migrations own the schema."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.sql.expression import false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from moderation_service.db import utc


class Base(DeclarativeBase):
    pass


# Timestamps read back aware UTC on every database (db/utc.py).
utc.apply_to(Base)


class ModerationItem(Base):
    __tablename__ = "moderation_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    surface: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    # A rule that fired marked the item for reporting to the authorities (policy `reportable: true`).
    reportable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(), index=True)
    policy_name: Mapped[str] = mapped_column(String(128))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    # A shadow policy's verdict on the same signals: stored, never returned as the decision.
    shadow_policy_name: Mapped[str | None] = mapped_column(String(128))
    shadow_policy_sha256: Mapped[str | None] = mapped_column(String(64))
    shadow_decision: Mapped[str | None] = mapped_column(String(16))
    shadow_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    prompt_redacted: Mapped[str | None] = mapped_column(Text)
    # Only kept when settings.store_raw_prompts is on.
    prompt_raw: Mapped[str | None] = mapped_column(Text)
    image_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    image_format: Mapped[str | None] = mapped_column(String(16))
    phash: Mapped[str | None] = mapped_column(String(16), index=True)
    dhash: Mapped[str | None] = mapped_column(String(16))
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    model_versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    timings_ms: Mapped[dict[str, float]] = mapped_column(JSON)
    request_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    # Who sent it, and the retry key it came with: (client, idempotency_key) is unique.
    client: Mapped[str | None] = mapped_column(String(128), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set when retention removed the image and raw data; hashes and decisions remain.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("client", "idempotency_key", name="uq_items_client_idempotency_key"),)


class ReviewQueueEntry(Base):
    __tablename__ = "review_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("moderation_items.id", ondelete="CASCADE"), unique=True
    )
    queue: Mapped[str] = mapped_column(String(64), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    enqueued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Review work (moderation_service/review, migration 0004): the claim, its lease and the verdict.
    risk_score: Mapped[float | None] = mapped_column(Float)
    claimed_by: Mapped[str | None] = mapped_column(String(160))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    skipped_by: Mapped[str | None] = mapped_column(String(160))
    skipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # migration 0011_i15
    verdict: Mapped[str | None] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    final_decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(160))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Quality sampling (moderation_service/quality): how the item was drawn for blind review
    # ("uniform" or "uncertainty") and its inclusion probability; None for policy-sent reviews.
    sampling: Mapped[str | None] = mapped_column(String(16))
    sampling_probability: Mapped[float | None] = mapped_column(Float)


class ReviewerPreference(Base):
    """A reviewer's console settings (migration 0011_i15); unset fields fall back to the organisation's."""

    __tablename__ = "reviewer_preferences"

    actor: Mapped[str] = mapped_column(String(160), primary_key=True)
    blur_radius: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(128), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Hash banks (moderation_service/banks): named sets of hashes with a purpose and thresholds.
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite only autoincrements INTEGER


class HashBank(Base):
    __tablename__ = "hash_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))  # block, allow or watch
    thresholds: Mapped[dict[str, int]] = mapped_column(JSON)  # signal type -> max distance
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HashBankEntry(Base):
    """The id orders additions: each process syncs the entries above the last id it saw."""

    __tablename__ = "hash_bank_entries"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("hash_banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    quarantined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    # Space-separated hashes of the entry's picture flipped and rotated (PDQ: seven), when it was
    # taken from a picture; only retro-hunt reads them (earlier items keep their plain hash only).
    variants: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("bank_id", "signal_type", "hash", name="uq_bank_entries_hash"),
                      {"sqlite_autoincrement": True})


class HashBankChange(Base):
    """Removals, quarantines and bank edits, in order, for the other processes to replay."""

    __tablename__ = "hash_bank_changes"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(24))
    bank_id: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[int | None] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Human review (moderation_service/review, users.py; migration 0004).


class ReviewAuditEntry(Base):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "review_audit"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    actor: Mapped[str] = mapped_column(String(160), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    previous_state: Mapped[dict[str, Any]] = mapped_column(JSON)
    new_state: Mapped[dict[str, Any]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    policy_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ReviewVerdictKey(Base):
    """A verdict's idempotency key: a repeat with the same key replays the stored result."""

    __tablename__ = "review_verdict_keys"

    actor: Mapped[str] = mapped_column(String(160), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Appeal(Base):
    __tablename__ = "review_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), ForeignKey("moderation_items.id", ondelete="CASCADE"), index=True)
    client: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open or decided
    outcome: Mapped[str | None] = mapped_column(String(16))  # upheld (rejected again) or overturned
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewUser(Base):
    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    role: Mapped[str] = mapped_column(String(16))  # reviewer, senior, admin
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewUserToken(Base):
    __tablename__ = "review_user_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("review_users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    client: Mapped[str] = mapped_column(String(128), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    # Kept readable: signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """The delivery log: one row per event, with every attempt in ``attempt_log``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(128), index=True)
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    event: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempt_log: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The endpoint URL when the event was created; retries go there (migration 0010_issue12_webhook_url).
    url: Mapped[str | None] = mapped_column(Text)


class ItemHash(Base):
    """An image hash of a moderated item (migration 0010_i14): the built-in ``earlier-items`` bank.

    The id orders additions, so every process syncs these into the banks' index as it does bank entries."""

    __tablename__ = "item_hashes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), ForeignKey("moderation_items.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Whether this view caused the item's image decision (migration 0013_i14): a bank match, the
    # NSFW view, or the row a retro-hunt matched; False: another view did, and this row passes
    # nothing on. Null: no view caused anything (a person's verdict then covers every view), or
    # a row from before the column (it passes the decision on, as it did).
    image_cause: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class RetroHuntCursor(Base):
    """The highest block-bank entry id whose retro-hunt has committed."""

    __tablename__ = "retro_hunt_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Candidate models (moderation_service/candidates; migration 0009).


class ShadowScore(Base):
    """A candidate model's signal for an item: stored for comparison, never returned or used by a policy."""

    __tablename__ = "shadow_scores"
    __table_args__ = (UniqueConstraint("item_id", "entry", name="uq_shadow_scores_item_entry"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(36), ForeignKey("moderation_items.id", ondelete="CASCADE"),
                                         index=True)
    entry: Mapped[str] = mapped_column(String(64), index=True)  # the classifier configuration's entry name
    signal: Mapped[str] = mapped_column(String(64))  # the live signal it would replace
    model: Mapped[dict[str, Any]] = mapped_column(JSON)  # identity: name, version, weights_sha256
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ModelPromotion(Base):
    """Append-only: each row makes ``entry`` the live model of ``signal`` in every process."""

    __tablename__ = "model_promotions"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    signal: Mapped[str] = mapped_column(String(64), index=True)
    entry: Mapped[str] = mapped_column(String(64))
    model: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str | None] = mapped_column(Text)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    promoted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
