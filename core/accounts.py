"""User accounts: bcrypt passwords, lockout after failed logins, the first admin.

What an admin does to an existing account (disable, re-enable, reset its password) is in
``core.account_admin``; roles per domain and the signed-in actor are in ``core.domain_roles``.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlmodel import Session, select

from core import audit
from core.errors import AccountLocked, ConfigurationError, FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, Role, require
from core.vault import create_private_file
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import User, utcnow

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hash_password(password: str, rounds: int = 12) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def password_matches(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


@dataclass(frozen=True)
class Account:
    """A user as the app sees it: no password hash."""

    username: str
    display_name: str
    email: str
    role: Role
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None

    def status(self, now: datetime | None = None) -> str:
        """active, disabled or locked, as the Users page shows it."""
        if not self.active:
            return "disabled"
        if self.locked_until and self.locked_until > (now or utcnow()):
            return "locked"
        return "active"


def user_row(session: Session, username: str) -> User:
    """The user's row, for a change in the caller's transaction; NotFound if there is none."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"There is no user '{username}'.", fix="Pick one from the list of users.")
    return user


def account_of(user: User) -> Account:
    return Account(
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        role=Role(user.role),
        active=user.active,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
    )


def public(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "active": user.active,
    }


def validate_password(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise InputError.one(
            field, f"must be at least {MIN_PASSWORD_LENGTH} characters; choose a longer one."
        )


def create_user(
    ws: Workspace,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str = "",
) -> Account:
    """An admin creates an account. Every problem is reported at once, per field.

    ``role`` is admin, or the role the person holds in every domain (lead, editor or
    viewer) until a domain gets a role of its own (``core.domain_roles.set_domain_role``).
    """
    require(actor, Action.MANAGE_USERS)
    username = username.strip().lower()
    problems = []
    if not _USERNAME.match(username):
        problems.append(
            FieldProblem(
                "username",
                "use 2–64 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter.",
            )
        )
    if not display_name.strip():
        problems.append(FieldProblem("display name", "is empty; enter the person's name."))
    if role not in {r.value for r in Role}:
        problems.append(
            FieldProblem("role", "must be admin, lead, editor or viewer; choose one of them.")
        )
    if email and not _EMAIL.match(email.strip()):
        problems.append(FieldProblem("email", "is not an e-mail address (name@company.com)."))
    try:
        validate_password(password)
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    with transaction(ws) as session:
        if session.exec(select(User).where(User.username == username)).first():
            raise InputError.one("username", f"'{username}' is taken; choose another.")
        user = User(
            username=username,
            display_name=display_name.strip(),
            email=email.strip(),
            role=role,
            password_hash=hash_password(password, ws.settings.password_hash_rounds),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="user",
            entity_id=user.username,
            summary=f"Created user {user.username} ({role})",
            after=public(user),
        )
        return account_of(user)


def ensure_first_admin(ws: Workspace) -> str | None:
    """Create the user ``admin`` when there is no user at all.

    Its password is ``SWITCHBOARD_ADMIN_PASSWORD``, or a generated one that this function
    returns so the caller can print it once. Returns None when nothing was created or the
    password came from the environment.
    """
    with read_session(ws.engine) as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return None
    given = ws.settings.admin_password
    if given is not None:
        validate_password(given, "SWITCHBOARD_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(12)
    with transaction(ws) as session:
        if session.exec(select(User.id).limit(1)).first() is not None:
            return None
        user = User(
            username="admin",
            display_name="Administrator",
            role=Role.ADMIN.value,
            password_hash=hash_password(password, ws.settings.password_hash_rounds),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            actor="system",
            action="create",
            entity="user",
            entity_id="admin",
            summary="Created the first admin",
            after=public(user),
        )
    return None if given else password


def login_credentials(ws: Workspace) -> dict:
    """The active users in the shape streamlit-authenticator expects (bcrypt hashes)."""
    with read_session(ws.engine) as session:
        users = session.exec(select(User).where(User.active == True)).all()  # noqa: E712
    return {
        "usernames": {
            u.username: {
                "name": u.display_name,
                "email": u.email or f"{u.username}@switchboard.local",
                "password": u.password_hash,
                "roles": [u.role],
                "failed_login_attempts": 0,
                "logged_in": False,
            }
            for u in users
        }
    }


def get_account(ws: Workspace, username: str) -> Account:
    with read_session(ws.engine) as session:
        return account_of(user_row(session, username))


def check_can_sign_in(ws: Workspace, username: str, now: datetime | None = None) -> Account:
    """The account, if it may be signed in now; AccountLocked or NotFound otherwise."""
    now = now or utcnow()
    account = get_account(ws, username)
    if not account.active:
        raise NotFound("This account is disabled.", fix="Ask an admin to re-enable it.")
    if account.locked_until and account.locked_until > now:
        minutes = max(1, math.ceil((account.locked_until - now).total_seconds() / 60))
        raise AccountLocked(
            f"This account is locked after {MAX_FAILED_LOGINS} failed logins.",
            fix=f"Try again in {minutes} minute(s), or ask an admin to unlock it.",
        )
    return account


def record_failed_login(ws: Workspace, username: str, now: datetime | None = None) -> bool:
    """Count one failed password; the fifth in a row locks the account. True if now locked."""
    now = now or utcnow()
    with transaction(ws) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            return False
        if user.locked_until and user.locked_until > now:
            return True
        user.failed_logins += 1
        locked = user.failed_logins >= MAX_FAILED_LOGINS
        if locked:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            audit.record(
                session,
                actor="system",
                action="lock",
                entity="user",
                entity_id=username,
                summary=f"Locked {username} for {LOCK_MINUTES} minutes after "
                f"{MAX_FAILED_LOGINS} failed logins",
            )
        user.updated_at = now
        session.add(user)
        return locked


def record_login(ws: Workspace, username: str, now: datetime | None = None) -> None:
    """A successful sign-in: clears the failure count, notes the time, audits it."""
    now = now or utcnow()
    with transaction(ws) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            return
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        session.add(user)
        audit.record(
            session,
            actor=username,
            action="login",
            entity="user",
            entity_id=username,
            summary=f"{username} signed in",
        )


def record_logout(ws: Workspace, username: str, reason: str = "signed out") -> None:
    with transaction(ws) as session:
        audit.record(
            session,
            actor=username,
            action="logout",
            entity="user",
            entity_id=username,
            summary=f"{username} {reason}",
        )


def list_accounts(ws: Workspace, actor: Actor) -> list[Account]:
    require(actor, Action.MANAGE_USERS)
    with read_session(ws.engine) as session:
        return [account_of(u) for u in session.exec(select(User).order_by(User.username))]


def unlock(ws: Workspace, actor: Actor, username: str) -> None:
    """An admin lifts a lockout."""
    require(actor, Action.MANAGE_USERS)
    with transaction(ws) as session:
        user = user_row(session, username)
        user.locked_until = None
        user.failed_logins = 0
        session.add(user)
        audit.record(
            session,
            actor=actor.username,
            action="unlock",
            entity="user",
            entity_id=username,
            summary=f"Unlocked {username}",
        )


def touch(ws: Workspace, username: str, now: datetime | None = None) -> None:
    """Note that the user is active (for the inactivity timeout across sessions)."""
    with transaction(ws) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is not None:
            user.last_seen_at = now or utcnow()
            session.add(user)


def idle_too_long(ws: Workspace, username: str, now: datetime | None = None) -> bool:
    """True when the user's last activity is older than the inactivity timeout."""
    now = now or utcnow()
    with read_session(ws.engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.last_seen_at is None:
        return False
    return now - user.last_seen_at > timedelta(minutes=ws.settings.session_timeout_minutes)


def cookie_key(ws: Workspace) -> str:
    """The login cookie's signing key: 48 random bytes kept in the data directory (0600)."""
    path = ws.settings.cookie_key_file
    if not path.exists():
        create_private_file(path, secrets.token_urlsafe(48))
    key = path.read_text(errors="replace").strip()
    # 32 bytes of entropy in URL-safe base64, and nothing else (a binary file is damaged too)
    if len(key) < 43 or not re.fullmatch(r"[A-Za-z0-9_-]+", key):
        raise ConfigurationError(
            f"The cookie key file {path} is too short or damaged.",
            fix="Delete it; Switchboard makes a new one at the next start (everyone signs in "
            "again).",
        )
    return key
