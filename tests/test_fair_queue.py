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
