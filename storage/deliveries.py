"""The record of every message the bot sends on its own, claimed before it is sent.

Sending is "claim, commit, send, mark": the claim is an INSERT that the unique constraint on
(kind, target, occurrence) lets through once, so a second tick, a restart or a second process
finds the row already there and sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import DeliveryRow
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from storage.upsert import insert_for


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery to claim: what, for whom, for which occurrence of its schedule."""

    kind: DeliveryKind
    target: str
    occurrence: datetime
    project_id: int | None = None
    subscription_id: int | None = None


def _to_delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        kind=DeliveryKind(row.kind),
        target=row.target,
        occurrence=row.occurrence,
        status=DeliveryStatus(row.status),
        project_id=row.project_id,
        subscription_id=row.subscription_id,
        channel=row.channel,
        ts=row.ts,
        error=row.error,
    )


def existing_targets(
    session: Session, kind: DeliveryKind, *, since: datetime
) -> set[tuple[str, datetime]]:
    """(target, occurrence) of the deliveries of a kind at or after `since`, in one query."""
    rows = session.execute(
        select(DeliveryRow.target, DeliveryRow.occurrence).where(
            DeliveryRow.kind == kind.value, DeliveryRow.occurrence >= since
        )
    )
    return {(target, occurrence) for target, occurrence in rows}


def claim(session: Session, claims: Sequence[Claim], *, now: datetime) -> list[Delivery]:
    """Insert the claims; return only those this call created (others already existed)."""
    if not claims:
        return []
    table = DeliveryRow.__table__
    statement = (
        insert_for(session, table)
        .values(
            [
                {
                    "kind": c.kind.value,
                    "target": c.target,
                    "occurrence": c.occurrence,
                    "project_id": c.project_id,
                    "subscription_id": c.subscription_id,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "created_at": now,
                }
                for c in claims
            ]
        )
        .on_conflict_do_nothing(index_elements=["kind", "target", "occurrence"])
        .returning(table.c.id)
    )
    ids = list(session.execute(statement).scalars())
    if not ids:
        return []
    rows = session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(ids)))
    return sorted((_to_delivery(r) for r in rows), key=lambda d: d.id)


def mark_sent(session: Session, delivery_id: int, *, channel: str, ts: str, now: datetime) -> None:
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            status=DeliveryStatus.SENT.value,
            channel=channel,
            ts=ts,
            sent_at=now,
            error=None,
            attempts=DeliveryRow.attempts + 1,
        )
    )


def mark_failed(session: Session, delivery_id: int, *, error: str) -> None:
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            status=DeliveryStatus.FAILED.value,
            error=error[:2000],
            attempts=DeliveryRow.attempts + 1,
        )
    )


def find_delivery(session: Session, delivery_id: int) -> Delivery | None:
    row = session.get(DeliveryRow, delivery_id)
    return _to_delivery(row) if row else None


def list_deliveries(session: Session, *, kind: DeliveryKind | None = None) -> list[Delivery]:
    query = select(DeliveryRow).order_by(DeliveryRow.id)
    if kind is not None:
        query = query.where(DeliveryRow.kind == kind.value)
    return [_to_delivery(r) for r in session.scalars(query)]
