"""The hub's field-level conflict rules: the newer write wins per field by the source's own
modification time, the losing value goes to the audit trail, and a conflict on a critical
field waits in the review queue until a person resolves it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.audit import AuditFilter, list_entries, verify_chain
from core.conflicts import list_conflicts, resolve_conflict
from core.errors import InputError, PermissionDenied
from core.sync.hub import HubWrite, IncomingRecord, upsert_records
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import HubRecord
from tests.conftest import EDITOR, VIEWER

MONDAY = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)


def write(
    ws: Workspace,
    source: str,
    fields: dict,
    modified_at: datetime,
    *,
    key: str = "ann@example.com",
    critical: frozenset[str] = frozenset(),
) -> HubWrite:
    with transaction(ws) as session:
        return upsert_records(
            session,
            entity="contact",
            source=source,
            records=[IncomingRecord(key, fields, modified_at)],
            run_id=None,
            critical_fields=critical,
        )


def record(ws: Workspace, key: str = "ann@example.com") -> tuple[dict, dict]:
    """The hub's fields of a record and, per field, the source and time of its value."""
    with read_session(ws.engine) as session:
        rows = session.exec(
            HubRecord.__table__.select().where(
                HubRecord.entity == "contact", HubRecord.external_key == key
            )
        ).all()
    assert len(rows) == 1
    return json.loads(rows[0].fields_json), json.loads(rows[0].provenance_json)


def audit(ws: Workspace, action: str) -> list:
    with read_session(ws.engine) as session:
        return list_entries(session, AuditFilter(action=action))


def test_the_newer_write_wins_per_field_and_the_losing_value_is_audited(
    store_ws: Workspace,
) -> None:
    ws = store_ws
    write(ws, "CRM", {"email": "ann@example.com", "phone": "111", "title": "VP"}, MONDAY)
    result = write(ws, "MAP", {"phone": "222", "title": "VP"}, TUESDAY)
    assert (result.updated, result.overwritten_fields) == (1, 1)

    fields, provenance = record(ws)
    assert fields == {"email": "ann@example.com", "phone": "222", "title": "VP"}
    assert provenance["phone"] == {"source": "MAP", "modified_at": TUESDAY.isoformat()}
    assert provenance["email"]["source"] == "CRM"

    [entry] = audit(ws, "overwrite")
    assert entry.entity == "hub:contact" and entry.entity_id == "ann@example.com"
    assert json.loads(entry.before_json) == {"phone": {"value": "111", "source": "CRM"}}
    assert json.loads(entry.after_json) == {"phone": {"value": "222", "source": "MAP"}}
    assert "MAP overwrote phone" in entry.summary
    with read_session(ws.engine) as session:
        assert verify_chain(session).ok


def test_an_older_write_does_not_overwrite_a_newer_value(store_ws: Workspace) -> None:
    ws = store_ws
    write(ws, "CRM", {"phone": "111", "city": "Oslo"}, WEDNESDAY)
    result = write(ws, "MAP", {"phone": "999", "city": "Oslo", "zip": "0150"}, MONDAY)
    fields, provenance = record(ws)
    # the late-arriving but older phone loses; a field the hub did not have is still taken
    assert fields == {"phone": "111", "city": "Oslo", "zip": "0150"}
    assert provenance["phone"] == {"source": "CRM", "modified_at": WEDNESDAY.isoformat()}
    assert provenance["zip"]["source"] == "MAP"
    assert result.overwritten_fields == 0
    assert audit(ws, "overwrite") == []


def test_a_source_updating_its_own_value_is_no_conflict(ws: Workspace) -> None:
    write(ws, "CRM", {"phone": "111"}, MONDAY, critical=frozenset({"phone"}))
    result = write(ws, "CRM", {"phone": "112"}, TUESDAY, critical=frozenset({"phone"}))
    assert (result.updated, result.conflicts, result.overwritten_fields) == (1, 0, 0)
    assert record(ws)[0] == {"phone": "112"}
    assert audit(ws, "overwrite") == [] and list_conflicts(ws, EDITOR) == []


def test_a_conflict_on_a_critical_field_waits_for_a_person_and_is_resolved_both_ways(
    store_ws: Workspace,
) -> None:
    ws = store_ws
    critical = frozenset({"lifecycle_stage"})
    write(ws, "CRM", {"lifecycle_stage": "customer", "phone": "1"}, MONDAY, key="a")
    write(ws, "CRM", {"lifecycle_stage": "customer"}, MONDAY, key="b")
    first = write(
        ws, "MAP", {"lifecycle_stage": "lead", "phone": "2"}, TUESDAY, key="a", critical=critical
    )
    write(ws, "MAP", {"lifecycle_stage": "subscriber"}, TUESDAY, key="b", critical=critical)
    assert first.conflicts == 1

    # the critical field keeps its value until someone decides; the ordinary one moved on
    assert record(ws, "a")[0] == {"lifecycle_stage": "customer", "phone": "2"}
    assert record(ws, "b")[0] == {"lifecycle_stage": "customer"}
    queue = list_conflicts(ws, VIEWER)
    assert [(c.external_key, c.field, c.status) for c in queue] == [
        ("a", "lifecycle_stage", "open"),
        ("b", "lifecycle_stage", "open"),
    ]
    a, b = queue
    assert (a.current_value, a.current_source) == ("customer", "CRM")
    assert (a.incoming_value, a.incoming_source) == ("lead", "MAP")
    assert a.incoming_modified_at == TUESDAY

    with pytest.raises(PermissionDenied):
        resolve_conflict(ws, VIEWER, a.id, take_incoming=True)
    assert record(ws, "a")[0]["lifecycle_stage"] == "customer"

    resolve_conflict(ws, EDITOR, a.id, take_incoming=True)
    resolve_conflict(ws, EDITOR, b.id, take_incoming=False)
    fields_a, provenance_a = record(ws, "a")
    assert fields_a["lifecycle_stage"] == "lead"
    assert provenance_a["lifecycle_stage"]["source"] == "MAP"
    assert record(ws, "b")[0]["lifecycle_stage"] == "customer"

    assert list_conflicts(ws, EDITOR) == []
    assert {c.status for c in list_conflicts(ws, EDITOR, status="took_incoming")} == {
        "took_incoming"
    }
    assert [c.external_key for c in list_conflicts(ws, EDITOR, status="kept_current")] == ["b"]
    resolved = audit(ws, "resolve")
    assert {(e.actor, e.entity_id) for e in resolved} == {("editor", "a"), ("editor", "b")}
    by_key = {e.entity_id: e for e in resolved}
    assert json.loads(by_key["a"].after_json) == {"lifecycle_stage": "lead"}
    assert json.loads(by_key["b"].after_json) == {"lifecycle_stage": "customer"}
    assert "Took MAP's value" in by_key["a"].summary
    assert "Kept CRM's value" in by_key["b"].summary

    with pytest.raises(InputError, match="already resolved by editor"):
        resolve_conflict(ws, EDITOR, a.id, take_incoming=False)
