"""The data dictionary's tables: one row per field of a system, and every version of it.

A field's versions outlive the field: deleting a field (or its system) keeps its history,
which is why ``DictionaryFieldVersion.field_id`` is a plain number, not a foreign key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from db.models import utcnow


class DictionaryField(SQLModel, table=True):
    """One field of one system: its type, what it means, an example, and its rules."""

    __tablename__ = "dictionary_fields"
    # one name per system, whatever its case ("Email" and "email" are one field)
    __table_args__ = (
        Index("uq_dictionary_fields_system_name", "system_id", text("lower(name)"), unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # a system deleted takes its fields with it; their versions stay
    system_id: int = Field(foreign_key="systems.id", ondelete="CASCADE", index=True)
    # String | Integer | Decimal | Currency | Boolean | Date | DateTime | Email | URL | Phone | Enum
    data_type: str = Field(max_length=16)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    example: str = Field(default="", max_length=500)
    # the values an Enum may take, comma-separated
    allowed_values: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # a regular expression every value must match in full (optional)
    pattern: str = Field(default="", max_length=500)
    required: bool = False
    # personal data: may only go to systems cleared for PII
    pii: bool = False
    # a conflicting write to this field waits in the review queue for a person
    critical: bool = False
    owner: str = Field(default="", max_length=120)
    domain: str = Field(default="Marketing", max_length=40)
    # the number of its newest version (1 when created)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DictionaryFieldVersion(SQLModel, table=True):
    """One change to a field: who, when, the values before and after (JSON)."""

    __tablename__ = "dictionary_field_versions"

    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(index=True)
    version: int
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64)
    # create | update | delete | revert | import
    action: str = Field(max_length=16)
    # the field's name and system when the change was made, for a history that outlives it
    field_name: str = Field(max_length=200)
    system_name: str = Field(default="", max_length=80)
    before_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    after_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # which version this change undid, for a revert
    reverts_version_id: int | None = None
