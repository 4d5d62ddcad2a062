"""A field marked PII after its records landed: the worker seals what the hub already holds
and fills in the e-mail digests missing, so a privacy request finds those people too."""

from __future__ import annotations

import json

from sqlmodel import select

from core.pii import email_digest, open_values
from core.worker import Worker
from core.workspace import transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import HubRecord, System


def test_values_of_a_field_marked_pii_later_are_sealed_and_digests_filled(ws):
    with transaction(ws) as session:
        crm = System(name="CRM", category="crm")
        session.add(crm)
        session.flush()
        session.add(DictionaryField(name="phone", system_id=crm.id, data_type="Phone"))
        session.add(
            HubRecord(
                entity="contact",
                external_key="c1",
                fields_json=json.dumps({"email": "Old@Example.com", "phone": "+1 555 0100"}),
                provenance_json=json.dumps(
                    {"email": {"source": "CRM"}, "phone": {"source": "CRM"}}
                ),
            )
        )
    worker = Worker(ws, serve_webhooks=False)
    assert worker.seal_marked_if_changed() == 1  # the digest was missing
    with read_session(ws.engine) as session:
        row = session.exec(select(HubRecord)).one()
    assert row.email_digest == email_digest(ws, "old@example.com")
    assert "+1 555 0100" in row.fields_json  # not marked yet

    with transaction(ws) as session:
        field = session.exec(select(DictionaryField)).one()
        field.pii, field.domain = True, "Sales"
        session.add(field)
    assert worker.seal_marked_if_changed() == 1
    assert worker.seal_marked_if_changed() == 0  # nothing changed since
    with read_session(ws.engine) as session:
        row = session.exec(select(HubRecord)).one()
    assert "555" not in row.fields_json and json.loads(row.fields_json) == {
        "email": "Old@Example.com"
    }
    sealed = open_values(
        ws.vault, "contact", "c1", row.pii_nonce, row.pii_ciphertext, row.pii_key_id
    )
    assert sealed == {"phone": "+1 555 0100"}
    assert json.loads(row.provenance_json)["phone"]["pii"] == "Sales"
