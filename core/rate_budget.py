"""Token buckets: the request budget of one vendor account, shared by every flow that uses
the same connector in this worker, with a burst cap.

>>> bucket = TokenBucket(per_second=2, burst=4, clock=lambda: 0.0)
>>> [bucket.take() for _ in range(5)]
[0.0, 0.0, 0.0, 0.0, 0.5]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class TokenBucket:
    """``per_second`` tokens flow in, at most ``burst`` wait; each request takes one."""

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a token; returns how long the caller must wait before sending (seconds).

        The token is reserved at once, so concurrent callers queue up fairly.
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.per_second)
            self._stamp = now
            self._tokens -= 1
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.per_second


class RateBudgets:
    """One bucket per connector (a vendor account), created on first use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, key: Hashable, per_second: float, burst: int) -> TokenBucket:
        """The bucket of ``key`` (a connector id, or another account such as a channel)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or (bucket.per_second, bucket.burst) != (per_second, burst):
                bucket = TokenBucket(per_second, burst, self._clock)
                self._buckets[key] = bucket
            return bucket
