"""Fixtures of the vendor-scoring tests: colleagues to invite and a filled evaluation."""

from __future__ import annotations

import pytest

from core import vendor_scoring as vs
from core.workspace import Workspace, transaction
from db.models import User
from tests.conftest import EDITOR
from tests.pages.conftest import _navigation_mode, people  # noqa: F401  (fixtures)

VENDORS = ("Workato", "Zapier", "Boomi")


@pytest.fixture
def staff(ws: Workspace) -> Workspace:
    """admin, editor and viewer as rows only: nobody signs in, so no slow password hashing.
    The page tests override this with ``people``, whose passwords work."""
    with transaction(ws) as session:
        for role in ("admin", "editor", "viewer"):
            session.add(
                User(username=role, display_name=role.title(), role=role, password_hash="-")
            )
    return ws


@pytest.fixture
def evaluation(staff: Workspace) -> vs.EvaluationSummary:
    """'2027 iPaaS selection' from the template, three vendors, editor and viewer invited."""
    made = vs.create_evaluation(staff, EDITOR, "2027 iPaaS selection")
    for vendor in VENDORS:
        vs.add_vendor(staff, EDITOR, made.id, vendor)
    vs.set_evaluators(staff, EDITOR, made.id, ["editor", "viewer"])
    return made
