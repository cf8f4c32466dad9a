"""Is this process alive, and ready for Slack's requests? What `/healthz` and `/readyz` answer.

* alive (`/healthz`, for a restart policy): the process answers, and its scheduler, when it
  runs one, has not stopped;
* ready (`/readyz`, for a load balancer and the image's HEALTHCHECK): alive, the database
  answers, its schema is the one this version expects, Slack has not refused the bot token
  (bot.slack.access: while it does, nothing is planned or sent), and the last tick finished
  less than TICK_STALE_AFTER ago (counted from the start until the first tick has finished,
  so that a replica starting up is ready while its first tick runs, and one whose ticks hang
  is not).

Each answer is a status code and a JSON body naming every check and, when one fails, why.
Time is an input (`now`); nothing here reads the clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import redact_url
from storage.db import SCHEMA_HEAD, schema_revision

TICK_STALE_AFTER = timedelta(minutes=3)
OK, UNAVAILABLE = 200, 503


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass
class Probe:
    """What a running `serve` knows of itself: when it started, whether it ticks, whether
    its scheduler still runs, and when its last tick finished (set by the tick's thread,
    read by the web server's)."""

    started: datetime
    ticking: bool = True
    scheduler_running: Callable[[], bool] = lambda: True
    # Why Slack refuses the bot token, in a sentence, or None (bot.slack.access); asked only
    # when the database answers at the expected schema.
    slack_refusal: Callable[[], str | None] = lambda: None
    _last_tick: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick_finished(self, at: datetime) -> None:
        with self._lock:
            self._last_tick = at

    @property
    def last_tick(self) -> datetime | None:
        with self._lock:
            return self._last_tick


def liveness(probe: Probe) -> Answer:
    """Alive unless the scheduler this process should run has stopped."""
    if probe.ticking and not probe.scheduler_running():
        return Answer(UNAVAILABLE, {"status": "failing", "scheduler": "stopped"})
    return Answer(OK, {"status": "ok", "scheduler": "running" if probe.ticking else "off"})


def readiness(probe: Probe, engine: Engine, *, now: datetime) -> Answer:
    """Ready when alive, the database answers at the schema expected, and ticks are fresh."""
    checks: dict[str, str] = {}
    problems: list[str] = []
    alive = liveness(probe)
    if alive.status != OK:
        problems.append("the scheduler has stopped")
    try:
        revision = schema_revision(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        checks["database"] = "unreachable"
        problems.append(f"the database does not answer: {redact_url(reason)}")
    else:
        checks["database"] = "ok"
        checks["schema"] = revision or "none"
        if revision != SCHEMA_HEAD:
            problems.append(
                f"the schema is at {revision or 'nothing'}, not {SCHEMA_HEAD}: "
                "run `pmo-bot db upgrade`"
            )
        else:
            _check_slack(probe, checks, problems)
    if probe.ticking:
        last = probe.last_tick
        since = last or probe.started
        age = now - since
        checks["last_tick"] = last.isoformat() if last is not None else "not yet"
        if age >= TICK_STALE_AFTER:
            seconds = int(age.total_seconds())
            problems.append(
                f"the last tick finished {seconds} s ago"
                if last is not None
                else f"no tick has finished since the start, {seconds} s ago"
            )
    else:
        checks["last_tick"] = "not ticking here (--no-scheduler)"
    body: dict[str, Any] = {"status": "not ready" if problems else "ready", "checks": checks}
    if problems:
        body["problems"] = problems
    return Answer(UNAVAILABLE if problems else OK, body)


def _check_slack(probe: Probe, checks: dict[str, str], problems: list[str]) -> None:
    try:
        refusal = probe.slack_refusal()
    except SQLAlchemyError:  # the database stopped answering since: the next probe says so
        return
    checks["slack"] = "token refused" if refusal else "ok"
    if refusal:
        problems.append(refusal)
