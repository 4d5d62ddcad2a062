"""Fixed credentials the sandbox accepts, one block per vendor.

Other code (connector tests, the benchmark, demo fixtures) hard-codes these
exact values, so they are constants and never change between runs.  None of
them is a secret: they only open the loopback sandbox.

``service_account.json`` next to this module is a Google service-account key
file generated for the sandbox alone.  Its RSA key is a *test key with no
value anywhere else*: no Google project knows it, and it exists only so that
the JWT-bearer grant of ``/google-oauth/token`` can be exercised end to end
(the token endpoint verifies assertions with its public half).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

# --- HubSpot -----------------------------------------------------------------
HUBSPOT_PRIVATE_APP_TOKEN = "pat-sandbox-hubspot"
"""Private-app bearer token with every scope."""
HUBSPOT_NOSCOPE_TOKEN = "pat-sandbox-hubspot-noscope"
"""Valid private-app token lacking ``crm.objects.contacts.read`` (403 MISSING_SCOPES)."""
HUBSPOT_CLIENT_ID = "hubspot-client"
HUBSPOT_CLIENT_SECRET = "hubspot-secret"
HUBSPOT_REFRESH_TOKEN = "hubspot-refresh"
HUBSPOT_PORTAL_ID = 24680135

# --- Salesforce --------------------------------------------------------------
SALESFORCE_CLIENT_ID = "salesforce-client"
SALESFORCE_CLIENT_SECRET = "salesforce-secret"
SALESFORCE_REFRESH_TOKEN = "salesforce-refresh"
SALESFORCE_API_VERSION = "v60.0"
SALESFORCE_ORG_ID = "00DSB0000000001AAA"
SALESFORCE_USER_ID = "005SB0000000001AAA"

# --- Google (GA4, Google Ads, BigQuery) --------------------------------------
GOOGLE_CLIENT_ID = "google-client"
GOOGLE_CLIENT_SECRET = "google-secret"
GOOGLE_REFRESH_TOKEN = "google-refresh"
GOOGLE_ADS_DEVELOPER_TOKEN = "sandbox-dev-token"
GOOGLE_ADS_CUSTOMER_ID = "1234567890"
GA4_PROPERTY_ID = "123456789"
BIGQUERY_PROJECT_ID = "sandbox-project"
BIGQUERY_DATASET_ID = "marketing"
SERVICE_ACCOUNT_EMAIL = "switchboard@sandbox-project.iam.gserviceaccount.com"
SERVICE_ACCOUNT_FILE = Path(__file__).with_name("service_account.json")

# --- Mailchimp ---------------------------------------------------------------
MAILCHIMP_API_KEY = "00000000000000000000000000000000-us1"
"""HTTP Basic password; any username is accepted, as Mailchimp does."""
MAILCHIMP_LIST_ID = "a1b2c3d4e5"

# --- Stripe ------------------------------------------------------------------
STRIPE_SECRET_KEY = "sk_test_sandbox"
STRIPE_RESTRICTED_NOREAD_KEY = "rk_test_sandbox_noread"
"""Restricted key without read permissions: every read is a 403."""
STRIPE_ACCOUNT_ID = "acct_1SandboxAcct0042"

# --- Custom REST API ---------------------------------------------------------
CUSTOM_API_KEY = "sandbox-custom-key"
"""Sent as the ``X-API-Key`` header."""


@lru_cache(maxsize=1)
def service_account_info() -> dict[str, Any]:
    """Return the parsed sandbox service-account key file."""
    return json.loads(SERVICE_ACCOUNT_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def service_account_public_key() -> Any:
    """Return the public half of the sandbox service-account key."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = service_account_info()["private_key"].encode()
    return load_pem_private_key(pem, password=None).public_key()
