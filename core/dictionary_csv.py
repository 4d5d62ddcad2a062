"""The data dictionary as CSV: export, and import with a preview before anything is written.

Import reads what spreadsheets write: UTF-8 with or without a byte-order mark, commas,
semicolons or tabs, headers in any case (``Name`` or ``name``, ``Type`` or ``data type``).
A file is refused whole, with every problem by line and column, when any row is wrong:
missing columns, an unknown type, two rows for one field, an example that does not fit.
Rows naming an existing field (same system, same name) update it; the others are added.

Export neutralises spreadsheet formulas: a cell that starts with ``=``, ``+``, ``@``, a tab
or a carriage return (or ``-`` when it is not a plain number) gets a leading apostrophe,
so ``=cmd|' /C calc'!A0`` opens as text, not as a command.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from core.dictionary import (
    COLUMNS,
    FLAGS,
    CellProblem,
    DictionaryInputError,
    Draft,
    FieldRow,
    SaveResult,
    apply_drafts,
    check_draft,
    duplicate_problems,
    normalise_name,
    public,
    systems_by_name,
)
from core.dictionary_saving import refusals, refuse
from core.errors import InputError
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session

MAX_BYTES = 10 * 1024 * 1024
REQUIRED_COLUMNS = ("name", "system", "data_type")
# other headers people write for our columns
_ALIASES = {
    "field": "name",
    "field name": "name",
    "field_name": "name",
    "source system": "system",
    "system_name": "system",
    "data type": "data_type",
    "data_type": "data_type",
    "datatype": "data_type",
    "allowed_values": "allowed_values",
    "values": "allowed_values",
}
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell made safe for a spreadsheet: formulas become text."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START):
        return "'" + value
    if value.startswith("-"):
        try:
            float(value.replace(",", ""))
        except ValueError:
            return "'" + value
    return value


def export_csv(fields: list[FieldRow]) -> bytes:
    """The dictionary as a CSV file (UTF-8 with a byte-order mark, so Excel reads accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS.values())
    for f in fields:
        writer.writerow(
            [
                ("yes" if f.values[attr] else "no") if attr in FLAGS else neutralise(f.values[attr])
                for attr in COLUMNS
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _column(header: str) -> str | None:
    key = header.strip().strip("\ufeff").strip().lower()
    by_label = {label.lower(): attr for attr, label in COLUMNS.items()}
    return by_label.get(key) or _ALIASES.get(key) or (key if key in COLUMNS else None)


def _read(data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header and rows of a CSV file, or an InputError saying what is wrong with it."""
    if len(data) > MAX_BYTES:
        raise InputError.one(
            "File",
            f"is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB. Split it into "
            "smaller files and import them one after the other.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError.one(
            "File", "is not UTF-8 text; in your spreadsheet, save it as 'CSV UTF-8'."
        ) from None
    if not text.strip():
        raise InputError.one("File", "is empty; export a CSV with a header row and fields.")
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InputError.one("File", f"is not readable as CSV ({exc}).") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    return rows[0], rows[1:]


@dataclass
class ImportPreview:
    """What an import would do, shown before anything is written."""

    # one dict per data row: line, what happens (add / update / unchanged), the values
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    # (line, domain) of every row that would write in a domain (a field's old one, when it
    # moves) — what the actor's roles are checked against
    touches: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def counts(self) -> dict[str, int]:
        result = {"add": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            result[row["Action"]] = result.get(row["Action"], 0) + 1
        return result


def _preview(session, data: bytes) -> ImportPreview:  # noqa: ANN001
    header, body = _read(data)
    columns = [_column(h) for h in header]
    preview = ImportPreview(
        ignored_columns=[h for h, c in zip(header, columns, strict=True) if not c]
    )
    missing = [COLUMNS[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError.one(
            "File",
            f"has no {', '.join(missing)} column; the first row must name the columns: "
            f"{', '.join(COLUMNS.values())} (only Name, System and Type are required).",
        )
    if not body:
        raise InputError.one("File", "has a header but no fields; add one field per row.")
    systems = systems_by_name(session)
    names = {s.id: s.name for s in systems.values()}
    existing = {(r.system_id, r.name.casefold()): r for r in session.exec(select(DictionaryField))}
    finals, seen_ids = [], set()
    for number, cells in enumerate(body, start=2):
        label = f"Line {number}"
        if len(cells) > len(columns):
            preview.problems.append(
                CellProblem(
                    label,
                    "Row",
                    f"has {len(cells)} cells but the header names {len(columns)}; check for a "
                    "stray separator (a ; or , inside a value needs quotes).",
                )
            )
        values = {c: v for c, v in zip(columns, cells, strict=False) if c}
        system = systems.get(str(values.get("system", "")).strip().lower())
        key = (system.id, normalise_name(values.get("name")).casefold()) if system else None
        current = existing.get(key) if key else None
        draft_values = dict(values)
        if current is not None:
            draft_values = {**public(current, names.get(current.system_id, "")), **values}
        cleaned, wrong = check_draft(Draft(label, draft_values), systems)
        preview.problems += wrong
        action = "add"
        if current is not None:
            before = public(current, names.get(current.system_id, ""))
            action = (
                "unchanged" if all(before.get(k) == cleaned.get(k) for k in cleaned) else "update"
            )
            if action == "update":
                preview.touches.append((label, current.domain))
            if current.id in seen_ids:
                current = None  # the duplicate check below names it
            else:
                seen_ids.add(current.id)
        if action != "unchanged":
            preview.touches.append((label, cleaned["domain"]))
        finals.append((label, current.id if current else None, cleaned))
        preview.drafts.append(Draft(label, values, current.id if current else None))
        preview.rows.append(
            {"Line": number, "Action": action, **{COLUMNS[a]: cleaned.get(a) for a in COLUMNS}}
        )
    kept = [(sid, r.name) for (sid, _), r in existing.items() if r.id not in seen_ids]
    preview.problems += duplicate_problems([f for f in finals], kept)
    return preview


def preview_import(ws: Workspace, actor: Actor, data: bytes) -> ImportPreview:
    """Read a CSV file and say, row by row, what importing it would do; writes nothing.

    A file that cannot be read at all (too big, not UTF-8, missing columns) raises
    InputError; row problems are in ``preview.problems``, rows in a domain where the actor
    may not edit the dictionary among them.
    """
    require(actor, Action.EDIT_DICTIONARY)
    with read_session(ws.engine) as session:
        preview = _preview(session, data)
    for line, domain in refusals(actor, preview.touches):
        preview.problems.append(
            CellProblem(
                line,
                COLUMNS["domain"],
                f"is {domain}, where your role ({actor.role_in(domain).label}) may not "
                f"{Action.EDIT_DICTIONARY}; leave this row out or ask an editor of {domain}.",
            )
        )
    return preview


def import_csv(ws: Workspace, actor: Actor, data: bytes) -> SaveResult:
    """Import a CSV file: every row valid and written, or nothing written. A row in a domain
    where the actor may not edit the dictionary refuses the whole file, naming the rows."""
    require(actor, Action.EDIT_DICTIONARY)
    with transaction(ws) as session:
        preview = _preview(session, data)
        refuse(actor, refusals(actor, preview.touches))
        if preview.problems:
            raise DictionaryInputError(preview.problems)
        changed = [
            d
            for d, r in zip(preview.drafts, preview.rows, strict=True)
            if r["Action"] != "unchanged"
        ]
        return apply_drafts(session, actor, changed, [], action="import")
