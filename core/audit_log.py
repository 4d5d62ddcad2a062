"""Reading the audit trail, for admins only."""

from __future__ import annotations

from core import audit
from core.permissions import Action, Actor, require
from core.workspace import Workspace
from db.engine import read_session
from db.models import AuditEntry


def read_audit_log(ws: Workspace, actor: Actor, filters: audit.AuditFilter) -> list[AuditEntry]:
    require(actor, Action.VIEW_AUDIT)
    with read_session(ws.engine) as session:
        return audit.list_entries(session, filters)


def audit_filter_values(ws: Workspace, actor: Actor) -> dict[str, list[str]]:
    require(actor, Action.VIEW_AUDIT)
    with read_session(ws.engine) as session:
        return audit.distinct_values(session)


def verify_audit_chain(ws: Workspace, actor: Actor) -> audit.ChainReport:
    require(actor, Action.VIEW_AUDIT)
    with read_session(ws.engine) as session:
        return audit.verify_chain(session)
