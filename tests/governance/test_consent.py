"""Consent end to end against the sandbox: a flow that carries consent (Mailchimp's member
status) records it per person; a flow that requires a purpose lets through only people
who gave it (carried by the record, or on file) and counts the others on its run; bad
settings are refused field by field."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.audit import AuditFilter, list_entries
from core.consent import (
    ConsentSetting,
    consent_coverage,
    flow_consent,
    person_consents,
    set_flow_consent,
)
from core.errors import InputError, PermissionDenied
from core.gateway import Gateway
from core.permissions import Actor, Role
from core.pii import email_digest
from db.engine import read_session
from db.governance import Consent
from db.models import HubRecord, IntegrationRun
from tests.conftest import ADMIN, VIEWER
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import Stack, hubspot_upsert, resize, run_flow

sandbox_server = sync_fixtures.sandbox_server
sandbox = sync_fixtures.sandbox
stack = sync_fixtures.stack
gateway = sync_fixtures.gateway

MARKETING_EDITOR = Actor("marketer", Role.EDITOR, domains={"Marketing": Role.EDITOR})
FINANCE_EDITOR = Actor("finance", Role.EDITOR, domains={"Finance": Role.EDITOR})
SUBSCRIBED = {"email_marketing": {"field": "status", "granted": ["subscribed"]}}


def members(sandbox: httpx.Client) -> dict[str, str]:
    """The audience as Mailchimp (the sandbox) holds it: e-mail → status."""
    answer = sandbox.get(
        "/mailchimp/3.0/lists/a1b2c3d4e5/members",
        params={"count": "1000"},
        auth=("any", "00000000000000000000000000000000-us1"),
    )
    return {m["email_address"]: m["status"] for m in answer.json()["members"]}


def run_row(ws, run_id: int) -> IntegrationRun:  # noqa: ANN001
    with read_session(ws.engine) as session:
        return session.get(IntegrationRun, run_id)


def audience_flow(stack: Stack, sandbox: httpx.Client) -> int:
    resize(sandbox, "mailchimp", "members", 20)
    return stack.flow(
        "Audience → warehouse",
        "mailchimp",
        "members",
        mappings=[("email_address", "email_address"), ("status", "status")],
    )


def test_a_flow_carrying_consent_records_it_per_person(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    flow = audience_flow(stack, sandbox)
    set_flow_consent(stack.ws, MARKETING_EDITOR, flow, SUBSCRIBED)
    assert run_flow(stack.ws, flow, gateway).status == "succeeded"

    audience = members(sandbox)
    subscribed = sorted(e for e, status in audience.items() if status == "subscribed")
    others = sorted(e for e, status in audience.items() if status != "subscribed")
    assert subscribed and others
    with read_session(stack.ws.engine) as session:
        rows = session.exec(select(Consent)).all()
    assert {r.email_digest: r.granted for r in rows} == {
        email_digest(stack.ws, e): audience[e] == "subscribed" for e in audience
    }
    assert {(r.purpose, r.source, r.integration_id) for r in rows} == {
        ("email_marketing", "MAP", flow)
    }
    coverage = {c.purpose: (c.granted, c.denied) for c in consent_coverage(stack.ws, VIEWER)}
    assert coverage == {
        "email_marketing": (len(subscribed), len(others)),
        "ad_user_data": (0, 0),
        "ad_personalization": (0, 0),
    }
    [said] = person_consents(stack.ws, ADMIN, subscribed[0].upper())
    assert (said.purpose, said.granted, said.source) == ("email_marketing", True, "MAP")
    assert [c.granted for c in person_consents(stack.ws, ADMIN, others[0])] == [False]
    assert person_consents(stack.ws, ADMIN, "never.seen@example.com") == []


def test_a_flow_requiring_a_purpose_skips_and_counts_the_others(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    flow = audience_flow(stack, sandbox)
    set_flow_consent(stack.ws, ADMIN, flow, SUBSCRIBED, required_purpose="email_marketing")
    run = run_row(stack.ws, run_flow(stack.ws, flow, gateway).id)
    audience = members(sandbox)
    subscribed = sorted(e for e, status in audience.items() if status == "subscribed")
    others = sorted(e for e, status in audience.items() if status != "subscribed")
    assert (run.records_written, run.skipped_no_consent) == (len(subscribed), len(others))
    assert run.skipped_suppressed == 0

    # a CRM flow that carries no consent but requires it: consent on file decides
    resize(sandbox, "hubspot", "contacts", 3)
    hubspot_upsert(sandbox, subscribed[0], firstname="Given")
    hubspot_upsert(sandbox, others[0], firstname="Refused")
    crm = stack.flow(
        "Contacts → warehouse", "hubspot", "contacts", mappings=[("properties.email", "email")]
    )
    set_flow_consent(stack.ws, ADMIN, crm, {}, required_purpose="email_marketing")
    crm_run = run_row(stack.ws, run_flow(stack.ws, crm, gateway).id)
    assert (crm_run.records_written, crm_run.skipped_no_consent) == (1, 4)
    with read_session(stack.ws.engine) as session:
        landed = session.exec(
            select(HubRecord.email_digest).where(HubRecord.entity == "contact")
        ).all()
    digests = set(landed)
    assert email_digest(stack.ws, subscribed[0]) in digests
    assert email_digest(stack.ws, others[0]) not in digests


def test_consent_settings_are_stored_audited_and_read_back(stack: Stack) -> None:
    flow = stack.flow("Audience → warehouse", "mailchimp", "members")
    saved = set_flow_consent(
        stack.ws,
        MARKETING_EDITOR,
        flow,
        {
            "email_marketing": {"field": " status ", "granted": "subscribed, pending"},
            "ad_user_data": {"field": "merge_fields.ADS"},
        },
        required_purpose="email_marketing",
    )
    assert saved.carries == {
        "email_marketing": ConsentSetting("status", ("subscribed", "pending")),
        "ad_user_data": ConsentSetting("merge_fields.ADS", ()),
    }
    assert flow_consent(stack.ws, VIEWER, flow) == saved
    with read_session(stack.ws.engine) as session:
        [entry] = [
            e
            for e in list_entries(session, AuditFilter(entity="integration"))
            if "Consent settings" in e.summary
        ]
    assert entry.actor == "marketer" and "E-mail marketing" in entry.summary


def test_bad_consent_settings_are_refused_naming_each_field(stack: Stack) -> None:
    flow = stack.flow("Audience → warehouse", "mailchimp", "members")
    with pytest.raises(InputError) as refused:
        set_flow_consent(
            stack.ws,
            ADMIN,
            flow,
            {
                "newsletter": {"field": "status"},
                "email_marketing": {"field": "  "},
                "ad_personalization": {"field": "merge fields.ADS"},
            },
            required_purpose="everything",
        )
    fields = [p.field for p in refused.value.problems]
    assert fields == [
        "Purpose 'newsletter'",
        "E-mail marketing field",
        "Ad personalisation field",
        "Required purpose",
    ]
    assert all(p.message for p in refused.value.problems)
    unchanged = flow_consent(stack.ws, ADMIN, flow)
    assert (unchanged.carries, unchanged.required_purpose) == ({}, "")


def test_only_editors_of_the_flows_domain_set_its_consent(stack: Stack) -> None:
    flow = stack.flow("Audience → warehouse", "mailchimp", "members")
    for who in (VIEWER, FINANCE_EDITOR):
        with pytest.raises(PermissionDenied):
            set_flow_consent(stack.ws, who, flow, SUBSCRIBED)
    with pytest.raises(PermissionDenied):
        person_consents(stack.ws, MARKETING_EDITOR, "ann@example.com")
    with pytest.raises(InputError) as malformed:
        person_consents(stack.ws, ADMIN, "ann at example")
    assert malformed.value.problems[0].field == "E-mail"


# --- the flow's consent section -------------------------------------------------------------


def _section(flow_id: int, role: str) -> None:
    """The section alone, as the Integrations page renders it for a flow."""
    from core.permissions import Actor, Role
    from core.settings import load_settings
    from core.workspace import open_workspace
    from pages.flow_consent import consent_section

    consent_section(open_workspace(load_settings()), Actor(role, Role(role)), flow_id)


def section(flow_id: int, role: str = "editor") -> AppTest:
    at = AppTest.from_function(_section, args=(flow_id, role), default_timeout=30).run()
    assert not at.exception
    return at


def test_the_consent_section_saves_settings_and_shows_bad_input(stack: Stack) -> None:
    flow = stack.flow("Audience → warehouse", "mailchimp", "members")
    at = section(flow)
    at.text_input(key=f"consent_{flow}_email_marketing_field").input("status")
    at.text_input(key=f"consent_{flow}_email_marketing_granted").input("subscribed")
    at.selectbox(key=f"consent_{flow}_required").select("email_marketing")
    at.button(key=f"consent_{flow}_save").click().run()
    assert not at.exception and not at.error
    saved = flow_consent(stack.ws, ADMIN, flow)
    assert saved.carries == {"email_marketing": ConsentSetting("status", ("subscribed",))}
    assert saved.required_purpose == "email_marketing"

    at = section(flow)
    assert at.text_input(key=f"consent_{flow}_email_marketing_field").value == "status"
    at.text_input(key=f"consent_{flow}_ad_user_data_granted").input("yes")
    at.button(key=f"consent_{flow}_save").click().run()
    [error] = at.error
    assert "Ad user data field" in error.value and "is empty" in error.value
    assert flow_consent(stack.ws, ADMIN, flow) == saved

    viewer = section(flow, "viewer")
    assert viewer.button(key=f"consent_{flow}_save").disabled
    assert "Only editors of Marketing" in viewer.caption[-1].value
