"""The worker process: starts, migrates, says it is alive, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.heartbeats import worker_status
from core.settings import load_settings
from core.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_beats_and_stops_on_sigterm(data_dir):
    env = {**os.environ, "SWITCHBOARD_HEARTBEAT_SECONDS": "1", "SWITCHBOARD_WEBHOOK_PORT": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "core.worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(lambda: (data_dir / "switchboard.db").exists())
        ws = open_workspace(load_settings())
        assert wait_for(lambda: worker_status(ws).up), "the worker never reported in"
        assert "Worker up (1 running)" in worker_status(ws).text
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    status = worker_status(ws)
    assert not status.up
    assert "Worker down" in status.text and "(stopped)" in status.text
    output = process.stdout.read()
    assert "Traceback" not in output


def test_worker_with_a_wrong_database_url_explains_and_exits(data_dir):
    env = {**os.environ, "DATABASE_URL": "postgresql://sb:pw@127.0.0.1:9/none"}
    result = subprocess.run(
        [sys.executable, "-m", "core.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert "pw@" not in result.stderr
