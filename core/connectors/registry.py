"""Configured connectors: create, read, update, delete — validated, audited, secrets sealed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, select

from core import audit
from core.connectors.catalog import Catalog, default_catalog
from core.connectors.form import check_values, url_problem
from core.connectors.secrets import read_secrets, secret_hints, store_secret
from core.connectors.template import ConnectorTemplate
from core.errors import FieldProblem, InputError, NotFound, SwitchboardError
from core.permissions import DOMAINS, Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Connector, ConnectorSecret, System, utcnow


@dataclass(frozen=True)
class ConnectorInput:
    """What the connector form sends. Blank secrets on an update keep the stored ones."""

    name: str
    template_id: str
    base_url: str
    values: dict[str, str] = field(default_factory=dict)
    domain: str = "Marketing"
    system_id: int | None = None


@dataclass(frozen=True)
class ConnectorView:
    """A connector as a page may see it: secrets only as ``••••abcd``."""

    id: int
    name: str
    template_id: str
    template_name: str
    category: str
    base_url: str
    domain: str
    system_id: int | None
    system_name: str
    values: dict[str, str]
    secret_hints: dict[str, str]
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str
    updated_at: datetime


@dataclass(frozen=True)
class Connection:
    """Everything the gateway needs to call a vendor, secrets opened. Never shown."""

    connector_id: int | None
    name: str
    template: ConnectorTemplate
    base_url: str
    values: dict[str, str]
    # whose rate budget the calls draw on (default: the connector's own)
    budget_key: str | None = None

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Connection(id={self.connector_id!r}, name={self.name!r})"


def _validate(
    session: Session,
    catalog: Catalog,
    data: ConnectorInput,
    *,
    existing_id: int | None,
    kept_secrets: set[str],
) -> tuple[ConnectorTemplate, dict[str, str], dict[str, str]]:
    """All problems at once; returns the template, plain values and secret values."""
    problems: list[FieldProblem] = []
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("Name", "is empty; give the connector a name."))
    elif len(name) > 80:
        problems.append(FieldProblem("Name", "is longer than 80 characters; shorten it."))
    else:
        clash = session.exec(
            select(Connector.id).where(func.lower(Connector.name) == name.lower())
        ).first()
        if clash is not None and clash != existing_id:
            problems.append(
                FieldProblem(
                    "Name", f"'{name}' is already used by another connector; pick another."
                )
            )
    try:
        template = catalog.get(data.template_id)
    except NotFound as exc:
        raise InputError.one("Template", str(exc)) from None
    if data.domain not in DOMAINS:
        problems.append(FieldProblem("Domain", f"must be one of: {', '.join(DOMAINS)}."))
    if data.system_id is not None and session.get(System, data.system_id) is None:
        problems.append(FieldProblem("System", "no longer exists; pick another."))
    base_problem = None if template.direction == "inbound" else url_problem(data.base_url)
    if base_problem:
        problems.append(FieldProblem("Base URL", base_problem))
    known = {f.name for f in template.fields}
    unknown = sorted(set(data.values) - known)
    if unknown:
        problems.append(
            FieldProblem("Form", f"has fields the template does not know: {', '.join(unknown)}.")
        )
    values = {
        f.name: (
            data.values.get(f.name, "")
            if f.kind == "secret"
            else data.values.get(f.name, "").strip()
        )
        for f in template.fields
    }
    problems.extend(check_values(template, values, kept_secrets))
    if problems:
        raise InputError(problems)
    secret_names = {f.name for f in template.secret_fields}
    plain = {k: v for k, v in values.items() if k not in secret_names}
    secrets = {k: v.strip() for k, v in values.items() if k in secret_names and v.strip()}
    return template, plain, secrets


def _public(connector: Connector, hints: dict[str, str]) -> dict:
    """A connector as written to the audit trail: no secret, only which ones are set."""
    return {
        "name": connector.name,
        "template": connector.template_id,
        "base_url": connector.base_url,
        "domain": connector.domain,
        "system_id": connector.system_id,
        "settings": json.loads(connector.config_json),
        "secrets": hints,
    }


def create_connector(
    ws: Workspace, actor: Actor, data: ConnectorInput, catalog: Catalog | None = None
) -> ConnectorView:
    """Validate, store the connector and seal its secrets, audited, in one transaction.

    The actor must be an editor in the domain the new connector belongs to."""
    require(actor, Action.MANAGE_CONNECTORS, _submitted_domain(data))
    catalog = catalog or default_catalog()
    with transaction(ws) as session:
        template, plain, secrets = _validate(
            session, catalog, data, existing_id=None, kept_secrets=set()
        )
        connector = Connector(
            name=data.name.strip(),
            template_id=template.id,
            base_url=data.base_url.strip().rstrip("/"),
            config_json=json.dumps(plain, sort_keys=True),
            domain=data.domain,
            system_id=data.system_id,
            created_by=actor.username,
        )
        session.add(connector)
        session.flush()
        for name, value in secrets.items():
            store_secret(session, ws.vault, connector.id, name, value)
        session.flush()
        hints = secret_hints(session, connector.id)
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="connector",
            entity_id=connector.id,
            summary=f"Created connector {connector.name} ({template.name})",
            after=_public(connector, hints),
        )
        return _view(session, connector, catalog)


def update_connector(
    ws: Workspace,
    actor: Actor,
    connector_id: int,
    data: ConnectorInput,
    catalog: Catalog | None = None,
) -> ConnectorView:
    """Change a connector; a blank secret keeps the stored one.

    Moving a connector to another domain takes the right in both: the one it leaves and
    the one it joins."""
    require(actor, Action.MANAGE_CONNECTORS)
    catalog = catalog or default_catalog()
    with transaction(ws) as session:
        connector = _get(session, connector_id)
        require(actor, Action.MANAGE_CONNECTORS, connector.domain)
        require(actor, Action.MANAGE_CONNECTORS, _submitted_domain(data, connector.domain))
        if data.template_id != connector.template_id:
            raise InputError.one(
                "Template", "cannot change; create a new connector for another system."
            )
        stored = set(secret_hints(session, connector_id))
        template, plain, secrets = _validate(
            session, catalog, data, existing_id=connector_id, kept_secrets=stored
        )
        before = _public(connector, secret_hints(session, connector_id))
        connector.name = data.name.strip()
        connector.base_url = data.base_url.strip().rstrip("/")
        connector.config_json = json.dumps(plain, sort_keys=True)
        connector.domain = data.domain
        connector.system_id = data.system_id
        connector.updated_at = utcnow()
        session.add(connector)
        for name, value in secrets.items():
            store_secret(session, ws.vault, connector_id, name, value)
        session.flush()
        after = _public(connector, secret_hints(session, connector_id))
        if secrets:
            after["secrets_replaced"] = sorted(secrets)
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="connector",
            entity_id=connector_id,
            summary=f"Updated connector {connector.name}",
            before=old,
            after=new,
        )
        return _view(session, connector, catalog)


def delete_connector(ws: Workspace, actor: Actor, connector_id: int) -> None:
    """Remove a connector and its secrets, audited."""
    require(actor, Action.MANAGE_CONNECTORS)
    with transaction(ws) as session:
        connector = _get(session, connector_id)
        require(actor, Action.MANAGE_CONNECTORS, connector.domain)
        before = _public(connector, secret_hints(session, connector_id))
        session.execute(delete(ConnectorSecret).where(ConnectorSecret.connector_id == connector_id))
        session.delete(connector)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="connector",
            entity_id=connector_id,
            summary=f"Deleted connector {connector.name}",
            before=before,
        )


def _submitted_domain(data: ConnectorInput, current: str | None = None) -> str | None:
    """The domain a form asks for, when it is a real one; an unknown domain is left to
    validation, which names the field and the choices."""
    return data.domain if data.domain in DOMAINS else current


def connector_domain(ws: Workspace, connector_id: int) -> str:
    """The domain a stored connector belongs to (for permission checks before a call)."""
    with read_session(ws.engine) as session:
        return _get(session, connector_id).domain


def _get(session: Session, connector_id: int) -> Connector:
    connector = session.get(Connector, connector_id)
    if connector is None:
        raise NotFound(
            f"Connector #{connector_id} no longer exists.",
            fix="It was deleted meanwhile; reload the page.",
        )
    return connector


def _view(session: Session, connector: Connector, catalog: Catalog) -> ConnectorView:
    try:
        template = catalog.get(connector.template_id)
        template_name, category = template.name, template.category
    except SwitchboardError:
        template_name, category = f"{connector.template_id} (template missing)", "other"
    system = session.get(System, connector.system_id) if connector.system_id else None
    return ConnectorView(
        id=connector.id,
        name=connector.name,
        template_id=connector.template_id,
        template_name=template_name,
        category=category,
        base_url=connector.base_url,
        domain=connector.domain,
        system_id=connector.system_id,
        system_name=system.name if system else "",
        values=json.loads(connector.config_json),
        secret_hints=secret_hints(session, connector.id),
        last_test_at=connector.last_test_at,
        last_test_ok=connector.last_test_ok,
        last_test_message=connector.last_test_message,
        updated_at=connector.updated_at,
    )


def list_connectors(
    ws: Workspace, actor: Actor, catalog: Catalog | None = None
) -> list[ConnectorView]:
    require(actor, Action.VIEW_REGISTRY)
    catalog = catalog or default_catalog()
    with read_session(ws.engine) as session:
        rows = session.exec(select(Connector).order_by(Connector.name)).all()
        return [_view(session, c, catalog) for c in rows]


def get_connector(
    ws: Workspace, actor: Actor, connector_id: int, catalog: Catalog | None = None
) -> ConnectorView:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        return _view(session, _get(session, connector_id), catalog or default_catalog())


def load_connection(ws: Workspace, connector_id: int, catalog: Catalog | None = None) -> Connection:
    """The connector with its secrets opened, for the gateway."""
    catalog = catalog or default_catalog()
    with read_session(ws.engine) as session:
        connector = _get(session, connector_id)
        values = json.loads(connector.config_json)
        values.update(read_secrets(session, ws.vault, connector_id))
        return Connection(
            connector_id=connector.id,
            name=connector.name,
            template=catalog.get(connector.template_id),
            base_url=connector.base_url,
            values=values,
        )


def draft_connection(
    ws: Workspace,
    actor: Actor,
    data: ConnectorInput,
    connector_id: int | None = None,
    catalog: Catalog | None = None,
) -> Connection:
    """A connection from an unsaved form, so it can be tested before saving. Blank
    secrets fall back to the stored connector's, so the actor needs the right in the
    stored connector's domain as well as in the one the form names."""
    require(actor, Action.TEST_CONNECTORS, _submitted_domain(data))
    catalog = catalog or default_catalog()
    with read_session(ws.engine) as session:
        stored: dict[str, str] = {}
        if connector_id is not None:
            require(actor, Action.TEST_CONNECTORS, _get(session, connector_id).domain)
            stored = read_secrets(session, ws.vault, connector_id)
        template, plain, secrets = _validate(
            session, catalog, data, existing_id=connector_id, kept_secrets=set(stored)
        )
    values = {**plain, **stored, **secrets}
    return Connection(
        connector_id=connector_id,
        name=data.name.strip(),
        template=template,
        base_url=data.base_url.strip().rstrip("/"),
        values=values,
    )


def record_test_result(
    ws: Workspace, actor: Actor, connector_id: int, ok: bool, message: str
) -> None:
    """Remember the last Test connection result on the connector, audited."""
    require(actor, Action.TEST_CONNECTORS)
    with transaction(ws) as session:
        connector = _get(session, connector_id)
        require(actor, Action.TEST_CONNECTORS, connector.domain)
        connector.last_test_at = utcnow()
        connector.last_test_ok = ok
        connector.last_test_message = message
        session.add(connector)
        audit.record(
            session,
            actor=actor.username,
            action="test",
            entity="connector",
            entity_id=connector_id,
            summary=f"Tested connector {connector.name}: {'ok' if ok else 'failed'} — {message}",
        )
