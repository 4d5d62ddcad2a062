"""The scoring arithmetic against examples worked out by hand."""

from __future__ import annotations

import pytest

from core.vendor_scoring_sheet import (
    Category,
    Criterion,
    Sheet,
    rank,
    score,
    score_problem,
    template_categories,
    weight_problems,
)

# Fit 60% split 75/25 between A and B (45 and 15 points); Cost 40% all on P (40 points).
CATEGORIES = (
    Category("Fit", 60, (Criterion("A", 75), Criterion("B", 25))),
    Category("Cost", 40, (Criterion("P", 100),)),
)
SCORES = {
    ("ann", "X", "A"): 4,
    ("ann", "X", "B"): 2,
    ("ann", "X", "P"): 5,
    ("bob", "X", "A"): 5,
    ("bob", "X", "B"): 4,
    ("bob", "X", "P"): 3,
    ("ann", "Y", "A"): 3,
    ("ann", "Y", "B"): 5,
    ("ann", "Y", "P"): 2,
    ("bob", "Y", "A"): 3,
    # bob has not scored Y on B yet
    ("bob", "Y", "P"): 4,
}
SHEET = Sheet(CATEGORIES, ("X", "Y"), ("ann", "bob"), SCORES, {("bob", "X", "B"): "API is thin"})


def test_the_template_is_the_seed_worksheet():
    cats = template_categories()
    assert [(c.name, c.weight) for c in cats] == [
        ("Connectors", 25),
        ("Capabilities", 30),
        ("Usability", 20),
        ("Operations", 15),
        ("Cost", 10),
    ]
    assert sum(len(c.criteria) for c in cats) == 11
    capabilities = cats[1]
    assert [c.weight for c in capabilities.criteria] == [25, 25, 25, 25]
    assert weight_problems(cats) == []


def test_unequal_criteria_weights_and_a_missing_score_by_hand():
    results = score(SHEET)
    x, y = results.totals
    # X: A mean 4.5 → 4.5/5×45 = 40.5; B mean 3 → 3/5×15 = 9; P mean 4 → 4/5×40 = 32
    assert x.vendor == "X" and x.rank == 1
    assert x.total == pytest.approx(81.5)
    assert x.by_category == pytest.approx({"Fit": 49.5, "Cost": 32})
    assert not x.provisional
    # Y: A 3 → 27; B only ann's 5 → 15; P mean 3 → 24 — provisional, 5 of 6 scores
    assert y.total == pytest.approx(66)
    assert (y.scores_in, y.scores_expected, y.provisional) == (5, 6, True)
    assert [(m.evaluator, m.vendor, m.criterion) for m in results.missing] == [("bob", "Y", "B")]
    assert not results.complete
    assert results.winner == "X"


def test_a_criterion_nobody_scored_earns_nothing():
    sheet = Sheet(CATEGORIES, ("Z",), ("ann",), {("ann", "Z", "A"): 5, ("ann", "Z", "P"): 5})
    (z,) = score(sheet).totals
    assert z.total == pytest.approx(45 + 40)
    assert z.provisional


def test_median_beside_the_mean():
    cats = (Category("All", 100, (Criterion("Price", 100),)),)
    scores = {("a", "V", "Price"): 1, ("b", "V", "Price"): 2, ("c", "V", "Price"): 5}
    results = score(Sheet(cats, ("V",), ("a", "b", "c"), scores))
    (v,) = results.totals
    assert v.total == pytest.approx(8 / 3 / 5 * 100)  # mean 2.67 → 53.33
    assert v.median_total == pytest.approx(40)  # median 2
    (cell,) = results.cells
    assert (cell.mean, cell.median, cell.spread) == (pytest.approx(8 / 3), 2, 4)


def test_all_fives_make_100_and_all_ones_make_20():
    evaluators = ("ann",)
    crits = [c.name for cat in template_categories() for c in cat.criteria]
    top = {("ann", "Top", c): 5 for c in crits}
    low = {("ann", "Low", c): 1 for c in crits}
    results = score(Sheet(template_categories(), ("Top", "Low"), evaluators, top | low))
    assert [(t.vendor, round(t.total, 9)) for t in results.totals] == [("Top", 100), ("Low", 20)]
    assert results.complete


def test_disagreements_are_spreads_of_two_or_more():
    found = {(c.vendor, c.criterion, c.spread) for c in score(SHEET).disagreements}
    assert found == {("X", "B", 2), ("X", "P", 2), ("Y", "P", 2)}
    comments = {c.criterion: dict(c.comments) for c in score(SHEET).disagreements}
    assert comments["B"] == {"bob": "API is thin"}


def test_equal_totals_share_a_rank_and_there_is_no_sole_winner():
    assert rank({"a": 80, "b": 80, "c": 70}) == {"a": 1, "b": 1, "c": 3}
    cats = (Category("All", 100, (Criterion("P", 100),)),)
    tie = Sheet(cats, ("a", "b"), ("e",), {("e", "a", "P"): 4, ("e", "b", "P"): 4})
    results = score(tie)
    assert results.winner is None and results.leaders == ["a", "b"]


def test_weight_rules_say_which_weights_are_off_and_by_how_much():
    cats = list(template_categories())
    cats[0] = Category("Connectors", 30, cats[0].criteria)
    caps = cats[1]
    cats[1] = Category(
        "Capabilities", 30, (Criterion("Data transformation", 15),) + caps.criteria[1:]
    )
    problems = {p.field: p.message for p in weight_problems(cats)}
    assert "105%" in problems["Category weights"]
    assert "5 points over 100%" in problems["Category weights"]
    assert "Connectors 30" in problems["Category weights"]
    message = problems["Criteria weights in Capabilities"]
    assert "90% of the category" in message and "10 points short of 100%" in message
    bad = [Category("Cost", 120, (Criterion("Pricing model", -5),))]
    fields = [p.field for p in weight_problems(bad)]
    assert fields == ["Weight of Cost", "Weight of Pricing model (in Cost)"]


@pytest.mark.parametrize(
    ("value", "words"),
    [(6, "is 6"), (0, "is 0"), (2.5, "no fractions"), ("4", "not a number"), (True, "number")],
)
def test_a_score_is_a_whole_number_from_1_to_5(value, words):
    problem = score_problem("Score", value)
    assert problem is not None and words in problem.message


def test_whole_floats_are_scores():
    assert score_problem("Score", 4.0) is None
    assert score_problem("Score", 1) is None
