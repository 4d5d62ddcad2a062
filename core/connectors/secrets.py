"""Connector secrets at rest: sealed with the vault, one row per secret field.

The associated data is the row's identity (``connector:<id>:<field>``), so a ciphertext
copied to another connector or field does not open. Only the last four characters are
ever shown back.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from core import audit
from core.vault import Sealed, Vault
from core.workspace import Workspace, transaction
from db.models import ConnectorSecret, utcnow
from db.monitoring import AlertChannel


def _aad(connector_id: int, field_name: str) -> str:
    return f"connector:{connector_id}:{field_name}"


def mask(last4: str) -> str:
    """How a stored secret is shown: never more than its last four characters."""
    return f"••••{last4}" if last4 else "••••"


def store_secret(
    session: Session, vault: Vault, connector_id: int, field_name: str, value: str
) -> None:
    """Seal ``value`` and insert or replace the connector's secret ``field_name``."""
    sealed = vault.seal(value, _aad(connector_id, field_name))
    row = session.exec(
        select(ConnectorSecret).where(
            ConnectorSecret.connector_id == connector_id,
            ConnectorSecret.field_name == field_name,
        )
    ).first()
    if row is None:
        row = ConnectorSecret(
            connector_id=connector_id,
            field_name=field_name,
            nonce=b"",
            ciphertext=b"",
            key_id="",
            last4="",
        )
    row.nonce, row.ciphertext, row.key_id = sealed.nonce, sealed.ciphertext, sealed.key_id
    row.last4 = value.strip()[-4:] if len(value.strip()) > 8 else ""
    row.updated_at = utcnow()
    session.add(row)


def read_secrets(session: Session, vault: Vault, connector_id: int) -> dict[str, str]:
    """Every secret of a connector, opened. For the gateway only: never hand to a page."""
    rows = session.exec(
        select(ConnectorSecret).where(ConnectorSecret.connector_id == connector_id)
    ).all()
    return {
        row.field_name: vault.open(
            Sealed(row.nonce, row.ciphertext, row.key_id), _aad(connector_id, row.field_name)
        )
        for row in rows
    }


def secret_hints(session: Session, connector_id: int) -> dict[str, str]:
    """``{field: '••••abcd'}`` for a connector's stored secrets."""
    rows = session.exec(
        select(ConnectorSecret).where(ConnectorSecret.connector_id == connector_id)
    ).all()
    return {row.field_name: mask(row.last4) for row in rows}


def rotate_secrets(ws: Workspace, actor: str) -> int:
    """Re-seal every secret — connectors' and alert channels' — and all sealed personal
    data under a new key in one transaction; returns how many secrets."""
    from core.pii_rotation import reseal_personal_data
    from core.vault import Vault, finish_rotation, prepare_rotation

    current, new_key = prepare_rotation(ws.settings)
    new_vault = Vault(new_key)
    with transaction(ws) as session:
        rows = session.exec(select(ConnectorSecret)).all()
        for row in rows:
            aad = _aad(row.connector_id, row.field_name)
            plaintext = current.open(Sealed(row.nonce, row.ciphertext, row.key_id), aad)
            sealed = new_vault.seal(plaintext, aad)
            row.nonce, row.ciphertext, row.key_id = sealed.nonce, sealed.ciphertext, sealed.key_id
            session.add(row)
        channels = session.exec(
            select(AlertChannel).where(col(AlertChannel.secret_ciphertext).is_not(None))
        ).all()
        for channel in channels:
            aad = f"alert_channel:{channel.id}"
            plaintext = current.open(
                Sealed(channel.secret_nonce, channel.secret_ciphertext, channel.secret_key_id), aad
            )
            sealed = new_vault.seal(plaintext, aad)
            channel.secret_nonce, channel.secret_ciphertext = sealed.nonce, sealed.ciphertext
            channel.secret_key_id = sealed.key_id
            session.add(channel)
        count = len(rows) + len(channels)
        personal = reseal_personal_data(session, current, new_vault)
        also = ", ".join(f"{n} {kind}" for kind, n in personal.items() if n)
        audit.record(
            session,
            actor=actor,
            action="rotate_key",
            entity="vault",
            summary=f"Re-encrypted {count} secret(s) under key {new_vault.primary_key_id}"
            + (f"; personal data re-sealed: {also}" if also else ""),
        )
    finish_rotation(ws.settings)
    return count
