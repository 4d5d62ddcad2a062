"""Test connection, for real: one HTTP round trip per template to the sandbox."""

from __future__ import annotations

import dataclasses

import pytest

from core.connectors.connection_test import check_draft_connector, check_saved_connector
from core.connectors.registry import create_connector, get_connector
from core.demo import demo_connectors, load_demo
from core.gateway import Gateway
from tests.conftest import ADMIN

TEMPLATES = [
    "hubspot",
    "mailchimp",
    "google_ads",
    "stripe",
    "salesforce",
    "google_analytics_4",
    "warehouse",
]


def demo_input(sandbox_url: str, template_id: str):
    return next(spec for spec, _ in demo_connectors(sandbox_url) if spec.template_id == template_id)


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_every_demo_connector_connects_to_the_sandbox(ws, sandbox, template_id):
    data = demo_input(str(sandbox.base_url), template_id)
    verdict = check_draft_connector(ws, ADMIN, Gateway(timeout_seconds=10), data)
    assert verdict.ok, verdict
    assert verdict.status == 200
    assert "accepted the credentials" in verdict.verdict
    assert verdict.latency_ms is not None


def test_the_custom_api_template_connects_with_its_key(ws, sandbox):
    from core.connectors.registry import ConnectorInput

    data = ConnectorInput(
        "Custom",
        "custom_rest_api",
        f"{sandbox.base_url}/custom",
        {"api_key": "sandbox-custom-key", "check_path": "/api/v1/me"},
    )
    assert check_draft_connector(ws, ADMIN, Gateway(), data).ok
    wrong = dataclasses.replace(data, values={**data.values, "api_key": "nope-nope-nope"})
    verdict = check_draft_connector(ws, ADMIN, Gateway(), wrong)
    assert not verdict.ok and verdict.status == 401


def test_a_wrong_key_is_called_a_wrong_key(ws, sandbox):
    data = demo_input(str(sandbox.base_url), "hubspot")
    data = dataclasses.replace(data, values={"access_token": "pat-na1-wrong-token"})
    verdict = check_draft_connector(ws, ADMIN, Gateway(), data)
    assert not verdict.ok
    assert verdict.status == 401
    assert "wrong key" in verdict.verdict
    assert verdict.whose == "configuration"
    assert "pat-na1-wrong-token" not in verdict.verdict + verdict.fix


def test_a_missing_permission_is_called_a_permission(ws, sandbox):
    data = demo_input(str(sandbox.base_url), "hubspot")
    data = dataclasses.replace(data, values={"access_token": "pat-sandbox-hubspot-noscope"})
    verdict = check_draft_connector(ws, ADMIN, Gateway(), data)
    assert verdict.status == 403
    assert "lack permission" in verdict.verdict
    assert "scope" in verdict.fix


def test_a_wrong_google_client_secret_fails_at_the_token_endpoint(ws, sandbox):
    data = demo_input(str(sandbox.base_url), "google_ads")
    data = dataclasses.replace(data, values={**data.values, "client_secret": "wrong-secret"})
    verdict = check_draft_connector(ws, ADMIN, Gateway(), data)
    assert not verdict.ok
    assert "token endpoint refused the credentials" in verdict.verdict


def test_an_unreachable_host_and_a_slow_vendor(ws, sandbox):
    data = demo_input(str(sandbox.base_url), "stripe")
    closed = dataclasses.replace(data, base_url="http://127.0.0.1:9")
    verdict = check_draft_connector(ws, ADMIN, Gateway(), closed)
    assert "unreachable" in verdict.verdict and verdict.status is None

    sandbox.post(
        "/_control/faults",
        json={"vendor": "stripe", "kind": "slow", "count": 1, "delay_seconds": 3},
    ).raise_for_status()
    verdict = check_draft_connector(ws, ADMIN, Gateway(timeout_seconds=1), data)
    assert "did not answer in time" in verdict.verdict
    assert verdict.whose == "passing fault"


def test_vendor_outage_and_rate_limit_are_explained(ws, sandbox):
    data = demo_input(str(sandbox.base_url), "mailchimp")
    sandbox.post(
        "/_control/faults",
        json={"vendor": "mailchimp", "kind": "server_error", "count": 1, "status": 503},
    ).raise_for_status()
    verdict = check_draft_connector(ws, ADMIN, Gateway(), data)
    assert verdict.status == 503 and verdict.whose == "vendor"
    sandbox.post(
        "/_control/faults",
        json={"vendor": "mailchimp", "kind": "rate_limit", "count": 1, "retry_after": "7"},
    ).raise_for_status()
    verdict = check_draft_connector(ws, ADMIN, Gateway(), data)
    assert verdict.status == 429 and "wait 7 s" in verdict.verdict


def test_a_saved_connector_remembers_its_last_test(ws, sandbox):
    load_demo(ws)
    data = demo_input(str(sandbox.base_url), "stripe")
    saved = create_connector(ws, ADMIN, dataclasses.replace(data, name="Stripe again"))
    verdict = check_saved_connector(ws, ADMIN, Gateway(), saved.id)
    assert verdict.ok
    again = get_connector(ws, ADMIN, saved.id)
    assert again.last_test_ok is True
    assert "accepted the credentials" in again.last_test_message
