"""Roles per domain: the actor a person signs in as, and who may set whose roles where."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from core import account_admin, accounts, domain_roles
from core.errors import InputError, NotFound, PermissionDenied
from core.permissions import DOMAINS, Action, Actor, Role
from core.workspace import Workspace
from db.engine import read_session
from db.models import AuditEntry
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.core.conftest import count_rows


def _add(ws: Workspace, username: str, role: str) -> None:
    accounts.create_user(
        ws,
        ADMIN,
        username=username,
        display_name=username.title(),
        role=role,
        password=f"{username}-password-1",
    )


@pytest.fixture
def team(ws: Workspace) -> Workspace:
    """lena leads Marketing (editor elsewhere), lucy leads Marketing too, max is a viewer,
    boss is a second admin."""
    accounts.ensure_first_admin(ws)
    for username, role in (("lena", "editor"), ("lucy", "viewer"), ("max", "viewer")):
        _add(ws, username, role)
    _add(ws, "boss", "admin")
    domain_roles.set_domain_role(ws, ADMIN, "lena", "Marketing", "lead")
    domain_roles.set_domain_role(ws, ADMIN, "lucy", "Marketing", "lead")
    return ws


def _lena(ws: Workspace) -> Actor:
    return domain_roles.load_actor(ws, "lena")


def _audits(ws: Workspace, action: str) -> list[AuditEntry]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


# --- the actor -----------------------------------------------------------------------------


def test_the_actor_holds_the_base_role_except_where_a_domain_says_otherwise(team) -> None:
    lena = _lena(team)
    assert lena.role is Role.LEAD  # the highest she holds
    assert lena.role_in("Marketing") is Role.LEAD
    assert {lena.role_in(d) for d in DOMAINS if d != "Marketing"} == {Role.EDITOR}
    assert lena.may(Action.MANAGE_DOMAIN_ROLES, "Marketing")
    assert not lena.may(Action.MANAGE_DOMAIN_ROLES, "Sales")
    assert lena.may(Action.MANAGE_DOMAIN_ROLES)  # somewhere: the Users page is hers
    assert not lena.may(Action.MANAGE_USERS)
    assert domain_roles.describe_roles(lena) == "editor · Marketing domain lead"


def test_an_admin_actor_holds_every_domain(team) -> None:
    boss = domain_roles.load_actor(team, "boss")
    assert boss == Actor("boss", Role.ADMIN)
    assert domain_roles.describe_roles(boss) == "admin"


def test_pii_grants_reach_the_actor(team) -> None:
    domain_roles.set_domain_role(team, ADMIN, "max", "Sales", "viewer", pii=True)
    max_ = domain_roles.load_actor(team, "max")
    assert max_.pii_domains == frozenset({"Sales"})
    assert max_.may(Action.VIEW_PII, "Sales")
    assert not max_.may(Action.VIEW_PII, "Marketing")
    assert max_.role is Role.VIEWER
    assert domain_roles.describe_roles(max_) == "viewer · PII in Sales"


def test_an_unknown_user_has_no_actor(team) -> None:
    with pytest.raises(NotFound):
        domain_roles.load_actor(team, "nobody")


def test_roles_per_domain_on_sqlite_and_postgresql(store_ws: Workspace) -> None:
    accounts.ensure_first_admin(store_ws)
    _add(store_ws, "max", "viewer")
    domain_roles.set_domain_roles(
        store_ws, ADMIN, "max", {"Sales": ("lead", False), "Finance": ("editor", True)}
    )
    domain_roles.set_domain_role(store_ws, ADMIN, "max", "Finance", "viewer", pii=True)
    max_ = domain_roles.load_actor(store_ws, "max")
    assert (max_.role, max_.role_in("Sales"), max_.role_in("Finance")) == (
        Role.LEAD,
        Role.LEAD,
        Role.VIEWER,
    )
    assert max_.pii_domains == frozenset({"Finance"})


# --- an admin sets roles -------------------------------------------------------------------


def test_an_admin_sets_any_role_and_it_is_audited(team) -> None:
    roles = domain_roles.set_domain_roles(
        team, ADMIN, "max", {"Finance": ("lead", False), "Sales": ("editor", True)}
    )
    assert roles.domains["Finance"] is Role.LEAD and roles.domains["Sales"] is Role.EDITOR
    assert roles.pii_domains == frozenset({"Sales"})
    entry = _audits(team, "set domain roles")[-1]
    assert entry.entity_id == "max"
    assert json.loads(entry.before_json) == {
        "Finance": {"role": "viewer", "pii": False},
        "Sales": {"role": "viewer", "pii": False},
    }
    assert json.loads(entry.after_json)["Finance"] == {"role": "lead", "pii": False}


def test_back_to_the_base_role_the_domain_follows_the_base_role_again(team) -> None:
    domain_roles.set_domain_role(team, ADMIN, "max", "Finance", "editor")
    domain_roles.set_domain_role(team, ADMIN, "max", "Finance", "viewer")
    domain_roles.set_base_role(team, ADMIN, "max", "editor")
    assert domain_roles.load_actor(team, "max").role_in("Finance") is Role.EDITOR


def test_setting_the_same_role_again_writes_nothing(team) -> None:
    before = count_rows(team, "audit_entries")
    domain_roles.set_domain_role(team, ADMIN, "lena", "Marketing", "lead")
    assert count_rows(team, "audit_entries") == before


def test_bad_input_names_the_field_and_stores_nothing(team) -> None:
    before = count_rows(team, "audit_entries")
    with pytest.raises(InputError) as caught:
        domain_roles.set_domain_roles(
            team, ADMIN, "max", {"Legal": ("editor", False), "Sales": ("owner", False)}
        )
    assert [p.field for p in caught.value.problems] == ["domain", "role in Sales"]
    assert "Marketing, Sales" in str(caught.value)
    assert "lead, editor, viewer" in str(caught.value)
    with pytest.raises(InputError) as caught:
        domain_roles.set_domain_role(team, ADMIN, "max", "Sales", "admin")
    assert caught.value.problems[0].field == "role in Sales"
    with pytest.raises(NotFound):
        domain_roles.set_domain_role(team, ADMIN, "nobody", "Sales", "editor")
    with pytest.raises(InputError) as caught:
        domain_roles.set_domain_role(team, ADMIN, "boss", "Sales", "editor")
    assert "admin and holds every domain" in str(caught.value)
    assert count_rows(team, "audit_entries") == before
    assert domain_roles.load_actor(team, "max").role_in("Sales") is Role.VIEWER


# --- a domain lead sets roles in their domain -----------------------------------------------


def test_a_lead_sets_editor_viewer_and_pii_in_their_domain(team) -> None:
    roles = domain_roles.set_domain_role(team, _lena(team), "max", "Marketing", "editor", True)
    assert roles.domains["Marketing"] is Role.EDITOR
    assert roles.pii_domains == frozenset({"Marketing"})
    assert _audits(team, "set domain roles")[-1].actor == "lena"


@pytest.mark.parametrize(
    ("username", "domain", "role", "error", "said"),
    [
        ("max", "Sales", "editor", PermissionDenied, "in Sales (editor)"),
        ("max", "Marketing", "lead", InputError, "only an admin may make someone a domain lead"),
        ("lucy", "Marketing", "viewer", PermissionDenied, "another lead"),
        ("boss", "Marketing", "viewer", PermissionDenied, "only an admin may change an admin"),
        ("lena", "Marketing", "editor", PermissionDenied, "your own roles"),
    ],
)
def test_what_a_lead_may_not_do(team, username, domain, role, error, said) -> None:
    before = count_rows(team, "audit_entries")
    with pytest.raises(error) as caught:
        domain_roles.set_domain_role(team, _lena(team), username, domain, role)
    assert said in str(caught.value)
    assert count_rows(team, "audit_entries") == before


@pytest.mark.parametrize("actor", [EDITOR, VIEWER])
def test_editors_and_viewers_set_no_roles_and_see_no_list(team, actor) -> None:
    with pytest.raises(PermissionDenied):
        domain_roles.set_domain_role(team, actor, "max", "Marketing", "editor")
    with pytest.raises(PermissionDenied):
        domain_roles.list_people(team, actor)


def test_a_lead_may_not_change_base_roles(team) -> None:
    with pytest.raises(PermissionDenied):
        domain_roles.set_base_role(team, _lena(team), "max", "editor")


# --- base roles and the list ------------------------------------------------------------------


def test_the_list_shows_every_account_with_its_roles_and_no_hash(team) -> None:
    people = {p.username: p for p in domain_roles.list_people(team, _lena(team))}
    assert sorted(people) == ["admin", "boss", "lena", "lucy", "max"]
    assert people["lena"].domains["Marketing"] is Role.LEAD
    assert people["lena"].domains["Sales"] is Role.EDITOR
    assert set(people["admin"].domains.values()) == {Role.ADMIN}
    assert not any("password" in repr(p).lower() for p in people.values())


def test_an_admin_changes_a_base_role(team) -> None:
    roles = domain_roles.set_base_role(team, ADMIN, "max", "lead")
    assert set(roles.domains.values()) == {Role.LEAD}
    entry = _audits(team, "set base role")[-1]
    assert (json.loads(entry.before_json), json.loads(entry.after_json)) == (
        {"role": "viewer"},
        {"role": "lead"},
    )


def test_making_someone_admin_removes_their_domain_roles(team) -> None:
    domain_roles.set_base_role(team, ADMIN, "lena", "admin")
    assert domain_roles.load_actor(team, "lena") == Actor("lena", Role.ADMIN)
    domain_roles.set_base_role(team, ADMIN, "lena", "editor")
    assert domain_roles.load_actor(team, "lena").role_in("Marketing") is Role.EDITOR


def test_base_role_bad_input_and_the_last_admin(team) -> None:
    with pytest.raises(InputError) as caught:
        domain_roles.set_base_role(team, ADMIN, "max", "owner")
    assert caught.value.problems[0].field == "base role"
    with pytest.raises(PermissionDenied) as caught:
        domain_roles.set_base_role(team, ADMIN, "admin", "viewer")
    assert "your own base role" in str(caught.value)
    with pytest.raises(NotFound):
        domain_roles.set_base_role(team, ADMIN, "nobody", "viewer")
    account_admin.disable_user(team, ADMIN, "boss")
    with pytest.raises(PermissionDenied) as caught:
        domain_roles.set_base_role(team, Actor("root", Role.ADMIN), "admin", "viewer")
    assert "last active admin" in str(caught.value)
    assert domain_roles.load_actor(team, "admin").role is Role.ADMIN
