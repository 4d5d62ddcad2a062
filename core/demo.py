"""The demo workspace: the seed's systems and six flows, three demo users (an editor, a
viewer and Marketing's domain lead), the personal-data fields of the dictionary, consent
carried by the MAP → CRM flow, and connectors pointing at the local sandbox. Loading it
twice changes nothing.

    python -m core.demo
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sqlmodel import select

from core.accounts import create_user, ensure_first_admin
from core.alert_channels import load_demo_channels
from core.connectors.registry import ConnectorInput, create_connector, list_connectors
from core.consent import set_flow_consent
from core.dictionary import load_demo_dictionary
from core.domain_roles import set_domain_role
from core.errors import SwitchboardError
from core.integrations import IntegrationInput, create_integration
from core.permissions import Actor
from core.settings import PROJECT_ROOT
from core.systems import SystemInput, create_system
from core.workspace import Workspace, open_workspace
from db.engine import read_session
from db.models import Integration, System, User

DEMO_USERS = (
    ("editor", "Erin Editor", "editor", "switchboard-editor"),
    ("viewer", "Victor Viewer", "viewer", "switchboard-viewer"),
    ("lead", "Lena Lead", "viewer", "switchboard-lead"),
)
# Lena leads Marketing (and so sees its personal data); elsewhere she views
DEMO_DOMAIN_ROLES = (("lead", "Marketing", "lead"),)

# the personal data the demo flows carry, marked so the hub seals it
PERSONAL_FIELDS = (
    ("email_address", "MAP", "Email", "Subscriber e-mail", "jane@example.com", {"pii": True}),
    ("merge_fields.FNAME", "MAP", "String", "Subscriber first name", "Jane", {"pii": True}),
    ("merge_fields.LNAME", "MAP", "String", "Subscriber last name", "Doe", {"pii": True}),
    ("firstname", "CRM", "String", "Contact first name", "Jane", {"pii": True}),
    ("lastname", "CRM", "String", "Contact last name", "Doe", {"pii": True}),
)
# Mailchimp says whether a member subscribed: the MAP → CRM flow carries that consent
DEMO_CONSENT = {
    "MAP → CRM activities": {"email_marketing": {"field": "status", "granted": ["subscribed"]}}
}

SYSTEMS = (
    SystemInput("Website", "website", "Company website", "Marketing", "Public site and forms"),
    SystemInput("GA4", "analytics", "Google Analytics 4", "Marketing", "Web analytics"),
    SystemInput("BigQuery", "warehouse", "Google BigQuery", "Product", "The data warehouse", True),
    SystemInput("CRM", "crm", "HubSpot", "Sales", "Contacts, companies and deals", True),
    SystemInput("MAP", "map", "Mailchimp", "Marketing", "E-mail marketing audiences", True),
    SystemInput("Ad platforms", "ads", "Google Ads", "Marketing", "Paid search and display"),
    SystemInput("Billing", "billing", "Stripe", "Finance", "Customers, charges, invoices", True),
)


@dataclass(frozen=True)
class Wiring:
    """How the worker moves a demo flow: connectors by name, streams, field mapping."""

    source: str
    stream: str = ""
    sync_mode: str = "incremental_upsert"
    destination: str | None = None
    destination_stream: str = ""
    write_mode: str = "upsert"
    mappings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DemoFlow:
    name: str
    source: str
    destination: str
    data: str
    frequency: str
    method: str
    domain: str
    criticality: str
    wiring: Wiring | None = None
    every_minutes: int | None = None


WEBHOOK_SECRET = "demo-signing-secret-2026"

FLOWS = (
    DemoFlow(
        "Website → GA4 events",
        "Website",
        "GA4",
        "Events",
        "real-time",
        "javascript",
        "Marketing",
        "medium",
    ),
    DemoFlow(
        "GA4 → BigQuery export",
        "GA4",
        "BigQuery",
        "Analytics",
        "daily",
        "native",
        "Marketing",
        "medium",
    ),
    DemoFlow(
        "CRM → MAP contacts",
        "CRM",
        "MAP",
        "Contacts",
        "real-time",
        "api",
        "Marketing",
        "high",
        Wiring(
            "HubSpot (sandbox)",
            "contacts",
            destination="Mailchimp (sandbox)",
            destination_stream="members",
            mappings=(
                ("properties.email", "email_address"),
                ("properties.firstname", "merge_fields.FNAME"),
                ("properties.lastname", "merge_fields.LNAME"),
            ),
        ),
    ),
    DemoFlow(
        "MAP → CRM activities",
        "MAP",
        "CRM",
        "Activities",
        "real-time",
        "api",
        "Sales",
        "high",
        Wiring(
            "Mailchimp (sandbox)",
            "members",
            mappings=(
                ("email_address", "email"),
                ("status", "hs_marketing_status"),
                ("last_changed", "last_activity_at"),
            ),
        ),
    ),
    DemoFlow(
        "Ad spend → Warehouse",
        "Ad platforms",
        "BigQuery",
        "Spend",
        "daily",
        "etl",
        "Marketing",
        "medium",
        Wiring(
            "Google Ads (sandbox)",
            "campaign_spend",
            destination="BigQuery (sandbox)",
            destination_stream="table_rows",
            write_mode="create",
            mappings=(
                ("segments.date", "date"),
                ("campaign.id", "campaign_id"),
                ("campaign.name", "campaign_name"),
                ("metrics.impressions", "impressions"),
                ("metrics.clicks", "clicks"),
                ("metrics.costMicros", "cost_micros"),
            ),
        ),
    ),
    DemoFlow(
        "Website forms → CRM",
        "Website",
        "CRM",
        "Form data",
        "real-time",
        "webhook",
        "Sales",
        "critical",
        Wiring(
            "Website forms (webhook)",
            destination="HubSpot (sandbox)",
            destination_stream="contacts",
            mappings=(("email", "email"), ("first_name", "firstname"), ("last_name", "lastname")),
        ),
    ),
)


def _service_account_json() -> str:
    path = PROJECT_ROOT / "sandbox" / "service_account.json"
    return path.read_text() if path.exists() else ""


def demo_connectors(sandbox_url: str) -> list[tuple[ConnectorInput, str | None]]:
    """The demo's connectors, each pointed at the sandbox, with the system it reaches."""
    google_token = f"{sandbox_url}/google-oauth/token"
    key_json = _service_account_json()
    specs: list[tuple[ConnectorInput, str | None]] = [
        (
            ConnectorInput(
                "HubSpot (sandbox)",
                "hubspot",
                f"{sandbox_url}/hubspot",
                {"access_token": "pat-sandbox-hubspot"},
                "Sales",
            ),
            "CRM",
        ),
        (
            ConnectorInput(
                "Mailchimp (sandbox)",
                "mailchimp",
                f"{sandbox_url}/mailchimp",
                {
                    "dc": "us1",
                    "api_key": "00000000000000000000000000000000-us1",
                    "list_id": "a1b2c3d4e5",
                },
                "Marketing",
            ),
            "MAP",
        ),
        (
            ConnectorInput(
                "Google Ads (sandbox)",
                "google_ads",
                f"{sandbox_url}/google-ads",
                {
                    "token_url": google_token,
                    "client_id": "google-client",
                    "client_secret": "google-secret",
                    "refresh_token": "google-refresh",
                    "developer_token": "sandbox-dev-token",
                    "customer_id": "1234567890",
                },
                "Marketing",
            ),
            "Ad platforms",
        ),
        (
            ConnectorInput(
                "Stripe (sandbox)",
                "stripe",
                f"{sandbox_url}/stripe",
                {"secret_key": "sk_test_sandbox"},
                "Finance",
            ),
            "Billing",
        ),
        (
            ConnectorInput(
                "Salesforce (sandbox)",
                "salesforce",
                f"{sandbox_url}/salesforce",
                {
                    "my_domain": "sandbox",
                    "token_url": f"{sandbox_url}/salesforce/services/oauth2/token",
                    "client_id": "salesforce-client",
                    "client_secret": "salesforce-secret",
                },
                "Sales",
            ),
            None,
        ),
    ]
    specs.append(
        (
            ConnectorInput(
                "Website forms (webhook)",
                "inbound_webhook",
                "",
                {"source_name": "Website", "signing_secret": WEBHOOK_SECRET},
                "Sales",
            ),
            "Website",
        )
    )
    if key_json:
        specs += [
            (
                ConnectorInput(
                    "GA4 (sandbox)",
                    "google_analytics_4",
                    f"{sandbox_url}/ga4",
                    {
                        "token_url": google_token,
                        "service_account_json": key_json,
                        "property_id": "123456789",
                    },
                    "Marketing",
                ),
                "GA4",
            ),
            (
                ConnectorInput(
                    "BigQuery (sandbox)",
                    "warehouse",
                    f"{sandbox_url}/bigquery",
                    {
                        "token_url": google_token,
                        "service_account_json": key_json,
                        "project_id": "sandbox-project",
                        "dataset_id": "marketing",
                        "table_id": "ad_spend",
                    },
                    "Product",
                ),
                "BigQuery",
            ),
        ]
    return specs


def load_demo(ws: Workspace) -> list[str]:
    """Add whatever of the demo is missing; returns what was added."""
    ensure_first_admin(ws)
    actor = Actor.system("demo")
    added: list[str] = []
    with read_session(ws.engine) as session:
        users = set(session.exec(select(User.username)))
        systems = {s.name: s.id for s in session.exec(select(System))}
        flows = set(session.exec(select(Integration.name)))
    for username, name, role, password in DEMO_USERS:
        if username not in users:
            create_user(
                ws, actor, username=username, display_name=name, role=role, password=password
            )
            added.append(f"user {username}")
            for who, domain, domain_role in DEMO_DOMAIN_ROLES:
                if who == username:
                    set_domain_role(ws, actor, username, domain, domain_role)
    for system in SYSTEMS:
        if system.name not in systems:
            systems[system.name] = create_system(ws, actor, system).id
            added.append(f"system {system.name}")
    known = {c.name: c.id for c in list_connectors(ws, actor)}
    for spec, system_name in demo_connectors(ws.settings.sandbox_url):
        if spec.name not in known:
            system_id = systems.get(system_name) if system_name else None
            known[spec.name] = create_connector(
                ws,
                actor,
                ConnectorInput(
                    spec.name, spec.template_id, spec.base_url, spec.values, spec.domain, system_id
                ),
            ).id
            added.append(f"connector {spec.name}")
    for flow in FLOWS:
        if flow.name in flows:
            continue
        wiring = flow.wiring if flow.wiring and flow.wiring.source in known else None
        created = create_integration(
            ws,
            actor,
            IntegrationInput(
                name=flow.name,
                source_system_id=systems[flow.source],
                destination_system_id=systems[flow.destination],
                data=flow.data,
                frequency=flow.frequency,
                method=flow.method,
                domain=flow.domain,
                owner="Marketing Ops",
                criticality=flow.criticality,
                at_time="06:00" if flow.frequency in {"daily", "weekly"} else "",
                source_connector_id=known[wiring.source] if wiring else None,
                source_stream=wiring.stream if wiring else "",
                sync_mode=wiring.sync_mode if wiring else "incremental_upsert",
                destination_connector_id=(
                    known.get(wiring.destination) if wiring and wiring.destination else None
                ),
                destination_stream=wiring.destination_stream if wiring else "",
                write_mode=wiring.write_mode if wiring else "upsert",
            ),
            list(wiring.mappings) if wiring else [],
        )
        added.append(f"flow {flow.name}")
        if flow.name in DEMO_CONSENT and wiring:
            set_flow_consent(ws, actor, created.id, DEMO_CONSENT[flow.name])
    added += load_demo_dictionary(ws)
    added += load_demo_dictionary(ws, PERSONAL_FIELDS)
    added += load_demo_channels(ws, ws.settings.sandbox_url)
    return added


def main() -> int:
    try:
        ws = open_workspace()
        added = load_demo(ws)
    except SwitchboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Demo workspace ready ({len(added)} item(s) added).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
