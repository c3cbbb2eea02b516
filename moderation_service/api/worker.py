"""The app factory each `moderation serve --workers N` process runs."""
from __future__ import annotations

import os

from fastapi import FastAPI

from moderation_service.api.app import create_app
from moderation_service.logging_setup import configure_logging


def create_worker_app() -> FastAPI:
    # Not MODERATION_-prefixed settings: they only carry the CLI's logging flags to workers.
    configure_logging(os.environ.get("MODERATION_LOG_LEVEL", "info"),
                      json_format=os.environ.get("MODERATION_LOG_FORMAT", "json") == "json")
    return create_app()
