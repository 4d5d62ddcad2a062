"""In a real Chromium: sign in, register a connector, and a viewer kept out of admin pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.accounts import create_user, ensure_first_admin
from tests.conftest import ADMIN, ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # the sign-in form goes once the login cookie is written (the app reruns by itself);
    # wait for both, so the next click does not race that rerun
    expect(page.get_by_role("heading", name="Sign in")).to_have_count(0)
    expect(page.get_by_role("heading", name="Overview")).to_have_count(1)
    page.wait_for_function("document.cookie.includes('switchboard_session')", timeout=30_000)
    page.wait_for_load_state("networkidle")


def test_an_editor_signs_in_and_registers_a_connector(ws, app_url, page):
    ensure_first_admin(ws)
    create_user(
        ws, ADMIN, username="erin", display_name="Erin", role="editor", password="erin-password-1"
    )
    sign_in(page, app_url, "erin", "erin-password-1")
    page.get_by_role("link", name="Connectors").click()
    expect(page.get_by_role("heading", name="Connectors")).to_be_visible()

    page.get_by_label("Template").click()
    page.get_by_role("option", name=re.compile("^Stripe")).click()
    secret = page.get_by_role("textbox", name="Secret or restricted key")
    expect(secret).to_be_visible()
    name = page.get_by_role("textbox", name="Name", exact=True)
    expect(name).to_have_count(1)
    name.fill("Stripe billing")
    secret.fill("sk_test_browser1234567")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("Saved connector Stripe billing.")).to_be_visible()
    expect(page.get_by_text("sk_test_browser1234567")).to_have_count(0)

    # The session survives a reload (signed cookie), and the connector is still there.
    page.reload()
    expect(page.get_by_role("heading", name="Connectors")).to_be_visible()


def test_a_viewer_cannot_open_the_audit_log_by_url(ws, app_url, page):
    ensure_first_admin(ws)
    create_user(
        ws, ADMIN, username="vic", display_name="Vic", role="viewer", password="vic-password-12"
    )
    sign_in(page, app_url, "vic", "vic-password-12")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    page.goto(f"{app_url}/audit_log")
    expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)
    expect(page.get_by_role("heading", name="Overview")).to_have_count(1)


def test_an_admin_sees_the_audit_log(ws, app_url, page):
    ensure_first_admin(ws)
    sign_in(page, app_url, "admin", ADMIN_PASSWORD)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_text(re.compile("The chain is intact"))).to_be_visible()
