"""The shipped connector catalog: every template loads and is internally consistent."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core.connectors.catalog import load_catalog, parse_template
from core.connectors.template import ConnectorTemplate
from core.errors import ConfigurationError

EXPECTED_IDS = {
    "hubspot",
    "salesforce",
    "google_analytics_4",
    "google_ads",
    "mailchimp",
    "stripe",
    "custom_rest_api",
    "inbound_webhook",
    "warehouse",
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
# names a write path or body template may use besides form fields (templates/README.md)
WRITE_NAMES = {"record", "key", "subscriber_hash"}
SECRET_NAME = re.compile(r"(secret|password|token|api_key|_json)$")

CATALOG = load_catalog()
TEMPLATES = list(CATALOG)


def _strings(value: Any) -> list[str]:
    """Every string inside a nested structure of dicts and lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _request_texts(template: ConnectorTemplate) -> list[str]:
    """Texts filled from form fields only: base URL, the check and the stream requests."""
    texts = [template.base_url]
    if template.check:
        check = template.check
        texts += [check.path, *check.params.values(), *check.headers.values()]
        texts += _strings(check.body)
    for stream in template.streams:
        texts += [stream.path, *stream.params.values(), *stream.headers.values()]
        texts += _strings(stream.body)
    return texts


def _auth_secret_fields(template: ConnectorTemplate) -> set[str]:
    auth = template.auth.model_dump()
    keys = {"field", "password_field", "client_secret_field", "refresh_token_field"}
    keys |= {"key_json_field", "secret_field"}
    if auth["type"] == "basic":
        keys.discard("field")
    return {auth[k] for k in keys if auth.get(k)}


def _auth_field_refs(template: ConnectorTemplate) -> set[str]:
    auth = template.auth.model_dump()
    return {v for k, v in auth.items() if (k == "field" or k.endswith("_field")) and v}


def by_id(template_id: str) -> ConnectorTemplate:
    return CATALOG.get(template_id)


def ids(templates: list[ConnectorTemplate]) -> list[str]:
    return [t.id for t in templates]


# --- the whole catalog ---------------------------------------------------------------


def test_catalog_holds_the_nine_templates() -> None:
    assert set(CATALOG.templates) == EXPECTED_IDS


def test_every_template_file_is_named_after_its_id() -> None:
    directory = Path(__file__).resolve().parents[2] / "core" / "connectors" / "templates"
    assert {p.stem for p in directory.glob("*.yaml")} == EXPECTED_IDS


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_outbound_templates_have_a_check_and_streams(template: ConnectorTemplate) -> None:
    if template.direction == "inbound":
        assert template.check is None
        assert template.streams == []
    else:
        assert template.check is not None
        assert template.streams
        assert template.base_url.startswith("https://")
        assert template.docs_url.startswith("https://") or template.id == "custom_rest_api"


def test_the_webhook_is_the_only_inbound_template() -> None:
    assert [t.id for t in CATALOG if t.direction == "inbound"] == ["inbound_webhook"]
    assert by_id("inbound_webhook").category == "website"


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_secrets_are_secret_fields(template: ConnectorTemplate) -> None:
    kinds = {f.name: f.kind for f in template.fields}
    for name in _auth_secret_fields(template):
        assert kinds[name] == "secret", f"{template.id}.{name} must be kind: secret"
    for name, kind in kinds.items():
        if SECRET_NAME.search(name):
            assert kind == "secret", f"{template.id}.{name} looks like a secret"


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_auth_names_existing_fields(template: ConnectorTemplate) -> None:
    names = {f.name for f in template.fields}
    assert _auth_field_refs(template) <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_token_endpoints_are_url_fields(template: ConnectorTemplate) -> None:
    fields = {f.name: f for f in template.fields}
    auth = template.auth.model_dump()
    if "token_url_field" not in auth:
        return
    token_url = fields[auth["token_url_field"]]
    assert token_url.kind == "url"
    if template.id in {"google_analytics_4", "google_ads", "warehouse"}:
        assert token_url.default == "https://oauth2.googleapis.com/token"


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_every_placeholder_names_a_field(template: ConnectorTemplate) -> None:
    names = {f.name for f in template.fields}
    for text in _request_texts(template):
        for name in PLACEHOLDER.findall(text):
            assert name in names, f"{template.id}: {{{name}}} in {text!r} is not a field"
    for stream in template.streams:
        for write in stream.writes:
            for text in [write.path, *_strings(write.body_template)]:
                for name in PLACEHOLDER.findall(text):
                    ok = name in names or name in WRITE_NAMES or name.startswith("record.")
                    assert ok, f"{template.id}.{stream.name}: unknown {{{name}}} in {text!r}"


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_fields_are_explained(template: ConnectorTemplate) -> None:
    names = [f.name for f in template.fields]
    assert len(names) == len(set(names))
    for field in template.fields:
        assert field.label and field.help, f"{template.id}.{field.name} needs a label and help"
        if field.pattern is not None:
            re.compile(field.pattern)
            assert field.pattern_hint, f"{template.id}.{field.name} needs a pattern_hint"
            if field.default:
                assert re.fullmatch(field.pattern, field.default)


@pytest.mark.parametrize("template", TEMPLATES, ids=ids(TEMPLATES))
def test_streams_are_unique_and_writes_are_sane(template: ConnectorTemplate) -> None:
    names = [s.name for s in template.streams]
    assert len(names) == len(set(names))
    for stream in template.streams:
        assert stream.path.startswith("/")
        for write in stream.writes:
            assert write.path.startswith("/")
            if write.mode == "upsert":
                assert write.match_field


# --- form field patterns -------------------------------------------------------------

SERVICE_ACCOUNT = """{
  "type": "service_account",
  "project_id": "acme-marketing",
  "private_key_id": "0123abcd",
  "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEv...\\n-----END PRIVATE KEY-----\\n",
  "client_email": "switchboard@acme-marketing.iam.gserviceaccount.com",
  "token_uri": "https://oauth2.googleapis.com/token"
}"""

PATTERN_CASES = [
    ("hubspot", "access_token", "pat-na1-4f8e2c1a-9b3d-4e5f-8a7b-1c2d3e4f5a6b", "4f8e2c1a-9b3d"),
    ("hubspot", "access_token", "pat-eu1-4f8e2c1a-9b3d-4e5f-8a7b-1c2d3e4f5a6b", "Bearer pat-na1-x"),
    ("salesforce", "my_domain", "acme", "https://acme.my.salesforce.com"),
    ("salesforce", "my_domain", "acme--uat.sandbox", "acme.my.salesforce.com"),
    ("google_analytics_4", "property_id", "123456789", "G-ABCDEF1234"),
    ("google_analytics_4", "service_account_json", SERVICE_ACCOUNT, "my-key.json"),
    ("google_ads", "customer_id", "1234567890", "123-456-7890"),
    ("google_ads", "login_customer_id", "9876543210", "987-654-3210"),
    ("google_ads", "login_customer_id", "", "98765"),
    ("mailchimp", "api_key", "0123456789abcdef0123456789abcdef-us21", "0123456789abcdef"),
    ("mailchimp", "api_key", "00000000000000000000000000000000-us1", "abc-us1"),
    ("mailchimp", "dc", "us21", "-us21"),
    ("mailchimp", "list_id", "a1b2c3d4e5", "My newsletter"),
    ("stripe", "secret_key", "sk_live_51HxAbCdEfGhIjKlMnOp", "pk_live_51HxAbCdEfGhIjKlMnOp"),
    ("stripe", "secret_key", "rk_test_51HxAbCdEf_GhIj", "sk_prod_51HxAbCdEf"),
    ("warehouse", "project_id", "acme-marketing", "Acme Marketing"),
    ("warehouse", "dataset_id", "marketing", "marketing-data"),
    ("warehouse", "service_account_json", SERVICE_ACCOUNT, '{"type": "authorized_user"}'),
    ("custom_rest_api", "check_path", "/api/v1/me", "api/v1/me"),
    ("inbound_webhook", "signing_secret", "whsec_9f8e7d6c5b4a3f2e1d0c", "secret"),
]


@pytest.mark.parametrize(
    ("template_id", "field_name", "good", "bad"),
    PATTERN_CASES,
    ids=[f"{t}.{f}-{i}" for i, (t, f, _, _) in enumerate(PATTERN_CASES)],
)
def test_field_patterns(template_id: str, field_name: str, good: str, bad: str) -> None:
    field = next(f for f in by_id(template_id).fields if f.name == field_name)
    assert field.pattern is not None
    assert re.fullmatch(field.pattern, good), f"{good!r} should be accepted"
    assert not re.fullmatch(field.pattern, bad), f"{bad!r} should be rejected"


# --- parse_template rejects broken files ------------------------------------------------

MINIMAL = """\
id: example
name: Example
category: other
description: An example.
base_url: https://api.example.com
auth:
  type: {auth_type}
  field: token
fields:
  - name: token
    label: Token
    kind: secret
check:
  path: /ping
streams: []
"""


def test_parse_template_accepts_a_minimal_template() -> None:
    template = parse_template(MINIMAL.format(auth_type="bearer"), "example.yaml")
    assert template.id == "example"


def test_parse_template_rejects_bad_yaml() -> None:
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        parse_template("id: [unclosed\nname: x", "broken.yaml")


def test_parse_template_rejects_a_non_mapping() -> None:
    with pytest.raises(ConfigurationError, match="not a mapping"):
        parse_template("- just\n- a list\n", "list.yaml")


def test_parse_template_rejects_an_unknown_auth_type_listing_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_template(MINIMAL.format(auth_type="magic_link"), "example.yaml")
    message = str(caught.value)
    assert "example.yaml" in message and "auth" in message
    for kind in ("bearer", "basic", "oauth2_client_credentials", "jwt_service_account"):
        assert kind in message


def test_parse_template_rejects_a_missing_required_key() -> None:
    text = MINIMAL.format(auth_type="bearer").replace("base_url: https://api.example.com\n", "")
    with pytest.raises(ConfigurationError, match="base_url"):
        parse_template(text, "example.yaml")


def test_parse_template_rejects_a_placeholder_without_field() -> None:
    text = MINIMAL.format(auth_type="bearer").replace("path: /ping", 'path: "/v1/{account}"')
    with pytest.raises(ConfigurationError, match="account"):
        parse_template(text, "example.yaml")


def test_load_catalog_rejects_an_id_that_differs_from_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "other_name.yaml").write_text(MINIMAL.format(auth_type="bearer"))
    with pytest.raises(ConfigurationError, match="other_name.yaml"):
        load_catalog(tmp_path)


def test_load_catalog_reads_a_directory(tmp_path: Path) -> None:
    (tmp_path / "example.yaml").write_text(MINIMAL.format(auth_type="bearer"))
    assert list(load_catalog(tmp_path).templates) == ["example"]
