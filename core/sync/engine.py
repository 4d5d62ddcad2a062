"""The sync engine: one run of one flow, page by page.

    source connector ─▶ gateway ─▶ page of records ─▶ mapping + validation
        ─▶ gate (suppression list, consent) ─▶ destination push ─▶ hub upsert (PII sealed)

A page's records, its checkpoint (the state to fetch the next page, and the cursor) and the
run's counters commit in one transaction. A worker killed at any moment leaves the run at
its last committed page; the next worker resumes from there, so the hub ends equal to the
source with nothing lost and nothing doubled (the upsert is idempotent).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from sqlmodel import Session, select

from core.call_log import CallLog
from core.connectors.catalog import Catalog, default_catalog
from core.connectors.reader import StreamReader, parse_cursor, record_key
from core.connectors.registry import Connection, load_connection
from core.connectors.template import Stream
from core.connectors.writer import StreamWriter
from core.errors import SwitchboardError
from core.gateway import CallContext, Gateway
from core.pii import digester, pii_fields_for, record_label, scrub
from core.runs import release_lease, renew_lease
from core.sync.gate import RecordGate, consent_sources
from core.sync.hub import IncomingRecord, PiiGuard, hub_keys, remove_unseen, upsert_records
from core.sync.mapping import apply_mapping, get_path
from core.sync.prefetch import Prefetch
from core.sync.validation import field_specs_for, record_problems
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import (
    FieldMapping,
    HubRecord,
    Integration,
    IntegrationRun,
    Reconciliation,
    RejectedRecord,
    SyncState,
    System,
    utcnow,
)

log = logging.getLogger("switchboard.sync")


class RunAborted(Exception):
    """The run stops between pages: cancelled by a person, or the worker is stopping."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class FlowPlan:
    """Everything a run needs, read once at its start."""

    flow: Integration
    source: Connection
    stream: Stream
    mappings: list[tuple[str, str]]
    source_name: str
    destination: Connection | None
    destination_stream: Stream | None
    critical_fields: frozenset[str]
    # the data dictionary's fields of the destination system, by name
    field_specs: dict
    guard: PiiGuard
    gate: RecordGate


def _stream(connection: Connection, name: str, role: str) -> Stream:
    for stream in connection.template.streams:
        if stream.name == name:
            return stream
    offered = ", ".join(s.name for s in connection.template.streams) or "none"
    raise SwitchboardError(
        f"The {role} stream '{name}' is not offered by {connection.template.name}.",
        fix=f"Edit the flow and pick one of: {offered}.",
    )


def plan_flow(ws: Workspace, integration_id: int, catalog: Catalog | None = None) -> FlowPlan:
    """Read the flow, its connectors (secrets opened) and mappings."""
    catalog = catalog or default_catalog()
    with read_session(ws.engine) as session:
        flow = session.get(Integration, integration_id)
        if flow is None:
            raise SwitchboardError(f"Flow #{integration_id} no longer exists.")
        mappings = [
            (m.source_field, m.destination_field)
            for m in session.exec(
                select(FieldMapping)
                .where(FieldMapping.integration_id == integration_id)
                .order_by(FieldMapping.position)
            )
        ]
        system = session.get(System, flow.source_system_id)
        source_name = system.name if system else f"flow {flow.id}"
        critical = critical_fields_for(session, flow.destination_system_id)
        specs = field_specs_for(session, flow.destination_system_id)
        pii = pii_fields_for(session, flow.destination_system_id)
    guard = PiiGuard(ws.vault, pii, digester(ws))
    gate = RecordGate(
        guard,
        sources=consent_sources(flow.consent_json),
        required_purpose=flow.required_purpose,
        source_name=source_name,
        integration_id=flow.id,
    )
    with read_session(ws.engine) as session:
        gate.refresh(session)  # the whole suppression list, once per run
    if flow.source_connector_id is None:
        raise SwitchboardError(
            f"{flow.name} has no source connector.", fix="Edit the flow and pick one."
        )
    source = load_connection(ws, flow.source_connector_id, catalog)
    destination = destination_stream = None
    if flow.destination_connector_id is not None and flow.destination_stream:
        destination = load_connection(ws, flow.destination_connector_id, catalog)
        destination_stream = _stream(destination, flow.destination_stream, "destination")
    return FlowPlan(
        flow=flow,
        source=source,
        stream=_stream(source, flow.source_stream, "source"),
        mappings=mappings,
        source_name=source_name,
        destination=destination,
        destination_stream=destination_stream,
        critical_fields=critical,
        field_specs=specs,
        guard=guard,
        gate=gate,
    )


def critical_fields_for(session: Session, system_id: int) -> frozenset[str]:
    """Fields marked critical in the data dictionary: their conflicts wait for a person."""
    return frozenset(
        name
        for name, spec in field_specs_for(session, system_id).items()
        if getattr(spec, "critical", False)
    )


class SyncRun:
    """Executes one claimed run; ``execute`` returns the final status."""

    def __init__(
        self,
        ws: Workspace,
        gateway: Gateway,
        run_id: int,
        worker_id: str,
        *,
        stop: threading.Event | None = None,
        call_log: CallLog | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.ws = ws
        self.gateway = gateway
        self.run_id = run_id
        self.worker_id = worker_id
        self.stop = stop or threading.Event()
        self.call_log = call_log
        self.catalog = catalog
        self.context = CallContext(run_id=run_id)
        self.seen_keys: set[str] | None = None
        # a person asked to cancel; read inside each page's transaction
        self.cancel_seen = False

    # -- the run -----------------------------------------------------------------------

    def execute(self) -> str:
        integration_id = None
        try:
            with read_session(self.ws.engine) as session:
                run = session.get(IntegrationRun, self.run_id)
                integration_id = run.integration_id
                resume = json.loads(run.resume_json) if run.resume_json else None
                state = session.get(SyncState, integration_id)
            plan = plan_flow(self.ws, integration_id, self.catalog)
            self.context.integration_id = integration_id
            incremental = plan.flow.sync_mode != "full_refresh" and plan.stream.incremental
            since = None
            if resume is not None:
                since = run.cursor_before or None
                self.context.requests = run.requests
                self.context.retries = run.retries
                self.context.rate_limited = run.rate_limited
            elif incremental and state is not None and state.cursor:
                since = state.cursor
            if resume is None:
                self._start(since)
            if plan.flow.sync_mode == "full_refresh" and resume is None:
                self.seen_keys = set()
            reader = StreamReader(
                self.gateway,
                plan.source,
                plan.stream,
                since=since if incremental else None,
                resume=resume,
                context=self.context,
            )
            for page in Prefetch(reader.pages()):
                self._commit_page(plan, page)
                self._check_stop()
            return self._finish(plan, incremental)
        except RunAborted as stop:
            return self._abort(integration_id, stop)
        except SwitchboardError as exc:
            return self._fail(integration_id, exc.message, exc.fix, str(exc.whose))
        except Exception as exc:  # a job's exception is recorded on its run, never raised
            log.exception("run %s failed unexpectedly", self.run_id)
            return self._fail(
                integration_id,
                f"Switchboard hit an internal error ({type(exc).__name__}).",
                "Retry the run; if it fails again, report it with the run number.",
                "configuration",
            )

    def _start(self, since: str | None) -> None:
        with transaction(self.ws) as session:
            run = session.get(IntegrationRun, self.run_id)
            run.cursor_before = since or ""
            run.cursor_after = since or ""
            session.add(run)

    def _check_stop(self) -> None:
        """Between pages: a person's cancel (seen at the last commit) or the worker stopping."""
        if self.cancel_seen:
            raise RunAborted("cancelled", "Cancelled by a person; pages done so far stay.")
        if self.stop.is_set():
            raise RunAborted("queued", "The worker stopped; the run resumes from this page.")

    # -- one page ----------------------------------------------------------------------

    def _incoming(self, plan: FlowPlan, records: list[dict]) -> tuple[list, list]:
        """The page mapped and checked: (raw, record) pairs that may land, and rejections."""
        accepted: list[tuple[dict, IncomingRecord]] = []
        rejected: list[tuple[str, str, str]] = []
        incremental = plan.stream.incremental
        now = utcnow()
        for raw in records:
            key = record_key(plan.stream, raw)
            if not key:
                rejected.append(
                    ("", "map", f"no value at the primary key '{plan.stream.primary_key}'")
                )
                continue
            fields = apply_mapping(raw, plan.mappings)
            problems = record_problems(fields, plan.field_specs)
            if problems:
                rejected.append((key, "map", "; ".join(problems)))
                continue
            modified = None
            if incremental is not None:
                modified = parse_cursor(get_path(raw, incremental.cursor_field), incremental.format)
            if plan.flow.sync_mode == "incremental_append":
                key = f"{key}@{(modified or now).isoformat()}"
            accepted.append((raw, IncomingRecord(key, fields, modified or now)))
        return accepted, rejected

    def _push(self, plan: FlowPlan, records: list[IncomingRecord]) -> list[tuple[str, str, str]]:
        """Write the page to the destination connector, if the flow has one; the records it
        refuses come back with their reasons."""
        if plan.destination is None or not records:
            return []
        writer = StreamWriter(
            self.gateway,
            plan.destination,
            plan.destination_stream,
            plan.flow.write_mode,
            context=self.context,
        )
        result = writer.write([r.fields for r in records])
        return [(key, "write", reason) for key, reason in result.rejected]

    def _commit_page(self, plan: FlowPlan, page) -> None:  # noqa: ANN001  (a reader Page)
        pairs, rejected = self._incoming(plan, page.records)
        if plan.gate.needs_store:
            with read_session(self.ws.engine) as session:
                gated = plan.gate.sort(session, pairs)
        else:
            gated = plan.gate.sort(None, pairs)
        if plan.destination is not None:
            with read_session(self.ws.engine) as session:
                # a deletion executed meanwhile holds for the destination too
                plan.gate.drop_late(session, gated)
        accepted = gated.passed
        rejected += self._push(plan, accepted)
        with transaction(self.ws) as session:
            if not renew_lease(session, plan.flow.id, self.worker_id):
                raise RunAborted("queued", "Another worker took this flow over.")
            plan.gate.drop_late(session, gated)
            accepted = gated.passed
            written = upsert_records(
                session,
                entity=plan.stream.entity,
                source=plan.source_name,
                records=accepted,
                run_id=self.run_id,
                critical_fields=plan.critical_fields,
                guard=plan.guard,
            )
            plan.gate.record(session, gated)
            if self.seen_keys is not None:
                self.seen_keys.update(written.keys)
            for key, stage, reason in rejected:
                session.add(
                    RejectedRecord(
                        run_id=self.run_id,
                        record_key=record_label(key, plan.guard.digest)[:200],
                        stage=stage,
                        # a vendor's refusal may quote the address; ours never do
                        reason=scrub(reason) if stage == "write" else reason,
                    )
                )
            run = session.get(IntegrationRun, self.run_id)
            self.cancel_seen = run.cancel_requested
            run.records_read += page.raw_count
            run.records_written += written.written
            run.records_rejected += len(rejected)
            run.skipped_suppressed += gated.suppressed
            run.skipped_no_consent += gated.no_consent
            run.pages += 1
            run.requests = self.context.requests
            run.retries = self.context.retries
            run.rate_limited = self.context.rate_limited
            run.resume_json = json.dumps(page.resume) if page.resume else ""
            if page.max_cursor and page.max_cursor > (run.cursor_after or ""):
                run.cursor_after = page.max_cursor
            session.add(run)
            if self.call_log is not None:
                self.call_log.flush(session)

    # -- endings -----------------------------------------------------------------------

    def _finish(self, plan: FlowPlan, incremental: bool) -> str:
        with transaction(self.ws) as session:
            run = session.get(IntegrationRun, self.run_id)
            if incremental and run.cursor_after:
                state = session.get(SyncState, plan.flow.id) or SyncState(
                    integration_id=plan.flow.id
                )
                state.cursor = run.cursor_after
                state.updated_at = utcnow()
                session.add(state)
            if plan.flow.sync_mode == "full_refresh":
                remove_unseen(
                    session, entity=plan.stream.entity, source=plan.source_name, run_id=self.run_id
                )
            run.status = "succeeded"
            run.finished_at = utcnow()
            run.resume_json = ""
            run.requests = self.context.requests
            run.retries = self.context.retries
            run.rate_limited = self.context.rate_limited
            session.add(run)
            flow = session.get(Integration, plan.flow.id)
            flow.last_run_at = run.finished_at
            session.add(flow)
            release_lease(session, plan.flow.id, self.worker_id)
            if self.call_log is not None:
                self.call_log.flush(session)
        if plan.flow.sync_mode == "full_refresh":
            # a run resumed after a stop or a crash saw its earlier pages in another
            # process: the hub rows this run touched are the keys it saw
            seen = self.seen_keys if self.seen_keys is not None else self._keys_of_this_run(plan)
            self.reconcile(plan, seen)
        elif plan.flow.frequency == "daily" and plan.flow.sync_mode == "incremental_upsert":
            # once a day, an incremental flow's hub is checked against the whole source
            self.reconcile(plan, self._source_keys(plan))
        return "succeeded"

    def _source_keys(self, plan: FlowPlan) -> set[str]:
        """Every key the source holds now that may land in the hub: a full read that keeps
        only the keys, leaving out people the gate keeps out (suppressed, no consent)."""
        keys: set[str] = set()
        reader = StreamReader(self.gateway, plan.source, plan.stream, context=self.context)
        for page in reader.pages():
            keys.update(k for k in (record_key(plan.stream, r) for r in page.records) if k)
            pairs, _ = self._incoming(plan, page.records)
            with read_session(self.ws.engine) as session:
                passed = {r.key for r in plan.gate.sort(session, pairs).passed}
            keys.difference_update(r.key for _, r in pairs if r.key not in passed)
        return keys

    def _keys_of_this_run(self, plan: FlowPlan) -> set[str]:
        with read_session(self.ws.engine) as session:
            return set(
                session.exec(
                    select(HubRecord.external_key).where(
                        HubRecord.entity == plan.stream.entity,
                        HubRecord.last_run_id == self.run_id,
                    )
                )
            )

    def reconcile(self, plan: FlowPlan, source_keys: set[str]) -> Reconciliation:
        """Compare the source's key set with the hub's records of that entity from that source
        (a record another system also wrote counts as the source's if this one wrote any of
        its fields)."""
        with transaction(self.ws) as session:
            held = hub_keys(session, plan.stream.entity, source=plan.source_name)
            missing = sorted(source_keys - held)
            extra = sorted(held - source_keys)
            result = Reconciliation(
                integration_id=plan.flow.id,
                run_id=self.run_id,
                source_count=len(source_keys),
                hub_count=len(held),
                missing_in_hub=len(missing),
                extra_in_hub=len(extra),
                sample_json=json.dumps({"missing": missing[:10], "extra": extra[:10]}),
                ok=not missing and not extra,
            )
            session.add(result)
            return result

    def _abort(self, integration_id: int | None, stop: RunAborted) -> str:
        with transaction(self.ws) as session:
            run = session.get(IntegrationRun, self.run_id)
            run.status = stop.status
            if stop.status == "cancelled":
                run.finished_at = utcnow()
                run.resume_json = ""
                run.error_message = stop.message
            session.add(run)
            if integration_id is not None:
                release_lease(session, integration_id, self.worker_id)
            if self.call_log is not None:
                self.call_log.flush(session)
        return stop.status

    def _fail(self, integration_id: int | None, message: str, fix: str, whose: str) -> str:
        with transaction(self.ws) as session:
            run = session.get(IntegrationRun, self.run_id)
            run.status = "failed"
            run.finished_at = utcnow()
            run.resume_json = ""
            run.error_message, run.error_fix, run.error_whose = message, fix, whose
            run.requests = max(run.requests, self.context.requests)
            run.retries = max(run.retries, self.context.retries)
            run.rate_limited = max(run.rate_limited, self.context.rate_limited)
            session.add(run)
            if integration_id is not None:
                release_lease(session, integration_id, self.worker_id)
            if self.call_log is not None:
                self.call_log.flush(session)
        return "failed"
