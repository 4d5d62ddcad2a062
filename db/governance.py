"""Governance tables: roles per domain, the access log, retention, privacy requests,
the suppression list and consent.

A person's e-mail is never stored in the clear here: rows hold its keyed digest
(``email_digest``) to find them, and, where it must be read back, a sealed copy.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.models import utcnow


class UserDomainRole(SQLModel, table=True):
    """A person's role in one domain, where it differs from their role elsewhere, and
    whether they may see that domain's personal data unmasked."""

    __tablename__ = "user_domain_roles"
    __table_args__ = (UniqueConstraint("user_id", "domain"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    domain: str = Field(max_length=40)
    # lead | editor | viewer
    role: str = Field(max_length=16)
    pii: bool = False
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class AccessLogEntry(SQLModel, table=True):
    """One unmasked view or export of personal data: who, when, what (never the values)."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=64, index=True)
    # view | export
    kind: str = Field(default="view", max_length=16)
    # where: the page or export
    place: str = Field(max_length=120)
    domain: str = Field(default="", max_length=40)
    entity: str = Field(default="", max_length=64)
    fields: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    record_count: int = 0


class RetentionPolicy(SQLModel, table=True):
    """How long one kind of data of one domain is kept."""

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("domain", "kind", "entity"),)

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(max_length=40)
    # hub_records | run_history | call_metrics | audit_entries
    kind: str = Field(max_length=24)
    # for hub_records: the entity ("contact"); "" otherwise
    entity: str = Field(default="", max_length=64)
    keep_days: int
    enabled: bool = True
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class RetentionRun(SQLModel, table=True):
    """One application of the retention policies, and what it removed."""

    __tablename__ = "retention_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    # worker | manual
    trigger: str = Field(default="worker", max_length=16)
    actor: str = Field(default="", max_length=64)
    # succeeded | failed
    status: str = Field(default="running", max_length=16)
    # [{"policy_id", "domain", "kind", "entity", "keep_days", "cutoff", "removed"}]
    removed_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    total_removed: int = 0
    error_message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class PrivacyRequest(SQLModel, table=True):
    """A person's request to be deleted (GDPR art. 17 / CCPA right to delete)."""

    __tablename__ = "privacy_requests"

    id: int | None = Field(default=None, primary_key=True)
    email_digest: str = Field(max_length=64, index=True)
    # the e-mail, sealed (AAD = privacy_request:<digest>), to send deletions to systems
    email_nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    email_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    email_key_id: str = Field(max_length=16)
    # shown in lists: "j•••@example.com"
    email_hint: str = Field(max_length=254)
    # gdpr | ccpa
    regulation: str = Field(max_length=8)
    # received | in_progress | completed | partially_completed | failed
    status: str = Field(default="received", max_length=24, index=True)
    received_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    completed_at: datetime | None = None
    requested_by: str = Field(max_length=64)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # what was found: [{"entity", "key", "sources": [...]}]
    found_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    # per system: [{"connector", "system", "status", "detail"}]
    results_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    hub_records_deleted: int = 0


class Suppression(SQLModel, table=True):
    """A person who asked to be deleted: later syncs leave their records out."""

    __tablename__ = "suppressions"

    id: int | None = Field(default=None, primary_key=True)
    email_digest: str = Field(max_length=64, unique=True)
    request_id: int | None = Field(
        default=None, foreign_key="privacy_requests.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)


class Consent(SQLModel, table=True):
    """A person's consent to one purpose, as the newest flow carrying it said."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("email_digest", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    email_digest: str = Field(max_length=64, index=True)
    # email_marketing | ad_user_data | ad_personalization
    purpose: str = Field(max_length=32)
    granted: bool
    source: str = Field(default="", max_length=120)
    integration_id: int | None = Field(
        default=None, foreign_key="integrations.id", ondelete="SET NULL"
    )
    recorded_at: datetime = Field(default_factory=utcnow)


class WorkspaceKey(SQLModel, table=True):
    """A key the workspace derives digests with, sealed by the vault like any secret (so
    every process shares it and a vault rotation re-seals it)."""

    __tablename__ = "workspace_keys"

    name: str = Field(primary_key=True, max_length=40)
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
