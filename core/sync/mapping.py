"""Field mapping: source record → hub record, by dotted paths.

>>> get_path({"properties": {"email": "a@b.co"}}, "properties.email")
'a@b.co'
>>> get_path({"data": [{"id": 1}, {"id": 2}]}, "data.-1.id")
2
"""

from __future__ import annotations

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
