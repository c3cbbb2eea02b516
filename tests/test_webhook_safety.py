"""Webhooks reach only the client's own public endpoint, read a bounded reply within one
deadline, and one slow receiver delays only its own client. Receivers here are raw
sockets on 127.0.0.1, reachable only where a test puts loopback on the allow-list."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient

from conftest import with_key
from moderation_service.db.tables import ModerationItem, WebhookDelivery
from moderation_service.review.config import ReviewSettings
from moderation_service.review.webhook_targets import GuardedBackend, TargetRefused, check_url, parse_networks
from moderation_service.review.webhooks import WebhookDispatcher, enqueue_event, register_endpoint
from moderation_service.runtime import open_storage
from moderation_service.settings import Settings
from review_support import queued_item, review_app

LOOPBACK = ["127.0.0.0/8"]
REFUSED_URLS = [
    "http://127.0.0.1:8000/v1/policies/reload", "http://localhost/hook", "http://LOCALHOST./hook",
    "http://[::1]/hook", "http://0.0.0.0/hook", "http://2130706433/hook", "http://0x7f000001/hook",
    "http://0177.0.0.1/hook", "http://127.1/hook", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.1/hook", "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://100.64.0.1/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:a9fe:a9fe]/hook", "http://[fe80::1]/hook",
    "http://[fc00::1]/hook", "http://224.0.0.1/hook", "http://[ff02::1]/hook", "http://240.0.0.1/hook",
    "ftp://hooks.example.com/x", "file:///etc/passwd", "gopher://hooks.example.com/",
    "https://user:secret@hooks.example.com/hook", "https://token@hooks.example.com/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_or_odd_urls_are_refused(url):
    with pytest.raises(TargetRefused):
        check_url(url)


def test_public_urls_pass_and_the_allow_list_opens_loopback():
    check_url("https://hooks.example.com/moderation?token=abc")
    check_url("http://93.184.216.34:8080/hook")
    check_url("http://127.0.0.1:9/hook", parse_networks(LOOPBACK))
    with pytest.raises(TargetRefused):
        check_url("http://10.0.0.1/hook", parse_networks(LOOPBACK))


def test_registration_refuses_them_with_a_stable_code(tmp_path):
    with TestClient(review_app(tmp_path)) as client:
        upstream = with_key(client)
        for url in ["http://127.0.0.1:8000/x", "http://2130706433/", "http://169.254.169.254/",
                    "https://u:p@hooks.example.com/", "ftp://hooks.example.com/"]:
            response = upstream.put("/v1/webhooks/endpoint", json={"url": url})
            assert response.status_code == 422, (url, response.text)
            assert response.json()["error"]["code"] in ("invalid_webhook_url", "invalid_request"), url
        assert upstream.put("/v1/webhooks/endpoint", json={"url": "https://hooks.example.com/x"}).status_code == 200


def test_the_address_is_checked_when_connecting_so_dns_cannot_point_it_home():
    with pytest.raises(TargetRefused):  # "localhost" resolves to loopback at connect time
        asyncio.run(GuardedBackend().connect_tcp("localhost", 9))


class Receiver:
    """A raw HTTP receiver on 127.0.0.1. mode: ok (204), fail (500), drip (a reply one byte at a
    time, never ending), huge (announces 1 GiB and writes until the client leaves), stall (never answers)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self.bytes_sent = 0
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += connection.recv(65536)
            self.requests += 1
            if self.mode in ("ok", "fail"):
                status = b"204 No Content" if self.mode == "ok" else b"500 Internal Server Error"
                connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
            elif self.mode == "huge":
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
                chunk = b"\0" * 65536
                while not self.stop.is_set() and self.bytes_sent < 1 << 30:
                    connection.sendall(chunk)
                    self.bytes_sent += len(chunk)
            elif self.mode == "drip":
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000:
                    if self.stop.wait(0.2):
                        break
                    connection.sendall(bytes([byte]))
            elif self.mode == "stall":
                self.stop.wait(120)
        except OSError:
            pass  # the dispatcher hung up: what a bounded read should do
        finally:
            connection.close()
            self.finished.set()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def storage(tmp_path):
    return open_storage(Settings(data_dir=tmp_path, index_sync_interval_s=0))


def enqueue(storage, client: str, url: str) -> int:
    register_endpoint(storage.session_factory, client, url)
    item_id = queued_item(storage.repository, client=client)
    with storage.session_factory.begin() as session:
        enqueue_event(session, session.get(ModerationItem, item_id), "review.decided", {"verdict": "approve"})
    with storage.session_factory() as session:
        return max(row.id for row in session.query(WebhookDelivery).filter_by(client=client))


def delivery(storage, delivery_id: int) -> WebhookDelivery:
    with storage.session_factory() as session:
        return session.get(WebhookDelivery, delivery_id)


def dispatcher(storage, **settings) -> WebhookDispatcher:
    return WebhookDispatcher(storage.session_factory, ReviewSettings(**settings))


def test_without_the_allow_list_nothing_is_sent_to_loopback(storage):
    receiver = Receiver("ok")
    try:
        ids = [enqueue(storage, "a", receiver.url), enqueue(storage, "b", "http://localhost:9/x"),
               enqueue(storage, "c", receiver.url.replace("127.0.0.1", "2130706433"))]
        assert dispatcher(storage).deliver_due() == 3
        for delivery_id in ids:
            assert delivery(storage, delivery_id).attempt_log[0]["error"].startswith("refused"), delivery_id
        assert receiver.requests == 0
        assert dispatcher(storage, webhook_allowed_networks=LOOPBACK, webhook_backoff_s=0.01).deliver_due() == 0
    finally:
        receiver.close()


def test_with_loopback_allowed_a_delivery_arrives(storage):
    receiver = Receiver("ok")
    try:
        delivery_id = enqueue(storage, "a", receiver.url)
        assert dispatcher(storage, webhook_allowed_networks=LOOPBACK).deliver_due() == 1
        assert delivery(storage, delivery_id).status == "delivered" and receiver.requests == 1
    finally:
        receiver.close()


def test_a_huge_reply_is_not_read(storage):
    receiver = Receiver("huge")
    try:
        delivery_id = enqueue(storage, "a", receiver.url)
        dispatcher(storage, webhook_allowed_networks=LOOPBACK, webhook_timeout_s=30).deliver_due()
        assert delivery(storage, delivery_id).attempt_log[0]["status_code"] == 200
        assert receiver.finished.wait(30)
        # What the receiver got into socket buffers before the dispatcher hung up; not 1 GiB.
        assert receiver.bytes_sent < 64 * 1024 * 1024
    finally:
        receiver.close()


def test_a_dripping_reply_ends_at_the_attempt_deadline(storage):
    receiver = Receiver("drip")
    try:
        delivery_id = enqueue(storage, "a", receiver.url)
        worker = threading.Thread(target=dispatcher(storage, webhook_allowed_networks=LOOPBACK,
                                                    webhook_timeout_s=1.5).deliver_due)
        worker.start()
        worker.join(120)  # it drips for 20,000 s otherwise
        assert not worker.is_alive()
        assert "within 1.5 s" in delivery(storage, delivery_id).attempt_log[0]["error"]
    finally:
        receiver.close()


def test_a_slow_receiver_delays_only_its_own_client(storage):
    slow, fast = Receiver("stall"), Receiver("ok")
    running = dispatcher(storage, webhook_allowed_networks=LOOPBACK, webhook_timeout_s=90, webhook_poll_s=0.05)
    try:
        stalled = enqueue(storage, "slow-client", slow.url)  # older, so first in line
        quick = enqueue(storage, "fast-client", fast.url)
        running.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and delivery(storage, quick).status != "delivered":
            time.sleep(0.05)
        assert delivery(storage, quick).status == "delivered"
        assert slow.requests == 1 and not slow.finished.is_set()  # still waiting on the slow one
        assert delivery(storage, stalled).attempts == 0
    finally:
        slow.close()
        fast.close()
        running.stop()


def test_a_retry_goes_to_the_url_the_delivery_was_created_for(storage):
    first, later = Receiver("fail"), Receiver("ok")
    try:
        delivery_id = enqueue(storage, "a", first.url)
        sender = dispatcher(storage, webhook_allowed_networks=LOOPBACK, webhook_backoff_s=0.01)
        assert sender.deliver_due() == 1
        register_endpoint(storage.session_factory, "a", later.url)
        time.sleep(0.05)
        assert sender.deliver_due() == 1
        assert first.requests == 2 and later.requests == 0
        assert len(delivery(storage, delivery_id).attempt_log) == 2
    finally:
        first.close()
        later.close()
