"""Alert channels: where alerts go, and sending to them.

Five kinds::

    slack      Slack incoming webhook: POST {"text", "blocks"} to the webhook URL (secret)
    pagerduty  PagerDuty Events API v2: POST /v2/enqueue with routing_key (secret, 32
               characters), event_action trigger | acknowledge | resolve and dedup_key
    webhook    a generic JSON webhook: POST {"event", "alert"} to a URL
    email      e-mail over SMTP (smtplib); the password is the secret
    ticket     the internal ticket list (the backlog), kept in the store

HTTP deliveries go through the gateway: its bounded retries ride out a passing fault within
the call, and each channel has its own rate budget (Slack takes about one message a second
per webhook). A delivery that still fails for a passing reason stays pending and is tried
again later by the worker (``MAX_ATTEMPTS``, minutes apart), so it survives a restart;
every attempt's answer is kept.
Secrets are sealed with the vault, the row's identity (``alert_channel:<id>``) as AAD,
and never shown back beyond their last four characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import select

from core import audit
from core.alerts import ensure_policy
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.vault import Sealed, Vault
from core.workspace import Workspace, transaction
from db.monitoring import AlertChannel, AlertDelivery, AlertLevel

KINDS = {
    "slack": "Slack (incoming webhook)",
    "email": "E-mail (SMTP)",
    "pagerduty": "PagerDuty (Events API v2)",
    "webhook": "Generic JSON webhook",
    "ticket": "Internal ticket list",
}
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}
MAX_ATTEMPTS = 5
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class ChannelInput:
    """A channel as typed in the form. ``secret`` empty on an edit keeps the stored one."""

    name: str
    kind: str
    secret: str = ""
    # pagerduty: events_url; webhook: url; email: host, port, username, sender, to, starttls
    config: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class ChannelView:
    id: int
    name: str
    kind: str
    kind_label: str
    config: dict[str, Any]
    secret_hint: str
    enabled: bool


@dataclass(frozen=True)
class Answer:
    """What a channel said: delivered or not, in words, and whether trying later may help."""

    ok: bool
    text: str
    retryable: bool = False


# --- validation -------------------------------------------------------------------------


def url_problem(value: str, label: str, example: str) -> FieldProblem | None:
    """A URL must be https (plain http only for a receiver on this machine)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value.strip():
        return FieldProblem(label, f"is not a web address; paste the full URL, e.g. {example}.")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return FieldProblem(label, "must start with https:// (http:// only for 127.0.0.1).")
    return None


def _addresses(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[,;]", text) if a.strip()]


def _validate(data: ChannelInput, has_secret: bool) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not data.name.strip() or len(data.name.strip()) > 80:
        problems.append(FieldProblem("Name", "is required (at most 80 characters)."))
    if data.kind not in KINDS:
        problems.append(FieldProblem("Kind", f"must be one of {', '.join(KINDS)}."))
        return problems
    secret = data.secret.strip()
    needs_secret = data.kind in ("slack", "pagerduty") and not has_secret
    if data.kind == "slack":
        if needs_secret and not secret:
            problems.append(FieldProblem("Webhook URL", "is required."))
        elif secret:
            problem = url_problem(
                secret, "Webhook URL", "https://hooks.slack.com/services/T0001/B0001/abc123"
            )
            if problem:
                problems.append(problem)
    if data.kind == "pagerduty":
        if needs_secret and not secret:
            problems.append(FieldProblem("Routing key", "is required."))
        elif secret and not _ROUTING_KEY.match(secret):
            problems.append(
                FieldProblem(
                    "Routing key",
                    f"must be the 32-character integration key (letters and digits) from the "
                    f"PagerDuty service's Events API v2 integration; this one has "
                    f"{len(secret)} character(s).",
                )
            )
        events_url = str(data.config.get("events_url") or PAGERDUTY_URL)
        problem = url_problem(events_url, "Events URL", PAGERDUTY_URL)
        if problem:
            problems.append(problem)
    if data.kind == "webhook":
        problem = url_problem(
            str(data.config.get("url", "")), "URL", "https://example.com/hooks/alerts"
        )
        if problem:
            problems.append(problem)
    if data.kind == "email":
        host = str(data.config.get("host", "")).strip()
        if not host or " " in host:
            problems.append(FieldProblem("SMTP host", "is required, e.g. smtp.example.com."))
        try:
            port = int(data.config.get("port", 0))
        except (TypeError, ValueError):
            port = 0
        if not 1 <= port <= 65535:
            problems.append(FieldProblem("SMTP port", "must be a number from 1 to 65535 (587)."))
        sender = str(data.config.get("sender", "")).strip()
        if not _EMAIL.match(sender):
            problems.append(
                FieldProblem("From", f"“{sender}” is not an e-mail address (name@example.com).")
            )
        recipients = _addresses(str(data.config.get("to", "")))
        bad = [a for a in recipients if not _EMAIL.match(a)]
        if not recipients:
            problems.append(FieldProblem("To", "needs at least one address."))
        elif bad:
            problems.append(
                FieldProblem(
                    "To",
                    f"“{bad[0]}” is not an e-mail address; write name@example.com, several "
                    "separated by commas.",
                )
            )
    return problems


def _clean_config(data: ChannelInput) -> dict[str, Any]:
    c = data.config
    if data.kind == "pagerduty":
        return {"events_url": str(c.get("events_url") or PAGERDUTY_URL).strip()}
    if data.kind == "webhook":
        return {"url": str(c.get("url", "")).strip()}
    if data.kind == "email":
        return {
            "host": str(c.get("host", "")).strip(),
            "port": int(c.get("port", 587)),
            "username": str(c.get("username", "")).strip(),
            "sender": str(c.get("sender", "")).strip(),
            "to": ", ".join(_addresses(str(c.get("to", "")))),
            "starttls": bool(c.get("starttls", False)),
        }
    return {}


# --- storing ----------------------------------------------------------------------------


def _aad(channel_id: int) -> str:
    return f"alert_channel:{channel_id}"


def _seal(vault: Vault, channel: AlertChannel, secret: str) -> None:
    sealed = vault.seal(secret, _aad(channel.id))
    channel.secret_nonce, channel.secret_ciphertext = sealed.nonce, sealed.ciphertext
    channel.secret_key_id = sealed.key_id
    channel.secret_last4 = secret[-4:] if len(secret) > 8 else ""


def open_secret(vault: Vault, channel: AlertChannel) -> str:
    if not channel.secret_ciphertext:
        return ""
    sealed = Sealed(channel.secret_nonce, channel.secret_ciphertext, channel.secret_key_id)
    return vault.open(sealed, _aad(channel.id))


def save_channel(
    ws: Workspace, actor: Actor, data: ChannelInput, channel_id: int | None = None
) -> int:
    """Create (or, with ``channel_id``, change) a channel; validated, sealed, audited."""
    require(actor, Action.MANAGE_MONITORING)
    with transaction(ws) as session:
        channel = session.get(AlertChannel, channel_id) if channel_id else None
        if channel_id and channel is None:
            raise NotFound("This channel no longer exists.", fix="Reload the page.")
        problems = _validate(data, has_secret=bool(channel and channel.secret_ciphertext))
        clash = session.exec(
            select(AlertChannel.id).where(
                AlertChannel.name.ilike(data.name.strip()),  # type: ignore[union-attr]
                AlertChannel.id != (channel_id or 0),
            )
        ).first()
        if clash:
            problems.append(FieldProblem("Name", "is used by another channel; pick another."))
        if problems:
            raise InputError(problems)
        before = {} if channel is None else {"name": channel.name, "config": channel.config_json}
        if channel is None:
            channel = AlertChannel(name=data.name.strip(), kind=data.kind)
            session.add(channel)
            session.flush()
        channel.name = data.name.strip()
        channel.config_json = json.dumps(_clean_config(data), sort_keys=True)
        channel.enabled = data.enabled
        channel.updated_at = datetime.now(UTC)
        secret_changed = bool(data.secret.strip())
        if secret_changed:
            _seal(ws.vault, channel, data.secret.strip())
        session.add(channel)
        after = {"name": channel.name, "config": channel.config_json}
        if secret_changed:
            after["secret"] = "(changed)"
        audit.record(
            session,
            actor=actor.username,
            action="update" if channel_id else "create",
            entity="alert_channel",
            entity_id=channel.id,
            summary=f"{KINDS[data.kind]} channel “{channel.name}”",
            before=before or None,
            after=after,
        )
        return channel.id


def delete_channel(ws: Workspace, actor: Actor, channel_id: int) -> None:
    """Remove a channel and its deliveries; the policy forgets it (audited)."""
    require(actor, Action.MANAGE_MONITORING)
    with transaction(ws) as session:
        channel = session.get(AlertChannel, channel_id)
        if channel is None:
            raise NotFound("This channel no longer exists.", fix="Reload the page.")
        for level in session.exec(select(AlertLevel)).all():
            ids = [i for i in json.loads(level.channel_ids_json) if i != channel_id]
            level.channel_ids_json = json.dumps(ids)
            session.add(level)
        for delivery in session.exec(
            select(AlertDelivery).where(AlertDelivery.channel_id == channel_id)
        ).all():
            session.delete(delivery)
        session.delete(channel)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="alert_channel",
            entity_id=channel_id,
            summary=f"Channel “{channel.name}”",
        )


def list_channels(ws: Workspace, actor: Actor) -> list[ChannelView]:
    """Every channel, secrets shown as their last four characters at most."""
    require(actor, Action.VIEW_MONITORING)
    with transaction(ws) as session:
        ensure_policy(session)  # the seed's internal ticket list exists from the start
        rows = session.exec(select(AlertChannel).order_by(AlertChannel.name)).all()
    return [
        ChannelView(
            c.id, c.name, c.kind, KINDS.get(c.kind, c.kind), json.loads(c.config_json),
            (f"••••{c.secret_last4}" if c.secret_last4 else "••••") if c.secret_ciphertext else "",
            c.enabled,
        )
        for c in rows
    ]  # fmt: skip


def load_demo_channels(ws: Workspace, sandbox_url: str) -> list[str]:
    """The demo's channels (Slack, PagerDuty and a webhook on the sandbox) wired into the
    policy, and every flow's default checks; returns what was added."""
    from core.alerts import update_level
    from core.health_checks import ensure_default_checks

    actor = Actor.system("demo")
    known = {c.name for c in list_channels(ws, actor)}
    specs = {
        "Ops Slack (sandbox)": ChannelInput(
            "Ops Slack (sandbox)", "slack", f"{sandbox_url}/slack/services/T0DEMO/B0DEMO/demo1234"
        ),
        "On call (sandbox PagerDuty)": ChannelInput(
            "On call (sandbox PagerDuty)", "pagerduty", "DEMO0ROUTING0KEY0000000000000000",
            {"events_url": f"{sandbox_url}/pagerduty/v2/enqueue"},
        ),
        "Ops webhook (sandbox)": ChannelInput(
            "Ops webhook (sandbox)", "webhook", config={"url": f"{sandbox_url}/webhook-sink/ops"}
        ),
    }  # fmt: skip
    added = [f"channel {name}" for name in specs if name not in known]
    if not added:
        return []
    ids = {name: save_channel(ws, actor, spec) for name, spec in specs.items() if name not in known}
    if "On call (sandbox PagerDuty)" in ids:
        update_level(ws, actor, "critical", response_minutes=15,
                     channel_ids=[ids["On call (sandbox PagerDuty)"]], escalate_to="Manager")  # fmt: skip
    if "Ops Slack (sandbox)" in ids:
        channels = [ids["Ops Slack (sandbox)"], ids.get("Ops webhook (sandbox)", 0)]
        update_level(ws, actor, "high", response_minutes=60,
                     channel_ids=[c for c in channels if c], escalate_to="Team lead")  # fmt: skip
    ensure_default_checks(ws, actor)
    return added
