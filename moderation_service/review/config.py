"""Review settings, read from MODERATION_REVIEW_* environment variables."""
from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REASON_CODES = ["policy_ok", "false_positive", "nudity", "violence", "hate", "harassment", "self_harm",
                        "spam", "other"]
APPEALS_QUEUE = "appeals"
ESCALATIONS_QUEUE = "escalations"  # "escalate to seniors": like appeals, only seniors and admins claim it
SENIOR_QUEUES = (APPEALS_QUEUE, ESCALATIONS_QUEUE)
# A reject must give a violation: these say the content is fine, so they only fit an approve.
APPROVE_ONLY_REASONS = ("policy_ok", "false_positive")
# These name a violation: the console offers them for rejects only (the API still takes them on an
# approve, as older clients send them there).
REJECT_ONLY_REASONS = ("nudity", "violence", "hate", "harassment", "self_harm", "spam")


class ReviewSettings(BaseSettings):
    # The same .env as the main settings, which checks its keys (moderation_service.settings).
    model_config = SettingsConfigDict(env_prefix="MODERATION_REVIEW_", env_file=".env", extra="ignore")

    lease_s: float = Field(default=300, gt=0, description="How long a claim lasts unless the console renews it.")
    reason_codes: list[str] = Field(default_factory=lambda: list(DEFAULT_REASON_CODES))
    # Queue priority orders the overview and "claim from any queue"; items inside a queue order by
    # their own priority, then risk, then age. Its keys (and sla_s's) are the declared queues:
    # `moderation policy lint` warns about a rule sending items anywhere else (a typo, usually).
    queue_priorities: dict[str, int] = Field(default_factory=lambda: {APPEALS_QUEUE: 100, ESCALATIONS_QUEUE: 90,
                                                                      "classifier-errors": 50, "nsfw": 0,
                                                                      "text": 0, "avatars": 0, "language": 0})
    sla_s: dict[str, float] = Field(default_factory=lambda: {APPEALS_QUEUE: 24 * 3600})
    default_sla_s: float = Field(default=3600, gt=0)
    group_max_distance: int = Field(default=6, ge=0, le=64, description="pHash bits within which items group.")
    group_max_size: int = Field(default=20, ge=1)
    blur_radius: int = Field(default=18, ge=2, le=60, description="Organisation default blur (Gaussian radius, px "
                             "on a 512 px preview); each reviewer may set their own.")
    token_ttl_s: float = Field(default=12 * 3600, gt=0, description="How long a console login lasts.")
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_backoff_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles each attempt.")
    webhook_backoff_max_s: float = Field(default=600, gt=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_poll_s: float = Field(default=1.0, gt=0, description="How often due deliveries are sent; 0 disables.")
    max_open_appeals_per_client: int = Field(default=50, ge=1, description="Open appeals one client may have; "
                                             "more are refused (429 too_many_open_appeals) until some are decided.")
    webhook_max_response_bytes: int = Field(default=4096, ge=1, le=1 << 20, description="Most bytes of a "
                                            "receiver's reply that are read; the connection is closed after.")
    webhook_allowed_networks: list[str] = Field(default_factory=list, description="Non-public networks that may "
                                                "receive webhooks (CIDR, e.g. [\"10.1.2.0/24\"]); empty: public only.")

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_parse(cls, values: list[str]) -> list[str]:
        import ipaddress

        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError(f"webhook_allowed_networks: {value!r} is not a network like 10.0.0.0/8") from None
        return values

    @property
    def declared_queues(self) -> set[str]:
        return set(self.queue_priorities) | set(self.sla_s)

    def reasons_for(self, verdict: str) -> list[str]:
        """The reason codes that fit a verdict: a reject never takes a 'content is fine' code, an
        approve is offered no violation."""
        if verdict == "reject":
            return [code for code in self.reason_codes if code not in APPROVE_ONLY_REASONS]
        return [code for code in self.reason_codes if code not in REJECT_ONLY_REASONS]

    def queue_priority(self, queue: str) -> int:
        return self.queue_priorities.get(queue, 0)

    def sla_for(self, queue: str) -> float:
        return self.sla_s.get(queue, self.default_sla_s)
