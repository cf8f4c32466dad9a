"""What replicas share beyond the outbox: the workspace send budget, and leases on jobs one
replica does for all. Both are single rows, written in short transactions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import LeaseRow, SendBudgetRow
from storage.records import SendBudget
from storage.upsert import insert_for


def lock_budget(session: Session, name: str, *, start: SendBudget) -> SendBudget:
    """The budget `name`, locked until the transaction ends (SELECT … FOR UPDATE: the other
    replicas' posts wait for this one's slot); created as `start` on first use."""
    query = select(SendBudgetRow).where(SendBudgetRow.name == name).with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        session.execute(
            insert_for(session, SendBudgetRow)
            .values(
                name=name,
                rate=start.rate,
                due=start.due,
                last_at=start.last_at,
                calm_until=start.calm_until,
            )
            .on_conflict_do_nothing()
        )
        row = session.scalars(query).one()
    return SendBudget(rate=row.rate, due=row.due, last_at=row.last_at, calm_until=row.calm_until)


def save_budget(session: Session, name: str, budget: SendBudget) -> None:
    session.execute(
        update(SendBudgetRow)
        .where(SendBudgetRow.name == name)
        .values(
            rate=budget.rate,
            due=budget.due,
            last_at=budget.last_at,
            calm_until=budget.calm_until,
        )
        .execution_options(synchronize_session=False)
    )


def take_lease(
    session: Session, name: str, holder: str, *, now: datetime, lease_for: timedelta
) -> bool:
    """Take (or renew) the lease `name` for `holder` until `now + lease_for`: True unless
    another holder has it and it has not run out. One statement."""
    insert = insert_for(session, LeaseRow).values(
        name=name, holder=holder, expires_at=now + lease_for
    )
    taken = session.execute(
        insert.on_conflict_do_update(
            index_elements=[LeaseRow.name],
            set_={"holder": holder, "expires_at": now + lease_for},
            where=(LeaseRow.holder == holder) | (LeaseRow.expires_at <= now),
        ).returning(LeaseRow.holder)
    ).scalar_one_or_none()
    return taken == holder


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease back (if `holder` still has it), so another may take it at once."""
    session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))
