"""The KPIs of SPEC §8, per flow, per domain and overall, over a chosen period.

    API response time   MVP: p90 < 500 ms          post-MVP: p95 < 200 ms
    Sync freshness      MVP: daily flows < 24 h    post-MVP: real-time flows < 5 min
    Uptime              MVP: 98 %                  post-MVP: 99.9 %
    Error rate          MVP: < 1 %                 post-MVP: < 0.1 %

Every figure is aggregated in SQL from ``api_calls`` (one row per outbound attempt of a
flow) and ``integration_runs``.

**Percentiles: nearest rank.** The p-th percentile of N latencies is the smallest latency
whose rank r (1 = fastest) satisfies r·100 ≥ p·N, i.e. the value at rank ⌈p·N/100⌉. It is
always a latency that was actually observed. Computed with ``ROW_NUMBER()`` and
``COUNT(*)`` window functions, which SQLite and PostgreSQL both have.

**Error rate**: attempts whose outcome is not ``ok`` (failed, retried, rate limited), in %
of all attempts. **Uptime**: the share of hours with calls in which at least one call got
an answer below 500 (an hour where every call timed out, was refused or got a 5xx is an
hour down). **Error budget left**: 1 − errors ÷ (MVP error rate × calls) for the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, literal
from sqlmodel import Session, col, select

from core.health_checks import sla_hours
from core.permissions import Action, Actor, require
from core.workspace import Workspace
from db.engine import read_session
from db.models import ApiCall, Integration, IntegrationRun

TARGETS = {
    "p90_ms": ("API response time p90", 500.0, None),
    "p95_ms": ("API response time p95", None, 200.0),
    "uptime_pct": ("Uptime", 98.0, 99.9),
    "error_rate_pct": ("Error rate", 1.0, 0.1),
}
MVP_ERROR_RATE = 1.0


@dataclass(frozen=True)
class KpiRow:
    """One flow's, domain's or the whole estate's figures for the period."""

    name: str
    calls: int
    errors: int
    error_rate_pct: float | None
    p90_ms: float | None
    p95_ms: float | None
    uptime_pct: float | None
    budget_left_pct: float | None
    freshness_hours: float | None = None
    freshness_target_hours: float | None = None

    def meets(self, key: str, stage: str) -> bool | None:
        """Whether the figure meets the MVP or post-MVP target (None: no data or target)."""
        _label, mvp, post = TARGETS[key]
        target = mvp if stage == "mvp" else post
        value = getattr(self, key)
        if target is None or value is None:
            return None
        return value >= target if key == "uptime_pct" else value < target


def _hour(session: Session):  # noqa: ANN202 - a SQL expression
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", ApiCall.at)
    return func.strftime("%Y-%m-%d %H", ApiCall.at)


def _day(session: Session):  # noqa: ANN202
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("day", ApiCall.at)
    return func.strftime("%Y-%m-%d", ApiCall.at)


def _group_key(level: str):  # noqa: ANN202
    if level == "flow":
        return col(Integration.name)
    if level == "domain":
        return col(Integration.domain)
    return literal("All flows")


def figures_by(
    session: Session, level: str, start: datetime, end: datetime, latest: int | None = None
) -> dict[str, dict]:
    """Calls, errors, p90, p95 and uptime per group, all in SQL.

    With ``latest``, only the newest ``latest`` calls in the period count: a constant amount
    of work however busy the flows are (the wall screen's tile uses it).
    """
    key = _group_key(level)
    joined = and_(
        col(Integration.id) == ApiCall.integration_id, ApiCall.at >= start, ApiCall.at < end
    )
    if latest is not None:
        newest = (
            select(ApiCall.id)
            .where(ApiCall.at >= start, ApiCall.at < end)
            .order_by(col(ApiCall.at).desc())
            .limit(latest)
        )
        joined = and_(joined, col(ApiCall.id).in_(newest))
    base = select(ApiCall).join(Integration, joined)
    ranked = (
        base.with_only_columns(
            key.label("g"),
            ApiCall.latency_ms,
            ApiCall.outcome,
            func.row_number().over(partition_by=key, order_by=ApiCall.latency_ms).label("rn"),
            func.count().over(partition_by=key).label("n"),
        )
    ).subquery()
    out: dict[str, dict] = {}
    for g, calls, errors, p90, p95 in session.exec(
        select(
            ranked.c.g,
            func.count(),
            func.sum(case((ranked.c.outcome != "ok", 1), else_=0)),
            func.min(case((ranked.c.rn * 100 >= 90 * ranked.c.n, ranked.c.latency_ms))),
            func.min(case((ranked.c.rn * 100 >= 95 * ranked.c.n, ranked.c.latency_ms))),
        ).group_by(ranked.c.g)
    ).all():
        out[g] = {"calls": calls, "errors": int(errors or 0), "p90": p90, "p95": p95}
    hourly = base.with_only_columns(
        key.label("g"),
        _hour(session).label("h"),
        func.max(case((and_(ApiCall.status > 0, ApiCall.status < 500), 1), else_=0)).label("up"),
    ).group_by(key, _hour(session))
    hours = hourly.subquery()
    for g, total, up in session.exec(
        select(hours.c.g, func.count(), func.sum(hours.c.up)).group_by(hours.c.g)
    ).all():
        if g in out:
            out[g]["uptime"] = 100.0 * (up or 0) / total if total else None
    return out


def row_from(name: str, f: dict | None) -> KpiRow:
    if not f or not f["calls"]:
        return KpiRow(name, 0, 0, None, None, None, None, None)
    rate = 100.0 * f["errors"] / f["calls"]
    allowed = MVP_ERROR_RATE / 100 * f["calls"]
    left = max(0.0, 100.0 * (1 - f["errors"] / allowed)) if allowed else None
    return KpiRow(name, f["calls"], f["errors"], rate, f["p90"], f["p95"], f.get("uptime"), left)


def freshness(session: Session, at: datetime) -> dict[int, tuple[float | None, float]]:
    """Per flow: hours since its newest successful run (None: never), and its target."""
    last = dict(
        session.exec(
            select(IntegrationRun.integration_id, func.max(IntegrationRun.finished_at))
            .where(IntegrationRun.status == "succeeded")
            .group_by(IntegrationRun.integration_id)
        ).all()
    )
    out = {}
    for flow in session.exec(select(Integration)).all():
        when = last.get(flow.id)
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        age = (at - when).total_seconds() / 3600 if when else None
        out[flow.id] = (age, sla_hours(flow))
    return out


@dataclass(frozen=True)
class KpiReport:
    start: datetime
    end: datetime
    overall: KpiRow
    domains: list[KpiRow]
    flows: list[KpiRow]


def kpi_report(ws: Workspace, actor: Actor, start: datetime, end: datetime) -> KpiReport:
    """The KPIs for [start, end): overall, per domain and per flow."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        overall = figures_by(session, "all", start, end)
        domains = figures_by(session, "domain", start, end)
        flows = figures_by(session, "flow", start, end)
        fresh = freshness(session, min(end, datetime.now(UTC)))
        names = session.exec(select(Integration.id, Integration.name, Integration.domain)).all()
    flow_rows = []
    for flow_id, name, _domain in sorted(names, key=lambda r: r[1]):
        base = row_from(name, flows.get(name))
        age, target = fresh.get(flow_id, (None, None))
        flow_rows.append(
            KpiRow(**{**base.__dict__, "freshness_hours": age, "freshness_target_hours": target})
        )
    domain_names = sorted({d for _i, _n, d in names})
    return KpiReport(
        start,
        end,
        row_from("All flows", overall.get("All flows")),
        [row_from(d, domains.get(d)) for d in domain_names],
        flow_rows,
    )


def kpi_series(
    ws: Workspace, actor: Actor, start: datetime, end: datetime, integration_id: int | None = None
) -> list[dict]:
    """Per day (per hour for periods of two days or less): calls, error rate and p95."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        bucket = _hour(session) if end - start <= timedelta(days=2) else _day(session)
        where = [ApiCall.at >= start, ApiCall.at < end, col(ApiCall.integration_id).is_not(None)]
        if integration_id is not None:
            where.append(ApiCall.integration_id == integration_id)
        ranked = (
            select(
                bucket.label("b"),
                ApiCall.latency_ms,
                ApiCall.outcome,
                func.row_number()
                .over(partition_by=bucket, order_by=ApiCall.latency_ms)
                .label("rn"),
                func.count().over(partition_by=bucket).label("n"),
            ).where(*where)
        ).subquery()
        rows = session.exec(
            select(
                ranked.c.b,
                func.count(),
                func.sum(case((ranked.c.outcome != "ok", 1), else_=0)),
                func.min(case((ranked.c.rn * 100 >= 95 * ranked.c.n, ranked.c.latency_ms))),
            )
            .group_by(ranked.c.b)
            .order_by(ranked.c.b)
        ).all()
    return [
        {"period": str(b), "calls": n, "error_rate_pct": 100.0 * (e or 0) / n, "p95_ms": p95}
        for b, n, e, p95 in rows
    ]
