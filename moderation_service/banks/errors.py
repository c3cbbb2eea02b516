"""Bank errors reach the client as ApiError: a status and a stable code."""
from __future__ import annotations

from moderation_service.banks.signals import HashFormatError
from moderation_service.errors import ApiError


def bad_hash(error: HashFormatError) -> ApiError:
    return ApiError(422, error.code, error.message)


def bank_not_found(name: str) -> ApiError:
    return ApiError(404, "bank_not_found", f"no bank named {str(name)[:64]!r}")
