"""`pmo-bot tick` as an operator runs it, replicas ticking at once, and a large portfolio."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import run
from bot.delivery.tick import tick
from bot.digest.model import THREAD_SHOWN
from bot.render import MAX_BLOCKS_PER_MESSAGE
from storage.portfolio import list_projects
from storage.reports import save_report
from tests import factories
from tests.e2e.conftest import PM_NEW_YORK, PM_PARIS, PORTFOLIO, Clock, make_services, start_harness
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e


def _cli(args: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(args, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _imported(tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    """The environment of an operator's shell: an SQLite database migrated and holding the
    portfolio, Slack at the fake."""
    portfolio_file = tmp_path / "portfolio.yml"
    portfolio_file.write_text(PORTFOLIO, encoding="utf-8")
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'pmo.sqlite'}",
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.base_url,
    }
    assert _cli(["db", "upgrade"], environ)[0] == 0
    assert _cli(["import", str(portfolio_file)], environ)[0] == 0
    return environ


def test_the_tick_command_sends_what_is_due_at_the_given_time(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    environ = _imported(tmp_path, fake_slack)

    # 16:00 in Paris on Friday 27 November (10:00 in New York), given with its offset: both
    # PMs are asked for the period begun on Thursday, and the Friday digest is on time.
    code, out, err = _cli(["tick", "--at", "2026-11-27T16:00:00+01:00"], environ)
    assert (code, err) == (0, "")
    assert "sent 2 prompt(s), 1 digest(s)," in out
    assert len(fake_slack.messages(PM_PARIS)) == 1
    assert len(fake_slack.messages(PM_NEW_YORK)) == 1
    code, out, _ = _cli(["tick", "--at", "2026-11-27T16:00:00+01:00"], environ)
    assert "0 due, sent nothing," in out
    assert len(fake_slack.messages(PM_PARIS)) == 1


def test_the_tick_command_says_it_is_paused_while_slack_refuses_the_token(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    environ = _imported(tmp_path, fake_slack)
    fake_slack.refuse_token()
    code, out, err = _cli(["tick", "--at", "2026-11-27T16:00:00+01:00"], environ)
    assert code == 1 and fake_slack.bot_token not in out + err
    assert "0 due, sent nothing" in out
    assert "; paused, Slack refuses the bot token (users.info: token_revoked)" in out
    assert "paused: Slack refuses SLACK_BOT_TOKEN" in out
    assert not fake_slack.calls_to("chat.postMessage")


def test_replicas_ticking_at_the_same_instant_send_each_message_once(
    database_url: str, fake_slack: FakeSlack
) -> None:
    _, stop = start_harness(database_url, fake_slack)
    try:
        at = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
        replicas = [make_services(database_url, fake_slack, Clock(at), []) for _ in range(3)]
        barrier = threading.Barrier(len(replicas))
        results = []

        def run_tick(index: int) -> None:
            barrier.wait()
            results.append(tick(replicas[index], now=at))

        threads = [threading.Thread(target=run_tick, args=(i,)) for i in range(len(replicas))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(r.prompts_sent for r in results) == 2
        assert sum(r.digests_sent for r in results) == 1
        assert len(fake_slack.messages(PM_PARIS)) == 1
        assert len(fake_slack.messages(PM_NEW_YORK)) == 1
        assert len([m for m in fake_slack.messages("C0LEADERS") if not m.get("thread_ts")]) == 1
    finally:
        for services in replicas:
            services.sessions.kw["bind"].dispose()
        stop()


def test_a_large_portfolio_digest_continues_in_its_thread(
    sqlite_url: str, fake_slack: FakeSlack
) -> None:
    projects = "\n".join(
        f"  - {{key: P{i:03d}, name: Project {i}, pm: U0PM{i:05d}}}" for i in range(130)
    )
    portfolio = f"projects:\n{projects}\ndigests:\n  - channel: C0LEADERS\n"
    harness, stop = start_harness(sqlite_url, fake_slack, portfolio)
    try:
        with harness.services.sessions.begin() as session:
            for project in list_projects(session):
                save_report(
                    session,
                    factories.draft("red" if project.id % 3 else "green"),
                    project_id=project.id,
                    period_start=factories.T0,
                    submitted_by=project.pm,
                    submitted_at=factories.T0,
                )
        harness.tick(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
        posts = [m for m in fake_slack.messages("C0LEADERS") if not m.get("thread_ts")]
        assert len(posts) == 1
        replies = fake_slack.thread("C0LEADERS", posts[0]["ts"])
        assert replies, "the rest of the digest should be in the thread"
        everything = [posts[0], *replies]
        assert all(len(m["blocks"]) <= MAX_BLOCKS_PER_MESSAGE for m in everything)
        assert all(m.get("thread_ts") == posts[0]["ts"] for m in replies)
        assert "continued" in replies[0]["text"]
        # the thread holds THREAD_SHOWN full reports, the red ones (attention) first, then
        # says how many more there are and where
        reports = "".join(str(m["blocks"]) for m in replies[:-1])
        held = {f"P{i:03d}" for i in range(130) if f"*P{i:03d}*" in reports}
        assert len(held) == THREAD_SHOWN
        with harness.services.sessions.begin() as session:
            red = {p.key for p in list_projects(session) if p.id % 3}
        assert red <= held
        assert "30 more projects not in this thread" in replies[-1]["text"]
        assert "/pmo list" in str(replies[-1]["blocks"])
    finally:
        stop()
