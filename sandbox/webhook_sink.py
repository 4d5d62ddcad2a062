"""A generic JSON webhook receiver: ``POST /webhook-sink/{anything}`` answers
``{"received": true}`` for a JSON body, 400 otherwise. The request log keeps the body."""

from __future__ import annotations

import json

from sandbox.web import Request, Response, Router, VendorApp, json_response

router = Router()


@router.route("POST", "/{path:.*}")
def receive(request: Request) -> Response:
    try:
        json.loads(request.body or b"")
    except ValueError:
        return json_response({"received": False, "error": "body is not JSON"}, 400)
    return json_response({"received": True})


APP = VendorApp(
    key="webhook_sink",
    prefix="/webhook-sink",
    router=router,
    not_found=lambda request: json_response({"error": "not found"}, 404),
    rate_limited=lambda request, retry_after: json_response(
        {"error": "slow down"}, 429, [("Retry-After", retry_after)]
    ),
    server_error=lambda request, status: json_response({"error": "failing"}, status),
)
