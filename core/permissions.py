"""Roles, domains and what each role may do. Every write in ``core`` asks here again, with
the domain of the thing it changes: hiding a button on a page is not a check.

Roles form a hierarchy, admin > domain lead > editor > viewer, held per domain: a person can
be editor in Marketing and viewer in Finance. An admin holds every domain. Seeing personal
data unmasked is its own permission per domain: a domain lead has it, and a lead or admin
may grant it to an editor or viewer of that domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.errors import PermissionDenied

DOMAINS = ("Marketing", "Sales", "Customer Success", "Product", "Finance")


class Role(StrEnum):
    ADMIN = "admin"
    LEAD = "lead"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return "domain lead" if self is Role.LEAD else self.value


_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.LEAD: 2, Role.ADMIN: 3}


class Action(StrEnum):
    VIEW_REGISTRY = "view registry"
    MANAGE_CONNECTORS = "manage connectors"
    TEST_CONNECTORS = "test connectors"
    MANAGE_SYSTEMS = "manage systems"
    MANAGE_INTEGRATIONS = "manage integrations"
    RUN_INTEGRATIONS = "run or cancel flows"
    RESOLVE_CONFLICTS = "resolve conflicts in the review queue"
    VIEW_AUDIT = "view the audit log"
    MANAGE_USERS = "create, disable and reset users"
    MANAGE_DOMAIN_ROLES = "set people's roles in a domain"
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
    VIEW_PII = "see personal data unmasked"
    MANAGE_RETENTION = "set and apply retention policies"
    HANDLE_PRIVACY_REQUESTS = "handle privacy requests"
    VIEW_COMPLIANCE = "download the compliance report"


# the lowest role that may take each action (in the domain of what it touches)
MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW_REGISTRY: Role.VIEWER,
    Action.VIEW_DICTIONARY: Role.VIEWER,
    Action.VIEW_MAP: Role.VIEWER,
    Action.VIEW_EVALUATIONS: Role.VIEWER,
    Action.SCORE_VENDORS: Role.VIEWER,
    Action.VIEW_MONITORING: Role.VIEWER,
    Action.MANAGE_CONNECTORS: Role.EDITOR,
    Action.TEST_CONNECTORS: Role.EDITOR,
    Action.MANAGE_SYSTEMS: Role.EDITOR,
    Action.MANAGE_INTEGRATIONS: Role.EDITOR,
    Action.RUN_INTEGRATIONS: Role.EDITOR,
    Action.RESOLVE_CONFLICTS: Role.EDITOR,
    Action.EDIT_DICTIONARY: Role.EDITOR,
    Action.MANAGE_EVALUATIONS: Role.EDITOR,
    Action.MANAGE_MONITORING: Role.EDITOR,
    Action.HANDLE_ALERTS: Role.EDITOR,
    Action.MANAGE_DOMAIN_ROLES: Role.LEAD,
    Action.VIEW_PII: Role.LEAD,
    Action.MANAGE_RETENTION: Role.LEAD,
    Action.HANDLE_PRIVACY_REQUESTS: Role.LEAD,
    Action.VIEW_AUDIT: Role.ADMIN,
    Action.MANAGE_USERS: Role.ADMIN,
    Action.ROTATE_KEYS: Role.ADMIN,
    Action.MANAGE_DISPLAY_LINKS: Role.ADMIN,
    Action.VIEW_COMPLIANCE: Role.ADMIN,
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (worker, command line).

    ``role`` is the highest role held anywhere. ``domains`` holds the role per domain;
    when it is None, ``role`` holds in every domain. ``pii_domains`` are the domains whose
    personal data this person was granted to see although their role there is below lead.
    """

    username: str
    role: Role
    domains: Mapping[str, Role] | None = None
    pii_domains: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(name, Role.ADMIN)

    def role_in(self, domain: str) -> Role:
        if self.role is Role.ADMIN or self.domains is None:
            return self.role
        return self.domains.get(domain, Role.VIEWER)

    def may(self, action: Action, domain: str | None = None) -> bool:
        """Whether this actor may take ``action`` in ``domain``; with no domain, whether
        they may take it somewhere (what a page uses to decide what to offer)."""
        need = MINIMUM_ROLE[action]
        if domain is None:
            if action is Action.VIEW_PII and self.pii_domains:
                return True
            return self.role.rank >= need.rank
        if action is Action.VIEW_PII and domain in self.pii_domains:
            return True
        return self.role_in(domain).rank >= need.rank

    def domains_where(self, action: Action) -> list[str]:
        """The domains in which this actor may take ``action``."""
        return [d for d in DOMAINS if self.may(action, d)]


def can(role: Role | str, action: Action) -> bool:
    """Whether ``role`` (held in the domain concerned) may perform ``action``."""
    try:
        return Role(role).rank >= MINIMUM_ROLE[action].rank
    except ValueError:
        return False


def _article(label: str) -> str:
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


def require(actor: Actor, action: Action, domain: str | None = None) -> None:
    """Raise PermissionDenied unless ``actor`` may perform ``action`` in ``domain``.

    Writes pass the domain of what they change; only actions that belong to no domain
    (users, keys, display links, vendor evaluations, the audit log) leave it out.
    """
    if actor.may(action, domain):
        return
    if domain is None or MINIMUM_ROLE[action] is Role.ADMIN:
        raise PermissionDenied(
            f"Your role ({actor.role.label}) may not {action}.",
            fix="Ask an admin to do it, or to change your role.",
        )
    raise PermissionDenied(
        f"Your role in {domain} ({actor.role_in(domain).label}) may not {action} there.",
        fix=f"Ask {_article(MINIMUM_ROLE[action].label)} of {domain} or an admin to do it, or to "
        "change your role in that domain.",
    )
