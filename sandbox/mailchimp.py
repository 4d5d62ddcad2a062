"""Mailchimp Marketing API 3.0 (real base ``https://us1.api.mailchimp.com``).

Mounted at ``/mailchimp``, so paths start ``/mailchimp/3.0/...``.  One
audience, ``a1b2c3d4e5``, whose members are listed with ``count``/``offset``
and ``since_last_changed``, read, upserted by subscriber hash (``PUT``),
archived and permanently deleted.  Auth is HTTP Basic with any username and
the API key as password.  Errors are RFC 7807 problem documents, as
Mailchimp's are.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any

from sandbox import accounts
from sandbox.dataset import Collection, Record, parse_timestamp
from sandbox.records import email_key, mailchimp_time, subscriber_hash
from sandbox.web import (
    BadRequestBody,
    Request,
    Response,
    Router,
    VendorApp,
    empty_response,
    json_response,
)

ERROR_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
STATUSES = {"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_COUNT = 1000
LIST = r"/3.0/lists/{list_id}"

router = Router()


class Problem(Exception):
    """A Mailchimp problem document waiting to be rendered."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """``application/problem+json`` body with ``type``/``title``/``status``/``detail``/``instance``."""
    body = {"type": ERROR_DOC, "title": title, "status": status, "detail": detail,
            "instance": str(uuid.uuid4()), **extra}  # fmt: skip
    return json_response(body, status, content_type="application/problem+json; charset=utf-8")


def _api_key(request: Request) -> str | None:
    auth = request.header("authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return ""
    if scheme.lower() in ("bearer", "apikey", "oauth"):
        return value.strip()
    return None


def api(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Require the API key and render :class:`Problem`."""

    def wrapped(request: Request) -> Response:
        key = _api_key(request)
        if key is None:
            return problem(401, "API Key Missing", "Your request did not include an API key.")
        if key != accounts.MAILCHIMP_API_KEY:
            return problem(401, "API Key Invalid", "Your API key may be invalid, or you've "
                           "attempted to access the wrong datacenter.")  # fmt: skip
        try:
            if (
                "list_id" in request.params
                and request.params["list_id"] != accounts.MAILCHIMP_LIST_ID
            ):
                raise Problem(
                    404, "Resource Not Found", "The requested resource could not be found."
                )
            return handler(request)
        except Problem as exc:
            return problem(exc.status, exc.title, exc.detail, **exc.extra)
        except BadRequestBody:
            return problem(400, "JSON Parse Exception", "We encountered an unspecified JSON "
                           "parsing error.")  # fmt: skip

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _members(request: Request) -> Collection:
    return request.state.dataset.collection("mailchimp", "members")


def _find(col: Collection, ref: str) -> int | None:
    """Member key from a subscriber hash or an e-mail address."""
    if "@" in ref:
        return col.find(lambda r: r["email_address"], ref.lower(), email_key(ref))
    hint = col.base_index("hash", lambda r: r["id"]).get(ref.lower())
    return col.find(lambda r: r["id"], ref.lower(), hint)


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.arg(name) or default)
    except ValueError:
        raise Problem(400, "Invalid Resource", f"{name} must be an integer") from None


@router.route("GET", "/3.0/ping")
@api
def ping(request: Request) -> Response:
    """Health check."""
    return json_response({"health_status": "Everything's Chimpy!"})


@router.route("GET", "/3.0/?")
@api
def root(request: Request) -> Response:
    """Account details."""
    return json_response({"account_id": "sandbox0account", "login_id": "42",
                          "account_name": "Switchboard Sandbox", "email": "owner@example.com",
                          "first_name": "Sandbox", "last_name": "Owner", "role": "owner",
                          "pricing_plan_type": "monthly", "total_subscribers": _members(request).live_count})  # fmt: skip


def _list_doc(request: Request) -> Record:
    return {"id": accounts.MAILCHIMP_LIST_ID, "web_id": 424242, "name": "Sandbox Newsletter",
            "contact": {"company": "Switchboard Sandbox", "country": "US"},
            "permission_reminder": "You signed up on our website.", "use_archive_bar": True,
            "campaign_defaults": {"from_name": "Sandbox", "from_email": "news@example.com",
                                  "subject": "", "language": "en"},
            "date_created": "2024-01-15T09:00:00+00:00", "list_rating": 4,
            "email_type_option": False, "visibility": "prv", "double_optin": False,
            "stats": {"member_count": _members(request).live_count, "unsubscribe_count": 0,
                      "cleaned_count": 0}}  # fmt: skip


@router.route("GET", "/3.0/lists")
@api
def lists(request: Request) -> Response:
    """All audiences (there is one)."""
    return json_response({"lists": [_list_doc(request)], "total_items": 1,
                          "constraints": {"may_create": False, "max_instances": 1,
                                          "current_total_instances": 1}, "_links": []})  # fmt: skip


@router.route("GET", LIST)
@api
def get_list(request: Request) -> Response:
    """One audience."""
    return json_response(_list_doc(request))


@router.route("GET", f"{LIST}/members")
@api
def list_members(request: Request) -> Response:
    """Members ordered by ``last_changed``, ``count``/``offset`` paging."""
    col = _members(request)
    count = min(max(_int(request, "count", 10), 1), MAX_COUNT)
    offset = max(_int(request, "offset", 0), 0)
    since = until = None
    try:
        if request.arg("since_last_changed"):
            since = parse_timestamp(str(request.arg("since_last_changed"))) + 1
        if request.arg("before_last_changed"):
            until = parse_timestamp(str(request.arg("before_last_changed")))
    except ValueError:
        raise Problem(
            400, "Invalid Resource", "The date format is invalid. Use ISO 8601."
        ) from None
    status = request.arg("status")
    descending = (request.arg("sort_dir") or "ASC").upper() == "DESC"
    view = col.window(since, until)
    if status:
        # Status filtering needs a scan; fine for audience-sized data.
        matching = [r for r in map(col.get, view.page(0, view.total, descending))
                    if r and r["status"] == status]  # fmt: skip
        page, total = matching[offset : offset + count], len(matching)
    else:
        page = [r for r in map(col.get, view.page(offset, count, descending)) if r]
        total = view.total
    return json_response({"members": page, "list_id": accounts.MAILCHIMP_LIST_ID,
                          "total_items": total, "_links": []})  # fmt: skip


@router.route("GET", f"{LIST}/members/{{ref}}")
@api
def get_member(request: Request) -> Response:
    """One member by subscriber hash or e-mail address."""
    col = _members(request)
    key = _find(col, request.params["ref"])
    record = col.get(key) if key is not None else None
    if record is None:
        raise Problem(404, "Resource Not Found", "The requested resource could not be found.")
    return json_response(record)


def _forgotten(request: Request) -> set[str]:
    with request.state.lock:
        return request.state.extras.setdefault("mailchimp_forgotten", set())


def _member_change(body: dict[str, Any], creating: bool) -> Callable[[Record, int], Record]:
    def change(record: Record, ts: int) -> Record:
        status = body.get("status_if_new") if creating else None
        status = body.get("status") or status or record.get("status")
        if status not in STATUSES:
            raise Problem(400, "Invalid Resource", "The resource submitted could not be "
                          "validated. For field-specific details, see the 'errors' array.",
                          errors=[{"field": "status", "message": "Data did not match any of "
                                   "the schemas described in anyOf."}])  # fmt: skip
        record["status"] = status
        merge = {**record.get("merge_fields", {}), **(body.get("merge_fields") or {})}
        record["merge_fields"] = merge
        record["full_name"] = " ".join(filter(None, [merge.get("FNAME"), merge.get("LNAME")]))
        for field in ("language", "vip", "email_type", "tags"):
            if field in body:
                record[field] = body[field]
        record["last_changed"] = mailchimp_time(ts)
        return record

    return change


def _new_member(email: str) -> Callable[[int, int], Record]:
    def build(key: int, ts: int) -> Record:
        return {"id": subscriber_hash(email), "email_address": email,
                "unique_email_id": uuid.uuid5(uuid.NAMESPACE_URL, email).hex[:10],
                "contact_id": uuid.uuid5(uuid.NAMESPACE_DNS, email).hex, "full_name": "",
                "web_id": 100_000 + key, "email_type": "html", "status": "pending",
                "merge_fields": {"FNAME": "", "LNAME": "", "ADDRESS": "", "PHONE": "",
                                 "BIRTHDAY": ""},
                "stats": {"avg_open_rate": 0, "avg_click_rate": 0}, "ip_signup": "",
                "timestamp_signup": "", "ip_opt": "", "timestamp_opt": mailchimp_time(ts),
                "member_rating": 2, "last_changed": mailchimp_time(ts), "language": "",
                "vip": False, "email_client": "", "source": "API - Generic", "tags_count": 0,
                "tags": [], "list_id": accounts.MAILCHIMP_LIST_ID}  # fmt: skip

    return build


def _write(request: Request, ref: str | None, allow_create: bool, allow_update: bool) -> Response:
    body = request.json()
    if not isinstance(body, dict):
        raise Problem(400, "Invalid Resource", "Expected a JSON object.")
    col = _members(request)
    email = str(body.get("email_address") or (ref if ref and "@" in ref else "")).lower()
    if email and not EMAIL_RE.match(email):
        raise Problem(400, "Invalid Resource", "Please provide a valid email address.")
    if ref and email and "@" not in ref and subscriber_hash(email) != ref.lower():
        raise Problem(400, "Invalid Resource", "The resource submitted could not be validated. "
                      "The email address does not match the subscriber hash.")  # fmt: skip
    key = _find(col, ref) if ref else _find(col, email) if email else None
    if key is not None:
        if not allow_update:
            raise Problem(400, "Member Exists", f"{email} is already a list member. Use PUT "
                          "to insert or update list members.")  # fmt: skip
        record = col.update(key, _member_change(body, creating=False))
        return json_response(record)
    if not allow_create or not email:
        raise Problem(404 if not allow_create else 400,
                      "Resource Not Found" if not allow_create else "Invalid Resource",
                      "The requested resource could not be found." if not allow_create
                      else "The resource submitted could not be validated. For field-specific "
                      "details, see the 'errors' array.",
                      **({} if not allow_create else {"errors": [
                          {"field": "email_address", "message": "This value should not be blank."}]}))  # fmt: skip
    if email in _forgotten(request):
        raise Problem(400, "Forgotten Email Not Subscribed", f"{email} was permanently deleted "
                      "and cannot be re-imported. The contact must re-subscribe to get back on "
                      "the list.")  # fmt: skip
    change = _member_change(body, creating=True)
    _, record = col.create(lambda key, ts: change(_new_member(email)(key, ts), ts))
    return json_response(record)


@router.route("PUT", f"{LIST}/members/{{ref}}")
@api
def upsert_member(request: Request) -> Response:
    """Add or update a member (``status_if_new`` applies to new members)."""
    return _write(request, request.params["ref"], allow_create=True, allow_update=True)


@router.route("PATCH", f"{LIST}/members/{{ref}}")
@api
def update_member(request: Request) -> Response:
    """Update an existing member."""
    return _write(request, request.params["ref"], allow_create=False, allow_update=True)


@router.route("POST", f"{LIST}/members")
@api
def add_member(request: Request) -> Response:
    """Add a new member (400 "Member Exists" if present)."""
    return _write(request, None, allow_create=True, allow_update=False)


@router.route("DELETE", f"{LIST}/members/{{ref}}")
@api
def archive_member(request: Request) -> Response:
    """Archive a member (204)."""
    col = _members(request)
    key = _find(col, request.params["ref"])
    if key is None or not col.delete(key):
        raise Problem(404, "Resource Not Found", "The requested resource could not be found.")
    return empty_response(204)


@router.route("POST", f"{LIST}/members/{{ref}}/actions/delete-permanent")
@api
def delete_permanent(request: Request) -> Response:
    """Permanently delete (GDPR forget) a member (204); the address cannot be re-added."""
    col = _members(request)
    key = _find(col, request.params["ref"])
    record = col.get(key) if key is not None else None
    if record is None or key is None:
        raise Problem(404, "Resource Not Found", "The requested resource could not be found.")
    col.delete(key)
    _forgotten(request).add(record["email_address"])
    return empty_response(204)


@router.route("GET", f"{LIST}/members/{{ref}}/activity")
@api
def member_activity(request: Request) -> Response:
    """The last few activity entries of a member (derived from the member record)."""
    col = _members(request)
    key = _find(col, request.params["ref"])
    record = col.get(key) if key is not None else None
    if record is None:
        raise Problem(404, "Resource Not Found", "The requested resource could not be found.")
    activity = [{"action": "open", "timestamp": record["last_changed"],
                 "campaign_id": "c0ffee0001", "title": "November digest"},
                {"action": "sent", "timestamp": record["timestamp_opt"],
                 "campaign_id": "c0ffee0001", "title": "November digest"}]  # fmt: skip
    return json_response({"activity": activity, "email_id": record["id"],
                          "list_id": accounts.MAILCHIMP_LIST_ID, "total_items": len(activity)})  # fmt: skip


def _not_found(request: Request) -> Response:
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return problem(429, "Too Many Requests", "You have exceeded the limit of 10 simultaneous "
                   "connections.").header("Retry-After", retry_after)  # fmt: skip


def _server_error(request: Request, status: int) -> Response:
    return problem(status, "Internal Server Error", "An unexpected internal error has occurred. "
                   "Please contact Support for more information.")  # fmt: skip


APP = VendorApp(
    key="mailchimp",
    prefix="/mailchimp",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=_server_error,
)
