"""Scoring: each invited evaluator saves their own scores, and nobody else's.

Isolation lives here, not on the page: the actor must be invited to the evaluation, and
the scores saved are always the actor's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import select

from core.errors import FieldProblem, InputError, PermissionDenied
from core.permissions import Action, Actor, require
from core.vendor_scoring_rows import COMMENT_MAX, by_name, criteria_of, editable, record, vendors_of
from core.vendor_scoring_sheet import score_problem
from core.workspace import Workspace, transaction
from db.evaluations import EvaluationEvaluator, EvaluationScore
from db.models import utcnow

ScoreEntry = tuple[object, str]


ScoreEntry = tuple[object, str]


def save_scores(
    ws: Workspace,
    actor: Actor,
    evaluation_id: int,
    vendor: str,
    entries: Mapping[str, ScoreEntry],
    evaluator: str | None = None,
) -> int:
    """Save the actor's own scores of one vendor: criterion name → (score or None, comment).

    A score of None removes the criterion's score (it becomes missing again). Every score
    is checked first — whole number 1–5 — and one bad value refuses the whole form.
    ``evaluator`` exists to be refused: nobody, not even an admin, saves another person's
    scores. Returns the number of scores changed.
    """
    require(actor, Action.SCORE_VENDORS)
    evaluator = (evaluator or actor.username).strip().lower()
    if evaluator != actor.username:
        raise PermissionDenied(
            f"Only {evaluator} may change {evaluator}'s scores.",
            fix="Each evaluator enters their own scores; ask them to change theirs.",
        )
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        invited = session.exec(
            select(EvaluationEvaluator.id).where(
                EvaluationEvaluator.evaluation_id == evaluation_id,
                EvaluationEvaluator.username == evaluator,
            )
        ).first()
        if invited is None:
            raise PermissionDenied(
                f"You are not an evaluator of '{evaluation.name}'.",
                fix="Ask the person running the evaluation to invite you.",
            )
        target = by_name(vendors_of(session, evaluation_id), vendor, "Vendor")
        crits = {c.name: c for c in criteria_of(session, evaluation_id)}
        problems = []
        for crit_name, (value, comment) in entries.items():
            label = f"Score of {target.name} on {crit_name}"
            if crit_name not in crits:
                problems.append(FieldProblem(label, "names no criterion of this evaluation."))
            elif value is not None and (problem := score_problem(label, value)):
                problems.append(problem)
            if len(comment or "") > COMMENT_MAX:
                problems.append(
                    FieldProblem(
                        f"Comment on {crit_name}", f"is over {COMMENT_MAX} characters; shorten it."
                    )
                )
        if problems:
            raise InputError(problems)
        existing = {
            row.criterion_id: row
            for row in session.exec(
                select(EvaluationScore).where(
                    EvaluationScore.vendor_id == target.id,
                    EvaluationScore.evaluator == evaluator,
                )
            )
        }
        before, after = {}, {}
        for crit_name, (value, comment) in entries.items():
            row = existing.get(crits[crit_name].id or 0)
            comment = (comment or "").strip()
            old = (row.score, row.comment) if row else None
            new = None if value is None else (int(value), comment)  # type: ignore[arg-type]
            if old == new:
                continue
            before[crit_name], after[crit_name] = old, new
            if new is None and row is not None:
                session.delete(row)
            elif row is not None and new is not None:
                row.score, row.comment, row.updated_at = new[0], new[1], utcnow()
                session.add(row)
            elif new is not None:
                session.add(
                    EvaluationScore(
                        evaluation_id=evaluation_id,
                        evaluator=evaluator,
                        vendor_id=target.id or 0,
                        criterion_id=crits[crit_name].id or 0,
                        score=new[0],
                        comment=new[1],
                    )
                )
        if after:
            record(
                session,
                actor,
                evaluation,
                "score",
                f"{evaluator} scored {target.name} on {len(after)} criterion(s)",
                before={k: v and v[0] for k, v in before.items()},
                after={k: v and v[0] for k, v in after.items()},
            )
        return len(after)
