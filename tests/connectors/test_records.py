"""Dotted paths and write placeholders (no I/O)."""

from __future__ import annotations

from core.connectors.records import (
    MISSING,
    RecordSlots,
    fill_batch,
    fill_template,
    subscriber_hash,
    value_at,
)


def slots(record: dict, key: str | None = None) -> RecordSlots:
    return RecordSlots(fields=record, whole=record, key=key, subscriber_hash=None)


def test_dotted_paths_index_lists_from_either_end() -> None:
    body = {"data": [{"id": "a"}, {"id": "b"}], "paging": {"next": {"after": "7"}}}
    assert value_at(body, "data.-1.id") == "b"
    assert value_at(body, "data.0.id") == "a"
    assert value_at(body, "paging.next.after") == "7"
    assert value_at(body, "") is body
    assert value_at(body, "data.5.id") is MISSING
    assert value_at({"x": None}, "x") is None


def test_a_one_item_list_naming_the_record_repeats_per_record() -> None:
    template = {
        "inputs": [{"idProperty": "email", "id": "{record.email}", "properties": "{record}"}],
        "dimensions": [{"name": "date"}],
    }
    batch = [slots({"email": "a@x.io", "n": 1}), slots({"email": "b@x.io"})]
    filled = fill_batch(template, batch, {})
    assert filled.body == {
        "inputs": [
            {"idProperty": "email", "id": "a@x.io", "properties": {"email": "a@x.io", "n": 1}},
            {"idProperty": "email", "id": "b@x.io", "properties": {"email": "b@x.io"}},
        ],
        "dimensions": [{"name": "date"}],  # names no record: sent as written
    }
    assert filled.items == filled.body["inputs"]


def test_missing_values_drop_their_key_and_text_placeholders_become_text() -> None:
    template = {"merge_fields": "{record.merge_fields}", "note": "id {key} in {list_id}", "n": 3}
    filled = fill_template(template, slots({"email": "a@x.io"}, key="42"), {"list_id": "L1"})
    assert filled == {"note": "id 42 in L1", "n": 3}


def test_subscriber_hash_is_md5_of_the_lower_cased_address() -> None:
    assert (
        subscriber_hash(" Urist.McVankab@Freddiesjokes.com ") == "62eeb292278cc15f5817cb78f7790b08"
    )
