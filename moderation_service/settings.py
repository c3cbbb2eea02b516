"""Service configuration, read from MODERATION_* environment variables (or .env)
and validated at start-up so a bad value stops the service with a clear message."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from moderation_service.images import ImageLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # The review and bank settings read MODERATION_REVIEW_* and MODERATION_BANKS_* from the same
    # .env, so extra keys are not refused here; _env_file_keys_are_known refuses misspelt ones.
    model_config = SettingsConfigDict(env_prefix="MODERATION_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="", description="Any SQLAlchemy URL; empty means SQLite under data_dir."
    )
    data_dir: Path = Field(default=Path("var"), description="Images and the default SQLite file.")
    policy_path: Path = Field(
        default=PROJECT_ROOT / "policies",
        description="A folder of policies (one named `default`), or one file that serves every surface.")
    policy_watch_interval_s: float = Field(
        default=2.0, ge=0, description="How often to look for changed policy files; 0 turns reloading off.")
    classifiers_config: Path | None = Field(
        default=None, description="YAML of classifiers to load; empty means the bundled default."
    )
    max_image_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=40_000_000, gt=0)
    max_image_side: int = Field(default=32_768, gt=0, description="Longest image side, in pixels.")
    max_image_aspect_ratio: float = Field(default=100.0, ge=1, description="Long side / short side, at most.")
    max_jpeg_scans: int = Field(default=100, ge=1, description="Scans of a progressive JPEG, at most.")
    max_jpeg_scan_pixels: int = Field(default=1_000_000_000, gt=0, description="Scans x pixels of a progressive "
                                      "JPEG, at most (each scan walks the whole image: about 1.7 ns a pixel).")
    image_sample_frames: int = Field(default=8, ge=1, le=64, description="Evenly spaced frames of an animation "
                                     "to moderate, besides the first; as many again of the longest-shown others.")
    max_animation_frames: int = Field(default=10_000, ge=1)
    max_animation_canvas_pixels: int = Field(default=10_000_000, gt=0, description="Pixels of an animation's "
                                             "canvas, at most (decoders keep two or three canvases).")
    max_animation_pixels: int = Field(default=100_000_000, gt=0, description="Frames x canvas pixels of an "
                                      "animation, at most: every frame is decoded once.")
    decode_workers: int = Field(default=2, ge=1, description="Threads that decode images, apart from the others.")
    decode_isolation: Literal["thread", "process"] = Field(
        default="thread", description="`process` decodes in child processes, killed at the deadline: a hard bound "
        "whatever the decoder does, at the cost of a copy of the decoded views (measured in the README).")
    decode_timeout_ms: int = Field(default=10_000, ge=1, description="Per image, queueing included; past it the "
                                   "answer is 422 image_too_costly.")
    max_prompt_chars: int = Field(default=8_000, gt=0)
    # The built-in `earlier-items` bank's thresholds (bits); its entries sync with the banks (MODERATION_BANKS_*).
    near_duplicate_max_distance: int = Field(default=6, ge=0, le=16, description="pHash bits for a near-duplicate.")
    near_duplicate_pdq_max_distance: int = Field(default=31, ge=0, le=64, description="PDQ bits for a near-duplicate.")
    near_duplicate_limit: int = Field(default=5, ge=0)
    store_raw_prompts: bool = Field(
        default=False, description="Keep the unredacted prompt, encrypted; off keeps only the redacted form."
    )
    raw_prompt_key: SecretStr | None = Field(
        default=None, description="Fernet key that encrypts stored raw prompts (`moderation secrets prompt-key`).")
    retention_days: int = Field(default=0, ge=0, description="Purge images and raw data after this many days; "
                                "0 keeps them. Hashes and decisions stay.")
    purge_interval_s: float = Field(default=3600, gt=0, description="How often the service purges when retention is on.")
    classifier_workers: int = Field(default=4, ge=1, description="Threads for decoding, storing and unbatched models.")
    classifier_timeout_ms: int = Field(default=5_000, ge=1, description="Per classifier, per request; past it the "
                                       "signal counts as failed and the policy's on_error decides.")
    rate_limit_per_minute: int = Field(default=6000, ge=0, description="Requests per minute per API key; 0 is no limit.")
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests a key may send at once above the rate.")
    max_request_bytes: int = Field(default=1024 * 1024, gt=0, description="Body cap of every route but "
                                   "moderations and bank uploads (those take an image: max_image_bytes * 4/3 + 1 MiB).")
    header_read_timeout_s: float = Field(default=10.0, gt=0, description="A connection whose request line and "
                                         "headers have not all arrived in this time is closed.")
    body_read_timeout_s: float = Field(default=60.0, gt=0, description="A body that has not all arrived in this "
                                       "time is refused (408 request_timeout) and its connection closed.")
    login_hash_concurrency: int = Field(default=2, ge=1, description="Password checks (argon2id, 64 MiB each) "
                                        "that run at once; further logins wait their turn.")
    login_free_failures: int = Field(default=5, ge=1, description="Failed logins per user or address before "
                                     "each further attempt must wait (exponential back-off).")
    login_backoff_s: float = Field(default=1.0, gt=0, description="The first wait after the free failures; "
                                   "doubles with each further failure.")
    login_backoff_max_s: float = Field(default=900.0, gt=0, description="The longest wait between attempts.")
    # Measured side by side on 2 cores: 1 thread lets the text model, spaCy and
    # onnxruntime run at once (prompt p50 26.4 -> 22.8 ms, prompt+image 47.9 -> 39.4 ms).
    torch_threads: int = Field(default=1, ge=0, description="Intra-op threads for torch models; 0 keeps torch's "
                               "default (one per core).")
    batching: bool = Field(default=True, description="Gather concurrent requests into one forward pass per model.")
    batch_max_size: int = Field(default=16, ge=1, le=256, description="Most items in one batched forward pass; "
                                "1 sends one request at a time through each model.")
    batch_max_wait_ms: float = Field(default=0.0, ge=0, le=100, description="How long a model waits to fill a batch. "
                                     "0 takes what is queued: no added latency at low load, and under load requests "
                                     "queue while the previous batch runs (measured: same throughput at c=32, "
                                     "4 ms less p50 at c=1 than 2 ms).")

    @field_validator("policy_path")
    @classmethod
    def _policy_must_exist(cls, path: Path) -> Path:
        if not path.exists():
            raise ValueError(f"policy path {path} does not exist")
        return path

    @field_validator("classifiers_config")
    @classmethod
    def _classifier_config_must_exist(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"classifier configuration {path} does not exist")
        return path

    @model_validator(mode="after")
    def _env_file_keys_are_known(self) -> "Settings":
        unknown = sorted(key for key in _dotenv_keys(self.model_config.get("env_file"))
                         if key.upper().startswith("MODERATION_") and key.upper() not in known_variables())
        if unknown:
            raise ValueError(f".env has unknown settings: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _raw_prompts_need_a_key(self) -> "Settings":
        if self.store_raw_prompts and self.raw_prompt_key is None:
            raise ValueError("MODERATION_STORE_RAW_PROMPTS is on, so MODERATION_RAW_PROMPT_KEY must be set "
                             "(create one with `moderation secrets prompt-key`)")
        if self.raw_prompt_key is not None:
            from cryptography.fernet import Fernet

            try:
                Fernet(self.raw_prompt_key.get_secret_value())
            except ValueError:
                raise ValueError("MODERATION_RAW_PROMPT_KEY is not a Fernet key (32 url-safe base64 bytes)") from None
        return self

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'moderation.db').resolve()}"
        return self

    @property
    def image_limits(self) -> ImageLimits:
        return ImageLimits(max_bytes=self.max_image_bytes, max_pixels=self.max_image_pixels,
                           max_side=self.max_image_side, max_aspect_ratio=self.max_image_aspect_ratio,
                           max_jpeg_scans=self.max_jpeg_scans, max_jpeg_scan_pixels=self.max_jpeg_scan_pixels,
                           sample_frames=self.image_sample_frames, max_animation_frames=self.max_animation_frames,
                           max_animation_canvas_pixels=self.max_animation_canvas_pixels,
                           max_animation_pixels=self.max_animation_pixels)

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"


# Read by the command line and the console rather than the service.
_TOOL_VARIABLES = {"MODERATION_NEW_USER_PASSWORD", "MODERATION_API_URL", "MODERATION_REVIEW_TOKEN",
                   "MODERATION_LOG_LEVEL", "MODERATION_LOG_FORMAT"}


def known_variables() -> set[str]:
    from moderation_service.banks.config import BankSettings
    from moderation_service.candidates.config import CandidateSettings
    from moderation_service.quality.config import QualitySettings
    from moderation_service.review.config import ReviewSettings

    names = {f"MODERATION_{name.upper()}" for name in Settings.model_fields}
    names |= {f"MODERATION_REVIEW_{name.upper()}" for name in ReviewSettings.model_fields}
    names |= {f"MODERATION_BANKS_{name.upper()}" for name in BankSettings.model_fields}
    names |= {f"MODERATION_QUALITY_{name.upper()}" for name in QualitySettings.model_fields}
    names |= {f"MODERATION_MODELS_{name.upper()}" for name in CandidateSettings.model_fields}
    return names | _TOOL_VARIABLES


def _dotenv_keys(env_file) -> list[str]:
    if not env_file or not Path(env_file).is_file():
        return []
    from dotenv import dotenv_values

    return list(dotenv_values(env_file))
