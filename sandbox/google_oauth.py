"""Google's OAuth 2.0 token endpoint and the helpers every Google API shares.

Real host: ``oauth2.googleapis.com``; mounted at ``/google-oauth``.  The
``/token`` endpoint implements the two grants Switchboard uses:

* ``refresh_token`` with the sandbox OAuth client (``google-client`` /
  ``google-secret`` / ``google-refresh``); the token gets every scope;
* ``urn:ietf:params:oauth:grant-type:jwt-bearer`` with an RS256 assertion
  signed by the committed sandbox service-account key; the token gets the
  scopes named in the assertion's ``scope`` claim.

GA4, Google Ads and BigQuery call :func:`check_token` to authenticate and
:func:`google_error` to answer in Google's ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import jwt

from sandbox import accounts
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ALL_SCOPES = frozenset({"*"})
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
CLOUD_PLATFORM = SCOPE_PREFIX + "cloud-platform"
CLOCK_SKEW = 300
STATUS_BY_CODE = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                  404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}  # fmt: skip
MESSAGE_BY_CODE = {500: "Internal error encountered.", 502: "Bad Gateway",
                   503: "The service is currently unavailable.",
                   504: "The request timed out."}  # fmt: skip

router = Router()


def google_error(
    code: int,
    message: str,
    status: str | None = None,
    details: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """Google API error document: ``{"error": {"code", "message", "status", ...}}``."""
    error: dict[str, Any] = {"code": code, "message": message,
                             "status": status or STATUS_BY_CODE.get(code, "UNKNOWN")}  # fmt: skip
    if extra:
        error.update(extra)
    if details:
        error["details"] = details
    return json_response({"error": error}, code, headers or [])


def error_info(reason: str, service: str, **metadata: str) -> dict[str, Any]:
    """A ``google.rpc.ErrorInfo`` detail entry."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service, **metadata},
    }


def check_token(request: Request, service: str, scopes: frozenset[str]) -> Response | None:
    """Authenticate a Google API call; returns the error response or ``None``.

    ``scopes`` are the OAuth scopes any one of which grants access.
    """
    value = request.bearer()
    if value is None:
        return google_error(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            details=[error_info("CREDENTIALS_MISSING", service)],
            headers=[("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')],
        )
    token = request.state.lookup_token(value, "google")
    if token is None or token.status() != "valid":
        details = [error_info("ACCESS_TOKEN_EXPIRED", service)] if token else None
        return google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            details=details,
            headers=[
                (
                    "WWW-Authenticate",
                    'Bearer realm="https://accounts.google.com/", error="invalid_token"',
                )
            ],  # fmt: skip
        )
    if token.scopes != ALL_SCOPES and not (token.scopes & (scopes | {CLOUD_PLATFORM})):
        return google_error(
            403,
            "Request had insufficient authentication scopes.",
            details=[error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT", service)],
            headers=[
                (
                    "WWW-Authenticate",
                    'Bearer realm="https://accounts.google.com/", error="insufficient_scope"',
                )
            ],  # fmt: skip
        )
    return None


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def _token_params(request: Request) -> dict[str, str]:
    if (request.header("content-type") or "").startswith("application/json"):
        body = request.json()
        return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return request.form()


def _basic_client(request: Request) -> tuple[str, str] | None:
    auth = request.header("authorization") or ""
    if not auth.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _issue(request: Request, scopes: frozenset[str]) -> Response:
    ttl = max(request.state.ttl("google") - 1, 1)
    token = request.state.issue_token("google", "ya29.sandbox-", scopes, ttl=ttl)
    scope_text = (
        " ".join(sorted(scopes))
        if scopes != ALL_SCOPES
        else (f"{SCOPE_PREFIX}analytics.readonly {SCOPE_PREFIX}adwords {SCOPE_PREFIX}bigquery")
    )
    return json_response(
        {
            "access_token": token.value,
            "expires_in": ttl,
            "scope": scope_text,
            "token_type": "Bearer",
        },  # fmt: skip
        headers=[("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")],
    )


def _refresh_grant(request: Request, params: dict[str, str]) -> Response:
    client = _basic_client(request) or (
        params.get("client_id", ""),
        params.get("client_secret", ""),
    )
    if client != (accounts.GOOGLE_CLIENT_ID, accounts.GOOGLE_CLIENT_SECRET):
        return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if params.get("refresh_token") != accounts.GOOGLE_REFRESH_TOKEN:
        return _oauth_error("invalid_grant", "Bad Request")
    return _issue(request, ALL_SCOPES)


def _jwt_grant(params: dict[str, str], request: Request) -> Response:
    assertion = params.get("assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(
            assertion,
            accounts.service_account_public_key(),
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "Invalid JWT: malformed assertion.")
    info = accounts.service_account_info()
    if "kid" in header and header["kid"] != info["private_key_id"]:
        return _oauth_error("invalid_grant", "Invalid JWT Signature.")
    if claims.get("iss") != info["client_email"]:
        return _oauth_error("invalid_grant", "Invalid grant: account not found")
    audience = str(claims.get("aud", ""))
    if not audience.endswith("/token"):
        return _oauth_error(
            "invalid_grant",
            "Invalid JWT: Failed audience check. The right audience is "
            "https://oauth2.googleapis.com/token",
        )
    now = time.time()
    try:
        iat, exp = float(claims["iat"]), float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        iat = exp = 0.0
    if not (iat - CLOCK_SKEW <= now < exp + CLOCK_SKEW) or exp - iat > 3600 or exp <= iat:
        return _oauth_error(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
            "timeframe. Check your iat and exp values in the JWT claim.",
        )
    scopes = frozenset(str(claims.get("scope", "")).split())
    if not scopes:
        return _oauth_error("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    return _issue(request, scopes)


@router.route("POST", "/token")
def token(request: Request) -> Response:
    """Exchange a refresh token or a service-account JWT for an access token."""
    try:
        params = _token_params(request)
    except BadRequestBody:
        return _oauth_error("invalid_request", "Could not parse request body.")
    grant = params.get("grant_type", "")
    if grant == "refresh_token":
        return _refresh_grant(request, params)
    if grant == JWT_BEARER:
        return _jwt_grant(params, request)
    if not grant:
        return _oauth_error("unsupported_grant_type", "Invalid grant_type: ")
    return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant}")


def _not_found(request: Request) -> Response:
    return google_error(404, f"Requested entity was not found: {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return _oauth_error("rate_limit_exceeded", "Rate limit exceeded", 429).header(
        "Retry-After", retry_after
    )


def server_error(request: Request, status: int) -> Response:
    """Google's generic 5xx document (shared by the Google APIs)."""
    return google_error(status, MESSAGE_BY_CODE.get(status, "Internal error encountered."))


APP = VendorApp(
    key="google_oauth",
    prefix="/google-oauth",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=server_error,
    token_family="google",
    unmetered_paths=("/token",),
)
