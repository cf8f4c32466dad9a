"""Benchmark: fan prompts out to thousands of PMs through our fake Slack, with Slack's limits.

One tick sends the week's prompt to every PM (one project each, none known to the bot yet), the
way `pmo-bot tick` does: profiles warmed with users.list, one DM each, paced by the pacer. The
fake Slack answers over real HTTP after a per-call latency and enforces Slack's published rate
limits (tiers per method; chat.postMessage 1 per second per channel and a workspace-wide rate
for the bot's DMs, which Slack does not publish: `--workspace-per-minute`, default 60).

Time is virtual where Slack's limits are concerned: the pacer and the fake's rate limiter share
a clock that is the real clock plus every second the pacer slept, so the fan-out is measured
at its real pace without waiting an hour. Prints: deliveries per (virtual) second, the share of
the allowed rate this is, 429s received, SQL statements per delivery, and wall time. Run:

    .venv/bin/python bench/fanout_bench.py [--pms 5000] [--latency-ms 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

from bot.config import load_settings
from bot.delivery.tick import tick
from bot.render import Renderer
from bot.services import Services
from bot.slack.pacing import Pacer
from bot.slack.web_api import WebApiGateway, build_client
from storage import deliveries, portfolio
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import DeliveryKind, DeliveryStatus, ProjectSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Slack lives in tests/
from tests.fakes.fake_slack import FakeSlack

THURSDAY_10_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


class VirtualClock:
    """Real monotonic time plus every second slept on it (sleeping only moves the clock)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
            self.slept += seconds


def run(pms: int, latency: float, workspace_per_minute: float, rate: float, url: str) -> None:
    clock = VirtualClock()
    fake = FakeSlack().start()
    try:
        for i in range(pms):
            fake.add_user(f"U{i:08d}", tz="Europe/Paris")
        fake.enforce_rate_limits(
            clock=clock, post_message_workspace_per_minute=workspace_per_minute
        )
        if latency:
            fake.fail_ratio("chat.postMessage", 1.0, delay=latency)
            fake.fail_ratio("users.list", 1.0, delay=latency)

        engine = make_engine(url)
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as session:
            portfolio.upsert_projects(
                session,
                [
                    ProjectSpec(key=f"P{i:05d}", name=f"Project {i}", pm=f"U{i:08d}")
                    for i in range(pms)
                ],
                now=THURSDAY_10_PARIS,
            )
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine, "before_cursor_execute", count)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": fake.bot_token,
                "SLACK_API_URL": fake.base_url,
                "DATABASE_URL": url,
                "PMO_TIMEZONE": "Europe/Paris",
                "PMO_SEND_RATE": str(rate),
            }
        )
        pacer = Pacer(post_per_second=rate, clock=clock, sleep=clock.sleep)
        client = build_client(
            token=fake.bot_token, base_url=fake.base_url, sleep=clock.sleep, pacer=pacer
        )
        services = Services(
            settings=settings,
            sessions=sessions,
            gateway=WebApiGateway(client, pacer),
            renderer=Renderer(),
            clock=lambda: THURSDAY_10_PARIS,
        )
        wall, virtual = time.perf_counter(), clock()
        result = tick(services, now=THURSDAY_10_PARIS)
        wall, virtual = time.perf_counter() - wall, clock() - virtual
        with sessions.begin() as session:
            sent = [
                d
                for d in deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)
                if d.status is DeliveryStatus.SENT
            ]
        posts = [c for c in fake.calls_to("chat.postMessage") if c.status == 200]
        assert len(sent) == pms == len(posts), (len(sent), pms, len(posts))
        allowed = min(workspace_per_minute / 60, rate) if rate else workspace_per_minute / 60
        per_second = len(sent) / virtual
        print(
            f"{pms:>6} PMs  {per_second:6.2f} deliveries/s  "
            f"{per_second / (workspace_per_minute / 60):6.1%} of the allowed "
            f"{workspace_per_minute / 60:.2f}/s  {len(fake.rate_limited_calls):>4} 429s  "
            f"{statements / pms:5.2f} SQL statements/delivery  "
            f"fan-out {virtual / 60:6.1f} min at Slack's pace, {wall:6.1f} s wall  "
            f"(failures: {len(result.failures)}, allowed by the pacer: {allowed:.2f}/s)"
        )
        engine.dispose()
    finally:
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pms", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per call, real")
    parser.add_argument("--workspace-per-minute", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1.0, help="PMO_SEND_RATE")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per size")
    args = parser.parse_args()
    for size in args.pms:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            run(size, args.latency_ms / 1000, args.workspace_per_minute, args.rate, url)


if __name__ == "__main__":
    main()
