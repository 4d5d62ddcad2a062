"""Sync throughput, memory and webhook delay.

1. Throughput: sync 100,000 HubSpot-shaped contacts from the sandbox into the hub
   (incremental upsert, page size 100) and, in the same run, fetch and parse the same
   pages with plain httpx and nothing else. Prints records/s for both and the ratio
   (aim: at least 0.5), once with the hub's dictionary marking e-mail and names as
   personal data (sealed with AES-256-GCM, e-mail digest kept) and once with the same
   fields described but not personal (validated alike, stored in the clear), and once
   with no dictionary at all (nothing to validate).
2. Memory: peak RSS of a child process syncing 100,000 records against one syncing
   10,000 (aim: within 1.2×). The sandbox runs in its own process so it is not counted.
3. Webhooks: 1,000 signed events posted to the worker's endpoint; p95 of the delay from
   arrival to the record in the hub (roadmap: under 5 s; aim: under 1 s).

``python -m bench sync`` runs it; ``SWITCHBOARD_BENCH_RECORDS`` changes the 100,000.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RECORDS = int(os.environ.get("SWITCHBOARD_BENCH_RECORDS", "100000"))
TOKEN = "pat-sandbox-hubspot"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_sandbox() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start")


def _set_contacts(url: str, count: int) -> None:
    httpx.post(f"{url}/_control/reset", timeout=30).raise_for_status()
    httpx.post(
        f"{url}/_control/dataset",
        json={"vendor": "hubspot", "object": "contacts", "count": count},
        timeout=30,
    ).raise_for_status()


def plain_walk(url: str) -> tuple[int, float]:
    """The reference: the same pages with plain httpx, parsed, nothing else."""
    base = f"{url}/hubspot/crm/v3/objects/contacts"
    count, after = 0, None
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        while True:
            params = {"limit": "100", **({"after": after} if after else {})}
            body = client.get(base, params=params).json()
            count += len(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                break
    return count, time.perf_counter() - started


def _describe(ws, system_id: int, names: list[str], pii: bool) -> None:  # noqa: ANN001
    """The hub's dictionary describes these fields (so both runs validate them alike) and,
    with ``pii``, marks them personal data as a data steward would."""
    from db.dictionary import DictionaryField
    from db.engine import write_session

    with write_session(ws.engine) as session:
        for name in names:
            kind = "Email" if name == "email" else "String"
            session.add(DictionaryField(name=name, system_id=system_id, data_type=kind, pii=pii))


def switchboard_sync(url: str, pii: bool | None = True) -> tuple[int, float]:
    """``pii``: True marks the hub's fields personal data, False describes them in the
    dictionary without, None leaves the dictionary empty."""
    return _sync(url, pii)


def _sync(url: str, pii: bool | None) -> tuple[int, float]:
    """One run of a HubSpot contacts → hub flow, in this process, on a fresh SQLite store."""
    os.environ["SWITCHBOARD_DATA_DIR"] = tempfile.mkdtemp(prefix="sb-bench-")
    os.environ.setdefault("SWITCHBOARD_ADMIN_PASSWORD", "bench-admin-password")
    from core.connectors.catalog import Catalog, default_catalog
    from core.connectors.registry import ConnectorInput, create_connector
    from core.gateway import Gateway
    from core.integrations import IntegrationInput, create_integration
    from core.permissions import Actor
    from core.runs import claim_next_run, get_run, request_run
    from core.settings import load_settings
    from core.sync.engine import SyncRun
    from core.systems import SystemInput, create_system
    from core.workspace import open_workspace

    ws = open_workspace(load_settings())
    actor = Actor.system("bench")
    crm = create_system(ws, actor, SystemInput("CRM", "crm")).id
    hub = create_system(ws, actor, SystemInput("Hub", "warehouse")).id
    connector = create_connector(
        ws, actor, ConnectorInput("HubSpot", "hubspot", f"{url}/hubspot", {"access_token": TOKEN})
    ).id
    flow = create_integration(
        ws,
        actor,
        IntegrationInput(
            "Contacts",
            crm,
            hub,
            "Contacts",
            "hourly",
            "api",
            source_connector_id=connector,
            source_stream="contacts",
            sync_mode="incremental_upsert",
        ),
        [
            ("properties.email", "email"),
            ("properties.firstname", "first_name"),
            ("properties.lastname", "last_name"),
            ("properties.lifecyclestage", "stage"),
        ],
    )
    if pii is not None:
        _describe(ws, hub, ["email", "first_name", "last_name"], pii)
    # the sandbox has no rate limit; neither does the run, so both sides are measured alike
    shipped = default_catalog()
    catalog = Catalog(
        {
            **shipped.templates,
            "hubspot": shipped.get("hubspot").model_copy(update={"rate_limit": None}),
        }
    )
    request_run(ws, actor, flow.id)
    run_id = claim_next_run(ws, "bench")
    started = time.perf_counter()
    status = SyncRun(ws, Gateway(), run_id, "bench", catalog=catalog).execute()
    elapsed = time.perf_counter() - started
    run = get_run(ws, actor, run_id)
    if status != "succeeded":
        raise RuntimeError(f"the run {status}: {run.error_message}")
    return run.records_written, elapsed


def child(url: str) -> None:
    """``--child URL``: sync once and print peak RSS (KiB) as JSON."""
    written, elapsed = switchboard_sync(url)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"written": written, "seconds": elapsed, "peak_kib": peak}))


def _peak(url: str, count: int) -> dict:
    _set_contacts(url, count)
    out = (
        subprocess.run(
            [sys.executable, "-m", "bench.bench_sync", "--child", url],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=3600,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return json.loads(out)


def webhook_delays(events: int = 1000) -> list[float]:
    """Post signed events to a live webhook endpoint; the stored arrival→hub delays (ms)."""
    os.environ["SWITCHBOARD_DATA_DIR"] = tempfile.mkdtemp(prefix="sb-bench-hooks-")
    from sqlmodel import select

    from core.connectors.registry import ConnectorInput, create_connector
    from core.integrations import IntegrationInput, create_integration
    from core.permissions import Actor
    from core.settings import load_settings
    from core.systems import SystemInput, create_system
    from core.webhooks import WebhookServer, deliver_pending, sign
    from core.workspace import open_workspace
    from db.engine import read_session
    from db.models import WebhookEvent

    ws = open_workspace(load_settings())
    actor = Actor.system("bench")
    site = create_system(ws, actor, SystemInput("Website", "website")).id
    crm = create_system(ws, actor, SystemInput("CRM", "crm")).id
    secret = "bench-signing-secret"
    connector = create_connector(
        ws,
        actor,
        ConnectorInput(
            "Forms", "inbound_webhook", "", {"source_name": "site", "signing_secret": secret}
        ),
    ).id
    create_integration(
        ws,
        actor,
        IntegrationInput(
            "Forms → CRM",
            site,
            crm,
            "Form data",
            "real-time",
            "webhook",
            source_connector_id=connector,
        ),
        [("email", "email"), ("name", "name")],
    )
    server = WebhookServer(ws, "127.0.0.1", 0)
    server.start()
    stop = threading.Event()

    def deliver() -> None:
        while not stop.is_set():
            server.arrived.wait(0.5)
            server.arrived.clear()
            while deliver_pending(ws):
                pass

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    address = f"http://127.0.0.1:{server.server_address[1]}/webhooks/{connector}"
    with httpx.Client(timeout=30) as client:
        for number in range(events):
            body = json.dumps({"email": f"person{number}@example.com", "name": f"P {number}"})
            response = client.post(
                address,
                content=body,
                headers={
                    "X-Switchboard-Signature": sign(secret, body.encode()),
                    "Content-Type": "application/json",
                },
            )
            response.raise_for_status()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with read_session(ws.engine) as session:
            delays = [d for d in session.exec(select(WebhookEvent.delay_ms)) if d is not None]
        if len(delays) >= events:
            break
        time.sleep(0.2)
    stop.set()
    server.shutdown()
    return sorted(delays)


def main() -> None:
    sandbox, url = _start_sandbox()
    try:
        _set_contacts(url, RECORDS)
        plain_count, plain_s = plain_walk(url)
        bare_written, bare_s = switchboard_sync(url, pii=None)
        open_written, open_s = switchboard_sync(url, pii=False)
        written, sync_s = switchboard_sync(url, pii=True)
        plain_rate, sync_rate = plain_count / plain_s, written / sync_s
        open_rate, bare_rate = open_written / open_s, bare_written / bare_s
        print(f"throughput, {RECORDS:,} records, page size 100")
        print(f"  plain httpx fetch+parse : {plain_rate:9.0f} records/s ({plain_s:.1f} s)")
        print(f"  sync, PII sealed        : {sync_rate:9.0f} records/s ({sync_s:.1f} s)")
        print(f"  sync, fields not PII    : {open_rate:9.0f} records/s ({open_s:.1f} s)")
        print(f"  sync, no dictionary     : {bare_rate:9.0f} records/s ({bare_s:.1f} s)")
        print(f"  ratio sync/plain        : {sync_rate / plain_rate:.2f}  (aim ≥ 0.5)")
        print(f"  ratio, fields not PII   : {open_rate / plain_rate:.2f}")
        print(f"  ratio, no dictionary    : {bare_rate / plain_rate:.2f}")
        small = _peak(url, RECORDS // 10)
        large = _peak(url, RECORDS)
        print("memory, peak RSS of the sync process")
        print(f"  {RECORDS // 10:>7,} records : {small['peak_kib'] / 1024:7.1f} MiB")
        print(f"  {RECORDS:>7,} records : {large['peak_kib'] / 1024:7.1f} MiB")
        print(
            f"  ratio large/small      : {large['peak_kib'] / small['peak_kib']:.2f}  (aim ≤ 1.2)"
        )
    finally:
        sandbox.terminate()
    delays = webhook_delays()
    p95 = delays[int(len(delays) * 0.95) - 1]
    print(
        f"webhooks, {len(delays)} events: p50 {delays[len(delays) // 2]:.0f} ms, "
        f"p95 {p95:.0f} ms  (roadmap < 5000 ms, aim < 1000 ms)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
