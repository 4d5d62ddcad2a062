"""The dictionary against flows' field mappings: which flows use a field, and what is
wrong with a mapping (types that do not fit, personal data to a system not cleared for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from core.workspace import Workspace
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import FieldMapping, Integration, System

# types a value may move into without losing meaning (source type → destination types)
_COMPATIBLE = {
    "Integer": {"Decimal", "Currency", "String"},
    "Decimal": {"Currency", "String"},
    "Currency": {"Decimal", "String"},
    "Date": {"DateTime", "String"},
    "Email": {"String"},
    "URL": {"String"},
    "Phone": {"String"},
    "Enum": {"String"},
    "Boolean": {"String"},
    "DateTime": {"String"},
}


def path_matches(path: str, name: str) -> bool:
    """Whether a mapping's field path names the field: ``properties.email`` names ``email``."""
    path, name = path.strip().casefold(), name.casefold()
    return path == name or path.rsplit(".", 1)[-1] == name


def flows_using(session: Session, system_id: int, name: str) -> list[str]:
    """The flows whose mappings read or write the field ``name`` of ``system_id``."""
    rows = session.exec(
        select(Integration, FieldMapping)
        .join(FieldMapping, col(FieldMapping.integration_id) == col(Integration.id))
        .where(
            (Integration.source_system_id == system_id)
            | (Integration.destination_system_id == system_id)
        )
    ).all()
    names = []
    for flow, mapping in rows:
        reads = flow.source_system_id == system_id and path_matches(mapping.source_field, name)
        writes = flow.destination_system_id == system_id and path_matches(
            mapping.destination_field, name
        )
        if (reads or writes) and flow.name not in names:
            names.append(flow.name)
    return names


def _mapping_pairs(mappings: Iterable[Any]) -> list[tuple[str, str]]:
    pairs = []
    for m in mappings:
        if isinstance(m, Mapping):
            pairs.append((str(m.get("source_field", "")), str(m.get("destination_field", ""))))
        elif isinstance(m, tuple | list):
            pairs.append((str(m[0]), str(m[1])))
        else:
            pairs.append((str(m.source_field), str(m.destination_field)))
    return pairs


def _lookup(fields: Sequence[DictionaryField], path: str) -> DictionaryField | None:
    exact = [f for f in fields if f.name.casefold() == path.strip().casefold()]
    return (exact or [f for f in fields if path_matches(path, f.name)] or [None])[0]


def mapping_warnings(
    ws: Workspace, source_system_id: int, destination_system_id: int, mappings: Iterable[Any]
) -> list[str]:
    """Warnings about a flow's field mappings, judged against the dictionary.

    ``mappings`` are ``FieldMapping`` rows, ``(source_field, destination_field)`` pairs or
    dicts with those keys. Warns when the two fields' types differ (and the source's type
    does not widen safely into the destination's), and when a field marked PII goes to a
    system not cleared for personal data. Fields not in the dictionary are not judged.
    """
    pairs = _mapping_pairs(mappings)
    with read_session(ws.engine) as session:
        source = session.get(System, source_system_id)
        destination = session.get(System, destination_system_id)
        ids = [source_system_id, destination_system_id]
        rows = session.exec(
            select(DictionaryField).where(col(DictionaryField.system_id).in_(ids))
        ).all()
    if source is None or destination is None:
        return []
    in_source = [r for r in rows if r.system_id == source_system_id]
    in_destination = [r for r in rows if r.system_id == destination_system_id]
    warnings = []
    for source_path, destination_path in pairs:
        a, b = _lookup(in_source, source_path), _lookup(in_destination, destination_path)
        arrow = f"{source.name}.{source_path} → {destination.name}.{destination_path}"
        if (
            a
            and b
            and a.data_type != b.data_type
            and b.data_type not in _COMPATIBLE.get(a.data_type, set())
        ):
            warnings.append(
                f"{arrow}: a {a.data_type} goes into a {b.data_type} field; values that do "
                f"not fit {b.data_type} will be rejected. Map it to a {a.data_type} field "
                "or change one of the types in the data dictionary."
            )
        if ((a and a.pii) or (b and b.pii)) and not destination.pii_cleared:
            warnings.append(
                f"{arrow}: this is personal data (PII) and {destination.name} is not cleared "
                f"to receive it. Mark {destination.name} as cleared on the Systems page if "
                "it may hold personal data, or remove this mapping."
            )
    return warnings
