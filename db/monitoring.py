"""Monitoring tables: health checks and their results, alerts and where they go, display links.

A check belongs to a flow and has one kind (record count, completeness, latency, success
rate, freshness, error rate). Every evaluation is kept as a ``CheckResult``; the check row
also carries its newest status so dashboards read one row per check. An ``Alert`` is open
at most once per check (a partial unique index says so to the store itself).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from db.models import ApiCall, utcnow


class HealthCheck(SQLModel, table=True):
    """One check of one flow: what is measured, the limit, how often, how bad a failure is."""

    __tablename__ = "health_checks"
    __table_args__ = (UniqueConstraint("integration_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", index=True)
    # record_count | completeness | latency | success_rate | freshness | error_rate
    kind: str = Field(max_length=24)
    # in the kind's unit: % of expected, days, minutes, % of runs, hours, % of calls
    threshold: float
    # how often the worker evaluates it
    every_minutes: int = 60
    # critical | high | medium | low
    severity: str = Field(default="medium", max_length=16)
    # record count only: "manual" (expected_value) or "learned" (median of past weeks)
    expected_mode: str = Field(default="learned", max_length=8)
    expected_value: float | None = None
    enabled: bool = True
    next_due_at: datetime | None = Field(default=None, index=True)
    # the newest result, so a dashboard reads one row per check: ok | failing | no_data
    last_status: str = Field(default="", max_length=8)
    last_value: float | None = None
    last_message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class CheckResult(SQLModel, table=True):
    """One evaluation of a check, kept for the history and the uptime KPI."""

    __tablename__ = "check_results"
    __table_args__ = (Index("ix_check_results_check_at", "check_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="health_checks.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    # ok | failing | no_data
    status: str = Field(max_length=8)
    value: float | None = None
    expected: float | None = None
    threshold: float
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AlertLevel(SQLModel, table=True):
    """One row of the alert policy: how fast someone must answer, where it goes, who next."""

    __tablename__ = "alert_levels"

    # critical | high | medium | low
    severity: str = Field(primary_key=True, max_length=16)
    response_minutes: int
    # JSON list of channel ids
    channel_ids_json: str = Field(
        default="[]", sa_column=Column(Text, nullable=False, default="[]")
    )
    escalate_to: str = Field(default="", max_length=120)
    updated_at: datetime = Field(default_factory=utcnow)


class AlertChannel(SQLModel, table=True):
    """Where alerts are sent. Non-secret settings in ``config_json``; the one secret (Slack
    webhook URL, PagerDuty routing key, SMTP password) sealed with the vault, AAD
    ``alert_channel:<id>``."""

    __tablename__ = "alert_channels"
    __table_args__ = (Index("uq_alert_channels_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    # slack | email | pagerduty | webhook | ticket
    kind: str = Field(max_length=16)
    config_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    secret_nonce: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    secret_ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    secret_key_id: str = Field(default="", max_length=16)
    secret_last4: str = Field(default="", max_length=4)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Alert(SQLModel, table=True):
    """A failing check, from the first failure to its recovery."""

    __tablename__ = "alerts"
    __table_args__ = (
        # one open alert per check: repeats update it
        Index(
            "uq_alerts_open_check",
            "check_id",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="health_checks.id", ondelete="CASCADE", index=True)
    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", index=True)
    # the check's severity when it opened, and the level it has escalated to since
    severity: str = Field(max_length=16)
    level: str = Field(max_length=16)
    # open | acknowledged | resolved
    status: str = Field(default="open", max_length=16, index=True)
    # "" | silenced | maintenance | flapping: why nobody was told
    held: str = Field(default="", max_length=16)
    title: str = Field(max_length=200)
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    dedup_key: str = Field(max_length=64)
    repeats: int = 0
    escalations: int = 0
    opened_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    # when the current level's response time started counting
    level_since: datetime = Field(default_factory=utcnow)
    acknowledged_by: str = Field(default="", max_length=64)
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


class AlertDelivery(SQLModel, table=True):
    """One message to one channel about one alert; the worker sends the pending ones."""

    __tablename__ = "alert_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int | None = Field(
        default=None, foreign_key="alerts.id", ondelete="CASCADE", index=True
    )
    channel_id: int = Field(foreign_key="alert_channels.id", ondelete="CASCADE", index=True)
    # trigger | escalate | acknowledge | resolve | test
    event: str = Field(max_length=16)
    # pending | sent | failed
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # what the channel answered (status and text), or why it could not be reached
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Ticket(SQLModel, table=True):
    """The internal ticket list: the Low level's channel (the backlog)."""

    __tablename__ = "tickets"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int | None = Field(default=None, foreign_key="alerts.id", ondelete="SET NULL")
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # open | closed
    status: str = Field(default="open", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class Silence(SQLModel, table=True):
    """A time during which alerts of one flow (or all) are held back: a silence or a
    planned maintenance window."""

    __tablename__ = "silences"

    id: int | None = Field(default=None, primary_key=True)
    # None: every flow
    integration_id: int | None = Field(
        default=None, foreign_key="integrations.id", ondelete="CASCADE"
    )
    # silence | maintenance
    kind: str = Field(default="silence", max_length=16)
    starts_at: datetime
    ends_at: datetime = Field(index=True)
    reason: str = Field(default="", max_length=200)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class DisplayLink(SQLModel, table=True):
    """A read-only wall-screen link. Only a hash of its token is kept."""

    __tablename__ = "display_links"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    refresh_seconds: int = 30
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


# The KPI and health queries read one flow's calls over a period (migration 0006).
Index("ix_api_calls_integration_at", ApiCall.__table__.c.integration_id, ApiCall.__table__.c.at)
