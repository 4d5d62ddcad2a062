"""Field types: what a value must look like to fit a data-dictionary field.

``validate_value(spec, value)`` says why a value does not fit (or ``None``); the data
dictionary checks examples with it, and the sync engine rejects a record with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

DATA_TYPES = (
    "String",
    "Integer",
    "Decimal",
    "Currency",
    "Boolean",
    "Date",
    "DateTime",
    "Email",
    "URL",
    "Phone",
    "Enum",
)
TYPE_BY_LOWER = {t.lower(): t for t in DATA_TYPES}


@dataclass(frozen=True)
class FieldSpec:
    """What a value must be to fit a field: its type and rules."""

    name: str
    data_type: str
    allowed_values: tuple[str, ...] = ()
    pattern: str = ""
    required: bool = False
    pii: bool = False
    critical: bool = False


def split_values(text: str) -> tuple[str, ...]:
    """``"lead, customer ,  "`` → ``("lead", "customer")``."""
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


_INT = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)")
_DEC = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?|[+-]?\.\d+")
_MONEY = re.compile(
    r"(?:[A-Z]{3}\s?)?[+-]?[$€£¥]?\s?[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?(?:\s?[A-Z]{3}|[$€£¥])?"
)
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_PHONE = re.compile(r"\+?[0-9 ()./-]+(?:\s?(?:x|ext\.?)\s?\d{1,6})?", re.IGNORECASE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TRUE_WORDS = {"true", "yes", "y", "t", "1"}
FALSE_WORDS = {"false", "no", "n", "f", "0"}


def _number(value: Any, kind: str) -> str | None:
    if isinstance(value, bool):
        return f"{value} is true/false, not {kind}"
    if isinstance(value, int):
        return None
    if isinstance(value, float | Decimal):
        if value != value or value in (float("inf"), float("-inf")):  # NaN, infinity
            return f"{value} is not {kind}"
        return None
    return "" if isinstance(value, str) else f"a {type(value).__name__} is not {kind}"


def type_problem(data_type: str, value: Any, allowed: Sequence[str]) -> str | None:
    """Why ``value`` is not a ``data_type``; ``None`` when it is."""
    if isinstance(value, dict | list | tuple | set):
        return "is a nested object or list, not a single value"
    text = value.strip() if isinstance(value, str) else str(value)
    if data_type == "String":
        return None
    if data_type == "Integer":
        reason = _number(value, "a whole number")
        if reason is None:
            if isinstance(value, float | Decimal) and value != int(value):
                return f"{value} is not a whole number (Integer)"
            return None
        if reason or not _INT.fullmatch(text):
            return reason or f"'{text}' is not a whole number (Integer), e.g. 85"
        return None
    if data_type == "Decimal":
        reason = _number(value, "a number")
        if reason is None:
            return None
        if reason or not _DEC.fullmatch(text):
            return reason or f"'{text}' is not a number (Decimal), e.g. 12.5"
        return None
    if data_type == "Currency":
        reason = _number(value, "an amount")
        if reason is None:
            return None
        if reason or not _MONEY.fullmatch(text):
            return reason or f"'{text}' is not an amount (Currency), e.g. $50,000 or 1200.50 EUR"
        return None
    if data_type == "Boolean":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        if text.lower() in TRUE_WORDS | FALSE_WORDS:
            return None
        return f"'{text}' is not true or false (Boolean)"
    if data_type == "Date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return None
        try:
            if _DATE.fullmatch(text):
                date.fromisoformat(text)
                return None
        except ValueError:
            pass
        return f"'{text}' is not a date written YYYY-MM-DD (Date), e.g. 2024-05-31"
    if data_type == "DateTime":
        if isinstance(value, datetime):
            return None
        try:
            if len(text) > 10 and _DATE.match(text) and text[10] in "T ":
                datetime.fromisoformat(text)
                return None
        except ValueError:
            pass
        return f"'{text}' is not a date and time (DateTime), e.g. 2024-05-31T14:30:00Z"
    if data_type == "Email":
        if _EMAIL.fullmatch(text):
            return None
        return f"'{text}' is not an e-mail address (Email), e.g. john@co.com"
    if data_type == "URL":
        parts = urlsplit(text)
        if parts.scheme in ("http", "https") and parts.netloc and " " not in text:
            return None
        return f"'{text}' is not a web address (URL), e.g. https://example.com/page"
    if data_type == "Phone":
        digits = sum(c.isdigit() for c in text.split("x")[0].split("ext")[0])
        if _PHONE.fullmatch(text) and 7 <= digits <= 15:
            return None
        return f"'{text}' is not a phone number (Phone), e.g. +1 415 555 0100"
    if data_type == "Enum":
        if text in allowed:
            return None
        listed = ", ".join(allowed) if allowed else "(none listed)"
        return f"'{text}' is not one of the allowed values: {listed}"
    return f"the field's type '{data_type}' is unknown; use one of: {', '.join(DATA_TYPES)}"


def validate_value(field_spec: Any, value: Any) -> str | None:
    """Why ``value`` does not fit its field, in plain words, or ``None`` when it fits.

    ``field_spec`` is a :class:`FieldSpec` or anything with the same attributes (a stored
    ``DictionaryField`` works too). Empty values fit unless the field is required::

        >>> validate_value(FieldSpec("email", "Email"), "not-an-address")
        "'not-an-address' is not an e-mail address (Email), e.g. john@co.com"
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is required but empty" if getattr(field_spec, "required", False) else None
    allowed = getattr(field_spec, "allowed_values", ())
    if isinstance(allowed, str):
        allowed = split_values(allowed)
    reason = type_problem(field_spec.data_type, value, tuple(allowed))
    if reason:
        return reason
    pattern = getattr(field_spec, "pattern", "") or ""
    if pattern:
        try:
            if not re.fullmatch(pattern, value.strip() if isinstance(value, str) else str(value)):
                return f"'{value}' does not match the field's pattern {pattern}"
        except re.error:
            return f"the field's pattern {pattern} is not a valid regular expression"
    return None
