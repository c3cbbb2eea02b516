"""Connections that send slowly are closed, so idle sockets cannot pile up.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` but has no
limit on how long a request line and headers may take to arrive: a client sending a
header byte every few seconds holds its socket forever (slowloris). This protocol
arms a deadline when a connection opens and when each new request begins, and
closes the connection if the headers are not complete by then
(``MODERATION_HEADER_READ_TIMEOUT_S``). The body's own deadline is the edge guard's
(``body_read_timeout_s``: ``408 request_timeout``, then the connection closes).
"""
from __future__ import annotations

import os
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_VARIABLE = "MODERATION_HEADER_READ_TIMEOUT_S"
KEEP_ALIVE_S = 5


class HeaderDeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read here, not passed in: `serve --workers N` starts each worker from the environment.
        self.header_timeout_s = float(os.environ.get(HEADER_TIMEOUT_VARIABLE, "10"))
        self._header_deadline = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def server_options(settings, host: str, port: int, log_level: str) -> dict[str, Any]:
    """uvicorn options for `moderation serve`; tests serve with the same ones."""
    os.environ[HEADER_TIMEOUT_VARIABLE] = str(settings.header_read_timeout_s)
    # Our access lines carry the request id and no query strings; uvicorn's own are off.
    return dict(host=host, port=port, log_level=log_level, access_log=False, log_config=None,
                http=HeaderDeadlineProtocol, timeout_keep_alive=KEEP_ALIVE_S)
