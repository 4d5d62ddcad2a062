"""A PII field with a dotted destination (Mailchimp's ``merge_fields.FNAME``) lands nested
in the hub; the object holding it is sealed whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from core.pii import PiiFields, digester, open_values
from core.sync.hub import IncomingRecord, PiiGuard, upsert_records
from core.workspace import transaction
from db.engine import read_session
from db.models import HubRecord


def test_a_nested_pii_field_is_sealed_with_its_object(ws):
    fields = PiiFields(domains={"merge_fields.fname": "Marketing"}, email_fields=())
    guard = PiiGuard(ws.vault, fields, digester(ws))
    record = IncomingRecord(
        "m1",
        {"email_address": "zelda@example.com", "merge_fields": {"FNAME": "Zelda"}, "tier": "gold"},
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    with transaction(ws) as session:
        upsert_records(
            session, entity="member", source="MAP", records=[record], run_id=None, guard=guard
        )
    with read_session(ws.engine) as session:
        row = session.exec(select(HubRecord)).one()
    plain = json.loads(row.fields_json)
    assert "merge_fields" not in plain and "Zelda" not in row.fields_json
    assert plain["tier"] == "gold"
    sealed = open_values(
        ws.vault, "member", "m1", row.pii_nonce, row.pii_ciphertext, row.pii_key_id
    )
    assert sealed == {"merge_fields": {"FNAME": "Zelda"}}
    assert json.loads(row.provenance_json)["merge_fields"]["pii"] == "Marketing"
    # the e-mail is found by its digest, whatever its case
    assert row.email_digest == digester(ws)("ZELDA@example.com ")
