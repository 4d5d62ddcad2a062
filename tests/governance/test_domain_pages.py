"""Pages as a person with different roles in different domains meets them: forms offer
only the domains where they may make the change, and core refuses the rest by name."""

from __future__ import annotations

from core.accounts import create_user
from core.domain_roles import load_actor, set_domain_role
from core.errors import PermissionDenied
from core.integrations import IntegrationInput, create_integration
from core.systems import SystemInput, create_system, delete_system, list_systems
from core.workspace import transaction
from db.models import IntegrationRun
from tests.conftest import ADMIN
from tests.pages.conftest import PASSWORDS, people, sign_in, texts

__all__ = ["people"]


def marketing_editor(ws) -> None:  # noqa: ANN001
    """Mia: viewer everywhere, editor in Marketing."""
    create_user(
        ws, ADMIN, username="mia", display_name="Mia", role="viewer", password="mia-password-1"
    )
    set_domain_role(ws, ADMIN, "mia", "Marketing", "editor")
    PASSWORDS["mia"] = "mia-password-1"


def test_the_system_form_offers_only_the_domains_the_person_edits(people):
    marketing_editor(people)
    at = sign_in("mia")
    at.switch_page("pages/systems.py").run()
    assert not at.exception
    domain = next(s for s in at.selectbox if s.label == "Domain")
    assert list(domain.options) == ["Marketing"]
    at.text_input[0].input("Form tool")
    next(b for b in at.button if b.label == "Add system").click().run()
    assert "Added system Form tool." in texts(at)
    assert [(s.name, s.domain) for s in list_systems(people, ADMIN)] == [("Form tool", "Marketing")]


def test_a_change_in_another_domain_is_refused_by_name(people):
    marketing_editor(people)
    finance = create_system(people, ADMIN, SystemInput("Billing", "billing", domain="Finance"))
    mia = load_actor(people, "mia")
    try:
        delete_system(people, mia, finance.id)
    except PermissionDenied as refused:
        assert "Finance" in refused.message
    else:
        raise AssertionError("a Marketing editor deleted a Finance system")
    assert [s.name for s in list_systems(people, ADMIN)] == ["Billing"]


def test_the_runs_page_shows_what_a_run_left_out_and_why(people):
    crm = create_system(people, ADMIN, SystemInput("CRM", "crm")).id
    mapp = create_system(people, ADMIN, SystemInput("MAP", "map")).id
    flow = create_integration(
        people, ADMIN, IntegrationInput("CRM → MAP", crm, mapp, "Contacts", "hourly", "api")
    )
    with transaction(people) as session:
        session.add(
            IntegrationRun(
                integration_id=flow.id,
                status="succeeded",
                records_read=10,
                records_written=6,
                skipped_suppressed=1,
                skipped_no_consent=3,
            )
        )
    at = sign_in("viewer")
    at.switch_page("pages/runs.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Suppressed"], metrics["No consent"], metrics["Written"]) == ("1", "3", "6")
