"""Vendor behaviour of the sandbox over real HTTP: auth, pagination, writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import accounts

HS = {"Authorization": "Bearer pat-sandbox-hubspot"}
CUSTOM = {"X-API-Key": "sandbox-custom-key"}
STRIPE = {"Authorization": "Bearer sk_test_sandbox"}
MAILCHIMP = ("anyuser", "00000000000000000000000000000000-us1")


def google_token(sb: httpx.Client) -> str:
    response = sb.post(
        "/google-oauth/token",
        data={"grant_type": "refresh_token", "client_id": "google-client",
              "client_secret": "google-secret", "refresh_token": "google-refresh"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def service_account_assertion(audience: str, scope: str, key: str | None = None, **claims) -> str:
    info = accounts.service_account_info()
    now = int(time.time())
    payload = {"iss": info["client_email"], "scope": scope, "aud": audience,
               "iat": now, "exp": now + 3600} | claims  # fmt: skip
    return jwt.encode(payload, key or info["private_key"], algorithm="RS256",
                      headers={"kid": info["private_key_id"]})  # fmt: skip


def salesforce_session(sb: httpx.Client) -> dict:
    response = sb.post(
        "/salesforce/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "salesforce-client",
              "client_secret": "salesforce-secret"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_healthz(sb):
    assert sb.get("/healthz").json() == {"status": "ok"}


# --- HubSpot -------------------------------------------------------------------
def test_hubspot_auth_ok_401_403(sb):
    assert sb.get("/hubspot/crm/v3/objects/contacts", headers=HS).status_code == 200
    bad = sb.get("/hubspot/crm/v3/objects/contacts", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["category"] == "INVALID_AUTHENTICATION"
    assert bad.json()["status"] == "error" and bad.json()["correlationId"]
    noscope = {"Authorization": "Bearer pat-sandbox-hubspot-noscope"}
    denied = sb.get("/hubspot/crm/v3/objects/contacts", headers=noscope)
    assert denied.status_code == 403
    body = denied.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["message"].startswith("This app hasn't been granted all required scopes")
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.contacts.read"]
    assert sb.get("/hubspot/crm/v3/objects/deals", headers=noscope).status_code == 200


def test_hubspot_oauth_refresh(sb):
    form = {"grant_type": "refresh_token", "client_id": "hubspot-client",
            "client_secret": "hubspot-secret", "refresh_token": "hubspot-refresh"}  # fmt: skip
    token = sb.post("/hubspot/oauth/v1/token", data=form).json()
    assert set(token) >= {"access_token", "refresh_token", "expires_in"}
    ok = sb.get("/hubspot/crm/v3/objects/contacts",
                headers={"Authorization": f"Bearer {token['access_token']}"})  # fmt: skip
    assert ok.status_code == 200
    wrong = sb.post("/hubspot/oauth/v1/token", data=form | {"refresh_token": "x"})
    assert wrong.status_code == 400 and wrong.json()["status"] == "BAD_REFRESH_TOKEN"


def test_hubspot_list_walks_all_contacts(sb):
    ids, after, pages = [], None, 0
    while True:
        params = {"limit": 100} | ({"after": after} if after else {})
        body = sb.get("/hubspot/crm/v3/objects/contacts", params=params, headers=HS).json()
        ids += [r["id"] for r in body["results"]]
        pages += 1
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
        link = body["paging"]["next"]["link"]
        assert sb.get(link, headers=HS).json()["results"][0]["id"] == after
    assert pages == 3 and len(ids) == 250 and len(set(ids)) == 250
    record = body["results"][0]
    assert set(record) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    props = sb.get(
        "/hubspot/crm/v3/objects/deals",
        params={"limit": 1, "properties": "amount,dealstage,closedate"},
        headers=HS,
    ).json()["results"][0]["properties"]
    assert {"amount", "dealstage", "closedate"} <= set(props)


def test_hubspot_search_incremental_and_batch_upsert(sb):
    url = "/hubspot/crm/v3/objects/contacts"
    first = sb.get(url, params={"limit": 100}, headers=HS).json()["results"]
    cutoff = first[50]["updatedAt"]
    search = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
                                             "operator": "GTE", "value": cutoff}]}],
              "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
              "limit": 100}  # fmt: skip
    found, after = [], None
    while True:
        body = sb.post(f"{url}/search", json=search | ({"after": after} if after else {}),
                       headers=HS).json()  # fmt: skip
        found += body["results"]
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert body["total"] == 200 and len({r["id"] for r in found}) == 200
    assert [r["updatedAt"] for r in found] == sorted(r["updatedAt"] for r in found)

    existing = first[0]["properties"]["email"]
    inputs = [{"idProperty": "email", "id": existing, "properties": {"lifecyclestage": "customer"}},
              {"idProperty": "email", "id": "new.person@example.com",
               "properties": {"firstname": "New", "lastname": "Person"}}]  # fmt: skip
    upsert = sb.post(f"{url}/batch/upsert", json={"inputs": inputs}, headers=HS)
    assert upsert.status_code == 200, upsert.text
    results = upsert.json()["results"]
    assert [r["new"] for r in results] == [False, True]
    updated = sb.get(f"{url}/{first[0]['id']}", params={"properties": "lifecyclestage"},
                     headers=HS).json()  # fmt: skip
    assert updated["properties"]["lifecyclestage"] == "customer"
    by_email = sb.get(f"{url}/new.person@example.com", params={"idProperty": "email"}, headers=HS)
    assert by_email.json()["properties"]["firstname"] == "New"
    # the incremental search now sees both writes at its end
    again = sb.post(f"{url}/search", json=search | {"after": "190"}, headers=HS).json()
    assert again["total"] == 202
    assert [r["id"] for r in again["results"]][-2:] == [results[0]["id"], results[1]["id"]]


def test_hubspot_validation_delete_and_limits(sb):
    url = "/hubspot/crm/v3/objects/contacts"
    bad = sb.post(f"{url}/batch/create", json={"inputs": [{"properties": {"nope": 1}}]},
                  headers=HS)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in bad.json()["message"]
    too_many = {"inputs": [{"idProperty": "email", "id": f"u{i}@example.com", "properties": {}}
                           for i in range(101)]}  # fmt: skip
    assert sb.post(f"{url}/batch/upsert", json=too_many, headers=HS).status_code == 400
    assert sb.delete(f"{url}/1001", headers=HS).status_code == 204
    assert sb.get(f"{url}/1001", headers=HS).status_code == 404
    listed = sb.get(url, params={"limit": 100}, headers=HS).json()["results"]
    assert listed[0]["id"] == "1002"
    gdpr = sb.post(f"{url}/gdpr-delete", json={"objectId": "1002"}, headers=HS)
    assert gdpr.status_code == 204


# --- Salesforce -------------------------------------------------------------------
def test_salesforce_token_and_auth(sb):
    session = salesforce_session(sb)
    assert session["instance_url"] == str(sb.base_url).rstrip("/") + "/salesforce"
    assert session["token_type"] == "Bearer"
    expected = base64.b64encode(hmac.new(b"salesforce-secret",
                                         (session["id"] + session["issued_at"]).encode(),
                                         hashlib.sha256).digest()).decode()  # fmt: skip
    assert session["signature"] == expected
    wrong = sb.post("/salesforce/services/oauth2/token",
                    data={"grant_type": "client_credentials", "client_id": "salesforce-client",
                          "client_secret": "nope"})  # fmt: skip
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }
    refresh = sb.post("/salesforce/services/oauth2/token",
                      data={"grant_type": "refresh_token", "client_id": "salesforce-client",
                            "refresh_token": "salesforce-refresh"})  # fmt: skip
    assert refresh.status_code == 200
    bad = sb.get("/salesforce/services/data/v60.0/limits", headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401
    assert bad.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_salesforce_query_pagination_and_filter(sb):
    session = salesforce_session(sb)
    client = httpx.Client(base_url=session["instance_url"],
                          headers={"Authorization": f"Bearer {session['access_token']}",
                                   "Sforce-Query-Options": "batchSize=200"})  # fmt: skip
    body = client.get("/services/data/v60.0/query",
                      params={"q": "SELECT Id, Email, LastModifiedDate FROM Contact "
                                   "ORDER BY LastModifiedDate"}).json()  # fmt: skip
    records = list(body["records"])
    assert body["totalSize"] == 250 and not body["done"] and len(records) == 200
    assert body["nextRecordsUrl"].startswith("/services/data/v60.0/query/01g")
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"]).json()
        records += body["records"]
    assert len({r["Id"] for r in records}) == 250
    assert records[0]["attributes"]["type"] == "Contact"
    assert set(records[0]) == {"attributes", "Id", "Email", "LastModifiedDate"}
    cutoff = records[199]["LastModifiedDate"].replace(".000+0000", "Z")[:19] + "Z"
    newer = client.get("/services/data/v60.0/query",
                       params={"q": f"SELECT Id FROM Contact WHERE LastModifiedDate > {cutoff}"}).json()  # fmt: skip
    assert newer["done"] and 45 <= newer["totalSize"] <= 51
    bad = client.get("/services/data/v60.0/query", params={"q": "SELECT Nope FROM Contact"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"


def test_salesforce_upsert_and_delete(sb):
    session = salesforce_session(sb)
    auth = {"Authorization": f"Bearer {session['access_token']}"}
    base = "/salesforce/services/data/v60.0/sobjects/Contact"
    created = sb.patch(f"{base}/Email__c/new@example.com", json={"LastName": "New"}, headers=auth)
    assert created.status_code == 201 and created.json()["created"] is True
    again = sb.patch(f"{base}/Email__c/new@example.com", json={"FirstName": "Ann"}, headers=auth)
    assert again.status_code == 200 and again.json()["created"] is False
    record_id = created.json()["id"]
    assert sb.get(f"{base}/{record_id}", headers=auth).json()["Name"] == "Ann New"
    assert sb.delete(f"{base}/{record_id}", headers=auth).status_code == 204
    assert sb.get(f"{base}/{record_id}", headers=auth).status_code == 404


# --- Google ------------------------------------------------------------------------
def test_google_service_account_jwt_exchange(sb):
    scope = "https://www.googleapis.com/auth/analytics.readonly"
    assertion = service_account_assertion("https://oauth2.googleapis.com/token", scope)
    grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    token = sb.post("/google-oauth/token", data=grant)
    assert token.status_code == 200, token.text
    assert token.json()["expires_in"] == 3599 and token.json()["token_type"] == "Bearer"
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert sb.get("/ga4/v1beta/properties/123456789/metadata", headers=auth).status_code == 200
    # scope is enforced: this token cannot read BigQuery
    bq = sb.get("/bigquery/bigquery/v2/projects/sandbox-project/datasets", headers=auth)
    assert bq.status_code == 403 and bq.json()["error"]["status"] == "PERMISSION_DENIED"

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()).decode()  # fmt: skip
    forged = service_account_assertion("https://oauth2.googleapis.com/token", scope, key=pem)
    bad = sb.post("/google-oauth/token", data=grant | {"assertion": forged})
    assert bad.status_code == 400
    assert bad.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    stale = service_account_assertion("https://oauth2.googleapis.com/token", scope,
                                      iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)  # fmt: skip
    assert (
        sb.post("/google-oauth/token", data=grant | {"assertion": stale}).json()["error"]
        == "invalid_grant"
    )
    wrong_aud = service_account_assertion("https://example.com/other", scope)
    assert sb.post("/google-oauth/token", data=grant | {"assertion": wrong_aud}).status_code == 400
    refresh = sb.post("/google-oauth/token", data={"grant_type": "refresh_token",
                      "client_id": "google-client", "client_secret": "bad", "refresh_token": "x"})  # fmt: skip
    assert refresh.json()["error"] == "invalid_client"


def test_ga4_auth_errors_and_offset_paging(sb):
    url = "/ga4/v1beta/properties/123456789:runReport"
    assert sb.post(url, json={}).json()["error"]["status"] == "UNAUTHENTICATED"
    auth = {"Authorization": f"Bearer {google_token(sb)}"}
    other = sb.post("/ga4/v1beta/properties/999:runReport", json={}, headers=auth)
    assert other.status_code == 403 and other.json()["error"]["status"] == "PERMISSION_DENIED"
    report = {"dateRanges": [{"startDate": "30daysAgo", "endDate": "yesterday"}],
              "dimensions": [{"name": "date"}, {"name": "sessionSource"}, {"name": "eventName"}],
              "metrics": [{"name": "eventCount"}, {"name": "sessions"}], "limit": 500}  # fmt: skip
    unknown = sb.post(url, json=report | {"dimensions": [{"name": "nope"}]}, headers=auth)
    assert unknown.status_code == 400 and unknown.json()["error"]["status"] == "INVALID_ARGUMENT"
    rows, offset = [], 0
    while True:
        body = sb.post(url, json=report | {"offset": offset}, headers=auth).json()
        rows += body.get("rows", [])
        offset += 500
        if offset >= body["rowCount"]:
            break
    assert body["kind"] == "analyticsData#runReport"
    assert body["metricHeaders"][0] == {"name": "eventCount", "type": "TYPE_INTEGER"}
    keys = [tuple(v["value"] for v in r["dimensionValues"]) for r in rows]
    assert len(keys) == body["rowCount"] == 30 * 7 * 8 and len(set(keys)) == len(keys)
    assert all(isinstance(r["metricValues"][0]["value"], str) for r in rows)


def test_google_ads_search_paging_and_developer_token(sb):
    token = google_token(sb)
    url = "/google-ads/v22/customers/1234567890/googleAds:search"
    query = ("SELECT campaign.id, campaign.name, metrics.cost_micros, metrics.impressions, "
             "metrics.clicks, segments.date FROM campaign "
             "WHERE segments.date BETWEEN '2026-09-02' AND '2026-10-31'")  # fmt: skip
    missing = sb.post(url, json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 401
    failure = missing.json()["error"]["details"][0]
    assert failure["errors"][0]["errorCode"] == {"authenticationError": "DEVELOPER_TOKEN_INVALID"}
    headers = {"Authorization": f"Bearer {token}", "developer-token": "sandbox-dev-token",
               "login-customer-id": "1234567890"}  # fmt: skip
    sb.post("/_control/dataset", json={"vendor": "google_ads", "object": "campaigns", "count": 200})
    sb.post("/_control/dataset", json={"vendor": "google-ads", "object": "days", "count": 60})
    results, page_token = [], None
    while True:
        body = sb.post(url, json={"query": query} | ({"pageToken": page_token} if page_token else {}),
                       headers=headers).json()  # fmt: skip
        results += body["results"]
        page_token = body.get("nextPageToken")
        if not page_token:
            break
    assert len(results) == 200 * 60
    assert len({(r["campaign"]["id"], r["segments"]["date"]) for r in results}) == 12_000
    row = results[0]
    assert isinstance(row["metrics"]["costMicros"], str) and isinstance(row["campaign"]["id"], str)
    assert row["campaign"]["resourceName"].startswith("customers/1234567890/campaigns/")
    assert body["fieldMask"].startswith("campaign.id,campaign.name,metrics.costMicros")
    customers = sb.get("/google-ads/v22/customers:listAccessibleCustomers", headers=headers)
    assert customers.json() == {"resourceNames": ["customers/1234567890"]}


def test_bigquery_tables_and_insert_all(sb):
    auth = {"Authorization": f"Bearer {google_token(sb)}"}
    base = "/bigquery/bigquery/v2/projects/sandbox-project/datasets"
    datasets = sb.get(base, headers=auth).json()
    assert datasets["datasets"][0]["datasetReference"]["datasetId"] == "marketing"
    table = sb.get(f"{base}/marketing/tables/ad_spend", headers=auth).json()
    assert table["schema"]["fields"][0] == {"name": "date", "type": "DATE", "mode": "REQUIRED"}
    rows, token = [], None
    while True:
        body = sb.get(f"{base}/marketing/tables/ad_spend/data",
                      params={"maxResults": 100} | ({"pageToken": token} if token else {}),
                      headers=auth).json()  # fmt: skip
        rows += body.get("rows", [])
        token = body.get("pageToken")
        if not token:
            break
    assert body["totalRows"] == "360" and len(rows) == 360
    assert all(isinstance(c["v"], str) for c in rows[0]["f"])
    insert = {"rows": [{"insertId": "a", "json": {"date": "2026-10-31", "campaign_id": "1"}},
                       {"insertId": "b", "json": {"date": "2026-10-31", "campaign_id": "2",
                                                  "bogus": 1}}]}  # fmt: skip
    response = sb.post(
        f"{base}/marketing/tables/ad_spend/insertAll", json=insert, headers=auth
    ).json()
    assert response["kind"] == "bigquery#tableDataInsertAllResponse"
    errors = {e["index"]: e["errors"][0] for e in response["insertErrors"]}
    assert errors[1]["reason"] == "invalid" and "bogus" in errors[1]["message"]
    assert errors[0]["reason"] == "stopped"
    ok = sb.post(f"{base}/marketing/tables/ad_spend/insertAll", json={"rows": insert["rows"][:1]},
                 headers=auth).json()  # fmt: skip
    assert "insertErrors" not in ok
    table = sb.get(f"{base}/marketing/tables/ad_spend", headers=auth).json()
    assert table["numRows"] == "361"


# --- Mailchimp -------------------------------------------------------------------------
def test_mailchimp_auth_paging_upsert_delete(sb):
    assert sb.get("/mailchimp/3.0/ping", auth=MAILCHIMP).json() == {
        "health_status": "Everything's Chimpy!"
    }
    bad = sb.get("/mailchimp/3.0/ping", auth=("u", "wrong-us1"))
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["title"] == "API Key Invalid" and {"type", "detail", "instance"} <= set(
        bad.json()
    )
    url = "/mailchimp/3.0/lists/a1b2c3d4e5/members"
    members, offset = [], 0
    while True:
        body = sb.get(url, params={"count": 100, "offset": offset}, auth=MAILCHIMP).json()
        members += body["members"]
        offset += 100
        if offset >= body["total_items"]:
            break
    assert len({m["id"] for m in members}) == 250
    member = members[0]
    assert member["id"] == hashlib.md5(member["email_address"].lower().encode()).hexdigest()
    email = "Fresh.Person@Example.com"
    subscriber = hashlib.md5(email.lower().encode()).hexdigest()
    put = sb.put(f"{url}/{subscriber}", auth=MAILCHIMP,
                 json={"email_address": email, "status_if_new": "subscribed",
                       "merge_fields": {"FNAME": "Fresh", "LNAME": "Person"}})  # fmt: skip
    assert put.status_code == 200 and put.json()["status"] == "subscribed"
    assert sb.get(f"{url}/{subscriber}", auth=MAILCHIMP).json()["merge_fields"]["FNAME"] == "Fresh"
    since = sb.get(url, params={"since_last_changed": "2026-10-31T23:59:59+00:00"}, auth=MAILCHIMP)
    assert [m["id"] for m in since.json()["members"]] == [subscriber]
    forget = sb.post(f"{url}/{member['id']}/actions/delete-permanent", auth=MAILCHIMP)
    assert forget.status_code == 204
    assert sb.get(f"{url}/{member['id']}", auth=MAILCHIMP).status_code == 404
    readd = sb.put(f"{url}/{member['id']}", auth=MAILCHIMP,
                   json={"email_address": member["email_address"], "status_if_new": "subscribed"})  # fmt: skip
    assert readd.status_code == 400 and readd.json()["title"] == "Forgotten Email Not Subscribed"


# --- Stripe ------------------------------------------------------------------------------
def test_stripe_auth(sb):
    assert sb.get("/stripe/v1/balance", headers=STRIPE).json()["object"] == "balance"
    basic = sb.get("/stripe/v1/customers", auth=("sk_test_sandbox", ""))
    assert basic.status_code == 200
    bad = sb.get("/stripe/v1/customers", headers={"Authorization": "Bearer sk_test_wrongabcd"})
    assert bad.status_code == 401
    assert bad.json() == {"error": {"message": "Invalid API Key provided: sk_test_****abcd",
                                    "type": "invalid_request_error"}}  # fmt: skip
    restricted = sb.get("/stripe/v1/customers",
                        headers={"Authorization": "Bearer rk_test_sandbox_noread"})  # fmt: skip
    assert restricted.status_code == 403
    assert "rak_customer_read" in restricted.json()["error"]["message"]


def test_stripe_cursor_pagination_and_created_filter(sb):
    seen, starting_after = [], None
    while True:
        params = {"limit": 100} | ({"starting_after": starting_after} if starting_after else {})
        body = sb.get("/stripe/v1/charges", params=params, headers=STRIPE).json()
        seen += body["data"]
        if not body["has_more"]:
            break
        starting_after = body["data"][-1]["id"]
    assert body["object"] == "list" and body["url"] == "/v1/charges"
    assert len({c["id"] for c in seen}) == 400
    created = [c["created"] for c in seen]
    assert created == sorted(created, reverse=True)
    assert all(isinstance(c["amount"], int) for c in seen)
    pivot = created[100]
    recent = sb.get("/stripe/v1/charges", params={"limit": 100, "created[gte]": pivot},
                    headers=STRIPE).json()  # fmt: skip
    assert len(recent["data"]) == 100 and recent["has_more"] is True
    assert min(c["created"] for c in recent["data"]) >= pivot
    missing = sb.get("/stripe/v1/charges", params={"starting_after": "ch_nope"}, headers=STRIPE)
    assert missing.status_code == 400 and missing.json()["error"]["type"] == "invalid_request_error"


# --- Custom REST API ---------------------------------------------------------------------
def test_custom_auth(sb):
    assert sb.get("/custom/api/v1/me", headers=CUSTOM).status_code == 200
    assert sb.get("/custom/api/v1/me", headers={"X-API-Key": "bad"}).status_code == 401


def test_custom_page_number_and_offset_styles(sb):
    leads, page = [], 1
    while True:
        body = sb.get("/custom/api/v1/leads", params={"page": page, "per_page": 40},
                      headers=CUSTOM).json()  # fmt: skip
        leads += body["data"]
        if page >= body["total_pages"]:
            break
        page += 1
    assert len({r["id"] for r in leads}) == 250 == len(leads)
    events, offset = [], 0
    while True:
        body = sb.get("/custom/api/v1/events", params={"offset": offset, "limit": 77},
                      headers=CUSTOM).json()  # fmt: skip
        events += body["items"]
        offset += 77
        if offset >= body["total"]:
            break
    assert len({r["id"] for r in events}) == 500 == len(events)


def test_custom_link_header_and_next_url_styles(sb):
    orders, url = [], "/custom/api/v1/orders?per_page=50"
    while url:
        response = sb.get(url, headers=CUSTOM)
        orders += response.json()
        url = response.links.get("next", {}).get("url")
    assert len({r["id"] for r in orders}) == 180 == len(orders)
    activities, url = [], "/custom/api/v1/activities?limit=64"
    while url:
        body = sb.get(url, headers=CUSTOM).json()
        activities += body["records"]
        url = body["next"]
    assert len({r["id"] for r in activities}) == 300 == len(activities)
    stamps = [r["updated_at"] for r in activities]
    assert stamps == sorted(stamps)


def test_custom_updated_since_and_writes(sb):
    everything = sb.get("/custom/api/v1/leads", params={"per_page": 100}, headers=CUSTOM).json()
    cutoff = everything["data"][60]["updated_at"]
    since = sb.get("/custom/api/v1/leads", params={"per_page": 100, "updated_since": cutoff},
                   headers=CUSTOM).json()  # fmt: skip
    assert since["total"] == 250 - 60 and since["data"][0]["updated_at"] == cutoff
    created = sb.post("/custom/api/v1/leads", json={"email": "x@example.com"}, headers=CUSTOM)
    assert created.status_code == 201
    lead_id = created.json()["id"]
    updated = sb.put(
        f"/custom/api/v1/leads/{lead_id}", json={"status": "qualified"}, headers=CUSTOM
    )
    assert updated.json()["status"] == "qualified"
    invalid = sb.post("/custom/api/v1/leads", json={"email": "nope"}, headers=CUSTOM)
    assert invalid.status_code == 422
    changed = sb.get("/custom/api/v1/leads", params={"updated_since": "2026-11-01T00:00:00Z"},
                     headers=CUSTOM).json()  # fmt: skip
    assert [r["id"] for r in changed["data"]] == [lead_id]


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/hubspot/crm/v3/objects/nothing", HS), ("/stripe/v1/nothing", STRIPE),
     ("/custom/api/v1/nothing", CUSTOM)],
)  # fmt: skip
def test_unknown_paths_are_404(sb, path, headers):
    assert sb.get(path, headers=headers).status_code == 404
