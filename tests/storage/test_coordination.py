"""What replicas share beyond the outbox, on SQLite and PostgreSQL: a lease on a job one
replica does for all, the workspace's send budget (bot/slack/shared_budget.py), one row
that every replica's posts reserve their slots in, and the bot tokens Slack refuses
(bot/slack/access.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.slack.pacing import POST, Pacer
from bot.slack.shared_budget import SharedBudget
from storage import coordination
from storage.db import make_engine, make_sessionmaker
from storage.records import AccessRefusal, SendBudget
from tests.conftest import migrate
from tests.fakes.clocks import Instant

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def test_a_lease_is_one_holders_until_it_runs_out_or_is_handed_back(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)

    def take(holder: str, at: datetime) -> bool:
        with sessions.begin() as session:
            return coordination.take_lease(session, "users.list", holder, now=at, lease_for=LEASE)

    assert take("a", NOW)
    assert not take("b", NOW + timedelta(seconds=30))
    assert take("a", NOW + timedelta(seconds=90))  # renewed: now until 09:03:30
    assert not take("b", NOW + timedelta(minutes=3))
    assert take("b", NOW + timedelta(minutes=3, seconds=30))  # a went quiet: b takes over
    assert not take("a", NOW + timedelta(minutes=4))
    with sessions.begin() as session:
        coordination.release_lease(session, "users.list", "a")  # not a's any more: no effect
    assert not take("c", NOW + timedelta(minutes=4))
    with sessions.begin() as session:
        coordination.release_lease(session, "users.list", "b")
    assert take("c", NOW + timedelta(minutes=4))  # handed back: taken at once


def test_the_budget_row_is_made_on_first_use_and_keeps_what_is_saved(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        first = coordination.lock_budget(session, POST, start=SendBudget(rate=2.0))
        coordination.save_budget(session, POST, SendBudget(4.0, 12.5, 12.0, 15.0))
    with sessions.begin() as session:
        again = coordination.lock_budget(session, POST, start=SendBudget(rate=1.0))
    assert first == SendBudget(rate=2.0)
    assert again == SendBudget(rate=4.0, due=12.5, last_at=12.0, calm_until=15.0)


def _replicas(engine: Engine, count: int, clock: Instant) -> list[Pacer]:
    sessions = make_sessionmaker(engine)
    return [
        Pacer(
            post_per_second=2.0,
            post_min_per_second=0.5,
            post_max_per_second=10.0,
            budget=SharedBudget(sessions, 2.0),
            clock=clock,
            sleep=clock.sleep,
        )
        for _ in range(count)
    ]


def test_a_429_on_one_replica_slows_every_replica(engine: Engine) -> None:
    clock = Instant()
    first, second, third = _replicas(engine, 3, clock)
    first.hold(POST, 5)  # Slack said 429 to the first, Retry-After 5
    second.hold(POST, 5)  # one of the second's posts on its way came back 429 too
    assert [p.post_rate for p in (first, second, third)] == [1.0, 1.0, 1.0]  # halved once
    third.wait(POST, channel="D1")  # the third never saw a 429: it still waits it out
    first.wait(POST, channel="D2")
    # then no burst: one a second for the workspace, whichever replica posts
    assert clock.slept == [pytest.approx(5.0), pytest.approx(6.0)]


@pytest.mark.postgres
def test_replicas_posting_at_once_share_one_budget(postgres_url: str) -> None:
    """Three replicas, twenty posts each, all at the same instant: the budget hands out one
    pace for the workspace (a burst of 3, then one post every half second), not one each."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    clock = Instant()
    replicas = _replicas(engine, 3, clock)
    start = threading.Barrier(len(replicas))

    def fan_out(pacer: Pacer, replica: int) -> None:
        start.wait()
        for n in range(20):
            pacer.wait(POST, channel=f"D{replica}x{n}")

    threads = [threading.Thread(target=fan_out, args=(p, i)) for i, p in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    slots = sorted([0.0] * (60 - len(clock.slept)) + clock.slept)
    assert slots == pytest.approx([0.0, 0.0, 0.0] + [0.5 * n for n in range(1, 58)])


def test_a_refused_token_is_recorded_once_checked_by_one_replica_a_minute_and_forgotten(
    engine: Engine,
) -> None:
    sessions = make_sessionmaker(engine)
    minute = timedelta(minutes=1)
    with sessions.begin() as session:
        assert coordination.find_refusal(session, "k1") is None
        assert coordination.refuse_access(session, "k1", reason="app_uninstalled", at=NOW)
    with sessions.begin() as session:  # a second refusal keeps the first's reason and time
        later = NOW + timedelta(seconds=5)
        assert not coordination.refuse_access(session, "k1", reason="token_revoked", at=later)
        assert coordination.find_refusal(session, "k1") == AccessRefusal(
            reason="app_uninstalled", since=NOW, checked_at=NOW
        )
        assert coordination.find_refusal(session, "k2") is None  # another token
    with sessions.begin() as session:
        claim = coordination.claim_access_check
        assert not claim(session, "k1", now=NOW + timedelta(seconds=59), every=minute)
        assert claim(session, "k1", now=NOW + minute, every=minute)
        assert not claim(session, "k1", now=NOW + minute, every=minute)  # the other replica
        assert not claim(session, "k2", now=NOW + minute, every=minute)  # nothing to check
        refusal = coordination.find_refusal(session, "k1")
        assert refusal is not None and refusal.checked_at == NOW + minute
    with sessions.begin() as session:
        assert coordination.restore_access(session, "k1")
        assert not coordination.restore_access(session, "k1")
        assert coordination.find_refusal(session, "k1") is None
