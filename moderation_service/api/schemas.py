"""Request and response bodies of the HTTP API."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_serializer

from moderation_service.db.tables import ModerationItem

SURFACE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def _as_utc(moment: datetime) -> datetime:
    # A naive time is UTC by the project's convention (db/utc.py); any other zone is converted.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def rfc3339(moment: datetime) -> str:
    """``2026-11-29T23:01:32.308701Z``: RFC 3339, UTC, explicit offset."""
    return _as_utc(moment).isoformat().replace("+00:00", "Z")


# Every timestamp in a response model: RFC 3339 in UTC with an explicit offset
# (tests/test_timestamps.py walks every route's response model for it).
UtcTimestamp = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(rfc3339, return_type=str),
                         WithJsonSchema({"type": "string", "format": "date-time",
                                         "description": "RFC 3339, UTC, with an explicit offset (Z)"})]


class ModerationRequest(BaseModel):
    """JSON body of POST /v1/moderations. At least one of prompt or image."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, description="The text prompt, as the user wrote it.")
    image: str | None = Field(default=None, description="The image, base64 (a data: URL prefix is accepted).")
    surface: str = Field(default="default", pattern=SURFACE_PATTERN,
                         description="Where the content will be published; picks the policy.")
    external_id: str | None = Field(default=None, max_length=255, description="The caller's own opaque id. Never personal data: an id holding an e-mail, phone, card, IBAN, SSN or IP address is refused (422 external_id_personal_data).")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Stored as given; at most 16 KiB of JSON.")


class RuleReason(BaseModel):
    rule_id: str
    description: str
    action: Literal["allow", "block", "review", "redact"]
    values: dict[str, Any]
    queue: str | None = None
    priority: int | None = None
    entities: list[str] = []
    reportable: bool = False
    # What caused it (moderation_service/decision_cause): the signals its values came from, and their modalities.
    signals: list[str] = []
    modalities: list[Literal["text", "image"]] = []


class PolicyRef(BaseModel):
    name: str
    sha256: str
    version: str | None = None


class ReviewRef(BaseModel):
    queue: str
    priority: int
    status: str
    # Set once a reviewer decides (moderation_service/review); `final_decision` is then the one in force.
    verdict: Literal["approve", "reject"] | None = None
    reason_code: str | None = None
    final_decision: Literal["allow", "block", "redact"] | None = None
    decided_at: UtcTimestamp | None = None

    @model_serializer(mode="wrap")
    def _omit_until_decided(self, handler):
        # Before a verdict the body keeps its original shape: queue, priority, status.
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k not in _VERDICT_FIELDS}


_VERDICT_FIELDS = ("verdict", "reason_code", "final_decision", "decided_at")


class ModerationResponse(BaseModel):
    id: str
    external_id: str | None
    surface: str
    created_at: UtcTimestamp
    decision: Literal["allow", "block", "review", "redact"]
    reasons: list[RuleReason]
    reportable: bool = Field(
        default=False, description="A rule that fired marked this item for reporting to the authorities "
        "(sexualised minors): block it, keep it, report it.")
    signals: dict[str, dict[str, Any]] = Field(
        description="Per classifier: its fields, and `model` (name, version, weights_sha256); "
        "a failed classifier has `error` instead of fields.")
    redacted_prompt: str | None
    image_sha256: str | None
    policy: PolicyRef
    review: ReviewRef | None = None
    final_decision: Literal["allow", "block", "review", "redact"] | None = Field(
        default=None, description="The decision in force: a reviewer's verdict once there is one, else `decision`.")
    timings_ms: dict[str, float]
    metadata: dict[str, Any]

    @classmethod
    def from_item(cls, item: ModerationItem, review: ReviewRef | None = None) -> "ModerationResponse":
        return cls(
            id=item.id,
            external_id=item.external_id,
            surface=item.surface,
            created_at=item.created_at,
            decision=item.decision,
            reasons=item.reasons,
            reportable=bool(item.reportable),
            signals=item.signals,
            redacted_prompt=item.prompt_redacted,
            image_sha256=item.image_sha256,
            policy=PolicyRef(name=item.policy_name, sha256=item.policy_sha256, version=item.policy_version),
            review=review,
            # After a human verdict the decision in force is the reviewer's; `decision` stays the policy's.
            final_decision=(review.final_decision if review else None) or item.decision,
            timings_ms=item.timings_ms,
            metadata=item.request_metadata,
        )


class ErrorBody(BaseModel):
    code: str = Field(description="Stable, machine-readable.")
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


AUTH_ERRORS = (401, 403, 429)


def error_responses(*statuses: int) -> dict[int, dict]:
    """OpenAPI entries for the errors a route can answer, all with the same error body."""
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    return {status: {"model": ErrorResponse, "content": json_body} for status in sorted({*statuses, 422})}
