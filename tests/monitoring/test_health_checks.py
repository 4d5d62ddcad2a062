"""Check evaluation on synthetic histories, incl. a weekday/weekend pattern."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.errors import InputError, PermissionDenied
from core.health_checks import CheckInput, evaluate_due, list_checks, update_check
from db.engine import read_session
from db.monitoring import CheckResult
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.monitoring.conftest import add_calls, add_flows, add_run

# a Saturday, 10:00 UTC
SATURDAY = datetime(2026, 11, 14, 10, 0, tzinfo=UTC)


def _weekly_history(ws, flow_id: int, now: datetime) -> None:
    """Fifteen days of hourly runs: 100 records an hour on weekdays, 10 at weekends."""
    for hours_back in range(1, 24 * 15 + 1):
        at = now - timedelta(hours=hours_back) + timedelta(minutes=30)
        add_run(ws, flow_id, at, 10 if at.weekday() >= 5 else 100)


def _check(ws, flow_id: int, kind: str):
    return next(c for c in list_checks(ws, ADMIN, flow_id) if c.kind == kind)


def test_learned_expectation_follows_the_weekday(ws):
    (flow,) = add_flows(ws, "CRM sync")
    _weekly_history(ws, flow, SATURDAY)
    evaluate_due(ws, SATURDAY)
    check = _check(ws, flow, "record_count")
    # 10 records in the last hour, against past Saturdays' 10: a quiet weekend, not an incident
    assert check.status == "ok", check.message
    assert check.value == pytest.approx(100.0)

    monday = SATURDAY + timedelta(days=2)
    add_run(ws, flow, monday - timedelta(minutes=10), 30)
    evaluate_due(ws, monday, force=True)
    check = _check(ws, flow, "record_count")
    assert check.status == "failing"  # 30 of the 100 a Monday brings
    assert "30%" in check.message


def test_expected_by_hand_ignores_history(ws):
    (flow,) = add_flows(ws, "CRM sync")
    _weekly_history(ws, flow, SATURDAY)
    evaluate_due(ws, SATURDAY)
    check = _check(ws, flow, "record_count")
    update_check(ws, EDITOR, check.id, CheckInput(50, 60, "high", "manual", 100))
    evaluate_due(ws, SATURDAY, force=True)
    assert _check(ws, flow, "record_count").status == "failing"


def test_success_rate_latency_error_rate_freshness_and_completeness(ws):
    (flow,) = add_flows(ws, "Forms")
    now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    for minute in range(0, 60, 3):  # 20 runs: 19 succeed, one fails = 95 %
        add_run(ws, flow, now - timedelta(minutes=minute + 1), 5,
                status="failed" if minute == 0 else "succeeded")  # fmt: skip
    add_run(ws, flow, now - timedelta(minutes=2), 5, took=timedelta(minutes=7))
    add_calls(ws, flow, now - timedelta(minutes=5), [100.0] * 97)
    add_calls(ws, flow, now - timedelta(minutes=5), [900.0] * 3, outcome="failed", status=500)
    evaluate_due(ws, now)
    assert _check(ws, flow, "success_rate").status == "ok"  # 20 of 21 ≥ 95 %
    assert _check(ws, flow, "latency").status == "failing"  # the 7-minute run
    assert _check(ws, flow, "error_rate").status == "failing"  # 3 % > 1 %
    assert _check(ws, flow, "freshness").status == "ok"
    assert _check(ws, flow, "completeness").status == "ok"

    later = now + timedelta(days=2)
    evaluate_due(ws, later, force=True)
    assert _check(ws, flow, "freshness").status == "failing"
    assert _check(ws, flow, "completeness").status == "failing"
    assert _check(ws, flow, "success_rate").status == "no_data"
    with read_session(ws.engine) as session:
        assert len(session.exec(select(CheckResult)).all()) == 12  # every result kept


def test_thresholds_out_of_range_and_roles(ws):
    (flow,) = add_flows(ws, "Forms")
    evaluate_due(ws, SATURDAY)
    check = _check(ws, flow, "success_rate")
    with pytest.raises(InputError) as caught:
        update_check(ws, EDITOR, check.id, CheckInput(150, 0, "urgent"))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"Threshold", "Every (minutes)", "Severity"}
    assert "between 1 and 100" in str(caught.value)
    with pytest.raises(PermissionDenied):
        update_check(ws, VIEWER, check.id, CheckInput(90, 60, "high"))
