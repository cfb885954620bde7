"""A FIFO between a stream's reader thread and its scorer: bounded, taken in batches.

The reader puts messages as they arrive and blocks while the queue is full, so a client
that sends faster than the server scores is slowed down by HTTP/2 flow control instead of
making the server buffer its whole stream. The scorer takes *whatever is queued* (at least
one item, at most a batch): a pipelining client gets full batches, a client that sends one
request and waits gets it scored at once.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    """Bounded by item count and by total size (an item larger than the size bound is
    still admitted when the queue is empty, so one large message cannot wedge a stream).

    One producer calls :meth:`put` then :meth:`finish`; one consumer calls
    :meth:`get_batch` and, when it stops early, :meth:`close` to release the producer.
    """

    def __init__(self, max_items: int, max_bytes: int) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("max_items and max_bytes must be positive")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: deque[tuple[T, int]] = deque()
        self._bytes = 0
        self._finished = False  # no more puts
        self._closed = False  # consumer gone
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    def put(self, item: T, size: int) -> bool:
        """Append ``item`` (``size`` bytes), waiting for room; False once :meth:`close`d."""
        with self._not_full:
            while (
                not self._closed
                and self._items
                and (len(self._items) >= self.max_items or self._bytes + size > self.max_bytes)
            ):
                self._not_full.wait()
            if self._closed:
                return False
            self._items.append((item, size))
            self._bytes += size
            self._not_empty.notify()
            return True

    def finish(self) -> None:
        """The producer has no more items: :meth:`get_batch` drains, then returns []."""
        with self._lock:
            self._finished = True
            self._not_empty.notify_all()

    def close(self) -> None:
        """The consumer stops: drop what is queued and make :meth:`put` return False."""
        with self._lock:
            self._closed = True
            self._items.clear()
            self._bytes = 0
            self._not_full.notify_all()
            self._not_empty.notify_all()

    def get_batch(self, max_items: int) -> list[T]:
        """Wait for at least one item, then take up to ``max_items`` of those queued.

        Returns [] when the producer has finished and everything was taken, or on close.
        """
        with self._not_empty:
            while not self._items and not self._finished and not self._closed:
                self._not_empty.wait()
            batch: list[T] = []
            while self._items and len(batch) < max_items:
                item, size = self._items.popleft()
                self._bytes -= size
                batch.append(item)
            if batch:
                self._not_full.notify()
            return batch
