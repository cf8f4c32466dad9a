"""Benchmark: leadership's digest for portfolios of growing size, in-process and as a process.

Each size is a portfolio built by `pmo-bot demo --projects N --weeks W` (bot/cli/sample.py):
real public project names, PMs in a handful of timezones, ratings that drift, risks, blockers,
milestones, skipped and missing periods, built the way the product stores them. Per size:

* in-process, leadership's digest (the subscription that follows every project) as the
  sender builds it: seconds to load and compose, seconds to render to Block Kit, SQL
  statements, messages posted (the channel message + its thread replies), peak Python memory;
* as a process, `pmo-bot digest preview --channel <leadership> --at <its moment>`: wall
  seconds, peak resident memory, and the ratio to the process floor (the same preview of a
  10-project portfolio; `pmo-bot --version` is printed too); first *cold*, as right after an
  import (no project's standing holds: every current period is computed), then as under
  `serve`, whose ticks keep the read model (bot/overview/standings.py) fresh: the standings
  are refreshed an hour before the digest's moment, as a tick would have, and the digest
  reads the periods of those that still hold at its moment. That preview runs `--repeat`
  times, each time right after the floor's, and the ratio is of the two medians: this
  machine's speed drifts by a fifth from one minute to the next. The in-process figures are
  those of the tick (standings kept). On PostgreSQL each database is vacuumed and analysed
  after it is written, as autovacuum leaves a live one.

Run from the repository root:

    .venv/bin/python bench/digest_bench.py [--sizes 100 1000 5000] [--weeks 52] [--repeat 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

On PostgreSQL each size gets a database of its own beside the one named, dropped after.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch_database import fresh_database, settle

from bot.cli.sample import build_sample
from bot.cli.sample_portfolio import LEADERSHIP_CHANNEL
from bot.digest.load import build_digest
from bot.digest.messages import digest_messages
from bot.overview.standings import held_periods, refresh
from bot.render import Renderer
from storage import portfolio
from storage.db import make_engine, make_sessionmaker, upgrade

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # a Friday at 16:00: the digest's own time
UTC_ZONE = ZoneInfo("UTC")
PMO_BOT = str(Path(sys.executable).with_name("pmo-bot"))


def fill(url: str, size: int, weeks: int) -> tuple[datetime, float]:
    """Build the sample portfolio; return the digest's moment and the seconds it took."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with make_sessionmaker(engine).begin() as session:
        sample = build_sample(session, projects=size, weeks=weeks, now=NOW, default_tz=UTC_ZONE)
    built = time.perf_counter() - started
    engine.dispose()
    settle(url)  # as autovacuum leaves a live database
    return sample.moment, built


def keep_standings(url: str, moment: datetime) -> None:
    """The read model as `serve`'s ticks keep it: every standing refreshed an hour before the
    digest's moment (those valid past it hold then)."""
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        projects = portfolio.list_projects(session)
        refresh(session, projects, at=moment - timedelta(hours=1), default=UTC_ZONE)
    engine.dispose()
    settle(url)  # as autovacuum leaves a live database


def in_process(url: str, moment: datetime) -> tuple[float, float, int, int, float]:
    """Load and compose, render: seconds, SQL statements, messages; then the same again under
    `tracemalloc` (which slows it several times) for the peak MiB."""
    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    renderer = Renderer()
    sessions = make_sessionmaker(engine)

    def once() -> tuple[float, float, int]:
        started = time.perf_counter()
        with sessions.begin() as session:  # as the sender does
            found = portfolio.find_subscription(session, LEADERSHIP_CHANNEL)
            assert found is not None
            held = held_periods(session, at=moment, default=UTC_ZONE)
            digest = build_digest(session, found, at=moment, default_tz=UTC_ZONE, periods=held)
        composed = time.perf_counter()
        messages = digest_messages(renderer, digest)
        return composed - started, time.perf_counter() - composed, len(messages)

    composing, rendering, messages = once()
    counted = len(statements)
    tracemalloc.start()
    once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    return composing, rendering, counted, messages, peak / 2**20


def as_process(argv: list[str], url: str | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of `pmo-bot ARGV` (its output thrown away)."""
    env = {**os.environ, "PMO_TIMEZONE": "UTC"}
    if url is not None:
        env["DATABASE_URL"] = url
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([PMO_BOT, *argv], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return wall, peak / 1024


def preview(url: str, moment: datetime) -> tuple[float, float]:
    at = moment.isoformat()
    return as_process(["digest", "preview", "--channel", LEADERSHIP_CHANNEL, "--at", at], url)


def alternated(
    floor_url: str, url: str, moment: datetime, floor_moment: datetime, rounds: int
) -> tuple[float, float, float]:
    """Median wall seconds of the floor's preview and of this size's, run in turn `rounds`
    times (the floor's first each round), and this size's peak resident MiB: on a shared
    machine, whose speed drifts from one minute to the next, each ratio compares runs made
    side by side, and the median drops the run a neighbour slowed down."""
    floors, walls, peaks = [], [], []
    for _ in range(rounds):
        floors.append(preview(floor_url, floor_moment)[0])
        wall, peak = preview(url, moment)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(floors), statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--weeks", type=int, default=52, help="weeks of history (default 52)")
    parser.add_argument("--database-url", help="PostgreSQL; default: a SQLite file per size")
    parser.add_argument(
        "--repeat", type=int, default=5, help="previews per size, each beside the floor's (5)"
    )
    args = parser.parse_args()
    version, _ = as_process(["--version"])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    with fresh_database(args.database_url, "floor") as floor_url:
        floor_moment, _ = fill(floor_url, 10, args.weeks)
        cold_floor, _ = preview(floor_url, floor_moment)
        keep_standings(floor_url, floor_moment)
        floor, floor_mib = preview(floor_url, floor_moment)
        print(
            f"{backend}, {args.weeks} weeks of history; process floor: the 10-project preview "
            f"{floor:.2f} s ({floor_mib:.0f} MB; cold {cold_floor:.2f} s), `pmo-bot --version` "
            f"{version:.2f} s; each preview the median of {args.repeat}, run in turn with the "
            "floor's, and its ratio to the floor's median of those rounds\n"
        )
        print(
            "| projects | build s | load and compose s | render s | SQL statements | messages "
            "| peak MiB (Python) | preview s, cold | preview s | floor s | preview / floor "
            "| preview peak MB |"
        )
        print("|" + " ---: |" * 12)
        for size in args.sizes:
            with fresh_database(args.database_url, str(size)) as url:
                moment, built = fill(url, size, args.weeks)
                cold, _ = preview(url, moment)
                keep_standings(url, moment)
                composed, rendered, statements, messages, peak = in_process(url, moment)
                beside, wall, resident = alternated(
                    floor_url, url, moment, floor_moment, args.repeat
                )
            print(
                f"| {size:,} | {built:.2f} | {composed:.2f} | {rendered:.2f} | {statements} | "
                f"{messages} | {peak:.1f} | {cold:.2f} | {wall:.2f} | {beside:.2f} | "
                f"{wall / beside:.1f}x | {resident:.0f} |"
            )


if __name__ == "__main__":
    main()
