"""Saving the dictionary: whole edits validated, versioned, revertible, audited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core.dictionary import (
    DictionaryEdit,
    DictionaryInputError,
    edit_from_editor,
    field_history,
    list_fields,
    load_demo_dictionary,
    mapping_warnings,
    recent_changes,
    revert_change,
    save_edit,
)
from core.errors import PermissionDenied
from db.engine import read_session
from db.models import AuditEntry
from tests.conftest import EDITOR, VIEWER
from tests.dictionary.registry import add_flow, seed_registry


def row(name, system="CRM", data_type="String", **extra):
    return {"name": name, "system": system, "data_type": data_type, **extra}


def by_name(ws):
    return {f.values["name"]: f for f in list_fields(ws, EDITOR)}


@pytest.fixture
def systems(ws):
    return seed_registry(ws)


def test_a_valid_edit_is_saved_versioned_and_audited(ws, systems):
    result = save_edit(
        ws, EDITOR, DictionaryEdit(added=[row("email", data_type="Email", example="a@b.co")])
    )
    assert (result.created, result.updated, result.deleted) == (1, 0, 0)
    email = by_name(ws)["email"]
    assert email.values["domain"] == "Sales"  # the system's domain when none is given
    save_edit(ws, EDITOR, DictionaryEdit(updates={email.id: {"description": "Primary email"}}))
    history = field_history(ws, EDITOR, email.id)
    assert [(c.version, c.action, c.actor) for c in history] == [
        (2, "update", "editor"),
        (1, "create", "editor"),
    ]
    assert history[0].changes == (("Description", "", "Primary email"),)
    with read_session(ws.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.entity == "dictionary_field")
        ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert "Primary email" in entries[1].after_json


def test_nothing_is_saved_until_every_row_is_valid(ws, systems):
    edit = DictionaryEdit(
        added=[
            row("email", data_type="Email", example="john.co.com"),
            row("opp_value", data_type="Currency", example="fifty"),
            row("stage", data_type="Enum"),
            row("good_one"),
            row("ok", system="Nowhere", data_type="Colour"),
        ],
        added_rows=["New row 1", "New row 2", "New row 3", "New row 4", "New row 5"],
    )
    with pytest.raises(DictionaryInputError) as caught:
        save_edit(ws, EDITOR, edit)
    cells = {(c.row, c.column) for c in caught.value.cells}
    assert cells == {
        ("New row 1", "Example"),
        ("New row 2", "Example"),
        ("New row 3", "Allowed values"),
        ("New row 5", "System"),
        ("New row 5", "Type"),
    }
    message = str(caught.value)
    assert "'john.co.com' is not an e-mail address" in message
    assert "'fifty' is not an amount" in message
    assert "an Enum lists its values" in message
    assert "'Colour' is not a known type" in message
    assert list_fields(ws, EDITOR) == []


def test_two_fields_may_not_share_a_name_within_a_system(ws, systems):
    save_edit(ws, EDITOR, DictionaryEdit(added=[row("email"), row("email", system="MAP")]))
    with pytest.raises(DictionaryInputError) as caught:
        save_edit(ws, EDITOR, DictionaryEdit(added=[row("EMAIL")], added_rows=["New row 1"]))
    (cell,) = caught.value.cells
    assert (cell.row, cell.column) == ("New row 1", "Name")
    assert "already a field of CRM" in cell.message
    with pytest.raises(DictionaryInputError, match="names must be unique"):
        save_edit(
            ws, EDITOR, DictionaryEdit(added=[row("x", system="GA4"), row("X", system="GA4")])
        )


def test_names_with_spaces_or_invisible_characters_are_refused_unicode_is_kept(ws, systems):
    with pytest.raises(DictionaryInputError) as caught:
        save_edit(
            ws,
            EDITOR,
            DictionaryEdit(added=[row("lead score"), row("zero\u200bwidth"), row("a/b")]),
        )
    messages = [c.message for c in caught.value.cells]
    assert "write lead_score instead" in messages[0]
    assert "invisible" in messages[1]
    assert "contains '/'" in messages[2]
    save_edit(ws, EDITOR, DictionaryEdit(added=[row("  prénom "), row("名前")]))
    assert set(by_name(ws)) == {"prénom", "名前"}


def test_a_change_can_be_reverted_and_the_revert_is_a_version(ws, systems):
    save_edit(ws, EDITOR, DictionaryEdit(added=[row("lead_score", "MAP", "Integer", example="85")]))
    field = by_name(ws)["lead_score"]
    save_edit(ws, EDITOR, DictionaryEdit(updates={field.id: {"example": "90", "owner": "Ops"}}))
    change = field_history(ws, EDITOR, field.id)[0]
    assert "Reverted version 2" in revert_change(ws, EDITOR, change.id)
    values = by_name(ws)["lead_score"].values
    assert (values["example"], values["owner"]) == ("85", "")
    newest = field_history(ws, EDITOR, field.id)[0]
    assert (newest.action, newest.version, newest.reverts_version_id) == ("revert", 3, change.id)


def test_reverting_a_deletion_restores_the_field_and_a_creation_deletes_it(ws, systems):
    save_edit(ws, EDITOR, DictionaryEdit(added=[row("utm_source", "Website")]))
    field = by_name(ws)["utm_source"]
    save_edit(ws, EDITOR, DictionaryEdit(deleted=[field.id]))
    assert by_name(ws) == {}
    deletion = recent_changes(ws, EDITOR)[0]
    assert deletion.action == "delete"
    revert_change(ws, EDITOR, deletion.id)
    assert by_name(ws)["utm_source"].id == field.id
    creation = field_history(ws, EDITOR, field.id)[-1]
    revert_change(ws, EDITOR, creation.id)
    assert by_name(ws) == {}


def test_deleting_a_field_a_mapping_uses_is_blocked_naming_the_flows(ws, systems):
    save_edit(ws, EDITOR, DictionaryEdit(added=[row("email", "CRM", "Email")]))
    add_flow(
        ws, systems, "CRM → MAP e-mails", "CRM", "MAP", mappings=(("properties.email", "email"),)
    )
    add_flow(ws, systems, "Forms → CRM", "Website", "CRM", mappings=(("mail", "email"),))
    field = by_name(ws)["email"]
    with pytest.raises(DictionaryInputError) as caught:
        save_edit(ws, EDITOR, DictionaryEdit(deleted=[field.id], rows={field.id: "Row 1"}))
    (cell,) = caught.value.cells
    assert cell.row == "Row 1"
    assert "CRM → MAP e-mails, Forms → CRM" in cell.message
    assert "email" in by_name(ws)


def test_a_viewer_may_read_but_not_edit(ws, systems):
    assert list_fields(ws, VIEWER) == []
    with pytest.raises(PermissionDenied):
        save_edit(ws, VIEWER, DictionaryEdit(added=[row("email")]))


def test_the_editor_state_becomes_an_edit_by_field_id():
    state = {
        "edited_rows": {0: {"Example": "90"}, "2": {"Type": "Integer"}},
        "added_rows": [{"Name": "new_field", "System": "CRM"}, {}],
        "deleted_rows": [2],
    }
    edit = edit_from_editor([11, 12, 13], state)
    assert edit.updates == {11: {"example": "90"}}
    assert edit.deleted == [13]
    assert edit.added == [{"name": "new_field", "system": "CRM"}]
    assert edit.rows == {11: "Row 1", 13: "Row 3"}


def test_the_demo_rows_are_loaded_once(ws, systems):
    added = load_demo_dictionary(ws)
    assert len(added) == 4
    assert load_demo_dictionary(ws) == []
    fields = by_name(ws)
    assert fields["opp_value"].values["data_type"] == "Currency"
    assert fields["opp_value"].values["example"] == "$50,000"
    assert fields["lead_score"].values["system"] == "MAP"
    assert fields["utm_source"].values["system"] == "Website"
    assert fields["email"].values["pii"] is True


def test_mapping_warnings_name_type_mismatches_and_pii_to_uncleared_systems(ws, systems):
    save_edit(
        ws,
        EDITOR,
        DictionaryEdit(
            added=[
                row("email", "CRM", "Email", pii=True),
                row("lead_score", "CRM", "Integer"),
                row("score", "GA4", "Boolean"),
                row("amount", "GA4", "Decimal"),
            ]
        ),
    )
    warnings = mapping_warnings(
        ws,
        systems["CRM"],
        systems["GA4"],
        [("properties.email", "user_email"), ("lead_score", "score"), ("lead_score", "amount")],
    )
    assert len(warnings) == 2
    assert "CRM.properties.email → GA4.user_email: this is personal data (PII)" in warnings[0]
    assert "GA4 is not cleared" in warnings[0]
    assert "a Integer goes into a Boolean field" in warnings[1]
    # MAP is cleared for PII, and Integer widens safely into Decimal
    assert (
        mapping_warnings(
            ws,
            systems["CRM"],
            systems["MAP"],
            [{"source_field": "email", "destination_field": "email"}],
        )
        == []
    )


def test_a_bulk_save_is_one_audit_entry_but_every_field_is_versioned(ws, systems):
    added = [row(f"field_{n}") for n in range(101)]
    save_edit(ws, EDITOR, DictionaryEdit(added=added))
    with read_session(ws.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.entity == "dictionary_field")
        ).all()
    (entry,) = entries
    assert entry.summary == "Saved 101 dictionary fields (101 added, 0 changed, 0 deleted)"
    assert "CRM.field_100" in entry.after_json
    assert len(recent_changes(ws, EDITOR, limit=500)) == 101
