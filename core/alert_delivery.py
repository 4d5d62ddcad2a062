"""Alert deliveries: composing each channel's message and sending it.

Slack (incoming webhook), PagerDuty Events API v2 (trigger, acknowledge, resolve with a
dedup key), a generic JSON webhook, e-mail over SMTP and the internal ticket list. HTTP
deliveries go through the gateway: its bounded retries ride out a passing fault within the
call, and each channel has its own rate budget. A delivery that still fails for a passing
reason stays pending and is tried again later by the worker (``MAX_ATTEMPTS``, minutes
apart), so it survives a restart; every attempt's answer is kept.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, col, select

from core import audit
from core.alert_channels import (
    KINDS,
    MAX_ATTEMPTS,
    PAGERDUTY_SEVERITY,
    PAGERDUTY_URL,
    Answer,
    open_secret,
)
from core.connectors.registry import Connection
from core.connectors.template import ConnectorTemplate, NoAuth, RateLimit
from core.errors import ConnectorError, NotFound
from core.gateway import Gateway
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Integration
from db.monitoring import Alert, AlertChannel, AlertDelivery, AlertLevel, Ticket

# --- composing --------------------------------------------------------------------------

_VERB = {
    "trigger": "ALERT",
    "escalate": "ESCALATED",
    "acknowledge": "Acknowledged",
    "resolve": "RESOLVED",
    "test": "Test",
}


@dataclass(frozen=True)
class Notice:
    """What one message says, whatever the channel."""

    event: str
    summary: str
    details: str
    severity: str
    dedup_key: str
    source: str
    alert_id: int | None


def _notice(session: Session, alert: Alert | None, event: str) -> Notice:
    if alert is None:
        return Notice("test", "Switchboard test alert: this channel works.",
                      "Sent with the “Send test alert” button.", "low",
                      "switchboard-test", "switchboard", None)  # fmt: skip
    flow = session.get(Integration, alert.integration_id)
    details = alert.message
    if event == "escalate":
        # the target is the one of the level whose response time passed
        order = ("critical", "high", "medium", "low")
        steps = order.index(alert.severity) - order.index(alert.level)
        passed = alert.level if alert.escalations > steps else order[order.index(alert.level) + 1]
        level = session.get(AlertLevel, passed)
        target = level.escalate_to if level else ""
        details = f"Not acknowledged in time: escalated to {target} ({alert.level}). {details}"
    elif event == "acknowledge":
        details = f"Acknowledged by {alert.acknowledged_by}. {details}"
    elif event == "resolve":
        details = f"The check passes again. {details}"
    return Notice(
        event,
        f"[{_VERB[event]}] [{alert.level.upper()}] {alert.title}",
        details,
        alert.level,
        alert.dedup_key,
        flow.name if flow else "switchboard",
        alert.id,
    )


def slack_payload(notice: Notice) -> dict:
    """Slack's incoming-webhook body: ``text`` (the fallback) and ``blocks``."""
    return {
        "text": notice.summary,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{notice.summary}*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": notice.details}},
        ],
    }


def pagerduty_payload(notice: Notice, routing_key: str) -> dict:
    """An Events API v2 event: trigger with a payload; acknowledge and resolve by dedup key."""
    action = {"acknowledge": "acknowledge", "resolve": "resolve"}.get(notice.event, "trigger")
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": notice.dedup_key,
    }
    if action == "trigger":
        body["payload"] = {
            "summary": notice.summary[:1024],
            "source": notice.source,
            "severity": PAGERDUTY_SEVERITY.get(notice.severity, "warning"),
            "timestamp": datetime.now(UTC).isoformat(),
            "component": "switchboard",
            "custom_details": {"details": notice.details},
        }
    return body


def webhook_payload(notice: Notice) -> dict:
    return {
        "event": notice.event,
        "alert": {
            "id": notice.alert_id,
            "summary": notice.summary,
            "details": notice.details,
            "severity": notice.severity,
            "dedup_key": notice.dedup_key,
            "source": notice.source,
        },
    }


# --- sending ----------------------------------------------------------------------------


def _http_connection(channel: AlertChannel, url: str) -> Connection:
    template = ConnectorTemplate(
        id=f"alert_{channel.kind}",
        name=KINDS[channel.kind],
        category="other",
        description="An alert channel",
        base_url=url,
        auth=NoAuth(type="none"),
        fields=[],
        # Slack accepts about one message per second per webhook
        rate_limit=RateLimit(per_second=1, burst=5),
    )
    return Connection(
        None, channel.name, template, url, {}, budget_key=f"alert_channel:{channel.id}"
    )


def _post(gateway: Gateway, channel: AlertChannel, url: str, body: dict) -> Answer:
    host = urlsplit(url).hostname or url
    try:
        # Slack and many webhooks answer plain text ("ok"), not JSON
        response = gateway.call(
            _http_connection(channel, url), "POST", url, json_body=body, expect_json=False
        )
    except ConnectorError as exc:
        return Answer(False, f"{exc.message} {exc.fix}".strip(), exc.retryable)
    said = response.body
    if isinstance(said, dict):
        said = said.get("message") or said.get("status") or said
    return Answer(True, f"{host} answered {response.status}: {json.dumps(said)[:300]}")


def _send_email(config: dict, password: str, notice: Notice, timeout: float) -> Answer:
    host, port = config["host"], int(config["port"])
    message = EmailMessage()
    message["Subject"] = notice.summary
    message["From"] = config["sender"]
    message["To"] = config["to"]
    message.set_content(f"{notice.details}\n\nSource: {notice.source}\n")
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            if config.get("starttls"):
                smtp.starttls()
            if config.get("username"):
                smtp.login(config["username"], password)
            refused = smtp.send_message(message)
    except ConnectionRefusedError:
        return Answer(
            False,
            f"The SMTP server {host}:{port} refused the connection. Check the host and port "
            "and that the mail server is running.",
            True,
        )
    except TimeoutError:
        return Answer(False, f"The SMTP server {host}:{port} did not answer in time.", True)
    except smtplib.SMTPAuthenticationError as exc:
        return Answer(False, f"{host} refused the user name or password ({exc.smtp_code}).")
    except smtplib.SMTPException as exc:
        return Answer(False, f"{host} refused the message: {exc}.", True)
    except OSError as exc:
        return Answer(False, f"{host}:{port} cannot be reached ({exc.strerror or exc}).", True)
    if refused:
        return Answer(False, f"{host} refused these recipients: {', '.join(refused)}.")
    return Answer(True, f"{host} accepted the message for {config['to']}.")


def _send(ws: Workspace, gateway: Gateway, channel: AlertChannel, notice: Notice) -> Answer:
    """Deliver one notice; no transaction is held while a remote server answers."""
    config = json.loads(channel.config_json)
    if channel.kind == "slack":
        return _post(gateway, channel, open_secret(ws.vault, channel), slack_payload(notice))
    if channel.kind == "pagerduty":
        body = pagerduty_payload(notice, open_secret(ws.vault, channel))
        return _post(gateway, channel, config.get("events_url") or PAGERDUTY_URL, body)
    if channel.kind == "webhook":
        return _post(gateway, channel, config["url"], webhook_payload(notice))
    if channel.kind == "email":
        return _send_email(config, open_secret(ws.vault, channel), notice,
                           ws.settings.http_timeout_seconds)  # fmt: skip
    # ticket: open one for a new or escalated alert, close it on recovery
    with transaction(ws) as session:
        if notice.event == "resolve":
            for ticket in session.exec(
                select(Ticket).where(Ticket.alert_id == notice.alert_id, Ticket.status == "open")
            ).all():
                ticket.status, ticket.closed_at = "closed", datetime.now(UTC)
                session.add(ticket)
            return Answer(True, "Ticket closed.")
        if notice.event == "acknowledge":
            return Answer(True, "Ticket stays open until the check recovers.")
        ticket = Ticket(alert_id=notice.alert_id, title=notice.summary[:200], body=notice.details)
        session.add(ticket)
        session.flush()
        return Answer(True, f"Ticket #{ticket.id} opened.")


def send_test(ws: Workspace, actor: Actor, gateway: Gateway, channel_id: int) -> Answer:
    """Send a test message now and return the channel's real answer (logged)."""
    require(actor, Action.MANAGE_MONITORING)
    with read_session(ws.engine) as session:
        channel = session.get(AlertChannel, channel_id)
        if channel is None:
            raise NotFound("This channel no longer exists.", fix="Reload the page.")
        notice = _notice(session, None, "test")
    answer = _send(ws, gateway, channel, notice)
    with transaction(ws) as session:
        session.add(
            AlertDelivery(channel_id=channel_id, event="test", attempts=1, answer=answer.text,
                          status="sent" if answer.ok else "failed", sent_at=datetime.now(UTC))
        )  # fmt: skip
        audit.record(
            session,
            actor=actor.username,
            action="test",
            entity="alert_channel",
            entity_id=channel_id,
            summary=f"Test alert to “{channel.name}”: {'delivered' if answer.ok else 'failed'}",
        )
    return answer


def _claim(ws: Workspace, delivery_id: int, now: datetime) -> bool:
    """Take one pending delivery for this worker (another worker's claim wins)."""
    with transaction(ws) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(AlertDelivery)
            .where(
                col(AlertDelivery.id) == delivery_id,
                col(AlertDelivery.status) == "pending",
                col(AlertDelivery.next_attempt_at) <= now,
            )
            .values(attempts=AlertDelivery.attempts + 1, next_attempt_at=now + timedelta(minutes=5))
        )
        return result.rowcount == 1


def deliver_pending(
    ws: Workspace, gateway: Gateway, now: datetime | None = None, limit: int = 100
) -> int:
    """Send the deliveries that are due; returns how many were attempted."""
    now = now or datetime.now(UTC)
    with read_session(ws.engine) as session:
        due = session.exec(
            select(AlertDelivery.id)
            .where(AlertDelivery.status == "pending", AlertDelivery.next_attempt_at <= now)
            .order_by(AlertDelivery.id)
            .limit(limit)
        ).all()
    attempted = 0
    for delivery_id in due:
        if not _claim(ws, delivery_id, now):
            continue
        attempted += 1
        with read_session(ws.engine) as session:
            delivery = session.get(AlertDelivery, delivery_id)
            channel = session.get(AlertChannel, delivery.channel_id)
            alert = session.get(Alert, delivery.alert_id) if delivery.alert_id else None
            notice = _notice(session, alert, delivery.event)
        answer = _send(ws, gateway, channel, notice)
        with transaction(ws) as session:
            delivery = session.get(AlertDelivery, delivery_id)
            delivery.answer = answer.text
            if answer.ok:
                delivery.status, delivery.sent_at = "sent", datetime.now(UTC)
            elif answer.retryable and delivery.attempts < MAX_ATTEMPTS:
                delivery.next_attempt_at = now + timedelta(minutes=2**delivery.attempts)
            else:
                delivery.status = "failed"
            session.add(delivery)
    return attempted


def list_deliveries(
    ws: Workspace, actor: Actor, alert_id: int | None = None, limit: int = 200
) -> list[dict]:
    """The delivery log, newest first: channel, event, status and the channel's answer."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        names = dict(session.exec(select(AlertChannel.id, AlertChannel.name)).all())
        statement = select(AlertDelivery)
        if alert_id is not None:
            statement = statement.where(AlertDelivery.alert_id == alert_id)
        rows = session.exec(statement.order_by(col(AlertDelivery.id).desc()).limit(limit)).all()
    return [
        {"alert": d.alert_id, "channel": names.get(d.channel_id, "?"), "event": d.event,
         "status": d.status, "attempts": d.attempts, "answer": d.answer,
         "at": d.sent_at or d.created_at}
        for d in rows
    ]  # fmt: skip


def list_tickets(ws: Workspace, actor: Actor, limit: int = 200) -> list[dict]:
    """The internal ticket list, open ones first."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(Ticket).order_by(Ticket.status.desc(), col(Ticket.id).desc()).limit(limit)  # type: ignore[union-attr]
        ).all()
    return [
        {"ticket": t.id, "status": t.status, "title": t.title, "body": t.body,
         "opened": t.created_at, "closed": t.closed_at}
        for t in rows
    ]  # fmt: skip
