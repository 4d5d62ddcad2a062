"""What the map and the dictionary cost as they grow.

1. The integration map's DOT, built from the store (read the registry with health, then
   write DOT), for 200 systems and 1,000 flows, against the readable size of 30 systems
   and 100 flows measured in the same run; plus the pattern analysis at the large size.
2. The Data dictionary page rendered by AppTest (a rerun of the real app, signed in) with
   5,000 fields, against the same page with 20 fields.

Each figure is the best of a few rounds; ratios are large ÷ reference.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from core.accounts import create_user, ensure_first_admin
from core.connectors.registry import DOMAINS
from core.dictionary import DictionaryEdit, save_edit
from core.integration_map import build_dot, load_registry
from core.map_patterns import analyse
from core.permissions import Actor, Role
from core.settings import load_settings
from core.systems import CATEGORIES, SystemInput, create_system
from core.workspace import Workspace, open_workspace
from db.engine import dispose_engines, write_session
from db.models import Integration, IntegrationRun

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ROUNDS = 3
ADMIN = Actor("admin", Role.ADMIN)
PASSWORD = "bench-password-1"


def _best(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    fn()  # warm up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _workspace(directory: str) -> Workspace:
    os.environ["SWITCHBOARD_DATA_DIR"] = directory
    os.environ["SWITCHBOARD_ADMIN_PASSWORD"] = PASSWORD
    return open_workspace(load_settings())


def _registry(ws: Workspace, systems: int, flows: int) -> None:
    categories = list(CATEGORIES)
    ids = [
        create_system(
            ws,
            ADMIN,
            SystemInput(f"System {i:03d}", categories[i % len(categories)], "", DOMAINS[i % 5]),
        ).id
        for i in range(systems)
    ]
    statuses = ("succeeded", "failed")
    with write_session(ws.engine) as session:
        for n in range(flows):
            a = ids[n % systems]
            b = ids[(n * 7 + 1 + n // systems) % systems]
            if a == b:
                b = ids[(n + 1) % systems]
            flow = Integration(
                name=f"Flow {n:04d}",
                source_system_id=a,
                destination_system_id=b,
                data=f"Data {n}",
                frequency=("real-time", "hourly", "daily", "weekly")[n % 4],
                method=("api", "webhook", "etl", "native", "javascript")[n % 5],
            )
            session.add(flow)
            session.flush()
            for r in range(n % 6):
                session.add(
                    IntegrationRun(integration_id=flow.id, status=statuses[(n + r) % 3 == 0])
                )


def bench_map() -> None:
    sizes = {
        "reference (30 systems, 100 flows)": (30, 100),
        "200 systems, 1,000 flows": (200, 1000),
    }
    results = {}
    for label, (systems, flows) in sizes.items():
        with tempfile.TemporaryDirectory() as directory:
            ws = _workspace(directory)
            _registry(ws, systems, flows)
            results[label] = (
                _best(lambda ws=ws: build_dot(load_registry(ws, ADMIN)), 5),
                _best(lambda ws=ws: analyse(load_registry(ws, ADMIN)), 5),
                len(build_dot(load_registry(ws, ADMIN))),
            )
            dispose_engines()
    (ref_dot, ref_analysis, _), (big_dot, big_analysis, size) = results.values()
    for label, (dot, analysis, chars) in results.items():
        print(f"map DOT   {label:34}: {dot * 1000:8.1f} ms  ({chars:,} characters of DOT)")
        print(f"analysis  {label:34}: {analysis * 1000:8.1f} ms")
    print(f"ratio DOT 200/1,000 ÷ 30/100          : {big_dot / ref_dot:.1f}  (flows ×10)")
    print(f"ratio analysis 200/1,000 ÷ 30/100     : {big_analysis / ref_analysis:.1f}")


class _NavigationPagesManager(PagesManager):
    """Keep AppTest in ``st.navigation`` mode between runs, as the real server does."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def _page_time(fields: int) -> tuple[float, float]:
    """Seconds to render the dictionary page with ``fields`` fields, and to save them."""
    with tempfile.TemporaryDirectory() as directory:
        ws = _workspace(directory)
        ensure_first_admin(ws)
        create_user(
            ws, ADMIN, username="erin", display_name="Erin", role="editor", password=PASSWORD
        )
        systems = [
            create_system(ws, ADMIN, SystemInput(f"System {i}", "crm")).name for i in range(10)
        ]
        types = (("String", "linkedin"), ("Integer", "85"), ("Currency", "$50,000"))
        added = [
            {
                "name": f"field_{n:05d}",
                "system": systems[n % 10],
                "data_type": types[n % 3][0],
                "description": f"Field number {n}",
                "example": types[n % 3][1],
            }
            for n in range(fields)
        ]
        started = time.perf_counter()
        save_edit(ws, ADMIN, DictionaryEdit(added=added))
        saving = time.perf_counter() - started
        at = AppTest.from_file(APP, default_timeout=300).run()
        at.text_input[0].input("erin")
        at.text_input[1].input(PASSWORD)
        at.button[0].click().run()
        at.run()
        at.switch_page("pages/data_dictionary.py").run()
        assert not at.exception, at.exception
        assert len(at.dataframe[0].value) == fields
        rendering = _best(at.run)
        dispose_engines()
        return rendering, saving


def bench_dictionary_page() -> None:
    original = app_test.PagesManager
    app_test.PagesManager = _NavigationPagesManager
    try:
        small, small_save = _page_time(20)
        large, large_save = _page_time(5000)
    finally:
        app_test.PagesManager = original
    print(f"dictionary page, 20 fields (reference)  : {small * 1000:8.1f} ms")
    print(f"dictionary page, 5,000 fields           : {large * 1000:8.1f} ms")
    print(f"ratio 5,000 ÷ 20 fields                 : {large / small:.1f}")
    print(
        f"saving the fields in one edit           : {small_save * 1000:.0f} ms for 20, "
        f"{large_save * 1000:.0f} ms for 5,000"
    )


def main() -> None:
    saved = {k: os.environ.get(k) for k in ("SWITCHBOARD_DATA_DIR", "SWITCHBOARD_ADMIN_PASSWORD")}
    try:
        bench_map()
        bench_dictionary_page()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


if __name__ == "__main__":
    main()
