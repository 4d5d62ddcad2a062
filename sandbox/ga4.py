"""Google Analytics Data API v1beta (real host ``analyticsdata.googleapis.com``).

Mounted at ``/ga4``.  ``properties/{id}:runReport`` aggregates deterministic
daily facts (traffic source x device x event) over the requested dimensions,
with ``limit``/``offset`` paging, ``orderBys``, simple ``dimensionFilter`` and
several ``dateRanges``; ``properties/{id}/metadata`` lists the schema.  Only
property ``123456789`` is readable.  "today" is the data anchor, 2026-11-01.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sandbox import accounts
from sandbox.dataset import ANCHOR, date_range
from sandbox.google_oauth import SCOPE_PREFIX, check_token, google_error, server_error
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

SERVICE = "analyticsdata.googleapis.com"
SCOPES = frozenset({SCOPE_PREFIX + "analytics.readonly", SCOPE_PREFIX + "analytics"})
TRAFFIC = [("google", "cpc", "brand_search", "Paid Search"),
           ("google", "organic", "(organic)", "Organic Search"),
           ("newsletter", "email", "november_digest", "Email"),
           ("facebook", "paid_social", "retargeting", "Paid Social"),
           ("linkedin", "social", "(referral)", "Organic Social"),
           ("(direct)", "(none)", "(direct)", "Direct"),
           ("partner.example.com", "referral", "(referral)", "Referral"),
           ("bing", "cpc", "generic_search", "Paid Search")]  # fmt: skip
DEVICES = ["desktop", "mobile", "tablet"]
COUNTRIES = ["United States", "Germany", "France", "United Kingdom", "Japan"]
EVENTS = ["page_view", "session_start", "first_visit", "scroll", "click", "purchase",
          "sign_up", "generate_lead"]  # fmt: skip
KEY_EVENTS = {"purchase", "sign_up", "generate_lead"}
DIMENSIONS = ["date", "sessionSource", "sessionMedium", "sessionCampaignName",
              "sessionSourceMedium", "sessionDefaultChannelGroup", "deviceCategory", "country",
              "eventName"]  # fmt: skip
SESSION_METRICS = {"sessions", "totalUsers", "activeUsers", "newUsers", "engagedSessions",
                   "screenPageViews"}  # fmt: skip
EVENT_METRICS = {"eventCount", "keyEvents", "totalRevenue"}
RATE_METRICS = {"engagementRate": "engagedSessions", "bounceRate": "engagedSessions"}
METRIC_TYPES = {**dict.fromkeys(SESSION_METRICS | {"eventCount", "conversions", "keyEvents"},
                                "TYPE_INTEGER"),
                "totalRevenue": "TYPE_CURRENCY", "engagementRate": "TYPE_FLOAT",
                "bounceRate": "TYPE_FLOAT"}  # fmt: skip
SCHEMA_HINT = ("For a list of valid dimensions and metrics, see "
               "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema")  # fmt: skip
MAX_LIMIT = 250_000

router = Router()


class Ga4Error(Exception):
    """An INVALID_ARGUMENT answer."""


@lru_cache(maxsize=8)
def facts(days: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(session facts, event facts) for the last ``days`` days, deterministic."""
    sessions, events = [], []
    for day in date_range(days):
        for t_index, (source, medium, campaign, channel) in enumerate(TRAFFIC):
            for device in DEVICES:
                rng = random.Random(f"42:ga4:{day}:{t_index}:{device}")
                dims = {"date": day.replace("-", ""), "sessionSource": source,
                        "sessionMedium": medium, "sessionCampaignName": campaign,
                        "sessionSourceMedium": f"{source} / {medium}",
                        "sessionDefaultChannelGroup": channel, "deviceCategory": device,
                        "country": rng.choice(COUNTRIES)}  # fmt: skip
                count = rng.randrange(20, 400)
                engaged = count * rng.randrange(40, 80) // 100
                sessions.append(dims | {
                    "sessions": count, "totalUsers": count * 4 // 5,
                    "activeUsers": count * 4 // 5, "newUsers": count // 3,
                    "engagedSessions": engaged, "screenPageViews": count * rng.randrange(2, 6),
                })  # fmt: skip
                for event in EVENTS:
                    occurrences = count * rng.randrange(1, 30) // 10
                    if event in KEY_EVENTS:
                        occurrences = count * rng.randrange(0, 8) // 100
                    revenue = (
                        occurrences * rng.randrange(2000, 15000) / 100
                        if event == "purchase"
                        else 0.0
                    )
                    events.append(dims | {
                        "eventName": event, "eventCount": occurrences,
                        "keyEvents": occurrences if event in KEY_EVENTS else 0,
                        "sessions": min(count, occurrences), "totalUsers": min(count, occurrences),
                        "activeUsers": min(count, occurrences), "newUsers": 0,
                        "engagedSessions": min(engaged, occurrences),
                        "screenPageViews": occurrences if event == "page_view" else 0,
                        "totalRevenue": revenue,
                    })  # fmt: skip
    return sessions, events


def resolve_date(text: str) -> date:
    """GA4 date strings: ``YYYY-MM-DD``, ``today``, ``yesterday``, ``NdaysAgo``."""
    today = ANCHOR.date()
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    if text.endswith("daysAgo") and text[:-7].isdigit():
        return today - timedelta(days=int(text[:-7]))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Ga4Error(f"Invalid date: {text}. Dates must be YYYY-MM-DD, NdaysAgo, yesterday, "
                       "or today.") from None  # fmt: skip


def _filter(expression: dict[str, Any] | None) -> Any:
    if not expression:
        return lambda fact: True
    if "andGroup" in expression:
        parts = [_filter(e) for e in expression["andGroup"].get("expressions", [])]
        return lambda fact: all(p(fact) for p in parts)
    spec = expression.get("filter") or {}
    name = spec.get("fieldName")
    if name not in DIMENSIONS:
        raise Ga4Error(f"Field {name} is not a valid dimension. {SCHEMA_HINT}")
    if "inListFilter" in spec:
        values = set(spec["inListFilter"].get("values", []))
        return lambda fact: fact.get(name) in values
    string = spec.get("stringFilter") or {}
    if string.get("matchType", "EXACT") != "EXACT" or "value" not in string:
        raise Ga4Error("The sandbox supports EXACT stringFilter, inListFilter and andGroup only.")
    return lambda fact: fact.get(name) == string["value"]


def _names(items: Any, kind: str, allowed: list[str] | set[str]) -> list[str]:
    names = [i.get("name") for i in items or [] if isinstance(i, dict)]
    for name in names:
        if name not in allowed:
            raise Ga4Error(f"Field {name} is not a valid {kind}. {SCHEMA_HINT}")
    return names


def _format(metric: str, value: float) -> str:
    if METRIC_TYPES[metric] == "TYPE_INTEGER":
        return str(int(value))
    return (
        f"{value:.6g}"
        if METRIC_TYPES[metric] == "TYPE_FLOAT"
        else f"{value:.2f}".rstrip("0").rstrip(".")
    )


def run_report(body: dict[str, Any], days: int) -> dict[str, Any]:
    """Compute a runReport response body for a request body."""
    dimensions = _names(body.get("dimensions"), "dimension", DIMENSIONS)
    metrics = _names(body.get("metrics"), "metric", list(METRIC_TYPES))
    if not metrics and not dimensions:
        raise Ga4Error("At least one dimension or metric must be requested.")
    ranges = body.get("dateRanges") or []
    if not ranges:
        raise Ga4Error("Must specify at least one date range.")
    limit = int(body.get("limit") or 10_000)
    offset = int(body.get("offset") or 0)
    if not 0 < limit <= MAX_LIMIT or offset < 0:
        raise Ga4Error(f"limit must be positive and at most {MAX_LIMIT}; offset must be >= 0.")
    keep = _filter(body.get("dimensionFilter"))
    by_event = "eventName" in dimensions or body.get("dimensionFilter") is not None
    session_facts, event_facts = facts(days)
    totals: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for index, date_spec in enumerate(ranges):
        start = resolve_date(str(date_spec.get("startDate", ""))).isoformat().replace("-", "")
        end = resolve_date(str(date_spec.get("endDate", ""))).isoformat().replace("-", "")
        if start > end:
            raise Ga4Error("Date range start date cannot be after end date.")
        label = date_spec.get("name") or f"date_range_{index}"
        suffix = (label,) if len(ranges) > 1 else ()
        sources = [(event_facts, SESSION_METRICS | EVENT_METRICS)] if by_event else [
            (session_facts, SESSION_METRICS), (event_facts, EVENT_METRICS)]  # fmt: skip
        for fact_list, metric_names in sources:
            for fact in fact_list:
                if start <= fact["date"] <= end and keep(fact):
                    group = totals[tuple(fact[d] for d in dimensions) + suffix]
                    for name in metric_names:
                        group[name] += fact[name]
    rows = []
    for key, values in totals.items():
        values["conversions"] = values["keyEvents"]
        sessions = values["sessions"] or 1
        values["engagementRate"] = values["engagedSessions"] / sessions
        values["bounceRate"] = 1 - values["engagementRate"]
        rows.append((key, values))
    rows.sort(key=lambda row: row[0])
    for order in reversed(body.get("orderBys") or []):
        if "metric" in order:
            name = order["metric"].get("metricName")
            rows.sort(key=lambda row, n=name: row[1].get(n, 0), reverse=bool(order.get("desc")))
        elif "dimension" in order:
            position = dimensions.index(order["dimension"].get("dimensionName"))
            rows.sort(key=lambda row, p=position: row[0][p], reverse=bool(order.get("desc")))
    headers = [{"name": d} for d in dimensions] + (
        [{"name": "dateRange"}] if len(ranges) > 1 else []
    )
    result: dict[str, Any] = {
        "dimensionHeaders": headers,
        "metricHeaders": [{"name": m, "type": METRIC_TYPES[m]} for m in metrics],
    }
    page = rows[offset : offset + limit]
    if page:
        result["rows"] = [{"dimensionValues": [{"value": v} for v in key],
                           "metricValues": [{"value": _format(m, vals[m])} for m in metrics]}
                          for key, vals in page]  # fmt: skip
    if rows:
        result["rowCount"] = len(rows)
    result["metadata"] = {"currencyCode": "USD", "timeZone": "America/Los_Angeles"}
    if body.get("returnPropertyQuota"):
        result["propertyQuota"] = {
            "tokensPerDay": {"consumed": 1, "remaining": 199_999},
            "tokensPerHour": {"consumed": 1, "remaining": 39_999},
            "concurrentRequests": {"consumed": 0, "remaining": 10},
        }  # fmt: skip
    result["kind"] = "analyticsData#runReport"
    return result


def _authorize(request: Request) -> Response | None:
    denied = check_token(request, SERVICE, SCOPES)
    if denied is not None:
        return denied
    if request.params["property_id"] != accounts.GA4_PROPERTY_ID:
        return google_error(403, "User does not have sufficient permissions for this property. "
                            "To learn more about Property ID, see https://developers.google.com/"
                            "analytics/devguides/reporting/data/v1/property-id.")  # fmt: skip
    return None


@router.route("POST", "/{version:v1beta|v1alpha}/properties/{property_id}:runReport")
def run_report_endpoint(request: Request) -> Response:
    """``properties.runReport``."""
    denied = _authorize(request)
    if denied is not None:
        return denied
    try:
        body = request.json()
        if not isinstance(body, dict):
            raise Ga4Error("Request body must be a JSON object.")
        days = request.state.dataset.collection("ga4", "days").count
        return json_response(run_report(body, days))
    except BadRequestBody as exc:
        return google_error(400, f"Invalid JSON payload received. {exc}")
    except (Ga4Error, ValueError, TypeError, AttributeError) as exc:
        return google_error(400, str(exc))


@router.route("GET", "/{version:v1beta|v1alpha}/properties/{property_id}/metadata")
def metadata(request: Request) -> Response:
    """``properties.getMetadata``: the dimensions and metrics this property offers."""
    denied = _authorize(request)
    if denied is not None:
        return denied
    return json_response({
        "name": f"properties/{request.params['property_id']}/metadata",
        "dimensions": [{"apiName": d, "uiName": d, "description": d, "category": "Traffic"}
                       for d in DIMENSIONS],
        "metrics": [{"apiName": m, "uiName": m, "description": m, "type": t,
                     "category": "Session"} for m, t in METRIC_TYPES.items()],
    })  # fmt: skip


def _not_found(request: Request) -> Response:
    return google_error(404, f"Method not found: {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return google_error(429, "Exhausted concurrent requests quota.").header(
        "Retry-After", retry_after
    )


APP = VendorApp(
    key="ga4",
    prefix="/ga4",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=server_error,
    token_family="google",
)
