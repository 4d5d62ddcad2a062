"""vendor scoring: evaluations, weighted categories and criteria, vendors, evaluators, scores

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_String = sqlmodel.sql.sqltypes.AutoString
_Time = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", _String(length=16), nullable=False),
        sa.Column("created_by", _String(length=64), nullable=False),
        sa.Column("copied_from_id", sa.Integer(), nullable=True),
        sa.Column("locked_by", _String(length=64), nullable=False),
        sa.Column("locked_at", _Time(), nullable=True),
        sa.Column("created_at", _Time(), nullable=False),
        sa.Column("updated_at", _Time(), nullable=False),
        sa.ForeignKeyConstraint(["copied_from_id"], ["evaluations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_evaluations_name_lower", "evaluations", [sa.text("lower(name)")], unique=True
    )

    op.create_table(
        "evaluation_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("name", _String(length=80), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "name"),
    )
    with op.batch_alter_table("evaluation_categories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_categories_evaluation_id"), ["evaluation_id"], unique=False
        )

    op.create_table(
        "evaluation_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("name", _String(length=120), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["category_id"], ["evaluation_categories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evaluation_criteria", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_criteria_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluation_criteria_category_id"), ["category_id"], unique=False
        )
    op.create_index(
        "uq_evaluation_criteria_name_lower",
        "evaluation_criteria",
        ["evaluation_id", sa.text("lower(name)")],
        unique=True,
    )

    op.create_table(
        "evaluation_vendors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("name", _String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evaluation_vendors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_vendors_evaluation_id"), ["evaluation_id"], unique=False
        )
    op.create_index(
        "uq_evaluation_vendors_name_lower",
        "evaluation_vendors",
        ["evaluation_id", sa.text("lower(name)")],
        unique=True,
    )

    op.create_table(
        "evaluation_evaluators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("username", _String(length=64), nullable=False),
        sa.Column("invited_by", _String(length=64), nullable=False),
        sa.Column("invited_at", _Time(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluation_id", "username"),
    )
    with op.batch_alter_table("evaluation_evaluators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_evaluators_evaluation_id"), ["evaluation_id"], unique=False
        )

    op.create_table(
        "evaluation_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("evaluator", _String(length=64), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", _Time(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vendor_id"], ["evaluation_vendors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["criterion_id"], ["evaluation_criteria.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("evaluator", "vendor_id", "criterion_id"),
    )
    with op.batch_alter_table("evaluation_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_scores_evaluation_id"), ["evaluation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluation_scores_vendor_id"), ["vendor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evaluation_scores_criterion_id"), ["criterion_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("evaluation_scores")
    op.drop_table("evaluation_evaluators")
    op.drop_index("uq_evaluation_vendors_name_lower", table_name="evaluation_vendors")
    op.drop_table("evaluation_vendors")
    op.drop_index("uq_evaluation_criteria_name_lower", table_name="evaluation_criteria")
    op.drop_table("evaluation_criteria")
    op.drop_table("evaluation_categories")
    op.drop_index("uq_evaluations_name_lower", table_name="evaluations")
    op.drop_table("evaluations")
