"""Personal data: sealed at rest, found by a keyed digest, masked for people without the
PII permission of its domain, and every unmasked view written to the access log.

A data-dictionary field marked PII is kept in the hub sealed (AES-256-GCM, like connector
secrets), all of a record's PII fields together, with the record's identity as associated
data. A person is found by the keyed BLAKE2b digest (a MAC) of their normalised e-mail,
under a workspace key that the vault itself seals, so every process shares it and a vault
rotation re-seals it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.permissions import Action, Actor
from core.vault import PageSealer, Sealed, Vault
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.governance import AccessLogEntry, WorkspaceKey

DIGEST_KEY = "email-digest"
MASK = "•••"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# a field that holds an e-mail by its name, when the dictionary does not say
_EMAIL_NAME = re.compile(r"(^|[._\-])e-?mail(_?address)?$", re.IGNORECASE)
_digest_keys: dict[str, bytes] = {}


# -- finding a person without storing their e-mail -----------------------------------------


def normalise_email(value: Any) -> str | None:
    """The e-mail as compared everywhere (trimmed, case-folded), or None if it is none."""
    if not isinstance(value, str):
        return None
    text = value.strip().casefold()
    return text if _EMAIL.match(text) else None


def _digest_key(ws: Workspace) -> bytes:
    cache_key = str(ws.engine.url)
    known = _digest_keys.get(cache_key)
    if known is not None:
        return known
    aad = f"workspace_key:{DIGEST_KEY}"
    for _ in range(2):
        with read_session(ws.engine) as session:
            row = session.get(WorkspaceKey, DIGEST_KEY)
        if row is not None:
            key = base64.b64decode(
                ws.vault.open(Sealed(row.nonce, row.ciphertext, row.key_id), aad)
            )
            _digest_keys[cache_key] = key
            return key
        sealed = ws.vault.seal(base64.b64encode(secrets.token_bytes(32)).decode(), aad)
        try:
            with transaction(ws) as session:
                session.add(
                    WorkspaceKey(
                        name=DIGEST_KEY,
                        nonce=sealed.nonce,
                        ciphertext=sealed.ciphertext,
                        key_id=sealed.key_id,
                    )
                )
        except IntegrityError:
            continue  # another process created it first: read theirs
    raise RuntimeError("the workspace digest key could not be created")


def email_digest(ws: Workspace, email: Any) -> str | None:
    """The keyed digest that stands for a person's e-mail in the store."""
    text = normalise_email(email)
    if text is None:
        return None
    return hashlib.blake2b(text.encode(), key=_digest_key(ws), digest_size=32).hexdigest()


def digester(ws: Workspace) -> Callable[[Any], str | None]:
    """``email_digest`` with the key read once, for many records in a row."""
    key = _digest_key(ws)

    def of(email: Any) -> str | None:
        text = normalise_email(email)
        return (
            None
            if text is None
            else hashlib.blake2b(text.encode(), key=key, digest_size=32).hexdigest()
        )

    return of


_EMAIL_IN_TEXT = re.compile(r"[^@\s\"'<>(),;:]+@[^@\s\"'<>(),;:]+\.[A-Za-z]{2,}")


def scrub(text: str) -> str:
    """``text`` with every e-mail in it cut to its hint: for reasons and errors that are
    stored (a vendor's refusal may quote the address)."""
    return _EMAIL_IN_TEXT.sub(lambda m: email_hint(m.group(0)), text)


def record_label(key: str, digest: Any) -> str:
    """How a refused record is named in the store: its key, unless the key is an e-mail
    (records matched on e-mail), then the person's digest."""
    if normalise_email(key) is None:
        return key
    return f"person:{digest(key)}"


def email_hint(email: str) -> str:
    """Enough of an e-mail to tell requests apart in a list: ``j•••@example.com``."""
    local, _, host = email.strip().partition("@")
    return f"{local[:1]}{MASK}@{host}" if host else MASK


# -- which fields are personal data -----------------------------------------------------------


@dataclass(frozen=True)
class PiiFields:
    """The PII fields of a destination system (case-folded name → domain), and which of
    its fields hold e-mails."""

    domains: Mapping[str, str] = field(default_factory=dict)
    email_fields: tuple[str, ...] = ()

    def domain_of(self, name: str) -> str | None:
        """The domain of a hub field that is or holds personal data: ``merge_fields`` holds
        the PII field ``merge_fields.FNAME`` (dotted destinations build nested values)."""
        folded = name.casefold()
        found = self.domains.get(folded)
        if found is None and self.domains:
            prefix = folded + "."
            found = next((d for n, d in self.domains.items() if n.startswith(prefix)), None)
        return found

    def email_of(self, values: Mapping[str, Any]) -> str | None:
        """The first e-mail the record holds: dictionary e-mail fields first, then any
        field named like one (``email``, ``properties.email``, ``email_address``)."""
        if self.email_fields:
            folded = {name.casefold(): value for name, value in values.items()}
            for name in self.email_fields:
                email = normalise_email(folded.get(name))
                if email:
                    return email
        for name, value in values.items():
            if named_like_email(name):
                email = normalise_email(value)
                if email:
                    return email
        return None


@lru_cache(maxsize=1024)
def named_like_email(name: str) -> bool:
    return bool(_EMAIL_NAME.search(name))


def pii_fields_for(session: Session, system_id: int | None) -> PiiFields:
    """The dictionary's PII fields of a system (where the hub's field names come from)."""
    if system_id is None:
        return PiiFields()
    rows = session.exec(
        select(
            DictionaryField.name,
            DictionaryField.domain,
            DictionaryField.pii,
            DictionaryField.data_type,
        ).where(DictionaryField.system_id == system_id)
    ).all()
    return PiiFields(
        domains={name.casefold(): domain for name, domain, pii, _ in rows if pii},
        email_fields=tuple(name.casefold() for name, _, _, kind in rows if kind == "Email"),
    )


# -- sealing -------------------------------------------------------------------------------------


def hub_aad(entity: str, key: str) -> str:
    return f"hub:{entity}:{key}"


def seal_values(
    vault: Vault | PageSealer, entity: str, key: str, values: Mapping[str, Any]
) -> Sealed | None:
    """A record's PII fields sealed together, or None when it has none."""
    if not values:
        return None
    return vault.seal(json.dumps(values, default=str, sort_keys=True), hub_aad(entity, key))


def open_values(
    vault: Vault, entity: str, key: str, nonce: bytes | None, ciphertext: bytes | None, key_id: str
) -> dict[str, Any]:
    if not ciphertext or nonce is None:
        return {}
    return json.loads(vault.open(Sealed(nonce, ciphertext, key_id), hub_aad(entity, key)))


def conflict_aad(entity: str, key: str, field: str) -> str:
    """What a sealed value of a conflict in the review queue is bound to."""
    return f"conflict:{entity}:{key}:{field}"


def webhook_aad(event_id: int) -> str:
    """What a stored webhook body is sealed with: the body belongs to that event."""
    return f"webhook_event:{event_id}"


def seal_text(vault: Vault, aad: str, text: str) -> str:
    """One value sealed into a text column: ``sealed:<key id>:<nonce>:<ciphertext>``."""
    sealed = vault.seal(text, aad)
    nonce = base64.b64encode(sealed.nonce).decode()
    body = base64.b64encode(sealed.ciphertext).decode()
    return f"sealed:{sealed.key_id}:{nonce}:{body}"


def is_sealed_text(text: str) -> bool:
    return text.startswith("sealed:")


def open_text(vault: Vault, aad: str, text: str) -> str:
    """The value of ``seal_text``; other text comes back as it is."""
    if not is_sealed_text(text):
        return text
    _, key_id, nonce, body = text.split(":", 3)
    return vault.open(Sealed(base64.b64decode(nonce), base64.b64decode(body), key_id), aad)


# -- masking and the access log -----------------------------------------------------------------


def mask_value(value: Any) -> str:
    """What someone without the PII permission sees instead of a value."""
    if value is None or value == "":
        return ""
    text = str(value)
    if "@" in text:
        return email_hint(text)
    return f"{text[:1]}{MASK}"


def reveal(
    ws: Workspace,
    actor: Actor,
    *,
    place: str,
    entity: str,
    rows: list[dict[str, Any]],
    pii: Mapping[str, str],
    kind: str = "view",
) -> list[dict[str, Any]]:
    """``rows`` as ``actor`` may see them: each PII field (name → domain in ``pii``) masked
    unless they hold the PII permission of its domain. What is shown unmasked is written to
    the access log, one entry per domain (field names and a count, never values)."""
    shown: dict[str, set[str]] = {}
    masked = set()
    for name, domain in pii.items():
        if actor.may(Action.VIEW_PII, domain):
            shown.setdefault(domain, set()).add(name)
        else:
            masked.add(name)
    result = [
        {name: (mask_value(v) if name in masked else v) for name, v in row.items()} for row in rows
    ]
    present = [r for r in rows if any(r.get(name) not in (None, "") for name in pii)]
    if present and shown:
        for domain, names in shown.items():
            log_access(
                ws,
                actor,
                place=place,
                kind=kind,
                domain=domain,
                entity=entity,
                fields=names,
                record_count=len(present),
            )
    return result


def log_access(
    ws: Workspace,
    actor: Actor,
    *,
    place: str,
    kind: str,
    domain: str,
    entity: str,
    fields: Iterable[str],
    record_count: int,
) -> None:
    """Write one unmasked view or export of personal data to the access log."""
    with transaction(ws) as session:
        session.add(
            AccessLogEntry(
                username=actor.username,
                kind=kind,
                place=place[:120],
                domain=domain,
                entity=entity[:64],
                fields=", ".join(sorted(fields)),
                record_count=record_count,
            )
        )
