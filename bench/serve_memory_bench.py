"""Benchmark: the resident memory of a real `pmo-bot serve` process, at 100 and 5,000 projects.

Issue 11 asks that `serve` stay under 200 MB resident after every answer at 5,000 projects.
This measures it on the process itself (not in-process as interactive_bench.py does): per size,

1. the portfolio of `pmo-bot demo --projects N --weeks W` (bot/cli/sample.py, in-process) is
   built up to the wall clock, which `serve` reads; then one in-process tick ten minutes ahead
   of the wall clock, Slack being the in-memory FakeGateway, records and sends what is due
   (this period's prompts, and those of a cadence that comes due while the bench runs), so
   that serve's ticks have little else to do. The working hours are set around
   the clock first (as tests/e2e/test_serve.py does): with the default 08:00-18:00, prompts
   recorded at night would be deferred to the morning and posted by `serve` instead. Then
   leadership's subscription (C0LEADERS, which follows every project) gets an hourly schedule
   through storage.portfolio.upsert_subscription, which makes it due: the first tick of
   `serve` builds and posts this hour's digest of every project (the heaviest thing it does);
2. FakeSlack (tests/fakes/fake_slack.py) runs in this process and `python -m bot.cli serve`
   as a subprocess talking to it (SLACK_API_URL), as tests/e2e/test_serve.py starts it;
3. VmRSS (resident now) and VmHWM (the peak so far) are read from /proc/PID/status: right at
   "Serving on" (the scheduler starts its first tick just after), once the first tick is done
   (APScheduler logs "executed successfully"; the digest's posts in C0LEADERS are counted),
   after each answer below asked `--repeat` times through SlackDriver (signed requests, each
   answer awaited at the fake before the next: views.publish for the Home, the response_url
   for commands, the file upload then the response after it for the export), and after an
   idle tick run once the answers are done:
   App Home of a leader (a sponsor who is no PM) and of an admin (PMO_ADMINS, in no project);
   `/pmo list`, `/pmo list red`, `/pmo risks`, `/pmo export` and `/pmo export xlsx` (as the
   admin), `/pmo budget`, `/pmo mine` (a PM with the most projects), `/pmo status KEY`;
4. serve is stopped with SIGTERM and must exit 0. Lines of its log at WARNING or above are
   printed after the table.

Prints a markdown table: per moment and size, the resident MB then and the peak so far.
Run from the repository root (about 5 minutes at 5,000 projects, most of it building):

    .venv/bin/python bench/serve_memory_bench.py [--sizes 100 5000] [--weeks 52] [--repeat 5]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

On PostgreSQL each size gets a database of its own beside the one named, dropped after; by
default a SQLite file per size in a temporary folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fakes live in tests/

from scratch_database import fresh_database

from bot.cli.sample import build_sample
from bot.config import load_settings
from bot.delivery.tick import tick
from bot.render import Renderer
from bot.services import Services
from storage import portfolio
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.records import WorkingHours
from tests.fakes.fake_gateway import FakeGateway
from tests.fakes.fake_slack import Call, FakeSlack
from tests.fakes.slack_driver import SlackDriver

ROOT = Path(__file__).resolve().parents[1]
PARIS = ZoneInfo("Europe/Paris")
ADMIN = "U0BENCHADM"  # a PMO admin who is in no project
SECRET = "bench-signing-secret"
CHANNEL = "C0LEADERS"  # leadership's digest, which follows every project
AHEAD = timedelta(minutes=10)
HOURLY = "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)) + ";BYMINUTE=0"
AROUND_THE_CLOCK = WorkingHours(days=frozenset(range(7)), start=clock_time(0), end=clock_time.max)
TICKED = ("executed successfully", "scheduler tick failed")  # APScheduler's log, serve's
WAIT = 300.0  # seconds an answer may take before the bench gives up (a tick: twice that)


@dataclasses.dataclass(frozen=True)
class Cast:
    leader: str
    admin: str
    busiest: str
    busiest_projects: int
    key: str


def prepare(url: str, size: int, weeks: int) -> Cast:
    """The demo portfolio at the wall clock, this period's prompts sent, and leadership's
    digest due at serve's first tick; returns who the bench acts as."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        sample = build_sample(session, projects=size, weeks=weeks, now=now, default_tz=PARIS)
        portfolio.replace_working_hours(session, AROUND_THE_CLOCK)
    gateway = FakeGateway()
    gateway.add_user(ADMIN, tz="Europe/Paris", locale="en-GB")
    settings = load_settings({"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris"})
    services = Services(settings, sessions, gateway, Renderer(), lambda: datetime.now(UTC))
    # As if ten minutes ahead: this period's prompts and those of any cadence that comes due
    # while the bench runs (an hourly or a daily one, past the hour) are sent now, so that
    # serve's ticks have none to send (a prompt is recorded once).
    tick(services, now=datetime.now(UTC) + AHEAD)
    with sessions.begin() as session:
        hourly = dataclasses.replace(sample.subscription, schedule=HOURLY)
        portfolio.upsert_subscription(session, hourly, now=datetime.now(UTC))
        projects = portfolio.list_projects(session)
    engine.dispose()
    pms: dict[str, int] = {}
    for project in projects:
        pms[project.pm] = pms.get(project.pm, 0) + 1
    sponsors = sorted({p.sponsor for p in projects if p.sponsor})
    busiest = max(sorted(pms), key=pms.__getitem__)
    leader = next((s for s in sponsors if s not in pms), sponsors[0] if sponsors else ADMIN)
    return Cast(leader, ADMIN, busiest, pms[busiest], projects[len(projects) // 2].key)


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


class Served:
    """`python -m bot.cli serve` against the fake, its stderr drained by a thread."""

    def __init__(self, url: str, fake: FakeSlack) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        environ = {k: v for k, v in os.environ.items() if k != "SLACK_APP_TOKEN"}
        environ |= {
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.base_url,
            "PMO_ADMINS": ADMIN,
            "PMO_TIMEZONE": "Europe/Paris",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=environ,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stderr is not None
        self.log: list[str] = []
        for line in self.process.stderr:  # until it listens
            self.log.append(line)
            if "Serving on" in line:
                break
        else:
            raise SystemExit("serve exited before listening:\n" + "".join(self.log))
        self.reader = threading.Thread(target=self.log.extend, args=(self.process.stderr,))
        self.reader.start()
        self.driver = SlackDriver(f"http://127.0.0.1:{port}", SECRET, fake, timeout=WAIT)

    def ticks(self) -> int:
        """Ticks finished so far (APScheduler logs each job it ran)."""
        return sum(1 for line in list(self.log) if any(word in line for word in TICKED))

    def wait_for_tick(self, after: int) -> None:
        deadline = time.monotonic() + 2 * WAIT
        while self.ticks() <= after:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("no tick finished:\n" + "".join(self.log[-30:]))
            time.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.reader.join(timeout=10)
        return code


Answer = dict[str, Any]


def answers(served: Served, fake: FakeSlack, cast: Cast) -> list[tuple[str, Callable[[], Answer]]]:
    """Each answer as a person asks it, returning what the fake received once it has."""
    driver = served.driver

    def home(user: str) -> Callable[[], Answer]:
        def ask() -> Answer:
            def mine(c: Call) -> bool:
                return c.params.get("user_id") == user

            before = len([c for c in fake.calls_to("views.publish") if mine(c)])
            assert driver.app_home_opened(user).status == 200
            return fake.wait_for("views.publish", before + 1, timeout=WAIT, where=mine)[-1].params

        return ask

    def command(user: str, words: str) -> Callable[[], Answer]:
        def ask() -> Answer:
            responses = len(fake.calls_to("response_url"))
            uploads = len(fake.calls_to("files.completeUploadExternal"))
            assert driver.command(user, words).status == 200
            answered = fake.wait_for("response_url", responses + 1, timeout=WAIT)
            if words.startswith("export"):  # the file, then the answer after it (past any notice)
                done = fake.wait_for("files.completeUploadExternal", uploads + 1, timeout=WAIT)
                at = done[-1].at
                answered = fake.wait_for("response_url", timeout=WAIT, where=lambda c: c.at >= at)
            return answered[-1].params

        return ask

    return [
        ("App Home, leader", home(cast.leader)),
        ("App Home, admin", home(cast.admin)),
        ("/pmo list", command(cast.leader, "list")),
        ("/pmo list red", command(cast.leader, "list red")),
        ("/pmo risks", command(cast.leader, "risks")),
        ("/pmo export (admin)", command(cast.admin, "export")),
        ("/pmo export xlsx (admin)", command(cast.admin, "export xlsx")),
        ("/pmo budget", command(cast.leader, "budget")),
        ("/pmo mine (busiest PM)", command(cast.busiest, "mine")),
        ("/pmo status KEY", command(cast.leader, f"status {cast.key}")),
    ]


@dataclasses.dataclass
class Run:
    moments: dict[str, tuple[float, float]]  # moment -> (RSS, peak so far) in MB
    digest_posts: int  # chat.postMessage in C0LEADERS by the first tick
    other_posts: int  # chat.postMessage elsewhere, over the whole run
    exit_code: int
    complaints: list[str]  # serve's log at WARNING or above
    cast: Cast
    answers: dict[str, float]  # answer -> KB of JSON the fake received for it
    first_tick: float  # seconds from "Serving on" to the first tick's end


def measure(url: str, cast: Cast, repeat: int) -> Run:
    fake = FakeSlack().start()
    for user in sorted({cast.leader, cast.admin, cast.busiest}):
        fake.add_user(user, tz="Europe/Paris", locale="en-GB")
    fake.add_channel(CHANNEL, name="leadership")
    fake.add_channel("C0GENERAL", name="general")
    served = Served(url, fake)
    pid, moments = served.process.pid, {}
    try:
        moments["started (Serving on)"] = memory(pid)
        begun = time.monotonic()
        served.wait_for_tick(0)
        first_tick = time.monotonic() - begun
        time.sleep(2)
        moments["first tick: leadership's digest"] = memory(pid)

        def in_channel(c: Call) -> bool:
            return c.params.get("channel") == CHANNEL

        digest_posts = len([c for c in fake.calls_to("chat.postMessage") if in_channel(c)])
        sizes = {}
        for name, ask in answers(served, fake, cast):
            for _ in range(repeat):
                answer = ask()
            moments[name] = memory(pid)
            sizes[name.split(" (")[0]] = len(json.dumps(answer)) / 1024
        served.wait_for_tick(served.ticks())  # a tick that began after the last answer
        time.sleep(1)
        moments["idle tick, after the answers"] = memory(pid)
        other = len([c for c in fake.calls_to("chat.postMessage") if not in_channel(c)])
    except BaseException:
        print("".join(served.log[-40:]), file=sys.stderr)
        raise
    finally:
        code = served.stop() if served.process.poll() is None else served.process.returncode
        fake.stop()
    levels = (" WARNING ", " ERROR ", " CRITICAL ", "Traceback")
    complaints = [line.rstrip() for line in served.log if any(w in line for w in levels)]
    return Run(moments, digest_posts, other, code, complaints, cast, sizes, first_tick)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 5000])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL; default: a SQLite file per size")
    args = parser.parse_args()
    runs: dict[int, Run] = {}
    for size in args.sizes:
        with fresh_database(args.database_url, str(size)) as url:
            started = time.perf_counter()
            cast = prepare(url, size, args.weeks)
            built = time.perf_counter() - started
            print(f"{size:,} projects built and ticked in {built:.0f} s", file=sys.stderr)
            runs[size] = measure(url, cast, args.repeat)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    sizes = args.sizes
    print(f"\n`serve` on {backend}, {args.weeks} weeks of history, each answer {args.repeat}x\n")
    print("| moment | " + " | ".join(f"{n:,}: RSS / peak MB" for n in sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    for moment in runs[sizes[0]].moments:
        cells = " | ".join("{:.0f} / {:.0f}".format(*runs[n].moments[moment]) for n in sizes)
        print(f"| {moment} | {cells} |")
    peaks = " | ".join(f"**{max(p for _, p in runs[n].moments.values()):.0f}**" for n in sizes)
    print(f"| **peak of the process (VmHWM)** | {peaks} |")
    for size in sizes:
        run = runs[size]
        print(
            f"\n{size:,}: the first tick ({run.first_tick:.0f} s) posted {run.digest_posts} "
            f"messages in {CHANNEL} "
            f"(the digest and its thread), {run.other_posts} elsewhere over the run; "
            f"the busiest PM has {run.cast.busiest_projects} projects; "
            f"serve exited {run.exit_code} on SIGTERM"
        )
        print("answers, KB of JSON: " + ", ".join(f"{k} {v:.0f}" for k, v in run.answers.items()))
        for line in run.complaints:
            print(f"    {line}")


if __name__ == "__main__":
    main()
