"""Shared pieces of the core tests: a small connector catalog and row counting."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.connectors.catalog import Catalog, parse_template
from core.connectors.registry import ConnectorInput
from core.workspace import Workspace

# A template written for these tests, so they do not depend on the shipped catalog.
TOKEN_API_YAML = """
id: token_api
name: Token API
category: crm
description: A CRM reached with a bearer token and an account number.
base_url: https://api.example.com
auth:
  type: bearer
  field: access_token
fields:
  - name: access_token
    label: Access token
    kind: secret
    pattern: ^pat-[a-z0-9]+-[A-Za-z0-9-]+$
    pattern_hint: A token starts with "pat-" and your region, e.g. pat-na1-...
  - name: account_id
    label: Account ID
    pattern: ^[0-9]+$
    pattern_hint: Digits only, as shown under Settings → Account.
  - name: region
    label: Region
    kind: select
    required: false
    options: [eu, us]
check:
  method: GET
  path: /v1/accounts/{account_id}
"""

TOKEN = "pat-na1-first-token-1111"
OTHER_TOKEN = "pat-eu1-second-token-2222"


@pytest.fixture
def catalog() -> Catalog:
    template = parse_template(TOKEN_API_YAML, "token_api.yaml")
    return Catalog({template.id: template})


def token_input(name: str = "Main CRM", **changes: object) -> ConnectorInput:
    """A valid form for the test template; keyword arguments replace its parts."""
    fields: dict = {
        "name": name,
        "template_id": "token_api",
        "base_url": "https://api.example.com",
        "values": {"access_token": TOKEN, "account_id": "12345", "region": "eu"},
    }
    fields.update(changes)
    return ConnectorInput(**fields)


def count_rows(ws: Workspace, table: str) -> int:
    with ws.engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def stored_counts(ws: Workspace) -> dict[str, int]:
    """How many rows the tables a connector change touches hold."""
    return {
        table: count_rows(ws, table)
        for table in ("connectors", "connector_secrets", "audit_entries")
    }
