"""Hub records written before a field was marked PII (or before digests existed) brought
up to today's rules: the field's values moved into the sealed part, the e-mail digest
filled in. The worker does it when the dictionary's PII marks change, and hourly.

A hub record does not say which system's dictionary its fields came from, so a field is
sealed when any system's dictionary marks a field of that name PII: more sealing, never less.
"""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.pii import PiiFields, digester, open_values, seal_values
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import HubRecord

BATCH = 500


def _marks(session: Session) -> dict[str, str]:
    rows = session.exec(
        select(DictionaryField.name, DictionaryField.domain).where(DictionaryField.pii == True)  # noqa: E712
    )
    return {name.casefold(): domain for name, domain in rows}


def pii_marks_fingerprint(ws: Workspace) -> str:
    """What the dictionary marks PII now, to tell whether it changed (cheap)."""
    with read_session(ws.engine) as session:
        marks = _marks(session)
        blank = session.exec(
            select(func.count()).select_from(HubRecord).where(col(HubRecord.email_digest).is_(None))
        ).one()
    return json.dumps([sorted(marks.items()), blank])


def seal_marked_fields(ws: Workspace) -> int:
    """Seal every plain hub value of a field marked PII and fill in missing e-mail digests,
    in batches of ``BATCH`` records per transaction; returns how many records changed."""
    with read_session(ws.engine) as session:
        fields = PiiFields(domains=_marks(session))
    digest = digester(ws)
    changed, last_id = 0, 0
    while True:
        with transaction(ws) as session:
            rows = session.exec(
                select(HubRecord)
                .where(HubRecord.id > last_id)
                .order_by(col(HubRecord.id))
                .limit(BATCH)
                .with_for_update()
            ).all()
            if not rows:
                return changed
            last_id = rows[-1].id
            for row in rows:
                changed += _bring_up(ws, row, fields, digest)
                session.add(row)


def _bring_up(ws: Workspace, row: HubRecord, fields: PiiFields, digest) -> int:  # noqa: ANN001
    plain = json.loads(row.fields_json)
    moving = {name: fields.domain_of(name) for name in plain}
    moving = {name: domain for name, domain in moving.items() if domain}
    if not moving and row.email_digest is not None:
        return 0
    sealed = open_values(
        ws.vault, row.entity, row.external_key, row.pii_nonce, row.pii_ciphertext, row.pii_key_id
    )
    email = digest(fields.email_of({**plain, **sealed})) if row.email_digest is None else None
    if not moving and not email:
        return 0
    if moving:
        provenance = json.loads(row.provenance_json)
        for name, domain in moving.items():
            sealed[name] = plain.pop(name)
            provenance.setdefault(name, {})["pii"] = domain
        box = seal_values(ws.vault, row.entity, row.external_key, sealed)
        row.pii_nonce, row.pii_ciphertext, row.pii_key_id = box.nonce, box.ciphertext, box.key_id
        row.fields_json = json.dumps(plain, default=str, sort_keys=True)
        row.provenance_json = json.dumps(provenance)
    if email:
        row.email_digest = email
    return 1
