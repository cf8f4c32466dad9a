"""Benchmark: compose and render the digest for portfolios of growing size.

Prints, per size: seconds to load and compose, seconds to render to Block Kit, SQL statements,
messages posted (the channel message + its thread replies), and peak Python memory. Each
project has two open risks and a milestone; every third one a blocker asking for leadership.
Run:

    .venv/bin/python bench/digest_bench.py [--sizes 100 500 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.render import Renderer
from storage import items, portfolio, reports, users
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import (
    BlockerSpec,
    MilestoneSpec,
    ProjectSpec,
    Rag,
    ReportDraft,
    RiskSpec,
    SlackUser,
    SubscriptionSpec,
)

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
THURSDAY = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def fill(url: str, size: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        portfolio.upsert_projects(
            session,
            [
                ProjectSpec(
                    key=f"P{i:05d}", name=f"Project {i}", pm=f"U{i:08d}", priority=i % 5 + 1
                )
                for i in range(size)
            ],
            now=AT,
        )
        portfolio.upsert_subscriptions(session, [SubscriptionSpec(channel="C0LEADERS")], now=AT)
        for project in portfolio.list_projects(session):
            users.save_user(
                session, SlackUser(project.pm, "Europe/Paris", None, f"PM {project.id}", None, AT)
            )
            items.save_risks(
                session,
                project.id,
                [
                    RiskSpec("Vendor capacity", 1 + project.id % 5, 1 + project.id // 5 % 5),
                    RiskSpec("Key users part-time", 2, 3, owner=project.pm),
                ],
                period_start=THURSDAY,
                now=AT,
            )
            items.replace_milestones(
                session,
                project.id,
                [MilestoneSpec("Go-live", (AT + timedelta(days=project.id % 30 - 10)).date())],
            )
            if project.id % 10 == 0:
                continue  # 10 % missing
            for week in range(4):
                rag = [Rag.GREEN, Rag.AMBER, Rag.RED][(project.id + week) % 3]
                reports.save_report(
                    session,
                    ReportDraft(
                        overall=rag,
                        schedule=rag,
                        budget=Rag.GREEN,
                        scope=Rag.GREEN,
                        summary="Progress as planned; vendor review next week. " * 4,
                        path_to_green=None if rag is Rag.GREEN else "Re-plan with the vendor.",
                        blockers=("Licence approval",) if rag is Rag.RED else (),
                        percent_complete=40 + week,
                    ),
                    project_id=project.id,
                    period_start=THURSDAY - timedelta(weeks=week),
                    submitted_by=project.pm,
                    submitted_at=AT,
                )
            if project.id % 3 == 0:
                items.save_blockers(
                    session,
                    project.id,
                    [BlockerSpec("Licence approval", "U0CFO0001", needs_leadership=True)],
                    period_start=THURSDAY,
                    now=AT,
                )
    engine.dispose()


def measure(url: str, size: int) -> str:
    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    sessions = make_sessionmaker(engine)
    renderer = Renderer()
    tracemalloc.start()
    started = time.perf_counter()
    with sessions.begin() as session:
        subscription = portfolio.list_subscriptions(session)[0]
        digest = build_digest(session, subscription, at=AT, default_tz=ZoneInfo("UTC"))
    composed = time.perf_counter()
    messages = digest_messages(renderer, digest)
    rendered = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return (
        f"| {size:>5} | {composed - started:6.3f} | {rendered - composed:6.3f} | "
        f"{len(statements):>3} | {len(messages):>3} | {peak / 2**20:6.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--database-url", help="default: a temporary SQLite file per size")
    args = parser.parse_args()
    print("| projects | compose s | render s | SQL statements | messages | peak MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
            fill(url, size)
            print(measure(url, size))


if __name__ == "__main__":
    main()
