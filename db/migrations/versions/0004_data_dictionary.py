"""data dictionary: fields and their versions

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dictionary_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("data_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("example", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("allowed_values", sa.Text(), nullable=False),
        sa.Column("pattern", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("pii", sa.Boolean(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["system_id"], ["systems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dictionary_fields", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dictionary_fields_system_id"), ["system_id"], unique=False
        )
    op.create_index(
        "uq_dictionary_fields_system_name",
        "dictionary_fields",
        ["system_id", sa.text("lower(name)")],
        unique=True,
    )

    op.create_table(
        "dictionary_field_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("field_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("system_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=False),
        sa.Column("after_json", sa.Text(), nullable=False),
        sa.Column("reverts_version_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dictionary_field_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dictionary_field_versions_field_id"), ["field_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dictionary_field_versions_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dictionary_field_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dictionary_field_versions_at"))
        batch_op.drop_index(batch_op.f("ix_dictionary_field_versions_field_id"))
    op.drop_table("dictionary_field_versions")
    op.drop_index("uq_dictionary_fields_system_name", table_name="dictionary_fields")
    with op.batch_alter_table("dictionary_fields", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dictionary_fields_system_id"))
    op.drop_table("dictionary_fields")
