"""The model's queue: first come, first served, each waiter told its place, a leaver never blocks the rest."""

from __future__ import annotations

import threading
import time

import pytest

from bot.slots import Cancelled, SlotQueue


def _hold(queue: SlotQueue, release: threading.Event, log: list[str], name: str, places: list[int] | None = None):
    with queue.turn(on_wait=places.append if places is not None else None):
        log.append(name)
        assert release.wait(10)


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_waiters_are_served_in_order_and_told_how_many_are_ahead():
    queue, log, release = SlotQueue(2), [], threading.Event()
    holders = [threading.Thread(target=_hold, args=(queue, release, log, f"h{i}")) for i in range(2)]
    for t in holders:
        t.start()
    _wait_for(lambda: len(log) == 2)
    places: dict[str, list[int]] = {"w1": [], "w2": []}
    waiters = []
    for name in ("w1", "w2"):
        waiters.append(threading.Thread(target=_hold, args=(queue, release, log, name, places[name])))
        waiters[-1].start()
        _wait_for(lambda name=name: bool(places[name]))
    assert queue.waiting == 2 and places == {"w1": [0], "w2": [1]}
    release.set()
    for t in holders + waiters:
        t.join(5)
    assert log[2:] == ["w1", "w2"] and queue.waiting == 0


def test_a_cancelled_waiter_leaves_the_queue_and_the_next_one_moves_up():
    queue, log, release = SlotQueue(1), [], threading.Event()
    holder = threading.Thread(target=_hold, args=(queue, release, log, "h"))
    holder.start()
    _wait_for(lambda: log == ["h"])
    left, errors, places = threading.Event(), [], []

    def leaver() -> None:
        try:
            with queue.turn(cancelled=left):
                log.append("leaver")
        except Cancelled:
            errors.append("cancelled")

    first = threading.Thread(target=leaver)
    first.start()
    _wait_for(lambda: queue.waiting == 1)
    second = threading.Thread(target=_hold, args=(queue, release, log, "next", places))
    second.start()
    _wait_for(lambda: places == [1])
    left.set()
    _wait_for(lambda: errors == ["cancelled"])
    _wait_for(lambda: places == [1, 0])  # the one behind the leaver is now first
    release.set()
    for t in (holder, first, second):
        t.join(5)
    assert log == ["h", "next"]


def test_an_error_inside_a_turn_frees_the_slot():
    queue = SlotQueue(1)
    with pytest.raises(RuntimeError), queue.turn():
        raise RuntimeError("the server died")
    with queue.turn():  # would wait forever if the slot were still held
        pass


def test_each_holder_has_its_own_slot_number_the_lowest_free():
    """The number is the server slot the question asks for: two holders never share one."""
    queue = SlotQueue(2)
    with queue.turn() as first:
        with queue.turn() as second:
            assert (first, second) == (0, 1)
        with queue.turn() as third:
            assert third == 1
    with queue.turn() as fourth, queue.turn() as fifth:
        assert (fourth, fifth) == (0, 1)
