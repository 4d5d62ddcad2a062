"""Roles per domain: who holds which role where, whose personal data they may see, and the
signed-in ``Actor`` built from it.

``users.role`` is admin, or the role a person holds in every domain that has no row of its
own in ``user_domain_roles``. A row overrides it for one domain and may grant the PII
permission there (seeing that domain's personal data unmasked although below lead). A row
that says no more than the base role is removed, so the domain follows the base role again.

An admin sets any role in any domain. A domain lead sets editor or viewer, and the PII
grant, in the domains they lead, for people who are not admins, not leads there, and not
themselves: promotions to lead and changes to other leads stay with an admin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import audit
from core.account_admin import refuse_losing_last_admin
from core.accounts import Account, account_of, user_row
from core.errors import FieldProblem, InputError, PermissionDenied
from core.permissions import DOMAINS, Action, Actor, Role, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import UserDomainRole
from db.models import User, utcnow

# the roles a domain can be given (admin is a base role only: it holds every domain)
DOMAIN_ROLES = (Role.LEAD, Role.EDITOR, Role.VIEWER)


@dataclass(frozen=True)
class AccountRoles:
    """An account with its role in every domain and its PII grants, for the Users page."""

    account: Account
    domains: dict[str, Role]
    pii_domains: frozenset[str]

    @property
    def username(self) -> str:
        return self.account.username


def _rows(session: Session, user_ids: list[int]) -> dict[int, list[UserDomainRole]]:
    found: dict[int, list[UserDomainRole]] = {uid: [] for uid in user_ids}
    statement = select(UserDomainRole).where(col(UserDomainRole.user_id).in_(user_ids))
    for row in session.exec(statement):
        found[row.user_id].append(row)
    return found


def _roles_of(user: User, rows: list[UserDomainRole]) -> AccountRoles:
    base = Role(user.role)
    domains = {d: base for d in DOMAINS}
    pii: set[str] = set()
    if base is not Role.ADMIN:
        for row in rows:
            if row.domain in domains:
                domains[row.domain] = Role(row.role)
                if row.pii:
                    pii.add(row.domain)
    return AccountRoles(account_of(user), domains, frozenset(pii))


def load_actor(ws: Workspace, username: str) -> Actor:
    """The person as every permission check sees them, read fresh from the store, so a
    change of role takes effect at their next page run. NotFound for an unknown user."""
    with read_session(ws.engine) as session:
        user = user_row(session, username)
        roles = _roles_of(user, _rows(session, [user.id])[user.id])
    if roles.account.role is Role.ADMIN:
        return Actor(username, Role.ADMIN)
    highest = max(roles.domains.values(), key=lambda r: r.rank)
    return Actor(username, highest, dict(roles.domains), roles.pii_domains)


def describe_roles(actor: Actor) -> str:
    """A person's roles in a few words: "editor · Marketing domain lead · PII in Sales".

    The role held in most domains comes first; the exceptions follow by domain.
    """
    if actor.role is Role.ADMIN or actor.domains is None:
        usual, exceptions = actor.role, []
    else:
        counts = Counter(actor.role_in(d) for d in DOMAINS)
        usual = max(counts, key=lambda r: (counts[r], -r.rank))
        exceptions = [f"{d} {actor.role_in(d).label}" for d in DOMAINS if actor.role_in(d) != usual]
    parts = [usual.label, *exceptions]
    if actor.pii_domains:
        parts.append("PII in " + ", ".join(d for d in DOMAINS if d in actor.pii_domains))
    return " · ".join(parts)


def list_people(ws: Workspace, actor: Actor) -> list[AccountRoles]:
    """Every account with its roles per domain (no password hashes): for admins and for
    domain leads, who set roles in their own domains."""
    require(actor, Action.MANAGE_DOMAIN_ROLES)
    with read_session(ws.engine) as session:
        users = list(session.exec(select(User).order_by(User.username)))
        rows = _rows(session, [u.id for u in users])
    return [_roles_of(u, rows[u.id]) for u in users]


def _check_input(changes: Mapping[str, tuple[str, bool]]) -> None:
    problems = []
    allowed = ", ".join(r.value for r in DOMAIN_ROLES)
    for domain, (role, pii) in changes.items():
        if domain not in DOMAINS:
            problems.append(
                FieldProblem("domain", f"'{domain}' is not a domain; use {', '.join(DOMAINS)}.")
            )
        elif role not in {r.value for r in DOMAIN_ROLES}:
            problems.append(FieldProblem(f"role in {domain}", f"must be {allowed}."))
        elif not isinstance(pii, bool):
            problems.append(FieldProblem(f"PII in {domain}", "must be yes or no."))
    if not changes:
        problems.append(FieldProblem("domain", "none given; choose a domain to change."))
    if problems:
        raise InputError(problems)


def _check_lead_may(actor: Actor, target: AccountRoles, changes: Mapping) -> None:
    """What a domain lead (not an admin) may not do, even in a domain they lead."""
    if target.account.role is Role.ADMIN:
        raise PermissionDenied(
            f"{target.username} is an admin; only an admin may change an admin's roles."
        )
    if target.username == actor.username:
        raise PermissionDenied("You may not change your own roles.", fix="Ask an admin to.")
    for domain, (role, _pii) in changes.items():
        if target.domains[domain] is Role.LEAD:
            raise PermissionDenied(
                f"{target.username} is a domain lead of {domain}; only an admin may change "
                "another lead's role there."
            )
        if role == Role.LEAD.value:
            raise InputError.one(
                f"role in {domain}",
                "only an admin may make someone a domain lead; choose editor or viewer.",
            )


def set_domain_roles(
    ws: Workspace, actor: Actor, username: str, changes: Mapping[str, tuple[str, bool]]
) -> AccountRoles:
    """Set a person's role and PII grant in several domains at once: all or nothing.

    ``changes`` maps a domain to (role, pii), e.g. ``{"Marketing": ("lead", False)}``.
    """
    _check_input(changes)
    for domain in changes:
        require(actor, Action.MANAGE_DOMAIN_ROLES, domain)
    with transaction(ws) as session:
        user = user_row(session, username)
        rows = {r.domain: r for r in _rows(session, [user.id])[user.id]}
        target = _roles_of(user, list(rows.values()))
        if user.role == Role.ADMIN.value and actor.role is Role.ADMIN:
            raise InputError.one(
                "user",
                f"{username} is an admin and holds every domain; change their base role "
                "first to give them roles per domain.",
            )
        if actor.role is not Role.ADMIN:
            _check_lead_may(actor, target, changes)
        before, after = {}, {}
        for domain, (role, pii) in changes.items():
            old = {"role": target.domains[domain].value, "pii": domain in target.pii_domains}
            new = {"role": role, "pii": pii}
            if old != new:
                before[domain], after[domain] = old, new
                _store_row(session, user, rows.get(domain), domain, role, pii, actor.username)
        if after:
            audit.record(
                session,
                actor=actor.username,
                action="set domain roles",
                entity="user",
                entity_id=username,
                summary=f"Set the roles of {username}: "
                + ", ".join(
                    f"{d} {Role(v['role']).label}" + (" with PII" if v["pii"] else "")
                    for d, v in after.items()
                ),
                before=before,
                after=after,
            )
        session.flush()
        return _roles_of(user, _rows(session, [user.id])[user.id])


def set_domain_role(
    ws: Workspace, actor: Actor, username: str, domain: str, role: str, pii: bool = False
) -> AccountRoles:
    """Set a person's role (lead, editor or viewer) and PII grant in one domain."""
    return set_domain_roles(ws, actor, username, {domain: (role, pii)})


def _store_row(
    session: Session,
    user: User,
    row: UserDomainRole | None,
    domain: str,
    role: str,
    pii: bool,
    by: str,
) -> None:
    if role == user.role and not pii:
        if row is not None:
            session.delete(row)
        return
    row = row or UserDomainRole(user_id=user.id, domain=domain, role=role)
    row.role, row.pii, row.updated_by, row.updated_at = role, pii, by, utcnow()
    session.add(row)


def set_base_role(ws: Workspace, actor: Actor, username: str, role: str) -> AccountRoles:
    """An admin changes the role a person holds in every domain without its own role.

    Making someone admin removes their roles per domain (an admin holds every domain);
    the last active admin keeps the role.
    """
    require(actor, Action.MANAGE_USERS)
    if role not in {r.value for r in Role}:
        raise InputError.one("base role", "must be admin, lead, editor or viewer.")
    if actor.username == username:
        raise PermissionDenied(
            "You may not change your own base role.", fix="Ask another admin to."
        )
    with transaction(ws) as session:
        user = user_row(session, username)
        old = user.role
        if old != role:
            if role != Role.ADMIN.value:
                refuse_losing_last_admin(session, user, "changing their role")
            before = {"role": old}
            user.role, user.updated_at = role, utcnow()
            session.add(user)
            for row in _rows(session, [user.id])[user.id]:
                if role == Role.ADMIN.value or (row.role == role and not row.pii):
                    before[row.domain] = {"role": row.role, "pii": row.pii}
                    session.delete(row)
            audit.record(
                session,
                actor=actor.username,
                action="set base role",
                entity="user",
                entity_id=username,
                summary=f"Changed the base role of {username} from {Role(old).label} to "
                f"{Role(role).label}",
                before=before,
                after={"role": role},
            )
        session.flush()
        return _roles_of(user, _rows(session, [user.id])[user.id])
