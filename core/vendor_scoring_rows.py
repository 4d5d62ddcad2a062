"""What the vendor-scoring services share: the shapes they return, the rows they read,
and the checks every edit makes (the evaluation exists and is not locked, names are
unique, the audit entry is written in the edit's transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from core import audit
from core.errors import FieldProblem, InputError, NotFound, SwitchboardError
from core.permissions import Actor
from core.vendor_scoring_sheet import Category, Criterion, Sheet
from db.evaluations import (
    Evaluation,
    EvaluationCategory,
    EvaluationCriterion,
    EvaluationEvaluator,
    EvaluationScore,
    EvaluationVendor,
)
from db.models import User, utcnow

NAME_MAX = 120
COMMENT_MAX = 2000
ENTITY = "evaluation"


class EvaluationLocked(SwitchboardError):
    """The evaluation is final: it refuses every edit."""


@dataclass(frozen=True)
class EvaluationSummary:
    """An evaluation's identity and state, without its contents."""

    id: int
    name: str
    description: str
    status: str
    created_by: str
    created_at: datetime
    locked_by: str
    locked_at: datetime | None
    copied_from: str | None

    @property
    def locked(self) -> bool:
        return self.status == "locked"


@dataclass(frozen=True)
class Worksheet:
    """One evaluation, whole: its summary, its contents as a plain ``Sheet``, and the
    display names of its evaluators (username → name)."""

    evaluation: EvaluationSummary
    sheet: Sheet
    people: Mapping[str, str]

    def is_evaluator(self, username: str) -> bool:
        return username in self.sheet.evaluators

    def own_scores(self, username: str, vendor: str) -> dict[str, tuple[int, str]]:
        """criterion → (score, comment) that ``username`` gave ``vendor``."""
        return {
            crit: (value, self.sheet.comments.get((who, v, crit), ""))
            for (who, v, crit), value in self.sheet.scores.items()
            if who == username and v == vendor
        }


def summary_of(session: Session, evaluation: Evaluation) -> EvaluationSummary:
    source = (
        session.get(Evaluation, evaluation.copied_from_id) if evaluation.copied_from_id else None
    )
    return EvaluationSummary(
        id=evaluation.id or 0,
        name=evaluation.name,
        description=evaluation.description,
        status=evaluation.status,
        created_by=evaluation.created_by,
        created_at=evaluation.created_at,
        locked_by=evaluation.locked_by,
        locked_at=evaluation.locked_at,
        copied_from=source.name if source else None,
    )


def sheet_of(session: Session, evaluation_id: int) -> tuple[Sheet, dict[str, str]]:
    cats = session.exec(
        select(EvaluationCategory)
        .where(EvaluationCategory.evaluation_id == evaluation_id)
        .order_by(col(EvaluationCategory.position), col(EvaluationCategory.id))
    ).all()
    crits = session.exec(
        select(EvaluationCriterion)
        .where(EvaluationCriterion.evaluation_id == evaluation_id)
        .order_by(col(EvaluationCriterion.position), col(EvaluationCriterion.id))
    ).all()
    vendors = session.exec(
        select(EvaluationVendor)
        .where(EvaluationVendor.evaluation_id == evaluation_id)
        .order_by(col(EvaluationVendor.position), col(EvaluationVendor.id))
    ).all()
    evaluators = session.exec(
        select(EvaluationEvaluator.username)
        .where(EvaluationEvaluator.evaluation_id == evaluation_id)
        .order_by(col(EvaluationEvaluator.username))
    ).all()
    rows = session.exec(
        select(EvaluationScore).where(EvaluationScore.evaluation_id == evaluation_id)
    ).all()
    vendor_names = {v.id: v.name for v in vendors}
    crit_names = {c.id: c.name for c in crits}
    categories = tuple(
        Category(
            cat.name,
            cat.weight,
            tuple(Criterion(c.name, c.weight) for c in crits if c.category_id == cat.id),
        )
        for cat in cats
    )
    scores, comments = {}, {}
    for row in rows:
        key = (row.evaluator, vendor_names[row.vendor_id], crit_names[row.criterion_id])
        scores[key] = row.score
        if row.comment:
            comments[key] = row.comment
    names = dict(
        session.exec(
            select(User.username, User.display_name).where(col(User.username).in_(evaluators))
        ).all()
    )
    sheet = Sheet(categories, tuple(v.name for v in vendors), tuple(evaluators), scores, comments)
    return sheet, {u: names.get(u, u) for u in evaluators}


def editable(session: Session, evaluation_id: int) -> Evaluation:
    """The evaluation, if it exists and is not locked."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(f"Evaluation #{evaluation_id} no longer exists.")
    if evaluation.status == "locked":
        when = evaluation.locked_at.strftime("%Y-%m-%d %H:%M UTC") if evaluation.locked_at else ""
        raise EvaluationLocked(
            f"'{evaluation.name}' is locked: {evaluation.locked_by or 'someone'} made it final "
            f"{when}, so it cannot be changed.".replace("  ", " "),
            fix="Duplicate it to try other weights, vendors or scores.",
        )
    evaluation.updated_at = utcnow()
    session.add(evaluation)
    return evaluation


def name_problem(label: str, name: str, taken: Iterable[str]) -> FieldProblem | None:
    if not name:
        return FieldProblem(label, "is empty; type a name.")
    if len(name) > NAME_MAX:
        return FieldProblem(label, f"is longer than {NAME_MAX} characters; shorten it.")
    if name.lower() in {t.lower() for t in taken}:
        return FieldProblem(label, f"'{name}' is already in this evaluation; pick another name.")
    return None


def record(
    session: Session,
    actor: Actor,
    evaluation: Evaluation,
    action: str,
    summary: str,
    before: Mapping | None = None,
    after: Mapping | None = None,
) -> None:
    """The audit entry of an edit, in the edit's transaction."""
    audit.record(
        session,
        actor=actor.username,
        action=action,
        entity=ENTITY,
        entity_id=evaluation.id,
        summary=f"{evaluation.name}: {summary}",
        before=before,
        after=after,
    )


def categories_of(session: Session, evaluation_id: int) -> list[EvaluationCategory]:
    return list(
        session.exec(
            select(EvaluationCategory)
            .where(EvaluationCategory.evaluation_id == evaluation_id)
            .order_by(col(EvaluationCategory.position), col(EvaluationCategory.id))
        )
    )


def criteria_of(session: Session, evaluation_id: int) -> list[EvaluationCriterion]:
    return list(
        session.exec(
            select(EvaluationCriterion)
            .where(EvaluationCriterion.evaluation_id == evaluation_id)
            .order_by(col(EvaluationCriterion.position), col(EvaluationCriterion.id))
        )
    )


def vendors_of(session: Session, evaluation_id: int) -> list[EvaluationVendor]:
    return list(
        session.exec(
            select(EvaluationVendor)
            .where(EvaluationVendor.evaluation_id == evaluation_id)
            .order_by(col(EvaluationVendor.position), col(EvaluationVendor.id))
        )
    )


def by_name(rows: Iterable, name: str, label: str):  # noqa: ANN202
    found = next((r for r in rows if r.name.lower() == name.strip().lower()), None)
    if found is None:
        raise InputError.one(label, f"'{name}' is not in this evaluation; pick one from the list.")
    return found


def count_scores(session: Session, condition) -> int:  # noqa: ANN001
    return len(session.exec(select(EvaluationScore.id).where(condition)).all())
