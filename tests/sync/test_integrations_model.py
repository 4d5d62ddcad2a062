"""The flow registry: the whole definition validated before anything is stored, schedules,
the audited life of a flow, and which flows the worker may be asked to run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from core.audit import AuditFilter, list_entries
from core.errors import InputError, PermissionDenied
from core.integrations import (
    IntegrationInput,
    create_integration,
    delete_integration,
    get_integration,
    list_integrations,
    set_enabled,
    update_integration,
)
from core.runs import list_runs, request_cancel, request_run
from core.scheduling import Schedule, describe, next_run_after
from core.workspace import Workspace
from db.engine import read_session
from db.models import AuditEntry, FieldMapping, Integration, IntegrationRun
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.sync.conftest import Stack, build_stack

CONTACTS = [("properties.email", "email"), ("properties.firstname", "firstname")]


@pytest.fixture
def stack(ws: Workspace) -> Stack:
    # nothing here calls a vendor: the connectors only have to exist
    return build_stack(ws, "http://127.0.0.1:9")


def draft(stack: Stack, **changes: object) -> IntegrationInput:
    """A valid HubSpot contacts → MAP flow, with ``changes``."""
    base = IntegrationInput(
        name="CRM → MAP contacts",
        source_system_id=stack.systems["CRM"],
        destination_system_id=stack.systems["MAP"],
        data="Contacts",
        frequency="hourly",
        method="api",
        owner="Marketing Ops",
        source_connector_id=stack.connectors["hubspot"],
        source_stream="contacts",
        destination_connector_id=stack.connectors["mailchimp"],
        destination_stream="members",
        write_mode="upsert",
        sync_mode="incremental_upsert",
    )
    return replace(base, **changes)


def stored(ws: Workspace) -> tuple[int, int, int]:
    """(flows, mapping rows, audit entries about flows) in the store."""
    with read_session(ws.engine) as session:
        flows = session.exec(select(func.count()).select_from(Integration)).one()
        rows = session.exec(select(func.count()).select_from(FieldMapping)).one()
        entries = session.exec(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity == "integration")
        ).one()
    return flows, rows, entries


def audit_of(ws: Workspace, flow_id: int) -> list[AuditEntry]:
    with read_session(ws.engine) as session:
        entries = list_entries(session, AuditFilter(entity="integration"))
    return [e for e in reversed(entries) if e.entity_id == str(flow_id)]


# --- validation --------------------------------------------------------------------------

BAD = {
    "daily at 25:00": (
        {"frequency": "daily", "at_time": "25:00"},
        [],
        "At time",
        "'25:00' does not exist",
    ),
    "daily at no time": (
        {"frequency": "daily", "at_time": "noon"},
        [],
        "At time",
        "write HH:MM",
    ),
    "every 0 minutes": (
        {"frequency": "every_n_minutes", "every_minutes": 0},
        [],
        "Every N minutes",
        "from 1 to 1440",
    ),
    "weekly without a day": (
        {"frequency": "weekly", "at_time": "06:00", "weekday": None},
        [],
        "Weekday",
        "pick a day of the week",
    ),
    "a field mapped to nothing": (
        {},
        [("properties.email", "email"), ("properties.company", " ")],
        "Mapping row 2",
        "maps 'properties.company' to nothing",
    ),
    "a mapping row without a source": (
        {},
        [("", "email")],
        "Mapping row 1",
        "has no source field",
    ),
    "two rows writing one field": (
        {},
        [("properties.email", "email"), ("properties.phone", "email")],
        "Mapping row 2",
        "'email' is already written by another row",
    ),
    "a stream the connector does not offer": (
        {"source_stream": "tickets"},
        [],
        "Source stream",
        "contacts, companies, deals",
    ),
    "incremental on a stream that cannot be read incrementally": (
        {"source_stream": "table_rows", "source_system_id": "BigQuery"},
        [],
        "Sync mode",
        "cannot be read incrementally; use Full refresh",
    ),
    "a write mode the destination lacks": (
        {"write_mode": "create"},
        [],
        "Write mode",
        "Mailchimp 'members' offers only: upsert, delete",
    ),
    "a destination stream that does not exist": (
        {"destination_stream": "campaigns"},
        [],
        "Destination stream",
        "pick one of: members",
    ),
    "a webhook flow reading an API connector": (
        {"method": "webhook", "frequency": "real-time"},
        [],
        "Source connector",
        "needs an Inbound webhook connector",
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=list(BAD))
def test_a_bad_definition_names_the_field_and_stores_nothing(
    stack: Stack, case: tuple[dict, list, str, str]
) -> None:
    changes, mappings, field, words = case
    changes = dict(changes)
    if changes.get("source_system_id") == "BigQuery":
        changes["source_system_id"] = stack.systems["BigQuery"]
        changes["source_connector_id"] = stack.connectors["warehouse"]
        changes["destination_connector_id"] = None
    before = stored(stack.ws)
    with pytest.raises(InputError) as caught:
        create_integration(stack.ws, EDITOR, draft(stack, **changes), mappings)
    problems = {p.field: p.message for p in caught.value.problems}
    assert field in problems, problems
    assert words in problems[field]
    assert len(problems) == 1, problems
    assert stored(stack.ws) == before


def test_every_problem_is_reported_at_once(stack: Stack) -> None:
    data = draft(stack, name=" ", frequency="daily", at_time="24:61", write_mode="create")
    with pytest.raises(InputError) as caught:
        create_integration(stack.ws, EDITOR, data, [("a", "")])
    assert [p.field for p in caught.value.problems] == [
        "Name",
        "At time",
        "Write mode",
        "Mapping row 1",
    ]
    assert stored(stack.ws) == (0, 0, 0)


def test_a_bad_update_changes_nothing(stack: Stack) -> None:
    flow = create_integration(stack.ws, EDITOR, draft(stack), CONTACTS)
    with pytest.raises(InputError, match="At time"):
        update_integration(
            stack.ws, EDITOR, flow.id, draft(stack, frequency="daily", at_time="25:00"), []
        )
    detail = get_integration(stack.ws, VIEWER, flow.id)
    assert detail.flow.frequency == "hourly" and detail.mappings == CONTACTS
    assert len(audit_of(stack.ws, flow.id)) == 1


def test_a_viewer_cannot_create_a_flow(stack: Stack) -> None:
    with pytest.raises(PermissionDenied):
        create_integration(stack.ws, VIEWER, draft(stack), CONTACTS)
    assert stored(stack.ws) == (0, 0, 0)


# --- schedules ---------------------------------------------------------------------------

AFTER = datetime(2026, 11, 20, 10, 17, 42, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        (Schedule("real-time"), AFTER, datetime(2026, 11, 20, 10, 18, tzinfo=UTC)),
        (Schedule("every_n_minutes", 15), AFTER, datetime(2026, 11, 20, 10, 32, tzinfo=UTC)),
        (Schedule("hourly"), AFTER, datetime(2026, 11, 20, 11, 0, tzinfo=UTC)),
        (
            Schedule("daily", at_time="06:30"),
            AFTER,
            datetime(2026, 11, 21, 6, 30, tzinfo=UTC),
        ),
        (
            Schedule("daily", at_time="18:05"),
            AFTER,
            datetime(2026, 11, 20, 18, 5, tzinfo=UTC),
        ),
        (
            Schedule("daily", at_time="06:30"),
            datetime(2026, 11, 20, 6, 30, tzinfo=UTC),
            datetime(2026, 11, 21, 6, 30, tzinfo=UTC),
        ),
        (
            Schedule("daily", at_time="23:59"),
            datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC),
            datetime(2027, 1, 1, 23, 59, tzinfo=UTC),
        ),
        (
            Schedule("weekly", at_time="06:00", weekday=0),
            AFTER,
            datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        ),
        (
            Schedule("weekly", at_time="12:00", weekday=4),
            AFTER,
            datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        ),
        (
            Schedule("weekly", at_time="09:00", weekday=4),
            AFTER,
            datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
        ),
    ],
    ids=[
        "real-time",
        "every 15 minutes",
        "hourly",
        "daily, time passed today",
        "daily, later today",
        "daily, exactly at the time",
        "daily, across the year",
        "weekly on Monday",
        "weekly, later today",
        "weekly, earlier today",
    ],
)
def test_next_run_after_each_frequency(
    schedule: Schedule, after: datetime, expected: datetime
) -> None:
    due = next_run_after(schedule, after)
    assert due == expected
    assert due > after


def test_schedules_in_words() -> None:
    assert describe(Schedule("weekly", at_time="06:00", weekday=0)) == (
        "Weekly on Monday at 06:00 UTC"
    )
    assert describe(Schedule("every_n_minutes", 15)) == "Every 15 minutes"


def test_an_enabled_flow_is_due_at_its_next_time_and_a_disabled_one_never(stack: Stack) -> None:
    flow = create_integration(
        stack.ws, EDITOR, draft(stack, frequency="daily", at_time="06:30"), CONTACTS
    )
    assert flow.next_run_at is not None
    assert (flow.next_run_at.hour, flow.next_run_at.minute) == (6, 30)
    set_enabled(stack.ws, EDITOR, flow.id, False)
    assert get_integration(stack.ws, VIEWER, flow.id).flow.next_run_at is None


# --- the audited life of a flow ----------------------------------------------------------


def test_create_update_disable_enable_delete_are_each_audited(stack: Stack) -> None:
    flow = create_integration(stack.ws, EDITOR, draft(stack), CONTACTS)
    update_integration(
        stack.ws,
        EDITOR,
        flow.id,
        draft(stack, frequency="every_n_minutes", every_minutes=30),
        [*CONTACTS, ("properties.lastname", "lastname")],
    )
    set_enabled(stack.ws, EDITOR, flow.id, False)
    set_enabled(stack.ws, ADMIN, flow.id, True)
    assert [r.name for r in list_integrations(stack.ws, VIEWER)] == ["CRM → MAP contacts"]
    delete_integration(stack.ws, ADMIN, flow.id)

    assert list_integrations(stack.ws, VIEWER) == []
    assert stored(stack.ws)[:2] == (0, 0)
    entries = audit_of(stack.ws, flow.id)
    assert [(e.actor, e.action) for e in entries] == [
        ("editor", "create"),
        ("editor", "update"),
        ("editor", "update"),
        ("admin", "update"),
        ("admin", "delete"),
    ]
    created, updated, disabled, enabled, deleted = entries
    assert json.loads(created.after_json)["mappings"] == [list(m) for m in CONTACTS]
    change_before, change_after = json.loads(updated.before_json), json.loads(updated.after_json)
    assert (change_before["frequency"], change_after["frequency"]) == ("hourly", "every_n_minutes")
    assert change_after["every_minutes"] == 30
    assert "name" not in change_after  # only what changed
    assert len(change_after["mappings"]) == 3
    assert json.loads(disabled.after_json) == {"enabled": False}
    assert json.loads(enabled.after_json) == {"enabled": True}
    assert json.loads(deleted.before_json)["name"] == "CRM → MAP contacts"


def test_a_running_flow_cannot_be_deleted(stack: Stack) -> None:
    flow = create_integration(stack.ws, EDITOR, draft(stack, enabled=False), CONTACTS)
    run = request_run(stack.ws, EDITOR, flow.id)
    from core.runs import claim_next_run

    assert claim_next_run(stack.ws, "w") == run.id
    with pytest.raises(InputError, match=rf"is running \(run #{run.id}\); cancel it first"):
        delete_integration(stack.ws, ADMIN, flow.id)
    assert stored(stack.ws)[0] == 1


# --- asking for runs ---------------------------------------------------------------------


def test_run_now_on_a_native_flow_is_refused_in_plain_words(stack: Stack) -> None:
    native = create_integration(
        stack.ws,
        EDITOR,
        draft(
            stack,
            name="GA4 → BigQuery export",
            source_system_id=stack.systems["GA4"],
            destination_system_id=stack.systems["BigQuery"],
            method="native",
            source_connector_id=None,
            source_stream="",
            destination_connector_id=None,
        ),
    )
    with pytest.raises(InputError) as caught:
        request_run(stack.ws, EDITOR, native.id)
    [problem] = caught.value.problems
    assert problem.field == "Method"
    assert problem.message == (
        "GA4 → BigQuery export is run by native outside Switchboard; it is watched, not run."
    )
    assert list_runs(stack.ws, VIEWER, integration_id=native.id) == []


def test_run_now_twice_queues_one_run_and_a_queued_run_cancels_at_once(stack: Stack) -> None:
    flow = create_integration(stack.ws, EDITOR, draft(stack, enabled=False), CONTACTS)
    first = request_run(stack.ws, EDITOR, flow.id)
    again = request_run(stack.ws, ADMIN, flow.id)
    assert again.id == first.id
    with pytest.raises(PermissionDenied):
        request_run(stack.ws, VIEWER, flow.id)
    with pytest.raises(PermissionDenied):
        request_cancel(stack.ws, VIEWER, first.id)
    request_cancel(stack.ws, EDITOR, first.id)
    [run] = list_runs(stack.ws, VIEWER, integration_id=flow.id)
    assert run.status == "cancelled" and run.finished_at is not None
    assert "Cancelled by editor before it started" in run.error_message
    with pytest.raises(InputError, match="has already cancelled"):
        request_cancel(stack.ws, EDITOR, first.id)
    with read_session(stack.ws.engine) as session:
        assert session.exec(select(func.count()).select_from(IntegrationRun)).one() == 1
