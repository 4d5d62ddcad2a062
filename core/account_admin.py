"""What an admin does to an existing account: disable it, re-enable it, reset its password.

A disabled account keeps its history and roles but cannot sign in: ``login_credentials``
leaves it out, and ``check_can_sign_in`` (asked by the app on every page run) signs out a
session that was open when it was disabled. Switchboard never lets its last active admin
go, so there is always someone who can undo a mistake.
"""

from __future__ import annotations

import secrets

from sqlmodel import Session, func, select

from core import audit
from core.accounts import Account, account_of, hash_password, user_row, validate_password
from core.errors import PermissionDenied
from core.permissions import Action, Actor, Role, require
from core.workspace import Workspace, transaction
from db.models import User, utcnow


def refuse_losing_last_admin(session: Session, user: User, doing: str) -> None:
    """PermissionDenied when ``user`` is the only active admin: ``doing`` would leave the
    workspace with nobody to manage users."""
    if user.role != Role.ADMIN.value or not user.active:
        return
    others = session.exec(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.active == True, User.id != user.id)  # noqa: E712
    ).one()
    if not others:
        raise PermissionDenied(
            f"{user.username} is the last active admin; {doing} would leave nobody to "
            "manage users.",
            fix="Make another person admin first.",
        )


def _refuse_self(actor: Actor, username: str, doing: str) -> None:
    if actor.username == username:
        raise PermissionDenied(
            f"You may not {doing} your own account.", fix="Ask another admin to do it."
        )


def disable_user(ws: Workspace, actor: Actor, username: str) -> Account:
    """Stop an account from signing in; an open session ends at its next page run."""
    require(actor, Action.MANAGE_USERS)
    _refuse_self(actor, username, "disable")
    with transaction(ws) as session:
        user = user_row(session, username)
        if not user.active:
            return account_of(user)
        refuse_losing_last_admin(session, user, "disabling them")
        user.active = False
        user.updated_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor=actor.username,
            action="disable",
            entity="user",
            entity_id=username,
            summary=f"Disabled {username}",
            before={"active": True},
            after={"active": False},
        )
        return account_of(user)


def enable_user(ws: Workspace, actor: Actor, username: str) -> Account:
    """Let a disabled account sign in again, with the roles it had."""
    require(actor, Action.MANAGE_USERS)
    with transaction(ws) as session:
        user = user_row(session, username)
        if user.active:
            return account_of(user)
        user.active = True
        user.updated_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor=actor.username,
            action="enable",
            entity="user",
            entity_id=username,
            summary=f"Re-enabled {username}",
            before={"active": False},
            after={"active": True},
        )
        return account_of(user)


def reset_password(
    ws: Workspace, actor: Actor, username: str, new_password: str = ""
) -> str | None:
    """Give an account a new password and lift any lockout.

    With ``new_password`` empty, a password is generated and returned so the page can
    show it once to the admin; otherwise the given one is checked and None is returned.
    Neither password reaches the audit trail.
    """
    require(actor, Action.MANAGE_USERS)
    generated = None
    if new_password:
        validate_password(new_password, "new password")
    else:
        generated = new_password = secrets.token_urlsafe(12)
    with transaction(ws) as session:
        user = user_row(session, username)
        user.password_hash = hash_password(new_password, ws.settings.password_hash_rounds)
        user.failed_logins = 0
        user.locked_until = None
        user.updated_at = utcnow()
        session.add(user)
        audit.record(
            session,
            actor=actor.username,
            action="reset password",
            entity="user",
            entity_id=username,
            summary=f"Reset the password of {username}"
            + (" (generated)" if generated else " (set by the admin)"),
        )
    return generated
