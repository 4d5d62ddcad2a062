"""Deterministic, lazily generated record collections.

Every vendor object (HubSpot contacts, Stripe charges, ...) is a
:class:`Collection` of ``count`` *base* records that are never stored: record
``k`` is rebuilt on demand from ``random.Random(f"{SEED}:{vendor}:{object}:{k}")``
so it is identical on every run and costs O(1) to produce.  That is what lets
a test ask for 200,000 records and still get each page in O(page size).
(The RNG is seeded with an integer derived from those four parts: cheaper
than a string seed and just as stable.)

Base record ``k`` has modification time :meth:`Collection.ts`, strictly
increasing with ``k`` and spread over the 90 days before :data:`ANCHOR`.
Writes (creates, updates, deletes) are kept in a small overlay; a written
record gets a timestamp from :class:`WriteClock`, which is never earlier than
the anchor, so "everything modified since T" stays a contiguous, ordered
range: unmodified base records (by ``k``) followed by the overlay (by write).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

SEED = 42
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
"""Fixed "now" of the generated data: base records end just before it."""
ANCHOR_MS = int(ANCHOR.timestamp() * 1000)
DAY_MS = 86_400_000
WINDOW_MS = 90 * DAY_MS
MAX_COUNT = 1_000_000
_EPOCH = datetime(1970, 1, 1).date()
_MASK64 = 2**64 - 1

Record = dict[str, Any]
Builder = Callable[[int, random.Random, int], Record]
"""``build(key, rng, ts_ms)`` returns base record ``key`` modified at ``ts_ms``."""


@dataclass(frozen=True)
class CollectionSpec:
    """Static description of one vendor object."""

    vendor: str
    name: str
    default_count: int
    build: Builder
    window_ms: int = WINDOW_MS


@lru_cache(maxsize=8192)
def _iso_day(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).isoformat()


def iso_ms(ms: int) -> str:
    """Format epoch milliseconds as ``2026-08-03T10:00:00.123Z``.

    Hand-rolled because ``strftime`` dominated the cost of building a page.
    """
    seconds, millis = divmod(ms, 1000)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{_iso_day(days)}T{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}Z"


def iso_s(ms: int) -> str:
    """Format epoch milliseconds as ``2026-08-03T10:00:00Z`` (second precision)."""
    return iso_ms(ms)[:19] + "Z"


def parse_timestamp(value: str) -> int:
    """Parse an ISO 8601 datetime/date or epoch (s or ms) string into epoch ms.

    Raises ``ValueError`` for anything else.
    """
    text = value.strip()
    if text.lstrip("-").isdigit():
        number = int(text)
        return number if abs(number) >= 10**11 else number * 1000
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # +0000 -> +00:00 (Salesforce style)
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def stable_seed(*parts: object) -> int:
    """A 64-bit integer derived from ``parts``, identical on every run and platform."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def mix64(value: int) -> int:
    """SplitMix64 finaliser: a cheap, well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def date_range(days: int) -> list[str]:
    """The ``days`` ISO dates ending the day before the anchor, oldest first."""
    return [(ANCHOR - timedelta(days=days - i)).date().isoformat() for i in range(days)]


class WriteClock:
    """Timestamps for writes: strictly increasing and never before the anchor.

    Keeping writes after every generated record preserves the invariant that
    ordering by modification time equals base order followed by write order.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        """Return the next write timestamp in epoch milliseconds."""
        with self._lock:
            self._last = max(int(time.time() * 1000), ANCHOR_MS, self._last + 1)
            return self._last


class Collection:
    """``count`` lazily generated records plus an overlay of writes.

    Keys are integers: ``0..count-1`` are base records, created records get
    ``count, count+1, ...``.  Vendors map keys to their own id formats.
    """

    def __init__(self, spec: CollectionSpec, count: int, clock: WriteClock) -> None:
        self.spec = spec
        self.count = count
        self._clock = clock
        self._lock = threading.RLock()
        self._shadowed: set[int] = set()  # base keys not served from the generator
        self._shadowed_sorted: list[int] = []
        self._overlay: dict[int, tuple[int, Record]] = {}  # key -> (ts, record), write order
        self._next_key = count
        self._indexes: dict[str, dict[Any, int]] = {}
        self._seed = stable_seed(SEED, spec.vendor, spec.name)

    # -- single records -----------------------------------------------------
    def base_ts(self, key: int) -> int:
        """Modification time (epoch ms) of base record ``key``."""
        window = self.spec.window_ms
        start = ANCHOR_MS - window
        jitter = 0.9 * mix64(self._seed ^ key) / 2**64
        return start + int((key + jitter) * window / max(self.count, 1))

    def generate(self, key: int) -> Record:
        """Build base record ``key`` from its own RNG, seeded by (SEED, vendor, object, key)."""
        rng = random.Random((self._seed << 32) + key)
        return self.spec.build(key, rng, self.base_ts(key))

    def get(self, key: int) -> Record | None:
        """Current version of record ``key``, or ``None`` if absent/deleted."""
        with self._lock:
            if key in self._overlay:
                return self._overlay[key][1]
            if 0 <= key < self.count and key not in self._shadowed:
                return self.generate(key)
            return None

    def ts(self, key: int) -> int:
        """Current modification time of ``key`` (epoch ms)."""
        with self._lock:
            if key in self._overlay:
                return self._overlay[key][0]
            return self.base_ts(key)

    @property
    def live_count(self) -> int:
        """Number of records currently present."""
        with self._lock:
            return self.count - len(self._shadowed) + len(self._overlay)

    # -- writes ---------------------------------------------------------------
    def create(self, build: Callable[[int, int], Record]) -> tuple[int, Record]:
        """Create a record with ``build(key, ts_ms)``; returns ``(key, record)``."""
        with self._lock:
            key = self._next_key
            self._next_key += 1
            ts = self._clock.now_ms()
            record = build(key, ts)
            self._overlay[key] = (ts, record)
            return key, record

    def update(self, key: int, change: Callable[[Record, int], Record]) -> Record | None:
        """Replace ``key`` with ``change(copy_of_current, ts_ms)``; moves it to the end."""
        with self._lock:
            current = self.get(key)
            if current is None:
                return None
            ts = self._clock.now_ms()
            record = change(_deep_copy(current), ts)
            self._overlay.pop(key, None)
            self._overlay[key] = (ts, record)
            self._shadow(key)
            return record

    def delete(self, key: int) -> bool:
        """Delete ``key``; returns whether it existed."""
        with self._lock:
            if self.get(key) is None:
                return False
            self._overlay.pop(key, None)
            self._shadow(key)
            return True

    def _shadow(self, key: int) -> None:
        if key < self.count and key not in self._shadowed:
            self._shadowed.add(key)
            bisect.insort(self._shadowed_sorted, key)

    # -- lookups ----------------------------------------------------------------
    def find(self, accessor: Callable[[Record], Any], value: Any, hint: int | None) -> int | None:
        """Find the key whose ``accessor(record) == value``.

        Written records are scanned (the overlay is small); base records are
        checked only at ``hint``, a key the caller derived from the value (for
        instance the number embedded in generated e-mail addresses).
        """
        with self._lock:
            for key, (_, record) in self._overlay.items():
                if accessor(record) == value:
                    return key
            if hint is not None and 0 <= hint < self.count and hint not in self._shadowed:
                if accessor(self.generate(hint)) == value:
                    return hint
            return None

    def base_index(self, name: str, accessor: Callable[[Record], Any]) -> dict[Any, int]:
        """A lazily built ``accessor(record) -> key`` map over the *base* records.

        Base records never change, so the map is built once (O(count)) and
        kept; pass ``map.get(value)`` as the ``hint`` of :meth:`find`, which
        also covers written records and skips deleted ones.
        """
        with self._lock:
            if name not in self._indexes:
                self._indexes[name] = {accessor(self.generate(k)): k for k in range(self.count)}
            return self._indexes[name]

    # -- id order -------------------------------------------------------------------
    def scan(
        self,
        start: int,
        limit: int,
        descending: bool = False,
        lo: int = 0,
        hi: int | None = None,
    ) -> tuple[list[int], bool]:
        """Live keys in key order from ``start`` (inclusive), at most ``limit``.

        ``lo``/``hi`` bound the base keys considered; created keys are
        included only when ``hi`` is ``None``.  Returns ``(keys, has_more)``.
        """
        with self._lock:
            created = sorted(k for k in self._overlay if k >= self.count) if hi is None else []
            top = self.count if hi is None else min(hi, self.count)
            keys: list[int] = []
            if not descending:
                chain: Iterator[int] = _chain(
                    (k for k in range(max(start, lo), top) if self._live_base(k)),
                    (k for k in created if k >= start),
                )
            else:
                chain = _chain(
                    (k for k in reversed(created) if k <= start),
                    (k for k in range(min(start, top - 1), lo - 1, -1) if self._live_base(k)),
                )
            for key in chain:
                if len(keys) == limit:
                    return keys, True
                keys.append(key)
            return keys, False

    def _live_base(self, key: int) -> bool:
        return key not in self._shadowed or key in self._overlay

    def _iter_base(self, start: int, step: int) -> Iterator[int]:
        key = start
        while 0 <= key < self.count:
            if key not in self._shadowed:
                yield key
            key += step

    def key_bounds(self, since_ms: int | None, until_ms: int | None) -> tuple[int, int]:
        """Base key range ``[lo, hi)`` whose base timestamps are in ``[since, until)``."""
        keys = range(self.count)
        lo = 0 if since_ms is None else bisect.bisect_left(keys, since_ms, key=self.base_ts)
        hi = (
            self.count if until_ms is None else bisect.bisect_left(keys, until_ms, key=self.base_ts)
        )
        return lo, max(lo, hi)

    # -- modification-time order ---------------------------------------------------
    def window(self, since_ms: int | None = None, until_ms: int | None = None) -> TimeView:
        """Records with modification time in ``[since_ms, until_ms)``, oldest first."""
        with self._lock:
            lo, hi = self.key_bounds(since_ms, until_ms)
            base_total = (hi - lo) - (
                bisect.bisect_left(self._shadowed_sorted, hi)
                - bisect.bisect_left(self._shadowed_sorted, lo)
            )
            overlay = [
                k
                for k, (ts, _) in self._overlay.items()
                if (since_ms is None or ts >= since_ms) and (until_ms is None or ts < until_ms)
            ]
            return TimeView(self, lo, hi, base_total, overlay)

    def _nth_base(self, lo: int, n: int) -> int:
        """The ``n``-th (0-based) unshadowed base key at or after ``lo``."""
        key = lo + n
        while True:  # least fixed point of key = lo + n + shadowed_in[lo, key]
            shadowed = bisect.bisect_right(self._shadowed_sorted, key) - bisect.bisect_left(
                self._shadowed_sorted, lo
            )
            nxt = lo + n + shadowed
            if nxt == key:
                return key
            key = nxt


@dataclass
class TimeView:
    """A modification-time ordered slice of a collection, addressable by position."""

    collection: Collection
    lo: int
    hi: int
    base_total: int
    overlay: list[int]

    @property
    def total(self) -> int:
        """Number of records in the view."""
        return self.base_total + len(self.overlay)

    def page(self, offset: int, limit: int, descending: bool = False) -> list[int]:
        """Keys at positions ``offset .. offset+limit-1`` (oldest first unless descending)."""
        total = self.total
        if descending:
            start, stop = max(0, total - offset - limit), max(0, total - offset)
        else:
            start, stop = min(offset, total), min(offset + limit, total)
        keys: list[int] = []
        col = self.collection
        with col._lock:
            if start < self.base_total:
                key = col._nth_base(self.lo, start)
                want = min(stop, self.base_total) - start
                while len(keys) < want and key < self.hi:
                    if key not in col._shadowed:
                        keys.append(key)
                    key += 1
            first_overlay = max(start - self.base_total, 0)
            keys.extend(self.overlay[first_overlay : max(stop - self.base_total, 0)])
        return keys[::-1] if descending else keys


class Dataset:
    """All collections of the sandbox, created on first use."""

    def __init__(self, specs: list[CollectionSpec], clock: WriteClock) -> None:
        self._specs = {(s.vendor, s.name.lower()): s for s in specs}
        self._counts: dict[tuple[str, str], int] = {}
        self._collections: dict[tuple[str, str], Collection] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def spec_names(self) -> list[str]:
        """``vendor/object`` names that can be resized."""
        return sorted(f"{v}/{s.name}" for (v, _), s in self._specs.items())

    def collection(self, vendor: str, name: str) -> Collection:
        """The collection for ``vendor``/``name`` (case-insensitive object name)."""
        key = (vendor, name.lower())
        with self._lock:
            if key not in self._collections:
                spec = self._specs[key]
                count = self._counts.get(key, spec.default_count)
                self._collections[key] = Collection(spec, count, self._clock)
            return self._collections[key]

    def has(self, vendor: str, name: str) -> bool:
        """Whether ``vendor``/``name`` is a known collection."""
        return (vendor, name.lower()) in self._specs

    def set_count(self, vendor: str, name: str, count: int) -> None:
        """Resize a collection; discards its writes."""
        if not 0 <= count <= MAX_COUNT:
            raise ValueError(f"count must be between 0 and {MAX_COUNT}")
        key = (vendor, name.lower())
        if key not in self._specs:
            raise KeyError(f"{vendor}/{name}")
        with self._lock:
            self._counts[key] = count
            self._collections.pop(key, None)

    def counts(self) -> dict[str, int]:
        """Current size of every collection, keyed ``vendor/object``."""
        return {
            f"{v}/{s.name}": self._counts.get((v, n), s.default_count)
            for (v, n), s in self._specs.items()
        }

    def reset(self) -> None:
        """Back to default sizes and no writes."""
        with self._lock:
            self._counts.clear()
            self._collections.clear()


def _chain(*iterators: Iterator[int]) -> Iterator[int]:
    for it in iterators:
        yield from it


def _deep_copy(record: Record) -> Record:
    return {k: (_deep_copy(v) if isinstance(v, dict) else v) for k, v in record.items()}
