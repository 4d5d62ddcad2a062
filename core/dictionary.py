"""The data dictionary: one place that says what every field of every system is.

A field has a name, the system that holds it, a data type, a description and an example,
and rules (allowed values or a pattern; required, PII, critical). Marketing ops edit the
dictionary as a grid; every save is validated whole before anything is written, and every
change to a field is kept as a version (who, when, before, after) that can be reverted.

Two pure functions serve the flows:

- ``validate_value(spec, value)`` says why a value does not fit its field (or ``None``);
  the sync engine rejects such a record with that reason.
- ``mapping_warnings(ws, source_id, destination_id, mappings)`` warns about a mapping
  between fields of different types, or personal data sent to a system not cleared for it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.connectors.registry import DOMAINS
from core.errors import FieldProblem, InputError, NotFound
from core.field_types import (
    DATA_TYPES,
    FALSE_WORDS,
    TRUE_WORDS,
    TYPE_BY_LOWER,
    FieldSpec,
    split_values,
    validate_value,
)
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField, DictionaryFieldVersion
from db.engine import read_session
from db.models import FieldMapping, Integration, System, utcnow

# attribute → the label a person sees in the grid, the history and the CSV header
COLUMNS = {
    "name": "Name",
    "system": "System",
    "data_type": "Type",
    "description": "Description",
    "example": "Example",
    "allowed_values": "Allowed values",
    "pattern": "Pattern",
    "required": "Required",
    "pii": "PII",
    "critical": "Critical",
    "owner": "Owner",
    "domain": "Domain",
}
FLAGS = ("required", "pii", "critical")
_ATTR_BY_LABEL = {label.lower(): attr for attr, label in COLUMNS.items()}

# types a value may move into without losing meaning (source type → destination types)
_COMPATIBLE = {
    "Integer": {"Decimal", "Currency", "String"},
    "Decimal": {"Currency", "String"},
    "Currency": {"Decimal", "String"},
    "Date": {"DateTime", "String"},
    "Email": {"String"},
    "URL": {"String"},
    "Phone": {"String"},
    "Enum": {"String"},
    "Boolean": {"String"},
    "DateTime": {"String"},
}

NAME_MAX = 200
_NAME_CHARS = re.compile(r"[\w.\-]+")


# ---------------------------------------------------------------- stored rules


def spec_of(row: DictionaryField) -> FieldSpec:
    """The rules of a stored field."""
    return FieldSpec(
        name=row.name,
        data_type=row.data_type,
        allowed_values=split_values(row.allowed_values),
        pattern=row.pattern,
        required=row.required,
        pii=row.pii,
        critical=row.critical,
    )


# ---------------------------------------------------------------- rows as people type them


@dataclass(frozen=True)
class CellProblem:
    """One thing wrong with one cell: the row as the person sees it, the column, why."""

    row: str
    column: str
    message: str


class DictionaryInputError(InputError):
    """An edit or import that cannot be stored; nothing was written. One problem per cell."""

    def __init__(self, cells: list[CellProblem]) -> None:
        self.cells = cells
        super().__init__([FieldProblem(f"{c.row} · {c.column}", c.message) for c in cells])


def normalise_name(raw: Any) -> str:
    """A field name as stored: NFC unicode, surrounding spaces trimmed."""
    return unicodedata.normalize("NFC", str(raw or "")).strip()


def name_problem(name: str) -> str | None:
    """Why a (normalised) field name cannot be used, or ``None``.

    Names are the keys the systems use in their records, so they may hold letters of any
    script, digits, ``_``, ``-`` and ``.``; a space, an invisible or another character is
    refused with the name to write instead.
    """
    if not name:
        return "is empty; write the field's name as the system knows it (e.g. lead_score)."
    if len(name) > NAME_MAX:
        return f"is longer than {NAME_MAX} characters; shorten it."
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name):
        return "contains an invisible or control character; retype the name."
    if any(c.isspace() for c in name):
        suggestion = re.sub(r"\s+", "_", name)
        return f"'{name}' contains a space; field names are keys, write {suggestion} instead."
    if not _NAME_CHARS.fullmatch(name):
        bad = next(c for c in name if not _NAME_CHARS.fullmatch(c))
        return f"'{name}' contains '{bad}'; use letters, digits, _, - or . only."
    return None


def parse_flag(value: Any) -> bool | None:
    """A yes/no cell: ``True``/``False``, or ``None`` when it is neither."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_WORDS or text in ("x", "✓"):
        return True
    if text in FALSE_WORDS or text in ("", "nan", "none"):
        return False
    return None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


@dataclass
class Draft:
    """A field as a person left it in the grid or the CSV, before it is checked."""

    row: str
    values: dict[str, Any]
    field_id: int | None = None


def public(row: DictionaryField, system_name: str) -> dict[str, Any]:
    """A stored field as plain values by attribute (the shape of a version)."""
    return {
        "name": row.name,
        "system": system_name,
        "system_id": row.system_id,
        "data_type": row.data_type,
        "description": row.description,
        "example": row.example,
        "allowed_values": row.allowed_values,
        "pattern": row.pattern,
        "required": row.required,
        "pii": row.pii,
        "critical": row.critical,
        "owner": row.owner,
        "domain": row.domain,
    }


def check_draft(draft: Draft, systems: Mapping[str, System]) -> tuple[dict, list[CellProblem]]:
    """The draft's values made storable, and what is wrong with them."""
    v, problems = draft.values, []

    def bad(attr: str, message: str) -> None:
        problems.append(CellProblem(draft.row, COLUMNS[attr], message))

    out: dict[str, Any] = {"name": normalise_name(v.get("name"))}
    reason = name_problem(out["name"])
    if reason:
        bad("name", reason)
    system_name = _text(v.get("system"))
    system = systems.get(system_name.lower())
    if system is None:
        bad(
            "system",
            (f"'{system_name}' is not a registered system" if system_name else "is empty")
            + "; pick one of: "
            + (", ".join(sorted(s.name for s in systems.values())) or "(none yet)")
            + " (add new systems on the Systems page).",
        )
    out["system_id"] = system.id if system else None
    out["system"] = system.name if system else system_name
    type_text = _text(v.get("data_type"))
    out["data_type"] = TYPE_BY_LOWER.get(type_text.lower(), type_text)
    if out["data_type"] not in DATA_TYPES:
        bad(
            "data_type",
            (f"'{type_text}' is not a known type" if type_text else "is empty")
            + f"; use one of: {', '.join(DATA_TYPES)}.",
        )
    for attr in ("description", "example", "allowed_values", "pattern", "owner"):
        out[attr] = _text(v.get(attr))
    for attr, limit in (("example", 500), ("pattern", 500), ("owner", 120)):
        if len(out[attr]) > limit:
            bad(attr, f"is longer than {limit} characters; shorten it.")
    out["allowed_values"] = ", ".join(split_values(out["allowed_values"]))
    for attr in FLAGS:
        flag = parse_flag(v.get(attr))
        if flag is None:
            bad(attr, f"'{_text(v.get(attr))}' is not yes or no; write yes or no.")
        out[attr] = bool(flag)
    out["domain"] = _text(v.get("domain")) or (system.domain if system else "Marketing")
    if out["domain"] not in DOMAINS:
        bad("domain", f"'{out['domain']}' is not a domain; use one of: {', '.join(DOMAINS)}.")
    if out["data_type"] == "Enum" and not out["allowed_values"]:
        bad("allowed_values", "is empty; an Enum lists its values, comma-separated (a, b, c).")
    if out["data_type"] != "Enum" and out["allowed_values"] and out["data_type"] in DATA_TYPES:
        bad("allowed_values", "is only for Enum fields; clear it or make the type Enum.")
    pattern_ok = True
    if out["pattern"]:
        try:
            re.compile(out["pattern"])
        except re.error as exc:
            pattern_ok = False
            bad("pattern", f"is not a valid regular expression ({exc}); fix or clear it.")
    if out["example"] and out["data_type"] in DATA_TYPES and pattern_ok:
        spec = FieldSpec(
            out["name"],
            out["data_type"],
            split_values(out["allowed_values"]),
            out["pattern"],
        )
        reason = validate_value(spec, out["example"])
        if reason:
            bad("example", f"{reason}; give an example that fits the type.")
    return out, problems


def duplicate_problems(
    finals: list[tuple[str, int | None, dict]], kept: Iterable[tuple[int, str]]
) -> list[CellProblem]:
    """Two fields with one name in one system: the later rows are refused."""
    seen: dict[tuple[int, str], str] = {
        (system_id, name.casefold()): "an existing field" for system_id, name in kept
    }
    problems = []
    for row, _field_id, values in finals:
        if values.get("system_id") is None or not values["name"]:
            continue
        key = (values["system_id"], values["name"].casefold())
        if key in seen:
            problems.append(
                CellProblem(
                    row,
                    COLUMNS["name"],
                    f"'{values['name']}' is already a field of {values['system']} "
                    f"({seen[key]}); names must be unique within a system.",
                )
            )
        else:
            seen[key] = row
    return problems


# ---------------------------------------------------------------- flows that use a field


def path_matches(path: str, name: str) -> bool:
    """Whether a mapping's field path names the field: ``properties.email`` names ``email``."""
    path, name = path.strip().casefold(), name.casefold()
    return path == name or path.rsplit(".", 1)[-1] == name


def flows_using(session: Session, system_id: int, name: str) -> list[str]:
    """The flows whose mappings read or write the field ``name`` of ``system_id``."""
    rows = session.exec(
        select(Integration, FieldMapping)
        .join(FieldMapping, col(FieldMapping.integration_id) == col(Integration.id))
        .where(
            (Integration.source_system_id == system_id)
            | (Integration.destination_system_id == system_id)
        )
    ).all()
    names = []
    for flow, mapping in rows:
        reads = flow.source_system_id == system_id and path_matches(mapping.source_field, name)
        writes = flow.destination_system_id == system_id and path_matches(
            mapping.destination_field, name
        )
        if (reads or writes) and flow.name not in names:
            names.append(flow.name)
    return names


# ---------------------------------------------------------------- saving, versioned


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
        if any(_text(v) and v is not False for v in values.values()):
            edit.added.append(values)
            edit.added_rows.append(f"New row {number}")
    for position in state.get("deleted_rows") or []:
        index = int(position)
        if 0 <= index < len(field_ids):
            edit.deleted.append(field_ids[index])
            edit.rows[field_ids[index]] = f"Row {index + 1}"
            edit.updates.pop(field_ids[index], None)
    return edit


def systems_by_name(session: Session) -> dict[str, System]:
    return {s.name.lower(): s for s in session.exec(select(System))}


# a save touching more fields than this is one audit entry (every field's before and
# after in it) instead of one per field; the versions stay one per field either way
BULK_AUDIT = 100


def _version(
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


def _audit(session: Session, actor: Actor, entries: list[dict[str, Any]]) -> None:
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
    entries = [_version(session, actor, "create", row, None, values) for row, values in new_rows]
    created, updated = len(new_rows), 0
    for _label, field_id, values in finals:
        if field_id is None:
            continue
        row = current[field_id]
        before = public(row, names_by_id.get(row.system_id, ""))
        if all(before.get(k) == values.get(k) for k in values):
            continue
        _store(row, values)
        row.version += 1
        session.add(row)
        entries.append(_version(session, actor, action, row, before, values))
        updated += 1
    for _label, field_id in deleted:
        row = current.get(field_id)
        if row is None:
            continue
        before = public(row, names_by_id.get(row.system_id, ""))
        row.version += 1
        entries.append(_version(session, actor, "delete", row, before, None))
        session.delete(row)
    _audit(session, actor, entries)
    session.flush()
    return SaveResult(created, updated, len([i for _, i in deleted if i in current]))


def save_edit(ws: Workspace, actor: Actor, edit: DictionaryEdit) -> SaveResult:
    """Save a whole grid edit: all of it valid and written, or nothing written."""
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


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class FieldRow:
    """A field as the grid, the lineage and the CSV export show it."""

    id: int
    system_id: int
    version: int
    values: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.values['system']}.{self.values['name']}"


def list_fields(ws: Workspace, actor: Actor) -> list[FieldRow]:
    """Every field, by system then name."""
    require(actor, Action.VIEW_DICTIONARY)
    with read_session(ws.engine) as session:
        names = {s.id: s.name for s in session.exec(select(System))}
        rows = session.exec(select(DictionaryField)).all()
    fields = [
        FieldRow(r.id, r.system_id, r.version, public(r, names.get(r.system_id, "?"))) for r in rows
    ]
    fields.sort(key=lambda f: (f.values["system"].casefold(), f.values["name"].casefold()))
    return fields


def field_specs(ws: Workspace, system_id: int) -> dict[str, FieldSpec]:
    """A system's fields by casefolded name: what the sync engine validates values against."""
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(DictionaryField).where(DictionaryField.system_id == system_id)
        ).all()
    return {r.name.casefold(): spec_of(r) for r in rows}


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
    _audit(
        session, actor, [_version(session, actor, "revert", row, None, values, reverts=version.id)]
    )


# ---------------------------------------------------------------- mapping checks


def _mapping_pairs(mappings: Iterable[Any]) -> list[tuple[str, str]]:
    pairs = []
    for m in mappings:
        if isinstance(m, Mapping):
            pairs.append((str(m.get("source_field", "")), str(m.get("destination_field", ""))))
        elif isinstance(m, tuple | list):
            pairs.append((str(m[0]), str(m[1])))
        else:
            pairs.append((str(m.source_field), str(m.destination_field)))
    return pairs


def _lookup(fields: Sequence[DictionaryField], path: str) -> DictionaryField | None:
    exact = [f for f in fields if f.name.casefold() == path.strip().casefold()]
    return (exact or [f for f in fields if path_matches(path, f.name)] or [None])[0]


def mapping_warnings(
    ws: Workspace, source_system_id: int, destination_system_id: int, mappings: Iterable[Any]
) -> list[str]:
    """Warnings about a flow's field mappings, judged against the dictionary.

    ``mappings`` are ``FieldMapping`` rows, ``(source_field, destination_field)`` pairs or
    dicts with those keys. Warns when the two fields' types differ (and the source's type
    does not widen safely into the destination's), and when a field marked PII goes to a
    system not cleared for personal data. Fields not in the dictionary are not judged.
    """
    pairs = _mapping_pairs(mappings)
    with read_session(ws.engine) as session:
        source = session.get(System, source_system_id)
        destination = session.get(System, destination_system_id)
        ids = [source_system_id, destination_system_id]
        rows = session.exec(
            select(DictionaryField).where(col(DictionaryField.system_id).in_(ids))
        ).all()
    if source is None or destination is None:
        return []
    in_source = [r for r in rows if r.system_id == source_system_id]
    in_destination = [r for r in rows if r.system_id == destination_system_id]
    warnings = []
    for source_path, destination_path in pairs:
        a, b = _lookup(in_source, source_path), _lookup(in_destination, destination_path)
        arrow = f"{source.name}.{source_path} → {destination.name}.{destination_path}"
        if (
            a
            and b
            and a.data_type != b.data_type
            and b.data_type not in _COMPATIBLE.get(a.data_type, set())
        ):
            warnings.append(
                f"{arrow}: a {a.data_type} goes into a {b.data_type} field; values that do "
                f"not fit {b.data_type} will be rejected. Map it to a {a.data_type} field "
                "or change one of the types in the data dictionary."
            )
        if ((a and a.pii) or (b and b.pii)) and not destination.pii_cleared:
            warnings.append(
                f"{arrow}: this is personal data (PII) and {destination.name} is not cleared "
                f"to receive it. Mark {destination.name} as cleared on the Systems page if "
                "it may hold personal data, or remove this mapping."
            )
    return warnings


# ---------------------------------------------------------------- the demo's fields

DEMO_FIELDS = (
    ("email", "CRM", "String", "Primary email", "john@co.com", {"pii": True, "required": True}),
    ("lead_score", "MAP", "Integer", "Engagement score", "85", {}),
    ("utm_source", "Website", "String", "Traffic source", "linkedin", {}),
    ("opp_value", "CRM", "Currency", "Opportunity value", "$50,000", {"critical": True}),
)


def load_demo_dictionary(ws: Workspace) -> list[str]:
    """Add the seed's four dictionary rows that are missing; returns what was added."""
    actor = Actor.system("demo")
    with transaction(ws) as session:
        systems = systems_by_name(session)
        existing = {(r.system_id, r.name.casefold()) for r in session.exec(select(DictionaryField))}
        drafts = []
        for name, system_name, data_type, description, example, flags in DEMO_FIELDS:
            system = systems.get(system_name.lower())
            if system is None or (system.id, name) in existing:
                continue
            values = {
                "name": name,
                "system": system.name,
                "data_type": data_type,
                "description": description,
                "example": example,
                "owner": "Marketing Ops",
                "domain": system.domain,
                **flags,
            }
            drafts.append(Draft(f"Demo field {name}", values))
        apply_drafts(session, actor, drafts, [], action="create")
    return [f"dictionary field {d.values['system']}.{d.values['name']}" for d in drafts]


def count_fields(ws: Workspace) -> int:
    with read_session(ws.engine) as session:
        return session.exec(select(func.count()).select_from(DictionaryField)).one()
