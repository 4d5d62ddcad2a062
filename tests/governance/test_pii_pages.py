"""AppTest: personal data on the Hub records and Review queue pages — masked for a viewer
(on the page and in the downloaded CSV), shown to an admin with each view in the access log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import app_test

from core.hub_read import list_records
from core.pii import MASK, PiiFields, digester
from core.sync.hub import IncomingRecord, PiiGuard, upsert_records
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import AccessLogEntry
from tests.conftest import ADMIN
from tests.pages import conftest as page_fixtures
from tests.pages.conftest import sign_in, texts

# the page tests' fixtures: the app in navigation mode, and people of each role
_navigation_mode = page_fixtures._navigation_mode
people = page_fixtures.people

MONDAY = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
PEOPLE = {
    "1001": {"email": "ada.lovelace@example.com", "firstname": "Ada", "company": "Acme Corp"},
    "1002": {"email": "alan.turing@example.org", "firstname": "Alan", "company": "Globex Ltd"},
}


class _Downloads(MediaFileManager):
    """The app's media files, keeping each deferred download so a test can click it."""

    made: dict[str, Callable] = {}

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):  # noqa: ANN001, ANN201
        _Downloads.made[file_name] = data_callable
        return super().add_deferred(data_callable, mimetype, coordinates, file_name, **kwargs)


@pytest.fixture(autouse=True)
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable]:
    _Downloads.made = {}
    monkeypatch.setattr(app_test, "MediaFileManager", _Downloads)
    return _Downloads.made


def land_contacts(ws: Workspace, critical: frozenset[str] = frozenset()) -> None:
    """Two contacts written by the CRM with e-mail and first name sealed as Marketing's
    personal data; with ``critical``, the MAP then disagrees on Ada's first name."""
    guard = PiiGuard(
        ws.vault,
        PiiFields({"email": "Marketing", "firstname": "Marketing"}, ("email",)),
        digester(ws),
    )

    def write(source: str, records: list[IncomingRecord]) -> None:
        with transaction(ws) as session:
            upsert_records(
                session,
                entity="contact",
                source=source,
                records=records,
                run_id=None,
                critical_fields=critical,
                guard=guard,
            )

    write("CRM", [IncomingRecord(k, dict(v), MONDAY) for k, v in PEOPLE.items()])
    if critical:
        later = MONDAY + timedelta(days=1)
        write("MAP", [IncomingRecord("1001", {"firstname": "Augusta"}, later)])


def open_hub(user: str):
    at = sign_in(user)
    at.switch_page("pages/hub_records.py").run()
    assert not at.exception, at.exception
    return at


def access_log(ws: Workspace) -> list[AccessLogEntry]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(AccessLogEntry)))


def test_a_viewer_sees_personal_data_masked_and_downloads_it_masked(people, downloads) -> None:
    land_contacts(people)
    at = open_hub("viewer")
    table = at.dataframe[0].value
    assert list(table.columns) == ["Key", "company", "email", "firstname"]
    rows = {r.Key: r for r in table.itertuples(index=False)}
    assert rows["1001"].email == f"a{MASK}@example.com"
    assert rows["1001"].firstname == f"A{MASK}"
    assert rows["1002"].company == "Globex Ltd"
    said = texts(at)
    assert "Personal data (PII): email, firstname" in said
    assert "Masked for you: email, firstname" in said
    assert "written to the access log" in said

    # each field's source, for the record picked
    at.selectbox(key="hub_record").select_index(1).run()
    sources = {r["Field"]: r for r in at.dataframe[1].value.to_dict("records")}
    assert sources["email"]["Source"] == "CRM"
    assert sources["email"]["Value"] == f"a{MASK}@example.org"
    assert sources["email"]["Personal data"] == "Marketing"
    assert sources["company"]["Personal data"] == ""

    csv_text = downloads["hub_contact.csv"]().decode("utf-8-sig")
    assert f"a{MASK}@example.com" in csv_text and "Acme Corp" in csv_text
    assert "ada.lovelace" not in csv_text and "Ada," not in csv_text
    assert access_log(people) == []


def test_an_admin_sees_the_values_and_each_view_and_download_is_logged(people, downloads) -> None:
    land_contacts(people)
    at = open_hub("admin")
    rows = {r.Key: r for r in at.dataframe[0].value.itertuples(index=False)}
    assert rows["1001"].email == "ada.lovelace@example.com"
    assert rows["1002"].firstname == "Alan"
    assert "Masked for you" not in texts(at)
    [view] = access_log(people)
    assert (view.username, view.kind, view.place, view.domain) == (
        "admin",
        "view",
        "Hub records",
        "Marketing",
    )
    assert (view.fields, view.record_count) == ("email, firstname", 2)

    csv_text = downloads["hub_contact.csv"]().decode("utf-8-sig")
    assert "ada.lovelace@example.com" in csv_text
    kinds = [(e.kind, e.place, e.record_count) for e in access_log(people)]
    assert kinds == [("view", "Hub records", 2), ("export", "Hub records CSV export", 2)]


def test_searching_narrows_the_records_and_an_overlong_search_is_refused(people) -> None:
    land_contacts(people)
    at = open_hub("viewer")
    at.text_input(key="hub_search").input("1002").run()
    assert [r.Key for r in at.dataframe[0].value.itertuples(index=False)] == ["1002"]
    at.text_input(key="hub_search").input("nobody").run()
    assert "No contact record has a key containing 'nobody'" in texts(at)
    at.text_input(key="hub_search").input("1" * 201).run()
    assert not at.exception
    assert "Search by key" in at.error[0].value and "longer than 200" in at.error[0].value


def test_an_empty_hub_says_where_records_come_from(people) -> None:
    at = open_hub("viewer")
    assert "records land here when a flow runs" in texts(at)
    assert not at.get("download_button")


def test_the_review_queue_masks_a_personal_conflict_for_a_viewer(people) -> None:
    land_contacts(people, critical=frozenset({"firstname"}))
    at = sign_in("viewer")
    at.switch_page("pages/review_queue.py").run()
    assert not at.exception, at.exception
    [row] = at.dataframe[0].value.to_dict("records")
    assert (row["Field"], row["Hub value"], row["Incoming value"]) == (
        "firstname",
        f"A{MASK}",
        f"A{MASK}",
    )
    assert "Masked for you: firstname" in texts(at)
    assert not [b for b in at.button if b.label.startswith(("Keep", "Take"))]
    assert access_log(people) == []

    at = sign_in("admin")
    at.switch_page("pages/review_queue.py").run()
    [row] = at.dataframe[0].value.to_dict("records")
    assert (row["Hub value"], row["Incoming value"]) == ("Ada", "Augusta")
    assert any(b.label == "Take 'Augusta' (MAP)" for b in at.button)
    [view] = access_log(people)
    assert (view.username, view.place, view.fields, view.record_count) == (
        "admin",
        "Review queue",
        "firstname",
        1,
    )
    next(b for b in at.button if b.label == "Take 'Augusta' (MAP)").click().run()
    assert "Took the incoming value for conflict" in texts(at)
    assert "Nothing waits for review." in texts(at)
    hub = {r.key: r.fields for r in list_records(people, ADMIN, "contact").records}
    assert hub["1001"]["firstname"] == "Augusta"
