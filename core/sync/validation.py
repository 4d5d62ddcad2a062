"""Checking mapped records before they land: each value against the data dictionary's type
for its field (when the dictionary describes it), so a value that does not fit is rejected
with its reason and counted on the run instead of landing in the hub.

A reason is stored with the rejected record and shown on the Runs page, so for a field the
dictionary marks PII it names the field and the fix but never quotes the value.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from core.dictionary import spec_of
from core.field_types import FieldSpec, validate_value
from db.dictionary import DictionaryField


def field_specs_for(session: Session, system_id: int) -> dict[str, FieldSpec]:
    """The dictionary's fields of a system, by case-folded name."""
    rows = session.exec(select(DictionaryField).where(DictionaryField.system_id == system_id))
    return {row.name.casefold(): spec_of(row) for row in rows}


def record_problems(fields: dict[str, Any], specs: dict[str, Any]) -> list[str]:
    """Why a mapped record cannot land, one reason per field; empty when it can."""
    if not specs and all(isinstance(name, str) and name for name in fields):
        return [
            f"{n}: binary data cannot be stored" for n, v in fields.items() if isinstance(v, bytes)
        ]
    problems = []
    for name, value in fields.items():
        if not isinstance(name, str) or not name:
            problems.append("a field has no name")
            continue
        if isinstance(value, bytes):
            problems.append(f"{name}: binary data cannot be stored")
            continue
        spec = specs.get(name.casefold())
        if spec is None:
            continue
        reason = validate_value(spec, value)
        if reason:
            problems.append(f"{name}: {_without_value(reason, value) if spec.pii else reason}")
    return problems


def _without_value(reason: str, value: Any) -> str:
    """A reason with the value it quotes left out: ``'ann@x' is not an e-mail address``
    becomes ``is not an e-mail address``. Should a reason quote the value elsewhere, a
    plain reason without it."""
    text = value.strip() if isinstance(value, str) else str(value)
    for quoted in (f"'{text}' ", f"'{value}' ", f"{text} ", f"{value} "):
        if quoted.strip() and reason.startswith(quoted):
            reason = reason[len(quoted) :]
            break
    if len(text) >= 3 and text in reason:
        return "does not fit the field's type or rules; see the field in the data dictionary"
    return reason
