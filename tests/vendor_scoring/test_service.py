"""The worksheet's services: rules refused with plain messages and nothing half-written,
evaluator isolation, locking, duplicating, and an audit entry for every change."""

from __future__ import annotations

import pytest
from sqlmodel import select

from core import audit
from core import vendor_scoring as vs
from core.errors import InputError, PermissionDenied
from core.vendor_scoring_sheet import score
from core.workspace import transaction
from db.engine import read_session
from db.evaluations import EvaluationScore
from db.models import AuditEntry, User
from tests.conftest import ADMIN, EDITOR, VIEWER


def sheet(ws, evaluation):
    return vs.load_worksheet(ws, VIEWER, evaluation.id).sheet


def weights(ws, evaluation):
    s = sheet(ws, evaluation)
    return {c.name: c.weight for c in s.categories} | {c.name: c.weight for _, c in s.criteria}


def problems(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_starting_from_the_template_is_audited(staff, evaluation):
    s = sheet(staff, evaluation)
    assert [c.name for c in s.categories][0] == "Connectors"
    assert len(s.criteria) == 11 and s.vendors == ("Workato", "Zapier", "Boomi")
    with read_session(staff.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.entity == "evaluation")).all()
        assert [e.action for e in entries] == ["create"] + ["add vendor"] * 3 + ["set evaluators"]
        assert audit.verify_chain(session).ok


def test_names_are_required_and_unique_whatever_their_case(staff, evaluation):
    with pytest.raises(InputError) as exc:
        vs.create_evaluation(staff, EDITOR, "2027 IPAAS Selection")
    assert "already" in problems(exc)["Evaluation name"]
    with pytest.raises(InputError) as exc:
        vs.add_vendor(staff, EDITOR, evaluation.id, " zapier ")
    assert "'zapier' is already in this evaluation" in problems(exc)["Vendor name"]
    with pytest.raises(InputError) as exc:
        vs.add_vendor(staff, EDITOR, evaluation.id, "   ")
    assert "is empty" in problems(exc)["Vendor name"]
    with pytest.raises(InputError) as exc:
        vs.add_criterion(staff, EDITOR, evaluation.id, "Cost", "")
    assert "is empty" in problems(exc)["Criterion name"]
    with pytest.raises(InputError) as exc:
        vs.add_criterion(staff, EDITOR, evaluation.id, "Cost", "LOGGING")
    assert "already" in problems(exc)["Criterion name"]
    assert len(sheet(staff, evaluation).criteria) == 11


def test_only_editors_and_admins_manage(staff, evaluation):
    with pytest.raises(PermissionDenied):
        vs.create_evaluation(staff, VIEWER, "Mine")
    with pytest.raises(PermissionDenied):
        vs.add_vendor(staff, VIEWER, evaluation.id, "Tray.io")
    with pytest.raises(PermissionDenied):
        vs.list_people(staff, VIEWER)
    assert set(vs.list_people(staff, EDITOR)) == {"admin", "editor", "viewer"}


def test_weights_that_break_a_rule_are_refused_whole(staff, evaluation):
    before = weights(staff, evaluation)
    with pytest.raises(InputError) as exc:
        vs.set_weights(
            staff,
            EDITOR,
            evaluation.id,
            {"Connectors": 30},
            {"Data transformation": 15, "Ease of use": 60},
        )
    found = problems(exc)
    assert "add up to 105% — 5 points over 100%" in found["Category weights"]
    assert (
        "90% of the category — 10 points short of 100%" in found["Criteria weights in Capabilities"]
    )
    assert "110% of the category — 10 points over" in found["Criteria weights in Usability"]
    assert weights(staff, evaluation) == before

    vs.set_weights(
        staff,
        EDITOR,
        evaluation.id,
        {"Connectors": 30, "Cost": 5},
        {"Pre-built connectors": 70, "Custom connector ability": 30},
    )
    after = weights(staff, evaluation)
    assert (after["Connectors"], after["Cost"], after["Pre-built connectors"]) == (30, 5, 70)


def test_adding_and_removing_criteria_keeps_each_category_at_100(staff, evaluation):
    vs.add_criterion(staff, EDITOR, evaluation.id, "Capabilities", "Reverse ETL")
    caps = next(c for c in sheet(staff, evaluation).categories if c.name == "Capabilities")
    assert [c.weight for c in caps.criteria] == pytest.approx([20] * 5)

    vs.set_weights(
        staff,
        EDITOR,
        evaluation.id,
        {},
        {"Pre-built connectors": 75, "Custom connector ability": 25},
    )
    vs.add_criterion(staff, EDITOR, evaluation.id, "Connectors", "Connector SDK", 20)
    conn = next(c for c in sheet(staff, evaluation).categories if c.name == "Connectors")
    assert [c.weight for c in conn.criteria] == pytest.approx([60, 20, 20])

    vs.save_scores(staff, EDITOR, evaluation.id, "Workato", {"Connector SDK": (4, "")})
    vs.remove_criterion(staff, EDITOR, evaluation.id, "Connector SDK")
    conn = next(c for c in sheet(staff, evaluation).categories if c.name == "Connectors")
    assert [c.weight for c in conn.criteria] == pytest.approx([75, 25])
    assert sheet(staff, evaluation).scores == {}

    with pytest.raises(InputError) as exc:
        vs.remove_criterion(staff, EDITOR, evaluation.id, "Pricing model")
    assert "only criterion of Cost" in problems(exc)["Criterion"]


def test_bad_scores_are_named_and_nothing_is_saved(staff, evaluation):
    with pytest.raises(InputError) as exc:
        vs.save_scores(
            staff,
            EDITOR,
            evaluation.id,
            "Workato",
            {"Logging": (4, "ok"), "Ease of use": (6, ""), "Documentation": (0, ""),
             "Pricing model": (2.5, "")},
        )  # fmt: skip
    found = problems(exc)
    assert "is 6" in found["Score of Workato on Ease of use"]
    assert "is 0" in found["Score of Workato on Documentation"]
    assert "no fractions" in found["Score of Workato on Pricing model"]
    assert sheet(staff, evaluation).scores == {}


def test_an_evaluator_cannot_change_another_evaluators_scores(staff, evaluation):
    vs.save_scores(staff, VIEWER, evaluation.id, "Zapier", {"Logging": (2, "thin logs")})
    with pytest.raises(PermissionDenied) as exc:
        vs.save_scores(
            staff, EDITOR, evaluation.id, "Zapier", {"Logging": (5, "")}, evaluator="viewer"
        )
    assert "Only viewer may change viewer's scores" in exc.value.message
    with pytest.raises(PermissionDenied):
        vs.save_scores(staff, ADMIN, evaluation.id, "Zapier", {"Logging": (5, "")}, "viewer")
    # an admin who was not invited may not score at all
    with pytest.raises(PermissionDenied) as exc:
        vs.save_scores(staff, ADMIN, evaluation.id, "Zapier", {"Logging": (5, "")})
    assert "not an evaluator" in exc.value.message
    # the editor's own save touches only the editor's row
    vs.save_scores(staff, EDITOR, evaluation.id, "Zapier", {"Logging": (5, "")})
    s = sheet(staff, evaluation)
    assert s.scores[("viewer", "Zapier", "Logging")] == 2
    assert s.comments[("viewer", "Zapier", "Logging")] == "thin logs"
    assert s.scores[("editor", "Zapier", "Logging")] == 5


def test_clearing_a_score_makes_it_missing_and_uninviting_drops_scores(staff, evaluation):
    vs.save_scores(
        staff, VIEWER, evaluation.id, "Boomi", {"Logging": (3, ""), "Ease of use": (4, "")}
    )
    assert vs.save_scores(staff, VIEWER, evaluation.id, "Boomi", {"Logging": (None, "")}) == 1
    assert set(sheet(staff, evaluation).scores) == {("viewer", "Boomi", "Ease of use")}
    vs.set_evaluators(staff, EDITOR, evaluation.id, ["editor"])
    assert sheet(staff, evaluation).scores == {}
    with pytest.raises(InputError) as exc:
        vs.set_evaluators(staff, EDITOR, evaluation.id, ["editor", "nobody"])
    assert "nobody" in problems(exc)["Evaluators"]


def test_a_locked_evaluation_refuses_every_edit(staff, evaluation):
    vs.save_scores(staff, VIEWER, evaluation.id, "Workato", {"Logging": (4, "")})
    vs.lock_evaluation(staff, EDITOR, evaluation.id)
    edits = [
        lambda: vs.set_weights(staff, EDITOR, evaluation.id, {"Connectors": 25}),
        lambda: vs.add_criterion(staff, EDITOR, evaluation.id, "Cost", "Contract terms"),
        lambda: vs.remove_criterion(staff, EDITOR, evaluation.id, "Logging"),
        lambda: vs.add_vendor(staff, EDITOR, evaluation.id, "Tray.io"),
        lambda: vs.remove_vendor(staff, EDITOR, evaluation.id, "Boomi"),
        lambda: vs.set_evaluators(staff, EDITOR, evaluation.id, ["editor"]),
        lambda: vs.save_scores(staff, VIEWER, evaluation.id, "Workato", {"Logging": (1, "")}),
        lambda: vs.lock_evaluation(staff, EDITOR, evaluation.id),
        lambda: vs.delete_evaluation(staff, ADMIN, evaluation.id),
    ]
    for edit in edits:
        with pytest.raises(vs.EvaluationLocked) as exc:
            edit()
        assert "is locked: editor made it final" in exc.value.message
        assert "Duplicate it" in exc.value.fix
    s = sheet(staff, evaluation)
    assert s.scores == {("viewer", "Workato", "Logging"): 4} and len(s.vendors) == 3
    with read_session(staff.engine) as session:
        lock = session.exec(select(AuditEntry).where(AuditEntry.action == "lock")).one()
        assert lock.actor == "editor" and "locked as final" in lock.summary


def test_duplicating_copies_the_worksheet_as_a_draft(staff, evaluation):
    vs.set_weights(staff, EDITOR, evaluation.id, {"Cost": 20, "Usability": 10})
    vs.save_scores(staff, VIEWER, evaluation.id, "Zapier", {"Logging": (4, "good")})
    vs.lock_evaluation(staff, EDITOR, evaluation.id)
    copy = vs.duplicate_evaluation(staff, EDITOR, evaluation.id, "2027 what-if", with_scores=True)
    assert not copy.locked and copy.copied_from == "2027 iPaaS selection"
    original, duplicate = sheet(staff, evaluation), sheet(staff, copy)
    assert duplicate == original
    assert score(duplicate).totals == score(original).totals
    bare = vs.duplicate_evaluation(staff, EDITOR, evaluation.id, "Next round")
    assert sheet(staff, bare).scores == {}
    vs.add_vendor(staff, EDITOR, copy.id, "Tray.io")  # the copy is editable
    with read_session(staff.engine) as session:
        assert len(session.exec(select(EvaluationScore)).all()) == 2


def test_deleting_a_draft_removes_everything_in_it(staff, evaluation):
    vs.save_scores(staff, VIEWER, evaluation.id, "Zapier", {"Logging": (4, "")})
    vs.delete_evaluation(staff, EDITOR, evaluation.id)
    assert vs.list_evaluations(staff, VIEWER) == []
    with read_session(staff.engine) as session:
        assert session.exec(select(EvaluationScore)).all() == []


@pytest.mark.postgres
def test_the_worksheet_round_trips_on_sqlite_and_postgresql(store_ws):
    with transaction(store_ws) as session:
        for role in ("editor", "viewer"):
            session.add(User(username=role, display_name=role, role=role, password_hash="-"))
    made = vs.create_evaluation(store_ws, EDITOR, "Round trip")
    vs.add_vendor(store_ws, EDITOR, made.id, "Workato")
    vs.set_evaluators(store_ws, EDITOR, made.id, ["viewer"])
    vs.save_scores(store_ws, VIEWER, made.id, "Workato", {"Logging": (3, "ok")})
    with pytest.raises(InputError):
        vs.add_vendor(store_ws, EDITOR, made.id, "WORKATO")
    copy = vs.duplicate_evaluation(store_ws, EDITOR, made.id, "Round trip 2", with_scores=True)
    vs.lock_evaluation(store_ws, EDITOR, made.id)
    assert sheet(store_ws, copy) == sheet(store_ws, made)
    vs.delete_evaluation(store_ws, EDITOR, copy.id)
    assert [e.name for e in vs.list_evaluations(store_ws, VIEWER)] == ["Round trip"]
