"""The worker process: ``python -m core.worker``.

It migrates the store, then lets its own ``schedule.Scheduler`` wake it; every fact that
must survive a restart lives in the store. SIGTERM (or Ctrl-C) finishes the job in hand
and stops.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import uuid

import schedule

from core.errors import SwitchboardError
from core.heartbeats import beat
from core.workspace import Workspace, open_workspace

log = logging.getLogger("switchboard.worker")


class Worker:
    """One worker: a scheduler, a stop flag, and a heartbeat."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # the worker's own scheduler, never the library's global one
        self.scheduler = schedule.Scheduler()
        # set by SIGTERM/SIGINT; the loop checks it between jobs
        self.stopping = threading.Event()

    def heartbeat(self, status: str = "running") -> None:
        beat(self.ws, self.worker_id, socket.gethostname(), os.getpid(), status)

    def _safe_heartbeat(self) -> None:
        try:
            self.heartbeat()
        except SwitchboardError as exc:
            log.error("heartbeat failed: %s", exc)

    def request_stop(self, *_args: object) -> None:
        log.info("stop requested; finishing the current job")
        self.stopping.set()

    def run(self) -> None:
        self.heartbeat()
        self.scheduler.every(self.ws.settings.heartbeat_seconds).seconds.do(
            self._safe_heartbeat
        ).tag("heartbeat")
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.stopping.wait(timeout=min(1.0, max(idle or 1.0, 0.05)))
        self.heartbeat("stopped")
        log.info("worker %s stopped", self.worker_id)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        ws = open_workspace()
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    worker = Worker(ws)
    signal.signal(signal.SIGTERM, worker.request_stop)
    signal.signal(signal.SIGINT, worker.request_stop)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
