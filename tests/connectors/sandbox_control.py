"""Steering the sandbox from the reader and writer tests (its ``/_control`` API)."""

from __future__ import annotations

from typing import Any

import httpx


def fault(sandbox: httpx.Client, vendor: str, kind: str, count: int = 1, **options: Any) -> None:
    """Queue a fault for the vendor's next requests."""
    body = {"vendor": vendor, "kind": kind, "count": count, **options}
    sandbox.post("/_control/faults", json=body).raise_for_status()


def resize(sandbox: httpx.Client, vendor: str, name: str, count: int) -> None:
    """Set the size of one generated collection."""
    body = {"vendor": vendor, "object": name, "count": count}
    sandbox.post("/_control/dataset", json=body).raise_for_status()


def logged(sandbox: httpx.Client, vendor: str) -> list[dict[str, Any]]:
    """The vendor's requests the sandbox saw, oldest first."""
    return sandbox.get("/_control/requests", params={"vendor": vendor}).json()["requests"]
