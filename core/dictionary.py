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

This module reads the dictionary and gathers its public names; the parts live beside it:
``dictionary_rows`` (a row as people type it), ``dictionary_saving`` (a whole edit, written
all or nothing, per domain), ``dictionary_history`` (versions and reverts) and
``dictionary_mapping`` (the dictionary against flows' field mappings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from core.dictionary_history import Change, field_history, recent_changes, revert_change
from core.dictionary_mapping import flows_using, mapping_warnings, path_matches
from core.dictionary_rows import (
    COLUMNS,
    FLAGS,
    NAME_MAX,
    CellProblem,
    DictionaryInputError,
    Draft,
    check_draft,
    duplicate_problems,
    name_problem,
    normalise_name,
    parse_flag,
    public,
    systems_by_name,
)
from core.dictionary_saving import (
    BULK_AUDIT,
    DictionaryEdit,
    SaveResult,
    apply_drafts,
    edit_from_editor,
    save_edit,
)
from core.field_types import DATA_TYPES, FieldSpec, split_values, validate_value
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import System

__all__ = [
    "BULK_AUDIT",
    "COLUMNS",
    "DATA_TYPES",
    "DEMO_FIELDS",
    "FLAGS",
    "NAME_MAX",
    "CellProblem",
    "Change",
    "DictionaryEdit",
    "DictionaryInputError",
    "Draft",
    "FieldRow",
    "FieldSpec",
    "SaveResult",
    "apply_drafts",
    "check_draft",
    "count_fields",
    "duplicate_problems",
    "edit_from_editor",
    "field_history",
    "field_specs",
    "flows_using",
    "list_fields",
    "load_demo_dictionary",
    "mapping_warnings",
    "name_problem",
    "normalise_name",
    "parse_flag",
    "path_matches",
    "public",
    "recent_changes",
    "revert_change",
    "save_edit",
    "spec_of",
    "split_values",
    "systems_by_name",
    "validate_value",
]


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


# ---------------------------------------------------------------- the demo's fields

DEMO_FIELDS = (
    ("email", "CRM", "String", "Primary email", "john@co.com", {"pii": True, "required": True}),
    ("lead_score", "MAP", "Integer", "Engagement score", "85", {}),
    ("utm_source", "Website", "String", "Traffic source", "linkedin", {}),
    ("opp_value", "CRM", "Currency", "Opportunity value", "$50,000", {"critical": True}),
)


def load_demo_dictionary(ws: Workspace, fields: tuple = DEMO_FIELDS) -> list[str]:
    """Add the dictionary rows that are missing (by default the seed's four); returns what
    was added."""
    actor = Actor.system("demo")
    with transaction(ws) as session:
        systems = systems_by_name(session)
        existing = {(r.system_id, r.name.casefold()) for r in session.exec(select(DictionaryField))}
        drafts = []
        for name, system_name, data_type, description, example, flags in fields:
            system = systems.get(system_name.lower())
            if system is None or (system.id, name.casefold()) in existing:
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
