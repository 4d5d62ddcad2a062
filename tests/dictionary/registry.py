"""A small registry built straight in the store: systems, flows, field mappings, runs.

Flows are written as rows (not through the Integrations page's service) so these tests
depend only on the registry's tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.systems import SystemInput, create_system
from core.workspace import Workspace
from db.engine import write_session
from db.models import FieldMapping, Integration, IntegrationRun
from tests.conftest import ADMIN

SEED_SYSTEMS = (
    SystemInput("Website", "website", "Company website", "Marketing"),
    SystemInput("GA4", "analytics", "Google Analytics 4", "Marketing"),
    SystemInput("BigQuery", "warehouse", "Google BigQuery", "Product", pii_cleared=True),
    SystemInput("CRM", "crm", "HubSpot", "Sales", pii_cleared=True),
    SystemInput("MAP", "map", "Mailchimp", "Marketing", pii_cleared=True),
    SystemInput("Ad platforms", "ads", "Google Ads", "Marketing"),
    SystemInput("Billing", "billing", "Stripe", "Finance", pii_cleared=True),
)
SEED_FLOWS = (
    ("Website → GA4 events", "Website", "GA4", "Events", "real-time", "javascript", "Marketing"),
    ("GA4 → BigQuery export", "GA4", "BigQuery", "Analytics", "daily", "native", "Marketing"),
    ("CRM → MAP contacts", "CRM", "MAP", "Contacts", "real-time", "api", "Marketing"),
    ("MAP → CRM activities", "MAP", "CRM", "Activities", "real-time", "api", "Sales"),
    ("Ad spend → Warehouse", "Ad platforms", "BigQuery", "Spend", "daily", "etl", "Marketing"),
    ("Website forms → CRM", "Website", "CRM", "Form data", "real-time", "webhook", "Sales"),
)


def add_systems(ws: Workspace, systems=SEED_SYSTEMS) -> dict[str, int]:
    return {s.name: create_system(ws, ADMIN, s).id for s in systems}


def add_flow(
    ws: Workspace,
    systems: dict[str, int],
    name: str,
    source: str,
    destination: str,
    data: str = "Records",
    frequency: str = "daily",
    method: str = "api",
    domain: str = "Marketing",
    mappings: tuple[tuple[str, str], ...] = (),
    runs: tuple[str, ...] = (),
) -> int:
    """A flow, its field mappings, and finished runs (oldest first)."""
    with write_session(ws.engine) as session:
        flow = Integration(
            name=name,
            source_system_id=systems[source],
            destination_system_id=systems[destination],
            data=data,
            frequency=frequency,
            method=method,
            domain=domain,
        )
        session.add(flow)
        session.flush()
        for position, (a, b) in enumerate(mappings):
            session.add(
                FieldMapping(
                    integration_id=flow.id, source_field=a, destination_field=b, position=position
                )
            )
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for i, status in enumerate(runs):
            session.add(
                IntegrationRun(
                    integration_id=flow.id,
                    status=status,
                    requested_at=start + timedelta(hours=i),
                    finished_at=start + timedelta(hours=i, minutes=1),
                )
            )
        return flow.id


def seed_registry(ws: Workspace) -> dict[str, int]:
    systems = add_systems(ws)
    for name, source, destination, data, frequency, method, domain in SEED_FLOWS:
        add_flow(ws, systems, name, source, destination, data, frequency, method, domain)
    return systems
