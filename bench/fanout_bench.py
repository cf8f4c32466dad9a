"""Benchmark: fan prompts out to thousands of PMs through our fake Slack, with Slack's limits.

Every replica ticks the way `pmo-bot serve` does (once a minute, until nothing is left to send):
the week's prompt to every PM (one project each, none known to the bot yet), profiles warmed
with users.list, one DM each, paced by the replica's own pacer (per channel, and a workspace
budget that adapts between `--rate-min` and `--rate-max`, starting at `--rate`; on PostgreSQL
one budget for all the replicas, kept in the database, as `pmo-bot serve` does). Replicas are
threads, each with its own Services, pacer and Slack client, against one database. The fake
Slack answers over real HTTP after a per-call latency and enforces Slack's limits: the
published tiers per method, chat.postMessage `--channel-per-second` per channel (default 1, a
burst of 3) and `--workspace-per-minute` across the workspace (Slack does not publish it;
default 300, a minute's worth in a burst).

Time is virtual where Slack's limits are concerned: the pacers, the retries and the fake's
buckets share one clock that moves only when every replica is asleep on it (then to the
earliest wake-up), so the fan-out is measured at Slack's pace without waiting for it, and
replicas wait side by side, not one after the other. Calls themselves take no virtual time.

Prints, per run: deliveries per (virtual) second and the share of the workspace limit this is,
chat.postMessage calls answered 429 and their share, the simulated fan-out time, prompts lost
or doubled (each must be 0), the pace each replica ended at, SQL statements per delivery and
wall time. Run:

    .venv/bin/python bench/fanout_bench.py [--pms 5000] [--replicas 1 3] [--latency-ms 20]
        [--rate 1 --rate-min 0.5 --rate-max 10] [--warm-profiles] [--database-url URL]

`--warm-profiles` fills the profile cache first, as if a users.list had run, so the figures are
the posts' alone: without it, one replica pages through users.list (Tier 2, 20 a minute for the
workspace) for all, and the others plan once its list is in. `--database-url` (PostgreSQL): each
run gets a fresh database beside the one named, dropped after the run.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bot.config import load_settings
from bot.delivery.tick import tick
from bot.render import Renderer
from bot.services import Services
from bot.slack.pacing import Pacer
from bot.slack.shared_budget import SharedBudget
from bot.slack.web_api import WebApiGateway, build_client
from storage import deliveries, portfolio
from storage import users as cached_users
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import DeliveryKind, DeliveryStatus, ProjectSpec, SlackUser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fake Slack lives in tests/
from scratch_database import fresh_database

from tests.fakes.fake_slack import FakeSlack

THURSDAY_10_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
FINAL = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
TICK_EVERY = 60.0  # seconds between two ticks of a replica, as `pmo-bot serve`


class SharedClock:
    """Virtual seconds shared by the replicas' threads: a thread's sleep blocks it (for real)
    until the clock reaches its wake-up; the clock moves only when every replica still running
    is asleep, to the earliest wake-up. Threads that are not replicas (the fake's) only read."""

    def __init__(self, replicas: int, start: float = 1_000.0) -> None:
        self._changed = threading.Condition()
        self._now = start
        self._running = replicas
        self._wakeups: list[float] = []
        self.slept = 0.0

    def __call__(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._changed:
            wake = self._now + seconds
            self.slept += seconds
            self._wakeups.append(wake)
            self._advance()
            while self._now < wake:
                self._changed.wait()
            self._wakeups.remove(wake)

    def leave(self) -> None:
        """A replica is done: the others no longer wait for it to sleep."""
        with self._changed:
            self._running -= 1
            self._advance()

    def _advance(self) -> None:
        if self._wakeups and len(self._wakeups) >= self._running:
            self._now = max(self._now, min(self._wakeups))
            self._changed.notify_all()


@dataclass
class Replica:
    pacer: Pacer
    ticks: int = 0
    failures: int = 0
    error: BaseException | None = None


def run(args: argparse.Namespace, pms: int, replicas: int, url: str) -> None:
    clock = SharedClock(replicas)
    fake = FakeSlack(clock=clock).start()
    try:
        users = [f"U{i:08d}" for i in range(pms)]
        for user in users:
            fake.add_user(user, tz="Europe/Paris")
        fake.enforce_rate_limits(
            post_message_per_second=args.channel_per_second,
            post_message_workspace_per_minute=args.workspace_per_minute,
        )
        latency = args.latency_ms / 1000
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
                    ProjectSpec(key=f"P{i:05d}", name=f"Project {i}", pm=user)
                    for i, user in enumerate(users)
                ],
                now=THURSDAY_10_PARIS,
            )
        if args.warm_profiles:  # as if users.list had run before: only chat.postMessage left
            with sessions.begin() as session:
                cached_users.save_users(
                    session,
                    [
                        SlackUser(user, "Europe/Paris", None, None, None, THURSDAY_10_PARIS)
                        for user in users
                    ],
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
                "PMO_SEND_RATE": str(args.rate),
                "PMO_SEND_RATE_MIN": str(args.rate_min),
                "PMO_SEND_RATE_MAX": str(args.rate_max),
            }
        )
        started = clock()

        def at() -> datetime:
            return THURSDAY_10_PARIS + timedelta(seconds=clock() - started)

        def replica_loop(replica: Replica) -> None:
            client = build_client(
                token=fake.bot_token, base_url=fake.base_url, sleep=clock.sleep, pacer=replica.pacer
            )
            services = Services(
                settings=settings,
                sessions=sessions,
                gateway=WebApiGateway(client, replica.pacer),
                renderer=Renderer(),
                clock=at,
            )
            try:
                while True:
                    result = tick(services, now=at())
                    replica.ticks += 1
                    replica.failures += len(result.failures)
                    with sessions.begin() as session:
                        done = deliveries.list_deliveries(
                            session, kind=DeliveryKind.PROMPT, statuses=FINAL
                        )
                    if len(done) >= pms:  # every PM's prompt sent (or failed for good)
                        return
                    clock.sleep(TICK_EVERY)
            except BaseException as exc:  # reported below; the other replicas carry on
                replica.error = exc
            finally:
                clock.leave()

        shared = engine.dialect.name == "postgresql"  # as `pmo-bot serve` decides
        team = [
            Replica(
                Pacer(
                    post_per_second=settings.send_rate,
                    post_min_per_second=settings.send_rate_min,
                    post_max_per_second=settings.send_rate_max,
                    budget=SharedBudget(sessions, settings.send_rate) if shared else None,
                    clock=clock,
                    sleep=clock.sleep,
                )
            )
            for _ in range(replicas)
        ]
        threads = [
            threading.Thread(target=replica_loop, args=(r,), name=f"replica-{n}")
            for n, r in enumerate(team)
        ]
        wall = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - wall
        for replica in team:
            if replica.error is not None:
                raise replica.error

        with sessions.begin() as session:
            sent = deliveries.list_deliveries(
                session, kind=DeliveryKind.PROMPT, statuses=(DeliveryStatus.SENT,)
            )
        posts = fake.calls_to("chat.postMessage")
        accepted = [c for c in posts if c.status == 200]
        limited = [c for c in posts if c.rate_limited]
        prompts = [len(fake.messages(user)) for user in users]
        lost, doubled = prompts.count(0), sum(1 for n in prompts if n > 1)
        fan_out = max(c.at for c in accepted) - started if accepted else 0.0
        per_second = len(sent) / fan_out if fan_out else 0.0
        allowed = args.workspace_per_minute / 60
        paces = " ".join(f"{r.pacer.post_rate:.2f}" for r in team)
        _report(
            f"{pms:>6} PMs  {replicas} replica(s)  {per_second:5.2f} deliveries/s "
            f"({per_second / allowed:5.1%} of {allowed:.2f}/s)",
            f"429: {len(limited)} of {len(posts)} chat.postMessage calls "
            f"({len(limited) / max(1, len(posts)):.2%}); other methods: "
            f"{len(fake.rate_limited_calls) - len(limited)}",
            f"fan-out {fan_out / 60:5.1f} simulated min; sent {len(sent)}, lost {lost}, "
            f"doubled {doubled}, failed for good {sum(r.failures for r in team)}",
            f"pace at the end (msg/s per replica): {paces}; ticks: "
            f"{sum(r.ticks for r in team)}; {statements / pms:5.2f} SQL statements/delivery; "
            f"{wall:6.1f} s wall",
        )
        engine.dispose()
    finally:
        fake.stop()


def _report(*lines: str, out: Callable[[str], None] = print) -> None:
    out(lines[0])
    for line in lines[1:]:
        out(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pms", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1], help="threads")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="per call, real")
    parser.add_argument("--workspace-per-minute", type=float, default=300.0)
    parser.add_argument("--channel-per-second", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=1.0, help="PMO_SEND_RATE (start)")
    parser.add_argument("--rate-min", type=float, default=0.5, help="PMO_SEND_RATE_MIN")
    parser.add_argument("--rate-max", type=float, default=10.0, help="PMO_SEND_RATE_MAX")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per run")
    parser.add_argument(
        "--warm-profiles",
        action="store_true",
        help="profiles cached already (no users.list/users.info): measure the posts alone",
    )
    args = parser.parse_args()
    for size in args.pms:
        for replicas in args.replicas:
            with fresh_database(args.database_url) as url:
                run(args, size, replicas, url)


if __name__ == "__main__":
    main()
