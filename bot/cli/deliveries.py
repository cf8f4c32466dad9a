"""`pmo-bot deliveries`: what the outbox still holds or gave up on, and retrying failures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.cli.arguments import UsageError
from bot.config import Settings
from storage import deliveries, portfolio
from storage.records import Delivery, DeliveryStatus

OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


def _label(delivery: Delivery, keys: dict[int, str]) -> str:
    if delivery.project_id is not None and delivery.project_id in keys:
        return keys[delivery.project_id]
    return delivery.target.split(":", 1)[-1]


def delivery_line(delivery: Delivery, keys: dict[int, str], settings: Settings) -> str:
    when = delivery.occurrence.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")
    if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        due = f"{delivery.next_attempt_at.astimezone(settings.timezone):%Y-%m-%d %H:%M}"
        note = f"next try {due}"
        if (waits := deliveries.deferral(delivery)) is not None:
            note = f"waits until {due}: {waits}"
        if delivery.error:
            note += f" (last: {delivery.error})"
    elif delivery.status is DeliveryStatus.SENDING and delivery.lease_until is not None:
        note = (
            f"being sent (lease until {delivery.lease_until.astimezone(settings.timezone):%H:%M})"
        )
    else:
        note = delivery.error or ""
    return (
        f"{delivery.id:>7}  {delivery.kind.value:<15} {delivery.status.value:<8} "
        f"{_label(delivery, keys):<20} {when}  {delivery.attempts:>2}  {note}".rstrip()
    )


def list_or_retry(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    show_all: bool,
    retry: Sequence[int],
    out: TextIO,
) -> int:
    if retry:
        with sessions.begin() as session:
            failed = {
                d.id for d in deliveries.list_deliveries(session, statuses=[DeliveryStatus.FAILED])
            }
            unknown = sorted(set(retry) - failed)
            if unknown:
                raise UsageError(
                    f"not failed deliveries: {', '.join(map(str, unknown))} "
                    "(see `pmo-bot deliveries`); nothing was changed"
                )
            count = deliveries.retry_now(session, retry)
        print(f"{count} deliveries will be sent again at the next tick", file=out)
        return 0
    with sessions.begin() as session:
        keys = {p.id: p.key for p in portfolio.list_projects(session)}
        if show_all:
            found = deliveries.list_deliveries(session)[-200:]
        else:
            found = deliveries.list_deliveries(session, statuses=OPEN)
    if not found:
        print("no pending or failed deliveries", file=out)
        return 0
    times = f"times in {settings.timezone.key}"
    print(
        f"{'id':>7}  {'kind':<15} {'status':<8} {'for':<20} {'occurrence':<16}  try  ({times})",
        file=out,
    )
    for delivery in found:
        print(delivery_line(delivery, keys, settings), file=out)
    counts = {s: sum(1 for d in found if d.status is s) for s in DeliveryStatus}
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    print(summary, file=out)
    return 0
