"""The outbox worker (bot/delivery/outbox.py) as a use case: deferring, stopping, and channels
the bot posts to without being a member. SQLite and FakeGateway; the composers are the
test's own, so each test says exactly what is sent."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.outbox import (
    BATCH,
    MIN_DEFERRAL,
    Composer,
    Defer,
    DrainResult,
    Outgoing,
    drain,
)
from bot.render import Message
from bot.services import Services
from bot.slack.gateway import Tag
from storage import deliveries
from storage.deliveries import Claim
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from tests.usecase.conftest import World

NOW = datetime(2026, 11, 19, 21, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CHANNEL = "C0LEADERS"


def _message(delivery: Delivery) -> Message:
    return Message(text=f"delivery {delivery.id}", blocks=[])


def _to_channel(services: Services, delivery: Delivery, now: datetime) -> Outgoing:
    return Outgoing(messages=[_message(delivery)], channel=CHANNEL)


def _record(world: World, count: int) -> list[int]:
    with world.services.sessions.begin() as session:
        return deliveries.enqueue(
            session,
            [Claim(DeliveryKind.DIGEST, f"subscription:{i}", NOW) for i in range(count)],
            now=NOW,
        )


def _outbox(world: World) -> dict[int, Delivery]:
    with world.services.sessions.begin() as session:
        return {d.id: d for d in deliveries.list_deliveries(session)}


def _drain(
    world: World, compose: Composer, at: datetime, stop: threading.Event | None = None
) -> DrainResult:
    world.clock.now = at
    return drain(world.services, {DeliveryKind.DIGEST: compose}, now=world.clock, stop=stop)


def test_a_deferred_delivery_waits_without_an_attempt_then_goes_out_unchecked(
    world: World,
) -> None:
    (delivery_id,) = _record(world, 1)

    def at_night(services: Services, delivery: Delivery, now: datetime) -> Outgoing | Defer:
        if now < MORNING:
            return Defer(MORNING, "outside working hours")
        return _to_channel(services, delivery, now)

    result = _drain(world, at_night, NOW)
    assert result.deferred == 1 and not result.sent and not world.gateway.posted
    waiting = _outbox(world)[delivery_id]
    assert (waiting.status, waiting.next_attempt_at, waiting.attempts, waiting.error) == (
        DeliveryStatus.PENDING,
        MORNING,
        0,
        None,
    )
    assert deliveries.deferral(waiting) == "outside working hours"
    assert _drain(world, at_night, MORNING - timedelta(minutes=1)).deferred == 0

    result = _drain(world, at_night, MORNING)
    assert result.sent[DeliveryKind.DIGEST] == 1
    (posted,) = world.gateway.messages(CHANNEL)
    assert posted["tag"] == Tag(delivery_id, 1)
    # A deferral is no attempt: nothing made the worker look in Slack before posting.
    assert not world.gateway.calls_to("conversations.history")
    assert _outbox(world)[delivery_id].status is DeliveryStatus.SENT


def test_a_deferral_to_a_time_already_passed_waits_a_minute(world: World) -> None:
    (delivery_id,) = _record(world, 1)
    calls: list[datetime] = []

    def always_late(services: Services, delivery: Delivery, now: datetime) -> Defer:
        calls.append(now)
        return Defer(now - timedelta(hours=1), "not yet")

    assert _drain(world, always_late, NOW).deferred == 1
    assert len(calls) == 1  # composed once, not over and over in the same drain
    assert _outbox(world)[delivery_id].next_attempt_at == NOW + MIN_DEFERRAL


def test_a_stop_finishes_the_delivery_in_flight_and_hands_back_the_rest(world: World) -> None:
    ids = _record(world, 5)
    stop = threading.Event()

    def stopped_on_the_second(services: Services, delivery: Delivery, now: datetime) -> Outgoing:
        if delivery.id == ids[1]:
            stop.set()  # SIGTERM arrives while the second delivery is being sent
        return _to_channel(services, delivery, now)

    result = _drain(world, stopped_on_the_second, NOW, stop=stop)
    assert result.stopped and result.handed_back == 3
    assert result.sent[DeliveryKind.DIGEST] == 2
    outbox = _outbox(world)
    assert [outbox[i].status for i in ids] == [DeliveryStatus.SENT] * 2 + [
        DeliveryStatus.PENDING
    ] * 3
    assert all(outbox[i].lease_until is None and outbox[i].attempts == 0 for i in ids[2:])

    # The next worker sends them at once (not when a lease would have run out), once each.
    again = _drain(world, _to_channel, NOW + timedelta(seconds=1))
    assert again.sent[DeliveryKind.DIGEST] == 3 and not again.stopped
    assert sorted(m["tag"].delivery_id for m in world.gateway.messages(CHANNEL)) == ids


def test_a_worker_asked_to_stop_before_it_starts_leases_nothing(world: World) -> None:
    ids = _record(world, BATCH + 1)
    stop = threading.Event()
    stop.set()
    result = _drain(world, _to_channel, NOW, stop=stop)
    assert result.stopped and result.handed_back == 0 and not result.sent
    assert {d.status for d in _outbox(world).values()} == {DeliveryStatus.PENDING}
    assert len(ids) == BATCH + 1 and not world.gateway.calls


def _tried_before(world: World, delivery_id: int) -> None:
    """The delivery's first attempt lost its answer: one attempt counted, a retry due now."""
    with world.services.sessions.begin() as session:
        deliveries.lease(session, now=NOW, lease_for=timedelta(minutes=10), limit=1)
        deliveries.mark_attempt(session, delivery_id)
        deliveries.mark_retry(session, delivery_id, error="chat.postMessage: unreachable", at=NOW)


def test_a_retry_in_a_channel_the_bot_is_not_in_joins_it_and_finds_the_lost_post(
    world: World,
) -> None:
    (delivery_id,) = _record(world, 1)
    _tried_before(world, delivery_id)
    world.gateway.outside.add(CHANNEL)  # posted with chat:write.public, never joined
    lost = world.gateway.post_message(
        channel=CHANNEL, text="the first attempt", blocks=[], tag=Tag(delivery_id, 1)
    )
    result = _drain(world, _to_channel, NOW)
    assert result.sent[DeliveryKind.DIGEST] == 1 and not result.failures
    assert [c.method for c in world.gateway.calls[1:]] == [
        "conversations.history",  # not_in_channel
        "conversations.join",
        "conversations.history",  # found
    ]
    assert len(world.gateway.messages(CHANNEL)) == 1  # not posted again
    sent = _outbox(world)[delivery_id]
    assert (sent.status, sent.channel, sent.ts) == (DeliveryStatus.SENT, CHANNEL, lost.ts)


def test_a_refused_join_sends_as_not_posted_and_says_so(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    (delivery_id,) = _record(world, 1)
    _tried_before(world, delivery_id)
    world.gateway.outside.add(CHANNEL)
    world.gateway.refuse["conversations.join"] = "missing_scope"
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outbox"):
        result = _drain(world, _to_channel, NOW)
    assert result.sent[DeliveryKind.DIGEST] == 1 and not result.failures
    assert len(world.gateway.messages(CHANNEL)) == 1
    assert _outbox(world)[delivery_id].status is DeliveryStatus.SENT
    assert any(
        "nor join it" in r.getMessage() and "missing_scope" in r.getMessage()
        for r in caplog.records
    )


def test_a_join_that_fails_for_now_is_retried_later_without_posting(world: World) -> None:
    (delivery_id,) = _record(world, 1)
    _tried_before(world, delivery_id)
    world.gateway.outside.add(CHANNEL)
    world.gateway.refuse["conversations.join"] = "internal_error"
    result = _drain(world, _to_channel, NOW)
    assert result.retrying == 1 and not result.sent and not result.failures
    assert not world.gateway.messages(CHANNEL)
    waiting = _outbox(world)[delivery_id]
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.error == "conversations.join: internal_error"
