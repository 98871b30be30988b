"""The language model's slots, taken first come, first served: each waiting question knows its place."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Cancelled(Exception):
    """The asker left (closed the page, pressed stop) before or while the model wrote the answer."""


class SlotQueue:
    """At most ``slots`` questions use the model at once; the others wait in order of arrival.

    llama.cpp queues requests beyond its slots too, but says nothing about them; here each waiter
    hears how many questions are ahead of it whenever that changes, and a waiter whose asker left
    gives up its place without ever reaching the model.

    Usage example:
    ```python
    slots = SlotQueue(4)
    with slots.turn(on_wait=lambda ahead: print(ahead, "before yours"), cancelled=stop_event) as slot:
        ...  # call the model on slot number ``slot``
    ```
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._free = list(range(self.slots))
        self._waiting: list[object] = []
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        """Questions waiting for a slot now."""
        with self._changed:
            return len(self._waiting)

    @contextmanager
    def turn(
        self, on_wait: Callable[[int], None] | None = None, cancelled: threading.Event | None = None
    ) -> Iterator[int]:
        """Wait for a free slot (calling ``on_wait(ahead)`` whenever the count ahead changes), then hold it:
        yields its number, the lowest free, so that a request can ask the server for that very slot.

        Raises ``Cancelled`` if ``cancelled`` is set while waiting; the place is given up either way.
        """
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            told = None
            try:
                while not self._free or self._waiting[0] is not ticket:
                    if cancelled is not None and cancelled.is_set():
                        raise Cancelled
                    ahead = self._waiting.index(ticket)
                    if on_wait is not None and ahead != told:
                        on_wait(ahead)
                        told = ahead
                    self._changed.wait(timeout=0.5 if cancelled is not None else None)
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()
            slot = self._free.pop(0)
        try:
            yield slot
        finally:
            with self._changed:
                bisect.insort(self._free, slot)
                self._changed.notify_all()
