"""KPIs (nearest-rank percentiles in SQL) and display links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InputError, PermissionDenied
from core.kpis import kpi_report
from core.wall_screen import (
    create_display_link,
    list_display_links,
    open_display,
    revoke_display_link,
    wall_data,
)
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.monitoring.conftest import add_calls, add_flows

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def test_nearest_rank_percentiles_error_rate_and_budget(ws):
    a, b = add_flows(ws, "A", "B")
    add_calls(ws, a, NOW - timedelta(hours=1), [float(ms) for ms in range(1, 101)])
    add_calls(ws, b, NOW - timedelta(hours=1), [10.0] * 199)
    add_calls(ws, b, NOW - timedelta(hours=1), [5000.0], outcome="failed", status=0)
    report = kpi_report(ws, VIEWER, NOW - timedelta(days=1), NOW)
    flow_a = next(r for r in report.flows if r.name == "A")
    assert (flow_a.p90_ms, flow_a.p95_ms) == (90.0, 95.0)  # rank ⌈0.9·100⌉ = 90
    flow_b = next(r for r in report.flows if r.name == "B")
    assert flow_b.error_rate_pct == pytest.approx(0.5)
    assert flow_b.budget_left_pct == pytest.approx(50.0)  # 1 error of the 2 allowed
    assert flow_b.meets("error_rate_pct", "mvp") and not flow_b.meets("error_rate_pct", "post")
    assert report.overall.calls == 300 and report.overall.uptime_pct == 100.0
    # sorted: 1..9, then 10 ms × 200, then 11..100, then 5000: rank 270 is 71, 285 is 86
    assert (report.overall.p90_ms, report.overall.p95_ms) == (71.0, 86.0)


def test_display_links_expire_and_revoke(ws):
    add_flows(ws, "A")
    with pytest.raises(PermissionDenied):
        create_display_link(ws, EDITOR, name="TV", valid_days=1)
    with pytest.raises(InputError):
        create_display_link(ws, ADMIN, name="", valid_days=0, refresh_seconds=1)
    token = create_display_link(ws, ADMIN, name="Ops TV", valid_days=1)
    access = open_display(ws, token)
    assert access is not None and access.refresh_seconds == 30
    data = wall_data(ws, access)
    assert [t.colour for t in data.tiles] == ["grey"]
    assert open_display(ws, token + "x") is None
    assert open_display(ws, "forged.token") is None
    assert open_display(ws, token, now=datetime.now(UTC) + timedelta(days=2)) is None
    (link,) = list_display_links(ws, ADMIN)
    assert token not in str(link)
    revoke_display_link(ws, ADMIN, link["id"])
    assert open_display(ws, token) is None


def test_the_wall_tile_reads_only_the_newest_calls(ws):
    """However busy the flows, the tile's figures come from the newest calls only."""
    from core.kpis import figures_by
    from db.engine import read_session

    (a,) = add_flows(ws, "A")
    add_calls(ws, a, NOW - timedelta(minutes=50), [900.0] * 30)  # older: slow
    add_calls(ws, a, NOW - timedelta(minutes=5), [20.0] * 10)  # newest: fast
    with read_session(ws.engine) as session:
        everything = figures_by(session, "all", NOW - timedelta(hours=1), NOW)
        newest = figures_by(session, "all", NOW - timedelta(hours=1), NOW, latest=10)
    (whole,) = everything.values()
    (recent,) = newest.values()
    assert (whole["calls"], whole["p90"]) == (40, 900.0)
    assert (recent["calls"], recent["p90"]) == (10, 20.0)
