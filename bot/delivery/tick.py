"""One scheduler cycle: record what is due at `now` (and, once an hour, what the planning
watch raises: bot.delivery.watch), then send what the outbox holds, then
refresh the read model's standings whose time came (bot.overview.standings), and once a day
purge what is past its retention (bot.operations.retention).

`tick` runs the same code in `pmo-bot serve` (APScheduler, every minute) and in
`pmo-bot tick [--at]`. Planning (bot.delivery.planning) records deliveries idempotently; the outbox
worker (bot.delivery.outbox) leases them, so any number of replicas can tick at the same instant and
every delivery is still sent once. An occurrence missed while the bot was down is still due
while its period lasts, because the current period is computed at `now`.

Paused: while Slack refuses the bot token (bot.slack.access: the app uninstalled, the token
revoked), a tick neither plans nor sends; it only tries the token again when that is due, and
goes on as usual in the same tick once Slack accepts it.

Stopping: with a `stop` event (set by the composition root on SIGTERM or SIGINT), the tick
leases nothing more once it is set, finishes the delivery in flight and hands back the leases
of the rest (see bot.delivery.outbox.drain).

Time: `now` is the instant the schedules are read at. While the tick works, its notion of
time flows with the process clock from there (`now` + time spent), so leases and retry times
stay meaningful during a long fan-out and under `tick --at`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.composers import composers
from bot.delivery.outbox import DrainResult, drain
from bot.delivery.planning import plan
from bot.delivery.watch import watch_when_due
from bot.governance.decisions import lapse_overdue
from bot.metrics import TICK_SECONDS
from bot.operations.retention import purge_when_due
from bot.overview.standings import refresh_expired
from bot.services import Services
from bot.slack.access import is_refusal
from bot.slack.gateway import SlackError
from storage import portfolio
from storage.records import DeliveryKind

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickResult:
    at: datetime
    recorded: int  # deliveries this tick found due and recorded
    sent: dict[DeliveryKind, int]
    skipped: int
    retrying: int  # transient failures, to be tried again later
    failures: tuple[str, ...]  # deliveries that failed for good during this tick
    deferred: int = 0  # put back by their composer until a later time
    handed_back: int = 0  # leased but left unsent because the tick was asked to stop
    stopped: bool = False  # the tick was asked to stop before the outbox was empty
    paused: str | None = None  # why nothing (more) was planned or sent: Slack refuses the token

    @property
    def prompts_sent(self) -> int:
        return self.sent.get(DeliveryKind.PROMPT, 0)

    @property
    def digests_sent(self) -> int:
        return self.sent.get(DeliveryKind.DIGEST, 0)

    @property
    def reminders_sent(self) -> int:
        return self.sent.get(DeliveryKind.REMINDER, 0)


def tick(
    services: Services,
    *,
    now: datetime,
    budget: timedelta | None = None,
    stop: threading.Event | None = None,
) -> TickResult:
    """Run one cycle as if the time were `now` (aware). With a `budget`, stop sending once that
    much time has passed (what is left is sent by the next tick), so a long fan-out does not
    delay planning. Once `stop` is set, send nothing more than the delivery in flight."""
    started = services.clock()

    def flowing() -> datetime:
        return now + (services.clock() - started)

    with services.sessions.begin() as session:  # before planning: what is due reads it
        lapse_overdue(session, today=now.astimezone(services.settings.timezone).date(), now=now)
    access = services.access
    refusal = access.paused()
    paused = refusal.reason if refusal is not None else None
    recorded, result = 0, DrainResult()
    if paused is None:
        try:
            recorded = plan(services, now)
        except SlackError as exc:
            if not is_refusal(exc):
                raise
            paused = f"{exc.method}: {exc.code}"
            access.refused(paused)
    if paused is None:
        try:  # hourly: under water, overloads (bot.delivery.watch); it never holds the rest up
            watch_when_due(services, now)
        except Exception:
            log.exception("the planning watch failed; the tick goes on without it")
        with services.sessions.begin() as session:
            calendar = portfolio.load_calendar(session)  # once per tick, for every composer
        result = drain(
            services,
            composers(calendar),
            now=flowing,
            until=now + budget if budget is not None else None,
            stop=stop,
        )
        paused = result.refused
    with services.sessions.begin() as session:  # ahead of the readers: what time made stale
        refresh_expired(session, at=now, default=services.settings.timezone)
    purge_when_due(services)  # once a day, by one replica (bot.operations.retention)
    TICK_SECONDS.observe((services.clock() - started).total_seconds())
    return TickResult(
        at=now,
        recorded=recorded,
        sent=dict(result.sent),
        skipped=result.skipped,
        retrying=result.retrying,
        failures=tuple(result.failures),
        deferred=result.deferred,
        handed_back=result.handed_back,
        stopped=result.stopped,
        paused=paused,
    )
