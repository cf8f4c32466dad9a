"""`pmo-bot serve` as a real process: waitress on a port, Bolt behind it, the scheduler ticking,
and a clean stop on SIGTERM (exit status 0 within 10 seconds, no lease left behind)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.cli.main import run
from bot.delivery.scheduler import start_scheduler, stop_scheduler
from storage import deliveries
from storage.db import SCHEMA_HEAD, make_engine, make_sessionmaker
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from tests.e2e.conftest import PM_NEW_YORK, PM_PARIS, PORTFOLIO, SECRET
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fake_socket_mode import FakeSocketMode
from tests.fakes.slack_driver import SlackDriver

pytestmark = pytest.mark.e2e
STOP_TIMEOUT = 10  # seconds `serve` may take to exit after SIGTERM
AROUND_THE_CLOCK = (
    "working_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: '00:00', end: '24:00'}\n"
)
CHANNEL = "C0LEADERS"  # the harness portfolio's digest channel


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    fake: FakeSlack
    process: subprocess.Popen[str]
    database_url: str
    log: list[str] = field(default_factory=list)  # its stderr, line by line

    def stop(self) -> int:
        """SIGTERM, then its exit status (it must exit within STOP_TIMEOUT)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def top_level(self, channel: str) -> list[dict[str, object]]:
        return [m for m in self.fake.messages(channel) if m.get("thread_ts") in (None, m["ts"])]

    def outbox(self) -> list[Delivery]:
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine).begin() as session:
                return deliveries.list_deliveries(session)
        finally:
            engine.dispose()


def _serve(
    tmp_path: Path,
    fake_slack: FakeSlack,
    portfolio_text: str,
    *,
    socket_mode: bool = False,
    settings: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`serve` in HTTP mode on a free port; or, with `socket_mode`, connected to the fake's
    Socket Mode endpoint, its health checks on a free PMO_HEALTH_PORT (Served.url)."""
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pmo.sqlite'}",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.base_url,
    }
    environ |= settings or {}
    port = _free_port()
    if socket_mode:
        environ |= {"SLACK_APP_TOKEN": fake_slack.app_token, "PMO_HEALTH_PORT": str(port)}
    else:
        environ["SLACK_SIGNING_SECRET"] = SECRET
    portfolio = tmp_path / "portfolio.yml"
    # `serve` runs on the wall clock: working hours around the clock, so what it sends at
    # start-up does not depend on the hour the test runs at.
    portfolio.write_text(portfolio_text + AROUND_THE_CLOCK, encoding="utf-8")
    assert run(["db", "upgrade"], environ=environ) == 0
    assert run(["import", str(portfolio)], environ=environ) == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env={**os.environ, **environ, "NO_PROXY": "127.0.0.1,localhost"},
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    served = Served(f"http://127.0.0.1:{port}", fake_slack, process, environ["DATABASE_URL"])
    listening = "PMO Bot in Socket Mode" if socket_mode else "Serving on"
    for line in process.stderr:  # wait for the server to say it listens; no sleeping
        served.log.append(line)
        if listening in line or "Traceback" in line:
            assert listening in line, line
            break
    # Keep reading its log so a full pipe never blocks the server.
    reader = threading.Thread(target=served.log.extend, args=(process.stderr,), daemon=True)
    reader.start()
    try:
        yield served
    finally:
        if process.poll() is None:
            # Every test ends with a clean stop, as an orchestrator's SIGTERM asks for one.
            assert served.stop() == 0, "".join(served.log)
        reader.join(timeout=STOP_TIMEOUT)


# A digest every hour (the shortest rule is daily, at every hour of the day): whatever the time
# the tests run at (serve reads the clock), one is due when `serve` starts, so its first tick
# has something to send (a prompt may wait for its PM's working hours; a digest does not).
HOURLY = "FREQ=DAILY;BYHOUR=" + ",".join(str(h) for h in range(24)) + ";BYMINUTE=0"


@pytest.fixture
def served(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Served]:
    digest = "    timezone: Europe/Paris\n"
    assert digest in PORTFOLIO
    yield from _serve(
        tmp_path, fake_slack, PORTFOLIO.replace(digest, f'{digest}    schedule: "{HOURLY}"\n')
    )


def _get(url: str) -> tuple[int, dict[str, Any]]:
    """A GET's status and JSON body, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _ready_after_a_tick(url: str) -> dict[str, Any]:
    """/readyz once the first tick has finished (it starts at once; polled, 30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        status, body = _get(f"{url}/readyz")
        if status == 200 and body["checks"]["last_tick"] != "not yet":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_serve_answers_health_checks_and_signed_slack_requests(served: Served) -> None:
    url, fake = served.url, served.fake
    assert _get(f"{url}/healthz") == (200, {"status": "ok", "scheduler": "running"})
    driver = SlackDriver(url, SECRET, fake)
    assert driver.command(PM_PARIS, "help", signature="bad").status == 401
    assert driver.command(PM_PARIS, "help").status == 200  # answered in French: fr-FR
    fake.wait_for("response_url", timeout=10)
    assert "/pmo status CLÉ" in str(fake.responses[-1])  # the French help
    # The scheduler ticks at start-up: this hour's digest arrives without any tick command.
    fake.wait_for(
        "chat.postMessage", timeout=20, where=lambda c: c.params.get("channel") == CHANNEL
    )
    assert len(served.top_level(CHANNEL)) == 1
    ready = _ready_after_a_tick(url)
    assert ready["status"] == "ready" and ready["checks"]["database"] == "ok"
    # Prometheus scrapes it after the tick: what this process sent and counted, and the
    # outbox and this period's reports read from the database.
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        scraped = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.read().decode())
            for sample in family.samples
        }
    assert scraped[("pmo_deliveries_total", (("kind", "digest"), ("state", "sent")))] == 1
    assert scraped[("pmo_slack_calls_total", (("method", "chat.postMessage"),))] >= 1
    assert scraped[("pmo_tick_duration_seconds_count", ())] >= 1
    assert scraped[("pmo_outbox_backlog", ())] >= 0
    assert scraped[("pmo_outbox_oldest_pending_seconds", ())] >= 0
    assert scraped[("pmo_reports_this_period", ())] == 0  # nobody has answered yet
    assert scraped[("pmo_slack_token_refused", ())] == 0
    assert ("process_resident_memory_bytes", ()) in scraped
    # A database whose schema is not the one this version expects (an older replica after a
    # newer one migrated, say) makes it not ready, and ready again once it is.
    engine = make_engine(served.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0010'"))
        status, body = _get(f"{url}/readyz")
        assert status == 503 and body["status"] == "not ready", body
        assert body["problems"] == [
            f"the schema is at 0010, not {SCHEMA_HEAD}: run `pmo-bot db upgrade`"
        ]
        assert _get(f"{url}/healthz")[0] == 200  # alive all the same: no restart needed
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE alembic_version SET version_num = '{SCHEMA_HEAD}'"))
        assert _get(f"{url}/readyz")[0] == 200
    finally:
        engine.dispose()
    # Uninstalled: Slack's event makes it not ready, saying why, and alive all the same (the
    # pause and its end are shown tick by tick in tests/e2e/test_uninstall.py).
    fake.refuse_token()
    assert driver.event({"type": "app_uninstalled"}).status == 200  # acked, then handled
    deadline = time.monotonic() + 10
    while (answer := _get(f"{url}/readyz"))[0] == 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, body = answer
    assert status == 503 and body["checks"]["slack"] == "token refused", body
    assert "(app_uninstalled, then auth.test: token_revoked)" in body["problems"][0]
    assert _get(f"{url}/healthz")[0] == 200
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        assert "\npmo_slack_token_refused 1.0\n" in response.read().decode()


def test_serve_started_with_a_refused_token_waits_paused_and_not_ready(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    fake_slack.refuse_token()  # uninstalled while the bot was down
    serving = _serve(tmp_path, fake_slack, PORTFOLIO)
    served = next(serving)  # (the generator is kept: closing it stops serve)
    try:
        assert served.process.poll() is None  # running, not crashed
        status, body = _get(f"{served.url}/readyz")
        assert status == 503 and body["checks"]["slack"] == "token refused", body
        assert "(at start-up, then auth.test: token_revoked)" in body["problems"][0]
        assert _get(f"{served.url}/healthz")[0] == 200
        assert not fake_slack.calls_to("chat.postMessage")
    finally:
        assert served.stop() == 0, "".join(served.log)
        serving.close()
    log = "".join(served.log)
    assert "Traceback" not in log and fake_slack.bot_token not in log
    assert "Slack refuses the bot token (at start-up, then auth.test: token_revoked)" in log


def test_serve_logs_json_lines_with_the_tick_and_slack_s_ids_and_no_secret(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    digest = "    timezone: Europe/Paris\n"
    portfolio = PORTFOLIO.replace(digest, f'{digest}    schedule: "{HOURLY}"\n')
    serving = _serve(tmp_path, fake_slack, portfolio, settings={"LOG_FORMAT": "json"})
    served = next(serving)
    try:
        driver = SlackDriver(served.url, SECRET, fake_slack)
        assert driver.command(PM_PARIS, "help").status == 200
        _ready_after_a_tick(served.url)  # the first tick has finished: its line is written
    finally:
        assert served.stop() == 0, "".join(served.log)
        serving.close()
    log = "".join(served.log)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    # every line of the process is JSON once logging is set, start-up's last included
    assert not [line for line in log.splitlines() if line and not line.startswith("{")], log
    (tick, *_) = [line for line in lines if line.get("event") == "tick"]
    assert tick["sent"].get("digest") == 1 and tick["failed"] == 0 and tick["seconds"] >= 0
    requests = [line for line in lines if line.get("event") == "slack_request"]
    assert any(
        r["kind"] == "/pmo" and r["user"] == PM_PARIS and r["request_id"] for r in requests
    ), requests
    for secret in (SECRET, fake_slack.bot_token):
        assert secret not in log


def test_serve_in_socket_mode_answers_health_checks_on_its_own_port(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    socket_mode = FakeSocketMode().start()
    fake_slack.socket_mode_url = socket_mode.url
    try:
        serving = _serve(tmp_path, fake_slack, PORTFOLIO, socket_mode=True)
        served = next(serving)  # (the generator is kept: closing it stops serve)
        try:
            assert socket_mode.connected.wait(timeout=10)
            opened = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
            assert opened and all(c.token == fake_slack.app_token for c in opened)
            assert _get(f"{served.url}/healthz") == (200, {"status": "ok", "scheduler": "running"})
            assert _ready_after_a_tick(served.url)["status"] == "ready"
            status, body = _get(f"{served.url}/slack/events")
            assert status == 404 and body["paths"] == ["/healthz", "/readyz", "/metrics"]
            # A DM to the bot over the socket (first delivery: retry_attempt 0) is answered;
            # Slack's retry of it (retry_attempt 1) is not answered again.
            dm = fake_slack.dm_channel(PM_PARIS)
            event = {
                "type": "message",
                "channel_type": "im",
                "channel": dm,
                "user": PM_PARIS,
                "text": "bonjour",
                "ts": "1796000000.000100",
            }
            body = {
                "team_id": fake_slack.team_id,
                "api_app_id": fake_slack.app_id,
                "event": event,
                "type": "event_callback",
                "event_id": "Ev0SOCKET01",
                "event_time": 1796000000,
            }
            socket_mode.push_event(body)
            fake_slack.wait_for(
                "chat.postMessage", timeout=10, where=lambda c: c.params.get("channel") == dm
            )
            (reply,) = [
                c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == dm
            ]
            assert "Je ne lis pas" in str(reply.params)  # in French, for a French speaker
            socket_mode.push_event(body, retry_attempt=1)
            with pytest.raises(AssertionError):  # a second answer would come within this
                fake_slack.wait_for(
                    "chat.postMessage",
                    count=2,
                    timeout=2,
                    where=lambda c: c.params.get("channel") == dm,
                )
            assert len(socket_mode.received) >= 2  # both envelopes acknowledged
        finally:
            assert served.stop() == 0, "".join(served.log)
            serving.close()
        with pytest.raises(OSError):  # the health port is closed
            urllib.request.urlopen(f"{served.url}/healthz", timeout=5)
    finally:
        socket_mode.stop()


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_serve_on_a_port_already_taken_says_so_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack, socket_mode: bool
) -> None:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pmo.sqlite'}",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_SIGNING_SECRET": SECRET,
    }
    assert run(["db", "upgrade"], environ=environ) == 0
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if socket_mode:  # the health listener comes first: nothing reaches the socket
            environ |= {"SLACK_APP_TOKEN": fake_slack.app_token, "PMO_HEALTH_PORT": str(port)}
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env={**os.environ, **environ, "NO_PROXY": "127.0.0.1,localhost"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    setting = "PMO_HEALTH_PORT" if socket_mode else "--port"
    assert done.returncode == 2, done.stderr
    assert f"pmo-bot: {setting} {port}: cannot listen there" in done.stderr
    assert "Traceback" not in done.stderr
    assert not fake_slack.calls_to("apps.connections.open")


def test_the_scheduler_runs_a_tick_at_once_with_the_time_and_survives_errors() -> None:
    seen: list[datetime] = []
    called = threading.Event()

    def failing_tick(now: datetime) -> None:
        seen.append(now)
        called.set()
        raise RuntimeError("a broken tick must not stop the scheduler")

    scheduler = start_scheduler(failing_tick)
    try:
        assert called.wait(timeout=10)
        assert seen[0].tzinfo is UTC
        assert scheduler.get_job("tick") is not None  # still scheduled after the failure
    finally:
        stop_scheduler(scheduler)
    assert not scheduler.running


def test_serve_stops_on_sigterm_mid_tick_finishing_the_post_in_flight(served: Served) -> None:
    fake = served.fake
    # Every post takes a while, so SIGTERM comes while the first tick is still sending: just as
    # the digest's first message is posted, with its full reports still to go in its thread.
    fake.fail_ratio("chat.postMessage", 1.0, delay=0.3)
    (top,) = fake.wait_for(
        "chat.postMessage",
        timeout=20,
        where=lambda c: c.params.get("channel") == CHANNEL and not c.params.get("thread_ts"),
    )
    code = served.stop()
    log = "".join(served.log)
    assert code == 0, log
    assert "stopping (SIGTERM)" in log and "stopped: " in log and "Traceback" not in log, log
    outbox = served.outbox()
    # No lease is left to run out: each delivery is sent, or pending again with no lease.
    assert {d.status for d in outbox} <= {DeliveryStatus.SENT, DeliveryStatus.PENDING}, outbox
    assert all(d.lease_until is None for d in outbox)
    # Whatever Slack posted is recorded as sent (the post in flight was finished).
    tagged = {
        m["metadata"]["event_payload"]["delivery_id"]
        for channel in (CHANNEL, PM_PARIS, PM_NEW_YORK)
        for m in fake.messages(channel)
        if m.get("metadata")
    }
    sent = {d.id for d in outbox if d.status is DeliveryStatus.SENT}
    assert tagged and tagged <= sent
    # The digest in flight was finished, its thread included, and recorded as sent.
    (digest,) = [d for d in outbox if d.kind is DeliveryKind.DIGEST]
    assert digest.status is DeliveryStatus.SENT and digest.channel == CHANNEL
    assert fake.thread(CHANNEL, str(digest.ts)), "the digest's thread was not finished"
    assert len(served.top_level(CHANNEL)) == 1 and top.status == 200
    with pytest.raises(OSError):  # the port is closed
        urllib.request.urlopen(f"{served.url}/healthz", timeout=5)
