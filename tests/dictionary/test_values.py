"""``validate_value``: a value against its field's type and rules, as the sync engine asks."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.field_types import FieldSpec, validate_value

FITS = [
    ("String", "linkedin"),
    ("String", 42),
    ("Integer", "85"),
    ("Integer", 85),
    ("Integer", "-3"),
    ("Integer", "1,200"),
    ("Integer", 4.0),
    ("Decimal", "12.5"),
    ("Decimal", 0.25),
    ("Decimal", Decimal("3.10")),
    ("Currency", "$50,000"),
    ("Currency", "1200.50 EUR"),
    ("Currency", "€99"),
    ("Currency", 50000),
    ("Boolean", True),
    ("Boolean", "yes"),
    ("Boolean", "FALSE"),
    ("Boolean", 0),
    ("Date", "2024-05-31"),
    ("Date", date(2024, 5, 31)),
    ("DateTime", "2024-05-31T14:30:00Z"),
    ("DateTime", "2024-05-31 14:30"),
    ("DateTime", datetime(2024, 5, 31, 14, 30)),
    ("Email", "john@co.com"),
    ("Email", "first.last+tag@sub.example.org"),
    ("URL", "https://example.com/page?x=1"),
    ("Phone", "+1 415 555 0100"),
    ("Phone", "(020) 7946-0958"),
]
MISFITS = [
    ("Integer", "85.5", "not a whole number"),
    ("Integer", "eighty", "not a whole number"),
    ("Integer", True, "true/false"),
    ("Integer", 4.5, "not a whole number"),
    ("Decimal", "1.2.3", "not a number"),
    ("Decimal", float("nan"), "not a number"),
    ("Currency", "fifty thousand", "not an amount"),
    ("Currency", "$5.123", "not an amount"),
    ("Boolean", "maybe", "not true or false"),
    ("Date", "31/05/2024", "YYYY-MM-DD"),
    ("Date", "2024-02-30", "YYYY-MM-DD"),
    ("DateTime", "2024-05-31", "date and time"),
    ("Email", "john.co.com", "not an e-mail address"),
    ("Email", "john@", "not an e-mail address"),
    ("URL", "example.com", "not a web address"),
    ("URL", "ftp://example.com", "not a web address"),
    ("Phone", "12", "not a phone number"),
    ("Phone", "call me", "not a phone number"),
    ("String", {"nested": 1}, "nested object"),
]


@pytest.mark.parametrize(("data_type", "value"), FITS)
def test_values_that_fit_their_type(data_type, value):
    assert validate_value(FieldSpec("f", data_type), value) is None


@pytest.mark.parametrize(("data_type", "value", "reason"), MISFITS)
def test_values_that_do_not_fit_say_why(data_type, value, reason):
    assert reason in validate_value(FieldSpec("f", data_type), value)


def test_enum_values_and_patterns():
    stage = FieldSpec("stage", "Enum", ("lead", "customer"))
    assert validate_value(stage, "lead") is None
    assert "not one of the allowed values: lead, customer" in validate_value(stage, "Lead")
    code = FieldSpec("code", "String", pattern=r"[A-Z]{2}-\d{3}")
    assert validate_value(code, "FR-123") is None
    assert "does not match the field's pattern" in validate_value(code, "fr-123")


def test_empty_values_fit_unless_required():
    assert validate_value(FieldSpec("f", "Email"), "") is None
    assert validate_value(FieldSpec("f", "Email"), None) is None
    assert validate_value(FieldSpec("f", "Email", required=True), "  ") == "is required but empty"


def test_a_stored_field_and_comma_separated_values_work_as_specs():
    class Stored:
        data_type = "Enum"
        allowed_values = "hot, warm"
        pattern = ""
        required = False

    assert validate_value(Stored(), "warm") is None
    assert validate_value(Stored(), "cold") is not None
