"""The Systems and Users pages, and a broken connector template, as a person meets them."""

from __future__ import annotations

from core.accounts import list_accounts
from core.connectors import catalog
from core.systems import list_systems
from tests.conftest import ADMIN
from tests.pages.conftest import sign_in, texts


def press(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    return at


def test_adding_a_system_and_its_bad_input(people):
    at = sign_in("editor")
    at.switch_page("pages/systems.py").run()
    at = press(at, "Add system")
    assert "**Name** is empty" in "\n".join(e.value for e in at.error)
    assert list_systems(people, ADMIN) == []
    at.text_input[0].input("HubSpot CRM")
    at = press(at, "Add system")
    assert "Added system HubSpot CRM." in texts(at)
    assert [s.name for s in list_systems(people, ADMIN)] == ["HubSpot CRM"]
    at.text_input[0].input("hubspot crm")
    at = press(at, "Add system")
    assert "already exists" in "\n".join(e.value for e in at.error)


def test_a_viewer_sees_systems_without_the_form(people):
    at = sign_in("viewer")
    at.switch_page("pages/systems.py").run()
    assert not [b for b in at.button if b.label == "Add system"]


def test_an_admin_adds_a_user_and_bad_input_is_named(people):
    at = sign_in("admin")
    at.switch_page("pages/users.py").run()
    at.text_input(key="new_username").input("Dana Smith")
    at.text_input(key="new_email").input("not-an-email")
    at.text_input(key="new_password").input("short")
    at = press(at, "Add user")
    message = "\n".join(e.value for e in at.error)
    for field in ("**username**", "**display name**", "**email**", "**password**"):
        assert field in message
    assert len(list_accounts(people, ADMIN)) == 3
    at.text_input(key="new_username").input("dana")
    at.text_input(key="new_display_name").input("Dana Smith")
    at.text_input(key="new_email").input("dana@example.com")
    at.text_input(key="new_password").input("dana-password-1")
    at = press(at, "Add user")
    assert "Added user dana." in texts(at)
    assert "dana" in {a.username for a in list_accounts(people, ADMIN)}


def test_a_broken_template_file_is_explained_not_thrown(people, tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text("id: broken\nname: Broken\ncategory: crm\n")
    monkeypatch.setattr(catalog, "TEMPLATES_DIR", tmp_path)
    catalog.default_catalog.cache_clear()
    try:
        at = sign_in("editor")
        at.switch_page("pages/connectors.py").run()
        assert not at.exception
        message = "\n".join(e.value for e in at.error)
        assert "Connector template broken.yaml is invalid" in message
    finally:
        catalog.default_catalog.cache_clear()
