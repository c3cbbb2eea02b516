"""`/docs` and `/redoc` load with no outside request: every asset the pages name is
served by the app itself, and headless Chromium, with every host but loopback
unresolvable, renders both pages. (The app has no classifiers: only its
OpenAPI document matters here.)"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import httpx
import pytest
from fastapi.testclient import TestClient

from review_support import ServedApp, review_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|(?:url|redoc_js_url)\s*:\s*['"]([^'"]+)['"]""")


@pytest.fixture
def app(tmp_path):
    return review_app(tmp_path / "data")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_a_docs_page_names_is_served_here(app, page):
    with TestClient(app) as client:
        html = client.get(page)
        assert html.status_code == 200
        references = [first or second for first, second in _REFERENCE.findall(html.text)]
        assert references, html.text
        assert not [ref for ref in references if "://" in ref or ref.startswith("//")], references
        assert "fonts.googleapis" not in html.text and "cdn.jsdelivr" not in html.text
        for reference in references:
            assert client.get(reference).status_code == 200, reference
        assert client.get("/openapi.json").status_code == 200


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize(("page", "rendered"), [
    ("/docs", re.compile(r'class="opblock-summary-path"[^>]*>.*?/v1/moderations', re.S)),
    # Text only the OpenAPI document holds: the raw page has neither.
    ("/redoc", re.compile(r"Moderates AI-generated prompts.*?/v1/moderations", re.S)),
])
def test_docs_pages_render_in_a_browser_that_reaches_only_loopback(app, page, rendered):
    with ServedApp(app) as served, tempfile.TemporaryDirectory() as profile:
        assert httpx.get(f"{served.url}{page}").status_code == 200
        result = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", f"--user-data-dir={profile}",
             # Any name but loopback fails to resolve: a CDN asset would leave the page blank.
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
             "--proxy-bypass-list=127.0.0.1", "--virtual-time-budget=15000", "--dump-dom", f"{served.url}{page}"],
            capture_output=True, text=True, timeout=120)
    assert rendered.search(result.stdout), result.stdout[-3000:] + result.stderr[-2000:]
