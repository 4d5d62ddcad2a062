"""flows that run: mappings, runs, checkpoints, leases, hub, conflicts, calls, webhooks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_calls_at"), ["at"], unique=False)
        batch_op.create_index("ix_api_calls_connector_at", ["connector_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_api_calls_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "field_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("external_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("current_value", sa.Text(), nullable=False),
        sa.Column("current_source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("current_modified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("incoming_value", sa.Text(), nullable=False),
        sa.Column("incoming_source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("incoming_modified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("field_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_field_conflicts_status"), ["status"], unique=False)

    op.create_table(
        "hub_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("external_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fields_json", sa.Text(), nullable=False),
        sa.Column("provenance_json", sa.Text(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "external_key"),
    )
    with op.batch_alter_table("hub_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hub_records_last_run_id"), ["last_run_id"], unique=False
        )

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delay_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_events_connector_id"), ["connector_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_events_status"), ["status"], unique=False)

    op.create_table(
        "field_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("source_field", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "destination_field", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("field_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_field_mappings_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "integration_leases",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("integration_id"),
    )
    op.create_table(
        "integration_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("worker_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("records_read", sa.Integer(), nullable=False),
        sa.Column("records_written", sa.Integer(), nullable=False),
        sa.Column("records_rejected", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("rate_limited", sa.Integer(), nullable=False),
        sa.Column("cursor_before", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("cursor_after", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("resume_json", sa.Text(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("error_fix", sa.Text(), nullable=False),
        sa.Column("error_whose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("integration_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_runs_integration_id"), ["integration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_integration_runs_requested_at"), ["requested_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integration_runs_status"), ["status"], unique=False)

    op.create_table(
        "reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("source_count", sa.Integer(), nullable=False),
        sa.Column("hub_count", sa.Integer(), nullable=False),
        sa.Column("missing_in_hub", sa.Integer(), nullable=False),
        sa.Column("extra_in_hub", sa.Integer(), nullable=False),
        sa.Column("sample_json", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliations_integration_id"), ["integration_id"], unique=False
        )

    op.create_table(
        "sync_states",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("integration_id"),
    )
    op.create_table(
        "rejected_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("record_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["integration_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rejected_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_records_run_id"), ["run_id"], unique=False)

    # plain ADD COLUMN (no table rebuild), so the case-insensitive name index stays
    for column in (
        sa.Column("source_connector_id", sa.Integer(), nullable=True),
        sa.Column("source_stream", sa.String(64), nullable=False, server_default=""),
        sa.Column("destination_connector_id", sa.Integer(), nullable=True),
        sa.Column("destination_stream", sa.String(64), nullable=False, server_default=""),
        sa.Column("write_mode", sa.String(16), nullable=False, server_default="upsert"),
        sa.Column("sync_mode", sa.String(24), nullable=False, server_default="incremental_upsert"),
        sa.Column("every_minutes", sa.Integer(), nullable=True),
        sa.Column("at_time", sa.String(5), nullable=False, server_default=""),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("next_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    ):
        op.add_column("integrations", column)
    op.create_index("ix_integrations_next_run_at", "integrations", ["next_run_at"])
    if op.get_bind().dialect.name != "sqlite":
        # SQLite cannot add a foreign key without rebuilding the table; core unlinks
        # a deleted connector's flows itself
        for name, column in (
            ("fk_integrations_source_connector", "source_connector_id"),
            ("fk_integrations_destination_connector", "destination_connector_id"),
        ):
            op.create_foreign_key(
                name, "integrations", "connectors", [column], ["id"], ondelete="SET NULL"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for name in ("fk_integrations_source_connector", "fk_integrations_destination_connector"):
            op.drop_constraint(name, "integrations", type_="foreignkey")
    op.drop_index("ix_integrations_next_run_at", table_name="integrations")
    for column in (
        "last_run_at",
        "next_run_at",
        "weekday",
        "at_time",
        "every_minutes",
        "sync_mode",
        "write_mode",
        "destination_stream",
        "destination_connector_id",
        "source_stream",
        "source_connector_id",
    ):
        op.drop_column("integrations", column)

    with op.batch_alter_table("rejected_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_records_run_id"))

    op.drop_table("rejected_records")
    op.drop_table("sync_states")
    with op.batch_alter_table("reconciliations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliations_integration_id"))

    op.drop_table("reconciliations")
    with op.batch_alter_table("integration_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_runs_status"))
        batch_op.drop_index(batch_op.f("ix_integration_runs_requested_at"))
        batch_op.drop_index(batch_op.f("ix_integration_runs_integration_id"))

    op.drop_table("integration_runs")
    op.drop_table("integration_leases")
    with op.batch_alter_table("field_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_mappings_integration_id"))

    op.drop_table("field_mappings")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_status"))
        batch_op.drop_index(batch_op.f("ix_webhook_events_connector_id"))

    op.drop_table("webhook_events")
    with op.batch_alter_table("hub_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_records_last_run_id"))

    op.drop_table("hub_records")
    with op.batch_alter_table("field_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_field_conflicts_status"))

    op.drop_table("field_conflicts")
    with op.batch_alter_table("api_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_calls_integration_id"))
        batch_op.drop_index("ix_api_calls_connector_at")
        batch_op.drop_index(batch_op.f("ix_api_calls_at"))

    op.drop_table("api_calls")
