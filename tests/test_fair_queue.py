"""The batcher's queue serves clients in turn."""
from __future__ import annotations

import threading

import pytest

from moderation_service.fair_queue import Empty, FairQueue


def test_clients_are_served_in_turn_and_each_in_its_own_order():
    queue = FairQueue()
    for i in range(4):
        queue.put(f"a{i}", "a")
    queue.put("b0", "b")
    queue.put("b1", "b")
    queue.put("c0", "c")
    assert [queue.get(0) for _ in range(7)] == ["a0", "b0", "c0", "a1", "b1", "a2", "a3"]
    assert len(queue) == 0


def test_get_times_out_and_wakes_on_put():
    queue = FairQueue()
    with pytest.raises(Empty):
        queue.get(0)
    with pytest.raises(Empty):
        queue.get(0.01)
    threading.Timer(0.01, queue.put, args=("x", None)).start()
    assert queue.get(5) == "x"


# --- the decoders' executor: the same turns, on worker threads ----------------------------------


def test_the_executor_serves_a_waiting_client_before_a_busy_one_s_backlog():
    from moderation_service.fair_executor import FairExecutor

    executor = FairExecutor(1, "test-decode")
    started, release, order = threading.Event(), threading.Event(), []

    def hold() -> str:  # a costly decode occupying the only worker
        started.set()
        release.wait(10)
        return "held"

    try:
        first = executor.submit("busy", hold)
        assert started.wait(10)
        backlog = [executor.submit("busy", order.append, f"busy-{index}") for index in range(5)]
        other = executor.submit("other", order.append, "other")
        release.set()
        other.result(10)
        for future in backlog:
            future.result(10)
        assert first.result(10) == "held"
        assert order.index("other") == 1  # after one of the busy client's, not after all five
    finally:
        release.set()
        executor.shutdown()


def test_the_executor_skips_cancelled_work_and_hands_errors_to_the_caller():
    from moderation_service.fair_executor import FairExecutor

    executor = FairExecutor(1, "test-decode")
    started, release, ran = threading.Event(), threading.Event(), []
    try:
        executor.submit("a", lambda: (started.set(), release.wait(10)))
        assert started.wait(10)
        gave_up = executor.submit("a", ran.append, "cancelled")
        assert gave_up.cancel()  # a request that stopped waiting before its turn
        failing = executor.submit("b", int, "not a number")
        release.set()
        with pytest.raises(ValueError):
            failing.result(10)
        executor.submit("a", ran.append, "after").result(10)
        assert ran == ["after"]
    finally:
        release.set()
        executor.shutdown()
