"""AppTest: the Retention page on the real app — policies added, changed and refused with a
clear message, the preview, Apply now with its confirmation, the runs, and who may see it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.accounts import create_user
from core.domain_roles import set_domain_role
from core.retention import PolicyInput, set_policy
from core.workspace import transaction
from db.models import HubRecord, utcnow
from tests.conftest import ADMIN
from tests.pages import conftest as page_fixtures
from tests.pages.conftest import sign_in, texts

# the page tests' fixtures: the app in navigation mode, and people of each role
_navigation_mode = page_fixtures._navigation_mode
people = page_fixtures.people


def open_retention(user: str = "admin", password: str | None = None):
    at = sign_in(user, password)
    at.switch_page("pages/retention.py").run()
    assert not at.exception, at.exception
    return at


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def add_policy(at, kind: str, keep_days: int, entity: str | None = None):
    at.selectbox(key="new_kind").select(kind).run()
    if entity is not None:
        at.text_input(key="new_entity").input(entity)
    at.number_input(key="new_keep_days").set_value(keep_days)
    button(at, "Add policy").click().run()
    assert not at.exception, at.exception
    return at


def test_admin_adds_previews_and_applies_a_policy(people):
    old = utcnow() - timedelta(days=90)
    with transaction(people) as session:
        session.add_all(
            HubRecord(entity="contact", external_key=f"c{i}", updated_at=old) for i in range(3)
        )
        session.add(HubRecord(entity="contact", external_key="fresh"))
    at = open_retention()
    assert "No policy yet" in texts(at)
    add_policy(at, "hub_records", 30, entity="contact")
    assert "Added the policy for Marketing" in texts(at)
    policies = at.dataframe[0].value
    assert list(policies["Data"]) == ["Hub records: contact"]
    assert list(policies["Keep days"]) == [30]

    button(at, "Preview").click().run()
    shown = at.dataframe[1].value
    assert list(shown["Rows to remove"]) == [3]
    assert "c0" not in str(shown["For example"].iloc[0])  # ids, never a record's key

    button(at, "Apply now").click().run()
    assert "deleted for good" in texts(at)
    button(at, "Yes, apply now").click().run()
    assert "removed 3 rows" in texts(at)
    runs = at.dataframe[-1].value
    assert list(runs["Removed"]) == [3]
    assert "Marketing hub records: contact: 3" in runs["What"].iloc[0]


def test_bad_input_is_named_and_nothing_saved(people):
    at = open_retention()
    add_policy(at, "hub_records", 30, entity="")
    assert "Entity" in texts(at) and "is empty" in texts(at)
    add_policy(at, "audit_entries", 100)
    assert "Keep days" in texts(at) and "at least 365" in texts(at)
    assert "No policy yet" in texts(at)


def test_changing_and_deleting_a_policy(people):
    set_policy(people, ADMIN, PolicyInput("Sales", "run_history", 30))
    at = open_retention()
    at.number_input[0].set_value(60)
    button(at, "Save policy").click().run()
    assert "Saved the policy" in texts(at)
    assert list(at.dataframe[0].value["Keep days"]) == [60]
    button(at, "Delete policy").click().run()
    button(at, "Yes, delete").click().run()
    assert "Deleted the policy" in texts(at)
    assert "No policy yet" in texts(at)


def test_a_domain_lead_sees_only_their_domains(people):
    set_policy(people, ADMIN, PolicyInput("Marketing", "run_history", 30))
    set_policy(people, ADMIN, PolicyInput("Sales", "call_metrics", 30))
    create_user(people, ADMIN, username="sam", display_name="Sam", role="viewer",
                password="sam-password-1")  # fmt: skip
    set_domain_role(people, ADMIN, "sam", "Sales", "lead")
    at = open_retention("sam", "sam-password-1")
    assert list(at.dataframe[0].value["Domain"]) == ["Sales"]
    assert at.selectbox(key="new_domain").options == ["Sales"]
    assert "audit_entries" not in at.selectbox(key="new_kind").options


def test_a_viewer_cannot_reach_the_page(people):
    at = sign_in("viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/retention.py")
