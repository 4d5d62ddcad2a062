"""Mutable sandbox state: dataset, faults, rate limits, tokens, request log.

One :class:`SandboxState` lives per server.  Everything a test can change
through ``/_control`` is here, and :meth:`SandboxState.reset` puts all of it
back to defaults so tests stay independent.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.dataset import Dataset, WriteClock
from sandbox.records import SPECS

VENDORS = ("hubspot", "salesforce", "ga4", "google_ads", "google_oauth", "mailchimp",
           "stripe", "bigquery", "custom")  # fmt: skip
TOKEN_FAMILIES = {
    "hubspot": "hubspot",
    "salesforce": "salesforce",
    "google": "google",
    "google_oauth": "google",
    "ga4": "google",
    "google_ads": "google",
    "bigquery": "google",
}
"""Which OAuth token family each vendor's access tokens belong to."""
FAULT_KINDS = ("rate_limit", "server_error", "slow", "truncated_json", "non_json", "expire_tokens")
DEFAULT_TOKEN_TTL = 3600
REQUEST_LOG_SIZE = 2000


def normalize_vendor(name: str) -> str:
    """Accept ``google-ads`` as well as ``google_ads``."""
    return name.strip().lower().replace("-", "_")


@dataclass
class Fault:
    """A queued misbehaviour for one vendor's API calls."""

    kind: str
    remaining: int
    options: dict[str, Any]
    after_requests: int = 0

    def describe(self) -> dict[str, Any]:
        """JSON view for the control API."""
        return {"kind": self.kind, "remaining": self.remaining,
                "after_requests": self.after_requests, **self.options}  # fmt: skip


@dataclass
class TokenBucket:
    """Classic token bucket: ``burst`` capacity refilled at ``rate`` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """Consume one token; returns 0 on success, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class IssuedToken:
    """An access token handed out by one of the OAuth token endpoints."""

    value: str
    family: str
    expires_at: float
    scopes: frozenset[str]
    revoked: bool = False

    def status(self) -> str:
        """``valid``, ``expired`` (TTL elapsed or revoked by a fault)."""
        if self.revoked or time.time() >= self.expires_at:
            return "expired"
        return "valid"


class SandboxState:
    """All mutable state of one sandbox server (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clock = WriteClock()
        self.dataset = Dataset(SPECS, self.clock)
        self.faults: dict[str, list[Fault]] = {}
        self.rate_limits: dict[str, tuple[float, float]] = {}
        self.buckets: dict[tuple[str, str], TokenBucket] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.token_ttl: dict[str, int] = {}
        self.requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.extras: dict[str, Any] = {}
        """Per-vendor scratch space (query cursors, forgotten e-mails, inserted rows)."""

    def reset(self) -> None:
        """Dataset, faults, rate limits, tokens and logs back to defaults."""
        with self.lock:
            self.dataset.reset()
            self.faults.clear()
            self.rate_limits.clear()
            self.buckets.clear()
            self.tokens.clear()
            self.token_ttl.clear()
            self.requests.clear()
            self.extras.clear()

    # -- faults -------------------------------------------------------------------
    def add_fault(self, vendor: str, kind: str, count: int, options: dict[str, Any]) -> Fault:
        """Queue a fault for ``vendor``; faults fire in the order they were added."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        after = int(options.pop("after_requests", 0) or 0)
        fault = Fault(kind, max(1, count), options, after)
        with self.lock:
            self.faults.setdefault(vendor, []).append(fault)
        return fault

    def next_fault(self, vendor: str) -> Fault | None:
        """Consume and return the fault that applies to this request, if any.

        ``expire_tokens`` faults count requests down and, when due, revoke
        every token of the vendor's family issued so far; they never alter
        the request themselves (the vendor's auth check then answers 401).
        """
        with self.lock:
            queue = self.faults.get(vendor, [])
            for fault in list(queue):
                if fault.kind != "expire_tokens":
                    continue
                if fault.after_requests > 0:
                    fault.after_requests -= 1
                    continue
                self.revoke_tokens(TOKEN_FAMILIES.get(vendor, vendor))
                queue.remove(fault)
            for fault in queue:
                if fault.kind == "expire_tokens":
                    continue
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.remove(fault)
                return fault
            return None

    # -- rate limits ----------------------------------------------------------------
    def set_rate_limit(self, vendor: str, per_second: float | None, burst: float | None) -> None:
        """Enable (or with ``per_second`` falsy, disable) the limiter for ``vendor``."""
        with self.lock:
            for key in [k for k in self.buckets if k[0] == vendor]:
                del self.buckets[key]
            if not per_second:
                self.rate_limits.pop(vendor, None)
            else:
                self.rate_limits[vendor] = (float(per_second), float(burst or per_second))

    def throttle(self, vendor: str, credential: str) -> float:
        """Take a token for ``credential``; 0 if allowed, else seconds to wait."""
        with self.lock:
            limit = self.rate_limits.get(vendor)
            if limit is None:
                return 0.0
            bucket = self.buckets.get((vendor, credential))
            if bucket is None:
                bucket = self.buckets[(vendor, credential)] = TokenBucket(*limit, tokens=limit[1])
            return bucket.take()

    # -- tokens ---------------------------------------------------------------------
    def ttl(self, family: str) -> int:
        """Lifetime in seconds of newly issued tokens of ``family``."""
        return self.token_ttl.get(family, DEFAULT_TOKEN_TTL)

    def issue_token(
        self, family: str, prefix: str, scopes: frozenset[str] = frozenset(), ttl: int | None = None
    ) -> IssuedToken:
        """Mint and remember an access token."""
        lifetime = self.ttl(family) if ttl is None else ttl
        token = IssuedToken(prefix + secrets.token_urlsafe(24), family,
                            time.time() + lifetime, scopes)  # fmt: skip
        with self.lock:
            self.tokens[token.value] = token
        return token

    def lookup_token(self, value: str | None, family: str) -> IssuedToken | None:
        """The issued token ``value`` of ``family`` (valid or not), else ``None``."""
        if not value:
            return None
        with self.lock:
            token = self.tokens.get(value)
        return token if token is not None and token.family == family else None

    def revoke_tokens(self, family: str) -> int:
        """Make every token of ``family`` issued so far stop working."""
        with self.lock:
            victims = [t for t in self.tokens.values() if t.family == family and not t.revoked]
            for token in victims:
                token.revoked = True
            return len(victims)

    # -- request log ------------------------------------------------------------------
    def log_request(self, entry: dict[str, Any]) -> None:
        """Append one entry to the bounded request log."""
        with self.lock:
            self.requests.append(entry)

    def logged(self, vendor: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Logged requests, oldest first, optionally for one vendor only."""
        with self.lock:
            entries = [e for e in self.requests if vendor is None or e["vendor"] == vendor]
        return entries[-limit:] if limit else entries
