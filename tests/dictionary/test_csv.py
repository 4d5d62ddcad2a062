"""CSV import (preview first, all or nothing) and export (formulas neutralised)."""

from __future__ import annotations

import csv
import io

import pytest

from core.dictionary import DictionaryEdit, DictionaryInputError, list_fields, save_edit
from core.dictionary_csv import MAX_BYTES, export_csv, import_csv, neutralise, preview_import
from core.errors import InputError, PermissionDenied
from tests.conftest import EDITOR, VIEWER
from tests.dictionary.registry import seed_registry

GOOD = (
    "Name,System,Type,Description,Example,Allowed values,Required,PII\n"
    "email,CRM,Email,Primary email,john@co.com,,yes,yes\n"
    "lead_score,MAP,integer,Engagement score,85,,no,no\n"
    'stage,CRM,Enum,Lifecycle stage,lead,"lead, customer",,\n'
)


@pytest.fixture
def systems(ws):
    return seed_registry(ws)


def names(ws):
    return sorted(f.label for f in list_fields(ws, EDITOR))


def test_a_good_file_is_previewed_then_imported(ws, systems):
    preview = preview_import(ws, EDITOR, GOOD.encode())
    assert preview.ok
    assert preview.counts() == {"add": 3, "update": 0, "unchanged": 0}
    assert preview.rows[1]["Type"] == "Integer"
    assert names(ws) == []  # a preview writes nothing
    result = import_csv(ws, EDITOR, GOOD.encode())
    assert result.created == 3
    assert names(ws) == ["CRM.email", "CRM.stage", "MAP.lead_score"]


def test_a_row_for_an_existing_field_updates_only_the_columns_in_the_file(ws, systems):
    import_csv(ws, EDITOR, GOOD.encode())
    update = (
        "name;system;data type;example\nlead_score;MAP;Integer;90\nemail;CRM;Email;john@co.com\n"
    )
    preview = preview_import(ws, EDITOR, update.encode())
    assert preview.counts() == {"add": 0, "update": 1, "unchanged": 1}
    import_csv(ws, EDITOR, update.encode())
    score = next(f for f in list_fields(ws, EDITOR) if f.values["name"] == "lead_score")
    assert score.values["example"] == "90"
    assert score.values["description"] == "Engagement score"
    assert score.version == 2


def test_a_bom_and_semicolons_are_read(ws, systems):
    text = '\ufeffName;System;Type;Example\nopp_value;CRM;Currency;"$50,000"\n'
    preview = preview_import(ws, EDITOR, text.encode("utf-8"))
    assert preview.ok, preview.problems
    assert preview.rows[0]["Name"] == "opp_value"


def test_missing_columns_name_what_is_missing(ws, systems):
    with pytest.raises(InputError, match="has no System, Type column"):
        preview_import(ws, EDITOR, b"Name,Description\nemail,Primary\n")


def test_unknown_types_duplicates_and_bad_examples_are_listed_per_line(ws, systems):
    text = (
        "Name,System,Type,Example,Surprise\n"
        "email,CRM,Colour,,x\n"
        "lead_score,MAP,Integer,high,x\n"
        "dup,CRM,String,,x\n"
        "DUP,CRM,String,,x\n"
        "lead score,Nowhere,String,,x\n"
    )
    preview = preview_import(ws, EDITOR, text.encode())
    assert not preview.ok
    assert preview.ignored_columns == ["Surprise"]
    found = {(p.row, p.column) for p in preview.problems}
    assert found == {
        ("Line 2", "Type"),
        ("Line 3", "Example"),
        ("Line 5", "Name"),
        ("Line 6", "Name"),
        ("Line 6", "System"),
    }
    with pytest.raises(DictionaryInputError):
        import_csv(ws, EDITOR, text.encode())
    assert names(ws) == []


def test_a_file_over_10_mb_is_refused_before_it_is_read(ws, systems):
    header = b"Name,System,Type\n"
    data = header + b"f,CRM,String\n" * (MAX_BYTES // 13 + 1)
    with pytest.raises(InputError, match="the limit is 10 MB"):
        preview_import(ws, EDITOR, data)


def test_files_that_are_not_csv_text_are_explained(ws, systems):
    with pytest.raises(InputError, match="not UTF-8"):
        preview_import(ws, EDITOR, "Name,System,Type\nprénom,CRM,String\n".encode("latin-1"))
    with pytest.raises(InputError, match="is empty"):
        preview_import(ws, EDITOR, b"  \n")
    with pytest.raises(InputError, match="no fields"):
        preview_import(ws, EDITOR, b"Name,System,Type\n")


def test_a_viewer_cannot_import(ws, systems):
    with pytest.raises(PermissionDenied):
        preview_import(ws, VIEWER, GOOD.encode())


def test_export_neutralises_formulas_and_round_trips(ws, systems):
    save_edit(
        ws,
        EDITOR,
        DictionaryEdit(
            added=[
                {
                    "name": "notes",
                    "system": "CRM",
                    "data_type": "String",
                    "description": "=cmd|' /C calc'!A0",
                    "example": "-2",
                    "owner": "@ops",
                }
            ]
        ),
    )
    data = export_csv(list_fields(ws, EDITOR))
    assert data.startswith("\ufeff".encode())
    (row,) = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["Description"] == "'=cmd|' /C calc'!A0"
    assert row["Owner"] == "'@ops"
    assert row["Example"] == "-2"
    assert row["Required"] == "no"
    assert neutralise("-1+2") == "'-1+2"
    assert neutralise("+44 20") == "'+44 20"
