"""Saving the dictionary: a whole edit checked against itself and the store, then written
all at once with a version per field, or refused with nothing written.

Every field belongs to a domain; a save may only touch fields of the domains where the
actor may edit the dictionary. A field moved to another domain counts in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from core import audit
from core.dictionary_mapping import flows_using
from core.dictionary_rows import (
    COLUMNS,
    CellProblem,
    DictionaryInputError,
    Draft,
    cell_text,
    check_draft,
    duplicate_problems,
    public,
    systems_by_name,
)
from core.errors import PermissionDenied
from core.permissions import DOMAINS, MINIMUM_ROLE, Action, Actor, require
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField, DictionaryFieldVersion
from db.models import utcnow

_ATTR_BY_LABEL = {label.lower(): attr for attr, label in COLUMNS.items()}


@dataclass
class DictionaryEdit:
    """A whole edit of the grid: changed cells by field id, new rows, deleted field ids.

    ``rows`` names each changed or deleted field's row as the person saw it ("Row 3").
    """

    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    rows: dict[int, str] = field(default_factory=dict)
    added_rows: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.updates or self.added or self.deleted)


@dataclass(frozen=True)
class SaveResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return f"{self.created} added, {self.updated} changed, {self.deleted} deleted"


def _by_label(values: Mapping[str, Any]) -> dict[str, Any]:
    return {_ATTR_BY_LABEL.get(str(k).lower(), str(k)): v for k, v in values.items()}


def edit_from_editor(field_ids: Sequence[int], state: Mapping[str, Any]) -> DictionaryEdit:
    """Translate ``st.data_editor``'s state (rows by position, columns by label) into an edit.

    ``field_ids`` are the ids of the rows in the order the grid showed them.
    """
    edit = DictionaryEdit()
    for position, cells in (state.get("edited_rows") or {}).items():
        index = int(position)
        if 0 <= index < len(field_ids):
            edit.updates[field_ids[index]] = _by_label(cells)
            edit.rows[field_ids[index]] = f"Row {index + 1}"
    for number, cells in enumerate(state.get("added_rows") or [], start=1):
        values = _by_label(cells)
        if any(cell_text(v) and v is not False for v in values.values()):
            edit.added.append(values)
            edit.added_rows.append(f"New row {number}")
    for position in state.get("deleted_rows") or []:
        index = int(position)
        if 0 <= index < len(field_ids):
            edit.deleted.append(field_ids[index])
            edit.rows[field_ids[index]] = f"Row {index + 1}"
            edit.updates.pop(field_ids[index], None)
    return edit


# a save touching more fields than this is one audit entry (every field's before and
# after in it) instead of one per field; the versions stay one per field either way
BULK_AUDIT = 100


def refusals(actor: Actor, touches: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (row, domain) pairs among ``touches`` whose domain the actor may not edit.

    Domains that are not real ones are left out: validation names them as bad cells.
    """
    return [
        (row, domain)
        for row, domain in dict.fromkeys(touches)
        if domain in DOMAINS and not actor.may(Action.EDIT_DICTIONARY, domain)
    ]


def refuse(actor: Actor, denied: list[tuple[str, str]]) -> None:
    """Raise PermissionDenied naming every row and domain the actor may not edit."""
    if not denied:
        return
    rows_by_domain: dict[str, list[str]] = {}
    for row, domain in denied:
        rows_by_domain.setdefault(domain, [])
        if row not in rows_by_domain[domain]:
            rows_by_domain[domain].append(row)
    parts = [
        f"{', '.join(rows)} in {domain} (your role there: {actor.role_in(domain).label})"
        for domain, rows in rows_by_domain.items()
    ]
    domains = " and ".join(rows_by_domain)
    raise PermissionDenied(
        f"You may not {Action.EDIT_DICTIONARY} for {'; '.join(parts)}. Nothing was saved.",
        fix=f"Leave those rows out, or ask an admin or someone with the "
        f"{MINIMUM_ROLE[Action.EDIT_DICTIONARY].label} role in {domains} to make the change.",
    )


def _touches(
    finals: list[tuple[str, int | None, dict]],
    current: Mapping[int, DictionaryField],
    deleted: list[tuple[str, int]],
) -> list[tuple[str, str]]:
    """Every (row, domain) a save writes in: a changed field's old and new domain, a new
    field's domain, a deleted field's domain. A row left as it was writes nothing."""
    touches = []
    for label, field_id, values in finals:
        if field_id is not None:
            row = current[field_id]
            if _unchanged(public(row, values["system"]), values):
                continue
            touches.append((label, row.domain))
        touches.append((label, values["domain"]))
    touches += [(label, current[i].domain) for label, i in deleted if i in current]
    return touches


def _unchanged(before: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return all(before.get(k) == values.get(k) for k in values)


def keep_version(
    session: Session,
    actor: Actor,
    action: str,
    row: DictionaryField,
    before: dict | None,
    after: dict | None,
    reverts: int | None = None,
) -> dict[str, Any]:
    """Keep the change as a version of the field; returns its audit entry, to be recorded."""
    system_name = (after or before or {}).get("system", "")
    session.add(
        DictionaryFieldVersion(
            field_id=row.id,
            version=row.version,
            actor=actor.username,
            action=action,
            field_name=row.name,
            system_name=system_name,
            before_json=json.dumps(before, default=str) if before is not None else "",
            after_json=json.dumps(after, default=str) if after is not None else "",
            reverts_version_id=reverts,
        )
    )
    if before is not None and after is not None:
        before, after = audit.changes(before, after)
    verb = {"create": "Added", "delete": "Deleted", "revert": "Reverted"}.get(action, "Changed")
    return {
        "action": "delete" if after is None else ("create" if before is None else "update"),
        "entity_id": row.id,
        "label": f"{system_name}.{row.name}",
        "summary": f"{verb} dictionary field {system_name}.{row.name}",
        "before": before,
        "after": after,
    }


def audit_save(session: Session, actor: Actor, entries: list[dict[str, Any]]) -> None:
    """The audit trail of a save: one entry per field, or one for a bulk save."""
    if len(entries) <= BULK_AUDIT:
        for e in entries:
            audit.record(
                session,
                actor=actor.username,
                action=e["action"],
                entity="dictionary_field",
                entity_id=e["entity_id"],
                summary=e["summary"],
                before=e["before"],
                after=e["after"],
            )
        return
    counts = {a: sum(e["action"] == a for e in entries) for a in ("create", "update", "delete")}
    audit.record(
        session,
        actor=actor.username,
        action="update",
        entity="dictionary_field",
        entity_id="",
        summary=f"Saved {len(entries)} dictionary fields ({counts['create']} added, "
        f"{counts['update']} changed, {counts['delete']} deleted)",
        before={e["label"]: e["before"] for e in entries if e["before"] is not None},
        after={e["label"]: e["after"] for e in entries if e["after"] is not None},
    )


def _store(row: DictionaryField, values: Mapping[str, Any]) -> None:
    for attr in COLUMNS:
        if attr != "system":
            setattr(row, attr, values[attr])
    row.system_id = values["system_id"]
    row.updated_at = utcnow()


def apply_drafts(
    session: Session,
    actor: Actor,
    changed: list[Draft],
    deleted: list[tuple[str, int]],
    action: str = "update",
) -> SaveResult:
    """Check every draft against every other and the store, then write all or raise.

    ``changed`` drafts with a ``field_id`` update that field (their values complete the
    stored ones); drafts without one are new fields. Used by the grid and the CSV import.
    """
    systems = systems_by_name(session)
    names_by_id = {s.id: s.name for s in systems.values()}
    touched = {d.field_id for d in changed if d.field_id} | {i for _, i in deleted}
    current: dict[int, DictionaryField] = {}
    kept: list[tuple[int, str]] = []
    for row in session.exec(select(DictionaryField)):
        if row.id in touched:
            current[row.id] = row
        else:
            kept.append((row.system_id, row.name))
    problems: list[CellProblem] = []
    finals: list[tuple[str, int | None, dict]] = []
    for draft in changed:
        if draft.field_id is not None:
            row = current.get(draft.field_id)
            if row is None:
                problems.append(
                    CellProblem(draft.row, "Name", "was deleted by someone else; reload.")
                )
                continue
            draft.values = {**public(row, names_by_id.get(row.system_id, "")), **draft.values}
        values, wrong = check_draft(draft, systems)
        problems += wrong
        finals.append((draft.row, draft.field_id, values))
    refuse(actor, refusals(actor, _touches(finals, current, deleted)))
    problems += duplicate_problems(finals, kept)
    for label, field_id in deleted:
        row = current.get(field_id)
        if row is None:
            continue
        flows = flows_using(session, row.system_id, row.name)
        if flows:
            problems.append(
                CellProblem(
                    label,
                    "Name",
                    f"{row.name} cannot be deleted: the flows {', '.join(flows)} map it; "
                    "remove it from their field mappings first.",
                )
            )
    if problems:
        raise DictionaryInputError(problems)

    # new fields are inserted together (one flush gives them their ids), then versioned
    new_rows = [
        (DictionaryField(**{k: v for k, v in values.items() if k != "system"}), values)
        for _label, field_id, values in finals
        if field_id is None
    ]
    session.add_all([row for row, _ in new_rows])
    session.flush()
    entries = [
        keep_version(session, actor, "create", row, None, values) for row, values in new_rows
    ]
    created, updated = len(new_rows), 0
    for _label, field_id, values in finals:
        if field_id is None:
            continue
        row = current[field_id]
        before = public(row, names_by_id.get(row.system_id, ""))
        if _unchanged(before, values):
            continue
        _store(row, values)
        row.version += 1
        session.add(row)
        entries.append(keep_version(session, actor, action, row, before, values))
        updated += 1
    for _label, field_id in deleted:
        row = current.get(field_id)
        if row is None:
            continue
        before = public(row, names_by_id.get(row.system_id, ""))
        row.version += 1
        entries.append(keep_version(session, actor, "delete", row, before, None))
        session.delete(row)
    audit_save(session, actor, entries)
    session.flush()
    return SaveResult(created, updated, len([i for _, i in deleted if i in current]))


def save_edit(ws: Workspace, actor: Actor, edit: DictionaryEdit) -> SaveResult:
    """Save a whole grid edit: all of it valid and written, or nothing written. Rows in a
    domain where the actor may not edit the dictionary refuse the whole save."""
    require(actor, Action.EDIT_DICTIONARY)
    if edit.empty:
        return SaveResult()
    drafts = [
        Draft(edit.rows.get(field_id, f"Field #{field_id}"), dict(values), field_id)
        for field_id, values in edit.updates.items()
    ]
    drafts += [
        Draft(edit.added_rows[i] if i < len(edit.added_rows) else f"New row {i + 1}", dict(v))
        for i, v in enumerate(edit.added)
    ]
    deleted = [(edit.rows.get(i, f"Field #{i}"), i) for i in edit.deleted]
    with transaction(ws) as session:
        return apply_drafts(session, actor, drafts, deleted)
