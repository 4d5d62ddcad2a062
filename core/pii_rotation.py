"""Key rotation for personal data: everything the vault seals that is not a connector or
alert-channel secret, re-sealed under the new key inside the rotation's transaction.

That is the hub's sealed fields, the sealed values of conflicts on personal-data fields,
the stored bodies of webhook events, the e-mails of privacy requests, and the workspace keys (the e-mail digest key). A key
rotated without them would leave these unreadable once the old key file is gone.
"""

from __future__ import annotations

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, or_, select

from core.pii import conflict_aad, hub_aad, is_sealed_text, open_text, seal_text, webhook_aad
from core.vault import Sealed, Vault
from db.governance import PrivacyRequest, WorkspaceKey
from db.models import FieldConflict, HubRecord, WebhookEvent

# hub records re-sealed per statement: bounded memory however large the hub
BATCH = 1000


def reseal_personal_data(session: Session, current: Vault, new: Vault) -> dict[str, int]:
    """Re-seal every piece of sealed personal data with ``new``; how many of each kind."""
    return {
        "hub record(s)": _hub_records(session, current, new),
        "conflict value(s)": _conflicts(session, current, new),
        "webhook bod(y/ies)": _webhook_bodies(session, current, new),
        "privacy request e-mail(s)": _privacy_requests(session, current, new),
        "workspace key(s)": _workspace_keys(session, current, new),
    }


def _again(current: Vault, new: Vault, sealed: Sealed, aad: str) -> Sealed:
    return new.seal(current.open(sealed, aad), aad)


def _hub_records(session: Session, current: Vault, new: Vault) -> int:
    table = HubRecord.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            pii_nonce=bindparam("new_nonce"),
            pii_ciphertext=bindparam("new_ciphertext"),
            pii_key_id=bindparam("new_key_id"),
        )
    )
    done, last_id = 0, 0
    while True:
        rows = session.execute(
            select(
                table.c.id,
                table.c.entity,
                table.c.external_key,
                table.c.pii_nonce,
                table.c.pii_ciphertext,
                table.c.pii_key_id,
            )
            .where(table.c.pii_ciphertext.is_not(None), table.c.id > last_id)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return done
        changes = []
        for row in rows:
            sealed = _again(
                current,
                new,
                Sealed(row.pii_nonce, row.pii_ciphertext, row.pii_key_id),
                hub_aad(row.entity, row.external_key),
            )
            changes.append(
                {
                    "row_id": row.id,
                    "new_nonce": sealed.nonce,
                    "new_ciphertext": sealed.ciphertext,
                    "new_key_id": sealed.key_id,
                }
            )
        session.execute(statement, changes)
        done += len(rows)
        last_id = rows[-1].id


def _conflicts(session: Session, current: Vault, new: Vault) -> int:
    rows = session.exec(
        select(FieldConflict).where(
            or_(
                col(FieldConflict.current_value).startswith("sealed:"),
                col(FieldConflict.incoming_value).startswith("sealed:"),
            )
        )
    ).all()
    count = 0
    for row in rows:
        aad = conflict_aad(row.entity, row.external_key, row.field)
        for attr in ("current_value", "incoming_value"):
            text = getattr(row, attr)
            if is_sealed_text(text):
                setattr(row, attr, seal_text(new, aad, open_text(current, aad, text)))
                count += 1
        session.add(row)
    return count


def _webhook_bodies(session: Session, current: Vault, new: Vault) -> int:
    rows = session.exec(
        select(WebhookEvent).where(col(WebhookEvent.body).startswith("sealed:"))
    ).all()
    for row in rows:
        aad = webhook_aad(row.id)
        row.body = seal_text(new, aad, open_text(current, aad, row.body))
        session.add(row)
    return len(rows)


def _privacy_requests(session: Session, current: Vault, new: Vault) -> int:
    rows = session.exec(select(PrivacyRequest)).all()
    for row in rows:
        sealed = _again(
            current,
            new,
            Sealed(row.email_nonce, row.email_ciphertext, row.email_key_id),
            f"privacy_request:{row.email_digest}",
        )
        row.email_nonce, row.email_ciphertext = sealed.nonce, sealed.ciphertext
        row.email_key_id = sealed.key_id
        session.add(row)
    return len(rows)


def _workspace_keys(session: Session, current: Vault, new: Vault) -> int:
    rows = session.exec(select(WorkspaceKey)).all()
    for row in rows:
        sealed = _again(
            current, new, Sealed(row.nonce, row.ciphertext, row.key_id), f"workspace_key:{row.name}"
        )
        row.nonce, row.ciphertext, row.key_id = sealed.nonce, sealed.ciphertext, sealed.key_id
        session.add(row)
    return len(rows)
