"""The worker as a process (``python -m core.worker``) against the sandbox: killed and
restarted mid-run, stopped with SIGTERM, two of them on PostgreSQL, a broken job among good
ones, and inbound webhooks. Every wait is bounded and every process is killed at the end."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from core.demo import WEBHOOK_SECRET
from core.runs import request_run
from core.settings import load_settings
from core.webhooks import SIGNATURE_HEADER, sign
from core.workspace import Workspace, open_workspace, transaction
from db.engine import read_session
from db.models import IntegrationLease, IntegrationRun, WebhookEvent, utcnow
from tests.conftest import ADMIN
from tests.sync.conftest import (
    Stack,
    build_stack,
    fault,
    hub,
    hub_count,
    hubspot_contact_ids,
    resize,
)

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


class Workers:
    """Starts ``python -m core.worker`` processes; kills whatever is left at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, **env: str) -> subprocess.Popen:
        log = self.directory / f"worker-{len(self.processes)}.log"
        environment = {
            **os.environ,
            "SWITCHBOARD_WEBHOOK_PORT": "0",
            "SWITCHBOARD_HEARTBEAT_SECONDS": "1",
            **env,
        }
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "core.worker"],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((process, log))
        return process

    def output(self, process: subprocess.Popen) -> str:
        return next(log for p, log in self.processes if p is process).read_text()

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def run_row(ws: Workspace, run_id: int) -> IntegrationRun:
    with read_session(ws.engine) as session:
        return session.get(IntegrationRun, run_id)


def leases(ws: Workspace) -> list[IntegrationLease]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(IntegrationLease)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- (a) SIGKILL and resume --------------------------------------------------------------


def test_a_worker_killed_mid_run_is_taken_over_and_the_hub_ends_equal_to_the_source(
    stack: Stack, sandbox: httpx.Client, workers: Workers
) -> None:
    ws = stack.ws
    resize(sandbox, "hubspot", "contacts", 3000)
    # slow answers keep the run in the middle of its 30 pages long enough to kill it there
    fault(sandbox, "hubspot", "slow", count=40, delay_seconds=0.15)
    flow = stack.flow("HubSpot contacts → hub", "hubspot", "contacts")
    run_id = request_run(ws, ADMIN, flow).id

    first = workers.start()
    wait_for(lambda: run_row(ws, run_id).pages >= 3, 60, "three committed pages")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = run_row(ws, run_id)
    assert at_kill.status == "running" and at_kill.resume_json
    assert at_kill.pages < 30
    assert hub_count(ws, "contact") == at_kill.records_written == at_kill.pages * 100

    # the dead worker's lease would run out after its 120 seconds; move its expiry into the
    # past rather than waiting for the clock to do it
    [lease] = leases(ws)
    assert lease.run_id == run_id and str(first.pid) in lease.worker_id
    with transaction(ws) as session:
        session.exec(update(IntegrationLease).values(expires_at=utcnow() - timedelta(seconds=1)))

    second = workers.start()
    wait_for(lambda: run_row(ws, run_id).status not in ("queued", "running"), 90, "the run to end")
    final = run_row(ws, run_id)
    assert final.status == "succeeded", final.error_message
    assert str(second.pid) in final.worker_id
    # the walk resumed at the first page not committed: 30 pages in all, none read twice
    assert final.pages == 30
    assert final.records_read == final.records_written == 3000
    assert final.resume_json == ""

    sandbox.post("/_control/faults/clear").raise_for_status()
    source = hubspot_contact_ids(sandbox)
    assert len(source) == 3000
    assert set(hub(ws, "contact")) == set(source)
    assert hub_count(ws, "contact") == 3000  # no record doubled
    assert leases(ws) == []
    assert "Traceback" not in workers.output(second)


# --- (b) SIGTERM -------------------------------------------------------------------------


def test_sigterm_finishes_the_page_in_hand_and_leaves_the_run_queued_to_resume(
    stack: Stack, sandbox: httpx.Client, workers: Workers
) -> None:
    ws = stack.ws
    resize(sandbox, "hubspot", "contacts", 1500)
    fault(sandbox, "hubspot", "slow", count=20, delay_seconds=0.3)
    flow = stack.flow("HubSpot contacts → hub", "hubspot", "contacts")
    run_id = request_run(ws, ADMIN, flow).id

    worker = workers.start()
    wait_for(lambda: run_row(ws, run_id).pages >= 2, 60, "two committed pages")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0

    stopped = run_row(ws, run_id)
    assert stopped.status == "queued"
    assert stopped.resume_json and json.loads(stopped.resume_json)
    assert 2 <= stopped.pages < 15
    assert stopped.finished_at is None and stopped.error_message == ""
    # exactly the committed pages are in the hub, and nobody holds the flow any more
    assert hub_count(ws, "contact") == stopped.pages * 100 == stopped.records_written
    assert leases(ws) == []
    output = workers.output(worker)
    assert "stop requested" in output and "Traceback" not in output


# --- (c) two workers on PostgreSQL -------------------------------------------------------


@pytest.fixture
def pg_stack(postgres, sandbox: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Stack:  # noqa: ANN001
    monkeypatch.setenv("DATABASE_URL", postgres.new_database())
    ws = open_workspace(load_settings())
    return build_stack(ws, str(sandbox.base_url).rstrip("/"))


def test_two_workers_on_postgresql_never_run_one_flow_twice_at_once(
    pg_stack: Stack, sandbox: httpx.Client, workers: Workers
) -> None:
    ws = pg_stack.ws
    resize(sandbox, "hubspot", "contacts", 400)
    fault(sandbox, "hubspot", "slow", count=30, delay_seconds=0.1)
    fault(sandbox, "custom", "slow", count=15, delay_seconds=0.1)
    fault(sandbox, "stripe", "slow", count=10, delay_seconds=0.1)
    flows = {
        "contact": pg_stack.flow("Contacts", "hubspot", "contacts"),
        "company": pg_stack.flow("Companies", "hubspot", "companies", data="Companies"),
        "deal": pg_stack.flow("Deals", "hubspot", "deals", data="Deals"),
        "lead": pg_stack.flow("Leads", "custom_rest_api", "leads", data="Leads"),
        "customer": pg_stack.flow("Customers", "stripe", "customers", data="Customers"),
    }
    expected = {"contact": 400, "company": 80, "deal": 120, "lead": 250, "customer": 200}
    run_ids = [request_run(ws, ADMIN, flow).id for flow in flows.values()]
    # a schedule and a Run-now arriving at the same moment: a second queued run per flow,
    # so both workers are offered the same flows and only the lease keeps them apart
    with transaction(ws) as session:
        extra = [IntegrationRun(integration_id=flow, trigger="schedule") for flow in flows.values()]
        session.add_all(extra)
        session.flush()
        run_ids += [run.id for run in extra]

    env = {"DATABASE_URL": os.environ["DATABASE_URL"]}
    pair = [workers.start(**env), workers.start(**env)]
    running_at_once: dict[int, int] = defaultdict(int)
    seen_workers: dict[int, set[str]] = defaultdict(set)

    def sample() -> bool:
        with read_session(ws.engine) as session:
            rows = session.exec(
                select(
                    IntegrationRun.id, IntegrationRun.integration_id, IntegrationRun.worker_id
                ).where(IntegrationRun.status == "running")
            ).all()
            left = session.exec(
                select(func.count())
                .select_from(IntegrationRun)
                .where(col(IntegrationRun.status).in_(("queued", "running")))
            ).one()
        per_flow: dict[int, int] = defaultdict(int)
        for run_id, flow_id, worker_id in rows:
            per_flow[flow_id] += 1
            seen_workers[run_id].add(worker_id)
        for flow_id, count in per_flow.items():
            running_at_once[flow_id] = max(running_at_once[flow_id], count)
        return left == 0

    wait_for(sample, 120, "every queued run to end")
    assert all(count == 1 for count in running_at_once.values()), running_at_once
    with read_session(ws.engine) as session:
        runs = session.exec(select(IntegrationRun).where(col(IntegrationRun.id).in_(run_ids))).all()
    assert {r.status for r in runs} == {"succeeded"}, [(r.id, r.error_message) for r in runs]
    assert all(len(seen_workers[r.id]) <= 1 for r in runs), seen_workers
    assert all(r.worker_id for r in runs)
    # each run was executed by exactly one of the two processes
    finished = defaultdict(int)
    for process in pair:
        for run_id in re.findall(r"run (\d+) succeeded", workers.output(process)):
            finished[int(run_id)] += 1
    assert finished == dict.fromkeys(run_ids, 1)
    for entity, count in expected.items():
        assert hub_count(ws, entity) == count
    assert leases(ws) == []
    for process in pair:
        assert process.poll() is None  # still working, waiting for the next job


# --- (d) a broken job does not stop the worker -------------------------------------------


def test_a_broken_connector_fails_its_run_and_the_worker_goes_on_with_the_next_flow(
    stack: Stack, sandbox: httpx.Client, workers: Workers
) -> None:
    ws = stack.ws
    broken = stack.connector(
        "HubSpot, nobody home",
        "hubspot",
        f"http://127.0.0.1:{free_port()}/hubspot",
        access_token="pat-sandbox-hubspot",
    )
    bad_flow = stack.flow("Contacts, broken", "hubspot", "contacts", connector_id=broken)
    good_flow = stack.flow("Leads", "custom_rest_api", "leads", data="Leads")
    bad = request_run(ws, ADMIN, bad_flow).id
    good = request_run(ws, ADMIN, good_flow).id

    worker = workers.start()
    wait_for(lambda: run_row(ws, good).status not in ("queued", "running"), 60, "the second run")
    failed, succeeded = run_row(ws, bad), run_row(ws, good)
    assert failed.status == "failed"
    assert "unreachable" in failed.error_message
    assert failed.error_fix and failed.error_whose == "configuration"
    assert succeeded.status == "succeeded" and succeeded.records_written == 250
    assert hub_count(ws, "lead") == 250
    assert worker.poll() is None
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert "Traceback" not in workers.output(worker)


# --- (e) inbound webhooks ----------------------------------------------------------------


def test_signed_webhooks_land_in_the_hub_and_nothing_unsigned_does(
    stack: Stack, sandbox: httpx.Client, workers: Workers
) -> None:
    ws = stack.ws
    connector = stack.connectors["inbound_webhook"]
    stack.flow(
        "Website forms → CRM",
        "inbound_webhook",
        method="webhook",
        frequency="real-time",
        data="Form data",
        destination_system="CRM",
        enabled=True,
        mappings=[("email", "email"), ("first_name", "firstname"), ("last_name", "lastname")],
    )
    port = free_port()
    worker = workers.start(SWITCHBOARD_WEBHOOK_PORT=str(port))
    base = f"http://127.0.0.1:{port}"

    def listening() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(listening, 60, "the webhook endpoint")
    url = f"{base}/webhooks/{connector}"
    form = json.dumps(
        {"email": "dana@example.com", "first_name": "Dana", "last_name": "Scully"}
    ).encode()
    with httpx.Client(timeout=10) as client:
        accepted = client.post(
            url, content=form, headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, form)}
        )
        assert accepted.status_code == 202
        event_id = accepted.json()["event_id"]

        forged = json.dumps({"email": "mallory@example.com"}).encode()
        wrong = client.post(url, content=forged, headers={SIGNATURE_HEADER: sign("guess", forged)})
        assert wrong.status_code == 401
        assert SIGNATURE_HEADER in wrong.json()["status"]
        assert client.post(url, content=forged).status_code == 401
        not_json = b"email=eve@example.com"
        garbled = client.post(
            url, content=not_json, headers={SIGNATURE_HEADER: sign(WEBHOOK_SECRET, not_json)}
        )
        assert garbled.status_code == 400 and "not JSON" in garbled.json()["status"]
        assert client.post(f"{base}/webhooks/999", content=form).status_code == 404

    wait_for(lambda: "dana@example.com" in hub(ws, "form_data"), 30, "the form in the hub")
    assert hub(ws, "form_data") == {
        "dana@example.com": {"email": "dana@example.com", "firstname": "Dana", "lastname": "Scully"}
    }
    with read_session(ws.engine) as session:
        events = session.exec(select(WebhookEvent)).all()
    assert [e.id for e in events] == [event_id]  # nothing unsigned or broken was stored
    [event] = events
    wait_for(lambda: run_event(ws, event_id).status == "delivered", 10, "the delivery record")
    delivered = run_event(ws, event_id)
    assert delivered.delay_ms is not None and delivered.delay_ms >= 0
    assert delivered.delivered_at >= delivered.received_at
    assert worker.poll() is None


def run_event(ws: Workspace, event_id: int) -> WebhookEvent:
    with read_session(ws.engine) as session:
        return session.get(WebhookEvent, event_id)
