"""Candidate-model settings, read from MODERATION_MODELS_* (validated at start-up)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CandidateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODERATION_MODELS_", env_file=".env", extra="ignore")

    shadow_queue_size: int = Field(default=2000, ge=1, description="Items waiting for shadow scoring; past it "
                                   "new items are dropped and counted (moderation_shadow_dropped_total).")
    shadow_batch_size: int = Field(default=16, ge=1, le=256)
    watch_interval_s: float = Field(default=2.0, ge=0, description="How often each process reads promotions "
                                    "from the database; 0 turns hot promotion off.")
    promote_max_drop: float = Field(default=0.02, ge=0, le=1, description="`models promote` refuses a candidate "
                                    "whose AUPRC on any category is lower than the live model's by more than this.")
    report_min_labels: int = Field(default=20, ge=1, description="Labelled items (with both classes) a category "
                                   "needs before the report compares it.")
