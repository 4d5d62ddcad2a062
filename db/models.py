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
    # admin | editor | viewer
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
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


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
