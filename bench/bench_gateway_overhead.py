"""What the gateway costs per call: auth, placeholders, error translation, measurement.

Reads the same HubSpot-shaped pages from the sandbox (a) through the gateway and (b) with
plain httpx and nothing else, in the same run, and prints calls per second for both and
their ratio (gateway ÷ plain; 1.0 means free, aim above 0.8).
"""

from __future__ import annotations

import time

import httpx

from core.connectors.catalog import default_catalog
from core.connectors.registry import Connection
from core.gateway import Gateway
from sandbox.server import start_in_thread

CALLS = 200
ROUNDS = 3
PATH = "/crm/v3/objects/contacts"
PARAMS = {"limit": "100"}
TOKEN = "pat-sandbox-hubspot"


def _rate(fn) -> float:
    fn()  # warm up connections and caches
    started = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return CALLS / (time.perf_counter() - started)


def main() -> None:
    sandbox = start_in_thread(port=0)
    try:
        base = f"{sandbox.base_url}/hubspot"
        connection = Connection(
            None, "bench", default_catalog().get("hubspot"), base, {"access_token": TOKEN}
        )
        gateway = Gateway()
        plain = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
        plain_rates, gateway_rates = [], []
        for _ in range(ROUNDS):  # alternate, so a warming server favours neither side
            plain_rates.append(_rate(lambda: plain.get(base + PATH, params=PARAMS).json()))
            gateway_rates.append(
                _rate(lambda: gateway.call(connection, "GET", PATH, params=PARAMS))
            )
        plain_rate, gateway_rate = max(plain_rates), max(gateway_rates)
        print(f"plain httpx : {plain_rate:8.1f} calls/s (100 records each, best of {ROUNDS})")
        print(f"gateway     : {gateway_rate:8.1f} calls/s")
        print(f"ratio gateway/plain: {gateway_rate / plain_rate:.2f}")
        plain.close()
        gateway.close()
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
