"""Digests to a public channel the bot has not joined: not being a member is not a failure.

The app posts there with chat:write.public, but cannot read the channel: before a retry (the
first post failed, or its answer was lost), the history check answers not_in_channel. The bot
then joins the channel (conversations.join, scope channels:join) and reads it, so a lost
answer never doubles the digest; if the join is refused, it sends as if nothing was posted.
FakeSlack models membership, the two scopes and the join; the real Bolt app's services tick.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storage import deliveries
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from tests.e2e.conftest import Harness, start_harness
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

CHANNEL = "C0LEADERS"  # the harness portfolio's digest channel
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 16:00 in Paris
RETRY = FRI_20_DIGEST + timedelta(minutes=5)  # past the first retry's backoff (about 1 min)


def _outsider(database_url: str, fake: FakeSlack, *scopes: str) -> Iterator[Harness]:
    """The harness, with the digest channel public and the bot not in it."""
    fake.add_channel(CHANNEL, name="leadership", is_member=False)
    fake.grant(*scopes)
    running, stop = start_harness(database_url, fake)
    yield running
    stop()


@pytest.fixture
def outsider(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    """The app has the manifest's scopes: chat:write.public and channels:join."""
    yield from _outsider(database_url, fake_slack, "chat:write.public", "channels:join")


@pytest.fixture
def outsider_without_join(database_url: str, fake_slack: FakeSlack) -> Iterator[Harness]:
    """An app installed before channels:join was asked for: it may post, not join."""
    yield from _outsider(database_url, fake_slack, "chat:write.public")


def _digest(h: Harness) -> Delivery:
    with h.services.sessions.begin() as session:
        (digest,) = deliveries.list_deliveries(session, kind=DeliveryKind.DIGEST)
    return digest


def _parts(h: Harness) -> list[int]:
    """The parts of the digest in the channel (its message, then its thread), by their tag."""
    return sorted(
        m["metadata"]["event_payload"]["part"]
        for m in h.fake.messages(CHANNEL)
        if m.get("metadata") and m["metadata"]["event_payload"]["delivery_id"] == _digest(h).id
    )


def test_a_digest_goes_to_a_public_channel_the_bot_has_not_joined(outsider: Harness) -> None:
    result = outsider.tick(FRI_20_DIGEST)
    assert result.digests_sent == 1 and result.failures == ()
    digest = _digest(outsider)
    assert (digest.status, digest.channel) == (DeliveryStatus.SENT, CHANNEL)
    assert len(outsider.digests(CHANNEL)) == 1 and len(outsider.fake.thread(CHANNEL, digest.ts))
    # chat:write.public sufficed for the messages; sharing the chart needed membership.
    assert outsider.fake.calls_to("conversations.history") == []
    (shared,) = outsider.fake.files
    assert shared["thread_ts"] == digest.ts and outsider.fake.is_member(CHANNEL)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"drop_after": True}, id="answer-lost-after-posting"),
        pytest.param({"status": 500}, id="server-error-nothing-posted"),
    ],
)
def test_a_retried_digest_in_a_channel_the_bot_has_not_joined_is_posted_once(
    outsider: Harness, fault: dict[str, object]
) -> None:
    fake = outsider.fake
    fake.fail("chat.postMessage", channel=CHANNEL, **fault)  # type: ignore[arg-type]
    first = outsider.tick(FRI_20_DIGEST)
    # A transient failure, not a failure for good: it is retried.
    assert first.digests_sent == 0 and first.retrying == 1 and first.failures == ()
    waiting = _digest(outsider)
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 1)
    assert not fake.is_member(CHANNEL)

    second = outsider.tick(RETRY)
    assert second.digests_sent == 1 and second.failures == ()
    digest = _digest(outsider)
    assert digest.status is DeliveryStatus.SENT and digest.error is None
    # The history check was refused (not a member), so the bot joined and read it.
    history = fake.calls_to("conversations.history")
    assert [c.error for c in history] == ["not_in_channel", None]
    assert len(fake.calls_to("conversations.join")) == 1 and fake.is_member(CHANNEL)
    # The digest is in the channel once, every part of it once.
    assert len(outsider.digests(CHANNEL)) == 1
    parts = _parts(outsider)
    assert parts == list(range(1, len(parts) + 1)) and len(parts) > 1
    assert outsider.digests(CHANNEL)[0]["ts"] == digest.ts


def test_a_refused_join_sends_the_retry_as_not_posted(
    outsider_without_join: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h, fake = outsider_without_join, outsider_without_join.fake
    fake.fail("chat.postMessage", channel=CHANNEL, status=500)  # nothing was posted
    assert h.tick(FRI_20_DIGEST).retrying == 1
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outbox"):
        second = h.tick(RETRY)
    assert second.digests_sent == 1 and second.failures == ()
    joins = fake.calls_to("conversations.join")  # to read the history, then for the chart
    assert {c.error for c in joins} == {"missing_scope"} and not fake.is_member(CHANNEL)
    assert _digest(h).status is DeliveryStatus.SENT and len(h.digests(CHANNEL)) == 1
    assert fake.files == []  # the digest went out without its chart, which needs membership
    assert any("nor join it" in r.getMessage() for r in caplog.records)
