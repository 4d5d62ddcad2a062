"""Retention with a controlled clock: policies and their checks, a preview that matches what a
run removes, domains kept apart, audit pruning that leaves a verifiable chain, failures
recorded, and the worker applying the policies once a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

import core.audit
from core import audit
from core.errors import InputError, PermissionDenied
from core.permissions import Actor, Role
from core.retention import PolicyInput, delete_policy, list_policies, preview, set_policy
from core.retention_runs import apply, apply_if_due, list_runs, retention_due
from core.retention_targets import Target
from core.worker import Worker
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import RetentionRun
from db.models import (
    ApiCall,
    AuditEntry,
    Connector,
    FieldConflict,
    HubRecord,
    Integration,
    IntegrationRun,
    Reconciliation,
    RejectedRecord,
    System,
)
from tests.conftest import ADMIN, EDITOR

NOW = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=45)
RECENT = NOW - timedelta(days=5)
SALES_LEAD = Actor("sales_lead", Role.LEAD, {"Sales": Role.LEAD})


def count(ws: Workspace, table) -> int:
    with read_session(ws.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def seed(ws: Workspace) -> dict[str, int]:
    """Per domain (Marketing, Sales): a flow with an old and a recent run, contacts and
    calls of both ages; plus a contact no run wrote and a call with neither connector
    nor flow (both count as Marketing)."""
    ids: dict[str, int] = {}
    with transaction(ws) as session:
        source, target = System(name="CRM", category="crm"), System(name="DW", category="warehouse")
        session.add_all([source, target])
        session.flush()
        for domain in ("Marketing", "Sales"):
            connector = Connector(name=f"{domain} API", template_id="x", domain=domain,
                                  base_url="http://x")  # fmt: skip
            flow = Integration(name=f"{domain} flow", source_system_id=source.id,
                               destination_system_id=target.id, data="Contacts",
                               frequency="daily", method="api", domain=domain)  # fmt: skip
            session.add_all([connector, flow])
            session.flush()
            for age, at in (("old", OLD), ("recent", RECENT)):
                run = IntegrationRun(integration_id=flow.id, status="succeeded",
                                     started_at=at, finished_at=at)  # fmt: skip
                session.add(run)
                session.flush()
                ids[f"{domain} {age} run"] = run.id
                session.add(RejectedRecord(run_id=run.id, stage="map", reason="bad"))
                session.add(Reconciliation(integration_id=flow.id, run_id=run.id,
                                           source_count=1, hub_count=1, ok=True))  # fmt: skip
                session.add(ApiCall(at=at, connector_id=connector.id, method="GET", host="x",
                                    path="/", status=200, latency_ms=1, outcome="ok"))  # fmt: skip
            # contacts written by the recent run, one of them long untouched
            recent_run = ids[f"{domain} recent run"]
            for key, at in (("old", OLD), ("new", RECENT)):
                session.add(HubRecord(entity="contact", external_key=f"{domain}-{key}",
                                      last_run_id=recent_run, updated_at=at))  # fmt: skip
            session.add(ApiCall(at=OLD, integration_id=flow.id, method="GET", host="x",
                                path="/", status=200, latency_ms=1, outcome="ok"))  # fmt: skip
        session.add(HubRecord(entity="contact", external_key="orphan", updated_at=OLD))
        session.add(HubRecord(entity="company", external_key="acme", updated_at=OLD))
        session.add(ApiCall(at=OLD, method="POST", host="hooks.slack.com", path="/",
                            status=200, latency_ms=1, outcome="ok"))  # fmt: skip
    return ids


def marketing_policies(ws: Workspace) -> None:
    for kind, entity in (("hub_records", "contact"), ("run_history", ""), ("call_metrics", "")):
        set_policy(ws, ADMIN, PolicyInput("Marketing", kind, 30, entity=entity))


def test_preview_counts_are_what_apply_removes_and_domains_stay_apart(store_ws):
    ids = seed(store_ws)
    marketing_policies(store_ws)
    shown = {(p.kind, p.entity): p for p in preview(store_ws, ADMIN, now=NOW)}
    # Marketing's old contact and the contact no run wrote; the old run; the old
    # connector call, the flow's old call and the alert call
    assert {k: p.count for k, p in shown.items()} == {
        ("call_metrics", ""): 3,
        ("hub_records", "contact"): 2,
        ("run_history", ""): 1,
    }
    assert shown[("hub_records", "contact")].cutoff == NOW - timedelta(days=30)
    assert shown[("hub_records", "contact")].examples[0].startswith("contact #")
    assert "Marketing-old" not in str(shown[("hub_records", "contact")].examples)

    run = apply(store_ws, ADMIN, now=NOW)
    assert run.status == "succeeded"
    removed = {(i["kind"], i["entity"]): i["removed"] for i in list_runs(store_ws, ADMIN)[0].items}
    assert removed == {k: p.count for k, p in shown.items()}
    assert run.total_removed == 6

    with read_session(store_ws.engine) as session:
        keys = set(session.exec(select(HubRecord.external_key)))
        runs = set(session.exec(select(IntegrationRun.id)))
        rejected_runs = set(session.exec(select(RejectedRecord.run_id)))
        reconciled_runs = set(session.exec(select(Reconciliation.run_id)))
    assert keys == {"Marketing-new", "Sales-old", "Sales-new", "acme"}
    assert ids["Marketing old run"] not in runs
    assert runs == rejected_runs == reconciled_runs
    assert {ids["Marketing recent run"], ids["Sales old run"]} <= runs
    assert count(store_ws, ApiCall) == 4  # Sales' three calls and Marketing's recent one
    # applying again removes nothing more: the preview said everything
    assert [p.count for p in preview(store_ws, ADMIN, now=NOW)] == [0, 0, 0]


def test_a_run_still_naming_a_hub_record_is_kept(ws):
    ids = seed(ws)
    with transaction(ws) as session:
        record = session.exec(select(HubRecord).where(HubRecord.external_key == "acme")).one()
        record.last_run_id, record.updated_at = ids["Marketing old run"], RECENT
        session.add(record)
    set_policy(ws, ADMIN, PolicyInput("Marketing", "run_history", 30))
    assert preview(ws, ADMIN, now=NOW)[0].count == 0
    apply(ws, ADMIN, now=NOW)
    with read_session(ws.engine) as session:
        assert session.get(IntegrationRun, ids["Marketing old run"]) is not None


def test_deletes_in_batches(ws, monkeypatch):
    monkeypatch.setattr("core.retention_targets.BATCH_SIZE", 2)
    monkeypatch.setattr("core.retention_runs.BATCH_SIZE", 2)
    with transaction(ws) as session:
        session.add_all(
            HubRecord(entity="contact", external_key=f"k{i}", updated_at=OLD) for i in range(5)
        )
    set_policy(ws, ADMIN, PolicyInput("Marketing", "hub_records", 30, entity="contact"))
    run = apply(ws, ADMIN, now=NOW)
    assert (run.status, run.total_removed) == ("succeeded", 5)
    assert count(ws, HubRecord) == 0


def test_every_problem_is_named_and_nothing_is_stored(ws):
    with pytest.raises(InputError) as caught:
        set_policy(ws, ADMIN, PolicyInput("Nowhere", "logs", 0))
    assert {p.field for p in caught.value.problems} == {"Domain", "Kind", "Keep days"}
    with pytest.raises(InputError) as caught:
        set_policy(ws, ADMIN, PolicyInput("Sales", "hub_records", 3651))
    assert {p.field for p in caught.value.problems} == {"Entity", "Keep days"}
    for days in ("30", 2.5, True, -1):
        with pytest.raises(InputError, match="Keep days"):
            set_policy(ws, ADMIN, PolicyInput("Sales", "run_history", days))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="Domain: must be 'All'"):
        set_policy(ws, ADMIN, PolicyInput("Sales", "audit_entries", 400))
    with pytest.raises(InputError, match="Domain: must be one of"):
        set_policy(ws, ADMIN, PolicyInput("All", "run_history", 30))
    assert list_policies(ws, ADMIN) == []


def test_the_legal_minimum_for_audit_entries_is_refused(ws):
    with pytest.raises(InputError) as caught:
        set_policy(ws, ADMIN, PolicyInput("All", "audit_entries", 364))
    (problem,) = caught.value.problems
    assert problem.field == "Keep days" and "at least 365" in problem.message
    assert list_policies(ws, ADMIN) == []
    set_policy(ws, ADMIN, PolicyInput("All", "audit_entries", 365))
    assert [p.keep_days for p in list_policies(ws, ADMIN)] == [365]


def test_who_may_set_which_policy(ws):
    set_policy(ws, ADMIN, PolicyInput("Marketing", "run_history", 30))
    with pytest.raises(PermissionDenied):
        set_policy(ws, EDITOR, PolicyInput("Marketing", "run_history", 10))
    with pytest.raises(PermissionDenied, match="in Marketing"):
        set_policy(ws, SALES_LEAD, PolicyInput("Marketing", "run_history", 10))
    with pytest.raises(PermissionDenied, match="Only an admin"):
        set_policy(ws, Actor("lead", Role.LEAD), PolicyInput("All", "audit_entries", 400))
    set_policy(ws, SALES_LEAD, PolicyInput("Sales", "run_history", 10))
    assert [p.domain for p in list_policies(ws, SALES_LEAD)] == ["Sales"]
    marketing = next(p for p in list_policies(ws, ADMIN) if p.domain == "Marketing")
    with pytest.raises(PermissionDenied):
        delete_policy(ws, SALES_LEAD, marketing.id)
    # changing an existing policy keeps one row, and is audited
    set_policy(ws, ADMIN, PolicyInput("Marketing", "run_history", 60))
    assert sorted(p.keep_days for p in list_policies(ws, ADMIN)) == [10, 60]
    delete_policy(ws, ADMIN, marketing.id)
    assert [p.domain for p in list_policies(ws, ADMIN)] == ["Sales"]
    with read_session(ws.engine) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.entity == "retention_policy")
        ).all()
    assert actions == ["create", "create", "update", "delete"]


def test_a_lead_applies_only_their_domains(ws):
    seed(ws)
    marketing_policies(ws)
    set_policy(ws, ADMIN, PolicyInput("Sales", "call_metrics", 30))
    run = apply(ws, SALES_LEAD, now=NOW)
    assert [(i["domain"], i["removed"]) for i in list_runs(ws, SALES_LEAD)[0].items] == [
        ("Sales", 2)
    ]
    assert run.total_removed == 2
    assert count(ws, HubRecord) == 6


def test_a_failure_marks_the_run_failed_with_its_message(ws, monkeypatch):
    seed(ws)
    marketing_policies(ws)

    def broken(self, session, actor):
        raise OperationalError("DELETE", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Target, "remove_batch", broken)
    run = apply(ws, ADMIN, now=NOW)
    assert run.status == "failed"
    assert "disk I/O error" in run.error_message
    assert run.total_removed == 0
    with read_session(ws.engine) as session:
        summary = session.exec(
            select(AuditEntry.summary).where(AuditEntry.entity == "retention")
        ).one()
    assert "failed" in summary


def write_audit_trail(ws: Workspace, monkeypatch, days_ago: list[int]) -> None:
    """Audit entries written ``days_ago`` before NOW, with the clock set back."""
    for days in days_ago:
        monkeypatch.setattr(core.audit, "utcnow", lambda d=days: NOW - timedelta(days=d))
        with transaction(ws) as session:
            audit.record(session, actor="admin", action="update", entity="system",
                         summary=f"change {days} days ago")  # fmt: skip
    monkeypatch.setattr(core.audit, "utcnow", lambda: NOW)


def pruned_trail(ws: Workspace, monkeypatch) -> None:
    write_audit_trail(ws, monkeypatch, [800, 500, 400, 300, 200, 10])
    set_policy(ws, ADMIN, PolicyInput("All", "audit_entries", 365))
    (shown,) = preview(ws, ADMIN, now=NOW)
    assert shown.count == 3
    run = apply(ws, ADMIN, now=NOW)
    assert run.total_removed == 3


def verify(ws: Workspace) -> audit.ChainReport:
    with read_session(ws.engine) as session:
        return audit.verify_chain(session)


def test_pruning_the_audit_trail_keeps_the_chain_verifiable(store_ws, monkeypatch):
    pruned_trail(store_ws, monkeypatch)
    with read_session(store_ws.engine) as session:
        summaries = session.exec(select(AuditEntry.summary).order_by(AuditEntry.id)).all()
    assert not [
        s for s in summaries if s.endswith(("800 days ago", "500 days ago", "400 days ago"))
    ]
    assert "change 300 days ago" in summaries
    assert any(s.startswith("Removed the 3 oldest audit entries") for s in summaries)
    report = verify(store_ws)
    assert report.ok, report
    assert report.pruned_through_id is not None
    # a second day's prune (nothing old enough left) changes nothing and stays verifiable
    assert apply(store_ws, ADMIN, now=NOW + timedelta(days=1)).total_removed == 0
    assert verify(store_ws).ok


TAMPERING = {
    "altered": (
        "UPDATE audit_entries SET summary = 'nothing' WHERE summary = 'change 200 days ago'",
        "its content was altered",
    ),
    "middle removed": (
        "DELETE FROM audit_entries WHERE summary = 'change 200 days ago'",
        "an entry before it was removed",
    ),
    "first kept removed": (
        "DELETE FROM audit_entries WHERE summary = 'change 300 days ago'",
        "an entry before it was removed",
    ),
    "newest removed": (
        "DELETE FROM audit_entries WHERE id = (SELECT max(id) FROM audit_entries)",
        "the newest entries were removed",
    ),
    "anchor moved": (
        "UPDATE audit_head SET last_hash = (SELECT hash FROM audit_entries "
        "WHERE summary = 'change 300 days ago') WHERE id = 2",
        "does not match the chain's start",
    ),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_a_pruned_chain_still_shows_tampering(ws, monkeypatch, how):
    pruned_trail(ws, monkeypatch)
    statement, reason = TAMPERING[how]
    with ws.engine.begin() as conn:
        conn.execute(text(statement))
    report = verify(ws)
    assert not report.ok
    assert reason in report.reason


def test_the_worker_applies_the_policies_once_a_day(ws):
    seed(ws)
    set_policy(ws, ADMIN, PolicyInput("Marketing", "hub_records", 30, entity="contact"))
    worker = Worker(ws, serve_webhooks=False)
    just_after_midnight = datetime(2031, 3, 10, 0, 5, tzinfo=UTC)
    assert retention_due(ws, just_after_midnight)
    thread = worker.apply_retention_if_due(just_after_midnight)
    assert thread is not None
    thread.join(timeout=60)
    # later the same day: nothing starts, even after a manual run
    apply(ws, ADMIN, now=just_after_midnight + timedelta(hours=2))
    assert worker.apply_retention_if_due(just_after_midnight + timedelta(hours=23)) is None
    assert apply_if_due(ws, just_after_midnight + timedelta(hours=23)) is None
    # the next day it runs again
    thread = worker.apply_retention_if_due(just_after_midnight + timedelta(days=1))
    assert thread is not None
    thread.join(timeout=60)
    with read_session(ws.engine) as session:
        runs = session.exec(select(RetentionRun).order_by(RetentionRun.id)).all()
    assert [(r.trigger, r.actor, r.status) for r in runs] == [
        ("worker", "retention", "succeeded"),
        ("manual", "admin", "succeeded"),
        ("worker", "retention", "succeeded"),
    ]
    assert runs[0].total_removed == 2


def test_a_run_left_behind_by_a_stopped_worker_is_marked_failed(ws):
    yesterday = NOW - timedelta(days=1)
    with transaction(ws) as session:
        session.add(RetentionRun(started_at=yesterday, trigger="worker", status="running"))
    assert apply_if_due(ws, NOW) is not None
    with read_session(ws.engine) as session:
        first = session.exec(select(RetentionRun).order_by(RetentionRun.id)).first()
    assert first.status == "failed" and "stopped" in first.error_message


def test_a_removed_record_takes_its_conflicts_and_a_run_an_open_conflict_names_stays(ws):
    ids = seed(ws)
    with transaction(ws) as session:
        # Marketing's old contact waits in the review queue; Marketing's old run met
        # another conflict that is still open
        session.add(FieldConflict(entity="contact", external_key="Marketing-old", field="x"))
        session.add(FieldConflict(entity="company", external_key="acme", field="y",
                                  run_id=ids["Marketing old run"]))  # fmt: skip
    marketing_policies(ws)
    apply(ws, ADMIN, now=NOW)
    with read_session(ws.engine) as session:
        left = {c.external_key for c in session.exec(select(FieldConflict))}
        runs = set(session.exec(select(IntegrationRun.id)))
    assert left == {"acme"}
    assert ids["Marketing old run"] in runs
