"""AppTest: Health, Alerts, KPIs, Display links and the wall screen on the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.health_checks import evaluate_due
from core.wall_screen import create_display_link, revoke_display_link
from tests.conftest import ADMIN
from tests.monitoring.conftest import add_calls, add_flows, add_run
from tests.pages.conftest import new_app, sign_in, texts


def _seed(ws) -> None:
    (flow,) = add_flows(ws, "CRM sync")
    now = datetime.now(UTC)
    add_run(ws, flow, now - timedelta(minutes=5), 10, status="failed")
    add_calls(ws, flow, now - timedelta(minutes=5), [120.0, 300.0, 900.0])
    evaluate_due(ws, now)


def _go(at, title: str):
    at.switch_page(f"pages/{title}.py").run()
    assert not at.exception, at.exception
    return at


def test_viewer_sees_health_alerts_and_kpis_without_edit_forms(people):
    _seed(people)
    at = sign_in("viewer")
    text = texts(_go(at, "health"))
    assert "Health" in text and "CRM sync" in str(at.dataframe[0].value)
    assert not [b for b in at.button if b.label == "Check now"]
    text = texts(_go(at, "alerts"))
    assert "Alerts" in text
    assert "success rate failing" in at.dataframe[0].value["Alert"].iloc[0]
    assert not [b for b in at.button if b.label == "Acknowledge"]
    text = texts(_go(at, "kpis"))
    assert "KPIs" in text and "nearest-rank" in text


def test_editor_acknowledges_and_gets_clear_messages(people):
    _seed(people)
    at = sign_in("editor")
    _go(at, "alerts")
    next(b for b in at.button if b.label == "Acknowledge").click().run()
    assert "acknowledged" in texts(at)
    _go(at, "health")
    at.number_input[0].set_value(500.0)
    next(b for b in at.button if b.label == "Save check").click().run()
    assert "Threshold" in texts(at) and "out of range" in texts(at)


def test_display_link_page_and_wall_screen(people):
    _seed(people)
    at = sign_in("admin")
    _go(at, "display_links")
    at.text_input[0].input("Ops TV")
    next(b for b in at.button if b.label == "Create link").click().run()
    assert "shown only once" in texts(at)

    token = create_display_link(people, ADMIN, name="Lobby", valid_days=1)
    wall = new_app()
    wall.query_params["display"] = token
    wall.run()
    assert not wall.exception, wall.exception
    said = texts(wall)
    assert (
        "Lobby" in said
        and "CRM sync" in said
        and "Open critical alerts" in str([m.label for m in wall.metric])
    )
    assert not wall.text_input  # no sign-in form
    revoke_display_link(people, ADMIN, 2)
    gone = new_app()
    gone.query_params["display"] = token
    gone.run()
    assert "no longer valid" in texts(gone) and "CRM sync" not in texts(gone)
