"""Image decoding in child processes with a hard deadline (``MODERATION_DECODE_ISOLATION=process``).

The decode limits bound the work of every decoder we know of; this bounds the
rest. Each worker process decodes one image at a time; a decode past its
deadline is ended by killing its process (a new one starts on the next
request), so no worker is ever left stalled, and a decoder that crashes
takes only its own process down. Workers are started with ``spawn`` (safe
beside the service's threads) when first needed. The decoded views come back
pickled: at most 20 views of 512 pixels, or one of 2048.
"""
from __future__ import annotations

import multiprocessing
import queue
import threading
from multiprocessing.connection import Connection

from classifiers.base import DecodedImage
from moderation_service.images import ImageLimits, ImageRejected, decode_image


_START_TIMEOUT_S = 120  # importing Pillow and numpy in a new process; not part of any decode's deadline


def _serve(connection: Connection) -> None:
    connection.send("ready")  # this module, and so the decoder, is imported by now
    while True:
        try:
            data, limits = connection.recv()
        except (EOFError, OSError):
            return
        try:
            connection.send((True, decode_image(data, limits)))
        except ImageRejected as exc:
            connection.send((False, (exc.code, exc.status, exc.message)))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, the worker goes on
            connection.send((False, ("image_invalid", 422, f"the image could not be decoded: {type(exc).__name__}")))


class _Worker:
    def __init__(self, context) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), name="image-decoder", daemon=True)
        self.process.start()
        child.close()
        if not self.connection.poll(_START_TIMEOUT_S) or self.connection.recv() != "ready":
            self.kill()
            raise RuntimeError("an image decoder process did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class DecodePool:
    """``decode`` blocks its (decode) thread; ``workers`` decodes run at once."""

    def __init__(self, workers: int, limits: ImageLimits, timeout_s: float) -> None:
        self.limits = limits
        self.timeout_s = timeout_s
        self.killed = 0  # decodes ended at their deadline (or by a crash)
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._slots = threading.Semaphore(workers)
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()

    def decode(self, data: bytes) -> DecodedImage:
        """Raises ``ImageRejected``: the decoder's own, or ``image_too_costly`` past the deadline."""
        with self._slots:
            worker = self._take()
            try:
                worker.connection.send((data, self.limits))
                if not worker.connection.poll(self.timeout_s):
                    self._discard(worker)
                    raise ImageRejected("image_too_costly", 422,
                                        f"the image was not decoded within {round(self.timeout_s * 1000)} ms")
                ok, payload = worker.connection.recv()
            except (EOFError, OSError, BrokenPipeError):
                self._discard(worker)
                raise ImageRejected("image_too_costly", 422, "the decoder stopped on this image") from None
            except BaseException:
                if worker.process.is_alive() and worker in self._all:
                    self._discard(worker)  # a half-finished exchange: do not reuse
                raise
            self._idle.put(worker)
        if ok:
            return payload
        raise ImageRejected(*payload)

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()

    def pids(self) -> set[int]:
        with self._lock:
            return {worker.process.pid for worker in self._all}

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            worker = _Worker(self._context)
            with self._lock:
                self._all.add(worker)
            return worker

    def _discard(self, worker: _Worker) -> None:
        self.killed += 1
        with self._lock:
            self._all.discard(worker)
        worker.kill()
