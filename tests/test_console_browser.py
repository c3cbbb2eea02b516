"""The real API (`moderation serve`) and the real console (`streamlit run`), loaded in headless Chromium.

Chromium is driven over the DevTools protocol: the page must show the queue
overview and a blurred image, and a screenshot is saved under artifacts/.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from conftest import PROJECT_ROOT, encode, synthetic_scene
from review_support import PASSWORD, queued_item

MODERATION = Path(sys.executable).with_name("moderation")
ARTIFACTS = PROJECT_ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,900"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium; .ci/run installs it)")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the process exited: {process.stdout.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def seed(data_dir: Path) -> None:
    """Two queued items with images, written through the repository before the API starts."""
    from moderation_service.db.engine import make_engine, make_session_factory, upgrade_to_head
    from moderation_service.image_store import ImageStore
    from moderation_service.repository import ModerationRepository

    data_dir.mkdir(parents=True)
    url = f"sqlite:///{data_dir / 'moderation.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    repository = ModerationRepository(make_session_factory(engine))
    for seed_number, age_s in ((9, 60.0), (10, 0.0)):  # the older one is claimed first
        queued_item(repository, image=encode(synthetic_scene(seed_number)), image_store=ImageStore(data_dir / "images"),
                    age_s=age_s)
    engine.dispose()


class DevTools:
    """Just enough of the DevTools protocol: evaluate JavaScript and take a screenshot."""

    def __init__(self, port: int) -> None:
        from websockets.sync.client import connect

        deadline = time.monotonic() + 30
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                page = next(t for t in targets if t["type"] == "page")
                break
            except (httpx.TransportError, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        self._socket = connect(page["webSocketDebuggerUrl"], max_size=50 * 2**20).__enter__()
        self._id = 0

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self._socket.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == self._id:
                return message.get("result", {})

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def press(self, key: str) -> None:
        """A real key press, as the keyboard sends it to the focused page."""
        code = f"Key{key.upper()}" if key.isalpha() else f"Digit{key}"
        self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, text=key,
                  windowsVirtualKeyCode=ord(key.upper()))
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=ord(key.upper()))

    def close(self) -> None:
        self._socket.close()


def test_console_renders_queue_and_blurred_image_in_chromium(tmp_path):
    data_dir = tmp_path / "data"
    seed(data_dir)
    env = {**os.environ, "MODERATION_DATA_DIR": str(data_dir), "MODERATION_NEW_USER_PASSWORD": PASSWORD}
    subprocess.run([str(MODERATION), "users", "create", "--username", "alice", "--role", "reviewer"], env=env,
                   check=True, capture_output=True, timeout=120)
    api_port, ui_port, devtools_port = free_port(), free_port(), free_port()
    processes = []
    try:
        api = subprocess.Popen([str(MODERATION), "serve", "--port", str(api_port), "--log-format", "text"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(api)
        api_url = f"http://127.0.0.1:{api_port}"
        wait_until_up(f"{api_url}/healthz", api)  # the review routes do not wait for the models
        token = httpx.post(f"{api_url}/v1/auth/login", json={"username": "alice", "password": PASSWORD}).json()["token"]
        claimed = httpx.post(f"{api_url}/v1/review/claim", json={"queue": "default"},
                             headers={"Authorization": f"Bearer {token}"}).json()
        assert claimed["item"]["has_image"]
        ui_env = {**os.environ, "MODERATION_API_URL": api_url, "MODERATION_REVIEW_TOKEN": token}
        ui = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "review_ui" / "app.py"),
                               "--server.headless", "true", "--server.port", str(ui_port),
                               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
                              env=ui_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(ui)
        wait_until_up(f"http://127.0.0.1:{ui_port}/_stcore/health", ui)
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        browser = subprocess.Popen([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                    f"--remote-debugging-port={devtools_port}", "about:blank"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(browser)
        devtools = DevTools(devtools_port)
        devtools.call("Page.navigate", url=f"http://127.0.0.1:{ui_port}/")
        deadline = time.monotonic() + 60
        seen = {}
        while time.monotonic() < deadline:
            seen = devtools.evaluate("""({
                text: document.body ? document.body.innerText : "",
                images: [...document.querySelectorAll("img")].filter(i => i.complete && i.naturalWidth > 0).length
            })""") or {}
            text = seen.get("text", "")
            if "Queues" in text and "blurred — press v to reveal" in text and seen.get("images", 0) >= 1:
                break
            time.sleep(0.5)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = devtools.call("Page.captureScreenshot", format="png")
        screenshot = ARTIFACTS / "review_console.png"
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        text = seen.get("text", "")
        assert "Queues" in text and "default" in text, text[:2000]
        assert "blurred — press v to reveal" in text, text[:2000]
        assert seen.get("images", 0) >= 1, "no image rendered"
        assert screenshot.stat().st_size > 10_000

        # Decide with the keyboard alone: r rejects the open item, n claims the next, a approves it.
        reviewer = {"Authorization": f"Bearer {token}"}

        def review_of(item_id: str) -> dict:
            return httpx.get(f"{api_url}/v1/review/{item_id}", headers=reviewer).json()["review"]

        def wait_for(predicate) -> bool:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if predicate():
                    return True
                time.sleep(0.3)
            return False

        first_id = claimed["item"]["id"]
        devtools.press("r")
        assert wait_for(lambda: review_of(first_id)["status"] == "decided"), review_of(first_id)
        assert review_of(first_id)["verdict"] == "reject"
        time.sleep(1)  # let the console rerun after the verdict
        devtools.press("n")
        def held() -> list[str]:
            return [entry["id"] for entry in httpx.get(f"{api_url}/v1/review/mine", headers=reviewer).json()["items"]]

        assert wait_for(lambda: bool(held())), "n did not claim the next item"
        [second_id] = held()
        assert wait_for(lambda: "blurred — press v to reveal" in (devtools.evaluate("document.body.innerText") or ""))
        time.sleep(1)
        devtools.press("a")
        assert wait_for(lambda: review_of(second_id)["status"] == "decided"), review_of(second_id)
        assert review_of(second_id)["verdict"] == "approve"
        devtools.close()
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

