"""The Privacy requests page on the real app: an admin finds a person, records the request,
executes it and sees it completed; bad input (malformed, unknown, already deleted) is shown
as a message, never a traceback; a viewer cannot reach the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.pii import PiiFields, email_digest
from core.sync.hub import IncomingRecord, PiiGuard, upsert_records
from core.workspace import Workspace, transaction
from tests.pages.conftest import _navigation_mode, people, sign_in, texts

# the page tests' fixtures: the app's navigation mode (autouse) and users of each role
__all__ = ["_navigation_mode", "people"]

PERSON = "ann.lee@example.com"


@pytest.fixture
def with_person(people: Workspace) -> Workspace:
    """The app's workspace with one person in the hub, landed by the CRM."""
    ws = people
    email_digest(ws, PERSON)  # the digest key exists before the write transaction
    guard = PiiGuard(ws.vault, PiiFields(), lambda email: email_digest(ws, email))
    with transaction(ws) as session:
        upsert_records(
            session,
            entity="contact",
            source="CRM",
            records=[
                IncomingRecord("1001", {"email": PERSON, "firstname": "Ann"}, datetime.now(UTC))
            ],
            run_id=None,
            guard=guard,
        )
    return ws


def open_page(username: str = "admin"):  # noqa: ANN201
    at = sign_in(username)
    at.switch_page("pages/privacy_requests.py").run()
    assert not at.exception
    return at


def submit(at, email: str, button: str = "privacy_find_button"):  # noqa: ANN001, ANN201
    at.text_input(key="privacy_email").input(email)
    at.button(key=button).click().run()
    assert not at.exception
    return at


def test_an_admin_finds_records_and_deletes_a_person(with_person: Workspace) -> None:
    at = open_page()
    assert at.title[0].value == "Privacy requests"
    assert "No privacy request yet." in texts(at)

    submit(at, PERSON)
    assert "a•••@example.com: 1 record(s) in the hub" in texts(at)
    [preview] = at.dataframe
    row = preview.value.iloc[0]
    assert (row["Entity"], row["Key"], row["Held by"]) == ("contact", "1001", "CRM")
    assert "only the hub will be cleared" in texts(at)

    submit(at, PERSON, "privacy_create")
    assert "Request #1 received; due" in texts(at)
    listed = at.dataframe[0].value.iloc[0]
    assert (listed["#"], listed["Status"], listed["Regulation"]) == (1, "received", "GDPR")
    assert listed["Deadline"].endswith("days left")

    at.checkbox(key="privacy_sure_1").check().run()
    at.button(key="privacy_run").click().run()
    assert not at.exception
    assert "Request #1 is completed." in texts(at)
    listed = at.dataframe[0].value.iloc[0]
    assert (listed["Status"], listed["Deadline"], listed["Hub records deleted"]) == (
        "completed",
        "completed on time",
        1,
    )


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("ann.lee.example.com", "is not an e-mail address"),
        ("nobody@example.com", "no record in the hub holds this e-mail"),
    ],
    ids=["malformed", "unknown"],
)
def test_bad_input_is_shown_as_a_message(with_person: Workspace, typed: str, said: str) -> None:
    at = submit(open_page(), typed)
    [error] = at.error
    assert "E-mail" in error.value and said in error.value
    submit(at, typed, "privacy_create")
    assert said in at.error[0].value
    assert "No privacy request yet." in texts(at)


def test_a_person_already_deleted_is_named_with_the_earlier_request(
    with_person: Workspace,
) -> None:
    at = submit(open_page(), PERSON, "privacy_create")
    at.checkbox(key="privacy_sure_1").check().run()
    at.button(key="privacy_run").click().run()
    for button in ("privacy_find_button", "privacy_create"):
        submit(at, PERSON, button)
        [error] = at.error
        assert "already deleted by request #1 of" in error.value
    assert len(at.dataframe[0].value) == 1


@pytest.mark.parametrize("username", ["viewer", "editor"])
def test_viewers_and_editors_cannot_reach_the_page(people: Workspace, username: str) -> None:
    at = sign_in(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/privacy_requests.py")
