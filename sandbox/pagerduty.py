"""PagerDuty Events API v2: ``POST /pagerduty/v2/enqueue``.

Checks the event like PagerDuty does: ``routing_key`` of 32 characters, ``event_action``
trigger | acknowledge | resolve, a ``dedup_key`` for acknowledge and resolve, and for a
trigger ``payload.summary``, ``payload.source`` and ``payload.severity`` (critical, error,
warning, info). Answers 202 ``{"status": "success", "message": "Event processed",
"dedup_key": ...}`` or 400 ``{"status": "invalid event", "message": "Event object is
invalid", "errors": [...]}``.
"""

from __future__ import annotations

import json
import uuid

from sandbox.web import Request, Response, Router, VendorApp, json_response

router = Router()
SEVERITIES = ("critical", "error", "warning", "info")


def _invalid(errors: list[str]) -> Response:
    return json_response(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, 400
    )


@router.route("POST", "/v2/enqueue")
def enqueue(request: Request) -> Response:
    try:
        event = json.loads(request.body or b"")
    except ValueError:
        return _invalid(["Event object must be JSON"])
    if not isinstance(event, dict):
        return _invalid(["Event object must be an object"])
    errors = []
    if len(str(event.get("routing_key", ""))) != 32:
        errors.append("'routing_key' must be 32 characters")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve")
    if action in ("acknowledge", "resolve") and not event.get("dedup_key"):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        payload = event.get("payload") or {}
        for name in ("summary", "source", "severity"):
            if not payload.get(name):
                errors.append(f"'payload.{name}' is missing or blank")
        if payload.get("severity") and payload["severity"] not in SEVERITIES:
            errors.append("'payload.severity' must be one of " + ", ".join(SEVERITIES))
    if errors:
        return _invalid(errors)
    dedup_key = event.get("dedup_key") or uuid.uuid4().hex
    return json_response(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, 202
    )


APP = VendorApp(
    key="pagerduty",
    prefix="/pagerduty",
    router=router,
    not_found=lambda request: json_response({"status": "not found"}, 404),
    rate_limited=lambda request, retry_after: json_response(
        {
            "status": "throttle event",
            "message": "Requests for this service are arriving too quickly",
        },
        429,
        [("Retry-After", retry_after)],
    ),
    server_error=lambda request, status: json_response({"status": "error"}, status),
)
