"""Lineage: where a field comes from and where it goes, through the flows' mappings."""

from __future__ import annotations

from core.dictionary import DictionaryEdit, list_fields, save_edit
from core.lineage import field_lineage, lineage_dot, lineage_rows
from tests.conftest import EDITOR
from tests.dictionary.registry import add_flow, add_systems


def test_lead_score_comes_from_the_map_and_goes_to_crm_and_the_warehouse(ws):
    systems = add_systems(ws)
    save_edit(
        ws,
        EDITOR,
        DictionaryEdit(
            added=[
                {"name": "lead_score", "system": "MAP", "data_type": "Integer"},
                {"name": "lead_score", "system": "CRM", "data_type": "Integer"},
            ]
        ),
    )
    add_flow(
        ws,
        systems,
        "Website → MAP scoring",
        "Website",
        "MAP",
        mappings=(("engagement", "lead_score"),),
    )
    add_flow(
        ws,
        systems,
        "MAP → CRM activities",
        "MAP",
        "CRM",
        mappings=(("merge_fields.lead_score", "lead_score"), ("email", "email")),
    )
    add_flow(
        ws,
        systems,
        "CRM → BigQuery",
        "CRM",
        "BigQuery",
        mappings=(("properties.lead_score", "crm_lead_score"),),
    )
    add_flow(ws, systems, "CRM → MAP contacts", "CRM", "MAP", mappings=(("email", "email"),))
    field = next(f for f in list_fields(ws, EDITOR) if f.label == "MAP.lead_score")

    lineage = field_lineage(ws, EDITOR, field.id)
    assert lineage.holders == [("CRM", "Integer")]
    assert lineage.systems == ["MAP", "CRM", "Website", "BigQuery"]
    rows = lineage_rows(lineage)
    assert [(r["Direction"], r["From"], r["To"], r["Flow"]) for r in rows] == [
        ("comes from", "Website.engagement", "MAP.lead_score", "Website → MAP scoring"),
        ("goes to", "MAP.lead_score", "CRM.lead_score", "MAP → CRM activities"),
        ("goes to", "CRM.lead_score", "BigQuery.crm_lead_score", "CRM → BigQuery"),
    ]
    dot = lineage_dot(lineage)
    assert '[label="MAP\\nlead_score", fillcolor="#dbeafe", penwidth=2]' in dot
    assert '"BigQuery\\ncrm_lead_score"' in dot
    assert dot.count(" -> ") == 3
    assert '"MAP → CRM activities\\nDaily · API"' in dot


def test_a_field_no_flow_maps_has_no_hops(ws):
    add_systems(ws)
    save_edit(
        ws,
        EDITOR,
        DictionaryEdit(added=[{"name": "utm_source", "system": "Website", "data_type": "String"}]),
    )
    (field,) = list_fields(ws, EDITOR)
    lineage = field_lineage(ws, EDITOR, field.id)
    assert lineage.hops == [] and lineage.systems == ["Website"]
