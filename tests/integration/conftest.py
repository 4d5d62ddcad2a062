"""A sandbox on loopback for the integration tests, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.server import SandboxHandle, start_in_thread


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    handle = start_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(
    sandbox_server: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    """The sandbox's control API, after a reset; the demo points at this sandbox."""
    monkeypatch.setenv("SWITCHBOARD_SANDBOX_URL", sandbox_server.base_url)
    with httpx.Client(base_url=sandbox_server.base_url, timeout=30) as client:
        client.post("/_control/reset").raise_for_status()
        yield client
