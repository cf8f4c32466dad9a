"""What the bot has raised once (bot/delivery/watch.py): a project under the cut line, a person
over 100 % in a month, each with how bad it was, so that the same news is never told twice and
worse news is."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from storage.models import AlertRow
from storage.upsert import insert_for

Raised = dict[tuple[str, str], Decimal]  # (subject, period) -> level


def raised(session: Session, kind: str) -> Raised:
    """Every alert of this kind still on record, by subject and period."""
    rows = session.execute(
        select(AlertRow.subject, AlertRow.period, AlertRow.level).where(AlertRow.kind == kind)
    )
    return {(subject, period): Decimal(level) for subject, period, level in rows}


def record_raised(
    session: Session, kind: str, entries: Iterable[tuple[str, str, Decimal]], *, at: datetime
) -> None:
    """Record alerts (subject, period, level) as raised at `at`, replacing an earlier level."""
    for subject, period, level in entries:
        insert = insert_for(session, AlertRow.__table__).values(
            kind=kind, subject=subject, period=period, level=level, raised_at=at
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["kind", "subject", "period"],
                set_={"level": insert.excluded.level, "raised_at": insert.excluded.raised_at},
            )
        )


def forget(session: Session, kind: str, keys: Iterable[tuple[str, str]]) -> None:
    """Drop these alerts (subject, period): what was raised no longer holds, and is news again
    if it comes back."""
    wanted = list(keys)
    if wanted:
        session.execute(
            delete(AlertRow).where(
                AlertRow.kind == kind, tuple_(AlertRow.subject, AlertRow.period).in_(wanted)
            )
        )
