"""The audit trail: one entry per change, tamper detection, nothing half-written, filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

import core.audit
from core import audit
from core.audit import AuditFilter, list_entries, verify_chain
from core.connectors.catalog import Catalog
from core.connectors.registry import create_connector, delete_connector, update_connector
from core.errors import InputError
from core.systems import SystemInput, create_system
from core.workspace import Workspace
from db.engine import read_session
from db.models import AuditEntry
from tests.conftest import ADMIN, EDITOR
from tests.core.conftest import TOKEN, stored_counts, token_input


def _entries(ws: Workspace) -> list[AuditEntry]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def _verify(ws: Workspace) -> audit.ChainReport:
    with read_session(ws.engine) as session:
        return verify_chain(session)


def _execute(ws: Workspace, sql: str, **params: object) -> None:
    with ws.engine.begin() as conn:
        conn.execute(text(sql), params)


def _five_systems(ws: Workspace) -> list[int]:
    for n in range(5):
        create_system(ws, EDITOR, SystemInput(f"System {n}", "other"))
    return [e.id for e in _entries(ws)]


def test_each_connector_change_writes_one_entry(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input("Main CRM"), catalog)
    (created,) = _entries(ws)
    assert (created.actor, created.action, created.entity, created.entity_id) == (
        "editor",
        "create",
        "connector",
        str(view.id),
    )
    assert created.before_json == ""
    after = json.loads(created.after_json)
    assert after["name"] == "Main CRM"
    assert after["settings"] == {"account_id": "12345", "region": "eu"}
    assert after["secrets"] == {"access_token": "••••1111"}
    assert TOKEN not in created.after_json

    renamed = token_input("Sales CRM", values={"access_token": "", "account_id": "12345"})
    update_connector(ws, ADMIN, view.id, renamed, catalog)
    updated = _entries(ws)[-1]
    assert len(_entries(ws)) == 2
    assert (updated.actor, updated.action, updated.entity_id) == ("admin", "update", str(view.id))
    # only the keys that changed; the kept secret is not mentioned
    assert json.loads(updated.before_json) == {
        "name": "Main CRM",
        "settings": {"account_id": "12345", "region": "eu"},
    }
    assert json.loads(updated.after_json) == {
        "name": "Sales CRM",
        "settings": {"account_id": "12345", "region": ""},
    }

    delete_connector(ws, EDITOR, view.id)
    entries = _entries(ws)
    assert len(entries) == 3
    deleted = entries[-1]
    assert (deleted.actor, deleted.action, deleted.entity_id) == ("editor", "delete", str(view.id))
    assert json.loads(deleted.before_json)["name"] == "Sales CRM"
    assert deleted.after_json == ""
    assert _verify(ws).ok


def test_replacing_a_secret_is_audited_without_the_value(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input(), catalog)
    new_token = "pat-na1-replaced-9999"
    update_connector(
        ws,
        EDITOR,
        view.id,
        token_input(values={"access_token": new_token, "account_id": "12345", "region": "eu"}),
        catalog,
    )
    entry = _entries(ws)[-1]
    assert json.loads(entry.before_json) == {
        "secrets": {"access_token": "••••1111"},
        "secrets_replaced": None,
    }
    assert json.loads(entry.after_json) == {
        "secrets": {"access_token": "••••9999"},
        "secrets_replaced": ["access_token"],
    }
    assert new_token not in entry.after_json


def test_an_untouched_chain_verifies(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    report = _verify(store_ws)
    assert (report.ok, report.checked, report.first_bad_id) == (True, len(ids), None)


def test_an_edited_summary_is_reported(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(
        store_ws, "UPDATE audit_entries SET summary = 'Nothing happened' WHERE id = :id", id=ids[2]
    )
    report = _verify(store_ws)
    assert not report.ok
    assert report.first_bad_id == ids[2]
    assert report.checked == 2
    assert "altered" in report.reason


def test_an_edited_before_value_is_reported(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(store_ws, "UPDATE audit_entries SET actor = 'someone' WHERE id = :id", id=ids[0])
    assert _verify(store_ws).first_bad_id == ids[0]


def test_a_removed_middle_entry_is_reported(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(store_ws, "DELETE FROM audit_entries WHERE id = :id", id=ids[2])
    report = _verify(store_ws)
    assert not report.ok
    assert report.first_bad_id == ids[3]
    assert "removed" in report.reason


def test_a_removed_newest_entry_is_reported(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(store_ws, "DELETE FROM audit_entries WHERE id = :id", id=ids[-1])
    report = _verify(store_ws)
    assert not report.ok
    assert report.first_bad_id is None
    assert report.reason == "the newest entries were removed"
    assert report.checked == len(ids) - 1


def test_a_removed_first_entry_is_reported(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(store_ws, "DELETE FROM audit_entries WHERE id = :id", id=ids[0])
    assert _verify(store_ws).first_bad_id == ids[1]


def test_writes_after_tampering_do_not_hide_it(store_ws: Workspace) -> None:
    ids = _five_systems(store_ws)
    _execute(store_ws, "DELETE FROM audit_entries WHERE id = :id", id=ids[-1])
    create_system(store_ws, EDITOR, SystemInput("Later", "other"))
    # the new entry chains to the removed one, so the gap still shows
    newest = _entries(store_ws)[-1]
    assert newest.summary == "Created system Later"
    report = _verify(store_ws)
    assert (report.ok, report.first_bad_id) == (False, newest.id)


def test_rejected_input_writes_nothing(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input("Main CRM"), catalog)
    before = stored_counts(ws)

    with pytest.raises(InputError):
        create_connector(ws, EDITOR, token_input("Other", base_url="htp://x"), catalog)
    with pytest.raises(InputError):
        update_connector(ws, EDITOR, view.id, token_input("", base_url="htp://x"), catalog)
    with pytest.raises(InputError):
        create_system(ws, EDITOR, SystemInput("", "crm"))

    assert stored_counts(ws) == before
    assert [e.action for e in _entries(ws)] == ["create"]
    assert _verify(ws).ok


def test_a_failure_while_auditing_leaves_no_half_written_change(
    ws: Workspace,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = stored_counts(ws)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise InputError.one("Audit", "cannot be written")

    monkeypatch.setattr(core.audit, "record", refuse)
    with pytest.raises(InputError):
        create_connector(ws, EDITOR, token_input(), catalog)
    with pytest.raises(InputError):
        create_system(ws, EDITOR, SystemInput("CRM", "crm"))

    # the connector row and its sealed secret were flushed, then rolled back together
    assert stored_counts(ws) == before
    monkeypatch.undo()
    assert _verify(ws).ok


def test_list_entries_filters(
    ws: Workspace, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    clock = iter(start + timedelta(hours=n) for n in range(100))
    monkeypatch.setattr(core.audit, "utcnow", lambda: next(clock))

    create_system(ws, EDITOR, SystemInput("HubSpot CRM", "crm"))  # 09:00
    view = create_connector(ws, ADMIN, token_input("Main CRM"), catalog)  # 10:00
    update_connector(ws, EDITOR, view.id, token_input("Sales CRM"), catalog)  # 11:00
    delete_connector(ws, ADMIN, view.id)  # 12:00

    def summaries(**filters: object) -> list[str]:
        with read_session(ws.engine) as session:
            return [e.summary for e in list_entries(session, AuditFilter(**filters))]

    assert summaries() == [
        "Deleted connector Sales CRM",
        "Updated connector Sales CRM",
        "Created connector Main CRM (Token API)",
        "Created system HubSpot CRM",
    ]
    assert summaries(actor="admin") == [
        "Deleted connector Sales CRM",
        "Created connector Main CRM (Token API)",
    ]
    assert summaries(entity="system") == ["Created system HubSpot CRM"]
    assert summaries(action="update") == ["Updated connector Sales CRM"]
    assert summaries(text="hubspot") == ["Created system HubSpot CRM"]
    assert summaries(text="nobody wrote this") == []
    assert summaries(since=start + timedelta(hours=1), until=start + timedelta(hours=2)) == [
        "Updated connector Sales CRM",
        "Created connector Main CRM (Token API)",
    ]
    assert summaries(since=start + timedelta(hours=4)) == []
    assert summaries(actor="editor", entity="connector") == ["Updated connector Sales CRM"]
    with read_session(ws.engine) as session:
        assert len(list_entries(session, AuditFilter(), limit=2)) == 2
        assert audit.distinct_values(session) == {
            "actor": ["admin", "editor"],
            "entity": ["connector", "system"],
            "action": ["create", "delete", "update"],
        }
    assert _verify(ws).ok
