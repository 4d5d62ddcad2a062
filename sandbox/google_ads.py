"""Google Ads API REST (real host ``googleads.googleapis.com``), at ``/google-ads``.

``customers/{id}/googleAds:search`` runs a useful subset of GAQL over the
``campaign`` and ``customer`` resources (campaign x day metrics generated
deterministically), paged by ``nextPageToken`` in fixed pages of 10,000 rows
as the real API does since v17.  int64 fields are JSON strings, as in the
real REST mapping.  Any ``v<N>`` path version is accepted.  Every call needs
an OAuth token with the ``adwords`` scope and ``developer-token:
sandbox-dev-token``; errors carry a ``GoogleAdsFailure`` detail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import uuid
from datetime import timedelta
from typing import Any

from sandbox import accounts
from sandbox.dataset import ANCHOR, date_range
from sandbox.google_oauth import SCOPE_PREFIX, check_token, google_error, server_error
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

SERVICE = "googleads.googleapis.com"
SCOPES = frozenset({SCOPE_PREFIX + "adwords"})
PAGE_SIZE = 10_000
CAMPAIGN_FIELDS = {"campaign.id", "campaign.name", "campaign.status", "campaign.resource_name",
                   "campaign.advertising_channel_type"}  # fmt: skip
CUSTOMER_FIELDS = {"customer.id", "customer.descriptive_name", "customer.currency_code",
                   "customer.time_zone", "customer.resource_name", "customer.manager"}  # fmt: skip
METRIC_FIELDS = {"metrics.impressions", "metrics.clicks", "metrics.cost_micros",
                 "metrics.conversions", "metrics.ctr", "metrics.average_cpc"}  # fmt: skip
INT64_METRICS = {"metrics.impressions", "metrics.clicks", "metrics.cost_micros"}
RESOURCE_FIELDS = {
    "campaign": CAMPAIGN_FIELDS | CUSTOMER_FIELDS | METRIC_FIELDS | {"segments.date"},
    "customer": CUSTOMER_FIELDS | METRIC_FIELDS | {"segments.date"},
}
GAQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?"
    r"(?:\s+PARAMETERS\s+.+?)?\s*$",
    re.IGNORECASE | re.DOTALL,
)
CONDITION = re.compile(
    r"^\s*([\w.]+)\s+(?:(BETWEEN)\s+'?([\d-]+)'?\s+AND\s+'?([\d-]+)'?|(DURING)\s+(\w+)|"
    r"(IN|NOT IN)\s*\(([^)]*)\)|(>=|<=|!=|=|>|<)\s*'?([^']*?)'?)\s*$",
    re.IGNORECASE,
)

router = Router()


class AdsError(Exception):
    """A GoogleAdsFailure: ``(family, code)`` e.g. ``("queryError", "UNRECOGNIZED_FIELD")``."""

    def __init__(self, family: str, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.family, self.code, self.message, self.status = family, code, message, status


def ads_error(request: Request, status: int, family: str, code: str, message: str) -> Response:
    """Google error document with a ``GoogleAdsFailure`` detail."""
    version = request.params.get("version") or "v22"
    detail = {
        "@type": f"type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure",
        "errors": [{"errorCode": {family: code}, "message": message}],
        "requestId": uuid.uuid4().hex[:22],
    }
    summary = {400: "Request contains an invalid argument.",
               401: "Request is missing required authentication credential.",
               403: "The caller does not have permission",
               429: "Resource has been exhausted (e.g. check quota)."}.get(status, message)  # fmt: skip
    return google_error(status, summary, details=[detail])


def _authorize(request: Request) -> Response | None:
    denied = check_token(request, SERVICE, SCOPES)
    if denied is not None:
        return denied
    developer_token = request.header("developer-token")
    if developer_token != accounts.GOOGLE_ADS_DEVELOPER_TOKEN:
        message = ("The developer token is not valid." if developer_token
                   else "The developer token is missing from the request headers.")  # fmt: skip
        return ads_error(request, 401, "authenticationError", "DEVELOPER_TOKEN_INVALID", message)
    return None


def _dates_during(literal: str) -> tuple[str, str]:
    today = ANCHOR.date()
    spans = {"TODAY": (0, 0), "YESTERDAY": (1, 1), "LAST_7_DAYS": (7, 1),
             "LAST_14_DAYS": (14, 1), "LAST_30_DAYS": (30, 1)}  # fmt: skip
    upper = literal.upper()
    if upper in spans:
        start, end = spans[upper]
        return (today - timedelta(start)).isoformat(), (today - timedelta(end)).isoformat()
    if upper == "THIS_MONTH":
        return today.replace(day=1).isoformat(), today.isoformat()
    if upper == "LAST_MONTH":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1).isoformat(), last.isoformat()
    raise AdsError("queryError", "INVALID_ENUM_VALUE", f"Invalid date range literal: {literal}")


def parse_query(query: str) -> dict[str, Any]:
    """Parse the supported GAQL subset; raises :class:`AdsError`."""
    match = GAQL.match(query or "")
    if not match:
        raise AdsError("queryError", "UNEXPECTED_INPUT", "Error in query: unexpected input.")
    resource = match["resource"].lower()
    if resource not in RESOURCE_FIELDS:
        raise AdsError("queryError", "INVALID_RESOURCE_NAME", f"Unsupported resource: {resource}")
    fields = [f.strip() for f in match["fields"].split(",")]
    for name in fields:
        if name not in RESOURCE_FIELDS[resource]:
            raise AdsError("queryError", "UNRECOGNIZED_FIELD",
                           f"Unrecognized field in the query: '{name}'.")  # fmt: skip
    conditions = []
    where = re.sub(r"(BETWEEN\s+\S+)\s+AND\s+", r"\1 &AND& ", match["where"] or "", flags=re.I)
    for part in filter(str.strip, re.split(r"\s+AND\s+", where, flags=re.IGNORECASE)):
        cond = CONDITION.match(part.replace("&AND&", "AND"))
        if not cond:
            raise AdsError("queryError", "UNEXPECTED_INPUT", f"Error in query near: {part!r}")
        field = cond[1]
        if cond[2]:
            conditions.append((field, ">=", cond[3]))
            conditions.append((field, "<=", cond[4]))
        elif cond[5]:
            start, end = _dates_during(cond[6])
            conditions += [(field, ">=", start), (field, "<=", end)]
        elif cond[7]:
            values = [v.strip().strip("'\"") for v in cond[8].split(",")]
            conditions.append((field, cond[7].upper(), values))
        else:
            conditions.append((field, cond[9], cond[10]))
    order = (match["order"] or "").split()
    return {"resource": resource, "fields": fields, "conditions": conditions,
            "order": order[0] if order else None,
            "desc": len(order) > 1 and order[1].upper() == "DESC",
            "limit": int(match["limit"]) if match["limit"] else None}  # fmt: skip


def _matches(value: Any, op: str, target: Any) -> bool:
    value = str(value)
    return {"=": lambda: value == target, "!=": lambda: value != target,
            ">": lambda: value > target, "<": lambda: value < target,
            ">=": lambda: value >= target, "<=": lambda: value <= target,
            "IN": lambda: value in target, "NOT IN": lambda: value not in target}[op]()  # fmt: skip


def _metrics(campaign: dict[str, Any], day: str) -> dict[str, float]:
    rng = random.Random(f"42:google_ads:{campaign['id']}:{day}")
    impressions = int(rng.randrange(200, 20_000) * campaign["scale"])
    clicks = int(impressions * rng.uniform(0.01, 0.08))
    cost = clicks * rng.randrange(300_000, 2_500_000)
    return {"metrics.impressions": impressions, "metrics.clicks": clicks,
            "metrics.cost_micros": cost, "metrics.conversions": round(clicks * rng.uniform(0, 0.1), 2)}  # fmt: skip


def _flat_rows(request: Request, parsed: dict[str, Any]) -> list[dict[str, Any]]:
    dataset = request.state.dataset
    campaigns_col = dataset.collection("google_ads", "campaigns")
    days = date_range(dataset.collection("google_ads", "days").count)
    customer = {"customer.id": accounts.GOOGLE_ADS_CUSTOMER_ID,
                "customer.descriptive_name": "Switchboard Sandbox Ads",
                "customer.currency_code": "USD", "customer.time_zone": "America/New_York",
                "customer.manager": False,
                "customer.resource_name": f"customers/{accounts.GOOGLE_ADS_CUSTOMER_ID}"}  # fmt: skip
    if parsed["resource"] == "campaign":
        entities = []
        for key in range(campaigns_col.count):
            c = campaigns_col.generate(key)
            entities.append((c, customer | {
                "campaign.id": c["id"], "campaign.name": c["name"], "campaign.status": c["status"],
                "campaign.advertising_channel_type": c["advertisingChannelType"],
                "campaign.resource_name": f"customers/{accounts.GOOGLE_ADS_CUSTOMER_ID}/campaigns/{c['id']}",
            }))  # fmt: skip
    else:
        entities = [(campaigns_col.generate(k), customer) for k in range(campaigns_col.count)]
    date_conditions = [c for c in parsed["conditions"] if c[0] == "segments.date"]
    other_conditions = [c for c in parsed["conditions"] if c[0] != "segments.date"]
    selected_days = [d for d in days if all(_matches(d, op, t) for _, op, t in date_conditions)]
    per_day = "segments.date" in parsed["fields"]
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    for campaign, attrs in entities:
        if not all(_matches(attrs.get(f, ""), op, t) for f, op, t in other_conditions):
            continue
        for day in selected_days:
            group_key = (attrs.get("campaign.id", ""), day if per_day else "")
            row = grouped.setdefault(group_key, attrs | {"segments.date": day} | dict.fromkeys(
                ("metrics.impressions", "metrics.clicks", "metrics.cost_micros",
                 "metrics.conversions"), 0))  # fmt: skip
            for name, value in _metrics(campaign, day).items():
                row[name] += value
    rows = list(grouped.values())
    for row in rows:
        row["metrics.ctr"] = (
            row["metrics.clicks"] / row["metrics.impressions"]
            if row["metrics.impressions"]
            else 0.0
        )
        row["metrics.average_cpc"] = (
            row["metrics.cost_micros"] / row["metrics.clicks"] if row["metrics.clicks"] else 0.0
        )
    rows.sort(key=lambda r: (r["segments.date"], r.get("campaign.id", "")))
    if parsed["order"]:
        if parsed["order"] not in RESOURCE_FIELDS[parsed["resource"]]:
            raise AdsError(
                "queryError", "UNRECOGNIZED_FIELD", f"Unrecognized field: {parsed['order']}"
            )
        rows.sort(key=lambda r: r.get(parsed["order"], 0), reverse=parsed["desc"])
    return rows[: parsed["limit"]] if parsed["limit"] else rows


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _nest(row: dict[str, Any], fields: list[str], resource: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        group, _, name = field.partition(".")
        value = row[field]
        if field in INT64_METRICS or field in ("campaign.id", "customer.id"):
            value = str(value)
        out.setdefault(group, {})[_camel(name)] = value
    for group in ("campaign", "customer"):
        if group in out:
            out[group]["resourceName"] = row[f"{group}.resource_name"]
    return out


def _token(query: str, offset: int) -> str:
    digest = hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()[:12]
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": digest}).encode()).decode()


def _offset(query: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["q"] == json.loads(base64.urlsafe_b64decode(_token(query, 0)))["q"]:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise AdsError("requestError", "INVALID_PAGE_TOKEN", "Page token is invalid.")


@router.route("POST", "/{version:v\\d+}/customers/{customer_id}/googleAds:search")
def search(request: Request) -> Response:
    """``GoogleAdsService.Search`` over the generated account."""
    denied = _authorize(request)
    if denied is not None:
        return denied
    try:
        if request.params["customer_id"] != accounts.GOOGLE_ADS_CUSTOMER_ID:
            raise AdsError("authorizationError", "USER_PERMISSION_DENIED",
                           "User doesn't have permission to access customer. Note: If you're "
                           "accessing a client customer, the manager's customer id must be set "
                           "in the 'login-customer-id' header.", 403)  # fmt: skip
        body = request.json()
        if "pageSize" in body:
            raise AdsError("requestError", "PAGE_SIZE_NOT_SUPPORTED",
                           "Setting the page size is not supported. Search responses will "
                           f"have fixed page size of {PAGE_SIZE} rows.")  # fmt: skip
        query = str(body.get("query", ""))
        parsed = parse_query(query)
        offset = _offset(query, body.get("pageToken"))
        rows = _flat_rows(request, parsed)
    except AdsError as exc:
        return ads_error(request, exc.status, exc.family, exc.code, exc.message)
    except BadRequestBody as exc:
        return google_error(400, f"Invalid JSON payload received. {exc}")
    page = rows[offset : offset + PAGE_SIZE]
    result: dict[str, Any] = {}
    if page:
        result["results"] = [_nest(r, parsed["fields"], parsed["resource"]) for r in page]
    if offset + PAGE_SIZE < len(rows):
        result["nextPageToken"] = _token(query, offset + PAGE_SIZE)
    if (body.get("searchSettings") or {}).get("returnTotalResultsCount"):
        result["totalResultsCount"] = str(len(rows))
    result["fieldMask"] = ",".join(
        f.split(".")[0] + "." + _camel(f.split(".", 1)[1]) for f in parsed["fields"]
    )
    result["queryResourceConsumption"] = str(len(page) * 10 + 100)
    return json_response(result)


@router.route("GET", "/{version:v\\d+}/customers:listAccessibleCustomers")
def list_accessible_customers(request: Request) -> Response:
    """Resource names of the customers this login can reach."""
    denied = _authorize(request)
    return denied or json_response(
        {"resourceNames": [f"customers/{accounts.GOOGLE_ADS_CUSTOMER_ID}"]}
    )


def _not_found(request: Request) -> Response:
    return google_error(404, f"Method not found: {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    message = f"Too many requests. Retry in {retry_after} seconds."
    response = ads_error(request, 429, "quotaError", "RESOURCE_EXHAUSTED", message)
    return response.header("Retry-After", retry_after)


APP = VendorApp(
    key="google_ads",
    prefix="/google-ads",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=server_error,
    token_family="google",
)
