"""Slack incoming webhooks: ``POST /slack/services/{T}/{B}/{secret}``.

Like Slack, it answers plain text: ``ok`` (200), ``invalid_payload`` (400) when the body
is not JSON with ``text`` or ``blocks``, ``no_service`` (404) for an unknown hook path.
Any ``T…/B…/…`` path is a valid hook except a secret of ``revoked``.
"""

from __future__ import annotations

import json

from sandbox.web import Request, Response, Router, VendorApp

router = Router()


def _text(body: str, status: int) -> Response:
    return Response(status, body.encode(), "text/plain; charset=utf-8")


@router.route("POST", "/services/{team}/{bot}/{secret}")
def incoming_webhook(request: Request) -> Response:
    if request.params["secret"] == "revoked":
        return _text("no_service", 404)
    try:
        body = json.loads(request.body or b"")
    except ValueError:
        return _text("invalid_payload", 400)
    if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
        return _text("invalid_payload", 400)
    return _text("ok", 200)


APP = VendorApp(
    key="slack",
    prefix="/slack",
    router=router,
    not_found=lambda request: _text("no_service", 404),
    rate_limited=lambda request, retry_after: _text("rate_limited", 429).header(
        "Retry-After", retry_after
    ),
    server_error=lambda request, status: _text("internal_error", status),
)
