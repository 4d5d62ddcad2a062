"""The wall screen: read-only display links and what the screen shows.

A display link carries a token ``<nonce>.<signature>``: the signature is an HMAC of the
nonce under the workspace's cookie key, so a forged token is refused without a look at
the store; the store keeps only the SHA-256 of the token, with its expiry and revocation.
A valid token opens ``WallAccess`` and nothing else: ``wall_data`` is the only function
that takes it, and no page or core service accepts it as a signed-in user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import col, select

from core import audit
from core.accounts import cookie_key
from core.alerts import open_counts
from core.errors import FieldProblem, InputError, NotFound
from core.kpis import KpiRow, figures_by, row_from
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Integration
from db.monitoring import DisplayLink, HealthCheck

# a wall screen shows now: the KPIs of the last hour's calls (at most the newest 1,000)
KPI_HOURS = 1
# the tile reads at most the newest calls of that hour, so a busy stack costs no more
KPI_LATEST_CALLS = 1000


def _signature(ws: Workspace, nonce: str) -> str:
    digest = hmac.new(cookie_key(ws).encode(), f"display:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:16]).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_display_link(
    ws: Workspace, actor: Actor, *, name: str, valid_days: int, refresh_seconds: int = 30
) -> str:
    """Make a link and return its token: shown once, never stored in clear (audited)."""
    require(actor, Action.MANAGE_DISPLAY_LINKS)
    problems = []
    if not name.strip() or len(name.strip()) > 80:
        problems.append(FieldProblem("Name", "is required (at most 80 characters), e.g. 'Ops TV'."))
    if not 1 <= int(valid_days) <= 365:
        problems.append(FieldProblem("Valid for (days)", "must be between 1 and 365."))
    if not 5 <= int(refresh_seconds) <= 600:
        problems.append(FieldProblem("Refresh every (seconds)", "must be between 5 and 600."))
    if problems:
        raise InputError(problems)
    nonce = secrets.token_urlsafe(24)
    token = f"{nonce}.{_signature(ws, nonce)}"
    with transaction(ws) as session:
        link = DisplayLink(
            name=name.strip(),
            token_hash=_hash(token),
            refresh_seconds=int(refresh_seconds),
            created_by=actor.username,
            expires_at=datetime.now(UTC) + timedelta(days=int(valid_days)),
        )
        session.add(link)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="display_link",
            entity_id=link.id,
            summary=f"Wall-screen link “{link.name}”, valid {valid_days} day(s)",
        )
    return token


def revoke_display_link(ws: Workspace, actor: Actor, link_id: int) -> None:
    """The link stops working at the screen's next refresh (audited)."""
    require(actor, Action.MANAGE_DISPLAY_LINKS)
    with transaction(ws) as session:
        link = session.get(DisplayLink, link_id)
        if link is None:
            raise NotFound("This display link no longer exists.", fix="Reload the page.")
        link.revoked_at = link.revoked_at or datetime.now(UTC)
        session.add(link)
        audit.record(
            session,
            actor=actor.username,
            action="revoke",
            entity="display_link",
            entity_id=link.id,
            summary=f"Wall-screen link “{link.name}”",
        )


def list_display_links(ws: Workspace, actor: Actor) -> list[dict]:
    """Every link with its state (active, expired, revoked); never the token."""
    require(actor, Action.MANAGE_DISPLAY_LINKS)
    now = datetime.now(UTC)
    with read_session(ws.engine) as session:
        rows = session.exec(select(DisplayLink).order_by(col(DisplayLink.id).desc())).all()
    out = []
    for link in rows:
        expires = link.expires_at.replace(tzinfo=link.expires_at.tzinfo or UTC)
        state = "revoked" if link.revoked_at else ("expired" if expires <= now else "active")
        out.append(
            {"id": link.id, "name": link.name, "state": state, "created_by": link.created_by,
             "created_at": link.created_at, "expires_at": link.expires_at,
             "refresh_seconds": link.refresh_seconds, "last_used_at": link.last_used_at}
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class WallAccess:
    """Proof that a valid display token was presented; opens the wall screen only."""

    link_id: int
    name: str
    refresh_seconds: int


def open_display(ws: Workspace, token: str, now: datetime | None = None) -> WallAccess | None:
    """The link behind ``token`` when it is genuine, unrevoked and unexpired; else None."""
    now = now or datetime.now(UTC)
    nonce, _, signature = (token or "").partition(".")
    if not nonce or not hmac.compare_digest(signature, _signature(ws, nonce)):
        return None
    with read_session(ws.engine) as session:
        link = session.exec(
            select(DisplayLink).where(DisplayLink.token_hash == _hash(token))
        ).first()
    if link is None or link.revoked_at is not None:
        return None
    if link.expires_at.replace(tzinfo=link.expires_at.tzinfo or UTC) <= now:
        return None
    last = link.last_used_at
    if last is None or last.replace(tzinfo=last.tzinfo or UTC) < now - timedelta(minutes=5):
        with transaction(ws) as session:
            fresh = session.get(DisplayLink, link.id)
            fresh.last_used_at = now
            session.add(fresh)
    return WallAccess(link.id, link.name, link.refresh_seconds)


@dataclass(frozen=True)
class Tile:
    """One flow on the wall: green (all checks pass), amber (a lower-severity check fails),
    red (a critical or high check fails), grey (disabled, or nothing measured yet)."""

    flow: str
    colour: str
    failing: int
    measured: int


@dataclass(frozen=True)
class WallData:
    tiles: list[Tile]
    alerts: dict[str, int]
    kpis: KpiRow
    at: datetime


def wall_data(ws: Workspace, access: WallAccess, now: datetime | None = None) -> WallData:
    """Everything the wall screen shows, in three aggregate queries."""
    if not isinstance(access, WallAccess):
        raise NotFound("This display link is no longer valid.")
    now = now or datetime.now(UTC)
    failing = HealthCheck.last_status == "failing"
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(
                Integration.name,
                Integration.enabled,
                func.coalesce(
                    func.sum(
                        case(
                            (failing & col(HealthCheck.severity).in_(("critical", "high")), 1),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.coalesce(func.sum(case((failing, 1), else_=0)), 0),
                func.coalesce(
                    func.sum(
                        case((col(HealthCheck.last_status).in_(("ok", "failing")), 1), else_=0)
                    ),
                    0,
                ),
            )
            .join(
                HealthCheck,
                (HealthCheck.integration_id == Integration.id) & (HealthCheck.enabled == True),  # noqa: E712
                isouter=True,
            )
            .group_by(Integration.id, Integration.name, Integration.enabled)
            .order_by(Integration.name)
        ).all()
        counts = open_counts(session)
        figures = figures_by(
            session, "all", now - timedelta(hours=KPI_HOURS), now, latest=KPI_LATEST_CALLS
        )
    tiles = []
    for name, enabled, severe, bad, measured in rows:
        if not enabled or not measured:
            colour = "grey"
        elif severe:
            colour = "red"
        elif bad:
            colour = "amber"
        else:
            colour = "green"
        tiles.append(Tile(name, colour, int(bad), int(measured)))
    return WallData(tiles, counts, row_from("All flows", figures.get("All flows")), now)
