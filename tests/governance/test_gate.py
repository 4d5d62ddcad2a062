"""The gate between a page and the hub: the suppression list is read once per run, and a
person suppressed while the run is under way is still left out at the page's commit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from core.pii import PiiFields, digester, email_digest
from core.sync.gate import RecordGate
from core.sync.hub import IncomingRecord, PiiGuard
from core.workspace import transaction
from db.engine import read_session
from db.governance import Suppression


def page(*emails: str) -> list[tuple[dict, IncomingRecord]]:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    return [({"email": e}, IncomingRecord(e.split("@")[0], {"email": e}, when)) for e in emails]


def gate_for(ws) -> RecordGate:  # noqa: ANN001
    guard = PiiGuard(ws.vault, PiiFields(), digester(ws))
    return RecordGate(
        guard, sources=[], required_purpose="", source_name="CRM", integration_id=None
    )


def suppress(ws, email: str) -> None:  # noqa: ANN001
    digest = email_digest(ws, email)
    with transaction(ws) as session:
        session.add(Suppression(email_digest=digest))


def test_a_person_suppressed_before_the_run_is_left_out(ws):
    suppress(ws, "gone@example.com")
    gate = gate_for(ws)
    with read_session(ws.engine) as session:
        gate.refresh(session)
    outcome = gate.sort(None, page("gone@example.com", "stays@example.com"))
    assert [r.key for r in outcome.passed] == ["stays"] and outcome.suppressed == 1


def test_a_person_suppressed_mid_run_is_dropped_at_the_commit(ws):
    gate = gate_for(ws)
    with read_session(ws.engine) as session:
        gate.refresh(session)
    outcome = gate.sort(None, page("late@example.com", "stays@example.com"))
    assert len(outcome.passed) == 2
    suppress(ws, "LATE@example.com")  # a deletion request executed meanwhile
    with transaction(ws) as session:
        gate.drop_late(session, outcome)
    assert [r.key for r in outcome.passed] == ["stays"] and outcome.suppressed == 1
    # and the next page knows without asking again
    assert gate.sort(None, page("late@example.com")).suppressed == 1


def test_consent_of_a_suppressed_person_is_not_recorded_again(ws):
    from core.sync.gate import ConsentSource

    suppress(ws, "gone@example.com")
    guard = PiiGuard(ws.vault, PiiFields(), digester(ws))
    gate = RecordGate(
        guard,
        sources=[ConsentSource("email_marketing", "status")],
        required_purpose="",
        source_name="MAP",
        integration_id=None,
    )
    with read_session(ws.engine) as session:
        gate.refresh(session)
    records = [({"email": e, "status": "subscribed"}, r) for (_, r), e in
               zip(page("gone@example.com", "stays@example.com"),
                   ("gone@example.com", "stays@example.com"), strict=True)]  # fmt: skip
    outcome = gate.sort(None, records)
    assert set(outcome.consents) == {(email_digest(ws, "stays@example.com"), "email_marketing")}


def test_what_is_stored_about_a_refusal_or_a_call_names_no_one(ws):
    from core.gateway import _without_person
    from core.pii import record_label, scrub

    digest = digester(ws)
    assert record_label("ann@example.com", digest) == f"person:{digest('ann@example.com')}"
    assert record_label("12345", digest) == "12345"
    said = 'Member "Ann@Example.com" was permanently deleted'
    assert scrub(said) == 'Member "A•••@Example.com" was permanently deleted'
    path = "/mailchimp/3.0/lists/a1b2c3d4e5/members/81473217063ecf00abd9a3b7a8e13e28"
    assert _without_person(path) == "/mailchimp/3.0/lists/a1b2c3d4e5/members/{hash}"


def test_a_domain_lead_deletes_a_person_only_where_they_lead(ws):
    from core.errors import PermissionDenied
    from core.gateway import Gateway
    from core.permissions import Actor, Role
    from core.privacy import create_request
    from core.privacy_delete import execute_request
    from db.models import HubRecord, Integration, IntegrationRun, System
    from tests.conftest import ADMIN

    digest = email_digest(ws, "dana@example.com")
    with transaction(ws) as session:
        crm = System(name="CRM", category="crm")
        session.add(crm)
        session.flush()
        flow = Integration(name="Billing sync", source_system_id=crm.id,
                           destination_system_id=crm.id, data="Customers",
                           frequency="daily", method="api", domain="Finance")  # fmt: skip
        session.add(flow)
        session.flush()
        run = IntegrationRun(integration_id=flow.id, status="succeeded")
        session.add(run)
        session.flush()
        session.add(HubRecord(entity="customer", external_key="cus_1", email_digest=digest,
                              last_run_id=run.id))  # fmt: skip
    marketing_lead = Actor("mona", Role.LEAD, {"Marketing": Role.LEAD})
    request = create_request(ws, marketing_lead, "dana@example.com", "gdpr")
    try:
        execute_request(ws, marketing_lead, request.id, Gateway())
    except PermissionDenied as refused:
        assert "Finance" in refused.message
    else:
        raise AssertionError("a Marketing lead deleted a Finance customer")
    with read_session(ws.engine) as session:
        assert session.exec(select(HubRecord)).all()
    done = execute_request(ws, ADMIN, request.id, Gateway())
    assert done.status == "completed" and done.hub_records_deleted == 1
