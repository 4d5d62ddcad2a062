"""Which records of a page may pass on to the hub and the destination.

A person on the suppression list (they asked to be deleted) never comes back, whatever
flow brings them. The gate reads the list once per run and then only what was added since
(``refresh``); the page's write transaction refreshes it once more (``drop_late``), so a
deletion executed while a run is under way holds for the hub from the next commit on. A flow that requires a consent purpose lets through only people who
gave it: consent this very record carries, else the newest consent on file. Consent a flow
carries (a source field per purpose) is recorded on the way, in the page's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from core.sync.hub import IncomingRecord, PiiGuard
from core.sync.mapping import get_path
from db.governance import Consent
from db.models import utcnow

PURPOSES = {
    "email_marketing": "E-mail marketing",
    "ad_user_data": "Ad user data",
    "ad_personalization": "Ad personalisation",
}
# values that mean "yes" when a flow does not list its own (compared case-folded)
GRANTED_VALUES = frozenset(
    {"true", "yes", "y", "1", "granted", "subscribed", "opt_in", "opted_in", "opt-in", "given"}
)


@dataclass(frozen=True)
class ConsentSource:
    """Where a flow's source records say whether the person consented to a purpose."""

    purpose: str
    field: str
    granted: frozenset[str] = GRANTED_VALUES

    def says(self, raw: dict) -> bool | None:
        value = get_path(raw, self.field)
        if value is None or value == "":
            return None
        return str(value).strip().casefold() in self.granted


def consent_sources(consent_json: str) -> list[ConsentSource]:
    """The flow's stored consent settings: ``{purpose: {"field": path, "granted": [...]}}``."""
    settings = json.loads(consent_json or "{}")
    sources = []
    for purpose, spec in settings.items():
        granted = spec.get("granted") or []
        sources.append(
            ConsentSource(
                purpose=purpose,
                field=spec["field"],
                granted=frozenset(str(v).strip().casefold() for v in granted) or GRANTED_VALUES,
            )
        )
    return sources


@dataclass
class GateOutcome:
    """What the gate did with one page."""

    passed: list[IncomingRecord] = field(default_factory=list)
    suppressed: int = 0
    no_consent: int = 0
    # (digest, purpose) → granted, to record with the page
    consents: dict[tuple[str, str], bool] = field(default_factory=dict)


_SINCE = text("SELECT id, email_digest FROM suppressions WHERE id > :seen")


class RecordGate:
    """Suppression and consent for one flow's run."""

    def __init__(
        self,
        guard: PiiGuard,
        *,
        sources: list[ConsentSource],
        required_purpose: str,
        source_name: str,
        integration_id: int | None,
    ) -> None:
        self.guard = guard
        self.sources = sources
        self.required = required_purpose
        self.source_name = source_name
        self.integration_id = integration_id
        self._suppressed: set[str] = set()
        self._seen_id = 0

    @property
    def needs_store(self) -> bool:
        """Whether sorting a page reads the store (consent on file for a required purpose)."""
        return bool(self.required)

    def refresh(self, session: Session) -> set[str]:
        """Read the suppression list's entries added since the last read; returns them."""
        # a fixed statement run once per page: plain SQL keeps it cheap
        rows = session.execute(_SINCE, {"seen": self._seen_id}).all()
        added = {digest for _, digest in rows}
        if rows:
            self._seen_id = max(row_id for row_id, _ in rows)
            self._suppressed |= added
        return added

    def drop_late(self, session: Session, outcome: GateOutcome) -> None:
        """In the page's write transaction: leave out people suppressed meanwhile."""
        late = self.refresh(session)
        if not late:
            return
        kept = [r for r in outcome.passed if r.digest not in late]
        outcome.suppressed += len(outcome.passed) - len(kept)
        outcome.passed = kept
        for digest, purpose in [k for k in outcome.consents if k[0] in late]:
            del outcome.consents[(digest, purpose)]

    def sort(self, session: Session | None, page: list[tuple[dict, IncomingRecord]]) -> GateOutcome:
        """Split a page into what passes and what is left out (read-only). ``session`` is
        needed only when ``needs_store``; given, the suppression list is refreshed too."""
        outcome = GateOutcome()
        digest_of, email_of = self.guard.digest, self.guard.fields.email_of
        digests = [digest_of(email_of(r.fields)) for _, r in page]
        known = {d for d in digests if d}
        if session is not None:
            self.refresh(session)
        suppressed = self._suppressed
        for (raw, _), digest in zip(page, digests, strict=True):
            if digest and digest not in self._suppressed:
                for source in self.sources:
                    said = source.says(raw)
                    if said is not None:
                        outcome.consents[(digest, source.purpose)] = said
        on_file = self._on_file(session, known, outcome.consents) if session else {}
        for (_, record), digest in zip(page, digests, strict=True):
            if digest in suppressed:
                outcome.suppressed += 1
            elif self.required and not outcome.consents.get(
                (digest, self.required), on_file.get(digest, False)
            ):
                outcome.no_consent += 1
            else:
                record.digest = digest or record.digest
                outcome.passed.append(record)
        return outcome

    def _on_file(
        self, session: Session, digests: set[str], carried: dict[tuple[str, str], bool]
    ) -> dict[str, bool]:
        wanted = {d for d in digests if (d, self.required) not in carried}
        if not self.required or not wanted:
            return {}
        rows = session.exec(
            select(Consent.email_digest, Consent.granted).where(
                Consent.purpose == self.required, Consent.email_digest.in_(wanted)
            )
        )
        return dict(rows.all())

    def record(self, session: Session, outcome: GateOutcome) -> None:
        """Store the consent the page carried (newest wins), in the page's transaction."""
        if not outcome.consents:
            return
        dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
        now = utcnow()
        rows = [
            {
                "email_digest": digest,
                "purpose": purpose,
                "granted": granted,
                "source": self.source_name[:120],
                "integration_id": self.integration_id,
                "recorded_at": now,
            }
            for (digest, purpose), granted in outcome.consents.items()
        ]
        statement = dialect.insert(Consent.__table__)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["email_digest", "purpose"],
                set_={
                    "granted": statement.excluded.granted,
                    "source": statement.excluded.source,
                    "integration_id": statement.excluded.integration_id,
                    "recorded_at": statement.excluded.recorded_at,
                },
            ),
            rows,
        )
