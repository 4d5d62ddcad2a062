"""Configured connectors: validation with nothing stored on bad input, secrets kept or
replaced on update, permissions, and secrets kept out of every printed form."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.connectors.catalog import Catalog, default_catalog
from core.connectors.registry import (
    ConnectorInput,
    create_connector,
    delete_connector,
    draft_connection,
    get_connector,
    list_connectors,
    load_connection,
    update_connector,
)
from core.errors import InputError, NotFound, PermissionDenied
from core.workspace import Workspace
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.core.conftest import OTHER_TOKEN, TOKEN, count_rows, stored_counts, token_input

VALUES = {"access_token": TOKEN, "account_id": "12345", "region": "eu"}

BAD_FORMS = {
    "empty name": (token_input("   "), "Name"),
    "name too long": (token_input("x" * 81), "Name"),
    "misspelt scheme": (token_input(base_url="htp://x"), "Base URL"),
    "no host": (token_input(base_url="https://"), "Base URL"),
    "space in host": (token_input(base_url="https://exa mple.com"), "Base URL"),
    "empty base URL": (token_input(base_url=""), "Base URL"),
    "bad port": (token_input(base_url="https://api.example.com:99999"), "Base URL"),
    "required field missing": (
        token_input(values={"access_token": TOKEN, "region": "eu"}),
        "Account ID",
    ),
    "secret missing": (token_input(values={"account_id": "12345"}), "Access token"),
    "secret of only spaces": (
        token_input(values={**VALUES, "access_token": "   \t "}),
        "Access token",
    ),
    "value not matching the pattern": (
        token_input(values={**VALUES, "account_id": "12a45"}),
        "Account ID",
    ),
    "secret not matching the pattern": (
        token_input(values={**VALUES, "access_token": "Bearer abc"}),
        "Access token",
    ),
    "option not offered": (token_input(values={**VALUES, "region": "mars"}), "Region"),
    "unknown domain": (token_input(domain="Marketting"), "Domain"),
    "unknown system": (token_input(system_id=4242), "System"),
    "field the template lacks": (token_input(values={**VALUES, "password": "x"}), "Form"),
    "unknown template": (token_input(template_id="hubspot_v9"), "Template"),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
def test_bad_input_names_the_field_and_stores_nothing(
    ws: Workspace,
    catalog: Catalog,
    case: str,
) -> None:
    create_connector(ws, EDITOR, token_input("Existing"), catalog)
    before = stored_counts(ws)
    form, field = BAD_FORMS[case]

    with pytest.raises(InputError) as caught:
        create_connector(ws, EDITOR, form, catalog)

    assert field in [p.field for p in caught.value.problems], caught.value.problems
    assert all(p.message for p in caught.value.problems)
    assert TOKEN not in str(caught.value)
    assert stored_counts(ws) == before


def test_a_duplicate_name_is_refused_whatever_its_case(ws: Workspace, catalog: Catalog) -> None:
    create_connector(ws, EDITOR, token_input("Main CRM"), catalog)
    before = stored_counts(ws)
    for name in ("Main CRM", "main crm", "  MAIN CRM  "):
        with pytest.raises(InputError) as caught:
            create_connector(ws, EDITOR, token_input(name), catalog)
        assert [p.field for p in caught.value.problems] == ["Name"]
        assert "already used" in str(caught.value)
    assert stored_counts(ws) == before


def test_an_unknown_template_lists_the_valid_ones(ws: Workspace, catalog: Catalog) -> None:
    with pytest.raises(InputError) as caught:
        create_connector(ws, EDITOR, token_input(template_id="hubspot_v9"), catalog)
    assert "hubspot_v9" in str(caught.value)
    assert "token_api" in str(caught.value)


def test_every_problem_is_reported_at_once(ws: Workspace, catalog: Catalog) -> None:
    form = token_input(
        "",
        base_url="htp://x",
        values={"access_token": " ", "account_id": "abc", "region": "mars"},
    )
    with pytest.raises(InputError) as caught:
        create_connector(ws, EDITOR, form, catalog)
    assert [p.field for p in caught.value.problems] == [
        "Name",
        "Base URL",
        "Access token",
        "Account ID",
        "Region",
    ]


def test_a_created_connector_shows_only_the_end_of_its_secret(
    ws: Workspace, catalog: Catalog
) -> None:
    view = create_connector(
        ws, EDITOR, token_input("  Main CRM ", base_url=" https://api.example.com/ "), catalog
    )
    assert (view.name, view.base_url, view.template_name) == (
        "Main CRM",
        "https://api.example.com",
        "Token API",
    )
    assert view.secret_hints == {"access_token": "••••1111"}
    assert TOKEN not in repr(view)
    assert TOKEN not in repr(list_connectors(ws, VIEWER, catalog))


def test_a_short_secret_shows_no_characters(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(
        ws, EDITOR, token_input(values={**VALUES, "access_token": "pat-a-b"}), catalog
    )
    assert view.secret_hints == {"access_token": "••••"}


def test_update_with_a_blank_secret_keeps_the_stored_one(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input(), catalog)
    form = token_input("Renamed", values={"access_token": "", "account_id": "999"})
    updated = update_connector(ws, EDITOR, view.id, form, catalog)

    assert updated.name == "Renamed"
    assert updated.secret_hints == {"access_token": "••••1111"}
    connection = load_connection(ws, view.id, catalog)
    assert connection.values == {"access_token": TOKEN, "account_id": "999", "region": ""}
    assert count_rows(ws, "connector_secrets") == 1


def test_update_replaces_a_secret(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input(), catalog)
    form = token_input(values={**VALUES, "access_token": f"  {OTHER_TOKEN}  "})
    updated = update_connector(ws, EDITOR, view.id, form, catalog)

    assert updated.secret_hints == {"access_token": "••••2222"}
    assert load_connection(ws, view.id, catalog).values["access_token"] == OTHER_TOKEN
    assert count_rows(ws, "connector_secrets") == 1


def test_a_bad_update_changes_nothing(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input("Main CRM"), catalog)
    other = create_connector(ws, EDITOR, token_input("Other CRM"), catalog)
    before = stored_counts(ws)

    bad_forms = [
        token_input("Other CRM", values={**VALUES, "access_token": OTHER_TOKEN}),
        token_input("New name", values={**VALUES, "access_token": "   "}),
        token_input("New name", base_url="https://"),
        token_input("New name", template_id="another"),
    ]
    for form in bad_forms:
        with pytest.raises(InputError):
            update_connector(ws, EDITOR, view.id, form, catalog)

    assert stored_counts(ws) == before
    assert get_connector(ws, EDITOR, view.id, catalog).name == "Main CRM"
    assert load_connection(ws, view.id, catalog).values["access_token"] == TOKEN
    assert get_connector(ws, EDITOR, other.id, catalog).name == "Other CRM"


def test_a_connector_may_keep_its_own_name(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input("Main CRM"), catalog)
    update_connector(ws, EDITOR, view.id, token_input("main crm"), catalog)
    assert get_connector(ws, EDITOR, view.id, catalog).name == "main crm"


def test_delete_removes_the_connector_and_its_secrets(ws: Workspace, catalog: Catalog) -> None:
    keep = create_connector(ws, EDITOR, token_input("Keep"), catalog)
    gone = create_connector(ws, EDITOR, token_input("Gone"), catalog)
    delete_connector(ws, EDITOR, gone.id)

    with ws.engine.connect() as conn:
        left = conn.execute(text("SELECT connector_id FROM connector_secrets")).scalars().all()
    assert left == [keep.id]
    with pytest.raises(NotFound):
        get_connector(ws, EDITOR, gone.id, catalog)
    with pytest.raises(NotFound):
        load_connection(ws, gone.id, catalog)
    with pytest.raises(NotFound):
        delete_connector(ws, EDITOR, gone.id)
    assert [c.name for c in list_connectors(ws, EDITOR, catalog)] == ["Keep"]


def test_a_viewer_may_list_but_not_change(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, ADMIN, token_input("Main CRM"), catalog)
    before = stored_counts(ws)

    with pytest.raises(PermissionDenied):
        create_connector(ws, VIEWER, token_input("Another"), catalog)
    with pytest.raises(PermissionDenied):
        update_connector(ws, VIEWER, view.id, token_input("Renamed"), catalog)
    with pytest.raises(PermissionDenied):
        delete_connector(ws, VIEWER, view.id)
    with pytest.raises(PermissionDenied):
        draft_connection(ws, VIEWER, token_input("Draft"), catalog=catalog)

    assert stored_counts(ws) == before
    assert [c.name for c in list_connectors(ws, VIEWER, catalog)] == ["Main CRM"]
    assert get_connector(ws, VIEWER, view.id, catalog).secret_hints == {"access_token": "••••1111"}


def test_a_connection_never_prints_its_secrets(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input(), catalog)
    connection = load_connection(ws, view.id, catalog)
    assert connection.values["access_token"] == TOKEN
    for shown in (repr(connection), str(connection), f"{connection!r}", repr([connection])):
        assert TOKEN not in shown
        assert "Main CRM" in shown


def test_a_draft_falls_back_to_the_stored_secret(ws: Workspace, catalog: Catalog) -> None:
    view = create_connector(ws, EDITOR, token_input(), catalog)
    form = token_input(values={"access_token": "", "account_id": "777"})
    draft = draft_connection(ws, EDITOR, form, connector_id=view.id, catalog=catalog)
    assert draft.values["access_token"] == TOKEN
    assert draft.values["account_id"] == "777"
    assert TOKEN not in repr(draft)
    assert stored_counts(ws)["audit_entries"] == 1


def test_the_shipped_hubspot_template_checks_its_token(ws: Workspace) -> None:
    form = ConnectorInput(
        name="HubSpot",
        template_id="hubspot",
        base_url="https://api.hubapi.com",
        values={"access_token": "sk_live_not_a_hubspot_token"},
    )
    with pytest.raises(InputError) as caught:
        create_connector(ws, EDITOR, form, default_catalog())
    assert "pat-" in str(caught.value)
    assert "sk_live_not_a_hubspot_token" not in str(caught.value)
    assert count_rows(ws, "connectors") == 0
