"""The Health page and the wall screen with 200 flows: 1,000,000 stored calls against 10,000.

For each size: a fresh store, 200 flows with their six checks evaluated, the calls spread
over the last 30 days (bulk insert, not the ORM), then the server-side render time of each
page in AppTest (best of three). Prints both times and the ratio (aim: under 1.5).

``python -m bench health`` runs it; ``SWITCHBOARD_BENCH_CALLS`` changes the 1,000,000.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("SWITCHBOARD_BENCH_CALLS", "1000000"))
FLOWS = 200


def _populate(calls: int) -> str:
    from core.accounts import ensure_first_admin
    from core.health_checks import evaluate_due
    from core.permissions import Actor, Role
    from core.settings import load_settings
    from core.wall_screen import create_display_link
    from core.workspace import open_workspace

    ws = open_workspace(load_settings())
    ensure_first_admin(ws)
    now = datetime.now(UTC)
    rng = random.Random(42)
    with ws.engine.begin() as conn:
        conn.execute(text("INSERT INTO systems (name, category, vendor, domain, description, "
                          "pii_cleared, created_at, updated_at) VALUES "
                          "('S', 'crm', '', 'Marketing', '', 0, :t, :t), "
                          "('D', 'warehouse', '', 'Sales', '', 0, :t, :t)"), {"t": now})  # fmt: skip
        conn.execute(
            text("INSERT INTO integrations (name, source_system_id, destination_system_id, data, "
                 "frequency, method, domain, owner, criticality, enabled, description, "
                 "source_stream, destination_stream, write_mode, sync_mode, at_time, created_at, "
                 "updated_at) VALUES (:n, 1, 2, 'Contacts', 'hourly', 'api', :d, '', 'high', 1, "
                 "'', '', '', 'upsert', 'incremental_upsert', '', :t, :t)"),
            [{"n": f"Flow {i:03}", "d": ("Marketing", "Sales")[i % 2], "t": now}
             for i in range(FLOWS)],
        )  # fmt: skip
        conn.execute(
            text("INSERT INTO integration_runs (integration_id, status, trigger, requested_by, "
                 "requested_at, started_at, finished_at, worker_id, cancel_requested, "
                 "records_read, records_written, records_rejected, pages, requests, retries, "
                 "rate_limited, cursor_before, cursor_after, resume_json, error_message, "
                 "error_fix, error_whose) VALUES (:f, 'succeeded', 'schedule', '', :t, :t, :t, "
                 "'', 0, 50, 50, 0, 1, 1, 0, 0, '', '', '', '', '', '')"),
            [{"f": f, "t": now - timedelta(minutes=10)} for f in range(1, FLOWS + 1)],
        )  # fmt: skip
        span = 30 * 24 * 3600
        batch = []
        for i in range(calls):
            at = now - timedelta(seconds=rng.random() * span)
            bad = rng.random() < 0.01
            batch.append({"at": at, "f": i % FLOWS + 1, "s": 500 if bad else 200,
                          "l": rng.expovariate(1 / 150), "o": "failed" if bad else "ok"})  # fmt: skip
            if len(batch) == 50_000 or i == calls - 1:
                conn.execute(
                    text("INSERT INTO api_calls (at, connector_id, integration_id, method, host, "
                         "path, status, latency_ms, attempt, outcome) VALUES (:at, NULL, :f, "
                         "'GET', 'api', '/x', :s, :l, 1, :o)"),
                    batch,
                )  # fmt: skip
                batch = []
    evaluate_due(ws, now)
    return create_display_link(ws, Actor("admin", Role.ADMIN), name="Bench", valid_days=1)


def _render(token: str) -> tuple[float, float]:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ADMIN_PASSWORD

    PagesManager.uses_pages_directory = False
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.text_input[0].input("admin")
    at.text_input[1].input(ADMIN_PASSWORD)
    at.button[0].click().run()
    at.run()
    health = []
    for _ in range(3):
        PagesManager.uses_pages_directory = False
        started = time.perf_counter()
        at.switch_page("pages/health.py").run()
        health.append(time.perf_counter() - started)
        assert not at.exception, at.exception
    wall = []
    for _ in range(3):
        screen = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        screen.query_params["display"] = token
        started = time.perf_counter()
        screen.run()
        wall.append(time.perf_counter() - started)
        assert not screen.exception, screen.exception
        from streamlit import cache_data

        cache_data.clear()
    return min(health), min(wall)


def _measure(calls: int) -> tuple[float, float]:
    from db.engine import dispose_engines

    with tempfile.TemporaryDirectory() as folder:
        os.environ["SWITCHBOARD_DATA_DIR"] = folder
        os.environ["SWITCHBOARD_ADMIN_PASSWORD"] = "admin-password-1"
        os.environ.pop("DATABASE_URL", None)
        started = time.perf_counter()
        token = _populate(calls)
        print(
            f"  {calls:>9,} calls stored and checks evaluated in {time.perf_counter() - started:.1f} s"
        )
        try:
            return _render(token)
        finally:
            dispose_engines()


def main() -> None:
    small = _measure(10_000)
    large = _measure(CALLS)
    for name, a, b in (("Health page", small[0], large[0]), ("Wall screen", small[1], large[1])):
        print(f"  {name}: {a * 1000:.0f} ms with 10,000 calls, {b * 1000:.0f} ms with "
              f"{CALLS:,}: ratio {b / a:.2f} (aim < 1.5)")  # fmt: skip


if __name__ == "__main__":
    main()
