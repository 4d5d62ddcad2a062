"""In a real Chromium: the wall screen refreshes itself, and its token opens nothing else."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from core.accounts import ensure_first_admin
from core.wall_screen import create_display_link
from tests.conftest import ADMIN
from tests.monitoring.conftest import add_flows

pytestmark = pytest.mark.browser


def test_wall_screen_refreshes_and_token_reaches_nothing_else(ws, app_url, page):
    ensure_first_admin(ws)
    add_flows(ws, "CRM sync")
    token = create_display_link(ws, ADMIN, name="Lobby", valid_days=1, refresh_seconds=5)
    page.goto(f"{app_url}/?display={token}")
    updated = page.get_by_text(re.compile(r"^Updated \d\d:\d\d:\d\d UTC"))
    expect(updated).to_be_visible()
    expect(page.get_by_text("CRM sync")).to_be_visible()
    expect(page.locator("[data-testid='stSidebar']")).to_have_count(0)
    first = updated.inner_text()
    deadline = time.monotonic() + 30
    while updated.inner_text() == first and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert updated.inner_text() != first  # refreshed itself, no reload

    for path in ("runs", "users", "audit_log", "health"):
        page.goto(f"{app_url}/{path}?display={token}")
        expect(page.get_by_text("Lobby").first).to_be_visible()
        expect(page.get_by_role("heading", name="Runs")).to_have_count(0)
        expect(page.get_by_role("heading", name="Users")).to_have_count(0)
    page.goto(f"{app_url}/?display=forged.value")
    expect(page.get_by_text("This display link is no longer valid")).to_be_visible()
    page.goto(f"{app_url}/runs")
    expect(page.get_by_text("Sign in").first).to_be_visible()  # the token gave no session
