"""Slow and idle connections are closed: real sockets against a real uvicorn server on
127.0.0.1, started with the options `moderation serve` uses (api/slow_clients.py)."""
from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from moderation_service.api.slow_clients import server_options
from moderation_service.auth import ApiKeyStore
from review_support import review_app

SLOW_HEADERS, SLOW_BODIES, IDLE = 40, 20, 20


@pytest.fixture
def served(tmp_path):
    app = review_app(tmp_path, header_read_timeout_s=2, body_read_timeout_s=3)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, **server_options(app.state.settings, "127.0.0.1", port, "warning")))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    key = ApiKeyStore(app.state.storage.session_factory).create("slow", ["moderate"]).secret
    yield port, key
    server.should_exit = True
    thread.join(timeout=15)


def test_slowloris_headers_bodies_and_idle_sockets_are_all_closed(served):
    port, key = served
    head = b"PUT /v1/webhooks/endpoint HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 10_000 + b"\r\n\r\n"
    body_head = (b"PUT /v1/webhooks/endpoint HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + key.encode() + b"\r\nContent-Length: 5000\r\n\r\n")
    drips: list[tuple[socket.socket, bytes]] = []
    for i in range(SLOW_HEADERS + SLOW_BODIES + IDLE):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.settimeout(0.01)
        if i < SLOW_HEADERS:
            drips.append((sock, head))  # the request line and headers, one byte at a time
        elif i < SLOW_HEADERS + SLOW_BODIES:
            sock.sendall(body_head)
            drips.append((sock, b"x" * 5000))  # complete headers, then the body one byte at a time
        else:
            drips.append((sock, b""))  # connects and says nothing
    answers: list[bytes] = []
    open_sockets = dict(enumerate(drips))
    position = {i: 0 for i in open_sockets}
    deadline = time.monotonic() + 60  # the limits are 2 s and 3 s; without them every socket stays open
    while open_sockets and time.monotonic() < deadline:
        for i, (sock, data) in list(open_sockets.items()):
            try:
                received = sock.recv(65536)
                if received == b"":
                    raise ConnectionResetError
                answers.append(received)
            except socket.timeout:
                pass
            except OSError:
                sock.close()
                del open_sockets[i]
                continue
            try:
                if position[i] < len(data):
                    sock.send(data[position[i]:position[i] + 1])
                    position[i] += 1
            except OSError:
                sock.close()
                del open_sockets[i]
        # The service answers others meanwhile.
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        time.sleep(0.2)
    still_open = len(open_sockets)
    for sock, _ in open_sockets.values():
        sock.close()
    assert still_open == 0, f"{still_open} slow or idle connections were still open after 60 s"
    # Slow bodies were told why before the connection closed.
    assert sum(b"408" in answer and b"request_timeout" in answer for answer in answers) >= SLOW_BODIES // 2
