"""Roles and what each may do. Every write in ``core`` asks here again: hiding a button
on a page is not a check.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Action(StrEnum):
    VIEW_REGISTRY = "view registry"
    MANAGE_CONNECTORS = "manage connectors"
    TEST_CONNECTORS = "test connectors"
    MANAGE_SYSTEMS = "manage systems"
    MANAGE_INTEGRATIONS = "manage integrations"
    RUN_INTEGRATIONS = "run or cancel flows"
    RESOLVE_CONFLICTS = "resolve conflicts in the review queue"
    VIEW_AUDIT = "view the audit log"
    MANAGE_USERS = "manage users"
    ROTATE_KEYS = "rotate the secret key"
    VIEW_DICTIONARY = "view the data dictionary"
    EDIT_DICTIONARY = "edit the data dictionary"
    VIEW_MAP = "view the integration map"
    VIEW_EVALUATIONS = "view vendor evaluations"
    MANAGE_EVALUATIONS = "create and manage vendor evaluations"
    # granted to every role; core also requires an invitation to the evaluation
    SCORE_VENDORS = "score vendors"
    VIEW_MONITORING = "view health, alerts and KPIs"
    MANAGE_MONITORING = "edit health checks, the alert policy and channels"
    HANDLE_ALERTS = "acknowledge and silence alerts"
    MANAGE_DISPLAY_LINKS = "create and revoke wall-screen links"


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset(
        {
            Action.VIEW_REGISTRY,
            Action.VIEW_EVALUATIONS,
            Action.SCORE_VENDORS,
            Action.VIEW_DICTIONARY,
            Action.VIEW_MAP,
            Action.VIEW_MONITORING,
        }
    ),
    Role.EDITOR: frozenset(
        {
            Action.VIEW_REGISTRY,
            Action.MANAGE_CONNECTORS,
            Action.TEST_CONNECTORS,
            Action.MANAGE_SYSTEMS,
            Action.MANAGE_INTEGRATIONS,
            Action.RUN_INTEGRATIONS,
            Action.RESOLVE_CONFLICTS,
            Action.VIEW_EVALUATIONS,
            Action.MANAGE_EVALUATIONS,
            Action.SCORE_VENDORS,
            Action.VIEW_DICTIONARY,
            Action.EDIT_DICTIONARY,
            Action.VIEW_MAP,
            Action.VIEW_MONITORING,
            Action.MANAGE_MONITORING,
            Action.HANDLE_ALERTS,
        }
    ),
    Role.ADMIN: frozenset(Action),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (worker, command line)."""

    username: str
    role: Role

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(name, Role.ADMIN)


def can(role: Role | str, action: Action) -> bool:
    """Whether ``role`` may perform ``action``."""
    try:
        return action in _ALLOWED[Role(role)]
    except ValueError:
        return False


def require(actor: Actor, action: Action) -> None:
    """Raise PermissionDenied unless ``actor`` may perform ``action``."""
    if not can(actor.role, action):
        raise PermissionDenied(
            f"Your role ({actor.role}) may not {action}.",
            fix="Ask an admin to do it, or to change your role.",
        )
