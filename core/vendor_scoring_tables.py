"""The worksheet's tables, as pandas frames: the same tables on the page, in the print view
and in the CSV and Excel exports, so what is shown and what is exported never differ.

Totals and points are kept unrounded here; the page rounds for display and the exports
round to two decimals.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from core.vendor_scoring_sensitivity import Sensitivity
from core.vendor_scoring_sheet import Results, Sheet, VendorTotal

TOTAL = "Total /100"
MEDIAN_TOTAL = "Total from medians /100"


def status(total: VendorTotal) -> str:
    """'complete', or 'provisional (n of m scores)'."""
    if not total.provisional:
        return "complete"
    return f"provisional ({total.scores_in} of {total.scores_expected} scores)"


def ranking_frame(sheet: Sheet, results: Results) -> pd.DataFrame:
    """One row per vendor, best first: total (mean consensus), total from medians, the points
    earned in each category, and whether the total is still provisional."""
    columns = ["Rank", "Vendor", TOTAL, MEDIAN_TOTAL] + [
        f"{c.name} ({c.weight:g}%)" for c in sheet.categories
    ]
    rows = [
        [t.rank, t.vendor, t.total, t.median_total]
        + [t.by_category[c.name] for c in sheet.categories]
        for t in results.totals
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["Status"] = [status(t) for t in results.totals]
    return frame


def weights_frame(sheet: Sheet) -> pd.DataFrame:
    """Category and criterion weights, and the points of 100 each criterion is worth."""
    return pd.DataFrame(
        [
            {
                "Category": cat.name,
                "Category weight %": cat.weight,
                "Criterion": crit.name,
                "Criterion weight % of category": crit.weight,
                "Points of 100": cat.weight * crit.weight / 100,
            }
            for cat, crit in sheet.criteria
        ],
        columns=[
            "Category",
            "Category weight %",
            "Criterion",
            "Criterion weight % of category",
            "Points of 100",
        ],
    )


def consensus_frame(sheet: Sheet, results: Results) -> pd.DataFrame:
    """Criteria down, vendors across: the mean score with the median beside it."""
    rows = []
    for cat, crit in sheet.criteria:
        row: dict[str, object] = {"Category": cat.name, "Criterion": crit.name}
        for cell in results.cells:
            if cell.criterion == crit.name:
                row[f"{cell.vendor} mean"] = cell.mean
                row[f"{cell.vendor} median"] = cell.median
        rows.append(row)
    return pd.DataFrame(rows)


def scores_frame(sheet: Sheet, people: Mapping[str, str]) -> pd.DataFrame:
    """Every score given, one row each, with the evaluator's comment."""
    rows = [
        {
            "Evaluator": who,
            "Name": people.get(who, who),
            "Vendor": vendor,
            "Category": cat.name,
            "Criterion": crit.name,
            "Score": sheet.scores[(who, vendor, crit.name)],
            "Comment": sheet.comments.get((who, vendor, crit.name), ""),
        }
        for who in sheet.evaluators
        for vendor in sheet.vendors
        for cat, crit in sheet.criteria
        if (who, vendor, crit.name) in sheet.scores
    ]
    return pd.DataFrame(
        rows, columns=["Evaluator", "Name", "Vendor", "Category", "Criterion", "Score", "Comment"]
    )


def disagreements_frame(results: Results, people: Mapping[str, str]) -> pd.DataFrame:
    """Where evaluators' scores are 2 or more points apart, with what each one said."""
    return pd.DataFrame(
        [
            {
                "Vendor": c.vendor,
                "Criterion": c.criterion,
                "Spread": c.spread,
                "Scores": ", ".join(f"{people.get(e, e)} {s}" for e, s in c.scores.items()),
                "Comments": " | ".join(f"{people.get(e, e)}: {t}" for e, t in c.comments.items()),
            }
            for c in results.disagreements
        ],
        columns=["Vendor", "Criterion", "Spread", "Scores", "Comments"],
    )


def missing_frame(results: Results, people: Mapping[str, str]) -> pd.DataFrame:
    """Who still has to score whom, and on what."""
    rows = [
        {
            "Evaluator": people.get(who, who),
            "Vendor": vendor,
            "Missing": len(criteria),
            "Criteria": ", ".join(criteria),
        }
        for who, by_vendor in results.missing_by_evaluator().items()
        for vendor, criteria in by_vendor.items()
    ]
    return pd.DataFrame(rows, columns=["Evaluator", "Vendor", "Missing", "Criteria"])


def sensitivity_frame(result: Sensitivity) -> pd.DataFrame:
    """Each category's tipping point: the smallest weight change that changes the winner."""
    return pd.DataFrame(
        [
            {
                "Category": s.category,
                "Weight now %": s.weight,
                "Smallest change (points)": s.change,
                "Weight then %": s.new_weight,
                "New winner": s.new_winner or "—",
            }
            for s in result.swings
        ],
        columns=[
            "Category",
            "Weight now %",
            "Smallest change (points)",
            "Weight then %",
            "New winner",
        ],
    )
