"""Hostile files and text through the API: a clean 4xx with a stable code, or a
sensible decision; never a 5xx, and nothing stored for a refused request."""
from __future__ import annotations

import base64
import sqlite3
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import with_key
from moderation_service.api.app import create_app
from moderation_service.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
from hostile_images import corpus  # noqa: E402

CORPUS = corpus()


@pytest.fixture(scope="module")
def client(tmp_path_factory, real_classifiers):
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile"), max_image_pixels=40_000_000)
    with TestClient(create_app(settings, real_classifiers)) as test_client:
        yield with_key(test_client)


def rows(client: TestClient) -> int:
    database = client.app.state.settings.data_dir / "moderation.db"
    with sqlite3.connect(database) as connection:
        return connection.execute("select count(*) from moderation_items").fetchone()[0]


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_hostile_image_gets_a_clean_answer(client, name):
    data, status, code = CORPUS[name]
    before = rows(client)
    response = client.post("/v1/moderations", json={"image": base64.b64encode(data).decode()})
    assert response.status_code == status, (name, response.text)
    if status == 200:
        assert response.json()["signals"]["nsfw"]["probability"] >= 0
        assert rows(client) == before + 1
    else:
        assert response.json()["error"]["code"].startswith(code or "image_")
        assert rows(client) == before


def test_the_same_files_as_multipart_uploads(client):
    for name in ("zero bytes", "SVG", "zlib bomb 12000x12000", "CMYK JPEG"):
        data, status, code = CORPUS[name]
        response = client.post("/v1/moderations", files={"image": ("upload", data, "application/octet-stream")})
        assert response.status_code == status, (name, response.text)
        if code:
            assert response.json()["error"]["code"] == code


PLAIN_ABUSE = "shut up you stupid bitch"
EVASIONS = {
    "control characters": "shut up you \x07stupid\x08 \x1b[31mbitch\x1b[0m",
    "right-to-left override": "\u202eshut up you stupid bitch\u202c",
    "zero-width joiners": "shut up you st\u200du\u200dp\u200did b\u200ditch",
    "l33t": "shut up you stup1d b1tch",
    "spaced letters": "shut up you s t u p i d b i t c h",
    "spaced letters, three words in one run": "shut up y o u s t u p i d b i t c h",
    "homoglyphs": "shut up you stupid b\u0456tch",
    "HTML tags inside words": "shut up you st<b></b>upid <i>b</i>itch",
    "HTML character references": "shut up you &#115;tupid b&#x69;tch",
    "percent-encoding": "shut%20up%20you%20stupid%20bitch",
    "code fence and comment marker": "```text\n# shut up you stupid bitch\n```",
    "emoji between the words": "shut up you \U0001f449 stupid bitch",
}


@pytest.mark.parametrize("name", list(EVASIONS))
def test_text_evasions_are_caught_like_the_plain_text(client, name):
    plain = client.post("/v1/moderations", json={"prompt": PLAIN_ABUSE}).json()
    assert plain["decision"] == "block"
    evasive = client.post("/v1/moderations", json={"prompt": EVASIONS[name]})
    assert evasive.status_code == 200
    assert evasive.json()["signals"]["toxicity"]["scores"]["toxic"] >= 0.8
    assert evasive.json()["decision"] in ("block", "review")


def test_homoglyphs_and_odd_text_are_answered_not_crashed(client):
    for prompt in ("раураl lоgin раgе", "\u0000null byte", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
                   "emoji 🧨💣" * 50):
        response = client.post("/v1/moderations", json={"prompt": prompt})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("prompt", ["\u200b\u200d\u2060", "\u0000", "\x1b[0m\u202e\ufeff", "\U000e0001\U000e007f"])
def test_a_prompt_of_invisible_characters_only_is_an_empty_request(client, prompt):
    response = client.post("/v1/moderations", json={"prompt": prompt})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "empty_request")
    assert "no text to moderate" in response.json()["error"]["message"]


def test_text_spelled_in_invisible_tag_characters_is_read(client):
    smuggled = "".join(chr(0xE0000 + ord(char)) for char in PLAIN_ABUSE)
    response = client.post("/v1/moderations", json={"prompt": smuggled})
    assert response.status_code == 200
    assert response.json()["decision"] == "block"


def test_a_megabyte_of_text_is_refused_cleanly(client):
    response = client.post("/v1/moderations", json={"prompt": "a" * 1_000_000})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "prompt_too_long")


def test_invalid_utf8_in_a_multipart_prompt(client):
    response = client.post("/v1/moderations", files={"prompt": (None, b"caf\xe9 \xff\xfe hello", "text/plain")})
    assert response.status_code in (200, 400, 422), response.text
    assert "error" in response.json() or response.json()["decision"]


def test_deeply_nested_json_is_refused(client):
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post("/v1/moderations", content=nested, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "too_deeply_nested")
    deep_metadata = '{"prompt": "hi", "metadata": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    response = client.post("/v1/moderations", content=deep_metadata, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "too_deeply_nested")


def test_an_oversized_body_is_refused_while_it_streams(client):
    limit = client.app.state.settings.max_image_bytes * 4 // 3 + 1024 * 1024

    def chunks():  # a well-formed file part that never ends, and no Content-Length
        yield b'--zzz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    response = client.post("/v1/moderations", content=chunks(),
                           headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert (response.status_code, response.json()["error"]["code"]) == (413, "request_too_large")
