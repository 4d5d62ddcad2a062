"""The shape of a connector template: typed data, validated once when the catalog loads.

A template is a YAML file in ``core/connectors/templates/``. It names the vendor's base URL,
how to authenticate, the form fields a person fills in, one request that proves the
connection works, and the streams the sync engine reads or writes. Kind names are closed
sets (``Literal``): an unknown one fails at load with the list of valid ones.

Values in ``base_url``, ``path``, ``params``, ``headers`` and ``body`` may hold
``{field_name}`` placeholders, filled from the connector's form fields (secrets included,
for auth headers only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["crm", "map", "analytics", "ads", "warehouse", "website", "billing", "other"]


class TemplateModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormField(TemplateModel):
    """One input of the connector form, generated from the template."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: Literal["text", "secret", "url", "number", "select", "textarea"] = "text"
    required: bool = True
    default: str = ""
    help: str = ""
    placeholder: str = ""
    # a regular expression the value must match (whole value)
    pattern: str | None = None
    # what to tell the user when ``pattern`` does not match
    pattern_hint: str = ""
    options: list[str] = []


class NoAuth(TemplateModel):
    type: Literal["none"]


class ApiKeyHeaderAuth(TemplateModel):
    type: Literal["api_key_header"]
    header: str
    field: str
    # text put before the key, e.g. "Token "
    prefix: str = ""


class ApiKeyQueryAuth(TemplateModel):
    type: Literal["api_key_query"]
    param: str
    field: str


class BasicAuth(TemplateModel):
    type: Literal["basic"]
    username_field: str | None = None
    # fixed user name when the vendor ignores it (Mailchimp: any string)
    username: str = ""
    password_field: str


class BearerAuth(TemplateModel):
    type: Literal["bearer"]
    field: str


class OAuth2ClientCredentialsAuth(TemplateModel):
    type: Literal["oauth2_client_credentials"]
    token_url_field: str = "token_url"
    client_id_field: str = "client_id"
    client_secret_field: str = "client_secret"
    scope: str = ""


class OAuth2RefreshTokenAuth(TemplateModel):
    type: Literal["oauth2_refresh_token"]
    token_url_field: str = "token_url"
    client_id_field: str = "client_id"
    client_secret_field: str = "client_secret"
    refresh_token_field: str = "refresh_token"


class JwtServiceAccountAuth(TemplateModel):
    """A Google-style service account: an RS256 assertion exchanged for an access token."""

    type: Literal["jwt_service_account"]
    token_url_field: str = "token_url"
    # the service account's JSON key file, pasted whole
    key_json_field: str = "service_account_json"
    scope: str


class HmacSignatureAuth(TemplateModel):
    """Inbound webhooks: the sender signs the body with a shared secret."""

    type: Literal["hmac_signature"]
    secret_field: str = "signing_secret"
    header: str = "X-Switchboard-Signature"


Auth = Annotated[
    NoAuth
    | ApiKeyHeaderAuth
    | ApiKeyQueryAuth
    | BasicAuth
    | BearerAuth
    | OAuth2ClientCredentialsAuth
    | OAuth2RefreshTokenAuth
    | JwtServiceAccountAuth
    | HmacSignatureAuth,
    Field(discriminator="type"),
]


class Check(TemplateModel):
    """The one request ``Test connection`` makes."""

    method: Literal["GET", "POST"] = "GET"
    path: str
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: dict[str, Any] | None = None


class CursorPagination(TemplateModel):
    """A next-page token in the body, sent back as a query parameter or body field."""

    type: Literal["cursor"]
    cursor_path: str
    cursor_param: str
    # send the cursor in the JSON body instead of the query string (Google Ads)
    in_body: bool = False


class OffsetPagination(TemplateModel):
    type: Literal["offset"]
    offset_param: str
    limit_param: str
    limit: int = Field(default=100, ge=1)
    total_path: str | None = None
    in_body: bool = False


class PageNumberPagination(TemplateModel):
    type: Literal["page_number"]
    page_param: str
    size_param: str | None = None
    size: int = Field(default=100, ge=1)
    first_page: int = 1
    total_pages_path: str | None = None


class NextUrlPagination(TemplateModel):
    """The next page's URL, in the body (``next_url_path``) or in the ``Link`` header."""

    type: Literal["next_url"]
    next_url_path: str | None = None
    link_header: bool = False


class NoPagination(TemplateModel):
    type: Literal["none"]


Pagination = Annotated[
    CursorPagination | OffsetPagination | PageNumberPagination | NextUrlPagination | NoPagination,
    Field(discriminator="type"),
]


class Incremental(TemplateModel):
    """How to ask for records changed since the last run."""

    cursor_field: str
    # the query parameter (or body filter, for search endpoints) carrying the last cursor
    param: str | None = None
    lookback_minutes: int = Field(default=0, ge=0)
    # how the cursor is written: iso8601 | unix | date
    format: Literal["iso8601", "unix", "unix_ms", "date"] = "iso8601"


class WriteEndpoint(TemplateModel):
    """How records are written to the vendor."""

    mode: Literal["upsert", "update", "create", "delete"]
    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str
    batch_size: int = Field(default=1, ge=1)
    # the field that matches a record to the vendor's (email, external id)
    match_field: str | None = None
    # how one batch's body is built: "inputs" wraps records as the vendor documents
    body_template: dict[str, Any] | None = None


class Stream(TemplateModel):
    """Something to read (and maybe write): contacts, deals, a report..."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = ""
    entity: str
    method: Literal["GET", "POST"] = "GET"
    path: str
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    body: dict[str, Any] | None = None
    # dotted path to the list of records in the response body ("" = the body is the list)
    record_path: str
    primary_key: str
    pagination: Pagination
    incremental: Incremental | None = None
    # report-style responses (GA4) whose rows are built from header + values arrays
    row_format: Literal["objects", "ga4_report", "bigquery_rows"] = "objects"
    writes: list[WriteEndpoint] = []


class RateLimit(TemplateModel):
    """The vendor's documented request rate for one account, and the burst it tolerates."""

    per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)


class ConnectorTemplate(TemplateModel):
    """One vendor's connector: the whole of a catalog file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    category: Category
    description: str
    docs_url: str = ""
    base_url: str
    # may a person change the base URL (always true for custom APIs and the sandbox)?
    base_url_editable: bool = True
    auth: Auth
    fields: list[FormField]
    # inbound templates make no outbound request; their check is done by the worker
    direction: Literal["outbound", "inbound", "both"] = "outbound"
    check: Check | None = None
    # the vendor's documented limits; Switchboard keeps every flow of a connector under them
    rate_limit: RateLimit | None = None
    daily_quota: int | None = Field(default=None, ge=1)
    streams: list[Stream] = []

    @property
    def secret_fields(self) -> list[FormField]:
        return [f for f in self.fields if f.kind == "secret"]
