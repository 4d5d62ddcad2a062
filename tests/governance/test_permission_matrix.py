"""Every role in every domain against every write in ``core``.

A write is one entry of ``WRITES``: what it is called, the action it takes, how to build
what it changes in a domain, and how to call it. For each entry, each domain D and each
role R, a person holding R in D (viewer everywhere else) is allowed iff R is at least the
action's minimum role; refused, they get PermissionDenied naming D and nothing is written.
An editor or lead of another domain is refused too: a right held elsewhere is not a right
here. Workspace-wide writes (users, display links, vendor evaluations, alert channels and
policy) are checked against their global rule only.

The matrix shares one SQLite workspace per module: a fresh one per case would spend
minutes on migrations. Every case builds its own objects, with its own names.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.accounts import create_user
from core.alert_channels import ChannelInput, save_channel
from core.alerts import acknowledge, create_silence, end_silence, update_level
from core.conflicts import resolve_conflict
from core.connectors.catalog import Catalog, parse_template
from core.connectors.registry import (
    create_connector,
    delete_connector,
    record_test_result,
    update_connector,
)
from core.consent import set_flow_consent
from core.dictionary import DictionaryEdit, revert_change, save_edit
from core.dictionary_csv import import_csv, preview_import
from core.domain_roles import set_domain_role
from core.errors import PermissionDenied
from core.gateway import Gateway
from core.health_checks import CheckInput, ensure_default_checks, run_check_now, update_check
from core.integrations import (
    IntegrationInput,
    create_integration,
    delete_integration,
    set_enabled,
    update_integration,
)
from core.permissions import DOMAINS, MINIMUM_ROLE, Action, Actor, Role
from core.pii import email_digest
from core.privacy import create_request
from core.privacy_delete import execute_request
from core.retention import PolicyInput, delete_policy, set_policy
from core.runs import request_cancel, request_run
from core.settings import load_settings
from core.systems import SystemInput, create_system, delete_system, update_system
from core.vendor_scoring import create_evaluation
from core.wall_screen import create_display_link, list_display_links, revoke_display_link
from core.workspace import Workspace, open_workspace, transaction
from db.dictionary import DictionaryField, DictionaryFieldVersion
from db.models import Connector, FieldConflict, HubRecord, Integration, IntegrationRun, System
from db.monitoring import Alert, HealthCheck, Silence
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.core.conftest import TOKEN_API_YAML, token_input

CATALOG = Catalog({"token_api": parse_template(TOKEN_API_YAML, "token_api.yaml")})
ROLES = (Role.ADMIN, Role.LEAD, Role.EDITOR, Role.VIEWER)
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_numbers)}"


def actor_in(role: Role, domain: str) -> Actor:
    """A person holding ``role`` in ``domain`` and viewer everywhere else."""
    if role is Role.ADMIN:
        return Actor("admin-matrix", Role.ADMIN)
    return Actor(f"{role.value}-of-{domain.lower()}", role, domains={domain: role})


def elsewhere(domain: str) -> str:
    return DOMAINS[(DOMAINS.index(domain) + 1) % len(DOMAINS)]


# --- building what a write changes, in a domain -------------------------------------


def _pair(ws: Workspace) -> tuple[int, int]:
    """The two systems every flow of the matrix runs between (made once)."""
    with transaction(ws) as session:
        ids = []
        for name, category in (("Matrix source", "crm"), ("Matrix target", "warehouse")):
            system = session.exec(select(System).where(System.name == name)).first()
            if system is None:
                system = System(name=name, category=category)
                session.add(system)
                session.flush()
            ids.append(system.id)
        return ids[0], ids[1]


def system_in(ws: Workspace, domain: str) -> int:
    return create_system(ws, ADMIN, SystemInput(unique("System"), "crm", domain=domain)).id


def connector_in(ws: Workspace, domain: str) -> int:
    return create_connector(ws, ADMIN, token_input(unique("Connector"), domain=domain), CATALOG).id


def flow_in(ws: Workspace, domain: str, method: str = "api") -> int:
    """A flow row with a source connector and stream, so the worker could run it."""
    source, target = _pair(ws)
    connector = connector_in(ws, domain)
    with transaction(ws) as session:
        flow = Integration(name=unique("Flow"), source_system_id=source,
                           destination_system_id=target, data="Contacts", frequency="hourly",
                           method=method, domain=domain, source_connector_id=connector,
                           source_stream="contacts")  # fmt: skip
        session.add(flow)
        session.flush()
        return flow.id


def flow_form(ws: Workspace, domain: str, **changes: Any) -> IntegrationInput:
    source, target = _pair(ws)
    fields = dict(name=unique("Flow"), source_system_id=source, destination_system_id=target,
                  data="Contacts", frequency="hourly", method="native", domain=domain)  # fmt: skip
    return IntegrationInput(**{**fields, **changes})


def registered_flow(ws: Workspace, domain: str) -> tuple[int, IntegrationInput]:
    form = flow_form(ws, domain)
    return create_integration(ws, ADMIN, form).id, form


def check_in(ws: Workspace, domain: str) -> int:
    flow_id = flow_in(ws, domain)
    with transaction(ws) as session:
        check = HealthCheck(integration_id=flow_id, kind="success_rate", threshold=95)
        session.add(check)
        session.flush()
        return check.id


def open_alert_in(ws: Workspace, domain: str) -> int:
    check_id = check_in(ws, domain)
    with transaction(ws) as session:
        check = session.get(HealthCheck, check_id)
        alert = Alert(check_id=check_id, integration_id=check.integration_id, severity="high",
                      level="high", title="Matrix alert", dedup_key=f"matrix-{check_id}")  # fmt: skip
        session.add(alert)
        session.flush()
        return alert.id


def silence_in(ws: Workspace, domain: str) -> int:
    flow_id = flow_in(ws, domain)
    now = datetime.now(UTC)
    with transaction(ws) as session:
        silence = Silence(integration_id=flow_id, starts_at=now, ends_at=now + timedelta(hours=1),
                          reason="Matrix", created_by="admin")  # fmt: skip
        session.add(silence)
        session.flush()
        return silence.id


def queued_run_in(ws: Workspace, domain: str) -> int:
    flow_id = flow_in(ws, domain)
    with transaction(ws) as session:
        run = IntegrationRun(integration_id=flow_id, trigger="manual")
        session.add(run)
        session.flush()
        return run.id


def field_row(ws: Workspace, domain: str, name: str | None = None) -> dict[str, Any]:
    """A dictionary row (as the grid sends it) of ``domain`` on the matrix's source system."""
    return {"name": name or unique("field").replace(" ", "_"), "system": "Matrix source",
            "data_type": "String", "domain": domain}  # fmt: skip


def field_in(ws: Workspace, domain: str) -> int:
    _pair(ws)
    row = field_row(ws, domain)
    save_edit(ws, ADMIN, DictionaryEdit(added=[row]))
    with transaction(ws) as session:
        return session.exec(
            select(DictionaryField.id).where(DictionaryField.name == row["name"])
        ).one()


def change_of_field_in(ws: Workspace, domain: str) -> int:
    """The id of a version that changed a field's description: something to revert."""
    field_id = field_in(ws, domain)
    save_edit(ws, ADMIN, DictionaryEdit(updates={field_id: {"description": "changed"}}))
    with transaction(ws) as session:
        return session.exec(
            select(DictionaryFieldVersion.id).where(
                DictionaryFieldVersion.field_id == field_id, DictionaryFieldVersion.version == 2
            )
        ).one()


def csv_in(ws: Workspace, domain: str) -> bytes:
    _pair(ws)
    name = unique("csv_field").replace(" ", "_")
    return f"Name,System,Type,Domain\n{name},Matrix source,String,{domain}\n".encode()


def person_to_promote(ws: Workspace, domain: str) -> tuple[str, str]:
    """A viewer account (made once) and the domain whose role in it is to be set."""
    with transaction(ws) as session:
        known = session.execute(text("SELECT 1 FROM users WHERE username = 'matrix.person'"))
        if known.first():
            return "matrix.person", domain
    create_user(ws, ADMIN, username="matrix.person", display_name="Matrix person",
                role="viewer", password=ADMIN_PASSWORD)  # fmt: skip
    return "matrix.person", domain


def display_link(ws: Workspace, _domain: str) -> int:
    name = unique("Screen")
    create_display_link(ws, ADMIN, name=name, valid_days=30)
    return next(link["id"] for link in list_display_links(ws, ADMIN) if link["name"] == name)


def policy_in(ws: Workspace, domain: str) -> int:
    return set_policy(ws, ADMIN, PolicyInput(domain, "run_history", next(_numbers) % 900 + 30)).id


def conflict_in(ws: Workspace, domain: str) -> int:
    """An open review-queue conflict met by a run of a flow of ``domain``."""
    run_id = queued_run_in(ws, domain)
    with transaction(ws) as session:
        conflict = FieldConflict(entity="contact", external_key=unique("key"), field="stage",
                                 current_value="lead", incoming_value="customer", run_id=run_id)  # fmt: skip
        session.add(conflict)
        session.flush()
        return conflict.id


def person_in_hub(ws: Workspace, _domain: str) -> str:
    """An e-mail the hub holds a record of: someone who may ask to be deleted."""
    email = f"person{next(_numbers)}@example.com"
    digest = email_digest(ws, email)  # before the transaction: it may create the digest key
    with transaction(ws) as session:
        session.add(HubRecord(entity="contact", external_key=email.split("@")[0],
                              email_digest=digest))  # fmt: skip
    return email


def privacy_request_for(ws: Workspace, domain: str) -> int:
    """A request for a person whose hub record a run of a flow of ``domain`` wrote."""
    email = person_in_hub(ws, domain)
    run_id = queued_run_in(ws, domain)
    with transaction(ws) as session:
        row = session.exec(
            select(HubRecord).where(HubRecord.external_key == email.split("@")[0])
        ).one()
        row.last_run_id = run_id
        session.add(row)
    return create_request(ws, ADMIN, email, "gdpr").id


def nothing(_ws: Workspace, _domain: str) -> None:
    return None


# --- the writes ---------------------------------------------------------------------------

# integrations.py checks the domain of the flow once its owner fixes it; until then its
# refusals do not name the domain, and a right held elsewhere passes


@dataclass(frozen=True)
class Write:
    name: str
    action: Action
    setup: Callable[[Workspace, str], Any]
    call: Callable[[Workspace, Actor, Any], object]
    # the tables it writes: compared before and after a refusal, with the audit trail
    tables: tuple[str, ...]
    # workspace-wide: no domain, only the global rule
    global_rule: bool = False
    # refusals by a right held elsewhere expected to fail until the module is fixed
    pending: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


WRITES: list[Write] = [
    Write("create_connector", Action.MANAGE_CONNECTORS,
          lambda ws, d: token_input(unique("Connector"), domain=d),
          lambda ws, a, form: create_connector(ws, a, form, CATALOG), ("connectors",)),
    Write("edit_connector", Action.MANAGE_CONNECTORS, connector_in,
          lambda ws, a, i: update_connector(ws, a, i, _same_connector(ws, i), CATALOG),
          ("connectors", "connector_secrets")),
    Write("delete_connector", Action.MANAGE_CONNECTORS, connector_in,
          lambda ws, a, i: delete_connector(ws, a, i), ("connectors", "connector_secrets")),
    Write("record_connection_test", Action.TEST_CONNECTORS, connector_in,
          lambda ws, a, i: record_test_result(ws, a, i, True, "Connected"), ("connectors",)),
    Write("create_system", Action.MANAGE_SYSTEMS,
          lambda ws, d: SystemInput(unique("System"), "crm", domain=d),
          lambda ws, a, form: create_system(ws, a, form), ("systems",)),
    Write("edit_system", Action.MANAGE_SYSTEMS, system_in,
          lambda ws, a, i: update_system(ws, a, i, _same_system(ws, i, vendor="Renamed")),
          ("systems",)),
    Write("delete_system", Action.MANAGE_SYSTEMS, system_in,
          lambda ws, a, i: delete_system(ws, a, i), ("systems",)),
    Write("run_flow", Action.RUN_INTEGRATIONS, flow_in,
          lambda ws, a, i: request_run(ws, a, i), ("integration_runs",)),
    Write("cancel_run", Action.RUN_INTEGRATIONS, queued_run_in,
          lambda ws, a, i: request_cancel(ws, a, i), ("integration_runs",)),
    Write("add_dictionary_field", Action.EDIT_DICTIONARY, field_row,
          lambda ws, a, row: save_edit(ws, a, DictionaryEdit(added=[row])),
          ("dictionary_fields", "dictionary_field_versions")),
    Write("edit_dictionary", Action.EDIT_DICTIONARY, field_in,
          lambda ws, a, i: save_edit(ws, a, DictionaryEdit(updates={i: {"example": "x"}})),
          ("dictionary_fields", "dictionary_field_versions")),
    Write("delete_dictionary_field", Action.EDIT_DICTIONARY, field_in,
          lambda ws, a, i: save_edit(ws, a, DictionaryEdit(deleted=[i])),
          ("dictionary_fields", "dictionary_field_versions")),
    Write("revert_dictionary_change", Action.EDIT_DICTIONARY, change_of_field_in,
          lambda ws, a, i: revert_change(ws, a, i),
          ("dictionary_fields", "dictionary_field_versions")),
    Write("import_dictionary_csv", Action.EDIT_DICTIONARY, csv_in,
          lambda ws, a, data: import_csv(ws, a, data),
          ("dictionary_fields", "dictionary_field_versions")),
    Write("edit_health_check", Action.MANAGE_MONITORING, check_in,
          lambda ws, a, i: update_check(ws, a, i, CheckInput(90, 30, "high")), ("health_checks",)),
    Write("run_health_check", Action.MANAGE_MONITORING, check_in,
          lambda ws, a, i: run_check_now(ws, a, i),
          ("health_checks", "check_results", "alerts")),
    Write("acknowledge_alert", Action.HANDLE_ALERTS, open_alert_in,
          lambda ws, a, i: acknowledge(ws, a, i), ("alerts", "alert_deliveries")),
    Write("silence_flow", Action.HANDLE_ALERTS, flow_in,
          lambda ws, a, i: create_silence(ws, a, integration_id=i, kind="silence",
                                          starts_at=_now(), ends_at=_now() + timedelta(hours=1),
                                          reason="Deploy"),
          ("silences",)),
    Write("end_flow_silence", Action.HANDLE_ALERTS, silence_in,
          lambda ws, a, i: end_silence(ws, a, i), ("silences",)),
    Write("set_domain_role", Action.MANAGE_DOMAIN_ROLES, person_to_promote,
          lambda ws, a, who: set_domain_role(ws, a, who[0], who[1], "editor"),
          ("user_domain_roles",)),
    Write("create_flow", Action.MANAGE_INTEGRATIONS, flow_form,
          lambda ws, a, form: create_integration(ws, a, form), ("integrations",)),
    Write("edit_flow", Action.MANAGE_INTEGRATIONS, registered_flow,
          lambda ws, a, f: update_integration(ws, a, f[0], _renamed(f[1]), []),
          ("integrations", "field_mappings")),
    Write("set_flow_mappings", Action.MANAGE_INTEGRATIONS, registered_flow,
          lambda ws, a, f: update_integration(ws, a, f[0], f[1], [("email", "email")]),
          ("integrations", "field_mappings")),
    Write("disable_flow", Action.MANAGE_INTEGRATIONS, registered_flow,
          lambda ws, a, f: set_enabled(ws, a, f[0], False), ("integrations",)),
    Write("enable_flow", Action.MANAGE_INTEGRATIONS, registered_flow,
          lambda ws, a, f: set_enabled(ws, a, f[0], True), ("integrations",)),
    Write("delete_flow", Action.MANAGE_INTEGRATIONS, registered_flow,
          lambda ws, a, f: delete_integration(ws, a, f[0]), ("integrations", "field_mappings")),
    Write("set_flow_consent", Action.MANAGE_INTEGRATIONS, flow_in,
          lambda ws, a, i: set_flow_consent(
              ws, a, i, {"email_marketing": {"field": "status", "granted": ["subscribed"]}},
              "email_marketing"),
          ("integrations",)),
    Write("resolve_conflict", Action.RESOLVE_CONFLICTS, conflict_in,
          lambda ws, a, i: resolve_conflict(ws, a, i, take_incoming=False),
          ("field_conflicts", "hub_records")),
    Write("set_retention_policy", Action.MANAGE_RETENTION,
          lambda ws, d: PolicyInput(d, "call_metrics", next(_numbers) % 900 + 30),
          lambda ws, a, form: set_policy(ws, a, form), ("retention_policies",)),
    Write("delete_retention_policy", Action.MANAGE_RETENTION, policy_in,
          lambda ws, a, i: delete_policy(ws, a, i), ("retention_policies",)),
    # workspace-wide
    Write("create_user", Action.MANAGE_USERS, nothing,
          lambda ws, a, _: create_user(ws, a, username=unique("u").replace(" ", ""),
                                       display_name="New person", role="viewer",
                                       password=ADMIN_PASSWORD),
          ("users",), global_rule=True),
    Write("create_display_link", Action.MANAGE_DISPLAY_LINKS, nothing,
          lambda ws, a, _: create_display_link(ws, a, name=unique("Screen"), valid_days=7),
          ("display_links",), global_rule=True),
    Write("revoke_display_link", Action.MANAGE_DISPLAY_LINKS, display_link,
          lambda ws, a, i: revoke_display_link(ws, a, i),
          ("display_links",), global_rule=True),
    Write("create_vendor_evaluation", Action.MANAGE_EVALUATIONS, nothing,
          lambda ws, a, _: create_evaluation(ws, a, unique("Selection")),
          ("evaluations",), global_rule=True),
    Write("save_alert_channel", Action.MANAGE_MONITORING, nothing,
          lambda ws, a, _: save_channel(ws, a, ChannelInput(
              unique("Hook"), "webhook", config={"url": "https://example.com/hooks/alerts"})),
          ("alert_channels",), global_rule=True),
    Write("change_alert_policy", Action.MANAGE_MONITORING, nothing,
          lambda ws, a, _: update_level(ws, a, "low", response_minutes=next(_numbers) % 600 + 1,
                                        channel_ids=[], escalate_to=""),
          ("alert_levels",), global_rule=True),
    Write("create_privacy_request", Action.HANDLE_PRIVACY_REQUESTS, person_in_hub,
          lambda ws, a, email: create_request(ws, a, email, "ccpa"),
          ("privacy_requests",), global_rule=True),
    Write("execute_privacy_request", Action.HANDLE_PRIVACY_REQUESTS, privacy_request_for,
          lambda ws, a, i: execute_request(ws, a, i, Gateway()),
          ("privacy_requests", "suppressions", "hub_records")),
    Write("silence_every_flow", Action.HANDLE_ALERTS, nothing,
          lambda ws, a, _: create_silence(ws, a, integration_id=None, kind="maintenance",
                                          starts_at=_now(), ends_at=_now() + timedelta(hours=1),
                                          reason="Upgrade"),
          ("silences",), global_rule=True),
]  # fmt: skip


def _same_connector(ws: Workspace, connector_id: int, domain: str | None = None):  # noqa: ANN202
    """The connector's form with a new base URL (and domain, when given); secret kept."""
    with transaction(ws) as session:
        connector = session.get(Connector, connector_id)
        name, domain = connector.name, domain or connector.domain
    return token_input(name, domain=domain, base_url="https://api2.example.com",
                       values={"access_token": "", "account_id": "777"})  # fmt: skip


def _same_system(ws: Workspace, system_id: int, **changes: Any) -> SystemInput:
    with transaction(ws) as session:
        s = session.get(System, system_id)
        fields = dict(name=s.name, category=s.category, vendor=s.vendor, domain=s.domain)
    return SystemInput(**{**fields, **changes})


def _renamed(form: IntegrationInput) -> IntegrationInput:
    return IntegrationInput(**{**form.__dict__, "description": "Changed"})


# --- the matrix ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One SQLite workspace for the whole matrix, opened like the ``ws`` fixture."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path_factory.mktemp("matrix") / "data"))
        patch.setenv("SWITCHBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        for name in ("DATABASE_URL", "SWITCHBOARD_SECRET_KEY", "SWITCHBOARD_NEW_SECRET_KEY"):
            patch.delenv(name, raising=False)
        yield open_workspace(load_settings())


def snapshot(ws: Workspace, tables: tuple[str, ...]) -> dict[str, list]:
    """Every row of the tables a write touches, and the audit trail's length."""
    with ws.engine.connect() as conn:
        rows = {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
                for t in tables}  # fmt: skip
        rows["audit_entries"] = [conn.execute(text("SELECT COUNT(*) FROM audit_entries")).one()]
    return rows


def allowed(role: Role, action: Action) -> bool:
    return role.rank >= MINIMUM_ROLE[action].rank


def assert_refused(ws: Workspace, write: Write, actor: Actor, obj: Any, domain: str | None):
    before = snapshot(ws, write.tables)
    with pytest.raises(PermissionDenied) as refused:
        write.call(ws, actor, obj)
    if domain is not None:
        assert domain in str(refused.value), str(refused.value)
    assert snapshot(ws, write.tables) == before, "a refused write changed the store"


def _pending(write: Write) -> tuple:
    return (pytest.mark.xfail(strict=True, reason=write.pending),) if write.pending else ()


def _matrix() -> Iterator[Any]:
    for write in WRITES:
        domains = DOMAINS[-1:] if write.global_rule else DOMAINS
        for domain in domains:
            for role in ROLES:
                case_id = (
                    f"{write.name}-{role.value}"
                    if write.global_rule
                    else f"{write.name}-{domain}-{role.value}"
                )
                yield pytest.param(write, domain, role, id=case_id)


def _elsewhere() -> Iterator[Any]:
    for write in WRITES:
        if not write.global_rule:
            for domain in DOMAINS:
                case_id = f"{write.name}-{domain}-by-{elsewhere(domain)}"
                yield pytest.param(write, domain, id=case_id, marks=_pending(write))


@pytest.mark.parametrize(("write", "domain", "role"), list(_matrix()))
def test_role_in_the_domain_decides(matrix_ws: Workspace, write: Write, domain: str, role: Role):
    obj = write.setup(matrix_ws, domain)
    actor = actor_in(role, domain)
    if allowed(role, write.action):
        write.call(matrix_ws, actor, obj)
    else:
        # a viewer everywhere is refused before the domain is looked at: no domain to name
        assert_refused(matrix_ws, write, actor, obj, None)


@pytest.mark.parametrize(("write", "domain"), list(_elsewhere()))
def test_a_role_held_in_another_domain_is_not_enough(
    matrix_ws: Workspace, write: Write, domain: str
):
    """An editor and a lead of the next domain, viewers in this one, are both refused
    (the object is shared: a refusal writes nothing)."""
    obj = write.setup(matrix_ws, domain)
    for role in (Role.EDITOR, Role.LEAD):
        if allowed(role, write.action):
            assert_refused(matrix_ws, write, actor_in(role, elsewhere(domain)), obj, domain)


# --- moving to another domain, and writes that reach across domains -----------------------

MOVES = {
    "connector": (connector_in, ("connectors",), lambda ws, a, i, to: update_connector(
        ws, a, i, _same_connector(ws, i, to), CATALOG)),
    "system": (system_in, ("systems",), lambda ws, a, i, to: update_system(
        ws, a, i, _same_system(ws, i, domain=to))),
    "dictionary field": (field_in, ("dictionary_fields",), lambda ws, a, i, to: save_edit(
        ws, a, DictionaryEdit(updates={i: {"domain": to}}))),
    "flow": (registered_flow, ("integrations",), lambda ws, a, f, to: update_integration(
        ws, a, f[0], IntegrationInput(**{**f[1].__dict__, "domain": to}), [])),
}  # fmt: skip


@pytest.mark.parametrize(
    "kind",
    [k for k in MOVES],
)
def test_moving_to_another_domain_takes_the_right_in_both(matrix_ws: Workspace, kind: str):
    setup, tables, move = MOVES[kind]
    ws, old, new = matrix_ws, "Marketing", "Finance"
    for holds, missing in (({old}, new), ({new}, old)):
        obj = setup(ws, old)
        actor = Actor("editor-of-one", Role.EDITOR, {d: Role.EDITOR for d in holds})
        before = snapshot(ws, tables)
        with pytest.raises(PermissionDenied, match=missing):
            move(ws, actor, obj, new)
        assert snapshot(ws, tables) == before
    both = Actor("editor-of-both", Role.EDITOR, {old: Role.EDITOR, new: Role.EDITOR})
    move(ws, both, setup(ws, old), new)


def test_a_csv_import_touching_a_domain_the_actor_may_not_edit_is_refused_whole(
    matrix_ws: Workspace,
):
    _pair(matrix_ws)
    data = (
        b"Name,System,Type,Domain\n"
        b"csv_ok_1,Matrix source,String,Marketing\n"
        b"csv_finance_1,Matrix source,String,Finance\n"
        b"csv_product_1,Matrix source,String,Product\n"
    )
    marketing_editor = actor_in(Role.EDITOR, "Marketing")
    preview = preview_import(matrix_ws, marketing_editor, data)
    assert not preview.ok
    assert {(p.row, p.column) for p in preview.problems} == {
        ("Line 3", "Domain"),
        ("Line 4", "Domain"),
    }
    before = snapshot(matrix_ws, ("dictionary_fields", "dictionary_field_versions"))
    with pytest.raises(PermissionDenied) as refused:
        import_csv(matrix_ws, marketing_editor, data)
    message = str(refused.value)
    assert "Line 3 in Finance" in message and "Line 4 in Product" in message
    assert "Line 2" not in message
    assert snapshot(matrix_ws, ("dictionary_fields", "dictionary_field_versions")) == before


def test_a_grid_save_with_one_row_of_another_domain_writes_nothing(matrix_ws: Workspace):
    ws, marketing_editor = matrix_ws, actor_in(Role.EDITOR, "Marketing")
    mine, theirs = field_in(ws, "Marketing"), field_in(ws, "Sales")
    edit = DictionaryEdit(
        updates={mine: {"example": "a"}, theirs: {"example": "b"}},
        added=[field_row(ws, "Marketing")],
        rows={mine: "Row 1", theirs: "Row 2"},
    )
    before = snapshot(ws, ("dictionary_fields", "dictionary_field_versions"))
    with pytest.raises(PermissionDenied, match=r"Row 2 in Sales \(your role there: viewer\)"):
        save_edit(ws, marketing_editor, edit)
    assert snapshot(ws, ("dictionary_fields", "dictionary_field_versions")) == before


def test_deleting_a_system_may_not_unlink_another_domains_connector(matrix_ws: Workspace):
    ws = matrix_ws
    system_id = system_in(ws, "Marketing")
    form = token_input(unique("Connector"), domain="Finance", system_id=system_id)
    create_connector(ws, ADMIN, form, CATALOG)
    before = snapshot(ws, ("systems", "connectors"))
    with pytest.raises(PermissionDenied, match="Finance"):
        delete_system(ws, actor_in(Role.EDITOR, "Marketing"), system_id)
    assert snapshot(ws, ("systems", "connectors")) == before


def test_default_checks_go_only_to_flows_of_the_actors_domains(matrix_ws: Workspace):
    ws = matrix_ws
    ensure_default_checks(ws, ADMIN)  # every flow made so far has its checks
    marketing, finance = flow_in(ws, "Marketing"), flow_in(ws, "Finance")
    ensure_default_checks(ws, actor_in(Role.EDITOR, "Marketing"))
    with transaction(ws) as session:
        kinds = {
            flow: len(session.exec(select(HealthCheck.id).where(
                HealthCheck.integration_id == flow)).all())
            for flow in (marketing, finance)
        }  # fmt: skip
    assert kinds == {marketing: 6, finance: 0}
