"""The sensitivity verdict, on cases built to flip and not to flip, checked by recomputing."""

from __future__ import annotations

import random

import pytest

from core.vendor_scoring_sensitivity import reweighted, sensitivity
from core.vendor_scoring_sheet import Category, Criterion, Sheet, score

CATS = (
    Category("Cost", 10, (Criterion("Price", 100),)),
    Category("Fit", 90, (Criterion("F1", 50), Criterion("F2", 50))),
)


def sheet_of(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> Sheet:
    """Two vendors A and B, two evaluators; each criterion maps to (score of e1, of e2)."""
    scores = {}
    for vendor, given in (("A", a), ("B", b)):
        for crit, (first, second) in given.items():
            scores[("e1", vendor, crit)] = first
            scores[("e2", vendor, crit)] = second
    return Sheet(CATS, ("A", "B"), ("e1", "e2"), scores)


def winner_at(sheet: Sheet, category: str, weight: float) -> str | None:
    weights = {c.name: c.weight for c in sheet.categories}
    return score(sheet.with_category_weights(reweighted(weights, category, weight))).winner


def test_redistribution_is_proportional():
    assert reweighted({"A": 50, "B": 30, "C": 20}, "A", 60) == {"A": 60, "B": 24, "C": 16}
    assert reweighted({"A": 100, "B": 0, "C": 0}, "A", 90) == {"A": 90, "B": 5, "C": 5}


def test_a_close_race_is_fragile_and_names_the_category_and_change():
    # A: all of Cost, half of Fit → 10 + 45 = 55; B: half of Cost, 60% of Fit → 5 + 54 = 59.
    # Cost +d: A = 55 + 0.5d, B = 59 − 0.1d → level at d = 6.67 (Cost 16.67%).
    sheet = sheet_of(
        {"Price": (5, 5), "F1": (2, 2), "F2": (3, 3)},
        {"Price": (2, 3), "F1": (3, 3), "F2": (3, 3)},
    )
    assert [round(t.total, 6) for t in score(sheet).totals] == [59, 55]
    result = sensitivity(sheet)
    assert result.winner == "B" and result.robust is False
    cost = next(s for s in result.swings if s.category == "Cost")
    assert cost.change == pytest.approx(20 / 3)
    assert cost.new_winner == "A"
    assert result.verdict.startswith("fragile, because ")
    assert "from 10% to 16.67% (+6.67 points) makes A the winner" in result.verdict
    assert winner_at(sheet, "Cost", 16.5) == "B"
    assert winner_at(sheet, "Cost", 16.8) == "A"


def test_a_clear_lead_is_robust_though_a_big_change_would_flip_it():
    # A: all of Cost, 40% of Fit → 46; B: 20% of Cost, 80% of Fit → 74.
    # Cost +d: A = 46 + 0.6d, B = 74 − 0.6d → level at d = 23.33, beyond ±10.
    sheet = sheet_of(
        {"Price": (5, 5), "F1": (2, 2), "F2": (2, 2)},
        {"Price": (1, 1), "F1": (4, 4), "F2": (4, 4)},
    )
    result = sensitivity(sheet)
    assert result.winner == "B" and result.robust is True
    assert result.verdict.startswith("robust")
    cost = next(s for s in result.swings if s.category == "Cost")
    assert cost.change == pytest.approx(70 / 3)
    assert winner_at(sheet, "Cost", 20) == "B"
    assert winner_at(sheet, "Cost", 33.5) == "A"


def test_no_weight_flips_a_vendor_better_everywhere():
    sheet = sheet_of(
        {"Price": (5, 4), "F1": (5, 5), "F2": (4, 4)},
        {"Price": (3, 3), "F1": (3, 2), "F2": (2, 2)},
    )
    result = sensitivity(sheet)
    assert result.robust is True
    assert all(s.change is None for s in result.swings)


def test_a_tie_for_first_is_fragile():
    sheet = sheet_of(
        {"Price": (4, 4), "F1": (4, 4), "F2": (4, 4)},
        {"Price": (4, 4), "F1": (4, 4), "F2": (4, 4)},
    )
    result = sensitivity(sheet)
    assert result.robust is False and "tied for first place" in result.verdict


def test_fewer_than_two_vendors_is_not_judged():
    sheet = Sheet(CATS, ("A",), ("e1",), {})
    assert sensitivity(sheet).robust is None


def test_every_tipping_point_agrees_with_recomputed_totals():
    """Random three-category sheets: just short of each tipping point the winner holds,
    just past it the named challenger wins; without one, the extremes keep the winner."""
    rng = random.Random(7)
    cats = (
        Category("C1", 25, (Criterion("a", 60), Criterion("b", 40))),
        Category("C2", 45, (Criterion("c", 100),)),
        Category("C3", 30, (Criterion("d", 50), Criterion("e", 50))),
    )
    checked = 0
    for _ in range(60):
        vendors = ("V1", "V2", "V3")
        scores = {
            (e, v, c): rng.randint(1, 5) for e in ("e1", "e2") for v in vendors for c in "abcde"
        }
        sheet = Sheet(cats, vendors, ("e1", "e2"), scores)
        result = sensitivity(sheet)
        if result.winner is None:
            continue
        for swing in result.swings:
            if swing.change is None:
                for weight in (0, 100):
                    assert winner_at(sheet, swing.category, weight) in (result.winner, None)
                continue
            step = 1e-6 if swing.change > 0 else -1e-6
            before = swing.weight + swing.change - step * 1000
            after = min(100, max(0, swing.weight + swing.change + step))
            assert winner_at(sheet, swing.category, before) == result.winner
            now = winner_at(sheet, swing.category, after)
            if " and " in (swing.new_winner or ""):  # two challengers overtake together
                assert now is None
            elif after not in (0, 100):
                assert now == swing.new_winner
            checked += 1
    assert checked > 20
