"""The Audit log page: entries, filters, and the chain check catching tampering."""

from __future__ import annotations

from sqlalchemy import text

from core.systems import SystemInput, create_system
from tests.conftest import ADMIN
from tests.pages.conftest import sign_in, texts


def open_audit(ws):
    create_system(ws, ADMIN, SystemInput("Zendesk", "other"))
    at = sign_in("admin")
    at.switch_page("pages/audit_log.py").run()
    assert not at.exception
    return at


def test_entries_are_listed_and_filtered(people):
    at = open_audit(people)
    table = at.dataframe[0].value
    assert "Created system Zendesk" in set(table["Summary"])
    assert "Created user editor (editor)" in set(table["Summary"])
    at.selectbox[1].select("system").run()
    table = at.dataframe[0].value
    assert set(table["What"].str.split().str[0]) == {"system"}


def test_verify_reports_an_intact_chain(people):
    at = open_audit(people)
    next(b for b in at.button if b.label == "Verify the chain").click().run()
    assert "The chain is intact" in texts(at)


def test_verify_finds_a_tampered_entry(people):
    at = open_audit(people)
    with people.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_entries SET summary = 'nothing happened' "
                "WHERE summary = 'Created system Zendesk'"
            )
        )
    next(b for b in at.button if b.label == "Verify the chain").click().run()
    assert "The chain is broken at entry #" in texts(at)
    assert "its content was altered" in texts(at)
