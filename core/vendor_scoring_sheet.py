"""The vendor-scoring arithmetic, as pure functions over plain data.

An evaluation is a ``Sheet``: weighted categories of weighted criteria, the vendors, the
evaluators and their scores. ``score(sheet)`` turns it into ``Results``. Nothing here
touches the store, so every rule can be checked by hand.

The scale
---------
- A category's weight is its share of the total, in percent; the categories add up to 100.
- A criterion's weight is its share of its category, in percent; the criteria of a category
  add up to 100. A criterion is therefore worth ``category weight × criterion weight / 100``
  points of the 100 (Connectors 25% with two equal criteria: 12.5 points each).
- Each evaluator scores each vendor on each criterion with a whole number from 1 to 5.
- The consensus score of a vendor on a criterion is the mean of the evaluators' scores; the
  median is computed beside it.
- A criterion earns ``consensus / 5 × its points``: all 5s make 100, all 1s make 20.
- A vendor's total is the sum over the criteria (out of 100); the median total is the same
  sum made with the medians. Ranking follows the mean-based total.
- A criterion nobody has scored yet earns 0 points; one scored by only some evaluators uses
  the mean of the scores that are in. Either way the total is *provisional* until every
  evaluator has scored every vendor on every criterion.
- Evaluators disagree on a criterion when their highest and lowest scores are 2 or more
  points apart.

Worked example: Capabilities 30% with four equal criteria (7.5 points each); two evaluators
score Data transformation 4 and 5 → mean 4.5 → 4.5 / 5 × 7.5 = 6.75 points.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.errors import FieldProblem

SCORE_MIN, SCORE_MAX = 1, 5
#: highest minus lowest score on one criterion from which evaluators are said to disagree
DISAGREEMENT_SPREAD = 2
#: how far a sum of weights may stray from 100 (weights are entered with two decimals)
WEIGHT_TOLERANCE = 0.01
#: two totals closer than this are a tie
TIE = 1e-9

#: SPEC §5: the seed's iPaaS worksheet — (category, weight %, criteria, equal within it)
TEMPLATE: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("Connectors", 25, ("Pre-built connectors", "Custom connector ability")),
    (
        "Capabilities",
        30,
        ("Data transformation", "Error handling", "Scheduling options", "Real-time support"),
    ),
    ("Usability", 20, ("Ease of use", "Documentation")),
    ("Operations", 15, ("Monitoring/alerting", "Logging")),
    ("Cost", 10, ("Pricing model",)),
)


@dataclass(frozen=True)
class Criterion:
    """One thing vendors are scored on; ``weight`` is its percent of its category."""

    name: str
    weight: float


@dataclass(frozen=True)
class Category:
    """A group of criteria; ``weight`` is its percent of the total."""

    name: str
    weight: float
    criteria: tuple[Criterion, ...]


#: (evaluator, vendor, criterion) → score 1–5
ScoreKey = tuple[str, str, str]


@dataclass(frozen=True)
class Sheet:
    """An evaluation as plain data: what ``score`` needs and nothing else."""

    categories: tuple[Category, ...]
    vendors: tuple[str, ...]
    evaluators: tuple[str, ...]
    scores: Mapping[ScoreKey, int] = field(default_factory=dict)
    comments: Mapping[ScoreKey, str] = field(default_factory=dict)

    @property
    def criteria(self) -> list[tuple[Category, Criterion]]:
        return [(cat, crit) for cat in self.categories for crit in cat.criteria]

    def with_category_weights(self, weights: Mapping[str, float]) -> Sheet:
        """The same sheet with other category weights (for what-if and sensitivity)."""
        categories = tuple(
            Category(c.name, weights.get(c.name, c.weight), c.criteria) for c in self.categories
        )
        return Sheet(categories, self.vendors, self.evaluators, self.scores, self.comments)


def template_categories() -> tuple[Category, ...]:
    """The seed's five categories and eleven criteria, criteria equal within a category."""
    return tuple(
        Category(name, float(weight), tuple(Criterion(c, 100 / len(crits)) for c in crits))
        for name, weight, crits in TEMPLATE
    )


def equal_shares(count: int) -> list[float]:
    """``count`` weights of 100 / count each (the default for criteria of a category)."""
    return [100 / count] * count if count else []


def scale_to(weights: list[float], total: float) -> list[float]:
    """Weights scaled proportionally so they add up to ``total`` (equal shares if all 0)."""
    current = sum(weights)
    if not weights:
        return []
    if current <= 0:
        return [total / len(weights)] * len(weights)
    return [w * total / current for w in weights]


def number(value: float) -> str:
    """A weight or a score as people write it: 25, 33.33, 4.5."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------- validation


def _sum_problem(total: float, names: list[tuple[str, float]], of: str = "") -> str:
    """Which weights are off, by how much, and the way back to 100."""
    gap = total - 100
    where = "over" if gap > 0 else "short of"
    fix = "lower" if gap > 0 else "raise"
    listing = ", ".join(f"{n} {number(w)}" for n, w in names)
    return (
        f"add up to {number(total)}%{of} — {number(abs(gap))} points {where} 100%; "
        f"{fix} one or more of them so they total exactly 100 (now: {listing})."
    )


def weight_problems(categories: tuple[Category, ...] | list[Category]) -> list[FieldProblem]:
    """Every broken weight rule, each naming the weights that are off and by how much.

    >>> weight_problems([Category("Cost", 90, (Criterion("Pricing model", 100),))])[0].field
    'Category weights'
    """
    problems: list[FieldProblem] = []
    for cat in categories:
        for label, weight in [(f"Weight of {cat.name}", cat.weight)] + [
            (f"Weight of {crit.name} (in {cat.name})", crit.weight) for crit in cat.criteria
        ]:
            if not isinstance(weight, int | float) or math.isnan(weight):
                problems.append(FieldProblem(label, "is not a number; enter 0 to 100."))
            elif not 0 <= weight <= 100:
                problems.append(
                    FieldProblem(label, f"is {number(weight)}; a weight must be 0 to 100.")
                )
    if problems:
        return problems
    total = sum(c.weight for c in categories)
    if categories and abs(total - 100) > WEIGHT_TOLERANCE:
        problems.append(
            FieldProblem(
                "Category weights",
                _sum_problem(total, [(c.name, c.weight) for c in categories]),
            )
        )
    for cat in categories:
        if not cat.criteria:
            problems.append(
                FieldProblem(
                    f"Criteria of {cat.name}", "there are none; add at least one criterion."
                )
            )
            continue
        crit_total = sum(c.weight for c in cat.criteria)
        if abs(crit_total - 100) > WEIGHT_TOLERANCE:
            problems.append(
                FieldProblem(
                    f"Criteria weights in {cat.name}",
                    _sum_problem(
                        crit_total,
                        [(c.name, c.weight) for c in cat.criteria],
                        " of the category",
                    ),
                )
            )
    return problems


def score_problem(label: str, value: object) -> FieldProblem | None:
    """Why ``value`` is not a score (a whole number 1–5), or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return FieldProblem(label, "is not a number; enter a whole number from 1 to 5.")
    if isinstance(value, float) and (math.isnan(value) or not value.is_integer()):
        return FieldProblem(
            label, f"is {number(value)}; scores are whole numbers from 1 to 5 — no fractions."
        )
    if not SCORE_MIN <= value <= SCORE_MAX:
        return FieldProblem(label, f"is {number(value)}; use a whole number from 1 to 5.")
    return None


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Cell:
    """One vendor on one criterion: every evaluator's score and the consensus."""

    vendor: str
    category: str
    criterion: str
    #: points of the 100 this criterion is worth
    weight: float
    scores: Mapping[str, int]
    comments: Mapping[str, str]

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.scores.values()) if self.scores else None

    @property
    def median(self) -> float | None:
        return float(statistics.median(self.scores.values())) if self.scores else None

    @property
    def spread(self) -> int:
        return max(self.scores.values()) - min(self.scores.values()) if self.scores else 0

    @property
    def points(self) -> float:
        """Mean / 5 × weight; 0 while nobody has scored it."""
        return 0.0 if self.mean is None else self.mean / SCORE_MAX * self.weight

    @property
    def median_points(self) -> float:
        return 0.0 if self.median is None else self.median / SCORE_MAX * self.weight


@dataclass(frozen=True)
class VendorTotal:
    """A vendor's weighted total out of 100, its rank and how complete its scores are."""

    vendor: str
    rank: int
    total: float
    median_total: float
    by_category: Mapping[str, float]
    scores_in: int
    scores_expected: int

    @property
    def provisional(self) -> bool:
        return self.scores_in < self.scores_expected


@dataclass(frozen=True)
class Missing:
    """A score not yet given."""

    evaluator: str
    vendor: str
    criterion: str


@dataclass(frozen=True)
class Results:
    """Everything the worksheet shows: ranking, cells, gaps and disagreements."""

    totals: tuple[VendorTotal, ...]
    cells: tuple[Cell, ...]
    missing: tuple[Missing, ...]

    @property
    def complete(self) -> bool:
        return not self.missing and bool(self.cells)

    @property
    def leaders(self) -> list[str]:
        """The vendors in first place (more than one on a tie)."""
        return [t.vendor for t in self.totals if t.rank == 1]

    @property
    def winner(self) -> str | None:
        """The sole vendor in first place; None on a tie or with no vendor."""
        leaders = self.leaders
        return leaders[0] if len(leaders) == 1 else None

    @property
    def disagreements(self) -> list[Cell]:
        """Cells where evaluators' scores are ``DISAGREEMENT_SPREAD`` or more apart."""
        return [c for c in self.cells if c.spread >= DISAGREEMENT_SPREAD]

    def missing_by_evaluator(self) -> dict[str, dict[str, list[str]]]:
        """evaluator → vendor → the criteria still to score."""
        summary: dict[str, dict[str, list[str]]] = {}
        for m in self.missing:
            summary.setdefault(m.evaluator, {}).setdefault(m.vendor, []).append(m.criterion)
        return summary


def rank(totals: Mapping[str, float]) -> dict[str, int]:
    """Competition ranking (1, 1, 3): equal totals share a rank."""
    ordered = sorted(totals.values(), reverse=True)
    return {v: 1 + sum(1 for t in ordered if t > total + TIE) for v, total in totals.items()}


def score(sheet: Sheet) -> Results:
    """The weighted totals, ranking, missing scores and disagreements of ``sheet``.

    >>> cats = (Category("All", 100, (Criterion("Price", 100),)),)
    >>> r = score(Sheet(cats, ("A",), ("ann", "bob"), {("ann", "A", "Price"): 4,
    ...                                                ("bob", "A", "Price"): 5}))
    >>> r.totals[0].total
    90.0
    """
    cells: list[Cell] = []
    missing: list[Missing] = []
    for vendor in sheet.vendors:
        for cat, crit in sheet.criteria:
            given = {
                e: sheet.scores[(e, vendor, crit.name)]
                for e in sheet.evaluators
                if (e, vendor, crit.name) in sheet.scores
            }
            missing.extend(
                Missing(e, vendor, crit.name) for e in sheet.evaluators if e not in given
            )
            cells.append(
                Cell(
                    vendor=vendor,
                    category=cat.name,
                    criterion=crit.name,
                    weight=cat.weight * crit.weight / 100,
                    scores=given,
                    comments={
                        e: sheet.comments[(e, vendor, crit.name)]
                        for e in given
                        if sheet.comments.get((e, vendor, crit.name))
                    },
                )
            )
    expected = len(sheet.evaluators) * len(sheet.criteria)
    raw: dict[str, VendorTotal] = {}
    for vendor in sheet.vendors:
        own = [c for c in cells if c.vendor == vendor]
        raw[vendor] = VendorTotal(
            vendor=vendor,
            rank=0,
            total=sum(c.points for c in own),
            median_total=sum(c.median_points for c in own),
            by_category={
                cat.name: sum(c.points for c in own if c.category == cat.name)
                for cat in sheet.categories
            },
            scores_in=sum(len(c.scores) for c in own),
            scores_expected=expected,
        )
    ranks = rank({v: t.total for v, t in raw.items()})
    totals = sorted(
        (
            VendorTotal(
                t.vendor,
                ranks[v],
                t.total,
                t.median_total,
                t.by_category,
                t.scores_in,
                t.scores_expected,
            )
            for v, t in raw.items()
        ),
        key=lambda t: (t.rank, t.vendor.lower()),
    )
    return Results(tuple(totals), tuple(cells), tuple(missing))


def category_fractions(sheet: Sheet, results: Results) -> dict[str, dict[str, float]]:
    """vendor → category → how much of that category the vendor earns, from 0 to 1.

    Independent of the category's own weight, so totals under other category weights are
    ``Σ weight × fraction`` (what the sensitivity analysis varies).
    """
    crit_weight = {(cat.name, crit.name): crit.weight for cat, crit in sheet.criteria}
    fractions: dict[str, dict[str, float]] = {
        v: {cat.name: 0.0 for cat in sheet.categories} for v in sheet.vendors
    }
    for cell in results.cells:
        if cell.mean is not None:
            share = crit_weight[(cell.category, cell.criterion)] / 100
            fractions[cell.vendor][cell.category] += share * cell.mean / SCORE_MAX
    return fractions
