"""Inbound webhooks in one process: what is stored, what is refused, and deliveries that
one bad event cannot hold up."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core.demo import WEBHOOK_SECRET
from core.webhooks import deliver_pending, receive, sign
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import WebhookEvent
from tests.sync.conftest import Stack, build_stack, hub


@pytest.fixture
def stack(ws: Workspace) -> Stack:
    built = build_stack(ws, "http://127.0.0.1:9")
    built.flow(
        "Website forms → CRM",
        "inbound_webhook",
        method="webhook",
        frequency="real-time",
        data="Form data",
        destination_system="CRM",
        enabled=True,
        mappings=[("email", "email"), ("first_name", "firstname")],
    )
    return built


def post(stack: Stack, payload: object, secret: str | None = WEBHOOK_SECRET):  # noqa: ANN201
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = sign(secret, body) if secret is not None else None
    return receive(stack.ws, stack.connectors["inbound_webhook"], body, signature)


def events(ws: Workspace) -> list[WebhookEvent]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_a_signed_form_is_stored_then_delivered_with_its_delay(stack: Stack) -> None:
    receipt = post(stack, [{"email": "a@example.com", "first_name": "A"}, {"email": "b@x.io"}])
    assert (receipt.status, receipt.message) == (202, "stored")
    assert [e.status for e in events(stack.ws)] == ["pending"]
    assert hub(stack.ws, "form_data") == {}

    assert deliver_pending(stack.ws) == 1
    assert hub(stack.ws, "form_data") == {
        "a@example.com": {"email": "a@example.com", "firstname": "A"},
        "b@x.io": {"email": "b@x.io", "firstname": None},
    }
    [event] = events(stack.ws)
    assert event.status == "delivered" and event.delay_ms is not None and event.delay_ms >= 0
    assert deliver_pending(stack.ws) == 0


@pytest.mark.parametrize(
    ("payload", "secret", "status"),
    [
        ({"email": "m@example.com"}, "a guess", 401),
        ({"email": "m@example.com"}, None, 401),
        (b"<html>form</html>", WEBHOOK_SECRET, 400),
        (42, WEBHOOK_SECRET, 400),
        (["a@example.com"], WEBHOOK_SECRET, 400),
    ],
    ids=["wrong signature", "unsigned", "not JSON", "a number", "a list of strings"],
)
def test_what_is_refused_is_never_stored(
    stack: Stack, payload: object, secret: str | None, status: int
) -> None:
    assert post(stack, payload, secret).status == status
    assert events(stack.ws) == []


def test_an_event_that_cannot_be_delivered_does_not_hold_up_the_next(stack: Stack) -> None:
    # an event stored as it came (before the body's shape was checked on arrival)
    with transaction(stack.ws) as session:
        session.add(WebhookEvent(connector_id=stack.connectors["inbound_webhook"], body="42"))
    assert post(stack, {"email": "c@example.com"}).status == 202
    deliver_pending(stack.ws)
    assert [e.status for e in events(stack.ws)] == ["rejected", "delivered"]
    assert events(stack.ws)[0].error
    assert "c@example.com" in hub(stack.ws, "form_data")


def test_a_form_is_pushed_on_to_the_flows_destination(ws: Workspace, sandbox) -> None:
    """Website form → hub → HubSpot: the person appears in the CRM, found by e-mail."""
    from core.gateway import Gateway
    from tests.sync.conftest import HUBSPOT_AUTH

    built = build_stack(ws, str(sandbox.base_url))
    built.flow(
        "Website forms → CRM",
        "inbound_webhook",
        method="webhook",
        frequency="real-time",
        data="Form data",
        destination_system="CRM",
        enabled=True,
        destination="hubspot",
        destination_stream="contacts",
        write_mode="upsert",
        mappings=[("email", "email"), ("first_name", "firstname")],
    )
    body = json.dumps({"email": "webform@example.com", "first_name": "Wen"}).encode()
    receipt = receive(ws, built.connectors["inbound_webhook"], body, sign(WEBHOOK_SECRET, body))
    assert receipt.status == 202
    assert deliver_pending(ws, gateway=Gateway(sleep=lambda s: None)) == 1
    found = sandbox.post(
        "/hubspot/crm/v3/objects/contacts/search",
        headers=HUBSPOT_AUTH,
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "email", "operator": "EQ", "value": "webform@example.com"}
                    ]
                }
            ],
            "properties": ["email", "firstname"],
        },
    ).json()
    assert [r["properties"]["firstname"] for r in found["results"]] == ["Wen"], (
        found,
        events(ws)[0].error,
    )
    [event] = events(ws)
    assert event.status == "delivered" and event.error == ""
