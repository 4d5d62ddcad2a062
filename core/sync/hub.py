"""The hub: every flow lands its records here, keyed by entity and external key.

Each field keeps the source that wrote its current value and that source's own
modification time. A write is decided per field: the newer modification time wins (last
write wins). When a value written by one source is overwritten by another, the losing
value goes to the audit trail; when the field is marked critical, the conflicting value
waits in the review queue for a person instead.

Fields the data dictionary marks PII are sealed together in ``pii_ciphertext`` (never in
``fields_json``); their provenance says so (``"pii": domain``) and the record keeps the
keyed digest of its e-mail to be found by. Values of PII fields never enter the audit
trail, and their conflicts wait in the review queue sealed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, select

from core import audit
from core.pii import MASK, PiiFields, conflict_aad, open_values, seal_text, seal_values
from core.vault import PageSealer, Vault
from db.models import FieldConflict, HubRecord, utcnow


@dataclass(slots=True)
class IncomingRecord:
    """One mapped record from a source, with the source's modification time."""

    key: str
    fields: dict[str, Any]
    modified_at: datetime
    # the keyed digest of the record's e-mail, when the gate already worked it out
    digest: str | None = None


@dataclass(frozen=True)
class PiiGuard:
    """How a write keeps personal data: the vault, the PII fields of the flow's
    destination, and the e-mail digest."""

    vault: Vault
    fields: PiiFields
    digest: Callable[[Any], str | None]

    def conflict_value(self, entity: str, key: str, name: str, text: str) -> str:
        return seal_text(self.vault, conflict_aad(entity, key, name), text)


@dataclass
class HubWrite:
    """What one page did to the hub."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    overwritten_fields: int = 0
    keys: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.inserted + self.updated


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _newer(incoming: datetime, current: str | None) -> bool:
    if not current:
        return True
    return incoming >= datetime.fromisoformat(current)


def upsert_records(
    session: Session,
    *,
    entity: str,
    source: str,
    records: list[IncomingRecord],
    run_id: int | None,
    critical_fields: frozenset[str] = frozenset(),
    actor: str = "worker",
    guard: PiiGuard | None = None,
) -> HubWrite:
    """Merge ``records`` into the hub inside the caller's transaction.

    Written with set-based statements (one SELECT, one multi-row INSERT, one executemany
    UPDATE per page), because this is the hot path of every sync.
    """
    result = HubWrite()
    if not records:
        return result
    existing = _existing(session, entity, list({r.key for r in records}), guard)
    sealer = guard.vault.sealer() if guard is not None and guard.fields.domains else None
    # field name → PII domain (or None), worked out once per page
    domains: dict[str, str | None] = {}
    fresh: dict[str, dict[str, Any]] = {}
    now = utcnow()
    for record in records:
        stamp = record.modified_at.isoformat()
        if record.key not in existing and record.key not in fresh:
            fresh[record.key] = {
                "digest": record.digest,
                "values": dict(record.fields),
                "provenance": {
                    name: {"source": source, "modified_at": stamp} for name in record.fields
                },
            }
            result.inserted += 1
            result.keys.append(record.key)
            continue
        held_row = existing.get(record.key) or fresh[record.key]
        values, provenance = held_row["values"], held_row["provenance"]
        changed, lost = {}, {}
        for name, value in record.fields.items():
            held = provenance.get(name, {})
            if values.get(name) == value:
                if held.get("source") == source or name not in provenance:
                    provenance[name] = {"source": source, "modified_at": stamp}
                continue
            if not _newer(record.modified_at, held.get("modified_at")):
                continue  # the hub's value is newer: the incoming one loses
            other_source = held.get("source") not in (None, source)
            personal = "pii" in held or (guard is not None and guard.fields.domain_of(name))
            if other_source and name in critical_fields:
                current, incoming = _text(values.get(name)), _text(value)
                if personal and guard is not None:
                    current = guard.conflict_value(entity, record.key, name, current)
                    incoming = guard.conflict_value(entity, record.key, name, incoming)
                session.add(
                    FieldConflict(
                        entity=entity,
                        external_key=record.key,
                        field=name,
                        current_value=current,
                        current_source=held.get("source", ""),
                        current_modified_at=datetime.fromisoformat(held["modified_at"])
                        if held.get("modified_at")
                        else None,
                        incoming_value=incoming,
                        incoming_source=source,
                        incoming_modified_at=record.modified_at,
                        run_id=run_id,
                    )
                )
                result.conflicts += 1
                continue
            if other_source and name in values:
                lost[name] = {
                    "value": MASK if personal else values.get(name),
                    "source": held.get("source"),
                }
            changed[name] = MASK if personal else value
            values[name] = value
            provenance[name] = {"source": source, "modified_at": stamp}
            if "pii" in held:
                provenance[name]["pii"] = held["pii"]
        if record.key in existing:
            held_row["changed"] = held_row["changed"] or bool(changed)
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
            result.keys.append(record.key)
        if lost:
            result.overwritten_fields += len(lost)
            audit.record(
                session,
                actor=actor,
                action="overwrite",
                entity=f"hub:{entity}",
                entity_id=record.key,
                summary=f"{source} overwrote {', '.join(sorted(lost))} (newer write wins)",
                before=lost,
                after={name: {"value": changed[name], "source": source} for name in lost},
            )
    if fresh:
        _insert_rows(
            session,
            [
                (entity, key, *_stored(entity, key, row, guard, sealer, domains), run_id)
                for key, row in fresh.items()
            ],
            now,
        )
    if existing:
        rows = []
        for key, row in existing.items():
            stored = _stored(entity, key, row, guard, sealer, domains)
            plain, provenance, nonce, ciphertext, key_id, digest = stored
            rows.append(
                {
                    "row_id": row["id"],
                    "new_fields": plain,
                    "new_provenance": provenance,
                    "new_nonce": nonce,
                    "new_ciphertext": ciphertext,
                    "new_key_id": key_id,
                    "new_digest": digest,
                    "new_run": run_id,
                    "new_updated": now,
                }
            )
        table = HubRecord.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                fields_json=bindparam("new_fields"),
                provenance_json=bindparam("new_provenance"),
                pii_nonce=bindparam("new_nonce"),
                pii_ciphertext=bindparam("new_ciphertext"),
                pii_key_id=bindparam("new_key_id"),
                email_digest=bindparam("new_digest"),
                # a write from no run (a web form) keeps the run that owns the record
                last_run_id=func.coalesce(bindparam("new_run"), table.c.last_run_id),
                updated_at=bindparam("new_updated"),
            ),
            rows,
        )
    return result


def _existing(
    session: Session, entity: str, keys: list[str], guard: PiiGuard | None
) -> dict[str, dict[str, Any]]:
    """The hub's records among ``keys``, their sealed fields opened."""
    table = HubRecord.__table__
    found = {}
    for row in session.execute(
        select(
            table.c.id,
            table.c.external_key,
            table.c.fields_json,
            table.c.provenance_json,
            table.c.pii_nonce,
            table.c.pii_ciphertext,
            table.c.pii_key_id,
        ).where(table.c.entity == entity, table.c.external_key.in_(keys))
    ):
        values = json.loads(row.fields_json)
        if row.pii_ciphertext:
            if guard is None:
                raise RuntimeError("a hub record with sealed fields needs the vault to merge")
            values.update(
                open_values(
                    guard.vault,
                    entity,
                    row.external_key,
                    row.pii_nonce,
                    row.pii_ciphertext,
                    row.pii_key_id,
                )
            )
        found[row.external_key] = {
            "id": row.id,
            "sealed": bool(row.pii_ciphertext),
            "values": values,
            "provenance": json.loads(row.provenance_json),
            "changed": False,
        }
    return found


def _stored(
    entity: str,
    key: str,
    row: dict[str, Any],
    guard: PiiGuard | None,
    sealer: PageSealer | None,
    domains: dict[str, str | None],
) -> tuple:
    """A record as it is stored: plain fields, provenance, the sealed PII fields and the
    e-mail digest."""
    values, provenance = row["values"], row["provenance"]
    if guard is None:
        plain = json.dumps(values, default=str, sort_keys=True)
        return plain, json.dumps(provenance), None, None, "", None
    digest = row.get("digest") or guard.digest(guard.fields.email_of(values))
    if not guard.fields.domains and not row.get("sealed"):
        # nothing personal to seal (the usual case for a flow whose fields are not PII)
        plain = json.dumps(values, default=str, sort_keys=True)
        return plain, json.dumps(provenance), None, None, "", digest
    personal = {}
    for name in values:
        held = provenance.setdefault(name, {})
        if name not in domains:
            domains[name] = guard.fields.domain_of(name)
        domain = held.get("pii") or domains[name]
        if domain:
            held["pii"] = domain
            personal[name] = values[name]
    plain = {name: v for name, v in values.items() if name not in personal}
    sealed = seal_values(sealer or guard.vault, entity, key, personal) if personal else None
    return (
        json.dumps(plain, default=str, sort_keys=True),
        json.dumps(provenance),
        sealed.nonce if sealed else None,
        sealed.ciphertext if sealed else None,
        sealed.key_id if sealed else "",
        digest,
    )


_INSERT_COLUMNS = (
    "entity",
    "external_key",
    "fields_json",
    "provenance_json",
    "pii_nonce",
    "pii_ciphertext",
    "pii_key_id",
    "email_digest",
    "last_run_id",
    "created_at",
    "updated_at",
)
# fixed column names and markers only; every value travels as a parameter
_INSERT_SQL = {
    marker: f"INSERT INTO hub_records ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join([marker] * len(_INSERT_COLUMNS))})"
    for marker in ("?", "%s")
}


def _insert_rows(session: Session, rows: list[tuple], now: datetime) -> None:
    """One executemany straight to the driver: a page's new records are the hot path of a
    first sync, and the ORM's per-value processing would double its cost."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    # SQLite keeps UTC times as text in SQLAlchemy's own layout; PostgreSQL takes the value
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now
    sql = _INSERT_SQL["?" if sqlite else "%s"]
    connection.exec_driver_sql(sql, [(*row, stamp, stamp) for row in rows])


def remove_unseen(session: Session, *, entity: str, source: str, run_id: int) -> int:
    """After a full refresh: drop the records this source wrote that the run did not see."""
    removed = 0
    for row in session.exec(
        select(HubRecord).where(HubRecord.entity == entity, HubRecord.last_run_id != run_id)
    ):
        provenance = json.loads(row.provenance_json)
        sources = {p.get("source") for p in provenance.values()}
        if sources == {source}:
            session.delete(row)
            removed += 1
    return removed


def hub_keys(session: Session, entity: str, source: str | None = None) -> set[str]:
    """The hub's keys of an entity; with ``source``, those the source wrote a field of."""
    statement = select(HubRecord.external_key, HubRecord.provenance_json).where(
        HubRecord.entity == entity
    )
    if source is None:
        return {key for key, _ in session.exec(statement)}
    return {
        key
        for key, provenance in session.exec(statement)
        if any(p.get("source") == source for p in json.loads(provenance).values())
    }
