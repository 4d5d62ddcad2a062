"""The Data dictionary page: edits through the grid, validation per cell, history and
revert, lineage, and the CSV import preview."""

from __future__ import annotations

import pytest

from core.dictionary import field_history, list_fields, load_demo_dictionary
from core.systems import list_systems
from tests.conftest import ADMIN
from tests.dictionary.registry import add_flow, seed_registry
from tests.pages.conftest import sign_in, texts


@pytest.fixture
def demo(people):
    seed_registry(people)
    load_demo_dictionary(people)
    return people


def ids(ws):
    return {s.name: s.id for s in list_systems(ws, ADMIN)}


def open_dictionary(user: str = "editor"):
    at = sign_in(user)
    at.switch_page("pages/data_dictionary.py").run()
    assert not at.exception
    return at


def edit(at, edited=None, added=None, deleted=None):
    key = f"dictionary_grid_{at.session_state['dictionary_generation']}"
    at.session_state[key] = {
        "edited_rows": edited or {},
        "added_rows": added or [],
        "deleted_rows": deleted or [],
    }
    at.run()
    at.button(key="dictionary_save").click().run()
    assert not at.exception
    return at


def stored(ws):
    return {f.label: f.values for f in list_fields(ws, ADMIN)}


def test_the_grid_shows_the_seed_rows(demo):
    at = open_dictionary("viewer")
    grid = at.dataframe[0]
    assert list(grid.value["Name"]) == ["email", "opp_value", "lead_score", "utm_source"]
    assert grid.proto.disabled  # a data editor, read-only for a viewer
    assert not [b for b in at.button if b.key == "dictionary_save"]
    assert "email" in texts(at)  # the lineage tab names the first field


def test_an_editor_edits_adds_and_deletes_in_place(demo):
    at = open_dictionary()
    # rows by system then name: CRM.email, CRM.opp_value, MAP.lead_score, Website.utm_source
    at = edit(
        at,
        edited={2: {"Example": "90", "Owner": "Growth team"}},
        added=[
            {
                "Name": "stage",
                "System": "CRM",
                "Type": "Enum",
                "Allowed values": "lead, customer",
                "Example": "lead",
            }
        ],
        deleted=[3],
    )
    assert "Saved the data dictionary: 1 added, 1 changed, 1 deleted." in texts(at)
    fields = stored(demo)
    assert fields["MAP.lead_score"]["example"] == "90"
    assert fields["MAP.lead_score"]["owner"] == "Growth team"
    assert fields["CRM.stage"]["allowed_values"] == "lead, customer"
    assert "Website.utm_source" not in fields
    assert at.session_state["dictionary_generation"] == 1  # a fresh grid after saving


def test_bad_cells_are_named_per_row_and_nothing_is_saved(demo):
    before = stored(demo)
    at = edit(
        open_dictionary(),
        edited={0: {"Type": "Email", "Example": "john.co.com"}, 1: {"Example": "lots"}},
        added=[
            {"Name": "lead score", "System": "CRM", "Type": "Integer"},
            {"Name": "email", "System": "CRM", "Type": "String"},
        ],
    )
    message = "\n".join(e.value for e in at.error)
    assert "Nothing was saved" in message
    assert "**Row 1 · Example** 'john.co.com' is not an e-mail address" in message
    assert "**Row 2 · Example** 'lots' is not an amount (Currency)" in message
    assert "**New row 1 · Name** 'lead score' contains a space" in message
    assert "**New row 2 · Name** 'email' is already a field of CRM" in message
    assert stored(demo) == before


def test_deleting_a_mapped_field_is_blocked_with_the_flow_named(demo):
    add_flow(demo, ids(demo), "CRM → MAP e-mails", "CRM", "MAP", mappings=(("email", "email"),))
    at = edit(open_dictionary(), deleted=[0])
    assert (
        "**Row 1 · Name** email cannot be deleted: the flows CRM → MAP e-mails map it"
        in "\n".join(e.value for e in at.error)
    )
    assert "CRM.email" in stored(demo)


def test_history_shows_old_and_new_and_a_change_is_reverted(demo):
    at = edit(open_dictionary(), edited={2: {"Example": "90"}})
    score = next(f for f in list_fields(demo, ADMIN) if f.label == "MAP.lead_score")
    at.selectbox(key="history_field").set_value(score.id).run()
    table = at.dataframe[1].value  # the grid is the first
    assert list(table["What"]) == ["update", "create"]
    assert table.iloc[0]["Old → new"] == "Example: '85' → '90'"
    change = field_history(demo, ADMIN, score.id)[0]
    at.selectbox(key="revert_pick").set_value(change.id).run()
    at.button(key="revert_button").click().run()
    assert "Reverted version 2 of MAP.lead_score." in texts(at)
    assert stored(demo)["MAP.lead_score"]["example"] == "85"


def test_lineage_draws_where_a_field_goes(demo):
    add_flow(
        demo, ids(demo), "MAP → CRM scores", "MAP", "CRM", mappings=(("lead_score", "hs_score"),)
    )
    at = open_dictionary()
    score = next(f for f in list_fields(demo, ADMIN) if f.label == "MAP.lead_score")
    at.selectbox(key="lineage_field").set_value(score.id).run()
    chart = at.get("graphviz_chart")[0].proto.spec
    assert '"CRM\\nhs_score"' in chart
    assert "**lead_score** is in: MAP, CRM." in texts(at)


def upload(at, data: bytes):
    at.file_uploader(key=f"dictionary_csv_{at.session_state['dictionary_generation']}").set_value(
        ("fields.csv", data, "text/csv")
    ).run()
    assert not at.exception
    return at


def test_an_import_is_previewed_with_its_problems_before_anything_is_written(demo):
    bad = b"Name;System;Type;Example\nchurn_risk;CRM;Percent;12\nlead_score;MAP;Integer;high\n"
    at = upload(open_dictionary(), bad)
    assert "Nothing can be imported until these 2 problem(s) are fixed" in texts(at)
    problems = at.dataframe[-2].value
    assert list(problems["Row"]) == ["Line 2", "Line 3"]
    assert list(problems["Column"]) == ["Type", "Example"]
    assert not [b for b in at.button if b.key == "dictionary_import"]

    good = (
        "\ufeffName,System,Type,Example\nchurn_risk,CRM,Decimal,0.12\nlead_score,MAP,Integer,70\n"
    )
    at = upload(at, good.encode())
    assert "**Preview:** 1 to add, 1 to update, 0 unchanged." in texts(at)
    assert "CRM.churn_risk" not in stored(demo)
    at.button(key="dictionary_import").click().run()
    assert "Imported the CSV: 1 added, 1 changed, 0 deleted." in texts(at)
    fields = stored(demo)
    assert fields["CRM.churn_risk"]["data_type"] == "Decimal"
    assert fields["MAP.lead_score"]["example"] == "70"


def test_a_file_missing_columns_is_explained(demo):
    at = upload(open_dictionary(), b"Field,Description\nemail,x\n")
    assert "has no System, Type column" in "\n".join(e.value for e in at.error)
