"""Consent per person and purpose: which flows carry it, which flow requires it, and how
many people gave or refused it.

A flow carries consent when its source records say, in one field per purpose, whether the
person agreed: Mailchimp's member ``status`` is "subscribed" for e-mail marketing. The sync
gate (``core/sync/gate.py``) records what a flow carries, newest first, and when the flow
requires a purpose lets through only people who gave it, counting the rest on the run.

    set_flow_consent(ws, me, flow_id, {"email_marketing": {"field": "status",
                                                            "granted": ["subscribed"]}},
                     required_purpose="email_marketing")
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from core import audit
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.pii import email_digest, normalise_email
from core.sync.gate import GRANTED_VALUES, PURPOSES
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import Consent
from db.models import Integration, utcnow

# a dotted path of non-empty segments without spaces: "status", "properties.hs_optin"
_PATH = re.compile(r"[^\s.]+(\.[^\s.]+)*")
DEFAULT_GRANTED = tuple(sorted(GRANTED_VALUES))


@dataclass(frozen=True)
class ConsentSetting:
    """Where a flow's source records say whether a person consented to one purpose."""

    field: str
    # values meaning "yes" (case-insensitive); empty means the usual ones (DEFAULT_GRANTED)
    granted: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlowConsent:
    """A flow's consent settings, as its page shows them."""

    integration_id: int
    name: str
    domain: str
    carries: dict[str, ConsentSetting]
    required_purpose: str


@dataclass(frozen=True)
class Coverage:
    """How many people gave or refused one purpose, as the flows carrying it said."""

    purpose: str
    label: str
    granted: int
    denied: int


@dataclass(frozen=True)
class PersonConsent:
    purpose: str
    label: str
    granted: bool
    source: str
    recorded_at: datetime


def _settings(consent_json: str) -> dict[str, ConsentSetting]:
    stored = json.loads(consent_json or "{}")
    return {
        purpose: ConsentSetting(spec.get("field", ""), tuple(spec.get("granted") or ()))
        for purpose, spec in stored.items()
    }


def _flow(session: Any, integration_id: int) -> Integration:
    flow = session.get(Integration, integration_id)
    if flow is None:
        raise NotFound(
            f"Flow #{integration_id} no longer exists.", fix="It was deleted meanwhile; reload."
        )
    return flow


def flow_consent(ws: Workspace, actor: Actor, integration_id: int) -> FlowConsent:
    """The consent a flow carries and the purpose it requires."""
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        flow = _flow(session, integration_id)
        return FlowConsent(
            flow.id, flow.name, flow.domain, _settings(flow.consent_json), flow.required_purpose
        )


def _granted_values(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(dict.fromkeys(str(v).strip() for v in value or () if str(v).strip()))


def _checked(
    carries: Mapping[str, Mapping[str, Any]], required_purpose: str
) -> tuple[dict[str, ConsentSetting], list[FieldProblem]]:
    """The settings cleaned, and one problem per bad field."""
    valid = ", ".join(f"{label} ({key})" for key, label in PURPOSES.items())
    problems: list[FieldProblem] = []
    clean: dict[str, ConsentSetting] = {}
    for purpose, spec in carries.items():
        if purpose not in PURPOSES:
            problems.append(FieldProblem(f"Purpose '{purpose}'", f"is not one of: {valid}."))
            continue
        path = str((spec or {}).get("field") or "").strip()
        label = f"{PURPOSES[purpose]} field"
        if not path:
            problems.append(
                FieldProblem(
                    label,
                    "is empty; name the source field that says whether the person agreed "
                    "(e.g. status), or stop carrying this purpose.",
                )
            )
        elif not _PATH.fullmatch(path):
            problems.append(
                FieldProblem(
                    label,
                    f"'{path}' is not a field path; write it as names joined by dots, "
                    "without spaces (e.g. properties.hs_email_optin).",
                )
            )
        else:
            clean[purpose] = ConsentSetting(path, _granted_values((spec or {}).get("granted")))
    if required_purpose and required_purpose not in PURPOSES:
        problems.append(
            FieldProblem(
                "Required purpose", f"'{required_purpose}' is not one of: {valid}; or none."
            )
        )
    return clean, problems


def _stored(settings: dict[str, ConsentSetting]) -> str:
    return json.dumps(
        {p: {"field": s.field, "granted": list(s.granted)} for p, s in settings.items()},
        sort_keys=True,
    )


def set_flow_consent(
    ws: Workspace,
    actor: Actor,
    integration_id: int,
    carries: Mapping[str, Mapping[str, Any]],
    required_purpose: str = "",
) -> FlowConsent:
    """Say which source field carries each purpose's consent, and which purpose the flow's
    records must hold to pass ("" for none). Needs editor rights in the flow's domain."""
    with read_session(ws.engine) as session:
        domain = _flow(session, integration_id).domain
    require(actor, Action.MANAGE_INTEGRATIONS, domain)
    required_purpose = (required_purpose or "").strip()
    clean, problems = _checked(carries, required_purpose)
    if problems:
        raise InputError(problems)
    with transaction(ws) as session:
        flow = _flow(session, integration_id)
        require(actor, Action.MANAGE_INTEGRATIONS, flow.domain)
        before = {
            "carries": json.loads(flow.consent_json or "{}"),
            "requires": flow.required_purpose,
        }
        flow.consent_json = _stored(clean)
        flow.required_purpose = required_purpose
        flow.updated_at = utcnow()
        session.add(flow)
        carried = ", ".join(PURPOSES[p] for p in clean) or "no consent"
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="integration",
            entity_id=integration_id,
            summary=f"Consent settings of flow {flow.name}: carries {carried}; requires "
            f"{PURPOSES.get(required_purpose, 'no purpose')}",
            before=before,
            after={"carries": json.loads(flow.consent_json), "requires": required_purpose},
        )
        return FlowConsent(flow.id, flow.name, flow.domain, clean, required_purpose)


def consent_coverage(ws: Workspace, actor: Actor) -> list[Coverage]:
    """Per purpose, how many people gave it and how many refused it (counts only)."""
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        counts = session.exec(
            select(Consent.purpose, Consent.granted, func.count()).group_by(
                Consent.purpose, Consent.granted
            )
        ).all()
    found = {(purpose, bool(granted)): n for purpose, granted, n in counts}
    return [
        Coverage(purpose, label, found.get((purpose, True), 0), found.get((purpose, False), 0))
        for purpose, label in PURPOSES.items()
    ]


def person_consents(ws: Workspace, actor: Actor, email: str) -> list[PersonConsent]:
    """What a person's consents are on file, newest flow's word per purpose."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    if normalise_email(email) is None:
        raise InputError.one(
            "E-mail", "is not an e-mail address; enter it whole, like name@example.com."
        )
    digest = email_digest(ws, email)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(Consent).where(Consent.email_digest == digest).order_by(Consent.purpose)
        ).all()
    return [
        PersonConsent(
            r.purpose, PURPOSES.get(r.purpose, r.purpose), r.granted, r.source, r.recorded_at
        )
        for r in rows
    ]
