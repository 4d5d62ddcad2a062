"""Checking what a person typed into a connector form, against the template's fields."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from core.connectors.template import ConnectorTemplate, FormField
from core.errors import FieldProblem


def url_problem(value: str) -> str | None:
    """What is wrong with a URL a person typed, or None."""
    if not value.strip():
        return "is empty; enter an address such as https://api.example.com."
    if any(ch.isspace() for ch in value.strip()):
        return "contains spaces; remove them."
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"}:
        return "must start with https:// (or http:// for a local test server)."
    if not parts.hostname:
        return "has no host name; write it as https://host/path."
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return "has a port that is not a number between 1 and 65535."
    return None


def _service_account_problem(value: str) -> str | None:
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        return "is not the JSON key file; paste the whole file downloaded from Google Cloud."
    if not isinstance(data, dict) or not {"client_email", "private_key"} <= data.keys():
        return "lacks client_email or private_key; paste the service account's JSON key file."
    try:
        load_pem_private_key(str(data["private_key"]).encode(), password=None)
    except (ValueError, TypeError):
        return "has a private_key that is not a valid PEM key; download a new key file."
    return None


def field_problem(spec: FormField, value: str) -> str | None:
    """What is wrong with one field's value, or None. ``value`` is already stripped
    for non-secret fields; secrets are checked as typed."""
    if not value.strip():
        if value and spec.kind == "secret":
            return "is only spaces; paste the real value."
        return "is required; fill it in." if spec.required else None
    if spec.kind == "url":
        return url_problem(value)
    if spec.kind == "number":
        try:
            float(value)
        except ValueError:
            return "must be a number."
    if spec.kind == "select" and spec.options and value not in spec.options:
        return f"must be one of: {', '.join(spec.options)}."
    if spec.pattern and not re.fullmatch(spec.pattern, value.strip()):
        return spec.pattern_hint or f"does not have the expected shape ({spec.pattern})."
    if spec.name == "service_account_json":
        return _service_account_problem(value)
    return None


def check_values(
    template: ConnectorTemplate, values: dict[str, str], kept_secrets: set[str]
) -> list[FieldProblem]:
    """Every problem of the form at once. ``kept_secrets`` are secrets already stored
    that the person left blank to keep."""
    problems = []
    for spec in template.fields:
        value = values.get(spec.name, "")
        if spec.kind == "secret" and not value and spec.name in kept_secrets:
            continue
        problem = field_problem(spec, value)
        if problem:
            problems.append(FieldProblem(spec.label, problem))
    return problems
