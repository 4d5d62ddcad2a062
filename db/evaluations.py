"""The vendor-scoring worksheet's tables: an evaluation, its weighted categories and criteria,
the vendors it compares, the colleagues invited to score, and their scores.

Weights are percentages: a category's share of the total (the categories of an evaluation
add up to 100) and a criterion's share of its category (the criteria of a category add up
to 100). Scores are whole numbers from 1 to 5, one per evaluator, vendor and criterion.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from db.models import utcnow


class Evaluation(SQLModel, table=True):
    """One vendor selection, e.g. "2027 iPaaS selection"."""

    __tablename__ = "evaluations"
    # names are unique whatever their case
    __table_args__ = (Index("uq_evaluations_name_lower", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # draft | locked — a locked evaluation is final and refuses every edit
    status: str = Field(default="draft", max_length=16)
    created_by: str = Field(default="", max_length=64)
    # the evaluation this one was duplicated from, if any
    copied_from_id: int | None = Field(
        default=None, foreign_key="evaluations.id", ondelete="SET NULL"
    )
    locked_by: str = Field(default="", max_length=64)
    locked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EvaluationCategory(SQLModel, table=True):
    """A weighted group of criteria (Connectors 25%, Capabilities 30%, ...)."""

    __tablename__ = "evaluation_categories"
    __table_args__ = (UniqueConstraint("evaluation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=80)
    # percent of the evaluation's total
    weight: float
    # display order
    position: int = 0


class EvaluationCriterion(SQLModel, table=True):
    """One thing each vendor is scored on, inside a category."""

    __tablename__ = "evaluation_criteria"
    # names are unique within an evaluation whatever their case
    __table_args__ = (
        Index(
            "uq_evaluation_criteria_name_lower",
            "evaluation_id",
            text("lower(name)"),
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", ondelete="CASCADE", index=True)
    category_id: int = Field(foreign_key="evaluation_categories.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=120)
    # percent of its category
    weight: float
    position: int = 0


class EvaluationVendor(SQLModel, table=True):
    """A vendor under evaluation."""

    __tablename__ = "evaluation_vendors"
    __table_args__ = (
        Index(
            "uq_evaluation_vendors_name_lower",
            "evaluation_id",
            text("lower(name)"),
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=120)
    position: int = 0


class EvaluationEvaluator(SQLModel, table=True):
    """A colleague invited to score every vendor of an evaluation."""

    __tablename__ = "evaluation_evaluators"
    __table_args__ = (UniqueConstraint("evaluation_id", "username"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", ondelete="CASCADE", index=True)
    username: str = Field(max_length=64)
    invited_by: str = Field(default="", max_length=64)
    invited_at: datetime = Field(default_factory=utcnow)


class EvaluationScore(SQLModel, table=True):
    """One evaluator's score (1–5) of one vendor on one criterion, with a comment."""

    __tablename__ = "evaluation_scores"
    __table_args__ = (UniqueConstraint("evaluator", "vendor_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluations.id", ondelete="CASCADE", index=True)
    evaluator: str = Field(max_length=64)
    vendor_id: int = Field(foreign_key="evaluation_vendors.id", ondelete="CASCADE", index=True)
    criterion_id: int = Field(foreign_key="evaluation_criteria.id", ondelete="CASCADE", index=True)
    score: int
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    updated_at: datetime = Field(default_factory=utcnow)
