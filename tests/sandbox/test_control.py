"""The ``/_control`` API: faults, rate limits, determinism, scale, request log."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest

from sandbox.dataset import Dataset, WriteClock
from sandbox.records import SPECS

HS = {"Authorization": "Bearer pat-sandbox-hubspot"}
CUSTOM = {"X-API-Key": "sandbox-custom-key"}
CONTACTS = "/hubspot/crm/v3/objects/contacts"


def fault(sb: httpx.Client, **body) -> None:
    response = sb.post("/_control/faults", json=body)
    assert response.status_code == 200, response.text


def google_token(sb: httpx.Client) -> str:
    form = {"grant_type": "refresh_token", "client_id": "google-client",
            "client_secret": "google-secret", "refresh_token": "google-refresh"}  # fmt: skip
    return sb.post("/google-oauth/token", data=form).json()["access_token"]


def test_rate_limit_fault_with_seconds_and_http_date(sb):
    fault(sb, vendor="hubspot", kind="rate_limit", count=1, retry_after="2")
    limited = sb.get(CONTACTS, headers=HS)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["category"] == "RATE_LIMITS"
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert sb.get(CONTACTS, headers=HS).status_code == 200
    fault(sb, vendor="stripe", kind="rate_limit", retry_after_http_date=True, retry_after_seconds=2)
    stripe = sb.get("/stripe/v1/customers", headers={"Authorization": "Bearer sk_test_sandbox"})
    assert stripe.status_code == 429 and stripe.json()["error"]["type"] == "rate_limit_error"
    when = parsedate_to_datetime(stripe.headers["Retry-After"])
    assert 0 <= when.timestamp() - time.time() <= 3


def test_server_error_burst_then_recovery(sb):
    fault(sb, vendor="custom", kind="server_error", count=3, status=503)
    statuses = [sb.get("/custom/api/v1/me", headers=CUSTOM).status_code for _ in range(4)]
    assert statuses == [503, 503, 503, 200]
    fault(sb, vendor="ga4", kind="server_error")
    token = google_token(sb)
    failed = sb.post("/ga4/v1beta/properties/123456789:runReport", json={},
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert failed.status_code == 500 and failed.json()["error"]["status"] == "INTERNAL"


def test_slow_fault_delays_responses(sb):
    fault(sb, vendor="custom", kind="slow", count=1, delay_seconds=1.5)
    with pytest.raises(httpx.ReadTimeout):
        sb.get("/custom/api/v1/me", headers=CUSTOM, timeout=0.3)
    started = time.monotonic()
    assert sb.get("/custom/api/v1/me", headers=CUSTOM).status_code == 200
    assert time.monotonic() - started < 1


def test_truncated_and_non_json_faults(sb):
    fault(sb, vendor="hubspot", kind="truncated_json")
    cut = sb.get(CONTACTS, headers=HS)
    assert cut.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    fault(sb, vendor="hubspot", kind="non_json", status=502)
    html = sb.get(CONTACTS, headers=HS)
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")
    fault(sb, vendor="hubspot", kind="non_json")
    assert sb.get(CONTACTS, headers=HS).status_code == 200  # an HTML page with a 200
    assert sb.get(CONTACTS, headers=HS).json()["results"]


def test_faults_never_touch_control_or_other_vendors(sb):
    fault(sb, vendor="stripe", kind="server_error", count=5)
    assert sb.get("/_control/faults").json()["faults"]["stripe"][0]["remaining"] == 5
    assert sb.get("/custom/api/v1/me", headers=CUSTOM).status_code == 200
    assert sb.post("/_control/faults/clear").status_code == 200
    assert (
        sb.get(
            "/stripe/v1/balance", headers={"Authorization": "Bearer sk_test_sandbox"}
        ).status_code
        == 200
    )
    assert sb.post("/_control/faults", json={"vendor": "nope", "kind": "slow"}).status_code == 400
    assert sb.post("/_control/faults", json={"vendor": "custom", "kind": "nope"}).status_code == 400


def test_expire_tokens_immediately_and_mid_pagination(sb):
    token = google_token(sb)
    auth = {"Authorization": f"Bearer {token}"}
    meta = "/ga4/v1beta/properties/123456789/metadata"
    assert sb.get(meta, headers=auth).status_code == 200
    fault(sb, vendor="ga4", kind="expire_tokens")
    expired = sb.get(meta, headers=auth)
    assert expired.status_code == 401 and expired.json()["error"]["status"] == "UNAUTHENTICATED"
    assert sb.get(meta, headers={"Authorization": f"Bearer {google_token(sb)}"}).status_code == 200

    session = sb.post("/salesforce/services/oauth2/token",
                      data={"grant_type": "client_credentials", "client_id": "salesforce-client",
                            "client_secret": "salesforce-secret"}).json()  # fmt: skip
    client = httpx.Client(base_url=session["instance_url"],
                          headers={"Authorization": f"Bearer {session['access_token']}",
                                   "Sforce-Query-Options": "batchSize=200"})  # fmt: skip
    sb.post("/_control/dataset", json={"vendor": "salesforce", "object": "Lead", "count": 1000})
    fault(sb, vendor="salesforce", kind="expire_tokens", after_requests=2)
    first = client.get("/services/data/v60.0/query", params={"q": "SELECT Id FROM Lead"})
    second = client.get(first.json()["nextRecordsUrl"])
    assert first.status_code == second.status_code == 200
    third = client.get(second.json()["nextRecordsUrl"])
    assert third.status_code == 401 and third.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_hubspot_expired_oauth_token_body(sb):
    form = {"grant_type": "refresh_token", "client_id": "hubspot-client",
            "client_secret": "hubspot-secret", "refresh_token": "hubspot-refresh"}  # fmt: skip
    token = sb.post("/hubspot/oauth/v1/token", data=form).json()["access_token"]
    fault(sb, vendor="hubspot", kind="expire_tokens")
    expired = sb.get(CONTACTS, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert sb.get(CONTACTS, headers=HS).status_code == 200  # private-app tokens never expire


def test_token_ttl(sb):
    assert (
        sb.post("/_control/token_ttl", json={"vendor": "google", "seconds": 2}).status_code == 200
    )
    form = {"grant_type": "refresh_token", "client_id": "google-client",
            "client_secret": "google-secret", "refresh_token": "google-refresh"}  # fmt: skip
    issued = sb.post("/google-oauth/token", data=form).json()
    assert issued["expires_in"] == 1
    time.sleep(1.2)
    stale = sb.get("/ga4/v1beta/properties/123456789/metadata",
                   headers={"Authorization": f"Bearer {issued['access_token']}"})  # fmt: skip
    assert stale.status_code == 401


def test_rate_limiter_token_bucket_per_credential(sb):
    body = {"vendor": "custom", "per_second": 1, "burst": 3}
    assert sb.post("/_control/rate_limit", json=body).status_code == 200
    statuses = [sb.get("/custom/api/v1/me", headers=CUSTOM).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = sb.get("/custom/api/v1/me", headers=CUSTOM)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # another credential has its own bucket (and is then rejected by auth, not the limiter)
    assert sb.get("/custom/api/v1/me", headers={"X-API-Key": "other"}).status_code == 401
    time.sleep(1.05)
    assert sb.get("/custom/api/v1/me", headers=CUSTOM).status_code == 200
    sb.post("/_control/rate_limit", json={"vendor": "custom", "per_second": 0})
    assert all(sb.get("/custom/api/v1/me", headers=CUSTOM).status_code == 200 for _ in range(5))


def test_hubspot_rate_limit_headers(sb):
    sb.post("/_control/rate_limit", json={"vendor": "hubspot", "per_second": 1, "burst": 1})
    assert sb.get(CONTACTS, headers=HS).status_code == 200
    limited = sb.get(CONTACTS, headers=HS)
    assert limited.status_code == 429
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.json()["errorType"] == "RATE_LIMIT"


def test_determinism_across_resets_and_processes(sb):
    def snapshot() -> list[dict]:
        sb.post("/_control/reset")
        hub = sb.get(CONTACTS, params={"limit": 100}, headers=HS).json()["results"]
        leads = sb.get("/custom/api/v1/leads", params={"per_page": 100}, headers=CUSTOM).json()
        return hub + leads["data"]

    assert snapshot() == snapshot()
    fresh = Dataset(SPECS, WriteClock()).collection("hubspot", "contacts").get(0)
    served = sb.get(f"{CONTACTS}/1001", params={"properties": ",".join(fresh["properties"])},
                    headers=HS).json()  # fmt: skip
    assert served["properties"] == fresh["properties"]


def test_reset_discards_writes(sb):
    sb.post("/custom/api/v1/leads", json={"email": "a@example.com"}, headers=CUSTOM)
    assert sb.get("/custom/api/v1/leads", headers=CUSTOM).json()["total"] == 251
    sb.post("/_control/reset")
    assert sb.get("/custom/api/v1/leads", headers=CUSTOM).json()["total"] == 250


def test_hundred_thousand_contacts(sb):
    resize = {"vendor": "hubspot", "object": "contacts", "count": 100_000}
    assert sb.post("/_control/dataset", json=resize).status_code == 200
    assert sb.get("/_control/dataset").json()["counts"]["hubspot/contacts"] == 100_000
    middle = sb.get(CONTACTS, params={"limit": 100, "after": "51001"}, headers=HS).json()
    assert [r["id"] for r in middle["results"]] == [str(i) for i in range(51001, 51101)]
    # walk the last 5,000 records the way a sync does: no gaps, no duplicates, clean end
    ids, after = [], str(95_000 + 1001)
    while True:
        body = sb.get(CONTACTS, params={"limit": 100, "after": after}, headers=HS).json()
        ids.extend(int(r["id"]) for r in body["results"])
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert ids == list(range(96_001, 101_001))
    search = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
                                             "operator": "GTE", "value": "2026-10-31T00:00:00Z"}]}],
              "limit": 200}  # fmt: skip
    recent = sb.post(f"{CONTACTS}/search", json=search, headers=HS).json()
    assert 1000 < recent["total"] < 1200 and len(recent["results"]) == 200
    too_deep = sb.post(f"{CONTACTS}/search", json={"limit": 100, "after": "10000"}, headers=HS)
    assert too_deep.status_code == 400


def test_dataset_control_validation(sb):
    assert sb.post("/_control/dataset", json={"vendor": "hubspot", "object": "nope",
                                              "count": 5}).status_code == 400  # fmt: skip
    assert sb.post("/_control/dataset", json={"vendor": "hubspot", "object": "deals",
                                              "count": -1}).status_code == 400  # fmt: skip
    sb.post("/_control/dataset", json={"vendor": "stripe", "object": "customers", "count": 3})
    listed = sb.get("/stripe/v1/customers", headers={"Authorization": "Bearer sk_test_sandbox"})
    assert len(listed.json()["data"]) == 3 and listed.json()["has_more"] is False


def test_request_log_masks_credentials(sb):
    sb.get(CONTACTS, params={"limit": 7}, headers=HS)
    sb.get("/custom/api/v1/me", headers=CUSTOM)
    log = sb.get("/_control/requests", params={"vendor": "hubspot"}).json()["requests"]
    assert len(log) == 1
    entry = log[0]
    assert entry["method"] == "GET" and entry["path"] == CONTACTS
    assert entry["vendor_path"] == "/crm/v3/objects/contacts"
    assert entry["params"] == {"limit": "7"} and entry["status"] == 200
    assert entry["headers"]["authorization"] == "Bearer ****spot"
    assert "pat-sandbox-hubspot" not in json.dumps(log)
    sb.post("/_control/requests/clear")
    assert sb.get("/_control/requests").json()["requests"] == []
