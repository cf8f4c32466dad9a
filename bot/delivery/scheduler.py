"""The clock driver: APScheduler calls one tick a minute. The only APScheduler import."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def start_scheduler(run_tick: Callable[[datetime], object]) -> BackgroundScheduler:
    """Start a background scheduler that calls `run_tick(now)` every minute, first at once.

    A tick never overlaps the previous one (max_instances=1), and ticks missed while the process
    was busy are run once (coalesce). Each tick reads the wall clock exactly once, here."""

    def job() -> None:
        try:
            run_tick(datetime.now(UTC))
        except Exception:  # a failing tick must not stop the next one; the log has the trace
            log.exception("scheduler tick failed")

    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        job,
        "interval",
        minutes=1,
        id="tick",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=50,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Start no more ticks and wait for the one running, if any, to return (a tick asked to
    stop returns after the delivery in flight: see bot.delivery.tick)."""
    if scheduler.running:
        scheduler.shutdown(wait=True)
