"""The store's tables.

Table classes skip validation (SQLModel's rule), so ``core`` validates input with its own
shapes before anything reaches these classes. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """UTC now: the one clock every table uses."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """A person who signs in. The password is a bcrypt hash, never the password."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    display_name: str = Field(max_length=120)
    email: str = Field(default="", max_length=254)
    # admin, or the role held in every domain without its own row in user_domain_roles:
    # lead | editor | viewer
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=120)
    active: bool = True
    # consecutive failed logins since the last success
    failed_logins: int = 0
    # while in the future, the account refuses every password
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    # the last time the user did anything; drives the inactivity timeout across sessions
    last_seen_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class System(SQLModel, table=True):
    """A system the company runs: a CRM, a MAP, GA4, an ad platform, the warehouse..."""

    __tablename__ = "systems"
    # names are unique whatever their case ("CRM" and "crm" are one name)
    __table_args__ = (Index("uq_systems_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=80)
    # crm | map | analytics | ads | warehouse | website | billing | other
    category: str = Field(max_length=16)
    vendor: str = Field(default="", max_length=80)
    domain: str = Field(default="Marketing", max_length=40)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # may personal data be sent to this system?
    pii_cleared: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Connector(SQLModel, table=True):
    """A configured way to reach a system's API, made from a catalog template.

    Non-secret settings live in ``config_json``; secrets live encrypted in
    ``ConnectorSecret`` rows.
    """

    __tablename__ = "connectors"
    # names are unique whatever their case ("CRM" and "crm" are one name)
    __table_args__ = (Index("uq_connectors_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=80)
    template_id: str = Field(max_length=64)
    system_id: int | None = Field(default=None, foreign_key="systems.id", ondelete="SET NULL")
    domain: str = Field(default="Marketing", max_length=40)
    base_url: str = Field(max_length=500)
    config_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    created_by: str = Field(default="", max_length=64)
    last_test_at: datetime | None = None
    last_test_ok: bool | None = None
    last_test_message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConnectorSecret(SQLModel, table=True):
    """One encrypted secret of a connector (AES-256-GCM; the row's identity is the AAD)."""

    __tablename__ = "connector_secrets"
    __table_args__ = (UniqueConstraint("connector_id", "field_name"),)

    id: int | None = Field(default=None, primary_key=True)
    connector_id: int = Field(foreign_key="connectors.id", ondelete="CASCADE", index=True)
    field_name: str = Field(max_length=64)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # first 16 hex digits of SHA-256 of the key: which key sealed this secret
    key_id: str = Field(max_length=16)
    # the only part ever shown back
    last4: str = Field(max_length=4)
    updated_at: datetime = Field(default_factory=utcnow)


class Integration(SQLModel, table=True):
    """A flow between two systems: source → destination, data, frequency, method."""

    __tablename__ = "integrations"
    # names are unique whatever their case ("CRM" and "crm" are one name)
    __table_args__ = (Index("uq_integrations_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=120)
    source_system_id: int = Field(foreign_key="systems.id", ondelete="RESTRICT")
    destination_system_id: int = Field(foreign_key="systems.id", ondelete="RESTRICT")
    data: str = Field(max_length=120)
    # real-time | every_n_minutes | hourly | daily | weekly
    frequency: str = Field(max_length=24)
    # api | webhook | etl | native | javascript
    method: str = Field(max_length=16)
    domain: str = Field(default="Marketing", max_length=40)
    owner: str = Field(default="", max_length=120)
    # low | medium | high | critical
    criticality: str = Field(default="medium", max_length=16)
    enabled: bool = True
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # what the worker reads: a connector and one of its template's streams
    source_connector_id: int | None = Field(
        default=None, foreign_key="connectors.id", ondelete="SET NULL"
    )
    source_stream: str = Field(default="", max_length=64)
    # optional second leg: push the mapped records to a destination connector's stream
    destination_connector_id: int | None = Field(
        default=None, foreign_key="connectors.id", ondelete="SET NULL"
    )
    destination_stream: str = Field(default="", max_length=64)
    # upsert | update | create
    write_mode: str = Field(default="upsert", max_length=16)
    # full_refresh | incremental_append | incremental_upsert
    sync_mode: str = Field(default="incremental_upsert", max_length=24)
    # for every_n_minutes
    every_minutes: int | None = None
    # "HH:MM" (UTC) for daily and weekly
    at_time: str = Field(default="", max_length=5)
    # 0 = Monday … 6 = Sunday, for weekly
    weekday: int | None = None
    # consent this flow carries: {purpose: {"field": source path, "granted": [values]}}
    consent_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # a consent purpose records must hold to pass ("" = none required)
    required_purpose: str = Field(default="", max_length=32)
    next_run_at: datetime | None = Field(default=None, index=True)
    last_run_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class FieldMapping(SQLModel, table=True):
    """One source field carried to one destination field by a flow."""

    __tablename__ = "field_mappings"

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", index=True)
    # dotted path in the source record (``properties.email``)
    source_field: str = Field(max_length=200)
    # the field's name in the hub and at the destination
    destination_field: str = Field(max_length=200)
    position: int = 0


class IntegrationRun(SQLModel, table=True):
    """One run of a flow: what it read, wrote and rejected, and why it failed if it did."""

    __tablename__ = "integration_runs"

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", index=True)
    # queued | running | succeeded | failed | cancelled
    status: str = Field(default="queued", max_length=16, index=True)
    # schedule | manual | webhook
    trigger: str = Field(default="schedule", max_length=16)
    requested_by: str = Field(default="", max_length=64)
    requested_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker_id: str = Field(default="", max_length=80)
    cancel_requested: bool = False
    records_read: int = 0
    records_written: int = 0
    records_rejected: int = 0
    # records left out: the person has not consented to the flow's purpose
    skipped_no_consent: int = 0
    # records left out: the person asked to be deleted (suppression list)
    skipped_suppressed: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    cursor_before: str = Field(default="", max_length=200)
    cursor_after: str = Field(default="", max_length=200)
    # the page to fetch next, so a run killed mid-way resumes where it stopped
    resume_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error_message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    error_fix: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # configuration | vendor | passing fault
    error_whose: str = Field(default="", max_length=16)


class SyncState(SQLModel, table=True):
    """A flow's committed incremental cursor: where the next run starts."""

    __tablename__ = "sync_states"

    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", primary_key=True)
    cursor: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)


class IntegrationLease(SQLModel, table=True):
    """Which worker runs a flow right now; an expired lease may be taken over."""

    __tablename__ = "integration_leases"

    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", primary_key=True)
    worker_id: str = Field(max_length=80)
    run_id: int | None = None
    expires_at: datetime


class HubRecord(SQLModel, table=True):
    """A record in the hub, keyed by entity and external key.

    ``fields_json`` holds the values; ``provenance_json`` holds, per field, the source that
    wrote the current value and the source's own modification time of it.
    """

    __tablename__ = "hub_records"
    # the unique (entity, external_key) index also serves lookups by entity alone
    __table_args__ = (UniqueConstraint("entity", "external_key"),)

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=64)
    external_key: str = Field(max_length=200)
    fields_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    provenance_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    # the personal-data fields, sealed together (AES-256-GCM, AAD = entity and key)
    pii_nonce: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    pii_ciphertext: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    pii_key_id: str = Field(default="", max_length=16)
    # keyed digest of the person's e-mail: finds them without storing it in the clear
    email_digest: str | None = Field(default=None, max_length=64, index=True)
    # the run that last touched it (full refresh removes records no run saw)
    last_run_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class FieldConflict(SQLModel, table=True):
    """A conflicting write to a field marked critical: waits for a person."""

    __tablename__ = "field_conflicts"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=64)
    external_key: str = Field(max_length=200)
    field: str = Field(max_length=200)
    current_value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    current_source: str = Field(default="", max_length=120)
    current_modified_at: datetime | None = None
    incoming_value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    incoming_source: str = Field(default="", max_length=120)
    incoming_modified_at: datetime | None = None
    run_id: int | None = None
    # open | kept_current | took_incoming
    status: str = Field(default="open", max_length=16, index=True)
    resolved_by: str = Field(default="", max_length=64)
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RejectedRecord(SQLModel, table=True):
    """A record a run could not take, with the reason, so nothing vanishes silently."""

    __tablename__ = "rejected_records"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="integration_runs.id", ondelete="CASCADE", index=True)
    record_key: str = Field(default="", max_length=200)
    # read | map | write
    stage: str = Field(max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Reconciliation(SQLModel, table=True):
    """Source against hub after a full (or daily incremental) sync: counts and key sets."""

    __tablename__ = "reconciliations"

    id: int | None = Field(default=None, primary_key=True)
    integration_id: int = Field(foreign_key="integrations.id", ondelete="CASCADE", index=True)
    run_id: int | None = None
    at: datetime = Field(default_factory=utcnow)
    source_count: int
    hub_count: int
    missing_in_hub: int = 0
    extra_in_hub: int = 0
    # a few example keys of each difference, for a person to look at
    sample_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    ok: bool


class ApiCall(SQLModel, table=True):
    """One outbound call: for quotas, KPIs (latency percentiles, error rate) and uptime."""

    __tablename__ = "api_calls"
    __table_args__ = (Index("ix_api_calls_connector_at", "connector_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    connector_id: int | None = Field(default=None)
    integration_id: int | None = Field(default=None, index=True)
    run_id: int | None = None
    method: str = Field(max_length=8)
    host: str = Field(max_length=200)
    path: str = Field(max_length=500)
    # HTTP status, or 0 when no answer came (timeout, refused)
    status: int
    latency_ms: float
    attempt: int = 1
    # ok | retry | rate_limited | failed
    outcome: str = Field(max_length=16)


class WebhookEvent(SQLModel, table=True):
    """An inbound event, stored before it is acknowledged, delivered afterwards."""

    __tablename__ = "webhook_events"

    id: int | None = Field(default=None, primary_key=True)
    connector_id: int = Field(foreign_key="connectors.id", ondelete="CASCADE", index=True)
    received_at: datetime = Field(default_factory=utcnow)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # pending | delivered | rejected
    status: str = Field(default="pending", max_length=16, index=True)
    delivered_at: datetime | None = None
    delay_ms: float | None = None
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AuditEntry(SQLModel, table=True):
    """One change, hash-chained to the entry before it so tampering shows."""

    __tablename__ = "audit_entries"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64, index=True)
    # create | update | delete | login | logout | lock | rotate_key | ...
    action: str = Field(max_length=32, index=True)
    entity: str = Field(max_length=40, index=True)
    entity_id: str = Field(default="", max_length=64)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    before_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    after_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's newest hash: one row, locked by each writer so the chain never forks."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_hash: str = Field(max_length=64)


class WorkerHeartbeat(SQLModel, table=True):
    """A worker process saying it is alive; the app shows 'worker up / last seen'."""

    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=80)
    hostname: str = Field(max_length=120)
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    # running | stopping | stopped
    status: str = Field(default="running", max_length=16)
