"""What `GET /metrics` exposes, in Prometheus' text format (prometheus-client).

Counted by this process, since it started (each replica exposes its own; sum them), in
bot/metrics.py (a leaf module, so that the gateway, the outbox and the tick may count):

* pmo_deliveries_total{kind, state}: deliveries that reached a final state here (sent,
  skipped, failed), by kind (prompt, reminder, digest, …);
* pmo_delivery_retries_total{kind}: transient failures put back for another attempt;
* pmo_slack_calls_total{method}, pmo_slack_rate_limited_total{method}: Web API calls the
  product made, and Slack's 429 answers (each retried after its Retry-After);
* pmo_tick_duration_seconds: how long each tick took (a histogram).

Read from the database at each scrape (the same on every replica):

* pmo_outbox_backlog: deliveries pending and due; pmo_outbox_oldest_pending_seconds: how long
  the oldest of them has waited (0 without any);
* pmo_reports_this_period: projects whose current period has its report (the read model's
  standings in state `done`);
* pmo_slack_token_refused: 1 while Slack refuses the bot token (bot/slack/access.py: nothing
  is planned or sent), else 0: the one to alert on after an uninstall.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from bot.periods.state import PeriodState
from storage import deliveries, standings


class DatabaseGauges(Collector):
    """The outbox's backlog, this period's reports and whether Slack refuses the bot token,
    read at each scrape (three statements)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        refused: Callable[[], bool] = lambda: False,
    ) -> None:
        self._sessions, self._clock, self._refused = sessions, clock, refused

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self._clock()
        with self._sessions.begin() as session:
            pending, oldest = deliveries.backlog(session, at=now)
            done = sum(
                g.count for g in standings.groups(session) if g.state == PeriodState.DONE.value
            )
        yield GaugeMetricFamily(
            "pmo_outbox_backlog", "Deliveries pending and due, not yet sent", value=pending
        )
        waited = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "pmo_outbox_oldest_pending_seconds",
            "How long the oldest pending delivery has been due",
            value=waited,
        )
        yield GaugeMetricFamily(
            "pmo_reports_this_period",
            "Projects whose current period has its report",
            value=done,
        )
        yield GaugeMetricFamily(
            "pmo_slack_token_refused",
            "1 while Slack refuses the bot token (nothing is planned or sent), else 0",
            value=1 if self._refused() else 0,
        )


def database_registry(
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    refused: Callable[[], bool] = lambda: False,
) -> CollectorRegistry:
    """A registry of the database gauges (one per app, so that tests may build several)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseGauges(sessions, clock, refused))
    return registry


def exposition(database: CollectorRegistry) -> bytes:
    """The text `/metrics` answers: the process's counters (prometheus-client's default
    registry, which also holds the process's CPU, memory and open files) and `database`'s
    gauges."""
    return generate_latest(REGISTRY) + generate_latest(database)
