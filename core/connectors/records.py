"""Paths into vendor answers and records, and placeholders filled from records.

Templates point into JSON with dotted paths (``paging.next.after``, ``data.-1.id``): a
segment that is an integer indexes a list, a negative one counting from the end, and the
empty path is the value itself. Write templates hold placeholders filled per record::

    {record}            the record (see ``RecordSlots.whole``)
    {record.x}          the record's field x (a dotted path); a body key whose value is
                        missing is left out
    {key}               the record's id at the vendor (the stream's primary key)
    {subscriber_hash}   MD5 of the lower-cased ``match_field`` value (Mailchimp)
    {field}             a form field of the connector

A placeholder that is the whole of a string keeps the value's type (``"{record}"`` becomes
an object); one inside a longer string is written as text. In a body, a list holding exactly
one item that names the record is repeated once per record of the batch (HubSpot's
``inputs``, BigQuery's ``rows``).

>>> value_at({"data": [{"id": "a"}, {"id": "b"}]}, "data.-1.id")
'b'
>>> value_at({"data": []}, "data.-1.id") is MISSING
True
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final


class _Missing:
    """The one value meaning "nothing at this path" (``None`` may be a real value)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

_PLACEHOLDER = re.compile(r"\{(record(?:\.[^{}\s]+)?|key|subscriber_hash|[a-z][a-z0-9_]*)\}")
_RECORD_SLOT = re.compile(r"\{(record(?:\.[^{}\s]+)?|key|subscriber_hash)\}")


def value_at(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``data``, or ``MISSING`` when the path leads nowhere."""
    value = data
    for part in path.split(".") if path else ():
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return value


def deepest_container(data: Any, path: str) -> Any:
    """The last dict or list reached while following ``path`` (to explain a miss)."""
    value = data
    for part in path.split(".") if path else ():
        step = value_at(value, part)
        if not isinstance(step, dict | list):
            break
        value = step
    return value


def set_value_at(data: dict[str, Any], path: str, value: Any) -> None:
    """Write ``value`` at dotted ``path`` in ``data`` in place, creating objects on the way.

    List segments must already exist (a template's body names its filters explicitly).
    """
    parts = path.split(".")
    target: Any = data
    for part in parts[:-1]:
        if isinstance(target, list):
            target = target[int(part)]
        else:
            target = target.setdefault(part, {})
    if isinstance(target, list):
        target[int(parts[-1])] = value
    else:
        target[parts[-1]] = value


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 hex digest of the lower-cased e-mail address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def slots_named(template: Any) -> set[str]:
    """Every record placeholder in ``template`` (strings, objects and lists), without braces:
    ``{"record.email", "key"}``."""
    if isinstance(template, str):
        return {m.group(1) for m in _RECORD_SLOT.finditer(template)}
    if isinstance(template, dict):
        return set().union(*(slots_named(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(slots_named(v) for v in template))
    return set()


@dataclass(frozen=True)
class RecordSlots:
    """What one record puts into a write template's placeholders."""

    # the record as given, for {record.x}
    fields: dict[str, Any]
    # what {record} stands for (the fields, less the vendor's id when that is no property)
    whole: dict[str, Any]
    # {key}: the record's id at the vendor, when known
    key: str | None = None
    # {subscriber_hash}: from the write's match field, when it has one
    subscriber_hash: str | None = None

    def value(self, name: str) -> Any:
        """The value of placeholder ``name`` (without braces), or ``MISSING``."""
        if name == "record":
            return self.whole
        if name.startswith("record."):
            return value_at(self.fields, name.removeprefix("record."))
        if name == "key":
            return self.key if self.key is not None else MISSING
        if name == "subscriber_hash":
            return self.subscriber_hash if self.subscriber_hash is not None else MISSING
        return MISSING


def fill_text(text: str, slots: RecordSlots | None, values: dict[str, str]) -> Any:
    """Fill one string. A lone placeholder keeps its value's type (or ``MISSING``)."""
    whole = _PLACEHOLDER.fullmatch(text)
    if whole is not None:
        return _lookup(whole.group(1), slots, values)

    def one(match: re.Match[str]) -> str:
        found = _lookup(match.group(1), slots, values)
        return "" if found is MISSING or found is None else str(found)

    return _PLACEHOLDER.sub(one, text)


def _lookup(name: str, slots: RecordSlots | None, values: dict[str, str]) -> Any:
    if name == "record" or name.startswith("record.") or name in ("key", "subscriber_hash"):
        return slots.value(name) if slots is not None else MISSING
    return values.get(name, "")


def fill_template(template: Any, slots: RecordSlots | None, values: dict[str, str]) -> Any:
    """Fill every string of ``template`` for one record; missing values drop their key."""
    if isinstance(template, str):
        return fill_text(template, slots, values)
    if isinstance(template, dict):
        filled = {k: fill_template(v, slots, values) for k, v in template.items()}
        return {k: v for k, v in filled.items() if v is not MISSING}
    if isinstance(template, list):
        items = [fill_template(v, slots, values) for v in template]
        return [v for v in items if v is not MISSING]
    return template


@dataclass(frozen=True)
class FilledBody:
    """A batch's request body, and the item each record became (when items repeat)."""

    body: Any
    # the repeated list's items in the batch's order; None when the body repeats nothing
    items: list[Any] | None


def fill_batch(template: Any, batch: list[RecordSlots], values: dict[str, str]) -> FilledBody:
    """Build one request body for ``batch`` from a write's ``body_template``.

    The first list holding exactly one item that names the record is repeated once per
    record; everything else is filled with the batch's record when there is exactly one.
    """
    single = batch[0] if len(batch) == 1 else None
    items: list[Any] | None = None

    def walk(node: Any) -> Any:
        nonlocal items
        if isinstance(node, list) and len(node) == 1 and items is None and slots_named(node):
            items = [fill_template(node[0], slots, values) for slots in batch]
            return items
        if isinstance(node, dict):
            filled = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in filled.items() if v is not MISSING}
        if isinstance(node, list):
            return [v for v in (walk(i) for i in node) if v is not MISSING]
        return fill_template(node, single, values)

    return FilledBody(walk(template), items)
