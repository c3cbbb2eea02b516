"""One .env file configures the service, the review queue and the banks; a misspelt key is refused."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderation_service.banks.config import BankSettings
from moderation_service.review.config import ReviewSettings
from moderation_service.settings import Settings


def test_one_env_file_feeds_every_settings_class(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MODERATION_MAX_PROMPT_CHARS=123\nMODERATION_REVIEW_LEASE_S=42\n"
                                   "MODERATION_BANKS_SYNC_INTERVAL_S=7\nMODERATION_NEW_USER_PASSWORD=x\n")
    assert Settings(data_dir=tmp_path).max_prompt_chars == 123
    assert ReviewSettings().lease_s == 42
    assert BankSettings().model_dump()  # reads the same file without complaint


def test_a_misspelt_env_file_key_is_refused_with_its_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("MODERATION_MAX_PROMPT_CHRS=123\n")
    with pytest.raises(ValidationError, match="MODERATION_MAX_PROMPT_CHRS"):
        Settings(data_dir=tmp_path)
