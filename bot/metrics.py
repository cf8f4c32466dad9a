"""The process's counters (prometheus-client's default registry), counted where things happen:
the Slack gateway, the outbox, the tick. A leaf module: it imports nothing of the product, so
every package may count. `GET /metrics` exposes them (bot/operations/metrics.py says what each
one means)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "pmo_deliveries",
    "Deliveries that reached a final state in this process, by kind and state",
    ["kind", "state"],
)
RETRIES = Counter(
    "pmo_delivery_retries", "Transient delivery failures put back for a retry", ["kind"]
)
SLACK_CALLS = Counter("pmo_slack_calls", "Slack Web API calls made, by method", ["method"])
SLACK_RATE_LIMITED = Counter(
    "pmo_slack_rate_limited", "Slack answers 429 (rate limited), by method", ["method"]
)
TICK_SECONDS = Histogram(
    "pmo_tick_duration_seconds",
    "How long each tick took (planning, sending, refreshing the read model)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
