"""Structured JSON logs that carry the request id and never the content.

Nothing here logs prompts, images or personal data: access lines hold the
method, the path template, the status and the duration only.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := request_id_var.get()) is not None:
            entry["request_id"] = request_id
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "info", json_format: bool = True) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_format else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_third_party_loggers()
    logging.captureWarnings(True)  # Pillow's and others' warnings become JSON lines, not bare stderr text


def quiet_third_party_loggers() -> None:
    """httpx logs every request's full URL at INFO, and a webhook URL may carry a token in its query."""
    for name in ("httpx", "httpcore", "httpx2", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)


def accept_request_id(header: str | None) -> str:
    """The caller's X-Request-ID when it is sane, otherwise a fresh one."""
    return header if header and _VALID_REQUEST_ID.match(header) else uuid.uuid4().hex
