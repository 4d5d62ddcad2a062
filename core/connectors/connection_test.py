"""``Test connection``: one real request through the gateway, and a verdict in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.connectors.registry import (
    Connection,
    ConnectorInput,
    connector_domain,
    draft_connection,
    load_connection,
    record_test_result,
)
from core.errors import ConnectorError
from core.gateway import Gateway, fill
from core.permissions import Action, Actor, require
from core.workspace import Workspace


@dataclass(frozen=True)
class ConnectionVerdict:
    """What a person sees after pressing Test connection."""

    ok: bool
    verdict: str
    fix: str = ""
    status: int | None = None
    latency_ms: float | None = None
    # configuration | vendor | passing fault (empty when ok)
    whose: str = ""


def check_connection(gateway: Gateway, connection: Connection) -> ConnectionVerdict:
    """Make the template's check request and judge the answer."""
    template = connection.template
    if template.check is None:
        return ConnectionVerdict(
            ok=True,
            verdict=f"Nothing to call: a {template.name} connector only receives events, and "
            "each event must carry a valid signature made with its signing secret.",
        )
    check = template.check
    host = urlsplit(fill(connection.base_url, connection.values)).hostname or connection.base_url
    try:
        response = gateway.call(
            connection,
            check.method,
            check.path,
            params=check.params,
            headers=check.headers,
            json_body=check.body,
            retry=False,
        )
    except ConnectorError as exc:
        return ConnectionVerdict(
            ok=False,
            verdict=exc.message,
            fix=exc.fix,
            status=exc.status,
            whose=str(exc.whose),
        )
    return ConnectionVerdict(
        ok=True,
        verdict=f"Connected: {host} accepted the credentials and answered "
        f"{response.status} in {response.latency_ms:.0f} ms.",
        status=response.status,
        latency_ms=response.latency_ms,
    )


def check_saved_connector(
    ws: Workspace, actor: Actor, gateway: Gateway, connector_id: int
) -> ConnectionVerdict:
    """Test a stored connector and remember the result on it."""
    require(actor, Action.TEST_CONNECTORS, connector_domain(ws, connector_id))
    verdict = check_connection(gateway, load_connection(ws, connector_id))
    record_test_result(ws, actor, connector_id, verdict.ok, verdict.verdict)
    return verdict


def check_draft_connector(
    ws: Workspace,
    actor: Actor,
    gateway: Gateway,
    data: ConnectorInput,
    connector_id: int | None = None,
) -> ConnectionVerdict:
    """Test what is in the form before saving (blank secrets use the stored ones)."""
    return check_connection(gateway, draft_connection(ws, actor, data, connector_id))
