"""The outbox: every message the bot sends on its own, recorded before it is sent.

A delivery's life: `record` inserts it (the unique key (kind, target, occurrence) lets it through
once, whatever the number of ticks, restarts or replicas), `lease` hands due ones to one worker
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so replicas never take the same row), and the
worker counts an attempt just before it calls Slack, then marks it `sent`, schedules a retry, or
marks it `failed` or `skipped`; its composer may also `defer` it to a later time. A lease that runs
out means its worker died: the next lease hands it out again, and if an attempt had started, the
worker checks Slack for the message first. A worker that stops cleanly `release`s the leases it
did not use, so they are sent at once by the next.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, delete, exists, func, or_, select, tuple_, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from storage.bulk import among, rows_by_id
from storage.models import DeliveryRow
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from storage.standings import invalidate
from storage.upsert import ROWS_PER_STATEMENT, insert_for

FINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
DEFERRED = "deferred"  # the payload key `defer` keeps its reason and time under
KEPT_PER_TARGET = 3  # never purged: the newest deliveries of each kind and target (purge_finished)


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery to record: what, for whom, for which occurrence of its schedule."""

    kind: DeliveryKind
    target: str
    occurrence: datetime
    project_id: int | None = None
    subscription_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


# a delivery's project (none for a digest's): `among` reads thousands of ids in one parameter
_PROJECT_ID = cast(InstrumentedAttribute[int], DeliveryRow.project_id)


def _to_delivery(row: Any) -> Delivery:
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
        attempts=row.attempts,
        payload=dict(row.payload or {}),
        next_attempt_at=row.next_attempt_at,
        lease_until=row.lease_until,
        created_at=row.created_at,
        sent_at=row.sent_at,
        finished_at=row.finished_at,
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


def recorded(
    session: Session, kind: DeliveryKind, occurrences: Collection[tuple[int, datetime]]
) -> set[tuple[int, datetime]]:
    """Which (project id, occurrence) pairs have a delivery of `kind` recorded, in one
    statement."""
    if not occurrences:
        return set()
    rows = session.execute(
        select(DeliveryRow.project_id, DeliveryRow.occurrence).where(
            DeliveryRow.kind == kind.value,
            tuple_(DeliveryRow.project_id, DeliveryRow.occurrence).in_(list(occurrences)),
        )
    )
    return {(pid, occurrence) for pid, occurrence in rows if pid is not None}


# what a project's standing rests on among the deliveries (its due_at says whether they are
# recorded)
_STANDING_KINDS = frozenset({DeliveryKind.PROMPT, DeliveryKind.REMINDER})


def enqueue(session: Session, claims: Sequence[Claim], *, now: datetime) -> list[int]:
    """Insert the claims as pending deliveries due at `now`; return the ids of those this call
    created (a claim whose key exists already is left as it is)."""
    created: list[int] = []
    for start in range(0, len(claims), ROWS_PER_STATEMENT):
        created.extend(_record_chunk(session, claims[start : start + ROWS_PER_STATEMENT], now=now))
    return created


def _record_chunk(session: Session, claims: Sequence[Claim], *, now: datetime) -> list[int]:
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
                    "payload": c.payload,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for c in claims
            ]
        )
        .on_conflict_do_nothing(index_elements=["kind", "target", "occurrence"])
        .returning(table.c.id)
    )
    created = list(session.execute(statement).scalars())
    planned = {c.project_id for c in claims if c.kind in _STANDING_KINDS and c.project_id}
    if created and planned:  # a period's prompt or reminder: the read model rests on them
        invalidate(session, planned)
    return created


def lease(session: Session, *, now: datetime, lease_for: timedelta, limit: int) -> list[Delivery]:
    """Take up to `limit` deliveries that are due (pending and due, or leased by a worker whose
    lease ran out) for this worker until `now + lease_for`. Two statements; on PostgreSQL the
    rows are locked with SKIP LOCKED, so concurrent workers get disjoint batches."""
    due = or_(
        and_(
            DeliveryRow.status == DeliveryStatus.PENDING.value,
            DeliveryRow.next_attempt_at <= now,
        ),
        and_(
            DeliveryRow.status == DeliveryStatus.SENDING.value,
            DeliveryRow.lease_until <= now,
        ),
    )
    rows = list(
        session.scalars(
            select(DeliveryRow)
            .where(due)
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return []
    before = [_to_delivery(r) for r in rows]
    taken = set(
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_([d.id for d in before]), due)
            .values(status=DeliveryStatus.SENDING.value, lease_until=now + lease_for)
            .returning(DeliveryRow.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    return [d for d in before if d.id in taken]


def mark_attempt(session: Session, delivery_id: int) -> None:
    """Count an attempt, just before the first call to Slack that may post: a delivery with
    attempts may already be in Slack, and is looked for there before it is sent again."""
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(attempts=DeliveryRow.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def _finish(session: Session, delivery_id: int, **values: Any) -> None:
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(
    session: Session,
    delivery_id: int,
    *,
    channel: str,
    ts: str,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Record the delivery as sent (and, when given, replace its payload with `payload`).
    A prompt sent makes its period asked: the read model rests on it."""
    extra = {"payload": payload} if payload is not None else {}
    sent = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            lease_until=None,
            status=DeliveryStatus.SENT.value,
            channel=channel,
            ts=ts,
            sent_at=now,
            finished_at=now,
            next_attempt_at=None,
            error=None,
            **extra,
        )
        .returning(DeliveryRow.kind, DeliveryRow.project_id)
        .execution_options(synchronize_session=False)
    ).first()
    if sent is not None and sent.kind == DeliveryKind.PROMPT.value and sent.project_id:
        invalidate(session, [sent.project_id])


def mark_progress(session: Session, delivery_id: int, *, channel: str, ts: str) -> None:
    """Remember where the first message of a multi-message delivery went, before the rest."""
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(channel=channel, ts=ts)
        .execution_options(synchronize_session=False)
    )


def mark_retry(session: Session, delivery_id: int, *, error: str, at: datetime) -> None:
    _finish(
        session,
        delivery_id,
        status=DeliveryStatus.PENDING.value,
        error=error[:2000],
        next_attempt_at=at,
    )


def mark_failed(session: Session, delivery_id: int, *, error: str, now: datetime) -> None:
    _finish(
        session,
        delivery_id,
        status=DeliveryStatus.FAILED.value,
        error=error[:2000],
        finished_at=now,
        next_attempt_at=None,
    )


def mark_skipped(session: Session, delivery_id: int, *, reason: str, now: datetime) -> None:
    _finish(
        session,
        delivery_id,
        status=DeliveryStatus.SKIPPED.value,
        error=reason[:2000],
        finished_at=now,
        next_attempt_at=None,
    )


def release(session: Session, delivery_ids: Collection[int], *, lease_until: datetime) -> int:
    """Hand back leases a worker took but will not use (it is stopping): the deliveries are
    pending again with no lease, due as they were, so the next worker sends them at once
    instead of when the lease would have run out. Only rows still held under this lease
    (`sending`, `lease_until` as the worker's) change; return how many."""
    if not delivery_ids:
        return 0
    result = session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id.in_(list(delivery_ids)),
            DeliveryRow.status == DeliveryStatus.SENDING.value,
            DeliveryRow.lease_until == lease_until,
        )
        .values(status=DeliveryStatus.PENDING.value, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def defer(session: Session, delivery_id: int, *, until: datetime, reason: str) -> None:
    """Put a leased delivery back to wait until `until` (outside someone's working hours...):
    pending, no lease, no attempt counted and `error` left as it was (a deferral is not a
    failure, and says nothing about whether it is in Slack already). The reason is kept in the
    payload under DEFERRED with the time, for `deferral` to tell why it waits."""
    row = session.get(DeliveryRow, delivery_id)
    if row is None:
        return
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id)
        .values(
            status=DeliveryStatus.PENDING.value,
            lease_until=None,
            next_attempt_at=until,
            payload={
                **(row.payload or {}),
                DEFERRED: {"reason": reason[:2000], "until": until.astimezone(UTC).isoformat()},
            },
        )
        .execution_options(synchronize_session=False)
    )


def deferral(delivery: Delivery) -> str | None:
    """Why a pending delivery waits, if it waits because its composer deferred it (and not for
    a retry scheduled since): the reason given to `defer`, else None."""
    deferred = (delivery.payload or {}).get(DEFERRED)
    if (
        delivery.status is not DeliveryStatus.PENDING
        or not isinstance(deferred, dict)
        or delivery.next_attempt_at is None
    ):
        return None
    if deferred.get("until") != delivery.next_attempt_at.astimezone(UTC).isoformat():
        return None
    return str(deferred.get("reason") or "")


def retry_now(session: Session, delivery_ids: Collection[int]) -> int:
    """Put failed deliveries back in the queue (an admin's retry); return how many."""
    result = session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.id.in_(list(delivery_ids)),
            DeliveryRow.status == DeliveryStatus.FAILED.value,
        )
        .values(
            status=DeliveryStatus.PENDING.value,
            next_attempt_at=DeliveryRow.created_at,  # due at once, whatever clock ticks next
            finished_at=None,
            attempts=0,  # a fresh set of attempts; `error` stays, so Slack is checked first
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def find_delivery(session: Session, delivery_id: int) -> Delivery | None:
    row = session.get(DeliveryRow, delivery_id)
    return _to_delivery(row) if row else None


def backlog(session: Session, *, at: datetime) -> tuple[int, datetime | None]:
    """How many deliveries are pending and due at `at` (not yet sent, their next attempt
    come), and the earliest of their due times: what the outbox has not caught up with."""
    query = select(func.count(), func.min(DeliveryRow.next_attempt_at)).where(
        DeliveryRow.status == DeliveryStatus.PENDING.value,
        DeliveryRow.next_attempt_at <= at,
    )
    count, oldest = session.execute(query).one()
    return int(count or 0), oldest


def list_deliveries(
    session: Session,
    *,
    kind: DeliveryKind | None = None,
    statuses: Collection[DeliveryStatus] = (),
    limit: int | None = None,
) -> list[Delivery]:
    query = select(DeliveryRow).order_by(DeliveryRow.id)
    if kind is not None:
        query = query.where(DeliveryRow.kind == kind.value)
    if statuses:
        query = query.where(DeliveryRow.status.in_([s.value for s in statuses]))
    if limit is not None:
        query = query.limit(limit)
    return [_to_delivery(r) for r in session.scalars(query)]


def find_deliveries(session: Session, delivery_ids: Collection[int]) -> dict[int, Delivery]:
    """Deliveries by id (those that exist), in one statement."""
    return rows_by_id(session, DeliveryRow, delivery_ids, _to_delivery)


def first_occurrences_from(
    session: Session, kind: DeliveryKind, project_ids: Collection[int], at: datetime
) -> dict[int, datetime]:
    """For each project that has one, its earliest delivery of a kind for an occurrence at or
    after `at` (one statement)."""
    if not project_ids:
        return {}
    query = (
        select(DeliveryRow.project_id, func.min(DeliveryRow.occurrence))
        .where(
            DeliveryRow.kind == kind.value,
            among(session, _PROJECT_ID, project_ids),
            DeliveryRow.occurrence >= at,
        )
        .group_by(DeliveryRow.project_id)
    )
    return {pid: occurrence for pid, occurrence in session.execute(query) if pid is not None}


def recent_per_project(
    session: Session,
    kind: DeliveryKind,
    project_ids: Collection[int],
    *,
    per_project: int,
    before: datetime | None = None,
) -> dict[int, list[Delivery]]:
    """The newest `per_project` deliveries of a kind for each project (newest first; only those
    whose occurrence is before `before`, if given), in one statement whatever their number."""
    if not project_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=DeliveryRow.project_id, order_by=DeliveryRow.occurrence.desc())
        .label("rank")
    )
    query = select(DeliveryRow.id, rank).where(
        DeliveryRow.kind == kind.value, among(session, _PROJECT_ID, project_ids)
    )
    if before is not None:
        query = query.where(DeliveryRow.occurrence < before)
    inner = query.subquery()
    rows = session.scalars(
        select(DeliveryRow)
        .join(inner, inner.c.id == DeliveryRow.id)
        .where(inner.c.rank <= per_project)
        .order_by(DeliveryRow.project_id, DeliveryRow.occurrence.desc())
    )
    result: dict[int, list[Delivery]] = {pid: [] for pid in project_ids}
    for row in rows:
        if row.project_id is not None:
            result[row.project_id].append(_to_delivery(row))
    return result


def sent_digests(
    session: Session, subscription_ids: Collection[int], *, after: datetime
) -> list[Delivery]:
    """Digests posted for these subscriptions whose occurrence is after `after`, oldest first."""
    if not subscription_ids:
        return []
    rows = session.scalars(
        select(DeliveryRow)
        .where(
            DeliveryRow.kind == DeliveryKind.DIGEST.value,
            DeliveryRow.status == DeliveryStatus.SENT.value,
            DeliveryRow.subscription_id.in_(list(subscription_ids)),
            DeliveryRow.occurrence > after,
        )
        .order_by(DeliveryRow.occurrence, DeliveryRow.id)
    )
    return [_to_delivery(r) for r in rows]


def finished_since(
    session: Session, status: DeliveryStatus, *, since: datetime, exclude: DeliveryKind
) -> list[Delivery]:
    """Deliveries that ended in `status` after `since` (other than those of kind `exclude`)."""
    rows = session.scalars(
        select(DeliveryRow)
        .where(
            DeliveryRow.status == status.value,
            DeliveryRow.finished_at > since,
            DeliveryRow.kind != exclude.value,
        )
        .order_by(DeliveryRow.finished_at, DeliveryRow.id)
    )
    return [_to_delivery(r) for r in rows]


def find_occurrence(
    session: Session, kind: DeliveryKind, target: str, occurrence: datetime
) -> Delivery | None:
    """The delivery of a kind to a target for one occurrence (the outbox's unique key)."""
    row = session.scalar(
        select(DeliveryRow).where(
            DeliveryRow.kind == kind.value,
            DeliveryRow.target == target,
            DeliveryRow.occurrence == occurrence,
        )
    )
    return _to_delivery(row) if row else None


def latest_of_kind(session: Session, kind: DeliveryKind, target: str) -> Delivery | None:
    row = session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.kind == kind.value, DeliveryRow.target == target)
        .order_by(DeliveryRow.occurrence.desc())
        .limit(1)
    ).first()
    return _to_delivery(row) if row else None


def latest_sent_digest(
    session: Session, subscription_id: int, *, before: datetime
) -> Delivery | None:
    """The last digest posted for a subscription before `before` (what leadership last saw)."""
    row = session.scalars(
        select(DeliveryRow)
        .where(
            DeliveryRow.kind == DeliveryKind.DIGEST.value,
            DeliveryRow.status == DeliveryStatus.SENT.value,
            DeliveryRow.subscription_id == subscription_id,
            DeliveryRow.occurrence < before,
        )
        .order_by(DeliveryRow.occurrence.desc())
        .limit(1)
    ).first()
    return _to_delivery(row) if row else None


def find_sent_digest(session: Session, *, channel: str, ts: str) -> Delivery | None:
    """The posted digest whose first message is `ts` in `channel`, if any."""
    row = session.scalars(
        select(DeliveryRow).where(
            DeliveryRow.kind == DeliveryKind.DIGEST.value,
            DeliveryRow.status == DeliveryStatus.SENT.value,
            DeliveryRow.channel == channel,
            DeliveryRow.ts == ts,
        )
    ).first()
    return _to_delivery(row) if row else None


def latest_sent_digests(session: Session, subscription_ids: Collection[int]) -> Delivery | None:
    """The newest posted digest of any of these subscriptions."""
    if not subscription_ids:
        return None
    row = session.scalars(
        select(DeliveryRow)
        .where(
            DeliveryRow.kind == DeliveryKind.DIGEST.value,
            DeliveryRow.status == DeliveryStatus.SENT.value,
            DeliveryRow.subscription_id.in_(list(subscription_ids)),
        )
        .order_by(DeliveryRow.occurrence.desc(), DeliveryRow.id.desc())
        .limit(1)
    ).first()
    return _to_delivery(row) if row else None


def purge_finished(session: Session, *, before: datetime) -> int:
    """Delete the deliveries that reached a final state (sent, failed, skipped) before
    `before`: the outbox's history past the retention (bot/operations/retention.py). Whatever
    their age, the newest KEPT_PER_TARGET of each kind and target stay, and the newest sent
    one: the bot still reads them (a project's last three prompts place its current period
    and tell an escalation; a channel's last digest sent is what the next one compares with).
    Returns how many went."""
    rank = (
        func.row_number()
        .over(
            partition_by=(DeliveryRow.kind, DeliveryRow.target),
            order_by=DeliveryRow.occurrence.desc(),
        )
        .label("rank")
    )
    ranked = select(DeliveryRow.id, rank).subquery()
    old_enough = select(ranked.c.id).where(ranked.c.rank > KEPT_PER_TARGET)
    newer = aliased(DeliveryRow)
    newer_sent = exists().where(
        newer.kind == DeliveryRow.kind,
        newer.target == DeliveryRow.target,
        newer.occurrence > DeliveryRow.occurrence,
        newer.status == DeliveryStatus.SENT.value,
    )
    result = session.execute(
        delete(DeliveryRow)
        .where(
            DeliveryRow.status.in_([s.value for s in FINAL]),
            DeliveryRow.finished_at < before,
            DeliveryRow.id.in_(old_enough),
            newer_sent,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
