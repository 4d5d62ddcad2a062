"""In a real Chromium: the integration map is drawn (an SVG on the page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.accounts import ensure_first_admin
from tests.browser.test_sign_in_and_register import sign_in
from tests.conftest import ADMIN_PASSWORD
from tests.dictionary.registry import seed_registry

pytestmark = pytest.mark.browser


def test_the_map_renders_as_svg(ws, app_url, page):
    ensure_first_admin(ws)
    seed_registry(ws)
    sign_in(page, app_url, "admin", ADMIN_PASSWORD)
    page.get_by_role("link", name="Integration map").click()
    expect(page.get_by_role("heading", name="Integration map")).to_be_visible()
    drawing = page.locator("[data-testid='stGraphVizChart'] svg").first
    expect(drawing).to_be_visible()
    expect(drawing.locator("g.node")).to_have_count(7)
    expect(drawing.locator("g.edge")).to_have_count(6)
    expect(drawing.get_by_text("Contacts")).to_be_visible()
