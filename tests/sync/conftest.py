"""Fixtures for the sync tests: a sandbox on loopback (reset before each test), a workspace
with the demo's systems and connectors pointing at it, and helpers to define flows, run
them in-process and read the hub and the sandbox's own data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from core.connectors.catalog import Catalog
from core.connectors.registry import ConnectorInput, create_connector
from core.demo import SYSTEMS, demo_connectors
from core.gateway import Gateway
from core.integrations import IntegrationInput, create_integration
from core.runs import RunView, claim_next_run, get_run, request_run
from core.sync.engine import SyncRun
from core.systems import create_system
from core.workspace import Workspace
from db.engine import read_session
from db.models import HubRecord
from sandbox.server import SandboxHandle, start_in_thread
from tests.conftest import ADMIN

HUBSPOT_AUTH = {"Authorization": "Bearer pat-sandbox-hubspot"}
CUSTOM_VALUES = {"api_key": "sandbox-custom-key", "check_path": "/api/v1/me"}
# the demo's systems, with the vendor each one stands for
SOURCE_SYSTEM = {
    "hubspot": "CRM",
    "mailchimp": "MAP",
    "google_ads": "Ad platforms",
    "salesforce": "CRM",
    "stripe": "Billing",
    "custom_rest_api": "Website",
    "inbound_webhook": "Website",
    "warehouse": "BigQuery",
    "google_analytics_4": "GA4",
}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    handle = start_in_thread(port=0)
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(
    sandbox_server: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[httpx.Client]:
    """The sandbox's control API, after a reset; the demo points at this sandbox."""
    monkeypatch.setenv("SWITCHBOARD_SANDBOX_URL", sandbox_server.base_url)
    with httpx.Client(base_url=sandbox_server.base_url, timeout=30) as client:
        client.post("/_control/reset").raise_for_status()
        yield client


# --- steering the sandbox ----------------------------------------------------------------


def fault(sandbox: httpx.Client, vendor: str, kind: str, count: int = 1, **options: Any) -> None:
    """Queue a fault for the vendor's next requests (faults fire in queue order)."""
    body = {"vendor": vendor, "kind": kind, "count": count, **options}
    sandbox.post("/_control/faults", json=body).raise_for_status()


def pass_through(sandbox: httpx.Client, vendor: str, count: int = 1) -> None:
    """Let the vendor's next ``count`` requests through untouched (a zero-second delay),
    so that a fault queued after this one hits a later page."""
    fault(sandbox, vendor, "slow", count=count, delay_seconds=0)


def resize(sandbox: httpx.Client, vendor: str, name: str, count: int) -> None:
    body = {"vendor": vendor, "object": name, "count": count}
    sandbox.post("/_control/dataset", json=body).raise_for_status()


def hubspot_contact_ids(sandbox: httpx.Client) -> list[str]:
    """Every contact id HubSpot (the sandbox) holds, read through its own API."""
    ids: list[str] = []
    after = None
    while True:
        params = {"limit": "100", **({"after": after} if after else {})}
        response = sandbox.get(
            "/hubspot/crm/v3/objects/contacts", params=params, headers=HUBSPOT_AUTH
        )
        response.raise_for_status()
        body = response.json()
        ids += [r["id"] for r in body["results"]]
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            return ids


def hubspot_upsert(sandbox: httpx.Client, email: str, **properties: str) -> dict:
    """Change (or create) a contact through HubSpot's batch upsert API, matched on e-mail."""
    body = {"inputs": [{"idProperty": "email", "id": email, "properties": properties}]}
    response = sandbox.post(
        "/hubspot/crm/v3/objects/contacts/batch/upsert", json=body, headers=HUBSPOT_AUTH
    )
    response.raise_for_status()
    return response.json()["results"][0]


def hubspot_contact(sandbox: httpx.Client, contact_id: str) -> dict:
    response = sandbox.get(
        f"/hubspot/crm/v3/objects/contacts/{contact_id}",
        params={"properties": "email,firstname,lastname"},
        headers=HUBSPOT_AUTH,
    )
    response.raise_for_status()
    return response.json()


# --- the workspace -----------------------------------------------------------------------


@dataclass
class Stack:
    """A workspace with the demo's systems and sandbox connectors (by template id)."""

    ws: Workspace
    systems: dict[str, int]
    connectors: dict[str, int]

    def flow(
        self,
        name: str,
        template: str,
        stream: str = "",
        *,
        sync_mode: str = "incremental_upsert",
        mappings: Sequence[tuple[str, str]] = (),
        destination: str | None = None,
        destination_stream: str = "",
        write_mode: str = "upsert",
        method: str = "api",
        data: str = "Contacts",
        connector_id: int | None = None,
        destination_system: str = "BigQuery",
        catalog: Catalog | None = None,
        enabled: bool = False,
        frequency: str = "hourly",
    ) -> int:
        """Define a flow from the template's sandbox connector (or ``connector_id``).
        Disabled by default, so only the runs a test asks for happen."""
        flow = create_integration(
            self.ws,
            ADMIN,
            IntegrationInput(
                name=name,
                source_system_id=self.systems[SOURCE_SYSTEM[template]],
                destination_system_id=self.systems[destination_system],
                data=data,
                frequency=frequency,
                method=method,
                enabled=enabled,
                source_connector_id=connector_id or self.connectors[template],
                source_stream=stream,
                destination_connector_id=self.connectors[destination] if destination else None,
                destination_stream=destination_stream,
                write_mode=write_mode,
                sync_mode=sync_mode,
            ),
            list(mappings),
            catalog=catalog,
        )
        return flow.id

    def connector(self, name: str, template: str, base_url: str, **values: str) -> int:
        """Another connector of a template, with its own base URL and form values."""
        return create_connector(self.ws, ADMIN, ConnectorInput(name, template, base_url, values)).id


def build_stack(ws: Workspace, sandbox_url: str) -> Stack:
    systems = {s.name: create_system(ws, ADMIN, s).id for s in SYSTEMS}
    connectors: dict[str, int] = {}
    for spec, system_name in demo_connectors(sandbox_url):
        if spec.template_id in connectors:
            continue
        system_id = systems.get(system_name) if system_name else None
        connectors[spec.template_id] = create_connector(
            ws,
            ADMIN,
            ConnectorInput(
                spec.name, spec.template_id, spec.base_url, spec.values, spec.domain, system_id
            ),
        ).id
    connectors["custom_rest_api"] = create_connector(
        ws,
        ADMIN,
        ConnectorInput(
            "Lead portal (sandbox)", "custom_rest_api", f"{sandbox_url}/custom", CUSTOM_VALUES
        ),
    ).id
    return Stack(ws, systems, connectors)


@pytest.fixture
def stack(ws: Workspace, sandbox: httpx.Client) -> Stack:
    return build_stack(ws, str(sandbox.base_url).rstrip("/"))


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A gateway that never really sleeps between retries."""
    gw = Gateway(timeout_seconds=10, sleep=lambda seconds: None)
    yield gw
    gw.close()


# --- running and reading -----------------------------------------------------------------


def run_flow(
    ws: Workspace,
    flow_id: int,
    gateway: Gateway,
    *,
    catalog: Catalog | None = None,
    before: Callable[[int], None] | None = None,
) -> RunView:
    """Run now, as a worker would: request, claim (with its lease), execute; the run as the
    Runs page shows it. ``before(run_id)`` is called between the claim and the run."""
    requested = request_run(ws, ADMIN, flow_id)
    claimed = claim_next_run(ws, "test-worker")
    assert claimed == requested.id
    if before is not None:
        before(requested.id)
    SyncRun(ws, gateway, requested.id, "test-worker", catalog=catalog).execute()
    return get_run(ws, ADMIN, requested.id)


def hub(ws: Workspace, entity: str) -> dict[str, dict]:
    """The hub's records of an entity: external key → fields (a form's person, keyed in the
    hub by the digest of their e-mail, is shown here by the e-mail)."""
    with read_session(ws.engine) as session:
        rows = session.exec(select(HubRecord).where(HubRecord.entity == entity)).all()
    records = {}
    for row in rows:
        fields = json.loads(row.fields_json)
        key = row.external_key
        if key.startswith("person:"):
            key = fields.get("email", key)
        records[key] = fields
    return records


def hub_count(ws: Workspace, entity: str) -> int:
    """Rows, not keys: a doubled record would show here."""
    with read_session(ws.engine) as session:
        return session.exec(
            select(func.count()).select_from(HubRecord).where(HubRecord.entity == entity)
        ).one()
