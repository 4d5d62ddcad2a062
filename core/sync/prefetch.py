"""Read ahead: fetch page N+1 from the vendor while page N is committed to the store.

A sync spends its time half waiting on the network, half writing the hub; overlapping
the two nearly halves a run. The reader runs in one background thread, at most ``depth``
pages ahead; its exceptions reach the consumer in order, and closing the iterator stops
it (a page fetched ahead and never committed is simply read again on resume).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetch(Generic[T]):
    """Iterate ``source`` in a background thread, ``depth`` items ahead."""

    def __init__(self, source: Iterable[T], depth: int = 1) -> None:
        self._source = source
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._closed.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._source:
                if not self._put(("item", item)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(("error", exc))
            return
        self._put(("done", _DONE))

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                kind, value = self._queue.get()
                if kind == "done":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading ahead; waits briefly for the reader to notice."""
        self._closed.set()
        self._thread.join(timeout=5)
