"""Builders of the generated base records, one per vendor object, and id codecs.

Each builder receives the record key, a private seeded ``random.Random`` and
the record's modification time; it must draw from the RNG in a fixed order so
that record ``k`` never changes.  Records are stored in the vendor's own wire
shape so handlers only select fields and paginate.
"""

from __future__ import annotations

import hashlib
import random

from sandbox.accounts import MAILCHIMP_LIST_ID
from sandbox.dataset import DAY_MS, CollectionSpec, Record, iso_ms, iso_s

FIRST_NAMES = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Donald", "Sophie", "Tim", "Hedy", "Guido", "Karen", "Bjarne", "Shafi", "Niklaus",
    "Joan", "Brian", "Adele", "John", "Mary", "Vint", "Evelyn", "Leslie", "Anita", "Yukihiro",
]  # fmt: skip
LAST_NAMES = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Allen", "Dijkstra", "Perlman", "Knuth", "Wilson", "Berners-Lee", "Lamarr", "Rossum",
    "Jones", "Stroustrup", "Goldwasser", "Wirth", "Clarke", "Kernighan", "Goldberg", "McCarthy",
    "Keller", "Cerf", "Boyd", "Lamport", "Borg", "Matsumoto",
]  # fmt: skip
COMPANY_WORDS = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay",
    "Soylent", "Tyrell", "Cyberdyne", "Aperture", "Massive", "Pied Piper", "Gringotts",
]  # fmt: skip
COMPANY_SUFFIXES = ["Inc", "LLC", "GmbH", "Ltd", "Group", "Labs", "Systems", "Partners"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "corp.example.io"]
INDUSTRIES = ["COMPUTER_SOFTWARE", "MARKETING_AND_ADVERTISING", "RETAIL", "FINANCIAL_SERVICES"]
COUNTRIES = ["United States", "Germany", "France", "United Kingdom", "Canada", "Japan", "Brazil"]
COUNTRY_CODES = ["US", "DE", "FR", "GB", "CA", "JP", "BR"]
LIFECYCLE_STAGES = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
                    "opportunity", "customer"]  # fmt: skip
LEAD_STATUSES = ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "CONNECTED"]
DEAL_STAGES = ["appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
               "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"]  # fmt: skip
SF_LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                    "Closed - Not Converted"]  # fmt: skip
SF_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
             "Negotiation/Review", "Closed Won", "Closed Lost"]  # fmt: skip
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
HUBSPOT_ID_OFFSET = 1001
"""HubSpot object id of key ``k`` is ``k + HUBSPOT_ID_OFFSET``."""
DEFAULT_STRIPE_CUSTOMERS = 200

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STRIPE_MOD = 62**14
_STRIPE_MUL = 1_000_000_007
_STRIPE_ADD = 982_451_653_123
_STRIPE_INV = pow(_STRIPE_MUL, -1, _STRIPE_MOD)


# --- id codecs -----------------------------------------------------------------
def _b62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_B62[digit])
    return "".join(reversed(chars))


def _unb62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _B62.index(char)
    return number


def stripe_id(prefix: str, key: int) -> str:
    """``cus_...``-style id: a reversible scramble of ``key`` in 14 base-62 chars."""
    return f"{prefix}_{_b62((key * _STRIPE_MUL + _STRIPE_ADD) % _STRIPE_MOD, 14)}"


def stripe_key(object_id: str, prefix: str) -> int | None:
    """Inverse of :func:`stripe_id`; ``None`` if not an id of that prefix."""
    head, _, body = object_id.partition("_")
    if head != prefix or len(body) != 14 or any(c not in _B62 for c in body):
        return None
    return ((_unb62(body) - _STRIPE_ADD) * _STRIPE_INV) % _STRIPE_MOD


def sf_id(prefix: str, key: int) -> str:
    """18-character Salesforce id with a real case-safety checksum suffix."""
    base = f"{prefix}SB{_b62(key, 10)}"
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, char in enumerate(base[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << i
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return base + suffix


def sf_key(record_id: str, prefix: str) -> int | None:
    """Inverse of :func:`sf_id` (accepts 15- or 18-character ids)."""
    if len(record_id) not in (15, 18) or not record_id.startswith(prefix + "SB"):
        return None
    body = record_id[5:15]
    if any(c not in _B62 for c in body):
        return None
    return _unb62(body) if sf_id(prefix, _unb62(body))[:15] == record_id[:15] else None


def email_key(email: str) -> int | None:
    """Key embedded in a generated address ``first.last.<key>@domain``."""
    local = email.partition("@")[0]
    tail = local.rpartition(".")[2]
    return int(tail) if tail.isdigit() else None


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lowercased address."""
    return hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()


def mailchimp_time(ms: int) -> str:
    """Mailchimp's datetime format, ``2026-08-03T10:00:00+00:00``."""
    return iso_ms(ms)[:19] + "+00:00"


def sf_time(ms: int) -> str:
    """Salesforce's datetime format, ``2026-08-03T10:00:00.000+0000``."""
    return iso_ms(ms)[:-1] + "+0000"


def _person(key: int, rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}.{key}@{rng.choice(DOMAINS)}".lower().replace("-", "")
    return first, last, email


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"


# --- HubSpot ---------------------------------------------------------------------
def _hubspot(key: int, created: int, ts: int, props: dict[str, str | None]) -> Record:
    object_id = str(key + HUBSPOT_ID_OFFSET)
    props |= {"createdate": iso_ms(created), "hs_object_id": object_id}
    return {
        "id": object_id,
        "properties": props,
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(ts),
        "archived": False,
    }


def hubspot_contact(key: int, rng: random.Random, ts: int) -> Record:
    """HubSpot CRM v3 contact."""
    first, last, email = _person(key, rng)
    props: dict[str, str | None] = {
        "email": email,
        "firstname": first,
        "lastname": last,
        "phone": f"+1-555-{rng.randrange(10000):04d}",
        "company": _company(rng),
        "jobtitle": rng.choice(["CMO", "Growth Lead", "Analyst", "Engineer", "CEO", None]),
        "city": rng.choice(["Boston", "Berlin", "Paris", "London", "Toronto", "Tokyo"]),
        "country": rng.choice(COUNTRIES),
        "lifecyclestage": rng.choice(LIFECYCLE_STAGES),
        "hs_lead_status": rng.choice(LEAD_STATUSES),
        "lastmodifieddate": iso_ms(ts),
    }
    return _hubspot(key, ts - rng.randrange(400 * DAY_MS), ts, props)


def hubspot_company(key: int, rng: random.Random, ts: int) -> Record:
    """HubSpot CRM v3 company."""
    name = _company(rng)
    props: dict[str, str | None] = {
        "name": name,
        "domain": name.split()[0].lower().replace(" ", "") + f"{key}.example.com",
        "industry": rng.choice(INDUSTRIES),
        "city": rng.choice(["Boston", "Berlin", "Paris", "London"]),
        "country": rng.choice(COUNTRIES),
        "numberofemployees": str(rng.choice([5, 12, 50, 120, 800, 5000])),
        "annualrevenue": str(rng.randrange(100, 50_000) * 1000),
        "hs_lastmodifieddate": iso_ms(ts),
    }
    return _hubspot(key, ts - rng.randrange(700 * DAY_MS), ts, props)


def hubspot_deal(key: int, rng: random.Random, ts: int) -> Record:
    """HubSpot CRM v3 deal."""
    stage = rng.choice(DEAL_STAGES)
    props: dict[str, str | None] = {
        "dealname": f"{_company(rng)} - {rng.choice(['Renewal', 'New Business', 'Upsell'])}",
        "amount": f"{rng.randrange(500, 250_000)}.{rng.choice(['00', '50'])}",
        "dealstage": stage,
        "pipeline": "default",
        "closedate": iso_ms(ts + rng.randrange(-30, 60) * DAY_MS),
        "hs_lastmodifieddate": iso_ms(ts),
    }
    return _hubspot(key, ts - rng.randrange(200 * DAY_MS), ts, props)


# --- Salesforce ---------------------------------------------------------------------
def _sf(sobject: str, prefix: str, key: int, created: int, ts: int, fields: Record) -> Record:
    record_id = sf_id(prefix, key)
    return {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v60.0/sobjects/{sobject}/{record_id}",
        },
        "Id": record_id,
        **fields,
        "IsDeleted": False,
        "CreatedDate": sf_time(created),
        "LastModifiedDate": sf_time(ts),
        "SystemModstamp": sf_time(ts),
    }


def sf_contact(key: int, rng: random.Random, ts: int) -> Record:
    """Salesforce Contact sObject."""
    first, last, email = _person(key, rng)
    fields = {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": email,
        "Email__c": email,
        "Phone": f"(555) {rng.randrange(1000):03d}-{rng.randrange(10000):04d}",
        "Title": rng.choice(["VP Marketing", "Director", "Manager", "Analyst", None]),
        "AccountId": sf_id("001", rng.randrange(50)),
        "LeadSource": rng.choice(LEAD_SOURCES),
        "MailingCountry": rng.choice(COUNTRIES),
    }
    return _sf("Contact", "003", key, ts - rng.randrange(500 * DAY_MS), ts, fields)


def sf_lead(key: int, rng: random.Random, ts: int) -> Record:
    """Salesforce Lead sObject."""
    first, last, email = _person(key, rng)
    fields = {
        "FirstName": first,
        "LastName": last,
        "Name": f"{first} {last}",
        "Email": email,
        "Email__c": email,
        "Company": _company(rng),
        "Status": rng.choice(SF_LEAD_STATUSES),
        "LeadSource": rng.choice(LEAD_SOURCES),
        "Country": rng.choice(COUNTRIES),
    }
    return _sf("Lead", "00Q", key, ts - rng.randrange(300 * DAY_MS), ts, fields)


def sf_opportunity(key: int, rng: random.Random, ts: int) -> Record:
    """Salesforce Opportunity sObject."""
    stage = rng.choice(SF_STAGES)
    close = iso_ms(ts + rng.randrange(-20, 90) * DAY_MS)[:10]
    fields = {
        "Name": f"{_company(rng)} Opportunity",
        "Amount": float(rng.randrange(1_000, 500_000)),
        "StageName": stage,
        "Probability": {"Closed Won": 100.0, "Closed Lost": 0.0}.get(stage, 50.0),
        "CloseDate": close,
        "AccountId": sf_id("001", rng.randrange(50)),
        "LeadSource": rng.choice(LEAD_SOURCES),
    }
    return _sf("Opportunity", "006", key, ts - rng.randrange(200 * DAY_MS), ts, fields)


# --- Mailchimp ---------------------------------------------------------------------
def mailchimp_member(key: int, rng: random.Random, ts: int) -> Record:
    """Mailchimp list member."""
    first, last, email = _person(key, rng)
    status = rng.choices(["subscribed", "unsubscribed", "cleaned", "pending"], [80, 12, 4, 4])[0]
    opted = ts - rng.randrange(600 * DAY_MS)
    return {
        "id": subscriber_hash(email),
        "email_address": email,
        "unique_email_id": f"{rng.getrandbits(40):010x}",
        "contact_id": f"{rng.getrandbits(128):032x}",
        "full_name": f"{first} {last}",
        "web_id": 100_000 + key,
        "email_type": "html",
        "status": status,
        "merge_fields": {"FNAME": first, "LNAME": last, "ADDRESS": "", "PHONE": "", "BIRTHDAY": ""},
        "stats": {
            "avg_open_rate": round(rng.random(), 2),
            "avg_click_rate": round(rng.random() / 4, 2),
        },
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": f"198.51.100.{rng.randrange(1, 255)}",
        "timestamp_opt": mailchimp_time(opted),
        "member_rating": rng.randrange(1, 6),
        "last_changed": mailchimp_time(ts),
        "language": "en",
        "vip": False,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": rng.choice(COUNTRY_CODES),
            "timezone": "",
            "region": "",
        },  # fmt: skip
        "source": "API - Generic",
        "tags_count": 0,
        "tags": [],
        "list_id": MAILCHIMP_LIST_ID,
    }


# --- Stripe ------------------------------------------------------------------------
def stripe_customer(key: int, rng: random.Random, ts: int) -> Record:
    """Stripe Customer (``ts`` is its creation time)."""
    first, last, email = _person(key, rng)
    return {
        "id": stripe_id("cus", key), "object": "customer", "address": None, "balance": 0,
        "created": ts // 1000, "currency": "usd", "default_source": None, "delinquent": False,
        "description": None, "discount": None, "email": email,
        "invoice_prefix": f"{rng.getrandbits(32):08X}",
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": {}, "name": f"{first} {last}",
        "next_invoice_sequence": 1, "phone": None, "preferred_locales": ["en"],
        "shipping": None, "tax_exempt": "none", "test_clock": None,
    }  # fmt: skip


def stripe_charge(key: int, rng: random.Random, ts: int) -> Record:
    """Stripe Charge; amounts are integer cents."""
    amount = rng.randrange(500, 50_000)
    status = rng.choices(["succeeded", "failed", "pending"], [90, 7, 3])[0]
    refunded = status == "succeeded" and rng.random() < 0.05
    return {
        "id": stripe_id("ch", key), "object": "charge", "amount": amount,
        "amount_captured": amount if status == "succeeded" else 0,
        "amount_refunded": amount if refunded else 0,
        "balance_transaction": stripe_id("txn", key) if status == "succeeded" else None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": status == "succeeded", "created": ts // 1000, "currency": "usd",
        "customer": stripe_id("cus", rng.randrange(DEFAULT_STRIPE_CUSTOMERS)),
        "description": rng.choice(["Subscription update", "One-off purchase", None]),
        "disputed": False,
        "failure_code": "card_declined" if status == "failed" else None,
        "failure_message": "Your card was declined." if status == "failed" else None,
        "livemode": False, "metadata": {}, "paid": status == "succeeded",
        "payment_intent": stripe_id("pi", key), "payment_method": stripe_id("pm", key),
        "receipt_email": None, "refunded": refunded, "status": status,
    }  # fmt: skip


def stripe_invoice(key: int, rng: random.Random, ts: int) -> Record:
    """Stripe Invoice."""
    total = rng.randrange(1_000, 100_000)
    status = rng.choices(["paid", "open", "void", "uncollectible"], [75, 15, 5, 5])[0]
    paid = total if status == "paid" else 0
    customer_key = rng.randrange(DEFAULT_STRIPE_CUSTOMERS)
    return {
        "id": stripe_id("in", key), "object": "invoice", "account_country": "US",
        "amount_due": total, "amount_paid": paid, "amount_remaining": total - paid,
        "attempt_count": 1 if status == "paid" else 0, "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically", "created": ts // 1000, "currency": "usd",
        "customer": stripe_id("cus", customer_key), "customer_email": None,
        "description": None, "hosted_invoice_url": None, "livemode": False, "metadata": {},
        "number": f"SBX-{key + 1:06d}", "period_end": ts // 1000,
        "period_start": ts // 1000 - 30 * 86_400, "status": status,
        "subtotal": total, "total": total,
    }  # fmt: skip


# --- BigQuery tables -------------------------------------------------------------------
def bq_ga4_event(key: int, rng: random.Random, ts: int) -> Record:
    """A row of ``marketing.ga4_events``."""
    return {
        "event_date": iso_s(ts)[:10],
        "event_timestamp": ts * 1000,  # microseconds
        "event_name": rng.choice(["page_view", "session_start", "purchase", "sign_up"]),
        "user_pseudo_id": f"{rng.getrandbits(31)}.{rng.getrandbits(31)}",
        "traffic_source": rng.choice(["google", "newsletter", "facebook", "(direct)"]),
        "medium": rng.choice(["cpc", "email", "social", "(none)"]),
        "campaign": rng.choice(["spring_sale", "brand", "retargeting", "(not set)"]),
        "engagement_time_msec": rng.randrange(0, 120_000),
        "revenue": round(rng.random() * 200, 2) if rng.random() < 0.1 else None,
    }


def bq_ad_spend(key: int, rng: random.Random, ts: int) -> Record:
    """A row of ``marketing.ad_spend``."""
    impressions = rng.randrange(100, 50_000)
    clicks = impressions * rng.randrange(1, 8) // 100
    return {
        "date": iso_s(ts)[:10],
        "campaign_id": str(20_000_000_000 + key % 12),
        "campaign_name": f"Campaign {key % 12 + 1}",
        "impressions": impressions,
        "clicks": clicks,
        "cost_micros": clicks * rng.randrange(200_000, 3_000_000),
        "currency": "USD",
    }


# --- Custom REST API -------------------------------------------------------------------
def custom_lead(key: int, rng: random.Random, ts: int) -> Record:
    """``/custom/api/v1/leads`` record."""
    first, last, email = _person(key, rng)
    return {
        "id": key + 1, "email": email, "first_name": first, "last_name": last,
        "company": _company(rng), "status": rng.choice(["new", "contacted", "qualified", "lost"]),
        "score": rng.randrange(0, 101),
        "created_at": iso_ms(ts - rng.randrange(300 * DAY_MS)), "updated_at": iso_ms(ts),
    }  # fmt: skip


def custom_event(key: int, rng: random.Random, ts: int) -> Record:
    """``/custom/api/v1/events`` record."""
    return {
        "id": key + 1, "type": rng.choice(["page_view", "click", "form_submit", "download"]),
        "lead_id": rng.randrange(1, 251), "url": f"https://www.example.com/p/{rng.randrange(40)}",
        "occurred_at": iso_ms(ts), "updated_at": iso_ms(ts),
    }  # fmt: skip


def custom_order(key: int, rng: random.Random, ts: int) -> Record:
    """``/custom/api/v1/orders`` record."""
    return {
        "id": key + 1, "lead_id": rng.randrange(1, 251), "currency": "EUR",
        "total": round(rng.randrange(1_000, 90_000) / 100, 2),
        "status": rng.choice(["paid", "refunded", "pending"]),
        "created_at": iso_ms(ts - rng.randrange(10 * DAY_MS)), "updated_at": iso_ms(ts),
    }  # fmt: skip


def custom_activity(key: int, rng: random.Random, ts: int) -> Record:
    """``/custom/api/v1/activities`` record."""
    return {
        "id": key + 1, "lead_id": rng.randrange(1, 251),
        "kind": rng.choice(["call", "email", "meeting", "note"]),
        "subject": rng.choice(["Intro call", "Follow-up", "Demo", "Pricing question"]),
        "updated_at": iso_ms(ts),
    }  # fmt: skip


def _date_only(key: int, rng: random.Random, ts: int) -> Record:
    return {"date": iso_s(ts)[:10]}


def ads_campaign(key: int, rng: random.Random, ts: int) -> Record:
    """A Google Ads campaign (metrics are derived per day elsewhere)."""
    return {
        "id": str(20_000_000_000 + key),
        "name": f"{rng.choice(['Brand', 'Generic', 'Retargeting', 'Competitor'])} #{key + 1}",
        "status": rng.choices(["ENABLED", "PAUSED"], [85, 15])[0],
        "advertisingChannelType": rng.choice(["SEARCH", "DISPLAY", "VIDEO", "PERFORMANCE_MAX"]),
        "scale": rng.uniform(0.2, 3.0),
    }


SPECS: list[CollectionSpec] = [
    CollectionSpec("hubspot", "contacts", 250, hubspot_contact),
    CollectionSpec("hubspot", "companies", 80, hubspot_company),
    CollectionSpec("hubspot", "deals", 120, hubspot_deal),
    CollectionSpec("salesforce", "Contact", 250, sf_contact),
    CollectionSpec("salesforce", "Lead", 150, sf_lead),
    CollectionSpec("salesforce", "Opportunity", 100, sf_opportunity),
    CollectionSpec("mailchimp", "members", 250, mailchimp_member),
    CollectionSpec("stripe", "customers", DEFAULT_STRIPE_CUSTOMERS, stripe_customer),
    CollectionSpec("stripe", "charges", 400, stripe_charge),
    CollectionSpec("stripe", "invoices", 150, stripe_invoice),
    CollectionSpec("bigquery", "ga4_events", 1000, bq_ga4_event),
    CollectionSpec("bigquery", "ad_spend", 360, bq_ad_spend),
    CollectionSpec("custom", "leads", 250, custom_lead),
    CollectionSpec("custom", "events", 500, custom_event),
    CollectionSpec("custom", "orders", 180, custom_order),
    CollectionSpec("custom", "activities", 300, custom_activity),
    CollectionSpec("ga4", "days", 30, _date_only),
    CollectionSpec("google_ads", "campaigns", 12, ads_campaign),
    CollectionSpec("google_ads", "days", 30, _date_only),
]
"""Every resizable collection, with its default size."""
