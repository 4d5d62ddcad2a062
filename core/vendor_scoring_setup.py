"""Setting up an evaluation: weights, criteria, vendors and the evaluators invited.

Each edit is refused whole when it breaks a rule (weights total 100, names unique and
non-empty) and on a locked evaluation; each writes its audit entry in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import col, select

from core import audit
from core.errors import FieldProblem, InputError
from core.permissions import Action, Actor, require
from core.vendor_scoring_rows import (
    by_name,
    categories_of,
    count_scores,
    criteria_of,
    editable,
    name_problem,
    record,
    vendors_of,
)
from core.vendor_scoring_sheet import Category, Criterion, number, scale_to, weight_problems
from core.workspace import Workspace, transaction
from db.evaluations import (
    EvaluationCategory,
    EvaluationCriterion,
    EvaluationEvaluator,
    EvaluationScore,
    EvaluationVendor,
)
from db.models import User

# ---------------------------------------------------------------- weights and criteria


def set_weights(
    ws: Workspace,
    actor: Actor,
    evaluation_id: int,
    category_weights: Mapping[str, float],
    criterion_weights: Mapping[str, float] | None = None,
) -> None:
    """Change category weights (name → % of the total) and criterion weights (name → % of
    its category). Names left out keep their weight. Refused as a whole when a rule breaks."""
    require(actor, Action.MANAGE_EVALUATIONS)
    criterion_weights = criterion_weights or {}
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        cats, crits = categories_of(session, evaluation_id), criteria_of(session, evaluation_id)
        unknown = [n for n in category_weights if n not in {c.name for c in cats}]
        unknown += [n for n in criterion_weights if n not in {c.name for c in crits}]
        if unknown:
            raise InputError.one("Weights", f"{', '.join(unknown)} not in this evaluation.")
        proposed = [
            Category(
                cat.name,
                category_weights.get(cat.name, cat.weight),
                tuple(
                    Criterion(c.name, criterion_weights.get(c.name, c.weight))
                    for c in crits
                    if c.category_id == cat.id
                ),
            )
            for cat in cats
        ]
        problems = weight_problems(proposed)
        if problems:
            raise InputError(problems)
        before = {c.name: c.weight for c in cats} | {c.name: c.weight for c in crits}
        for cat in cats:
            cat.weight = float(category_weights.get(cat.name, cat.weight))
            session.add(cat)
        for crit in crits:
            crit.weight = float(criterion_weights.get(crit.name, crit.weight))
            session.add(crit)
        after = {c.name: c.weight for c in cats} | {c.name: c.weight for c in crits}
        old, new = audit.changes(before, after)
        if new:
            changed = ", ".join(f"{k} {number(v)}%" for k, v in new.items())
            record(session, actor, evaluation, "update weights", changed, old, new)


def add_criterion(
    ws: Workspace,
    actor: Actor,
    evaluation_id: int,
    category: str,
    name: str,
    weight: float | None = None,
) -> None:
    """Add a criterion to a category. It takes ``weight`` % of the category (by default an
    equal share, 100 / (n + 1)); the category's other criteria are scaled down in proportion
    so they still total 100 — equal criteria stay equal."""
    require(actor, Action.MANAGE_EVALUATIONS)
    name = name.strip()
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        cat = by_name(categories_of(session, evaluation_id), category, "Category")
        crits = criteria_of(session, evaluation_id)
        problems = [p for p in [name_problem("Criterion name", name, [c.name for c in crits])] if p]
        siblings = [c for c in crits if c.category_id == cat.id]
        share = 100 / (len(siblings) + 1) if weight is None else weight
        if not isinstance(share, int | float) or not 0 < share <= 100:
            problems.append(
                FieldProblem("Criterion weight", "must be more than 0 and at most 100 (%).")
            )
        if problems:
            raise InputError(problems)
        for sibling, new in zip(
            siblings, scale_to([s.weight for s in siblings], 100 - share), strict=True
        ):
            sibling.weight = new
            session.add(sibling)
        session.add(
            EvaluationCriterion(
                evaluation_id=evaluation_id,
                category_id=cat.id or 0,
                name=name,
                weight=float(share),
                position=max((c.position for c in crits), default=-1) + 1,
            )
        )
        record(
            session,
            actor,
            evaluation,
            "add criterion",
            f"added criterion {name} to {cat.name} ({number(share)}% of it)",
            after={"criterion": name, "category": cat.name, "weight": share},
        )


def remove_criterion(ws: Workspace, actor: Actor, evaluation_id: int, name: str) -> None:
    """Remove a criterion and its scores; the rest of its category is scaled up in proportion."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        crits = criteria_of(session, evaluation_id)
        victim = by_name(crits, name, "Criterion")
        siblings = [c for c in crits if c.category_id == victim.category_id and c is not victim]
        category = session.get(EvaluationCategory, victim.category_id)
        if not siblings:
            raise InputError.one(
                "Criterion",
                f"{victim.name} is the only criterion of {category.name if category else '?'}; "
                "add another to that category first.",
            )
        for sibling, new in zip(siblings, scale_to([s.weight for s in siblings], 100), strict=True):
            sibling.weight = new
            session.add(sibling)
        scores = count_scores(session, EvaluationScore.criterion_id == victim.id)
        record(
            session,
            actor,
            evaluation,
            "remove criterion",
            f"removed criterion {victim.name} and its {scores} score(s)",
            before={"criterion": victim.name, "weight": victim.weight, "scores": scores},
        )
        session.delete(victim)


# ---------------------------------------------------------------- vendors and evaluators


def add_vendor(ws: Workspace, actor: Actor, evaluation_id: int, name: str) -> None:
    """Add a vendor to compare; names are unique in the evaluation, whatever their case."""
    require(actor, Action.MANAGE_EVALUATIONS)
    name = name.strip()
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        vendors = vendors_of(session, evaluation_id)
        problem = name_problem("Vendor name", name, [v.name for v in vendors])
        if problem:
            raise InputError([problem])
        position = max((v.position for v in vendors), default=-1) + 1
        session.add(EvaluationVendor(evaluation_id=evaluation_id, name=name, position=position))
        record(
            session, actor, evaluation, "add vendor", f"added vendor {name}", after={"vendor": name}
        )


def remove_vendor(ws: Workspace, actor: Actor, evaluation_id: int, name: str) -> None:
    """Remove a vendor and every score it was given."""
    require(actor, Action.MANAGE_EVALUATIONS)
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        victim = by_name(vendors_of(session, evaluation_id), name, "Vendor")
        scores = count_scores(session, EvaluationScore.vendor_id == victim.id)
        record(
            session,
            actor,
            evaluation,
            "remove vendor",
            f"removed vendor {victim.name} and its {scores} score(s)",
            before={"vendor": victim.name, "scores": scores},
        )
        session.delete(victim)


def set_evaluators(
    ws: Workspace, actor: Actor, evaluation_id: int, usernames: Iterable[str]
) -> None:
    """Invite exactly these users to score (existing, active accounts). Someone no longer on
    the list loses the scores they gave in this evaluation."""
    require(actor, Action.MANAGE_EVALUATIONS)
    wanted = sorted({u.strip().lower() for u in usernames if u.strip()})
    with transaction(ws) as session:
        evaluation = editable(session, evaluation_id)
        active = set(
            session.exec(
                select(User.username).where(
                    col(User.username).in_(wanted),
                    User.active == True,  # noqa: E712
                )
            ).all()
        )
        unknown = [u for u in wanted if u not in active]
        if unknown:
            raise InputError.one(
                "Evaluators",
                f"{', '.join(unknown)}: no such active user; choose from the list of users.",
            )
        current = {
            row.username: row
            for row in session.exec(
                select(EvaluationEvaluator).where(
                    EvaluationEvaluator.evaluation_id == evaluation_id
                )
            )
        }
        added = [u for u in wanted if u not in current]
        removed = [u for u in current if u not in wanted]
        for username in added:
            session.add(
                EvaluationEvaluator(
                    evaluation_id=evaluation_id, username=username, invited_by=actor.username
                )
            )
        dropped = 0
        for username in removed:
            rows = session.exec(
                select(EvaluationScore).where(
                    EvaluationScore.evaluation_id == evaluation_id,
                    EvaluationScore.evaluator == username,
                )
            ).all()
            dropped += len(rows)
            for row in rows:
                session.delete(row)
            session.delete(current[username])
        if added or removed:
            record(
                session,
                actor,
                evaluation,
                "set evaluators",
                f"invited {', '.join(added) or 'nobody'}; removed {', '.join(removed) or 'nobody'}"
                + (f" and their {dropped} score(s)" if dropped else ""),
                before={"evaluators": sorted(current)},
                after={"evaluators": wanted},
            )
