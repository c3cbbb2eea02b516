"""Worker threads that serve their clients in turn: a ThreadPoolExecutor whose queue is a FairQueue.

Decoding an image can take a worker for seconds (an animation of 10^8 frame pixels is within the
limits). In arrival order, one client sending a handful of such uploads made another client's
small image wait behind all of them (3.8 s in a hostile review); here that image waits for at
most one decode per busy client.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable, Hashable

from moderation_service.fair_queue import FairQueue

_STOP = object()


class FairExecutor:
    def __init__(self, workers: int, name: str) -> None:
        self._queue = FairQueue()
        self._threads = [threading.Thread(target=self._serve, name=f"{name}_{index}", daemon=True)
                         for index in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, client: Hashable, function: Callable[..., Any], *args: Any) -> Future:
        """Runs ``function(*args)`` in ``client``'s turn. Cancelling the future before a worker
        takes it (a request that gave up waiting) skips it."""
        future: Future = Future()
        self._queue.put((future, function, args), client)
        return future

    def shutdown(self) -> None:
        """Lets the queued work finish, then stops every worker and waits for it."""
        for _ in self._threads:
            self._queue.put(_STOP, _STOP)
        for thread in self._threads:
            thread.join()

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            future, function, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(function(*args))
            except BaseException as exc:  # handed to the waiting request, as an executor does
                future.set_exception(exc)
