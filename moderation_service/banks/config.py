"""Bank settings, from MODERATION_BANKS_* environment variables."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BankSettings(BaseSettings):
    # The same .env as the main settings, which checks its keys (moderation_service.settings).
    model_config = SettingsConfigDict(env_prefix="MODERATION_BANKS_", env_file=".env", extra="ignore")

    sync_interval_s: float = Field(1.0, gt=0, description="Mean time between syncs from the database.")
    sync_jitter: float = Field(0.5, ge=0, lt=1, description="Each wait is interval x (1 +/- jitter), so processes spread out.")
    gap_timeout_s: float = Field(30.0, gt=0, description="How long an id gap (an uncommitted write) holds the cursor back.")
    flood_window_s: float = Field(60.0, gt=0, description="Window in which an entry's matches are counted.")
    flood_min_matches: int = Field(50, ge=1, description="An entry is never quarantined below this many matches per window.")
    flood_factor: float = Field(10.0, ge=1, description="...nor unless it matches this many times its usual rate per window.")
    retro_hunt_interval_s: float = Field(2.0, ge=0, description="How often new block-bank entries are hunted "
                                         "among published items (retro-hunt); 0 turns it off.")
    retro_hunt_settle_s: float = Field(5.0, ge=0, description="An entry is hunted this long after it was added, "
                                       "once every process has synced it.")
    retro_hunt_max_items: int = Field(50, ge=1, description="An entry that would take down more published items "
                                      "than this is quarantined instead.")
