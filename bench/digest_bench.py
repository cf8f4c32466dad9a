"""Benchmark: compose and render the digest for portfolios of growing size.

Prints, per size: seconds to load and compose, seconds to render to Block Kit, SQL statements,
messages posted (the channel message + its thread replies), and peak Python memory. The
portfolios are those of `pmo-bot demo --projects N --weeks W` (bot/cli/sample.py): real public
project names, PMs in a handful of timezones, ratings that drift, risks, blockers, milestones,
skipped and missing periods, built the way the product stores them. Run:

    .venv/bin/python bench/digest_bench.py [--sizes 100 500 2000] [--weeks 4] [--database-url URL]

With --database-url, give one size and an empty database (as the demo, it builds only where
there is no project yet).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bot.cli.sample import build_sample
from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.render import Renderer
from storage import portfolio
from storage.db import count_projects, make_engine, make_sessionmaker, upgrade
from storage.records import Subscription

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # a Friday at 16:00: the digest's own time
UTC_ZONE = ZoneInfo("UTC")


def fill(url: str, size: int, weeks: int) -> tuple[Subscription, datetime, float]:
    """Build the sample portfolio; return leadership's subscription, the digest's moment and
    the seconds the build took."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with make_sessionmaker(engine).begin() as session:
        sample = build_sample(session, projects=size, weeks=weeks, now=NOW, default_tz=UTC_ZONE)
    built = time.perf_counter() - started
    engine.dispose()
    return sample.subscription, sample.moment, built


def measure(url: str, size: int, weeks: int) -> str:
    subscription, moment, built = fill(url, size, weeks)
    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    sessions = make_sessionmaker(engine)
    renderer = Renderer()
    tracemalloc.start()
    started = time.perf_counter()
    with sessions.begin() as session:  # as the sender does: the subscription, then the digest
        found = portfolio.find_subscription_by_id(session, subscription.id)
        assert found is not None
        digest = build_digest(session, found, at=moment, default_tz=UTC_ZONE)
    composed = time.perf_counter()
    messages = digest_messages(renderer, digest)
    rendered = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return (
        f"| {size:>5} | {built:6.2f} | {composed - started:6.3f} | {rendered - composed:6.3f} | "
        f"{len(statements):>3} | {len(messages):>3} | {peak / 2**20:6.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--weeks", type=int, default=4, help="weeks of history (default 4)")
    parser.add_argument("--database-url", help="default: a temporary SQLite file per size")
    args = parser.parse_args()
    if args.database_url:
        engine = make_engine(args.database_url)
        held = count_projects(engine)
        engine.dispose()
        if held or len(args.sizes) != 1:
            sys.exit("--database-url: give one size and a database without projects")
    print("| projects | build s | compose s | render s | SQL statements | messages | peak MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
            print(measure(url, size, args.weeks))


if __name__ == "__main__":
    main()
