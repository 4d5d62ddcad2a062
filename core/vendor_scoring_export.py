"""Exports of an evaluation: CSV (the summary, or every score) and an Excel workbook with
the sheets Summary, Scores, Weights, Consensus, Disagreements, Sensitivity and Missing."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl.utils import get_column_letter

from core.vendor_scoring import Worksheet
from core.vendor_scoring_sensitivity import Sensitivity, sensitivity
from core.vendor_scoring_sheet import Results, score
from core.vendor_scoring_tables import (
    consensus_frame,
    disagreements_frame,
    missing_frame,
    ranking_frame,
    scores_frame,
    sensitivity_frame,
    weights_frame,
)


def file_stem(worksheet: Worksheet) -> str:
    """A file name from the evaluation's name: letters, digits and dashes."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in worksheet.evaluation.name.lower())
    return "-".join(part for part in stem.split("-") if part) or "evaluation"


def summary_csv(worksheet: Worksheet, results: Results | None = None) -> bytes:
    """The ranking as CSV: one row per vendor, totals and category points to 2 decimals."""
    results = results or score(worksheet.sheet)
    frame = ranking_frame(worksheet.sheet, results).round(2)
    return frame.to_csv(index=False).encode("utf-8")


def scores_csv(worksheet: Worksheet) -> bytes:
    """Every score given, one row each, with comments."""
    return scores_frame(worksheet.sheet, worksheet.people).to_csv(index=False).encode("utf-8")


def notes(worksheet: Worksheet, results: Results, verdict: Sensitivity) -> list[str]:
    """The lines printed under the summary table: state, completeness, verdict."""
    evaluation = worksheet.evaluation
    lines = [f"Evaluation: {evaluation.name}"]
    lines.append(
        f"Final: locked by {evaluation.locked_by}" if evaluation.locked else "Draft (not locked)"
    )
    if results.complete:
        lines.append("Every score is in.")
    else:
        lines.append(f"Provisional: {len(results.missing)} score(s) still missing.")
    lines.append(f"Winner: {results.winner or 'none (tie or no vendor)'}")
    lines.append(f"Sensitivity: {verdict.verdict}")
    lines.append(
        "Scale: each criterion earns mean score / 5 × its points (category weight × criterion "
        "weight); totals are out of 100."
    )
    return lines


def workbook(
    worksheet: Worksheet, results: Results | None = None, verdict: Sensitivity | None = None
) -> bytes:
    """The evaluation as an .xlsx workbook (openpyxl)."""
    sheet = worksheet.sheet
    results = results or score(sheet)
    verdict = verdict or sensitivity(sheet, results)
    frames = {
        "Summary": ranking_frame(sheet, results).round(2),
        "Scores": scores_frame(sheet, worksheet.people),
        "Weights": weights_frame(sheet).round(4),
        "Consensus": consensus_frame(sheet, results).round(2),
        "Disagreements": disagreements_frame(results, worksheet.people),
        "Sensitivity": sensitivity_frame(verdict).round(2),
        "Missing": missing_frame(results, worksheet.people),
    }
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            page = writer.sheets[name]
            for index, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column]])
                page.column_dimensions[get_column_letter(index)].width = min(60, width + 2)
        summary = writer.sheets["Summary"]
        start = len(frames["Summary"]) + 3
        for offset, line in enumerate(notes(worksheet, results, verdict)):
            summary.cell(row=start + offset, column=1, value=line)
    return buffer.getvalue()
