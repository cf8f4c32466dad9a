"""`pmo-bot tick` as real processes: one killed mid fan-out and restarted, one stopped by
SIGTERM mid fan-out (handing its leases back) and restarted a minute later, three at once.

Each process is `pmo-bot tick --at ...` in a subprocess, talking to FakeSlack over HTTP and to
a real database (SQLite file or a fresh PostgreSQL schema). Nothing sleeps: the tests wait on
the calls FakeSlack receives and on the processes' exit.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli.main import run
from storage import deliveries
from storage.db import make_engine, make_sessionmaker
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

PMS = [f"U0PMX{i:05d}" for i in range(300)]
DIGEST_CHANNELS = ["C0LEADERS", "C0BOARD01"]
DIGEST_SCHEDULE = "FREQ=WEEKLY;BYDAY=TH;BYHOUR=10;BYMINUTE=0"  # in UTC, with the prompts
THURSDAY_10 = "2026-11-26T10:00:00+00:00"  # the default cadence: Thursday 10:00, PMs in UTC
THURSDAY_10_15 = "2026-11-26T10:15:00+00:00"  # past the dead process's 10-minute leases
THURSDAY_10_01 = "2026-11-26T10:01:00+00:00"  # well inside the 10-minute leases
PROCESS_TIMEOUT = 60  # seconds; a tick of this portfolio takes a few
STOP_TIMEOUT = 10  # seconds a stopped process may take to exit
SENT = re.compile(r"^tick at \S+: \d+ due, sent (?P<sent>.+?), \d+ no longer needed,", re.M)
HANDED_BACK = re.compile(
    r"^stopping \(SIGTERM\): (?P<count>\d+) leased deliveries handed back", re.M
)


def _portfolio(channels: list[str]) -> str:
    """300 projects, one PM each, prompted on Thursdays at 10:00; digests due at the same
    instant (so a tick at THURSDAY_10 sends both, well inside a digest's grace window), each
    following three projects: a digest of all 300 would be some 30 thread replies, paced at
    Slack's one a second per channel, in real time here."""
    projects = "\n".join(
        f"  - {{key: P{i:03d}, name: Project {i}, pm: {pm}}}" for i, pm in enumerate(PMS)
    )
    digests = "".join(
        f"  - {{channel: {channel}, timezone: UTC, schedule: '{DIGEST_SCHEDULE}',"
        " keys: [P000, P001, P002]}\n"
        for channel in channels
    )
    return f"projects:\n{projects}\n" + (f"digests:\n{digests}" if digests else "")


@dataclass
class Setup:
    environ: dict[str, str]
    fake: FakeSlack
    workdir: Path

    def start(self, name: str, at: str) -> subprocess.Popen[bytes]:
        """`pmo-bot tick --at AT` as a process; its output goes to NAME.out / NAME.err."""
        with (
            (self.workdir / f"{name}.out").open("w") as out,
            (self.workdir / f"{name}.err").open("w") as err,
        ):
            return subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "tick", "--at", at],
                env={**os.environ, **self.environ},
                stdout=out,
                stderr=err,
                cwd=self.workdir,
            )

    def output(self, name: str) -> tuple[str, str]:
        return (
            (self.workdir / f"{name}.out").read_text(encoding="utf-8"),
            (self.workdir / f"{name}.err").read_text(encoding="utf-8"),
        )

    def finish(self, name: str, process: subprocess.Popen[bytes]) -> str:
        """Wait for a process to end on its own; return its stdout, after checking it ended
        well."""
        code = process.wait(timeout=PROCESS_TIMEOUT)
        out, err = self.output(name)
        assert code == 0, f"{name} exited with {code}\nstdout: {out}\nstderr: {err}"
        return out

    def outbox(self) -> list[Delivery]:
        engine = make_engine(self.environ["DATABASE_URL"])
        try:
            with make_sessionmaker(engine).begin() as session:
                return deliveries.list_deliveries(session)
        finally:
            engine.dispose()

    def prompts_to(self, pm: str) -> list[dict[str, object]]:
        return [m for m in self.fake.messages(pm) if "Status report due" in str(m["text"])]

    def top_level(self, channel: str) -> list[dict[str, object]]:
        return [m for m in self.fake.messages(channel) if m.get("thread_ts") in (None, m["ts"])]


def _setup(database_url: str, tmp_path: Path, channels: list[str]) -> Iterator[Setup]:
    fake = FakeSlack().start()
    try:
        for pm in PMS:
            fake.add_user(pm)
        for channel in channels:
            fake.add_channel(channel)
        environ = {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_API_URL": fake.base_url,
            "PMO_TIMEZONE": "Europe/Paris",
            "PMO_SEND_RATE": "50",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        portfolio = tmp_path / "portfolio.yml"
        portfolio.write_text(_portfolio(channels), encoding="utf-8")
        for args in (["db", "upgrade"], ["import", str(portfolio)]):
            err = io.StringIO()
            assert run(args, environ=environ, stdout=io.StringIO(), stderr=err) == 0, err.getvalue()
        yield Setup(environ, fake, tmp_path)
    finally:
        fake.stop()


def _sent(stdout: str) -> dict[str, int]:
    """What a tick said it sent: {"prompt": 120, "digest": 1} from its summary line."""
    match = SENT.search(stdout)
    assert match, f"no summary line in {stdout!r}"
    if match["sent"] == "nothing":
        return {}
    counts = (part.split(" ", 1) for part in match["sent"].split(", "))
    return {kind.removesuffix("(s)"): int(count) for count, kind in counts}


def _assert_each_sent_once(setup: Setup, channels: list[str]) -> None:
    """Every PM has one prompt and every digest channel one digest; the outbox says all sent."""
    doubled = {pm: n for pm in PMS if (n := len(setup.prompts_to(pm))) != 1}
    assert not doubled, f"PMs without exactly one prompt (PM: prompts): {doubled}"
    for channel in channels:
        assert len(setup.top_level(channel)) == 1, channel
    outbox = setup.outbox()
    prompts = [d for d in outbox if d.kind is DeliveryKind.PROMPT]
    assert len(prompts) == len(PMS)
    assert len([d for d in outbox if d.kind is DeliveryKind.DIGEST]) == len(channels)
    unsent = [
        (d.id, d.kind.value, d.status.value, d.error)
        for d in outbox
        if d.status is not DeliveryStatus.SENT
    ]
    assert not unsent, unsent


@pytest.fixture
def crash_setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    yield from _setup(database_url, tmp_path, DIGEST_CHANNELS[:1])


@pytest.fixture
def stop_setup(database_url: str, tmp_path: Path) -> Iterator[Setup]:
    yield from _setup(database_url, tmp_path, DIGEST_CHANNELS[:1])


@pytest.fixture
def replicas_setup(postgres_url: str, tmp_path: Path) -> Iterator[Setup]:
    yield from _setup(postgres_url, tmp_path, DIGEST_CHANNELS)


def test_a_tick_killed_mid_fan_out_is_finished_by_the_next_without_doubles(
    crash_setup: Setup,
) -> None:
    setup, fake = crash_setup, crash_setup.fake
    # Slack answers each post a little late, so the process is killed while it is busy posting.
    fake.fail_ratio("chat.postMessage", 1.0, delay=0.01)
    first = setup.start("first", THURSDAY_10)
    try:
        # Kill it mid-batch (batches are 20), just as Slack has taken its 110th post: the dead
        # process leaves leased deliveries behind, and (as a rule) one posted but not recorded.
        fake.wait_for("chat.postMessage", count=110, timeout=PROCESS_TIMEOUT)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nfirst process: {setup.output('first')}") from None
    finally:
        first.kill()  # SIGKILL: no clean-up of any kind
        code = first.wait(timeout=PROCESS_TIMEOUT)
    assert code == -signal.SIGKILL, f"the first process ended on its own ({code})"
    fake.fail_ratio("chat.postMessage", 0)
    posted_before = len(fake.calls_to("chat.postMessage"))
    assert posted_before < len(PMS), "the first process was not killed mid-way"
    outbox = setup.outbox()
    leased = [d for d in outbox if d.status is DeliveryStatus.SENDING]
    assert leased, "the killed process should have left leased deliveries behind"
    sent_before = len([d for d in outbox if d.status is DeliveryStatus.SENT])
    assert all(d.kind is DeliveryKind.PROMPT for d in outbox if d.status is DeliveryStatus.SENT)

    # 15 minutes later the dead process's leases have run out: the next tick finishes the job.
    second = setup.start("second", THURSDAY_10_15)
    out = setup.finish("second", second)
    _assert_each_sent_once(setup, DIGEST_CHANNELS[:1])
    # It finished every delivery the first had not marked sent (found in Slack or posted).
    assert _sent(out) == {"prompt": len(PMS) - sent_before, "digest": 1}


def test_a_tick_stopped_by_sigterm_hands_back_its_leases_and_a_tick_a_minute_later_finishes(
    stop_setup: Setup,
) -> None:
    setup, fake = stop_setup, stop_setup.fake
    fake.fail_ratio("chat.postMessage", 1.0, delay=0.01)  # so the stop finds it busy posting
    first = setup.start("first", THURSDAY_10)
    try:
        fake.wait_for("chat.postMessage", count=110, timeout=PROCESS_TIMEOUT)
        first.send_signal(signal.SIGTERM)
        code = first.wait(timeout=STOP_TIMEOUT)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        raise AssertionError(f"{exc}\nfirst process: {setup.output('first')}") from None
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=PROCESS_TIMEOUT)
    out, err = setup.output("first")
    assert code == 0, f"exit status {code}\nstdout: {out}\nstderr: {err}"
    assert "Traceback" not in err, err
    fake.fail_ratio("chat.postMessage", 0)
    prompts_posted = sum(len(setup.prompts_to(pm)) for pm in PMS)
    assert prompts_posted < len(PMS), "the first process was not stopped mid-way"

    # Every lease was handed back (none left "sending" to run out in 10 minutes) and the prompt
    # in flight was finished: each prompt Slack took is recorded as sent, none twice.
    outbox = setup.outbox()
    assert not [d.id for d in outbox if d.status is DeliveryStatus.SENDING]
    sent = [d for d in outbox if d.kind is DeliveryKind.PROMPT and d.status is DeliveryStatus.SENT]
    assert len(sent) == prompts_posted
    assert all(len(setup.prompts_to(pm)) <= 1 for pm in PMS)
    handed = HANDED_BACK.search(out)
    assert handed, f"the process did not say what it handed back: {out!r}"
    pending = [d for d in outbox if d.status is DeliveryStatus.PENDING]
    assert 0 < int(handed["count"]) <= len(pending)
    assert all(d.lease_until is None and d.attempts == 0 for d in pending)

    # A minute later (not the ten a lease lasts) the next tick sends all the rest.
    second = setup.start("second", THURSDAY_10_01)
    out = setup.finish("second", second)
    _assert_each_sent_once(setup, DIGEST_CHANNELS[:1])
    assert _sent(out)["prompt"] == len(PMS) - prompts_posted


def test_three_ticks_at_once_share_the_fan_out_and_send_each_delivery_once(
    replicas_setup: Setup,
) -> None:
    setup = replicas_setup
    names = ["one", "two", "three"]
    processes = {name: setup.start(name, THURSDAY_10) for name in names}
    try:
        outputs = {name: setup.finish(name, process) for name, process in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    _assert_each_sent_once(setup, DIGEST_CHANNELS)
    sent = {name: _sent(out) for name, out in outputs.items()}
    assert sum(s.get("prompt", 0) for s in sent.values()) == len(PMS), sent
    assert sum(s.get("digest", 0) for s in sent.values()) == len(DIGEST_CHANNELS), sent
    assert len([name for name in names if sent[name]]) >= 2, f"the work was not shared: {sent}"
