"""The Integrations, Runs and Review queue pages, driven as a person would."""

from __future__ import annotations

import pytest

from core.conflicts import list_conflicts
from core.consent import flow_consent
from core.demo import load_demo
from core.integrations import list_integrations
from core.runs import list_runs
from core.sync.hub import IncomingRecord, upsert_records
from core.workspace import transaction
from db.models import utcnow
from tests.conftest import ADMIN
from tests.pages.conftest import sign_in, texts


@pytest.fixture
def demo(people, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_SANDBOX_URL", "http://127.0.0.1:9")
    load_demo(people)
    return people


def open_page(page: str, user: str = "editor"):
    at = sign_in(user)
    at.switch_page(page).run()
    assert not at.exception
    return at


def press(at, label: str, nth: int = 0):
    [b for b in at.button if b.label == label][nth].click().run()
    return at


def errors(at) -> str:
    return "\n".join(str(e.value) for e in at.error)


def test_the_flows_of_the_workspace_are_listed(demo):
    at = open_page("pages/integrations.py", "viewer")
    table = at.dataframe[0].value
    assert set(table["Flow"]) >= {"CRM → MAP contacts", "Website forms → CRM"}
    assert "can look but not change" in texts(at)


def test_a_new_flow_is_validated_whole_before_it_is_saved(demo):
    at = open_page("pages/integrations.py")
    at.text_input(key="new_name").input("Billing to warehouse")
    at.selectbox(key="new_frequency").select("daily").run()
    at.text_input(key="new_at").input("25:00").run()
    at = press(at, "Save flow")
    message = errors(at)
    assert "**Data** is empty" in message
    assert "'25:00' does not exist" in message
    assert "Billing to warehouse" not in {f.name for f in list_integrations(demo, ADMIN)}


def test_a_mapping_row_to_nothing_is_named(demo):
    at = open_page("pages/integrations.py")
    at.text_input(key="new_name").input("Forms copy")
    at.text_input(key="new_data").input("Form data")
    at.session_state["new_mapping"] = {
        "edited_rows": {},
        "added_rows": [{"Source field": "email"}],
        "deleted_rows": [],
    }
    at.run()
    at = press(at, "Save flow")
    assert "Mapping row 1" in errors(at) and "maps 'email' to nothing" in errors(at)


def test_saving_a_registered_flow_and_run_now_needs_a_source(demo):
    at = open_page("pages/integrations.py")
    at.text_input(key="new_name").input("Billing → Warehouse")
    at.text_input(key="new_data").input("Invoices")
    at = press(at, "Save flow")
    assert "Saved flow Billing → Warehouse." in texts(at)
    flows = {f.name: f for f in list_integrations(demo, ADMIN)}
    assert "Billing → Warehouse" in flows


def test_run_now_queues_a_run_that_the_runs_page_shows(demo):
    at = open_page("pages/integrations.py")
    flows = [f.name for f in list_integrations(demo, ADMIN)]
    at.selectbox(key="edit_pick").select_index(flows.index("CRM → MAP contacts")).run()
    at = press(at, "Run now")
    assert "is queued" in texts(at)
    (run,) = list_runs(demo, ADMIN)
    at = open_page("pages/runs.py")
    table = at.dataframe[0].value
    assert list(table["Status"]) == ["queued"]
    at = press(at, "Cancel this run")
    assert "Cancel requested" in texts(at)
    assert list_runs(demo, ADMIN)[0].status == "cancelled"


def test_the_review_queue_resolves_a_conflict(demo):
    with transaction(demo) as session:
        upsert_records(
            session,
            entity="contact",
            source="CRM",
            run_id=None,
            records=[IncomingRecord("7", {"lifecycle": "lead"}, utcnow())],
        )
        upsert_records(
            session,
            entity="contact",
            source="MAP",
            run_id=None,
            records=[IncomingRecord("7", {"lifecycle": "customer"}, utcnow())],
            critical_fields=frozenset({"lifecycle"}),
        )
    at = open_page("pages/review_queue.py")
    assert at.dataframe[0].value.iloc[0]["Incoming value"] == "customer"
    at = press(at, "Take 'customer' (MAP)")
    assert "Took the incoming value" in texts(at)
    assert list_conflicts(demo, ADMIN) == []
    at = open_page("pages/review_queue.py", "viewer")
    assert "Nothing waits for review." in texts(at)


def test_a_flows_consent_settings_are_edited_on_its_page(demo):
    flow = next(f for f in list_integrations(demo, ADMIN) if f.name == "MAP → CRM activities")
    at = open_page("pages/integrations.py")
    at.selectbox(key="edit_pick").select(
        next(o for o in at.selectbox(key="edit_pick").options if "MAP → CRM" in o)
    ).run()
    field = at.text_input(key=f"consent_{flow.id}_email_marketing_field")
    assert field.value == "status"  # the demo's flow carries Mailchimp's member status
    # a form's widgets count when it is submitted
    at.text_input(key=f"consent_{flow.id}_ad_user_data_granted").input("granted")
    press(at, "Save consent settings")
    assert "Ad user data field" in errors(at)
    assert "ad_user_data" not in flow_consent(demo, ADMIN, flow.id).carries
    at.text_input(key=f"consent_{flow.id}_ad_user_data_granted").input("")
    at.selectbox(key=f"consent_{flow.id}_required").select("email_marketing")
    press(at, "Save consent settings")
    assert not at.exception and not errors(at)
    assert flow_consent(demo, ADMIN, flow.id).required_purpose == "email_marketing"
