"""The audit trail: who changed what, when, before and after — hash-chained.

Each entry's hash covers its own fields and the previous entry's hash, so altering,
removing or reordering an entry breaks the chain from that point on. ``record`` runs inside
the caller's transaction: the change and its audit entry commit together or not at all.
The single ``audit_head`` row is locked by each writer, so the chain never forks.

Retention may remove the oldest entries (``prune_chain``). The hash of the last entry removed
is kept as the chain's anchor (a second ``audit_head`` row, id 2) and named in the audited
prune entry, so verification starts from the anchor instead of the genesis hash and still
catches an altered entry, a removed one, and a re-pointed anchor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from db.models import AuditEntry, AuditHead, utcnow

GENESIS = "0" * 64
# the audit_head row holding the hash of the newest entry removed by retention
ANCHOR_ROW = 2
PRUNE_ACTION = "prune"
PRUNE_ENTITY = "audit_entries"


def _canonical(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's content and its predecessor's hash."""
    parts = [
        entry.prev_hash,
        entry.at.isoformat(),
        entry.actor,
        entry.action,
        entry.entity,
        entry.entity_id,
        entry.summary,
        entry.before_json,
        entry.after_json,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    statement = select(AuditHead).where(AuditHead.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    head = session.exec(statement).one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = "",
    summary: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction. Never pass secrets in before/after."""
    head = _lock_head(session)
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id="" if entity_id is None else str(entity_id),
        summary=summary,
        before_json=_canonical(before),
        after_json=_canonical(after),
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    head.last_hash = entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, for a compact update entry."""
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain from its start (genesis or anchor) to the head."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    # the newest entry retention removed, when the chain starts from an anchor
    pruned_through_id: int | None = None


def _anchor(session: Session) -> str | None:
    row = session.get(AuditHead, ANCHOR_ROW)
    return row.last_hash if row is not None else None


def _newest_prune(session: Session) -> dict[str, Any] | None:
    """What the newest audited prune said it removed, or None if no prune is left."""
    statement = (
        select(AuditEntry.after_json)
        .where(AuditEntry.action == PRUNE_ACTION, AuditEntry.entity == PRUNE_ENTITY)
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    )
    after = session.exec(statement).first()
    return json.loads(after) if after else None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash; the first mismatch says where tampering began.

    After a prune the walk starts from the anchor, and the anchor must be the one the
    newest prune entry (itself inside the chain) recorded.
    """
    anchor = _anchor(session)
    pruned = _newest_prune(session) if anchor is not None else None
    through = pruned.get("through_id") if pruned else None
    if anchor is not None and (pruned is None or pruned.get("anchor_hash") != anchor):
        return ChainReport(
            False, 0, None, "the record of removed old entries does not match the chain's start"
        )
    previous = anchor or GENESIS
    checked = 0
    statement = select(AuditEntry).order_by(col(AuditEntry.id))
    for entry in session.exec(statement).yield_per(1000):
        if entry.prev_hash != previous:
            return ChainReport(
                False, checked, entry.id, "an entry before it was removed or altered", through
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(False, checked, entry.id, "its content was altered", through)
        previous = entry.hash
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != previous:
        return ChainReport(False, checked, None, "the newest entries were removed", through)
    return ChainReport(True, checked, pruned_through_id=through)


def prunable(session: Session, before: datetime) -> SelectOfScalar[int]:
    """The oldest entries written before ``before``, as an unbroken run from the chain's
    start (an older entry behind a newer one, from a skewed clock, waits for the next prune),
    oldest first."""
    first_kept = session.exec(
        select(func.min(AuditEntry.id)).where(col(AuditEntry.at) >= before)
    ).one()
    statement = select(AuditEntry.id).order_by(col(AuditEntry.id))
    if first_kept is not None:
        statement = statement.where(col(AuditEntry.id) < first_kept)
    return statement


def prune_chain(session: Session, *, actor: str, before: datetime, limit: int = 5000) -> int:
    """Remove up to ``limit`` of the oldest entries written before ``before``, in the
    caller's transaction, and keep the rest verifiable.

    The hash of the last entry removed becomes the anchor, and the prune is itself an
    entry naming it; returns how many entries went (0 writes nothing).
    """
    _lock_head(session)
    ids = list(session.exec(prunable(session, before).limit(limit)))
    if not ids:
        return 0
    last = session.get(AuditEntry, ids[-1])
    assert last is not None
    anchor_hash, through = last.hash, last.id
    session.execute(delete(AuditEntry).where(col(AuditEntry.id) <= through))
    anchor = session.get(AuditHead, ANCHOR_ROW) or AuditHead(id=ANCHOR_ROW, last_hash=GENESIS)
    anchor.last_hash = anchor_hash
    session.add(anchor)
    session.flush()
    record(
        session,
        actor=actor,
        action=PRUNE_ACTION,
        entity=PRUNE_ENTITY,
        summary=f"Removed the {len(ids)} oldest audit entries (through #{through}), "
        f"written before {before:%Y-%m-%d %H:%M} UTC",
        after={"through_id": through, "anchor_hash": anchor_hash, "removed": len(ids)},
    )
    return len(ids)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    entity: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


def list_entries(session: Session, filters: AuditFilter, limit: int = 500) -> list[AuditEntry]:
    """The newest entries first, filtered."""
    statement = select(AuditEntry)
    if filters.actor:
        statement = statement.where(AuditEntry.actor == filters.actor)
    if filters.entity:
        statement = statement.where(AuditEntry.entity == filters.entity)
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.since:
        statement = statement.where(AuditEntry.at >= filters.since)
    if filters.until:
        statement = statement.where(AuditEntry.at <= filters.until)
    if filters.text:
        statement = statement.where(col(AuditEntry.summary).icontains(filters.text))
    statement = statement.order_by(col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(statement))


def distinct_values(session: Session) -> dict[str, list[str]]:
    """The actors, entities and actions present, for the filter widgets."""
    result = {}
    for name, column in (
        ("actor", AuditEntry.actor),
        ("entity", AuditEntry.entity),
        ("action", AuditEntry.action),
    ):
        result[name] = sorted(session.exec(select(column).distinct()))
    return result
