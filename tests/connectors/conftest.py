"""A sandbox on loopback for the reader and writer tests, reset before each test, and the
demo's connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from core.connectors.catalog import default_catalog
from core.connectors.registry import Connection
from core.demo import demo_connectors
from core.gateway import Gateway
from sandbox.server import SandboxHandle, start_in_thread

CUSTOM_VALUES = {"api_key": "sandbox-custom-key", "check_path": "/api/v1/me"}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    handle = start_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle) -> Iterator[httpx.Client]:
    """The sandbox's control API, after a reset."""
    with httpx.Client(base_url=sandbox_server.base_url, timeout=30) as client:
        client.post("/_control/reset").raise_for_status()
        yield client


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A gateway that never really sleeps between retries."""
    gw = Gateway(timeout_seconds=10, sleep=lambda seconds: None)
    yield gw
    gw.close()


@pytest.fixture
def connect(sandbox: httpx.Client) -> Callable[[str], Connection]:
    """``connect(template_id)``: an unsaved connection to the sandbox with demo credentials."""
    base = str(sandbox.base_url).rstrip("/")
    specs = {spec.template_id: spec for spec, _ in demo_connectors(base)}
    catalog = default_catalog()

    def make(template_id: str) -> Connection:
        if template_id == "custom_rest_api":
            return Connection(
                None, "Custom", catalog.get(template_id), f"{base}/custom", CUSTOM_VALUES
            )
        spec = specs[template_id]
        return Connection(None, spec.name, catalog.get(template_id), spec.base_url, spec.values)

    return make
