"""Fixtures: one sandbox server per test session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.server import SandboxHandle, start_in_thread


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    """A sandbox on a free loopback port for the whole session."""
    handle = start_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def sb(sandbox_server: SandboxHandle) -> Iterator[httpx.Client]:
    """An HTTP client on the sandbox, after ``/_control/reset``."""
    with httpx.Client(base_url=sandbox_server.base_url, timeout=30) as client:
        client.post("/_control/reset").raise_for_status()
        yield client
