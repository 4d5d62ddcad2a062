"""The worker process: ``python -m core.worker``.

It migrates the store, then its own ``schedule.Scheduler`` wakes it to claim and run due
flows and Run-now requests; a thread keeps its heartbeat, another serves inbound webhooks
and delivers them. Every fact that must survive a restart lives in the store (due times,
leases, runs with their last committed page). SIGTERM (or Ctrl-C) finishes the page in
hand and stops; the run is put back in the queue and resumes there.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from datetime import datetime

import schedule
from sqlalchemy.exc import SQLAlchemyError

from core.call_log import CallLog
from core.errors import SwitchboardError
from core.gateway import Gateway
from core.health_checks import schedule_monitoring
from core.heartbeats import beat
from core.pii_backfill import pii_marks_fingerprint, seal_marked_fields
from core.retention_runs import apply_if_due, retention_due
from core.runs import claim_next_run
from core.sync.engine import SyncRun
from core.webhooks import WebhookServer, deliver_pending
from core.workspace import Workspace, open_workspace, transaction

log = logging.getLogger("switchboard.worker")
CLAIM_EVERY_SECONDS = 2
# how often the worker asks whether today's retention run is still to do (one cheap query)
RETENTION_CHECK_SECONDS = 60


class Worker:
    """One worker: a scheduler, a stop flag, a heartbeat, a webhook endpoint."""

    def __init__(self, ws: Workspace, *, serve_webhooks: bool = True) -> None:
        self.ws = ws
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # the worker's own scheduler, never the library's global one
        self.scheduler = schedule.Scheduler()
        # set by SIGTERM/SIGINT; runs check it between pages
        self.stopping = threading.Event()
        self.call_log = CallLog()
        self.gateway = Gateway(
            timeout_seconds=ws.settings.http_timeout_seconds, recorder=self.call_log.record
        )
        # the day's retention run, while it goes on
        self.retention_thread: threading.Thread | None = None
        # what the dictionary marked PII when the hub was last brought up to it
        self.pii_marks: str | None = None
        self.pii_checked_at = 0.0
        self.webhooks: WebhookServer | None = None
        if serve_webhooks:
            self.webhooks = WebhookServer(ws, ws.settings.webhook_host, ws.settings.webhook_port)

    def heartbeat(self, status: str = "running") -> None:
        beat(self.ws, self.worker_id, socket.gethostname(), os.getpid(), status)

    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.ws.settings.heartbeat_seconds):
            try:
                self.heartbeat()
                with transaction(self.ws) as session:
                    self.call_log.flush(session)
            except SwitchboardError as exc:
                log.error("heartbeat failed: %s", exc)

    def _delivery_loop(self) -> None:
        assert self.webhooks is not None
        while not self.stopping.is_set():
            self.webhooks.arrived.wait(timeout=1.0)
            self.webhooks.arrived.clear()
            try:
                while deliver_pending(self.ws, gateway=self.gateway):
                    pass
            except Exception:  # a bad event must not stop deliveries
                log.exception("webhook delivery failed")

    def run_due(self) -> int:
        """Claim and run flows until none is waiting (or the worker is stopping)."""
        done = 0
        while not self.stopping.is_set():
            try:
                run_id = claim_next_run(self.ws, self.worker_id)
            except SwitchboardError as exc:
                log.error("could not claim a run: %s", exc)
                return done
            if run_id is None:
                return done
            status = SyncRun(
                self.ws,
                self.gateway,
                run_id,
                self.worker_id,
                stop=self.stopping,
                call_log=self.call_log,
            ).execute()
            log.info("run %s %s", run_id, status)
            done += 1
        return done

    def apply_retention_if_due(self, now: datetime | None = None) -> threading.Thread | None:
        """Start the day's retention run, once per UTC day, in a thread of its own so a long
        deletion never holds up the flows; the store says whether today's run happened."""
        if self.retention_thread is not None and self.retention_thread.is_alive():
            return None
        try:
            if not retention_due(self.ws, now):
                return None
        except SQLAlchemyError as exc:
            log.error("could not check the retention runs: %s", exc)
            return None
        self.retention_thread = threading.Thread(
            target=self._apply_retention, args=(now,), name="retention", daemon=True
        )
        self.retention_thread.start()
        return self.retention_thread

    def _apply_retention(self, now: datetime | None) -> None:
        try:
            run = apply_if_due(self.ws, now)
        except (SwitchboardError, SQLAlchemyError) as exc:
            log.error("retention failed to start: %s", exc)
            return
        if run is not None:
            log.info("retention #%s %s: %s rows removed", run.id, run.status, run.total_removed)

    def seal_marked_if_changed(self) -> int:
        """Seal hub values of fields marked PII since, and fill in missing e-mail digests:
        when the dictionary's marks changed, and at least hourly."""
        try:
            marks = pii_marks_fingerprint(self.ws)
            if marks == self.pii_marks and time.monotonic() - self.pii_checked_at < 3600:
                return 0
            changed = seal_marked_fields(self.ws)
        except (SwitchboardError, SQLAlchemyError) as exc:
            log.error("could not bring the hub up to the PII marks: %s", exc)
            return 0
        self.pii_marks, self.pii_checked_at = pii_marks_fingerprint(self.ws), time.monotonic()
        if changed:
            log.info("sealed personal data or digests of %s hub record(s)", changed)
        return changed

    def request_stop(self, *_args: object) -> None:
        log.info("stop requested; finishing the current page")
        self.stopping.set()

    def run(self) -> None:
        self.heartbeat()
        threads = [threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)]
        if self.webhooks is not None:
            self.webhooks.start()
            threads.append(
                threading.Thread(target=self._delivery_loop, name="deliveries", daemon=True)
            )
            log.info(
                "webhooks at http://%s:%s/webhooks/<connector id>",
                *self.webhooks.server_address[:2],
            )
        for thread in threads:
            thread.start()
        self.scheduler.every(CLAIM_EVERY_SECONDS).seconds.do(self.run_due).tag("runs")
        schedule_monitoring(self.ws, self.scheduler, self.gateway)
        self.scheduler.every(RETENTION_CHECK_SECONDS).seconds.do(self.apply_retention_if_due).tag(
            "retention"
        )
        self.scheduler.every(RETENTION_CHECK_SECONDS).seconds.do(self.seal_marked_if_changed).tag(
            "pii"
        )
        log.info("worker %s started", self.worker_id)
        self.apply_retention_if_due()
        self.seal_marked_if_changed()
        self.run_due()
        while not self.stopping.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.stopping.wait(timeout=min(1.0, max(idle or 1.0, 0.05)))
        if self.webhooks is not None:
            self.webhooks.shutdown()
        for thread in threads:
            thread.join(timeout=5)
        with transaction(self.ws) as session:
            self.call_log.flush(session)
        self.heartbeat("stopped")
        log.info("worker %s stopped", self.worker_id)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        ws = open_workspace()
        worker = Worker(ws)
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"error: the webhook port {ws.settings.webhook_port} cannot be opened ({exc.strerror}). "
            "Set SWITCHBOARD_WEBHOOK_PORT to a free port.",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, worker.request_stop)
    signal.signal(signal.SIGINT, worker.request_stop)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
