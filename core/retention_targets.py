"""What each kind of retention policy removes, and how: the rows past a cutoff, counted the
same way for the preview as for the deletion, and removed one batch at a time.

Which domain a row belongs to:

- a **hub record** belongs to the domain of the flow whose run last wrote it
  (``hub_records.last_run_id`` → ``integration_runs`` → ``integrations.domain``); a record
  no run wrote (or whose flow is gone) counts as **Marketing**, the hub's home domain;
- a **run** belongs to its flow's domain; a run some hub record still names as its last
  writer is kept, so that record keeps its domain;
- a **call** belongs to its connector's domain, else its flow's; a call with neither (an
  alert delivery) counts as Marketing;
- **audit entries** belong to the whole workspace ("All").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core import audit
from db.governance import RetentionPolicy
from db.models import (
    ApiCall,
    Connector,
    FieldConflict,
    HubRecord,
    Integration,
    IntegrationRun,
    Reconciliation,
    RejectedRecord,
)

HOME_DOMAIN = "Marketing"
KINDS = {
    "hub_records": "Hub records of an entity",
    "run_history": "Run history (with rejected records and reconciliations)",
    "call_metrics": "Call metrics",
    "audit_entries": "Audit entries",
}
FINISHED = ("succeeded", "failed", "cancelled")
BATCH_SIZE = 1000
EXAMPLE_COUNT = 5


@dataclass(frozen=True)
class Target:
    """One policy's rows past its cutoff."""

    policy: RetentionPolicy
    cutoff: datetime

    def statement(self, session: Session) -> SelectOfScalar[int]:
        """The ids to remove, oldest id first."""
        kind, domain = self.policy.kind, self.policy.domain
        if kind == "audit_entries":
            return audit.prunable(session, self.cutoff)
        if kind == "hub_records":
            owner = func.coalesce(Integration.domain, HOME_DOMAIN)
            statement = (
                select(HubRecord.id)
                .outerjoin(IntegrationRun, col(IntegrationRun.id) == col(HubRecord.last_run_id))
                .outerjoin(Integration, col(Integration.id) == col(IntegrationRun.integration_id))
                .where(
                    HubRecord.entity == self.policy.entity,
                    col(HubRecord.updated_at) < self.cutoff,
                    owner == domain,
                )
            )
            return statement.order_by(col(HubRecord.id))
        if kind == "run_history":
            # a run still owning a hub record, or the run an open conflict came from, stays:
            # it is how their domain is known
            still_named = exists().where(col(HubRecord.last_run_id) == col(IntegrationRun.id))
            still_open = exists().where(
                col(FieldConflict.run_id) == col(IntegrationRun.id), FieldConflict.status == "open"
            )
            statement = (
                select(IntegrationRun.id)
                .join(Integration, col(Integration.id) == col(IntegrationRun.integration_id))
                .where(
                    Integration.domain == domain,
                    col(IntegrationRun.status).in_(FINISHED),
                    col(IntegrationRun.finished_at).is_not(None),
                    col(IntegrationRun.finished_at) < self.cutoff,
                    ~still_named,
                    ~still_open,
                )
            )
            return statement.order_by(col(IntegrationRun.id))
        owner = func.coalesce(Connector.domain, Integration.domain, HOME_DOMAIN)
        statement = (
            select(ApiCall.id)
            .outerjoin(Connector, col(Connector.id) == col(ApiCall.connector_id))
            .outerjoin(Integration, col(Integration.id) == col(ApiCall.integration_id))
            .where(col(ApiCall.at) < self.cutoff, owner == domain)
        )
        return statement.order_by(col(ApiCall.id))

    def count(self, session: Session) -> int:
        subquery = self.statement(session).subquery()
        return session.exec(select(func.count()).select_from(subquery)).one()

    def examples(self, session: Session) -> list[str]:
        """A few of the rows, named by kind and id only (never a value they hold)."""
        ids = session.exec(self.statement(session).limit(EXAMPLE_COUNT)).all()
        name = {
            "hub_records": self.policy.entity,
            "run_history": "run",
            "call_metrics": "call",
            "audit_entries": "audit entry",
        }[self.policy.kind]
        return [f"{name} #{i}" for i in ids]

    def remove_batch(self, session: Session, actor: str) -> int:
        """Remove up to ``BATCH_SIZE`` rows in the caller's transaction; how many went."""
        if self.policy.kind == "audit_entries":
            return audit.prune_chain(session, actor=actor, before=self.cutoff, limit=BATCH_SIZE)
        ids = list(session.exec(self.statement(session).limit(BATCH_SIZE)))
        if not ids:
            return 0
        if self.policy.kind == "hub_records":
            # their conflicts go with them (they may hold the records' sealed values)
            keys = select(HubRecord.external_key).where(col(HubRecord.id).in_(ids))
            session.execute(
                delete(FieldConflict).where(
                    FieldConflict.entity == self.policy.entity,
                    col(FieldConflict.external_key).in_(keys),
                )
            )
            session.execute(delete(HubRecord).where(col(HubRecord.id).in_(ids)))
        elif self.policy.kind == "run_history":
            session.execute(delete(Reconciliation).where(col(Reconciliation.run_id).in_(ids)))
            session.execute(delete(RejectedRecord).where(col(RejectedRecord.run_id).in_(ids)))
            session.execute(delete(IntegrationRun).where(col(IntegrationRun.id).in_(ids)))
        else:
            session.execute(delete(ApiCall).where(col(ApiCall.id).in_(ids)))
        return len(ids)
