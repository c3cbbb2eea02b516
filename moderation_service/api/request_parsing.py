"""Turns a JSON or multipart request into a ModerationInput, or a clear ApiError."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from moderation_service.api import strict_json
from moderation_service.api.edge_guard import PROMPT_KEYS, BodyTimeout, BodyTooLarge
from moderation_service.api.schemas import ModerationRequest
from moderation_service.errors import ApiError
from moderation_service.service import ModerationInput

MAX_METADATA_BYTES = 16 * 1024
MULTIPART_FIELDS = {"prompt", "surface", "external_id", "metadata", "image"}


async def parse_moderation_request(request: Request, max_image_bytes: int) -> ModerationInput:
    """The body's size is already bounded by the EdgeGuard middleware."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return await _from_json(request, max_image_bytes)
    if content_type == "multipart/form-data":
        return await _from_multipart(request, max_image_bytes)
    raise ApiError(415, "unsupported_media_type", "send application/json or multipart/form-data")


async def _from_json(request: Request, max_image_bytes: int) -> ModerationInput:
    body = await request.body()
    # duplicate keys, huge numbers, deep nesting, lone surrogates, NULs but in the prompt: 4xx
    document = strict_json.loads(body, PROMPT_KEYS)
    payload = _validated(document)
    image = decode_base64_image(payload.image, max_image_bytes) if payload.image is not None else None
    return _to_input(payload, image)


async def _from_multipart(request: Request, max_image_bytes: int) -> ModerationInput:
    try:
        form = await request.form(max_files=1, max_fields=len(MULTIPART_FIELDS))
    except Exception as exc:  # starlette raises several types for malformed multipart
        # The size limit fires inside the parser's task group, which wraps it.
        for edge_error in (BodyTooLarge, BodyTimeout):
            if isinstance(exc, edge_error) or (isinstance(exc, ExceptionGroup) and exc.subgroup(edge_error)):
                raise edge_error() from None
        raise ApiError(400, "invalid_multipart", f"the multipart body cannot be parsed: {exc}") from None
    unknown = sorted(set(form.keys()) - MULTIPART_FIELDS)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown form fields: {', '.join(unknown)}", details=unknown)
    repeated = sorted(key for key in set(form.keys()) if len(form.getlist(key)) > 1)
    if repeated:  # the parser would keep the last one silently
        raise ApiError(422, "duplicate_field", f"repeated form fields: {', '.join(repeated)}", details=repeated)
    fields: dict[str, Any] = {}
    for key in ("prompt", "surface", "external_id"):
        value = form.get(key)
        if isinstance(value, str):
            strict_json.check_text(value, key, allow_nul=key in PROMPT_KEYS)  # as JSON bodies are checked
            fields[key] = value
    if isinstance(form.get("metadata"), str):
        try:
            fields["metadata"] = strict_json.loads(form["metadata"])
        except ApiError as exc:
            if exc.code != "invalid_json":
                raise
            raise ApiError(422, "invalid_metadata", "metadata must be a JSON object") from None
    payload = _validated(fields)
    upload = form.get("image")
    image = None
    if isinstance(upload, UploadFile):
        image = await upload.read(max_image_bytes + 1)
        if len(image) > max_image_bytes:
            raise ApiError(413, "image_too_large", f"the image is over {max_image_bytes} bytes")
    elif isinstance(upload, str):
        raise ApiError(422, "invalid_image_field", "send the image as a file part, not a text field")
    return _to_input(payload, image)


def _validated(document: Any) -> ModerationRequest:
    if not isinstance(document, dict):
        raise ApiError(422, "invalid_request", "the body must be a JSON object")
    try:
        payload = ModerationRequest.model_validate(document)
    except ValidationError as exc:
        raise validation_error(exc.errors()) from None
    if len(json.dumps(payload.metadata)) > MAX_METADATA_BYTES:
        raise ApiError(413, "metadata_too_large", f"metadata is over {MAX_METADATA_BYTES} bytes of JSON")
    return payload


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    details = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "problem": e["msg"]} for e in errors]
    if any(e["type"] == "extra_forbidden" for e in errors):
        unknown = [d["field"] for d, e in zip(details, errors) if e["type"] == "extra_forbidden"]
        return ApiError(422, "unknown_field", f"unknown fields: {', '.join(unknown)}", details=details)
    return ApiError(422, "invalid_request", "; ".join(f"{d['field']}: {d['problem']}" for d in details), details)


def decode_base64_image(text: str, max_image_bytes: int) -> bytes:
    """An image field's bytes: base64, wrapped or not, a data: URL prefix accepted. Raises ApiError
    400 ``invalid_base64`` or 413 ``image_too_large``."""
    if text[:5].lower() == "data:":  # a URL scheme is case-insensitive
        _, _, text = text.partition(",")
    # Refuse before decoding: base64 inflates by 4/3.
    if len(text) * 3 // 4 > max_image_bytes + 3:
        raise ApiError(413, "image_too_large", f"the image is over {max_image_bytes} bytes")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_base64", "the image field is not valid base64") from None
    if len(data) > max_image_bytes:
        raise ApiError(413, "image_too_large", f"the image is over {max_image_bytes} bytes")
    return data


def _to_input(payload: ModerationRequest, image: bytes | None) -> ModerationInput:
    return ModerationInput(prompt=payload.prompt, image=image, surface=payload.surface,
                           external_id=payload.external_id, metadata=payload.metadata)
