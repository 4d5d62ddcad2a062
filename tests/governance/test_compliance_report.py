"""The compliance report: its sections, privacy requests judged against their deadlines, no
e-mail in the clear, bad periods refused by name, making it audited; and its page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from core import audit
from core.compliance_report import check_period, make_report, standing
from core.compliance_report_html import activity_csv, file_name, render_html, section_summaries
from core.errors import InputError, PermissionDenied
from core.pii import email_digest, email_hint
from core.retention import PolicyInput, set_policy
from core.retention_runs import apply
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.governance import AccessLogEntry, Consent, PrivacyRequest
from db.models import AuditEntry, FieldMapping, HubRecord, Integration, System, utcnow
from tests.conftest import ADMIN, EDITOR
from tests.pages import conftest as page_fixtures
from tests.pages.conftest import sign_in, texts

# the page tests' fixtures: the app in navigation mode, and people of each role
_navigation_mode = page_fixtures._navigation_mode
people = page_fixtures.people

NOW = utcnow()
TODAY = NOW.date()
START = TODAY - timedelta(days=30)
JANE = "jane.doe@example.com"


def add_request(ws: Workspace, email: str, received: int, due: int, completed: int | None):
    """A GDPR request received, due and completed the given number of days from now."""
    digest = email_digest(ws, email)
    sealed = ws.vault.seal(email, f"privacy_request:{digest}")
    with transaction(ws) as session:
        session.add(
            PrivacyRequest(
                email_digest=digest, email_nonce=sealed.nonce,
                email_ciphertext=sealed.ciphertext, email_key_id=sealed.key_id,
                email_hint=email_hint(email), regulation="gdpr",
                status="received" if completed is None else "completed",
                received_at=NOW + timedelta(days=received), due_at=NOW + timedelta(days=due),
                completed_at=None if completed is None else NOW + timedelta(days=completed),
                requested_by="admin",
            )
        )  # fmt: skip


def seed(ws: Workspace) -> None:
    add_request(ws, JANE, -25, -10, -12)  # done two days early
    add_request(ws, "late@example.com", -28, -15, -3)  # done twelve days late
    add_request(ws, "open@example.com", -2, 28, None)
    add_request(ws, "overdue@example.com", -29, -1, None)
    add_request(ws, "old@example.com", -200, -170, -150)  # done long before the period
    with transaction(ws) as session:
        crm, map_ = System(name="CRM", category="crm"), System(name="MAP", category="map")
        session.add_all([crm, map_])
        session.flush()
        session.add_all([
            DictionaryField(name="email", system_id=crm.id, data_type="Email", pii=True),
            DictionaryField(name="email", system_id=map_.id, data_type="Email", pii=True),
            DictionaryField(name="score", system_id=crm.id, data_type="Integer"),
        ])  # fmt: skip
        flow = Integration(name="CRM to MAP", source_system_id=crm.id,
                           destination_system_id=map_.id, data="Contacts",
                           frequency="daily", method="api")  # fmt: skip
        session.add(flow)
        session.flush()
        session.add(FieldMapping(integration_id=flow.id, source_field="properties.email",
                                 destination_field="email_address"))  # fmt: skip
        jane, bob = email_digest(ws, JANE), email_digest(ws, "bob@example.com")
        for key, digest in (("1", jane), ("2", bob), ("3", None)):
            session.add(HubRecord(entity="contact", external_key=key, email_digest=digest))
        session.add_all([
            Consent(email_digest=jane, purpose="email_marketing", granted=True),
            Consent(email_digest=jane, purpose="ad_user_data", granted=False),
        ])  # fmt: skip
        session.add(AccessLogEntry(username="sam", place="Hub records", domain="Sales",
                                   entity="contact", fields="email", record_count=2))  # fmt: skip
        # an overwrite audited with the value it replaced: the report keeps it out
        audit.record(session, actor="CRM", action="overwrite", entity="hub_record",
                     entity_id="contact:1", summary="CRM overwrote email (newer write wins)",
                     before={"email": JANE}, after={"email": "j.doe@example.com"})  # fmt: skip


def test_the_report_has_every_section_and_no_email_in_the_clear(ws):
    seed(ws)
    set_policy(ws, ADMIN, PolicyInput("Marketing", "run_history", 30))
    apply(ws, ADMIN)
    report = make_report(ws, ADMIN, START, TODAY, now=NOW)

    standings = {p.email_hint: p.standing for p in report.privacy}
    assert standings == {
        email_hint(JANE): "on time",
        email_hint("late@example.com"): "late",
        email_hint("open@example.com"): "open",
        email_hint("overdue@example.com"): "open, overdue",
    }
    assert report.consent.per_purpose["email_marketing"] == (1, 0)
    assert report.consent.per_purpose["ad_user_data"] == (0, 1)
    assert (report.consent.persons_with_consent, report.consent.hub_persons) == (1, 2)
    assert report.chain.ok
    assert len(report.retention) == 1
    assert [(p.lineage.system, p.lineage.name) for p in report.pii] == [
        ("CRM", "email"),
        ("MAP", "email"),
    ]
    assert ("sam", "Hub records", "Sales") in dict(report.access_counts())

    html = render_html(report)
    for heading in ("Changes", "Access to personal data", "Privacy requests", "Retention runs",
                    "Consent coverage", "Audit chain", "Lineage of personal data fields"):  # fmt: skip
        assert heading in html
    assert "CRM to MAP" in html and "CRM.email" in html and "50%" in html
    assert "The audit chain is intact" in html
    assert "1 on time; 1 late; 1 open; 1 open, overdue" in html
    assert "<script" not in html and "http" not in html
    csv_text = activity_csv(report).decode("utf-8-sig")
    assert "CRM overwrote email" in csv_text and "Hub records" in csv_text
    for email in (JANE, "late@example.com", "open@example.com", "overdue@example.com"):
        assert email not in html and email not in csv_text
    assert email_hint(JANE) in html
    assert file_name(report, "html") == f"compliance-report-{START}-to-{TODAY}.html"


def test_a_broken_chain_shows_in_the_report(ws):
    seed(ws)
    with ws.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET summary = 'nothing' WHERE action = 'overwrite'")
        )
    report = make_report(ws, ADMIN, START, TODAY, now=NOW)
    assert not report.chain.ok
    assert "BROKEN" in dict(section_summaries(report))["Audit chain"]
    assert "The audit chain is broken" in render_html(report)


def test_making_the_report_is_audited_and_logged(ws):
    report = make_report(ws, ADMIN, START, TODAY, now=NOW)
    assert "None in this period" in render_html(report)
    assert "0 requests" in dict(section_summaries(report))["Privacy requests"]
    with read_session(ws.engine) as session:
        summaries = session.exec(
            select(AuditEntry.summary).where(AuditEntry.entity == "compliance_report")
        ).all()
        places = session.exec(select(AccessLogEntry.place)).all()
    assert summaries == [f"Made the compliance report for {START} to {TODAY}"]
    assert places == ["Compliance report"]
    with pytest.raises(PermissionDenied):
        make_report(ws, EDITOR, START, TODAY)


def test_bad_periods_are_named():
    with pytest.raises(InputError, match="End date: is before the start date"):
        check_period(TODAY, START, TODAY)
    with pytest.raises(InputError) as caught:
        check_period(TODAY + timedelta(days=1), TODAY + timedelta(days=2), TODAY)
    assert [p.field for p in caught.value.problems] == ["Start date", "End date"]
    assert "in the future" in caught.value.problems[0].message
    with pytest.raises(InputError, match="Start date: is empty"):
        check_period(None, TODAY, TODAY)
    assert check_period(TODAY, TODAY, TODAY).label == f"{TODAY} to {TODAY}"


def test_standing_is_judged_by_calendar_day():
    due = NOW.replace(hour=9)
    assert standing(due, due.replace(hour=23), NOW) == "on time"
    assert standing(due, due + timedelta(days=1), NOW) == "late"
    assert standing(due, None, due.replace(hour=23)) == "open"
    assert standing(due, None, due + timedelta(days=1)) == "open, overdue"


def open_report_page():
    at = sign_in("admin")
    at.switch_page("pages/compliance_report.py").run()
    assert not at.exception, at.exception
    return at


def make(at, start: date, end: date):
    at.date_input[0].set_value(start)
    at.date_input[1].set_value(end)
    next(b for b in at.button if b.label == "Make the report").click().run()
    assert not at.exception, at.exception
    return texts(at)


def test_the_page_summarises_each_section_and_offers_the_downloads(people):
    seed(people)
    said = make(open_report_page(), START, TODAY)
    for section in ("Changes:", "Access to personal data:", "Privacy requests:",
                    "Retention runs:", "Consent coverage:", "Audit chain:",
                    "Personal data lineage:"):  # fmt: skip
        assert section in said
    assert "1 open, overdue" in said and "intact" in said
    assert JANE not in said
    at = open_report_page()
    make(at, START, TODAY)
    labels = {b.proto.label for b in at.get("download_button")}
    assert labels == {"Download the report (HTML)", "Download changes and accesses (CSV)"}


def test_the_page_names_a_bad_period(people):
    at = open_report_page()
    said = make(at, TODAY, START)
    assert "End date" in said and "before the start date" in said
    said = make(at, TODAY + timedelta(days=3), TODAY + timedelta(days=4))
    assert "Start date" in said and "in the future" in said
    assert not at.get("download_button")


def test_a_viewer_cannot_reach_the_report(people):
    at = sign_in("viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/compliance_report.py")
