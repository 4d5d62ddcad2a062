"""A dictionary row as people type it, in the grid or a CSV file: checked cell by cell and
made storable. Nothing here writes; ``core.dictionary_saving`` does, all or nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from core.errors import FieldProblem, InputError
from core.field_types import (
    DATA_TYPES,
    FALSE_WORDS,
    TRUE_WORDS,
    TYPE_BY_LOWER,
    FieldSpec,
    split_values,
    validate_value,
)
from core.permissions import DOMAINS
from db.dictionary import DictionaryField
from db.models import System

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

NAME_MAX = 200
_NAME_CHARS = re.compile(r"[\w.\-]+")


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


def cell_text(value: Any) -> str:
    """A cell as trimmed text; an empty cell (None, NaN) is ''."""
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
    system_name = cell_text(v.get("system"))
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
    type_text = cell_text(v.get("data_type"))
    out["data_type"] = TYPE_BY_LOWER.get(type_text.lower(), type_text)
    if out["data_type"] not in DATA_TYPES:
        bad(
            "data_type",
            (f"'{type_text}' is not a known type" if type_text else "is empty")
            + f"; use one of: {', '.join(DATA_TYPES)}.",
        )
    for attr in ("description", "example", "allowed_values", "pattern", "owner"):
        out[attr] = cell_text(v.get(attr))
    for attr, limit in (("example", 500), ("pattern", 500), ("owner", 120)):
        if len(out[attr]) > limit:
            bad(attr, f"is longer than {limit} characters; shorten it.")
    out["allowed_values"] = ", ".join(split_values(out["allowed_values"]))
    for attr in FLAGS:
        flag = parse_flag(v.get(attr))
        if flag is None:
            bad(attr, f"'{cell_text(v.get(attr))}' is not yes or no; write yes or no.")
        out[attr] = bool(flag)
    out["domain"] = cell_text(v.get("domain")) or (system.domain if system else "Marketing")
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


def systems_by_name(session: Session) -> dict[str, System]:
    """Registered systems by lowercased name: what a row's System cell may name."""
    return {s.name.lower(): s for s in session.exec(select(System))}
