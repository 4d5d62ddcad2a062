"""The exports, read back and compared with the computed totals."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from core import vendor_scoring as vs
from core.vendor_scoring_export import file_stem, scores_csv, summary_csv, workbook
from core.vendor_scoring_sensitivity import sensitivity
from core.vendor_scoring_sheet import score
from tests.conftest import EDITOR, VIEWER


@pytest.fixture
def scored(staff, evaluation) -> vs.Worksheet:
    """Every criterion scored by both evaluators, except one of the viewer's."""
    criteria = [c.name for _, c in vs.load_worksheet(staff, VIEWER, evaluation.id).sheet.criteria]
    vs.set_weights(
        staff,
        EDITOR,
        evaluation.id,
        {},
        {"Pre-built connectors": 80, "Custom connector ability": 20},
    )
    for n, vendor in enumerate(("Workato", "Zapier", "Boomi")):
        for who, actor in (("editor", EDITOR), ("viewer", VIEWER)):
            entries = {
                c: (1 + (n + i + len(who)) % 5, f"{who} on {c}") for i, c in enumerate(criteria)
            }
            if who == "viewer" and vendor == "Boomi":
                entries["Logging"] = (None, "")
            vs.save_scores(staff, actor, evaluation.id, vendor, entries)
    return vs.load_worksheet(staff, VIEWER, evaluation.id)


def test_the_summary_csv_holds_the_computed_totals(scored):
    results = score(scored.sheet)
    rows = list(csv.DictReader(io.StringIO(summary_csv(scored, results).decode())))
    assert [r["Vendor"] for r in rows] == [t.vendor for t in results.totals]
    for row, total in zip(rows, results.totals, strict=True):
        assert float(row["Total /100"]) == pytest.approx(total.total, abs=0.005)
        assert float(row["Total from medians /100"]) == pytest.approx(total.median_total, abs=0.005)
        assert float(row["Connectors (25%)"]) == pytest.approx(
            total.by_category["Connectors"], abs=0.005
        )
        assert int(row["Rank"]) == total.rank
    boomi = next(r for r in rows if r["Vendor"] == "Boomi")
    assert boomi["Status"] == "provisional (21 of 22 scores)"


def test_the_scores_csv_holds_every_score(scored):
    frame = pd.read_csv(io.BytesIO(scores_csv(scored)))
    assert len(frame) == len(scored.sheet.scores) == 65
    for row in frame.itertuples():
        assert scored.sheet.scores[(row.Evaluator, row.Vendor, row.Criterion)] == row.Score


def test_the_workbook_has_summary_scores_and_weights(scored):
    results = score(scored.sheet)
    verdict = sensitivity(scored.sheet, results)
    book = openpyxl.load_workbook(io.BytesIO(workbook(scored, results, verdict)))
    assert {"Summary", "Scores", "Weights"} <= set(book.sheetnames)

    summary = list(book["Summary"].iter_rows(values_only=True))
    header = summary[0]
    table = [dict(zip(header, row, strict=True)) for row in summary[1 : 1 + len(results.totals)]]
    for row, total in zip(table, results.totals, strict=True):
        assert row["Vendor"] == total.vendor
        assert row["Total /100"] == pytest.approx(total.total, abs=0.005)
    notes = [row[0] for row in summary[2 + len(results.totals) :] if row[0]]
    assert "Provisional: 1 score(s) still missing." in notes
    assert f"Sensitivity: {verdict.verdict}" in notes

    weights = list(book["Weights"].iter_rows(values_only=True))
    assert weights[0][:3] == ("Category", "Category weight %", "Criterion")
    assert sum(row[4] for row in weights[1:]) == pytest.approx(100)
    pre_built = next(row for row in weights if row[2] == "Pre-built connectors")
    assert pre_built[3:] == (80, 20)

    scores = list(book["Scores"].iter_rows(values_only=True))
    assert len(scores) - 1 == 65
    assert file_stem(scored) == "2027-ipaas-selection"
