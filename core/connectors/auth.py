"""How each template's auth method puts credentials on a request.

One class per kind, chosen by a name→class table; the gateway asks an ``Authenticator``
to ``apply`` itself to a request and, for token-based kinds, to ``refresh`` when the
vendor says the token is no longer good.
"""

from __future__ import annotations

import base64
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import jwt

from core.connectors.template import (
    ApiKeyHeaderAuth,
    ApiKeyQueryAuth,
    BasicAuth,
    BearerAuth,
    HmacSignatureAuth,
    JwtServiceAccountAuth,
    NoAuth,
    OAuth2ClientCredentialsAuth,
    OAuth2RefreshTokenAuth,
)
from core.errors import AuthenticationFailed, BadRequest, ConnectorError

# A function the authenticators use to POST to a token endpoint: (url, form) -> response.
TokenPoster = Callable[[str, dict[str, str]], httpx.Response]


@dataclass
class AccessToken:
    value: str
    # monotonic time after which the token must be refreshed
    refresh_at: float


class Authenticator:
    """Puts a connector's credentials on outgoing requests."""

    def apply(self, request: httpx.Request) -> None:
        """Add credentials to ``request`` in place."""

    def refresh(self) -> bool:
        """Drop any cached token; True if a retry with a fresh token may succeed."""
        return False


class NoAuthenticator(Authenticator):
    pass


class ApiKeyHeader(Authenticator):
    def __init__(self, spec: ApiKeyHeaderAuth, values: dict[str, str]) -> None:
        self.header, self.value = spec.header, spec.prefix + values.get(spec.field, "")

    def apply(self, request: httpx.Request) -> None:
        request.headers[self.header] = self.value


class ApiKeyQuery(Authenticator):
    def __init__(self, spec: ApiKeyQueryAuth, values: dict[str, str]) -> None:
        self.param, self.value = spec.param, values.get(spec.field, "")

    def apply(self, request: httpx.Request) -> None:
        request.url = request.url.copy_merge_params({self.param: self.value})


class Basic(Authenticator):
    def __init__(self, spec: BasicAuth, values: dict[str, str]) -> None:
        user = values.get(spec.username_field, "") if spec.username_field else spec.username
        raw = f"{user}:{values.get(spec.password_field, '')}".encode()
        self.header = "Basic " + base64.b64encode(raw).decode()

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = self.header


class Bearer(Authenticator):
    def __init__(self, spec: BearerAuth, values: dict[str, str]) -> None:
        self.header = "Bearer " + values.get(spec.field, "")

    def apply(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = self.header


class TokenAuthenticator(Authenticator, ABC):
    """Base of the kinds that exchange credentials for a short-lived access token."""

    # refresh this many seconds before the vendor's ``expires_in`` runs out
    EARLY_SECONDS = 60.0

    def __init__(
        self, token_url: str, post: TokenPoster, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.token_url = token_url
        self._post = post
        self._clock = clock
        self._token: AccessToken | None = None

    @abstractmethod
    def form(self) -> dict[str, str]:
        """The token request's form: each kind builds its own grant."""

    def _fetch(self) -> AccessToken:
        response = self._post(self.token_url, self.form())
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {}
        if response.status_code >= 400 or "access_token" not in body:
            detail = body.get("error_description") or body.get("error") or response.reason_phrase
            if response.status_code in (400, 401, 403):
                raise AuthenticationFailed(
                    f"The token endpoint refused the credentials ({response.status_code}: "
                    f"{detail}).",
                    fix="Check the client id, client secret, refresh token or key file, and "
                    "that the app is still authorised at the vendor.",
                    status=response.status_code,
                )
            raise ConnectorError(
                f"The token endpoint answered {response.status_code} ({detail}).",
                fix="Check the token URL; if it is right, the vendor is failing — try later.",
                status=response.status_code,
            )
        expires_in = float(body.get("expires_in") or 3600)
        early = min(self.EARLY_SECONDS, expires_in / 2)
        return AccessToken(str(body["access_token"]), self._clock() + expires_in - early)

    def apply(self, request: httpx.Request) -> None:
        if self._token is None or self._clock() >= self._token.refresh_at:
            self._token = self._fetch()
        request.headers["Authorization"] = f"Bearer {self._token.value}"

    def refresh(self) -> bool:
        self._token = None
        return True


class ClientCredentials(TokenAuthenticator):
    def __init__(
        self, spec: OAuth2ClientCredentialsAuth, values: dict[str, str], post: TokenPoster
    ) -> None:
        super().__init__(values.get(spec.token_url_field, ""), post)
        self.spec, self.values = spec, values

    def form(self) -> dict[str, str]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.values.get(self.spec.client_id_field, ""),
            "client_secret": self.values.get(self.spec.client_secret_field, ""),
        }
        if self.spec.scope:
            form["scope"] = self.spec.scope
        return form


class RefreshToken(TokenAuthenticator):
    def __init__(
        self, spec: OAuth2RefreshTokenAuth, values: dict[str, str], post: TokenPoster
    ) -> None:
        super().__init__(values.get(spec.token_url_field, ""), post)
        self.spec, self.values = spec, values

    def form(self) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "client_id": self.values.get(self.spec.client_id_field, ""),
            "client_secret": self.values.get(self.spec.client_secret_field, ""),
            "refresh_token": self.values.get(self.spec.refresh_token_field, ""),
        }


class ServiceAccount(TokenAuthenticator):
    """Google's two-legged OAuth: a signed JWT assertion exchanged for a token."""

    def __init__(
        self, spec: JwtServiceAccountAuth, values: dict[str, str], post: TokenPoster
    ) -> None:
        super().__init__(values.get(spec.token_url_field, ""), post)
        self.spec = spec
        try:
            self.key = json.loads(values.get(spec.key_json_field, "") or "{}")
        except json.JSONDecodeError:
            raise BadRequest(
                "The service account key is not JSON.",
                fix="Paste the whole JSON key file downloaded from Google Cloud.",
            ) from None

    def form(self) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "iss": self.key.get("client_email", ""),
            "scope": self.spec.scope,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        headers = {"kid": self.key["private_key_id"]} if self.key.get("private_key_id") else None
        try:
            assertion = jwt.encode(
                claims, self.key.get("private_key", ""), algorithm="RS256", headers=headers
            )
        except (ValueError, TypeError, jwt.PyJWTError):
            raise AuthenticationFailed(
                "The service account's private key cannot sign a token.",
                fix="Download a new JSON key file for the service account and paste it.",
            ) from None
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}


def authenticator_for(auth: object, values: dict[str, str], post: TokenPoster) -> Authenticator:
    """The authenticator for a template's auth spec, filled with the connector's values."""
    if isinstance(auth, NoAuth | HmacSignatureAuth):
        return NoAuthenticator()
    simple: dict[type, type] = {
        ApiKeyHeaderAuth: ApiKeyHeader,
        ApiKeyQueryAuth: ApiKeyQuery,
        BasicAuth: Basic,
        BearerAuth: Bearer,
    }
    if type(auth) in simple:
        return simple[type(auth)](auth, values)
    token_kinds: dict[type, type] = {
        OAuth2ClientCredentialsAuth: ClientCredentials,
        OAuth2RefreshTokenAuth: RefreshToken,
        JwtServiceAccountAuth: ServiceAccount,
    }
    return token_kinds[type(auth)](auth, values, post)
