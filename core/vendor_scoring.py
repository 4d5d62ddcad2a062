"""The vendor-scoring worksheet's services: evaluations, weights, criteria, vendors,
evaluators and scores, kept in the store.

Every write checks the actor's role, refuses a locked evaluation, validates all of its input
before touching a row, and records its audit entry in the same transaction. Evaluators are
isolated here, not on the page: a person saves only their own scores, and only in an
evaluation they were invited to.

This module holds the evaluations themselves (start, read, duplicate, lock, delete) and is
the one door the page uses; set-up edits live in ``vendor_scoring_setup``, scoring in
``vendor_scoring_scores``, shared rows and checks in ``vendor_scoring_rows``, and the
arithmetic in ``vendor_scoring_sheet``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.errors import InputError, NotFound
from core.permissions import Action, Actor, require
from core.vendor_scoring_rows import (
    EvaluationLocked,
    EvaluationSummary,
    Worksheet,
    editable,
    name_problem,
    record,
    sheet_of,
    summary_of,
)
from core.vendor_scoring_scores import save_scores
from core.vendor_scoring_setup import (
    add_criterion,
    add_vendor,
    remove_criterion,
    remove_vendor,
    set_evaluators,
    set_weights,
)
from core.vendor_scoring_sheet import Category, template_categories
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.evaluations import (
    Evaluation,
    EvaluationCategory,
    EvaluationCriterion,
    EvaluationEvaluator,
    EvaluationScore,
    EvaluationVendor,
)
from db.models import User, utcnow

__all__ = [
    "EvaluationLocked",
    "EvaluationSummary",
    "Worksheet",
    "add_criterion",
    "add_vendor",
    "create_evaluation",
    "delete_evaluation",
    "duplicate_evaluation",
    "list_evaluations",
    "list_people",
    "load_worksheet",
    "lock_evaluation",
    "remove_criterion",
    "remove_vendor",
    "save_scores",
    "set_evaluators",
    "set_weights",
]


# ---------------------------------------------------------------- reading


def list_evaluations(ws: Workspace, actor: Actor) -> list[EvaluationSummary]:
    """Every evaluation, the newest first."""
    require(actor, Action.VIEW_EVALUATIONS)
    with read_session(ws.engine) as session:
        rows = session.exec(select(Evaluation).order_by(col(Evaluation.id).desc())).all()
        return [summary_of(session, e) for e in rows]


def load_worksheet(ws: Workspace, actor: Actor, evaluation_id: int) -> Worksheet:
    """The whole evaluation, for the page, the exports and the print view."""
    require(actor, Action.VIEW_EVALUATIONS)
    with read_session(ws.engine) as session:
        evaluation = session.get(Evaluation, evaluation_id)
        if evaluation is None:
            raise NotFound(f"Evaluation #{evaluation_id} no longer exists.")
        sheet, people = sheet_of(session, evaluation_id)
        return Worksheet(summary_of(session, evaluation), sheet, people)


def list_people(ws: Workspace, actor: Actor) -> dict[str, str]:
    """The active users evaluators can be chosen from: username → display name."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(User.username, User.display_name)
            .where(User.active == True)  # noqa: E712
            .order_by(col(User.username))
        ).all()
    return dict(rows)


# ---------------------------------------------------------------- evaluations


def _check_evaluation_name(session: Session, name: str) -> str:
    name = name.strip()
    taken = session.exec(
        select(Evaluation.name).where(func.lower(Evaluation.name) == name.lower())
    ).all()
    problem = name_problem("Evaluation name", name, taken)
    if problem:
        raise InputError([problem])
    return name


def create_evaluation(
    ws: Workspace, actor: Actor, name: str, description: str = ""
) -> EvaluationSummary:
    """Start an evaluation from the seed's template (SPEC §5): five weighted categories,
    eleven criteria equal within their category, no vendors and no evaluators yet."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        name = _check_evaluation_name(session, name)
        evaluation = Evaluation(
            name=name, description=description.strip(), created_by=actor.username
        )
        session.add(evaluation)
        session.flush()
        _copy_structure(session, evaluation.id or 0, template_categories())
        record(
            session,
            actor,
            evaluation,
            "create",
            "started from the iPaaS template",
            after={"name": name, "categories": {c.name: c.weight for c in template_categories()}},
        )
        return summary_of(session, evaluation)


def _copy_structure(
    session: Session, evaluation_id: int, categories: Iterable[Category]
) -> dict[str, int]:
    """Insert categories and criteria; returns criterion name → id."""
    ids: dict[str, int] = {}
    position = 0
    for cat_position, cat in enumerate(categories):
        row = EvaluationCategory(
            evaluation_id=evaluation_id, name=cat.name, weight=cat.weight, position=cat_position
        )
        session.add(row)
        session.flush()
        for crit in cat.criteria:
            criterion = EvaluationCriterion(
                evaluation_id=evaluation_id,
                category_id=row.id or 0,
                name=crit.name,
                weight=crit.weight,
                position=position,
            )
            session.add(criterion)
            session.flush()
            ids[crit.name] = criterion.id or 0
            position += 1
    return ids


def duplicate_evaluation(
    ws: Workspace, actor: Actor, evaluation_id: int, new_name: str, with_scores: bool = False
) -> EvaluationSummary:
    """A draft copy (of a locked evaluation too): weights, criteria, vendors, evaluators and,
    if asked, the scores — to try other weights or run the next round."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        source = session.get(Evaluation, evaluation_id)
        if source is None:
            raise NotFound(f"Evaluation #{evaluation_id} no longer exists.")
        name = _check_evaluation_name(session, new_name)
        sheet, _people = sheet_of(session, evaluation_id)
        copy = Evaluation(
            name=name,
            description=source.description,
            created_by=actor.username,
            copied_from_id=source.id,
        )
        session.add(copy)
        session.flush()
        crit_ids = _copy_structure(session, copy.id or 0, sheet.categories)
        vendor_ids = {}
        for position, vendor in enumerate(sheet.vendors):
            row = EvaluationVendor(evaluation_id=copy.id or 0, name=vendor, position=position)
            session.add(row)
            session.flush()
            vendor_ids[vendor] = row.id or 0
        for username in sheet.evaluators:
            session.add(
                EvaluationEvaluator(
                    evaluation_id=copy.id or 0, username=username, invited_by=actor.username
                )
            )
        if with_scores:
            for (who, vendor, crit), value in sheet.scores.items():
                session.add(
                    EvaluationScore(
                        evaluation_id=copy.id or 0,
                        evaluator=who,
                        vendor_id=vendor_ids[vendor],
                        criterion_id=crit_ids[crit],
                        score=value,
                        comment=sheet.comments.get((who, vendor, crit), ""),
                    )
                )
        record(
            session,
            actor,
            copy,
            "duplicate",
            f"duplicated from {source.name}" + (" with its scores" if with_scores else ""),
            after={"copied_from": source.name, "with_scores": with_scores},
        )
        return summary_of(session, copy)


def lock_evaluation(ws: Workspace, actor: Actor, evaluation_id: int) -> EvaluationSummary:
    """Make the evaluation final: from now on it refuses every edit."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        evaluation.status, evaluation.locked_by = "locked", actor.username
        evaluation.locked_at = utcnow()
        session.add(evaluation)
        sheet, _people = sheet_of(session, evaluation_id)
        record(
            session,
            actor,
            evaluation,
            "lock",
            "locked as final",
            before={"status": "draft"},
            after={"status": "locked", "scores": len(sheet.scores)},
        )
        return summary_of(session, evaluation)


def delete_evaluation(ws: Workspace, actor: Actor, evaluation_id: int) -> None:
    """Delete a draft evaluation and everything in it (a locked one is kept)."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        record(session, actor, evaluation, "delete", "deleted", before={"name": evaluation.name})
        session.delete(evaluation)
