"""`pmo-bot serve` as a real process: waitress on a port, Bolt behind it, the scheduler ticking."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import run
from bot.delivery.scheduler import start_scheduler
from tests.e2e.conftest import PM_PARIS, PORTFOLIO, SECRET
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_driver import SlackDriver

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[tuple[str, FakeSlack]]:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pmo.sqlite'}",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
    }
    portfolio = tmp_path / "portfolio.yml"
    portfolio.write_text(PORTFOLIO, encoding="utf-8")
    assert run(["db", "upgrade"], environ=environ) == 0
    assert run(["import", str(portfolio)], environ=environ) == 0
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env={**os.environ, **environ, "NO_PROXY": "127.0.0.1,localhost"},
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    for line in process.stderr:  # wait for the server to say it listens; no sleeping
        if "Serving on" in line or "Traceback" in line:
            assert "Serving on" in line, line
            break
    # Keep reading its log so a full pipe never blocks the server.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}", fake_slack
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_health_checks_and_signed_slack_requests(
    served: tuple[str, FakeSlack],
) -> None:
    url, fake = served
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        assert response.status == 200
    driver = SlackDriver(url, SECRET, fake)
    assert driver.command(PM_PARIS, "help", signature="bad").status == 401
    assert driver.command(PM_PARIS, "help").status == 200  # answered in French: fr-FR
    fake.wait_for("response_url", timeout=10)
    assert "/pmo status CLÉ" in str(fake.responses[-1])  # the French help
    # The scheduler ticks at start-up: the PMs' current prompts arrive without any tick command.
    fake.wait_for("chat.postMessage", count=3, timeout=20)
    assert any(
        any(b.get("block_id") == "prompt" for b in m.get("blocks") or [])
        for m in fake.messages(PM_PARIS)
    )


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
        scheduler.shutdown(wait=False)
