"""How much the winner of a vendor evaluation depends on the category weights.

The method
----------
For each category, its weight is moved by ``d`` points (up or down) and the difference is
taken from, or given to, the other categories *in proportion to their current weights*, so
the weights still total 100 and the others keep their ratios to each other::

    new weight of the category   = w + d
    new weight of each other one = w_j × (100 − w − d) / (100 − w)

(when every other category weighs 0, the freed weight is shared equally among them).
Criteria weights within each category do not move.

A vendor's total is ``Σ weight × fraction`` where ``fraction`` is how much of a category
it earns (0–1, see ``category_fractions``), so under this change every total is a straight
line in ``d``. The winner changes where a challenger's line meets the winner's: for each
challenger the break-even ``d`` is solved exactly, kept only if the new weight stays within
0–100, and the smallest break-even in either direction is the category's tipping point.
(At the tipping point the two are level; any further change puts the challenger ahead.)

The verdict is *robust* when no category's tipping point is within ±10 points
(``ROBUST_WITHIN``); otherwise *fragile*, naming the category with the smallest tipping point
and the change.

Worked example: two categories, Cost 10% and Fit 90%. A earns all of Cost and half of Fit
(10 + 45 = 55); B earns half of Cost and 60% of Fit (5 + 54 = 59), so B wins. Raising Cost by
``d`` (Fit loses ``d``): A = 55 + 0.5·d, B = 59 − 0.1·d; they meet at d = 4 / 0.6 ≈ 6.67, so
Cost at 16.67% hands the win to A — within ±10 points, hence "fragile".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.vendor_scoring_sheet import (
    TIE,
    Results,
    Sheet,
    category_fractions,
    number,
    score,
)

#: a winner that survives every change of this many points (either way) is robust
ROBUST_WITHIN = 10.0


def reweighted(weights: Mapping[str, float], category: str, new_weight: float) -> dict[str, float]:
    """The category weights with ``category`` set to ``new_weight`` and the others scaled
    proportionally so that the total stays 100.

    >>> reweighted({"A": 50, "B": 30, "C": 20}, "A", 60)
    {'A': 60, 'B': 24.0, 'C': 16.0}
    """
    others = {k: v for k, v in weights.items() if k != category}
    room = 100 - new_weight
    current = sum(others.values())
    if current > 0:
        scaled = {k: v * room / current for k, v in others.items()}
    else:
        scaled = {k: room / len(others) for k in others} if others else {}
    return {k: (new_weight if k == category else scaled[k]) for k in weights}


@dataclass(frozen=True)
class Swing:
    """The smallest change of one category's weight that changes the winner."""

    category: str
    weight: float
    #: signed points; None when no weight from 0 to 100 changes the winner
    change: float | None = None
    #: who wins beyond the tipping point
    new_winner: str | None = None

    @property
    def new_weight(self) -> float | None:
        return None if self.change is None else self.weight + self.change

    def describe(self) -> str:
        if self.change is None or self.new_weight is None:
            return "no weight from 0% to 100% changes the winner"
        way = "raising" if self.change > 0 else "lowering"
        return (
            f"{way} {self.category} from {number(self.weight)}% to "
            f"{number(self.new_weight)}% ({'+' if self.change > 0 else '−'}"
            f"{number(abs(self.change))} points) makes {self.new_winner} the winner"
        )


@dataclass(frozen=True)
class Sensitivity:
    """Every category's tipping point and the verdict on the winner."""

    winner: str | None
    swings: tuple[Swing, ...]
    #: True robust, False fragile, None when there is nothing to compare
    robust: bool | None
    verdict: str


def _slopes(sheet: Sheet, fractions: Mapping[str, Mapping[str, float]], category: str):
    """How fast each vendor's total moves per point added to ``category``."""
    weights = {c.name: c.weight for c in sheet.categories}
    others = [k for k in weights if k != category]
    room = 100 - weights[category]
    if room > TIE:
        shares = {k: weights[k] / room for k in others}
    else:
        shares = {k: 1 / len(others) for k in others}
    return {
        v: fractions[v][category] - sum(shares[k] * fractions[v][k] for k in others)
        for v in sheet.vendors
    }


def _swing(sheet: Sheet, results: Results, fractions, category: str, winner: str) -> Swing:
    weight = next(c.weight for c in sheet.categories if c.name == category)
    totals = {t.vendor: t.total for t in results.totals}
    slopes = _slopes(sheet, fractions, category)
    best: float | None = None
    for rival in sheet.vendors:
        if rival == winner:
            continue
        closing = slopes[winner] - slopes[rival]
        if abs(closing) < TIE:
            continue  # the lines are parallel: this rival never catches up
        change = -(totals[winner] - totals[rival]) / closing
        if not -weight - TIE <= change <= 100 - weight + TIE:
            continue
        if best is None or abs(change) < abs(best):
            best = change
    if best is None:
        return Swing(category, weight)
    return Swing(category, weight, best, _leader_beyond(totals, slopes, best))


def _leader_beyond(totals: Mapping[str, float], slopes: Mapping[str, float], change: float) -> str:
    """Who leads just past ``change``: the highest line there, then the steepest onwards
    (two identical lines stay tied, and both are named)."""
    at = {v: totals[v] + change * slopes[v] for v in totals}
    top = max(at.values())
    level = [v for v in at if at[v] >= top - 1e-7]
    onward = {v: slopes[v] * (1 if change > 0 else -1) for v in level}
    steepest = max(onward.values())
    return " and ".join(v for v in level if onward[v] >= steepest - TIE)


def sensitivity(sheet: Sheet, results: Results | None = None) -> Sensitivity:
    """Each category's tipping point and the verdict (see the module docstring)."""
    results = results or score(sheet)
    if len(sheet.vendors) < 2:
        return Sensitivity(None, (), None, "Add at least two vendors to compare.")
    if len(sheet.categories) < 2:
        return Sensitivity(results.winner, (), None, "With one category its weight cannot change.")
    if not sheet.scores:
        return Sensitivity(None, (), None, "not judged yet: no scores are in.")
    winner = results.winner
    if winner is None:
        *others, last = results.leaders
        return Sensitivity(
            None,
            (),
            False,
            f"fragile, because {', '.join(others)} and {last} are tied for first place.",
        )
    fractions = category_fractions(sheet, results)
    swings = tuple(_swing(sheet, results, fractions, c.name, winner) for c in sheet.categories)
    tipping = [s for s in swings if s.change is not None]
    closest = min(tipping, key=lambda s: abs(s.change or 0), default=None)
    if closest is None or abs(closest.change or 0) > ROBUST_WITHIN + TIE:
        return Sensitivity(
            winner,
            swings,
            True,
            f"robust: no change of any category's weight by up to ±{number(ROBUST_WITHIN)} "
            f"points makes anyone but {winner} the winner.",
        )
    return Sensitivity(winner, swings, False, f"fragile, because {closest.describe()}.")
