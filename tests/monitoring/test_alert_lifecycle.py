"""The alert life cycle against the sandbox over real HTTP (Slack, webhook, PagerDuty),
an SMTP sink on loopback, escalation with a controlled clock, dedup and flapping."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from core import alert_channels as ch
from core import alert_delivery as delivery
from core.alerts import (
    acknowledge,
    create_silence,
    escalate_due,
    get_policy,
    list_alerts,
    update_level,
)
from core.errors import InputError
from core.gateway import Gateway
from core.health_checks import CheckInput, evaluate_due, list_checks, update_check
from db.engine import read_session
from db.monitoring import AlertChannel, Ticket
from sandbox.server import SandboxHandle, start_in_thread
from sandbox.smtp_sink import SmtpSink
from tests.conftest import ADMIN, EDITOR
from tests.monitoring.conftest import add_flows, add_run

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
T0 = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxHandle]:
    handle = start_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(sandbox_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox_server.base_url, timeout=10) as client:
        client.post("/_control/reset").raise_for_status()
        yield client


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway(timeout_seconds=5)
    yield gw
    gw.close()


def received(sandbox: httpx.Client, vendor: str) -> list[dict]:
    entries = sandbox.get("/_control/requests", params={"vendor": vendor}).json()["requests"]
    return [json.loads(e["body"]) for e in entries]


def _channels(ws, base: str) -> dict[str, int]:
    ids = {
        "slack": ch.save_channel(ws, EDITOR, ch.ChannelInput(
            "Ops Slack", "slack", f"{base}/slack/services/T0001/B0001/secretpart123")),
        "pagerduty": ch.save_channel(ws, EDITOR, ch.ChannelInput(
            "On call", "pagerduty", KEY, {"events_url": f"{base}/pagerduty/v2/enqueue"})),
        "webhook": ch.save_channel(ws, EDITOR, ch.ChannelInput(
            "Ops hook", "webhook", config={"url": f"{base}/webhook-sink/alerts"})),
    }  # fmt: skip
    policy = {p.severity: p for p in get_policy(ws, EDITOR)}
    update_level(ws, EDITOR, "high", response_minutes=60,
                 channel_ids=[ids["slack"], ids["webhook"]], escalate_to="Team lead")  # fmt: skip
    update_level(ws, EDITOR, "critical", response_minutes=15, channel_ids=[ids["pagerduty"]],
                 escalate_to="Manager")  # fmt: skip
    assert policy["low"].channel_ids  # the internal ticket list
    return ids


def _fail_then(ws, flow: int, at: datetime, ok: bool) -> None:
    add_run(ws, flow, at - timedelta(minutes=1), 5, status="succeeded" if ok else "failed")


def _only_success_rate(ws, flow: int) -> int:
    evaluate_due(ws, T0 - timedelta(hours=3))  # creates the checks
    for check in list_checks(ws, ADMIN, flow):
        if check.kind != "success_rate":
            update_check(ws, EDITOR, check.id, CheckInput(check.threshold, check.every_minutes,
                                                          check.severity, enabled=False))  # fmt: skip
    return next(c.id for c in list_checks(ws, ADMIN, flow) if c.kind == "success_rate")


def test_life_cycle_dedup_escalation_and_recovery(ws, sandbox, sandbox_server, gateway):
    _channels(ws, sandbox_server.base_url)
    (flow,) = add_flows(ws, "CRM sync", criticality="high")
    _only_success_rate(ws, flow)

    _fail_then(ws, flow, T0, ok=False)
    evaluate_due(ws, T0, force=True)
    evaluate_due(ws, T0 + timedelta(minutes=5), force=True)  # a repeat: no second message
    assert delivery.deliver_pending(ws, gateway, T0 + timedelta(minutes=6)) == 2
    (alert,) = list_alerts(ws, ADMIN)
    assert alert.repeats == 1 and alert.level == "high"
    (slack,) = received(sandbox, "slack")
    assert slack["text"].startswith("[ALERT] [HIGH] CRM sync") and slack["blocks"]
    (hook,) = received(sandbox, "webhook_sink")
    assert hook["event"] == "trigger" and hook["alert"]["severity"] == "high"

    # nobody acknowledges within the hour: escalated to critical → PagerDuty trigger
    assert escalate_due(ws, T0 + timedelta(minutes=59)) == 0
    assert escalate_due(ws, T0 + timedelta(minutes=61)) == 1
    delivery.deliver_pending(ws, gateway, T0 + timedelta(minutes=62))
    (trigger,) = received(sandbox, "pagerduty")
    assert trigger["event_action"] == "trigger" and trigger["routing_key"] == KEY
    assert trigger["payload"]["severity"] == "critical"
    assert "Team lead" in trigger["payload"]["custom_details"]["details"]

    acknowledge(ws, EDITOR, alert.id, now=T0 + timedelta(minutes=63))
    assert escalate_due(ws, T0 + timedelta(hours=5)) == 0  # acknowledged: no more escalation
    delivery.deliver_pending(ws, gateway, T0 + timedelta(minutes=64))
    assert received(sandbox, "pagerduty")[-1]["event_action"] == "acknowledge"

    _fail_then(ws, flow, T0 + timedelta(hours=2), ok=True)
    evaluate_due(ws, T0 + timedelta(hours=2), force=True)
    (resolved,) = list_alerts(ws, ADMIN, include_resolved=True)
    assert resolved.status == "resolved" and resolved.message.startswith("Recovered")
    delivery.deliver_pending(ws, gateway, T0 + timedelta(hours=2, minutes=1))
    resolve = received(sandbox, "pagerduty")[-1]
    assert resolve["event_action"] == "resolve" and resolve["dedup_key"] == trigger["dedup_key"]
    assert received(sandbox, "slack")[-1]["text"].startswith("[RESOLVED]")
    assert all(d["status"] == "sent" for d in delivery.list_deliveries(ws, ADMIN))


def test_flapping_and_silence_hold_alerts_back(ws, sandbox, sandbox_server, gateway, monkeypatch):
    monkeypatch.setattr("core.alerts.FLAP_WINDOW", timedelta(hours=3))
    _channels(ws, sandbox_server.base_url)
    (flow,) = add_flows(ws, "Forms", criticality="high")
    check = _only_success_rate(ws, flow)
    update_check(ws, EDITOR, check, CheckInput(95, 1, "high"))  # a 15-minute window
    at = T0
    for flip in range(3):  # fail, recover, fail, recover, fail: the third opening flaps
        _fail_then(ws, flow, at, ok=False)
        evaluate_due(ws, at, force=True)
        if flip < 2:
            at += timedelta(minutes=17)
            _fail_then(ws, flow, at, ok=True)
            evaluate_due(ws, at, force=True)
            at += timedelta(minutes=17)
    assert delivery.deliver_pending(ws, gateway, at) == 2 * 4  # two openings and two recoveries
    (alert,) = list_alerts(ws, ADMIN)
    assert alert.held == "flapping"

    (other,) = add_flows(ws, "Ads", criticality="high")
    _only_success_rate(ws, other)
    create_silence(ws, EDITOR, integration_id=other, kind="maintenance", starts_at=T0,
                   ends_at=T0 + timedelta(hours=1), reason="vendor upgrade", now=T0)  # fmt: skip
    _fail_then(ws, other, T0 + timedelta(minutes=5), ok=False)
    evaluate_due(ws, T0 + timedelta(minutes=5), force=True)
    held = next(a for a in list_alerts(ws, ADMIN) if a.flow == "Ads")
    assert held.held == "maintenance"
    escalate_due(ws, T0 + timedelta(hours=2))  # the window ended: the alert is released
    released = next(a for a in list_alerts(ws, ADMIN) if a.flow == "Ads")
    assert released.held == ""


def test_email_over_smtp_and_the_ticket_list(ws, gateway):
    sink = SmtpSink.start()
    try:
        channel = ch.save_channel(ws, EDITOR, ch.ChannelInput(
            "Team mail", "email", "", {"host": "127.0.0.1", "port": sink.port,
                                       "sender": "alerts@example.com", "to": "ops@example.com"}))  # fmt: skip
        answer = delivery.send_test(ws, EDITOR, gateway, channel)
        assert answer.ok, answer.text
        (sender, recipients, raw) = sink.messages[0]
        assert recipients == ["ops@example.com"] and b"Switchboard test alert" in raw
    finally:
        sink.stop()
    tickets = next(c.id for c in ch.list_channels(ws, ADMIN) if c.kind == "ticket")
    assert delivery.send_test(ws, EDITOR, gateway, tickets).ok
    with read_session(ws.engine) as session:
        assert session.exec(select(Ticket)).first() is not None


def test_bad_channel_input_and_real_answers(ws, sandbox, sandbox_server, gateway):
    with pytest.raises(InputError) as caught:
        ch.save_channel(ws, EDITOR, ch.ChannelInput("Bad", "slack", "hooks.slack.com/x"))
    assert "Webhook URL" in str(caught.value)
    with pytest.raises(InputError) as caught:
        ch.save_channel(ws, EDITOR, ch.ChannelInput("Bad", "pagerduty", "short"))
    assert "32-character" in str(caught.value) and "5 character(s)" in str(caught.value)
    with pytest.raises(InputError) as caught:
        ch.save_channel(ws, EDITOR, ch.ChannelInput(
            "Bad", "email", "", {"host": "h", "port": 25, "sender": "a@b.co", "to": "not-mail"}))  # fmt: skip
    assert "not an e-mail address" in str(caught.value)

    with socket.socket() as probe:  # a closed loopback port
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    mail = ch.save_channel(ws, EDITOR, ch.ChannelInput(
        "Mail", "email", "", {"host": "127.0.0.1", "port": closed, "sender": "a@b.co",
                              "to": "c@d.co"}))  # fmt: skip
    answer = delivery.send_test(ws, EDITOR, gateway, mail)
    assert not answer.ok and "refused the connection" in answer.text

    revoked = ch.save_channel(ws, EDITOR, ch.ChannelInput(
        "Old Slack", "slack", f"{sandbox_server.base_url}/slack/services/T1/B1/revoked"))  # fmt: skip
    answer = delivery.send_test(ws, EDITOR, gateway, revoked)
    assert not answer.ok and "404" in answer.text
    good = ch.save_channel(ws, EDITOR, ch.ChannelInput(
        "PD", "pagerduty", KEY, {"events_url": f"{sandbox_server.base_url}/pagerduty/v2/enqueue"}))  # fmt: skip
    answer = delivery.send_test(ws, EDITOR, gateway, good)
    assert answer.ok and "Event processed" in answer.text

    # secrets sealed at rest, shown back as their last four characters only
    with read_session(ws.engine) as session:
        row = session.get(AlertChannel, good)
    assert KEY.encode() not in row.secret_ciphertext
    hint = next(c.secret_hint for c in ch.list_channels(ws, ADMIN) if c.id == good)
    assert hint == "••••CDEF"
