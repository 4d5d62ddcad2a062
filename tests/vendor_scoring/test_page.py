"""The Vendor scoring page and its print view, as people meet them, bad input included."""

from __future__ import annotations

import pytest

from core import vendor_scoring as vs
from core.vendor_scoring_sheet import score
from tests.conftest import EDITOR, VIEWER
from tests.pages.conftest import sign_in, texts


@pytest.fixture
def staff(people):
    """Colleagues who can sign in."""
    return people


def open_page(user: str = "editor"):
    at = sign_in(user)
    at.switch_page("pages/vendor_scoring.py").run()
    assert not at.exception
    return at


def press(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def typed(at, label: str, value: str):
    next(t for t in at.text_input if t.label == label).input(value)
    return at


def number(at, label: str):
    return next(n for n in at.number_input if n.label == label)


def errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def stored(ws, evaluation):
    return vs.load_worksheet(ws, VIEWER, evaluation.id).sheet


def test_an_editor_starts_an_evaluation_and_bad_names_are_refused(people):
    at = open_page()
    assert "No evaluation yet" in texts(at)
    at = press(
        typed(at, "Evaluation name", "2027 iPaaS selection"), "Start from the iPaaS template"
    )
    assert "Started 2027 iPaaS selection." in texts(at)
    (evaluation,) = vs.list_evaluations(people, VIEWER)
    assert len(stored(people, evaluation).criteria) == 11

    at = press(typed(at, "Vendor name", "Workato"), "Add vendor")
    assert "Added Workato." in texts(at)
    at = press(typed(at, "Vendor name", " WORKATO "), "Add vendor")
    assert "**Vendor name** 'WORKATO' is already in this evaluation" in errors(at)
    at = press(typed(at, "Criterion name", "   "), "Add criterion")
    assert "**Criterion name** is empty" in errors(at)
    assert stored(people, evaluation).vendors == ("Workato",)
    assert len(stored(people, evaluation).criteria) == 11


def test_weights_that_do_not_total_100_are_refused_with_the_gap(people, evaluation):
    at = open_page()
    number(at, "Connectors % of total").set_value(30.0)
    number(at, "Data transformation % of Capabilities").set_value(15.0)
    at = press(at, "Save weights")
    message = errors(at)
    assert "Nothing was saved" in message
    assert "**Category weights** add up to 105% — 5 points over 100%" in message
    assert "**Criteria weights in Capabilities** add up to 90% of the category" in message
    assert stored(people, evaluation).categories[0].weight == 25

    number(at, "Connectors % of total").set_value(25.0)
    number(at, "Data transformation % of Capabilities").set_value(25.0)
    number(at, "Pre-built connectors % of Connectors").set_value(70.0)
    number(at, "Custom connector ability % of Connectors").set_value(30.0)
    at = press(at, "Save weights")
    assert "Saved the weights." in texts(at)
    connectors = stored(people, evaluation).categories[0]
    assert [c.weight for c in connectors.criteria] == [70, 30]


def test_scores_of_6_0_and_2_5_are_refused_and_nothing_is_saved(people, evaluation):
    at = open_page("viewer")
    key = f"score_{evaluation.id}_Workato_"
    at.number_input(key=key + "Ease of use").set_value(6.0)
    at.number_input(key=key + "Documentation").set_value(0.0)
    at.number_input(key=key + "Pricing model").set_value(2.5)
    at.number_input(key=key + "Logging").set_value(4.0)
    at = press(at, "Save my scores")
    message = errors(at)
    assert "**Score of Workato on Ease of use** is 6; use a whole number from 1 to 5" in message
    assert "**Score of Workato on Documentation** is 0" in message
    assert "**Score of Workato on Pricing model** is 2.5; scores are whole numbers" in message
    assert stored(people, evaluation).scores == {}

    at.number_input(key=key + "Ease of use").set_value(5.0)
    at.number_input(key=key + "Documentation").set_value(3.0)
    at.number_input(key=key + "Pricing model").set_value(2.0)
    at.text_input(key=f"comment_{evaluation.id}_Workato_Pricing model").input("Per-task pricing")
    at = press(at, "Save my scores")
    assert "Saved your scores of Workato." in texts(at)
    sheet = stored(people, evaluation)
    assert {k: v for k, v in sheet.scores.items()} == {
        ("viewer", "Workato", "Ease of use"): 5,
        ("viewer", "Workato", "Documentation"): 3,
        ("viewer", "Workato", "Pricing model"): 2,
        ("viewer", "Workato", "Logging"): 4,
    }
    assert sheet.comments[("viewer", "Workato", "Pricing model")] == "Per-task pricing"
    assert "Totals are provisional" in texts(at)


def test_locking_makes_it_final_and_a_duplicate_is_editable(people, evaluation):
    at = open_page()
    assert next(b for b in at.button if b.label == "Lock evaluation").disabled
    next(c for c in at.checkbox if c.label.startswith("Yes, make")).check().run()
    at = press(at, "Lock evaluation")
    assert "Locked 2027 iPaaS selection." in texts(at)
    assert "Final: locked by editor" in texts(at)
    assert not [b for b in at.button if b.label in ("Save weights", "Add vendor", "Save my scores")]
    with pytest.raises(vs.EvaluationLocked):
        vs.add_vendor(people, EDITOR, evaluation.id, "Tray.io")

    at = press(at, "Duplicate")
    assert "Duplicated as 2027 iPaaS selection (copy)." in texts(at)
    assert at.selectbox(key="evaluation_pick").value != evaluation.id
    assert [b for b in at.button if b.label == "Add vendor"]


def test_a_viewer_reads_results_and_the_print_view_has_no_widgets(people, evaluation):
    sheet = stored(people, evaluation)
    for who, actor in (("editor", EDITOR), ("viewer", VIEWER)):
        for n, vendor in enumerate(sheet.vendors):
            scores = {
                c.name: (1 + (n * 2 + i + len(who)) % 5, "")
                for i, (_, c) in enumerate(sheet.criteria)
            }
            vs.save_scores(people, actor, evaluation.id, vendor, scores)
    results = score(stored(people, evaluation))

    at = open_page("viewer")
    assert not [b for b in at.button if b.label in ("Save weights", "Add vendor", "Duplicate")]
    ranking = at.dataframe[0].value
    assert list(ranking["Vendor"]) == [t.vendor for t in results.totals]
    assert list(ranking["Total /100"]) == [round(t.total, 1) for t in results.totals]
    assert "Totals are provisional" not in texts(at)
    assert "Sensitivity: " in texts(at)

    at.switch_page("pages/vendor_scoring_print.py").run()
    assert not at.exception
    assert at.title[0].value == "2027 iPaaS selection"
    assert len(at.table) >= 5
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.number_input and not at.text_input and not at.selectbox
    assert f"Winner: {results.winner}" in texts(at)
