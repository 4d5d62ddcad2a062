"""A dictionary field's history: every change kept as a version (who, when, before,
after) that can be reverted. A revert is itself an edit, checked like one, and needs the
right to edit the dictionary in the field's domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.dictionary_rows import (
    COLUMNS,
    DictionaryInputError,
    Draft,
    check_draft,
    duplicate_problems,
    systems_by_name,
)
from core.dictionary_saving import apply_drafts, audit_save, keep_version, refusals, refuse
from core.errors import NotFound
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField, DictionaryFieldVersion
from db.engine import read_session


@dataclass(frozen=True)
class Change:
    """One version of a field, as its history shows it."""

    id: int
    field_id: int
    version: int
    at: datetime
    actor: str
    action: str
    field_name: str
    system_name: str
    # (column label, old value, new value) for each value that changed
    changes: tuple[tuple[str, Any, Any], ...]
    reverts_version_id: int | None

    @property
    def revertible(self) -> bool:
        return self.action != "delete" or bool(self.changes)


def _change(v: DictionaryFieldVersion) -> Change:
    before = json.loads(v.before_json) if v.before_json else {}
    after = json.loads(v.after_json) if v.after_json else {}
    keys = [k for k in COLUMNS if before.get(k) != after.get(k)]
    return Change(
        id=v.id,
        field_id=v.field_id,
        version=v.version,
        at=v.at,
        actor=v.actor,
        action=v.action,
        field_name=v.field_name,
        system_name=v.system_name,
        changes=tuple((COLUMNS[k], before.get(k), after.get(k)) for k in keys),
        reverts_version_id=v.reverts_version_id,
    )


def field_history(ws: Workspace, actor: Actor, field_id: int) -> list[Change]:
    """A field's versions, newest first (they outlive the field)."""
    require(actor, Action.VIEW_DICTIONARY)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(DictionaryFieldVersion)
            .where(DictionaryFieldVersion.field_id == field_id)
            .order_by(col(DictionaryFieldVersion.id).desc())
        ).all()
    return [_change(v) for v in rows]


def recent_changes(ws: Workspace, actor: Actor, limit: int = 50) -> list[Change]:
    """The newest changes across the dictionary, deleted fields included."""
    require(actor, Action.VIEW_DICTIONARY)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(DictionaryFieldVersion)
            .order_by(col(DictionaryFieldVersion.id).desc())
            .limit(limit)
        ).all()
    return [_change(v) for v in rows]


def revert_change(ws: Workspace, actor: Actor, version_id: int) -> str:
    """Undo one change: put back the values it replaced (a new version, itself revertible).

    Reverting a creation deletes the field; reverting a deletion brings the field back.
    The result is checked like any edit. Returns what was done, in words.
    """
    require(actor, Action.EDIT_DICTIONARY)
    with transaction(ws) as session:
        version = session.get(DictionaryFieldVersion, version_id)
        if version is None:
            raise NotFound(f"Change #{version_id} no longer exists.")
        before = json.loads(version.before_json) if version.before_json else None
        after = json.loads(version.after_json) if version.after_json else None
        row = session.get(DictionaryField, version.field_id)
        label = f"{version.system_name}.{version.field_name}"
        if before is None:  # a creation: undo by deleting
            if row is None:
                raise NotFound(f"{label} is already deleted.")
            apply_drafts(session, actor, [], [("This change", row.id)])
            return f"Reverted the creation of {label}: the field is deleted."
        if row is None:  # a deletion: bring the field back, under its old id
            values = {k: before.get(k) for k in COLUMNS}
            draft = Draft("This change", values)
            _restore_deleted(session, actor, draft, version)
            return f"Restored {label}."
        if after is None:
            raise NotFound(f"{label} exists again; nothing to restore.")
        values = {k: before[k] for k in COLUMNS if before.get(k) != after.get(k)}
        draft = Draft("This change", values, row.id)
        result = apply_drafts(session, actor, [draft], [], action="revert")
        if result.updated:
            newest = session.exec(
                select(DictionaryFieldVersion)
                .where(DictionaryFieldVersion.field_id == row.id)
                .order_by(col(DictionaryFieldVersion.id).desc())
            ).first()
            if newest is not None:
                newest.reverts_version_id = version.id
                session.add(newest)
        return f"Reverted version {version.version} of {label}."


def _restore_deleted(
    session: Session, actor: Actor, draft: Draft, version: DictionaryFieldVersion
) -> None:
    systems = systems_by_name(session)
    values, problems = check_draft(draft, systems)
    refuse(actor, refusals(actor, [(draft.row, values["domain"])]))
    kept = [(r.system_id, r.name) for r in session.exec(select(DictionaryField))]
    problems += duplicate_problems([(draft.row, None, values)], kept)
    if problems:
        raise DictionaryInputError(problems)
    row = DictionaryField(
        **{k: v for k, v in values.items() if k != "system"}, version=version.version + 1
    )
    if session.get(DictionaryField, version.field_id) is None:
        row.id = version.field_id
    session.add(row)
    session.flush()
    audit_save(
        session,
        actor,
        [keep_version(session, actor, "revert", row, None, values, reverts=version.id)],
    )
