"""Replicas starting cold list Slack's users once, not once each: one holds the lease on
users.list, the others leave the projects of PMs they do not know yet for their next tick
instead of guessing their timezone. bot/ over SQLite, Slack as FakeGateway."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.delivery.tick import tick
from bot.services import Services
from bot.slack.people import UserListing
from storage import deliveries
from storage.records import DeliveryKind
from tests.usecase.conftest import World

THU_19 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris, 04:00 in New York
PARIS = [f"U0PARIS{n:03d}" for n in range(45)]
NEW_YORK = "U0NEWYORK1"


def _portfolio(world: World) -> None:
    for user in PARIS:
        world.gateway.add_user(user, tz="Europe/Paris")
    world.gateway.add_user(NEW_YORK, tz="America/New_York")
    projects = "".join(
        f"  - {{key: P{n:03d}, name: Project {n}, pm: {user}}}\n"
        for n, user in enumerate([*PARIS, NEW_YORK])
    )
    world.load(f"projects:\n{projects}")


def _prompted(world: World) -> dict[datetime, int]:
    """How many prompts were recorded for each occurrence (an instant, in UTC)."""
    with world.services.sessions.begin() as session:
        recorded = deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)
    return dict(Counter(d.occurrence for d in recorded))


# The week's occurrence in Paris; in New York the period open at 04:00 began last Thursday
# at 10:00 New York time. A guess in the default timezone would have said THU_19 for both.
EXPECTED = {THU_19: len(PARIS), datetime(2026, 11, 12, 15, 0, tzinfo=UTC): 1}


def _replica(world: World, name: str) -> Services:
    return replace(world.services, replica=name)


def test_one_replica_lists_the_users_and_the_others_wait_for_its_list(world: World) -> None:
    _portfolio(world)
    first, second = _replica(world, "first"), _replica(world, "second")
    world.clock.now = THU_19
    assert UserListing(first.sessions, first.replica, first.clock).take()  # listing, mid-way

    tick(second, now=THU_19)  # meanwhile the second replica ticks
    assert not world.gateway.calls_to("users.list") and not world.gateway.calls_to("users.info")
    assert _prompted(world) == {}  # it does not know anyone's timezone yet: it waits

    tick(first, now=THU_19)  # the first lists them (renewing its lease) and hands it back
    tick(second, now=THU_19 + timedelta(minutes=1))
    assert len(world.gateway.calls_to("users.list")) == 1
    assert _prompted(world) == EXPECTED


def test_a_replica_that_dies_while_listing_holds_the_others_back_two_minutes(
    world: World,
) -> None:
    _portfolio(world)
    dead, alive = _replica(world, "dead"), _replica(world, "alive")
    world.clock.now = THU_19
    assert UserListing(dead.sessions, dead.replica, dead.clock).take()  # then SIGKILL

    world.clock.now = THU_19 + timedelta(minutes=1)
    tick(alive, now=world.clock.now)
    assert not world.gateway.calls_to("users.list")
    world.clock.now = THU_19 + timedelta(minutes=2)  # the dead replica's lease ran out
    tick(alive, now=world.clock.now)
    assert len(world.gateway.calls_to("users.list")) == 1
    assert _prompted(world) == EXPECTED
