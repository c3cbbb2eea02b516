"""Files are private, and logs carry no secrets, no typed names and no false errors."""
from __future__ import annotations

import asyncio
import json
import logging
import stat
import warnings

import pytest
from fastapi.testclient import TestClient

from conftest import with_key
from moderation_service.logging_setup import configure_logging
from moderation_service.runtime import open_storage
from moderation_service.settings import Settings
from review_support import review_app


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_is_0700_and_the_database_0600(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    open_storage(settings)
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "moderation.db") == 0o600


def test_an_older_open_folder_and_database_are_tightened(tmp_path):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "moderation.db").touch(mode=0o644)
    data.chmod(0o755)
    (data / "moderation.db").chmod(0o644)
    open_storage(Settings(data_dir=data))
    assert (mode(data), mode(data / "moderation.db")) == (0o700, 0o600)


@pytest.fixture
def json_logs():
    import io

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("info", json_format=True)
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # the handler configure_logging installed, writing here
    yield lambda: [line for line in stream.getvalue().splitlines() if line.strip()]
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def test_third_party_urls_and_warnings_come_out_safe_and_as_json(json_logs):
    logging.getLogger("httpx").info('HTTP Request: POST https://hooks.example.com/h?token=s3cret "HTTP/1.1 200 OK"')
    from PIL import Image

    warnings.warn("Image size (90000000 pixels) exceeds limit", Image.DecompressionBombWarning)
    lines = json_logs()
    assert lines and all(json.loads(line) for line in lines)  # every line is one JSON object
    assert not any("s3cret" in line for line in lines)
    assert any("exceeds limit" in json.loads(line)["message"] for line in lines)


def test_a_413_is_logged_as_413_and_a_disconnect_is_not_an_error(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with TestClient(review_app(tmp_path)) as client:
        keyed = with_key(client)
        limit = client.app.state.settings.max_request_bytes
        response = keyed.put("/v1/webhooks/endpoint", content=b"x" * (limit + 1),
                             headers={"content-type": "application/json"})
        assert response.status_code == 413
        access = [r for r in caplog.records if r.name == "moderation_service.access"]
        assert access[-1].status == 413
        caplog.clear()
        key = keyed.headers["Authorization"]

        async def receive():
            return {"type": "http.disconnect"}

        async def send(_message):
            pass

        for content_type, path in ((b"application/json", "/v1/moderations"),
                                   (b"multipart/form-data; boundary=x", "/v1/moderations"),
                                   (b"text/csv", "/v1/banks/x/import")):
            scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
                     "headers": [(b"content-type", content_type), (b"authorization", key.encode())],
                     "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "scheme": "http",
                     "http_version": "1.1", "root_path": "", "app": client.app}
            asyncio.run(client.app(scope, receive, send))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]
    assert all(r.status != 500 for r in caplog.records if r.name == "moderation_service.access")
