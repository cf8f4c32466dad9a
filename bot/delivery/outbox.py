"""The outbox worker: send what is due, exactly once, and say what happened.

Every message the bot sends on its own was recorded first (storage.deliveries). The worker
leases a batch of due deliveries (SKIP LOCKED, so replicas share the work), composes each from
the current state of the database (a reminder for a report that has arrived since is dropped),
sends it with Slack message metadata naming the delivery, and records the outcome:

* sent, with the channel and `ts` of its first message;
* a transient failure (429 after its retries, 5xx, timeout, connection lost) is tried again
  later, with exponential backoff and jitter, up to MAX_ATTEMPTS, then marked failed;
* a permanent failure (channel_not_found, user_disabled, invalid_blocks, ...) is marked failed
  at once, with Slack's reason.

A composer may also say the delivery is no longer wanted (`Drop`: skipped) or not wanted yet
(`Defer`: back to pending until a later time, with no attempt counted and its reason kept).

Before a delivery that was tried before is sent again (its worker died mid-send, or its answer
was lost), the worker looks for its messages in the conversation (by metadata) and sends only
the ones that are not there, so a crash or a lost answer never doubles a message. A public
channel the bot posts to without being a member (scope chat:write.public) cannot be read: the
worker joins it first (conversations.join), and only if Slack refuses (a private channel, no
channels:join scope) sends as if nothing had been posted.

When Slack refuses the bot token (bot.slack.access: the app uninstalled, the token revoked),
the refusal is recorded, the delivery goes back to pending (due at once, its record kept) and
the worker hands back the rest of its batch and stops: the tick pauses until the token works.

A worker asked to stop (`stop`, set on SIGTERM by the composition root) leases nothing more,
finishes the delivery in flight and hands back the leases of the rest of its batch, so another
worker (or the next start) sends them at once rather than when the leases run out.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.metrics import DELIVERIES, RETRIES
from bot.render import Message
from bot.services import Services
from bot.slack.access import is_refusal
from bot.slack.gateway import Posted, SlackError, Tag
from bot.slack.people import remember_dm
from storage import deliveries
from storage.records import Delivery, DeliveryKind

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # then failed: about 30 minutes of retries with the backoff below
LEASE = timedelta(minutes=10)  # a worker that holds a delivery longer is presumed dead
BATCH = 20  # deliveries leased per statement
_BACKOFF_BASE = timedelta(minutes=1)
_BACKOFF_CAP = timedelta(minutes=30)
# Slack error codes worth another try; any other code is Slack saying no, for good.
TRANSIENT = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file posted in the delivery's thread after its messages (the digest's chart). A
    failed upload is logged and does not fail the delivery: the messages matter more."""

    filename: str
    content: bytes
    title: str
    alt_text: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a delivery sends: messages to a channel, or to a user's DM (`user`, with `channel`
    their DM channel when it is known), optionally in a thread. The first message is the
    delivery's; the others follow in its thread (or in `thread_ts` when given)."""

    messages: list[Message]
    channel: str | None = None
    user: str | None = None
    thread_ts: str | None = None
    upload: Upload | None = None
    remember: dict[str, Any] | None = None  # kept in the delivery's payload once sent


@dataclass(frozen=True, slots=True)
class Drop:
    """The delivery is no longer wanted (answered meanwhile, out of office...): skip it."""

    reason: str


@dataclass(frozen=True, slots=True)
class Defer:
    """The delivery is not wanted now but at `until` (outside the person's working hours...):
    it goes back to pending, due then, with no attempt counted and no lease, and `reason` kept
    for `pmo-bot deliveries` (storage.deliveries.deferral). A deferral is at least
    MIN_DEFERRAL, so one drain never composes the same delivery over and over."""

    until: datetime
    reason: str


Composer = Callable[[Services, Delivery, datetime], Outgoing | Drop | Defer]
Now = Callable[[], datetime]
MIN_DEFERRAL = timedelta(minutes=1)


@dataclass
class DrainResult:
    sent: Counter[DeliveryKind] = field(default_factory=Counter)
    skipped: int = 0
    deferred: int = 0
    retrying: int = 0
    failures: list[str] = field(default_factory=list)
    handed_back: int = 0  # leases given back unused because the worker was asked to stop
    stopped: bool = False  # the drain ended because it was asked to stop
    refused: str | None = None  # Slack refused the bot token (why): the drain ended there


def is_transient(error: SlackError) -> bool:
    code = error.code
    return code in TRANSIENT or code.startswith(("http_", "unreachable"))


def backoff(attempt: int) -> timedelta:
    """Wait before attempt `attempt + 1`: 1, 2, 4, 8... minutes (capped), each ±25 %."""
    base: timedelta = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return base * random.uniform(0.75, 1.25)


def drain(
    services: Services,
    composers: Mapping[DeliveryKind, Composer],
    *,
    now: Now,
    until: datetime | None = None,
    stop: threading.Event | None = None,
) -> DrainResult:
    """Send due deliveries until none is left (or until `until`, so the next tick can plan).

    Once `stop` is set, lease nothing more: finish the delivery in flight, hand back the
    leases of the rest of the batch (pending again, due at once) and return."""
    result = DrainResult()

    def stopping() -> bool:
        return stop is not None and stop.is_set()

    while (until is None or now() < until) and not stopping() and result.refused is None:
        leased_at = now()
        with services.sessions.begin() as session:
            batch = deliveries.lease(session, now=leased_at, lease_for=LEASE, limit=BATCH)
        if not batch:
            break
        for index, delivery in enumerate(batch):
            if stopping() or result.refused is not None:
                _hand_back(services, batch[index:], leased_at + LEASE, result)
                break
            _attempt(services, composers[delivery.kind], delivery, now, result)
    result.stopped = stopping()
    return result


def _hand_back(
    services: Services, unsent: list[Delivery], lease_until: datetime, result: DrainResult
) -> None:
    with services.sessions.begin() as session:
        result.handed_back += deliveries.release(
            session, [d.id for d in unsent], lease_until=lease_until
        )
    log.info("%d leased deliveries handed back unsent", result.handed_back)


def _attempt(
    services: Services, compose: Composer, delivery: Delivery, now: Now, result: DrainResult
) -> None:
    try:
        outgoing = compose(services, delivery, now())
    except SlackError as exc:  # a lookup the composer needed failed: counts as an attempt
        with services.sessions.begin() as session:
            deliveries.mark_attempt(session, delivery.id)
        _failed(services, delivery, exc, now(), result)
        return
    except Exception as exc:  # a bug or a broken template must not stop the other deliveries
        log.exception("could not compose delivery %s (%s)", delivery.id, delivery.kind)
        with services.sessions.begin() as session:
            deliveries.mark_failed(
                session, delivery.id, error=f"internal error: {type(exc).__name__}", now=now()
            )
        DELIVERIES.labels(delivery.kind.value, "failed").inc()
        result.failures.append(f"{delivery.kind} {delivery.target}: internal error")
        return
    if isinstance(outgoing, Drop):
        with services.sessions.begin() as session:
            deliveries.mark_skipped(session, delivery.id, reason=outgoing.reason, now=now())
        DELIVERIES.labels(delivery.kind.value, "skipped").inc()
        result.skipped += 1
        return
    if isinstance(outgoing, Defer):
        until = max(outgoing.until, now() + MIN_DEFERRAL)
        with services.sessions.begin() as session:
            deliveries.defer(session, delivery.id, until=until, reason=outgoing.reason)
        log.info("delivery %s deferred until %s: %s", delivery.id, until, outgoing.reason)
        result.deferred += 1
        return
    with services.sessions.begin() as session:
        deliveries.mark_attempt(session, delivery.id)
    try:
        first = _send(services, delivery, outgoing, now)
    except SlackError as exc:
        _failed(services, delivery, exc, now(), result)
        return
    with services.sessions.begin() as session:
        deliveries.mark_sent(
            session,
            delivery.id,
            channel=first.channel,
            ts=first.ts,
            now=now(),
            payload={**(delivery.payload or {}), **outgoing.remember}
            if outgoing.remember
            else None,
        )
    DELIVERIES.labels(delivery.kind.value, "sent").inc()
    result.sent[delivery.kind] += 1


def _failed(
    services: Services, delivery: Delivery, error: SlackError, at: datetime, result: DrainResult
) -> None:
    attempts = delivery.attempts + 1
    reason = f"{error.method}: {error.code}" if error.method else error.code
    if is_refusal(error):  # not this delivery's fault: it waits, the bot pauses
        services.access.refused(reason)
        with services.sessions.begin() as session:
            deliveries.defer(
                session, delivery.id, until=at, reason=f"Slack refuses the bot token ({reason})"
            )
        result.refused = reason
        return
    with services.sessions.begin() as session:
        if is_transient(error) and attempts < MAX_ATTEMPTS:
            retry_at = at + backoff(attempts)
            deliveries.mark_retry(session, delivery.id, error=reason, at=retry_at)
            log.info("delivery %s: %s; retrying at %s", delivery.id, reason, retry_at)
            RETRIES.labels(delivery.kind.value).inc()
            result.retrying += 1
            return
        if is_transient(error):
            reason = f"{reason} (gave up after {attempts} attempts)"
        deliveries.mark_failed(session, delivery.id, error=reason, now=at)
    DELIVERIES.labels(delivery.kind.value, "failed").inc()
    log.warning(
        "delivery %s (%s %s) failed: %s",
        delivery.id,
        delivery.kind,
        delivery.target,
        reason,
        extra={
            "event": "delivery_failed",
            "delivery_id": delivery.id,
            "kind": delivery.kind.value,
            "target": delivery.target,
            "attempts": attempts,
            "reason": reason,
        },
    )
    result.failures.append(f"{delivery.kind} {delivery.target}: {reason}")


def _channel(delivery: Delivery, outgoing: Outgoing) -> str | None:
    """Where the messages go, when known without asking Slack: the composer passes a user's
    cached DM channel; otherwise the first post to the user's id tells it."""
    return outgoing.channel or delivery.channel


def _send(services: Services, delivery: Delivery, outgoing: Outgoing, now: Now) -> Posted:
    gateway = services.gateway
    channel = _channel(delivery, outgoing)
    already: dict[int, Posted] = {}
    if delivery.attempts > 0 or delivery.error:  # tried before: it may be in Slack already
        if channel is None and outgoing.user is not None:
            channel = gateway.open_dm(outgoing.user)
            remember_dm(services.sessions, outgoing.user, channel, now=now())
        assert channel is not None
        already = _find_posted(services, delivery, channel, outgoing)
        if already:
            log.info("delivery %s was posted before: parts %s", delivery.id, sorted(already))
    first = already.get(1)
    if first is None:
        message = outgoing.messages[0]
        # A DM whose channel is not known yet is posted to the user's id: Slack opens the
        # app's DM with them and answers with its channel, which is then cached.
        first = gateway.post_message(
            channel=channel or outgoing.user or "",
            text=message.text,
            blocks=message.blocks,
            thread_ts=outgoing.thread_ts,
            tag=Tag(delivery.id, 1),
        )
        if channel is None and outgoing.user is not None:
            remember_dm(services.sessions, outgoing.user, first.channel, now=now())
    if len(outgoing.messages) > 1:
        if 1 not in already:
            with services.sessions.begin() as session:
                deliveries.mark_progress(session, delivery.id, channel=first.channel, ts=first.ts)
        thread = outgoing.thread_ts or first.ts
        for part, message in enumerate(outgoing.messages[1:], start=2):
            if part in already:
                continue
            gateway.post_message(
                channel=first.channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=thread,
                tag=Tag(delivery.id, part),
            )
    if outgoing.upload is not None and not already:
        _upload(services, delivery, outgoing.upload, first)
    return first


def _upload(services: Services, delivery: Delivery, upload: Upload, first: Posted) -> None:
    """Post the file in the thread of the delivery's first message; never fails the delivery.
    (Files carry no metadata, so it is sent only by the attempt that posted the messages: a
    retry after a crash may go without it rather than post it twice.) Sharing a file needs
    membership, unlike posting with chat:write.public: on not_in_channel the bot joins the
    (public) channel and uploads again, once."""
    try:
        _share(services, upload, first)
        return
    except SlackError as exc:
        failure = str(exc)
        if exc.code == "not_in_channel":
            try:
                services.gateway.join_channel(first.channel)
                _share(services, upload, first)
                return
            except SlackError as again:
                failure = f"{failure}, then {again}"
    log.warning("delivery %s: the upload of %s failed: %s", delivery.id, upload.filename, failure)


def _share(services: Services, upload: Upload, first: Posted) -> None:
    services.gateway.upload_file(
        channel=first.channel,
        thread_ts=first.ts,
        filename=upload.filename,
        content=upload.content,
        title=upload.title,
        alt_text=upload.alt_text,
    )


def _find_posted(
    services: Services, delivery: Delivery, channel: str, outgoing: Outgoing
) -> dict[int, Posted]:
    """The parts of a delivery that are already in Slack (searched by message metadata in the
    conversation's recent history, not by time: `tick --at` may run in the past or future).

    A public channel the bot is not a member of answers not_in_channel (posting there needs
    only chat:write.public, reading needs membership): the bot joins it and reads. If Slack
    refuses the join for good (a private channel, no channels:join scope), nothing can be
    known: the delivery is sent as if none of it had been posted (a lost answer may then
    double it; logged). A transient refusal raises, so the delivery is retried later."""
    try:
        return _find_tagged_parts(services, delivery, channel, outgoing)
    except SlackError as exc:
        if exc.code != "not_in_channel":
            raise
    try:
        services.gateway.join_channel(channel)
    except SlackError as exc:
        if is_transient(exc):
            raise
        log.warning(
            "delivery %s: cannot read %s to look for an earlier post (not a member) nor join it "
            "(%s); sending it as not posted",
            delivery.id,
            channel,
            exc,
        )
        return {}
    log.info("delivery %s: joined %s to look for an earlier post", delivery.id, channel)
    return _find_tagged_parts(services, delivery, channel, outgoing)


def _find_tagged_parts(
    services: Services, delivery: Delivery, channel: str, outgoing: Outgoing
) -> dict[int, Posted]:
    found = services.gateway.find_tagged(
        channel=channel, delivery_id=delivery.id, thread_ts=outgoing.thread_ts
    )
    if len(outgoing.messages) > 1 and 1 in found and outgoing.thread_ts is None:
        replies = services.gateway.find_tagged(
            channel=channel, delivery_id=delivery.id, thread_ts=found[1].ts
        )
        found.update({part: posted for part, posted in replies.items() if part > 1})
    return found
