"""Retention: how long each domain keeps each kind of data, a preview of what would go,
and runs that remove it (the worker's once a day, or a person's "Apply now").

A policy names a domain, a kind (``core.retention_targets.KINDS``: hub records of one
entity, run history, call metrics, audit entries) and how many days to keep. Audit entries
are the workspace's, not a domain's ("All"), only an admin sets their policy, and the law
wants them kept at least ``AUDIT_MINIMUM_DAYS``. A hub record belongs to the domain of the
flow whose run last wrote it; a record no run wrote counts as Marketing (the rules per kind
are in ``core.retention_targets``). Runs live in ``core.retention_runs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core import audit
from core.errors import FieldProblem, InputError, NotFound, PermissionDenied
from core.permissions import DOMAINS, Action, Actor, Role, require
from core.retention_targets import KINDS, Target
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import RetentionPolicy
from db.models import HubRecord, utcnow

ALL_DOMAINS = "All"
AUDIT_MINIMUM_DAYS = 365
MAX_KEEP_DAYS = 3650
WORKER_ACTOR = "retention"


@dataclass(frozen=True)
class PolicyInput:
    domain: str
    kind: str
    # days to keep; anything but a whole number from 1 to MAX_KEEP_DAYS is refused
    keep_days: int
    entity: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class PolicyPreview:
    """What applying one policy now would remove."""

    policy_id: int
    domain: str
    kind: str
    entity: str
    keep_days: int
    cutoff: datetime
    count: int
    examples: list[str]


def _problems(data: PolicyInput) -> list[FieldProblem]:
    problems = []
    if data.kind not in KINDS:
        problems.append(FieldProblem("Kind", f"must be one of: {', '.join(KINDS)}."))
    if data.kind == "audit_entries":
        if data.domain != ALL_DOMAINS:
            problems.append(FieldProblem("Domain", "must be 'All' for audit entries."))
    elif data.domain not in DOMAINS:
        problems.append(FieldProblem("Domain", f"must be one of: {', '.join(DOMAINS)}."))
    entity = data.entity.strip()
    if data.kind == "hub_records" and not entity:
        problems.append(FieldProblem("Entity", "is empty; name the hub entity (e.g. 'contact')."))
    elif len(entity) > 64:
        problems.append(FieldProblem("Entity", "is longer than 64 characters; shorten it."))
    days = data.keep_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_KEEP_DAYS:
        problems.append(
            FieldProblem("Keep days", f"must be a whole number of days from 1 to {MAX_KEEP_DAYS}.")
        )
    elif data.kind == "audit_entries" and days < AUDIT_MINIMUM_DAYS:
        problems.append(
            FieldProblem(
                "Keep days",
                f"must be at least {AUDIT_MINIMUM_DAYS} for audit entries (the legal minimum).",
            )
        )
    return problems


def _require_domain(actor: Actor, domain: str) -> None:
    if domain == ALL_DOMAINS:
        if actor.role is not Role.ADMIN:
            raise PermissionDenied(
                "Only an admin may set or apply how long audit entries are kept.",
                fix="Ask an admin to do it.",
            )
        return
    require(actor, Action.MANAGE_RETENTION, domain)


def managed_domains(actor: Actor) -> list[str]:
    """The domains whose policies this actor sees and manages."""
    domains = actor.domains_where(Action.MANAGE_RETENTION)
    return [*domains, ALL_DOMAINS] if actor.role is Role.ADMIN else domains


def _public(policy: RetentionPolicy) -> dict:
    return {
        "domain": policy.domain,
        "kind": policy.kind,
        "entity": policy.entity,
        "keep_days": policy.keep_days,
        "enabled": policy.enabled,
    }


def _label(policy: RetentionPolicy) -> str:
    what = f"{policy.entity} records" if policy.kind == "hub_records" else KINDS[policy.kind]
    return f"{policy.domain}: {what.lower()}"


def set_policy(ws: Workspace, actor: Actor, data: PolicyInput) -> RetentionPolicy:
    """Create the policy for (domain, kind, entity), or change the one there is."""
    require(actor, Action.MANAGE_RETENTION)
    problems = _problems(data)
    if problems:
        raise InputError(problems)
    _require_domain(actor, data.domain)
    entity = data.entity.strip() if data.kind == "hub_records" else ""
    with transaction(ws) as session:
        policy = session.exec(
            select(RetentionPolicy).where(
                RetentionPolicy.domain == data.domain,
                RetentionPolicy.kind == data.kind,
                RetentionPolicy.entity == entity,
            )
        ).first()
        before = _public(policy) if policy else None
        if policy is None:
            policy = RetentionPolicy(domain=data.domain, kind=data.kind, entity=entity, keep_days=1)
        policy.keep_days, policy.enabled = data.keep_days, data.enabled
        policy.updated_by, policy.updated_at = actor.username, utcnow()
        session.add(policy)
        session.flush()
        old, new = audit.changes(before or {}, _public(policy))
        audit.record(
            session,
            actor=actor.username,
            action="update" if before else "create",
            entity="retention_policy",
            entity_id=policy.id,
            summary=f"{'Changed' if before else 'Set'} retention of {_label(policy)} "
            f"to {policy.keep_days} days",
            before=old if before else None,
            after=new,
        )
        return policy


def delete_policy(ws: Workspace, actor: Actor, policy_id: int) -> None:
    require(actor, Action.MANAGE_RETENTION)
    with transaction(ws) as session:
        policy = session.get(RetentionPolicy, policy_id)
        if policy is None:
            raise NotFound(f"Retention policy #{policy_id} no longer exists.")
        _require_domain(actor, policy.domain)
        session.delete(policy)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="retention_policy",
            entity_id=policy_id,
            summary=f"Removed the retention policy for {_label(policy)}",
            before=_public(policy),
        )


def policies_for(
    session: Session, actor: Actor, enabled_only: bool = False
) -> list[RetentionPolicy]:
    """The policies of the domains this actor manages, in a stable order."""
    statement = select(RetentionPolicy).where(
        col(RetentionPolicy.domain).in_(managed_domains(actor))
    )
    if enabled_only:
        statement = statement.where(col(RetentionPolicy.enabled))
    order = (col(RetentionPolicy.domain), col(RetentionPolicy.kind), col(RetentionPolicy.entity))
    return list(session.exec(statement.order_by(*order)))


def list_policies(ws: Workspace, actor: Actor) -> list[RetentionPolicy]:
    """The policies of the domains this actor manages (and the audit policy, for admins)."""
    require(actor, Action.MANAGE_RETENTION)
    with read_session(ws.engine) as session:
        return policies_for(session, actor)


def hub_entities(ws: Workspace, actor: Actor) -> list[str]:
    """The entities in the hub, to offer in the policy form."""
    require(actor, Action.MANAGE_RETENTION)
    with read_session(ws.engine) as session:
        return sorted(session.exec(select(HubRecord.entity).distinct()))


def target_for(policy: RetentionPolicy, now: datetime) -> Target:
    return Target(policy, now - timedelta(days=policy.keep_days))


def preview(ws: Workspace, actor: Actor, now: datetime | None = None) -> list[PolicyPreview]:
    """What applying the enabled policies at ``now`` would remove, per policy."""
    require(actor, Action.MANAGE_RETENTION)
    now = now or utcnow()
    result = []
    with read_session(ws.engine) as session:
        for policy in policies_for(session, actor, enabled_only=True):
            target = target_for(policy, now)
            result.append(
                PolicyPreview(
                    policy.id or 0,
                    policy.domain,
                    policy.kind,
                    policy.entity,
                    policy.keep_days,
                    target.cutoff,
                    target.count(session),
                    target.examples(session),
                )
            )
    return result
