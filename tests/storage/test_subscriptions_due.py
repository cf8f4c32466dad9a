"""Each digest subscription's `due_at` (storage.portfolio): planning reads only those due, stores
each one's next instant unless a write changed its schedule or timezone since it read it, and
every write that changes a subscription makes it due, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import portfolio
from storage.db import make_sessionmaker
from storage.records import Subscription, SubscriptionSpec

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday, 16:00 in Paris
NEXT = NOW + timedelta(days=7)
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # what planning stores for a schedule that has ended

LEADERS = SubscriptionSpec("C0LEADERS")  # Friday 16:00 in the default zone
COMEX = SubscriptionSpec(
    "C0COMEXFR", "FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=0", timezone="Europe/Paris"
)


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    made = make_sessionmaker(engine)
    with made.begin() as session:
        portfolio.upsert_subscriptions(session, [LEADERS, COMEX], now=NOW - timedelta(days=30))
    yield made


def _due(sessions: sessionmaker[Session], at: datetime) -> list[str]:
    with sessions.begin() as session:
        return [s.channel for s in portfolio.due_subscriptions(session, at=at)]


def _plan_all(sessions: sessionmaker[Session], due: dict[str, datetime]) -> None:
    """What planning does: reads the subscriptions due, stores each one's next instant."""
    with sessions.begin() as session:
        found = portfolio.due_subscriptions(session, at=NOW)
        portfolio.set_subscriptions_due(session, [(s, due[s.channel]) for s in found])


def test_a_subscription_is_due_from_its_stored_instant(sessions: sessionmaker[Session]) -> None:
    # new ones: planning has not looked at them, they are due whenever it looks
    assert _due(sessions, NOW - timedelta(days=3650)) == ["C0COMEXFR", "C0LEADERS"]
    _plan_all(sessions, {"C0LEADERS": NEXT, "C0COMEXFR": NEVER})
    assert _due(sessions, NOW) == []
    assert _due(sessions, NEXT - timedelta(microseconds=1)) == []
    assert _due(sessions, NEXT) == ["C0LEADERS"]  # at its instant, not only after
    assert _due(sessions, datetime(9000, 1, 1, tzinfo=UTC)) == ["C0LEADERS"]
    assert _due(sessions, NEVER) == ["C0COMEXFR", "C0LEADERS"]  # stored as it was given
    # nothing else moved: the subscriptions read as they were written
    with sessions.begin() as session:
        stored = portfolio.list_subscriptions(session)
    assert [replace(s, id=0) for s in stored] == [
        Subscription(id=0, **_fields(spec)) for spec in (COMEX, LEADERS)
    ]


def _fields(spec: SubscriptionSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in SubscriptionSpec.__dataclass_fields__}


@pytest.mark.parametrize(
    "change",
    [
        {"schedule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10"},
        {"timezone": "Asia/Tokyo"},
        {"language": "fr"},
        {"mention_pms": False},
        {"tags": ("cloud",)},
        {"grace_hours": 24},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_write_that_changes_a_subscription_makes_it_due(
    sessions: sessionmaker[Session], change: dict[str, object]
) -> None:
    _plan_all(sessions, {"C0LEADERS": NEXT, "C0COMEXFR": NEXT})
    with sessions.begin() as session:  # the same again (an import that changes nothing)
        assert portfolio.upsert_subscriptions(session, [LEADERS, COMEX], now=NOW) == 0
        portfolio.upsert_subscription(session, COMEX, now=NOW)
    assert _due(sessions, NOW) == []
    with sessions.begin() as session:  # `/pmo subscribe` changing one
        portfolio.upsert_subscription(session, replace(COMEX, **change), now=NOW)  # type: ignore[arg-type]
    assert _due(sessions, NOW) == ["C0COMEXFR"]
    with sessions.begin() as session:  # an import creating one
        portfolio.upsert_subscriptions(session, [LEADERS, SubscriptionSpec("C0NEW")], now=NOW)
    assert _due(sessions, NOW) == ["C0COMEXFR", "C0NEW"]


def test_a_write_after_planning_read_a_subscription_keeps_it_due(
    sessions: sessionmaker[Session],
) -> None:
    """Planning computes the next instant from the schedule and timezone it read: when a write
    changed either since, that instant is not stored (the write's "due" stands); a write that
    changed neither does not change the instant, which is stored."""
    with sessions.begin() as session:
        read = {s.channel: s for s in portfolio.due_subscriptions(session, at=NOW)}
    with sessions.begin() as session:
        portfolio.upsert_subscriptions(
            session,
            [
                replace(LEADERS, timezone="America/New_York"),  # was the default zone (None)
                replace(COMEX, schedule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=10"),
            ],
            now=NOW,
        )
    with sessions.begin() as session:
        portfolio.set_subscriptions_due(session, [(s, NEXT) for s in read.values()])
    assert _due(sessions, NOW) == ["C0COMEXFR", "C0LEADERS"]

    _plan_all(sessions, {"C0LEADERS": NEXT, "C0COMEXFR": NEXT})
    with sessions.begin() as session:
        read = {s.channel: s for s in portfolio.due_subscriptions(session, at=NEXT)}
    with sessions.begin() as session:  # options only: when it is due does not depend on them
        portfolio.upsert_subscriptions(
            session, [replace(LEADERS, timezone="America/New_York", language="fr")], now=NOW
        )
        later = NEXT + timedelta(days=7)
        portfolio.set_subscriptions_due(session, [(s, later) for s in read.values()])
    assert _due(sessions, later - timedelta(microseconds=1)) == []
    assert _due(sessions, later) == ["C0COMEXFR", "C0LEADERS"]


def test_a_new_default_zone_makes_every_subscription_due(
    sessions: sessionmaker[Session],
) -> None:
    _plan_all(sessions, {"C0LEADERS": NEXT, "C0COMEXFR": NEVER})
    with sessions.begin() as session:
        portfolio.make_subscriptions_due(session)
    assert _due(sessions, NOW) == ["C0COMEXFR", "C0LEADERS"]
    with sessions.begin() as session:  # deleting one leaves the others as they are
        assert portfolio.delete_subscription(session, "C0LEADERS")
    assert _due(sessions, NOW) == ["C0COMEXFR"]
