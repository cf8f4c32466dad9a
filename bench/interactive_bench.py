"""Benchmark: what a person waits for, at 100, 1,000 and 5,000 projects.

Each size is a portfolio built by `pmo-bot demo --projects N --weeks W` (the same generator,
in-process), then every answer below is asked `--repeat` times the way a handler asks it
(bot/ over the database, Slack as the in-memory FakeGateway, so Slack's round trip is not
counted) and timed: p50 and p95 in milliseconds, and SQL statements per answer.

* `/pmo help`: the floor (no database work to speak of);
* App Home of a leader (a sponsor: the portfolio summary over every project) and of an admin
  (that and the admin panel);
* `/pmo list`, `/pmo list red`, `/pmo risks`, `/pmo mine` (a PM with the most projects),
  `/pmo status KEY`;
* `/pmo export` (the CSV, uploaded to the fake) twice: its first answer, the time until the
  asker first hears (the "Preparing the export" notice a file of more than
  bot.slash.exports.NOTICE_ABOVE projects sends at once, otherwise the final answer), and the
  file, until the file is shared and the final answer given; `/pmo export xlsx` (the steering
  pack) until its file is shared and the final answer given;
* `/pmo budget` (every project's money, sorted by variance at completion, with the totals);
* `/pmo rank` (every open project ranked, with the cut line) and `/pmo capacity` (everyone's
  load over six months: the generated portfolio has no allocations, so each PM's default share);
* an idle tick (everything due already recorded and sent: what `serve` does every minute);
* the planning watch (bot/delivery/watch.py: the scores stored, every open project ranked,
  everyone's load over six months, what is news recorded), which a tick does once an hour.

Each size is measured in a process of its own (as `serve` holds one portfolio): prints one
table per backend with the ratios to the smallest size, and each process's peak resident
memory. Run from the repository root:

    .venv/bin/python bench/interactive_bench.py [--sizes 100 1000 5000] [--weeks 52]
        [--repeat 15] [--database-url postgresql://postgres@127.0.0.1:5432/test]

On PostgreSQL each size gets a database of its own beside the one named, dropped after, and
vacuumed and analysed once built, as autovacuum leaves a live database: read right after the
bulk load, the standings' indexes still lead to the rows' dead versions, and the idle tick
at 5,000 projects reads about 40,000 index entries instead of none.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # FakeGateway lives in tests/

from scratch_database import fresh_database, settle

from bot.cli.heap import fewer_collections, set_aside_startup_heap
from bot.cli.sample import build_sample
from bot.config import load_settings
from bot.delivery.tick import tick
from bot.delivery.watch import watch
from bot.home.view import home_view
from bot.render import Renderer
from bot.services import Services
from bot.slash.dispatch import answer
from bot.slash.request import Tell
from storage import portfolio
from storage.db import make_engine, make_sessionmaker, upgrade
from tests.fakes.fake_gateway import FakeGateway

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon, reports in
PARIS = ZoneInfo("Europe/Paris")
ADMIN = "U0BENCHADM"


@dataclass(frozen=True)
class Question:
    name: str  # its row in the table
    ask: Callable[[Services, Tell], object]  # the answer, given where to tell the asker first
    first_answer: bool = False  # timed until the asker first hears, not until the answer


def questions(services: Services) -> list[Question]:
    with services.sessions.begin() as session:
        projects = portfolio.list_projects(session)
    admin = sorted(services.settings.admins)[0]
    sponsors = sorted({p.sponsor for p in projects if p.sponsor})
    pms: dict[str, int] = {}
    for project in projects:
        pms[project.pm] = pms.get(project.pm, 0) + 1
    busiest = max(sorted(pms), key=pms.__getitem__)
    leader = next((s for s in sponsors if s not in pms), sponsors[0] if sponsors else admin)
    key = projects[len(projects) // 2].key

    def slash(user: str, words: str) -> Callable[[Services, Tell], object]:
        return lambda s, tell: answer(s, user_id=user, text=words, channel_id="C0BENCH", tell=tell)

    export = slash(admin, "export")
    return [
        Question("/pmo help", slash(leader, "help")),  # the floor
        Question("App Home, leader", lambda s, _: home_view(s, user_id=leader)),
        Question("App Home, admin", lambda s, _: home_view(s, user_id=admin)),
        Question("/pmo list", slash(leader, "list")),
        Question("/pmo list red", slash(leader, "list red")),
        Question("/pmo risks", slash(leader, "risks")),
        Question("/pmo export (first answer)", export, first_answer=True),
        Question("/pmo export (file)", export),
        Question("/pmo export xlsx (file)", slash(admin, "export xlsx")),
        Question("/pmo budget", slash(leader, "budget")),
        Question("/pmo rank", slash(leader, "rank")),
        Question("/pmo capacity", slash(leader, "capacity")),
        Question("/pmo mine", slash(busiest, "mine")),  # a PM with the most projects
        Question("/pmo status KEY", slash(leader, f"status {key}")),
        Question("idle tick", lambda s, _: tick(s, now=s.clock())),
        Question("planning watch", lambda s, _: watch(s, s.clock())),
    ]


@dataclass
class Timing:
    p50: float
    p95: float
    statements: float


def measure(url: str, size: int, weeks: int, repeat: int) -> tuple[dict[str, Timing], float]:
    """Build the portfolio, then time each question; returns the timings and build seconds."""
    started = time.perf_counter()
    admin = populate(url, size, weeks)
    built = time.perf_counter() - started
    engine = make_engine(url)
    counted = [0]
    event.listen(engine, "before_cursor_execute", lambda *_: counted.__setitem__(0, counted[0] + 1))
    gateway = FakeGateway()
    gateway.add_user(admin, tz="Europe/Paris", locale="en-GB")
    settings = load_settings({"PMO_ADMINS": admin, "PMO_TIMEZONE": "Europe/Paris"})
    services = Services(settings, make_sessionmaker(engine), gateway, Renderer(), lambda: AT)
    tick(services, now=AT)  # record and send what is due: later ticks are idle
    settle(url)  # as autovacuum leaves a live database
    # What the fake kept of that tick (every prompt of the portfolio, as Slack would hold it,
    # not this process) is let go, and the setup's debt to the collector paid: its full
    # passes would otherwise traverse those millions of objects, 150 ms each, charged to the
    # first answers measured.
    gateway.calls.clear()
    gateway.posted.clear()
    gc.collect()
    results: dict[str, Timing] = {}
    for question in questions(services):
        question.ask(services, lambda _: None)  # warm: templates compiled, caches filled
        times, statements = [], 0
        for _ in range(repeat):
            gateway.calls.clear()
            gateway.posted.clear()
            heard: list[tuple[float, int]] = []  # when the asker first heard, and the SQL by then

            def tell(_: object, heard: list[tuple[float, int]] = heard) -> None:
                if not heard:
                    heard.append((time.perf_counter(), counted[0]))

            counted[0] = 0
            begun = time.perf_counter()
            question.ask(services, tell)
            ended = (time.perf_counter(), counted[0])
            # with no notice sent, the first answer the asker sees is the final one
            at, sql = heard[0] if question.first_answer and heard else ended
            times.append((at - begun) * 1000)
            statements += sql
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        results[question.name] = Timing(statistics.median(times), p95, statements / repeat)
    engine.dispose()
    return results, built


def populate(url: str, size: int, weeks: int) -> str:
    """The demo's generated portfolio in `url`; returns the user id the bench makes a PMO
    admin (no project names them: an admin who is only that)."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        build_sample(session, projects=size, weeks=weeks, now=AT, default_tz=PARIS)
    engine.dispose()
    return ADMIN


def one_size(url: str | None, size: int, weeks: int, repeat: int) -> None:
    """Measure one size in this process and print its timings as JSON (see main)."""
    fewer_collections()  # as every `pmo-bot` process does
    set_aside_startup_heap()  # as `serve` does once started
    with fresh_database(url, str(size)) as database:
        timings, built = measure(database, size, weeks, repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = {name: dataclasses.astuple(t) for name, t in timings.items()}
    print(json.dumps({"timings": found, "built": built, "peak": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", help="PostgreSQL; default: a SQLite file per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child measuring a size
    args = parser.parse_args()
    if args.one is not None:
        one_size(args.database_url, args.one, args.weeks, args.repeat)
        return
    table: dict[int, dict[str, Timing]] = {}
    peaks: dict[int, float] = {}
    for size in args.sizes:
        # each size in a process of its own, as `serve` would hold only its portfolio: what
        # the smaller sizes left behind in memory would otherwise be traversed by the
        # garbage collector of the larger ones (a 130 ms pause charged to whichever answer)
        command = [sys.executable, __file__, "--one", str(size), "--weeks", str(args.weeks)]
        command += ["--repeat", str(args.repeat)]
        if args.database_url:
            command += ["--database-url", args.database_url]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        found = json.loads(done.stdout.strip().splitlines()[-1])
        table[size] = {name: Timing(*values) for name, values in found["timings"].items()}
        peaks[size] = found["peak"]
        built = found["built"]
        print(f"built {size} projects x {args.weeks} weeks in {built:.1f} s", file=sys.stderr)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    sizes = args.sizes
    header = " | ".join(f"{n:,}: p50 / p95 ms (SQL)" for n in sizes)
    print(f"\n{backend}, {args.weeks} weeks of history, {args.repeat} runs each\n")
    print(f"| answer | {header} | p95 {sizes[-1]:,} / {sizes[0]:,} |")
    print("| --- |" + " ---: |" * (len(sizes) + 1))
    for name in table[sizes[0]]:
        rows = [table[size][name] for size in sizes]
        cells = " | ".join(f"{t.p50:.0f} / {t.p95:.0f} ({t.statements:.0f})" for t in rows)
        ratio = rows[-1].p95 / max(rows[0].p95, 0.001)
        print(f"| {name} | {cells} | {ratio:.1f}x |")
    resident = ", ".join(f"{size:,}: {peak:.0f} MB" for size, peak in peaks.items())
    print(f"\npeak resident memory of each size's process (which also builds it): {resident}")


if __name__ == "__main__":
    main()
