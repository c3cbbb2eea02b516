"""Hash-bank endpoints (admin): banks, entries, import/export, lookups and quarantine."""
from __future__ import annotations

import codecs
import tempfile
from typing import Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from moderation_service.api.request_parsing import decode_base64_image
from moderation_service.api.schemas import AUTH_ERRORS, error_responses
from moderation_service.auth import Principal, require_scope
from moderation_service.banks.errors import bad_hash
from moderation_service.banks.runtime import Banks
from moderation_service.banks.signals import HashFormatError
from moderation_service.banks.store import NewEntry, checked_entry, checked_label
from moderation_service.banks.transfer import export_lines, import_entries
from moderation_service.errors import ApiError
from moderation_service.image_views import view_entries, view_hashes
from moderation_service.images import ImageRejected, decode_image

MAX_ID = 2**62
SPOOL_IN_MEMORY = 1 << 20  # an import beyond 1 MiB spools to a temporary file, never all in memory


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BankCreate(_Strict):
    name: str = Field(max_length=64)
    purpose: Literal["block", "allow", "watch"]
    thresholds: dict[str, int] = Field(default_factory=dict, description="signal type -> max distance")
    description: str | None = Field(None, max_length=2000)


class BankUpdate(_Strict):
    thresholds: dict[str, int]


class EntryIn(_Strict):
    signal_type: str = Field(max_length=32)
    hash: str = Field(max_length=128)
    label: str | None = Field(None, description="at most 255 characters (422 label_too_long)")


class EntriesIn(_Strict):
    """Hashes (``entries``), or a still image (base64) hashed as moderation hashes it, with a ``label``."""

    entries: list[EntryIn] | None = Field(None, min_length=1, max_length=1000)
    image: str | None = None
    label: str | None = Field(None, description="at most 255 characters (422 label_too_long)")


class LookupIn(_Strict):
    """A hash (``signal_type`` and ``hash``), or an image (base64) to hash as moderation does."""

    signal_type: str | None = Field(None, max_length=32)
    hash: str | None = Field(None, max_length=128)
    image: str | None = None


def bank_router(banks: Banks, state, settings) -> APIRouter:
    router = APIRouter(prefix="/v1/banks", tags=["banks"])
    admin = require_scope("admin")

    @router.get("", summary="Every bank, with its purpose, thresholds and size",
                responses=error_responses(*AUTH_ERRORS))
    def list_banks(_principal: Principal = admin) -> JSONResponse:
        return JSONResponse({"banks": banks.store.list_banks(), "index": banks.matcher.stats()})

    @router.post("", status_code=201, summary="Create a bank", responses=error_responses(409, *AUTH_ERRORS))
    def create_bank(body: BankCreate, _principal: Principal = admin) -> JSONResponse:
        created = banks.store.create_bank(body.name, body.purpose, body.thresholds, body.description)
        banks.sync.sync_once()
        return JSONResponse(created, status_code=201)

    @router.get("/quarantine", summary="Entries quarantined for matching far above their usual rate",
                responses=error_responses(*AUTH_ERRORS))
    def quarantined(_principal: Principal = admin) -> JSONResponse:
        return JSONResponse({"entries": banks.store.quarantined()})

    @router.post("/quarantine/{entry_id}/release",
                 summary="Let a quarantined entry match again; retro-hunt then takes down the published items "
                         "it matches, without the flood limit",
                 responses=error_responses(404, *AUTH_ERRORS))
    def release(entry_id: int = Path(ge=1, le=MAX_ID), _principal: Principal = admin) -> JSONResponse:
        banks.store.release(entry_id)
        banks.sync.sync_once()
        return JSONResponse({"released": entry_id})

    @router.post("/lookup", summary="Which banks match a hash or an image, at what distance, and which entry",
                 responses=error_responses(400, 413, 415, 503, *AUTH_ERRORS))
    def lookup(body: LookupIn, _principal: Principal = admin) -> JSONResponse:
        if body.image is not None:
            hashes = _image_hashes(body.image)
        elif body.signal_type is not None and body.hash is not None:
            try:
                entry = checked_entry(body.signal_type, body.hash, None)
            except HashFormatError as exc:
                raise bad_hash(exc) from exc
            hashes = {entry.signal_type: [entry.hash]}
        else:
            raise ApiError(422, "lookup_invalid", "send signal_type and hash, or an image")
        return JSONResponse({"hashes": hashes, **banks.matcher.lookup(hashes).model_dump(mode="json")})

    @router.get("/{name}", summary="One bank", responses=error_responses(404, *AUTH_ERRORS))
    def get_bank(name: str, _principal: Principal = admin) -> JSONResponse:
        return JSONResponse(banks.store.get_bank(name))

    @router.patch("/{name}", summary="Change a bank's per-signal thresholds",
                  responses=error_responses(404, *AUTH_ERRORS))
    def update_bank(name: str, body: BankUpdate, _principal: Principal = admin) -> JSONResponse:
        updated = banks.store.set_thresholds(name, body.thresholds)
        banks.sync.sync_once()
        return JSONResponse(updated)

    @router.delete("/{name}", status_code=204, summary="Delete a bank and its entries",
                   responses=error_responses(404, *AUTH_ERRORS))
    def delete_bank(name: str, _principal: Principal = admin) -> Response:
        banks.store.delete_bank(name)
        banks.sync.sync_once()
        return Response(status_code=204)

    @router.get("/{name}/entries", summary="A page of a bank's entries, by id",
                responses=error_responses(404, *AUTH_ERRORS))
    def list_entries(name: str, after_id: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(100, ge=1, le=1000),
                     _principal: Principal = admin) -> JSONResponse:
        return JSONResponse({"entries": banks.store.list_entries(name, after_id, limit)})

    @router.post("/{name}/entries", status_code=201,
                 summary="Add entries: hashes, or a still image hashed as moderation does (a hash already present "
                         "is returned as is)",
                 responses=error_responses(400, 404, 413, 415, 422, 503, *AUTH_ERRORS))
    def add_entries(name: str, body: EntriesIn, _principal: Principal = admin) -> JSONResponse:
        if (body.entries is None) == (body.image is None) or (body.label is not None and body.image is None):
            raise ApiError(422, "entries_invalid", "send entries (each with its own label), or an image and an "
                           "optional label")
        banks.store.require_bank(name)  # 404 before an image is decoded
        withheld = []
        if body.image is not None:
            try:
                label = checked_label(body.label)
            except HashFormatError as exc:
                raise bad_hash(exc) from exc
            entries, withheld = _image_entries(body.image, label)
        else:
            try:
                entries = [checked_entry(e.signal_type, e.hash, e.label) for e in body.entries]
            except HashFormatError as exc:
                raise bad_hash(exc) from exc
        added = banks.store.add_entries(name, entries, source="api")
        banks.sync.sync_once()
        return JSONResponse({"entries": added, **({"withheld": withheld} if body.image is not None else {})},
                            status_code=201)

    @router.delete("/{name}/entries/{entry_id}", status_code=204, summary="Remove one entry",
                   responses=error_responses(404, *AUTH_ERRORS))
    def remove_entry(name: str, entry_id: int = Path(ge=1, le=MAX_ID), _principal: Principal = admin) -> Response:
        banks.store.remove_entry(name, entry_id)
        banks.sync.sync_once()
        return Response(status_code=204)

    @router.post("/{name}/import", summary="Import entries, all or nothing: CSV signal_type,hash,label or HMA JSON lines",
                 responses=error_responses(404, 413, 422, *AUTH_ERRORS),
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "text/csv": {"schema": {"type": "string"}},
                     "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def import_bank(name: str, request: Request, format: Literal["csv", "hma"] = Query("csv"),
                          _principal: Principal = admin) -> JSONResponse:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spooled:
            blank = True
            async for chunk in request.stream():
                spooled.write(chunk)
                blank = blank and not chunk.strip()
            if blank:
                # curl sends an empty body when `@file` does not exist: say so rather than import nothing.
                raise ApiError(422, "import_empty", "the body is empty: send CSV lines signal_type,hash,label "
                               "(or HMA JSON lines with format=hma); with curl, check the @file path")
            spooled.seek(0)
            result = await run_in_threadpool(_import_spooled, banks, name, spooled, format)
        banks.sync.sync_once()
        return JSONResponse(result)

    @router.get("/{name}/export", summary="Every entry, streamed: CSV signal_type,hash,label or HMA JSON lines",
                responses={**error_responses(404, *AUTH_ERRORS), 200: {"content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}}}}})
    def export_bank(name: str, format: Literal["csv", "hma"] = Query("csv"),
                    _principal: Principal = admin) -> StreamingResponse:
        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return StreamingResponse(export_lines(banks.store, name, format), media_type=media)

    def _decoded(encoded: str):
        data = decode_base64_image(encoded, settings.max_image_bytes)  # as /v1/moderations reads it
        if not data:
            raise ApiError(400, "image_empty", "the image is empty")
        try:
            image = decode_image(data, settings.image_limits)
        except ImageRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc
        return image

    def _hash_signals(image) -> dict[str, dict]:
        """The image_hash and pdq signals of a decoded image as moderation computes them (those configured)."""
        service = state.require()
        return {name: service.classifiers[name].classify(image).model_dump(mode="json")
                for name in ("image_hash", "pdq") if name in service.classifiers}

    def _image_hashes(encoded: str) -> dict[str, list[str]]:
        image = _decoded(encoded)
        signals = _hash_signals(image)
        hashes = {"sha256": [image.sha256]}
        # None below the quality floor: a blank hash would match every flat image
        if phash := (signals.get("image_hash") or {}).get("phash"):
            hashes["phash"] = [phash]
        if (pdq := signals.get("pdq") or {}).get("hash"):
            hashes["pdq"] = [pdq["hash"], *pdq.get("dihedral", [])]
        return hashes

    def _image_entries(encoded: str, label: str | None) -> tuple[list[NewEntry], list[str]]:
        """A still image's entries: its sha256, and the pHash and PDQ of each view (a transparent
        picture on light and dark) above the quality floor, PDQ with its flips and rotations as
        ``variants`` (retro-hunt searches them); and the hash types withheld as too flat to match.
        An animation is refused: banking every sampled frame would bank its benign ones too."""
        image = _decoded(encoded)
        if image.frame_count > 1:
            raise ApiError(422, "image_animated", f"the image has {image.frame_count} frames: bank a still of "
                           "the frame that should be blocked (every sampled frame, a title card too, would be banked)")
        signals = _hash_signals(image)
        entries = view_entries(view_hashes(signals), label)
        found = {entry.signal_type for entry in entries}
        entries.append(NewEntry("sha256", image.sha256, label))
        ran = {"phash": "image_hash" in signals, "pdq": "pdq" in signals}
        return entries, [kind for kind in ("phash", "pdq") if ran[kind] and kind not in found]

    return router


def _import_spooled(banks: Banks, name: str, spooled, file_format: str) -> dict:
    lines = codecs.getreader("utf-8-sig")(spooled, errors="strict")
    try:
        return import_entries(banks.store, name, _lines(lines), source="import", file_format=file_format)
    except UnicodeDecodeError as exc:
        raise ApiError(422, "import_invalid", f"the file is not UTF-8 (byte {exc.start} of a chunk)") from None


def _lines(reader):
    """Lines with their endings, read a line at a time (csv needs the newlines inside quotes)."""
    while line := reader.readline():
        yield line
