"""Quality-sampling settings, read from MODERATION_QUALITY_* (validated at start-up)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class QualitySettings(BaseSettings):
    # The same .env as the main settings, which checks its keys (moderation_service.settings).
    model_config = SettingsConfigDict(env_prefix="MODERATION_QUALITY_", env_file=".env", extra="ignore")

    sample_rate: float = Field(default=0.0, ge=0, le=1, description="Probability that an item the policy did not "
                               "send to review joins the uniform random sample for blind review; 0 turns it off.")
    daily_budget: int = Field(default=500, ge=0, description="Most uniform samples per UTC day. Keep it above "
                              "sample_rate x daily traffic: once it is spent the rest of the day is not sampled.")
    uncertainty_rate: float = Field(default=0.0, ge=0, le=1, description="Probability that an item allowed or "
                                    "blocked within uncertainty_margin of one of its policy's thresholds is sampled.")
    uncertainty_margin: float = Field(default=0.1, gt=0, le=1, description="How close to a threshold a score "
                                      "must be for the uncertainty sample.")
    uncertainty_daily_budget: int = Field(default=200, ge=0)
    queue: str = Field(default="quality", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                       description="The review queue sampled items wait in; its reviews are blind.")

    @property
    def enabled(self) -> bool:
        return self.sample_rate > 0 or self.uncertainty_rate > 0
