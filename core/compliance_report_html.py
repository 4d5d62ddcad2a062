"""The compliance report as a printable, self-contained HTML document (no script, no file or
address it needs to fetch), a CSV of its change and access rows, and one line per section
for the page.

Every value is escaped; the report holds no personal data to begin with (see
``core.compliance_report``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from core.compliance_report import ComplianceReport
from core.dictionary_csv import neutralise
from core.lineage import lineage_rows
from core.retention_targets import KINDS
from core.sync.gate import PURPOSES

# the HTML lists at most this many change or access rows; the CSV holds them all
LIST_LIMIT = 2000
CSV_COLUMNS = ["Source", "When (UTC)", "Who", "Action", "What", "Domain", "Detail", "Records"]
STANDINGS = ("on time", "late", "open", "open, overdue")

_STYLE = """
body { font: 13px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #111827;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 22px; margin-bottom: 0; } h2 { font-size: 17px; margin-top: 2em;
     border-bottom: 1px solid #d1d5db; padding-bottom: 4px; page-break-after: avoid; }
h3 { font-size: 14px; margin-bottom: 4px; }
.meta, .note { color: #4b5563; } .bad { color: #b91c1c; font-weight: 600; }
.ok { color: #047857; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; } tr { page-break-inside: avoid; }
ul.summary li { margin: 2px 0; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


def when(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    if not body:
        return "<p class='note'>None in this period.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _what(kind: str, entity: str) -> str:
    return f"hub records: {entity}" if kind == "hub_records" else KINDS.get(kind, kind).lower()


def _n(count: int, one: str, many: str) -> str:
    """``1 run``, ``3 runs``."""
    return f"{count} {one if count == 1 else many}"


def section_summaries(report: ComplianceReport) -> list[tuple[str, str]]:
    """Each section's title and one sentence saying what it found."""
    counts = {s: sum(1 for p in report.privacy if p.standing == s) for s in STANDINGS}
    consent, chain, runs = report.consent, report.chain, report.retention
    share = f"{consent.share:.0%}" if consent.share is not None else "no person in the hub"
    changers = len({r.who for r in report.changes})
    viewers = len({r.who for r in report.accesses})
    return [
        (
            "Changes",
            f"{_n(len(report.changes), 'audit entry', 'audit entries')} by "
            f"{_n(changers, 'person or process', 'people or processes')}.",
        ),
        (
            "Access to personal data",
            f"{_n(len(report.accesses), 'unmasked view or export', 'unmasked views or exports')}"
            f" by {_n(viewers, 'person', 'people')}.",
        ),
        (
            "Privacy requests",
            f"{_n(len(report.privacy), 'request', 'requests')}: "
            + "; ".join(f"{counts[s]} {s}" for s in STANDINGS)
            + ".",
        ),
        (
            "Retention runs",
            f"{_n(len(runs), 'run', 'runs')} removed "
            f"{_n(sum(r.total for r in runs), 'row', 'rows')}; "
            f"{sum(1 for r in runs if r.status == 'failed')} failed.",
        ),
        (
            "Consent coverage",
            f"{consent.persons_with_consent} of {_n(consent.hub_persons, 'person', 'people')} "
            f"in the hub have a consent record ({share}).",
        ),
        (
            "Audit chain",
            f"intact: {_n(chain.checked, 'entry', 'entries')} verified."
            if chain.ok
            else f"BROKEN at entry #{chain.first_bad_id or '?'}: {chain.reason}.",
        ),
        (
            "Personal data lineage",
            f"{_n(len(report.pii), 'field', 'fields')} marked personal data.",
        ),
    ]


def _activity(report: ComplianceReport) -> str:
    parts = ["<h2>1. Changes</h2>"]
    parts.append(
        _table(["Who", "Action", "What", "Entries"], [(*k, n) for k, n in report.change_counts()])
    )
    parts.append(_listing(report.changes, "changes"))
    parts.append("<h2>2. Access to personal data</h2>")
    parts.append(
        _table(
            ["Who", "Where", "Domain", "Views and exports"],
            [(*k, n) for k, n in report.access_counts()],
        )
    )
    parts.append(_listing(report.accesses, "accesses"))
    return "".join(parts)


def _listing(rows: list, name: str) -> str:
    shown = rows[:LIST_LIMIT]
    note = (
        f"<p class='note'>The first {LIST_LIMIT} of {len(rows)} {name}; the CSV holds them all.</p>"
        if len(rows) > LIST_LIMIT
        else ""
    )
    return note + _table(
        ["When", "Who", "Action", "What", "Domain", "Detail"],
        [(when(r.at), r.who, r.action, r.what, r.domain, r.detail) for r in shown],
    )


def _privacy(report: ComplianceReport) -> str:
    rows = [
        (
            f"#{p.id}",
            p.email_hint,
            p.regulation.upper(),
            p.status.replace("_", " "),
            when(p.received_at),
            when(p.due_at),
            when(p.completed_at),
            p.standing,
        )
        for p in report.privacy
    ]
    headers = ["Request", "Person", "Law", "Status", "Received", "Due", "Completed", "Timeliness"]
    return "<h2>3. Privacy requests</h2>" + _table(headers, rows)


def _retention(report: ComplianceReport) -> str:
    rows = [
        (
            f"#{r.id}",
            when(r.started_at),
            r.trigger,
            r.actor,
            r.status,
            r.total,
            "; ".join(
                f"{i['domain']} {_what(i['kind'], i['entity'])}: {i['removed']}" for i in r.items
            ),
            r.error_message,
        )
        for r in report.retention
    ]
    headers = ["Run", "Started", "Trigger", "By", "Status", "Removed", "What", "Problem"]
    return "<h2>4. Retention runs</h2>" + _table(headers, rows)


def _consent(report: ComplianceReport) -> str:
    c = report.consent
    rows = [(PURPOSES.get(p, p), yes, no) for p, (yes, no) in c.per_purpose.items()]
    share = f"{c.share:.1%}" if c.share is not None else "—"
    return (
        "<h2>5. Consent coverage</h2>"
        f"<p>{c.persons_with_consent} of {c.hub_persons} people in the hub (by e-mail) have at "
        f"least one consent record: <strong>{share}</strong>. Counts are as of the report.</p>"
        + _table(["Purpose", "People who granted", "People who denied"], rows)
    )


def _chain(report: ComplianceReport) -> str:
    c = report.chain
    if c.ok:
        text = f"<p class='ok'>The audit chain is intact: {c.checked} entries verified.</p>"
    else:
        where = f" at entry #{c.first_bad_id}" if c.first_bad_id else ""
        text = (
            f"<p class='bad'>The audit chain is broken{where}: {escape(c.reason)}. "
            f"{c.checked} entries before it are intact.</p>"
        )
    if c.pruned_through_id:
        text += (
            f"<p class='note'>Entries up to #{c.pruned_through_id} were removed by retention; "
            "the chain is verified from the anchor they left.</p>"
        )
    return "<h2>6. Audit chain</h2>" + text


def _lineage(report: ComplianceReport) -> str:
    parts = ["<h2>7. Lineage of personal data fields</h2>"]
    if not report.pii:
        parts.append("<p>No dictionary field is marked as personal data.</p>")
    for item in report.pii:
        lin = item.lineage
        parts.append(
            f"<h3>{escape(lin.system)}.{escape(lin.name)} ({escape(item.domain)})</h3>"
            f"<p>In: {escape(', '.join(lin.systems))}</p>"
        )
        rows = [tuple(r.values()) for r in lineage_rows(lin)]
        if rows:
            parts.append(_table(["Direction", "From", "To", "Flow", "Frequency", "Method"], rows))
        else:
            parts.append("<p class='note'>No flow carries it.</p>")
    return "".join(parts)


def render_html(report: ComplianceReport) -> str:
    """The whole report, ready to save, open and print."""
    title = f"Compliance report, {report.period.label}"
    summary = "".join(
        f"<li><strong>{escape(t)}:</strong> {escape(s)}</li>" for t, s in section_summaries(report)
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p class='meta'>Made {when(report.made_at)} by {escape(report.made_by)}. Days are UTC, "
        "first and last included.</p>"
        f"<h2>Summary</h2><ul class='summary'>{summary}</ul>"
        + _activity(report)
        + _privacy(report)
        + _retention(report)
        + _consent(report)
        + _chain(report)
        + _lineage(report)
        + "</body></html>"
    )


def activity_csv(report: ComplianceReport) -> bytes:
    """Every change and access row of the period (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = sorted(report.changes + report.accesses, key=lambda r: r.at)
    for r in rows:
        values = [r.source, when(r.at), r.who, r.action, r.what, r.domain, r.detail, r.records]
        writer.writerow([neutralise(v) if isinstance(v, str) else v for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def file_name(report: ComplianceReport, extension: str) -> str:
    """``compliance-report-2031-03-01-to-2031-03-31.html``."""
    p = report.period
    return f"compliance-report-{p.start:%Y-%m-%d}-to-{p.end:%Y-%m-%d}.{extension}"
