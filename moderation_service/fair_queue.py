"""A thread-safe queue that serves its producers in turn (round robin per client).

A model thread takes work from one queue; in arrival order, one client that
sends many costly items (8,000-character prompts) would make every other
client wait behind all of them. Here each client has its own line and the
consumer takes one item from each line in turn, so another client's item
waits for at most one item per busy client, however many those have queued.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Any, Hashable


class Empty(Exception):
    """Raised by ``get`` when nothing arrived before the timeout."""


class FairQueue:
    def __init__(self) -> None:
        self._lines: OrderedDict[Hashable, deque[Any]] = OrderedDict()
        self._ready = threading.Condition()

    def put(self, item: Any, client: Hashable = None) -> None:
        with self._ready:
            self._lines.setdefault(client, deque()).append(item)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> Any:
        """The next item in turn; blocks up to ``timeout`` seconds (None: forever, 0: not at all)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            while not self._lines:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Empty
                self._ready.wait(remaining)
            client, line = next(iter(self._lines.items()))
            item = line.popleft()
            # This client goes to the back of the turn order; an empty line is dropped.
            del self._lines[client]
            if line:
                self._lines[client] = line
            return item

    def __len__(self) -> int:
        with self._ready:
            return sum(len(line) for line in self._lines.values())
