"""What replicas share beyond the outbox: the workspace send budget, leases on jobs one
replica does for all, and the bot tokens Slack has refused. All are single rows, written in
short transactions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import LeaseRow, SendBudgetRow, SlackAccessRow
from storage.records import AccessRefusal, SendBudget
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


def refuse_access(session: Session, token_key: str, *, reason: str, at: datetime) -> bool:
    """Record that Slack refused the token `token_key`; True if it was not recorded yet (an
    earlier refusal keeps its reason and time)."""
    inserted = session.execute(
        insert_for(session, SlackAccessRow)
        .values(token_key=token_key, reason=reason[:500], since=at, checked_at=at)
        .on_conflict_do_nothing()
        .returning(SlackAccessRow.token_key)
    ).scalar_one_or_none()
    return inserted is not None


def find_refusal(session: Session, token_key: str) -> AccessRefusal | None:
    row = session.get(SlackAccessRow, token_key)
    if row is None:
        return None
    return AccessRefusal(reason=row.reason, since=row.since, checked_at=row.checked_at)


def claim_access_check(
    session: Session, token_key: str, *, now: datetime, every: timedelta
) -> bool:
    """Whether this caller should try the refused token again now: True for one caller per
    `every` across replicas (its check time is moved to `now` in the same statement)."""
    claimed = session.execute(
        update(SlackAccessRow)
        .where(SlackAccessRow.token_key == token_key, SlackAccessRow.checked_at <= now - every)
        .values(checked_at=now)
        .returning(SlackAccessRow.token_key)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return claimed is not None


def restore_access(session: Session, token_key: str) -> bool:
    """The token works again: forget its refusal. True if there was one."""
    result = session.execute(
        delete(SlackAccessRow)
        .where(SlackAccessRow.token_key == token_key)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def claim_turn(session: Session, name: str, *, now: datetime, every: timedelta) -> bool:
    """Whether the job `name`, done by one replica for all at most once per `every`, is this
    caller's to do now: True for the first caller after each `every` (one statement; a row of
    `leases` whose expiry is the next turn)."""
    insert = insert_for(session, LeaseRow).values(name=name, holder="turn", expires_at=now + every)
    taken = session.execute(
        insert.on_conflict_do_update(
            index_elements=[LeaseRow.name],
            set_={"expires_at": now + every},
            where=LeaseRow.expires_at <= now,
        ).returning(LeaseRow.name)
    ).scalar_one_or_none()
    return taken is not None


def hasten_turn(session: Session, name: str, *, now: datetime) -> None:
    """Make the job `name` due at the next claim (`claim_turn`) after `now`: a write it should
    look at soon (one statement; nothing when no turn was ever claimed)."""
    session.execute(
        update(LeaseRow)
        .where(LeaseRow.name == name, LeaseRow.expires_at > now)
        .values(expires_at=now)
    )
