"""Field mapping: source record → hub record, by dotted paths.

>>> get_path({"properties": {"email": "a@b.co"}}, "properties.email")
'a@b.co'
>>> get_path({"data": [{"id": 1}, {"id": 2}]}, "data.-1.id")
2
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.connectors.records import MISSING, value_at


def get_path(record: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted path; integer segments index lists (negative from the end)."""
    value = value_at(record, path)
    return default if value is MISSING else value


def apply_mapping(record: dict, mappings: list[tuple[str, str]]) -> dict[str, Any]:
    """The hub fields of one record. Without mappings, the record's top-level fields.

    A dotted destination builds a nested value, as some vendors want it:

    >>> apply_mapping({"first": "Ada"}, [("first", "merge_fields.FNAME")])
    {'merge_fields': {'FNAME': 'Ada'}}
    """
    if not mappings:
        return dict(record)
    result: dict[str, Any] = {}
    for source, destination in mappings:
        *parents, leaf = destination.split(".")
        target = result
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = get_path(record, source)
    return result


def to_datetime(value: Any, fmt: str = "iso8601") -> datetime | None:
    """A source's modification time as an aware UTC datetime, or None if unreadable."""
    if value in (None, ""):
        return None
    try:
        if fmt in {"unix", "unix_ms"} or isinstance(value, int | float):
            seconds = float(value) / (1000 if fmt == "unix_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC)
        text = str(value)
        if fmt == "date" and len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
