"""Pacing calls to Slack: people first, and the fan-out inside Slack's rate limits.

Slack publishes a rate per method (tiers: Tier 2 about 20 calls a minute, Tier 3 about 50,
Tier 4 about 100 and lets a minute's worth through in a burst; `chat.postMessage` about one
message a second per channel plus a workspace-wide limit it does not publish). Every Web API
call the gateway makes goes through `Pacer.wait(method)` (a post: `wait(method, channel=...)`),
in one of two lanes.

**A person is waiting: never spaced.** `views.open`, `views.update`, `views.push`,
`views.publish` and `chat.postEphemeral` (`INTERACTIVE`) are only made for someone who just
clicked, typed or opened something, and a `trigger_id` lives 3 seconds: spaced like a fan-out
(three at once, then one every 0.6 s), the tenth of ten simultaneous clicks waited 4.2 s and
its modal never opened. So they are not spaced at all (Slack's Tier 4 takes bursts) and never
wait behind deliveries; bulk work must not use them (republishing every Home after a tick would
need a pace of its own). The same goes for the `users.info` lookups made while a person waits
(`PERSON_LOOKUPS`, inside `person_waiting()`: every Bolt listener in handlers/ is decorated
with it; the locale or timezone of whoever clicked or typed), even while a fan-out looks up
hundreds of profiles: such a call
still takes its place in the method's pace, so the fan-out gives way to the person, never the
reverse. Answers through a `response_url` (Bolt's `respond()`) are not Web API calls and are
not paced at all.

**Bulk: spaced per method.** Everything else (`conversations.*`, `users.*`, `files.*`...,
and `chat.postMessage`, below), whoever makes it, waits its turn: calls of a method are spaced
evenly (a generic cell rate algorithm: a small burst, then one call per interval). A person's
confirmation DM is a `chat.postMessage` like any other and keeps the workspace's pace.

**chat.postMessage: per channel, and a workspace budget that adapts.** Slack allows about one
message a second *per channel* (each DM is a channel of its own) and, across the workspace, a
number it does not publish ("several hundred a minute"). So a post waits for both: its
channel's pace (one a second after a burst of 3, keyed by the `channel` argument: a first DM
posted to a user id is keyed by the id; a post held back by its channel keeps its place in the
workspace budget) and the workspace budget, whose rate adapts like TCP's
(AIMD): it starts at `post_per_second` (`PMO_SEND_RATE`), grows by `post_increase` messages a
second for every minute of posts Slack accepts while the budget is in use (`accepted()`;
idle or slow sending does not grow it), and is multiplied by `post_decrease` (halved) on a
429, at most once per `Retry-After`, always between `post_min_per_second` and
`post_max_per_second` (`PMO_SEND_RATE_MIN`, `PMO_SEND_RATE_MAX`; by default both equal the
starting rate: a fixed pace). The rule (`BudgetRule`) is one; where the budget is kept is
the `BudgetStore`'s business: this process's memory (`ProcessBudget`, on SQLite, where one
process sends), or one row every replica reserves its posts' slots in (`SharedBudget` in
bot/slack/shared_budget.py, on PostgreSQL), so that a 429 met by one replica slows them all.

**A 429 is honoured in both lanes, per method.** `hold(method, seconds)` (Slack's
`Retry-After`) makes the next call of *that* method, from any thread and either lane, wait it
out, instead of piling into the limit; a 429 on another method (say `chat.postMessage` during
a fan-out) never holds a person's call.

Why our own ~150 lines and not a rate-limiting library: the pacer must take an injected clock
and sleep, so that tests and the benchmark run in virtual time without sleeping; the
libraries we looked at (pyrate-limiter, limits) read the wall clock and sleep on their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from storage.records import SendBudget

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Calls per minute, from Slack's published tiers (https://api.slack.com/docs/rate-limits), for
# the methods the bulk lane spaces.
TIER_2, TIER_3, TIER_4 = 20.0, 50.0, 100.0
SLACK_RATES: Mapping[str, float] = {
    "users.list": TIER_2,
    "conversations.open": TIER_3,
    "conversations.join": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "chat.update": TIER_3,
    "users.info": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}
# Made only for a person who is waiting (all Tier 4, bursts allowed): never spaced.
INTERACTIVE = frozenset(
    {"views.open", "views.update", "views.push", "views.publish", "chat.postEphemeral"}
)
# Spaced in a fan-out, but not when made while a person waits (inside `person_waiting()`).
PERSON_LOOKUPS = frozenset({"users.info"})

POST = "chat.postMessage"
CHANNEL_PER_SECOND = 1.0  # Slack: about one message a second per channel
POST_INCREASE = 1.0  # messages a second gained per minute of accepted posts (additive)
POST_DECREASE = 0.5  # the rate is multiplied by this on a 429 (multiplicative)
_PRUNE_CHANNELS = 1024  # forget channels whose pace is back to rest past this many

_PERSON_WAITING: ContextVar[bool] = ContextVar("pmo_person_waiting", default=False)


@contextmanager
def person_waiting() -> Iterator[None]:
    """Calls made inside are made for a person who is waiting (a click, a command, a submitted
    modal, an opened Home): their lookups (`PERSON_LOOKUPS`) go in the person's lane. Also a
    decorator: `@person_waiting()` on a Bolt listener (its signature is kept, so Bolt still
    reads its arguments' names). Per thread and context: a fan-out running beside it is not
    affected."""
    token = _PERSON_WAITING.set(True)
    try:
        yield
    finally:
        _PERSON_WAITING.reset(token)


def for_a_person(method: str) -> bool:
    """Whether a call of `method`, made here and now, is in the lane of a person waiting."""
    return method in INTERACTIVE or (method in PERSON_LOOKUPS and _PERSON_WAITING.get())


@dataclass
class _Slot:
    interval: float  # seconds between calls
    burst: int
    due: float = 0.0  # theoretical arrival time of the next call

    def ready(self, now: float) -> float:
        """The earliest time a call may go (a generic cell rate algorithm)."""
        return max(self.due, now) - (self.burst - 1) * self.interval

    def take(self, at: float) -> None:
        self.due = max(self.due, at) + self.interval


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """How the workspace budget of chat.postMessage moves (AIMD), between a floor and a
    ceiling: this process's settings, applied to a `SendBudget` wherever it is kept."""

    floor: float
    ceiling: float
    increase: float  # messages a second gained per minute of accepted posts
    decrease: float  # factor applied on a 429
    burst: int

    def clamp(self, rate: float) -> float:
        return min(self.ceiling, max(self.floor, rate))

    def reserve(
        self, budget: SendBudget, *, now: float, not_before: float, grown: int
    ) -> tuple[SendBudget, tuple[float, bool]]:
        """The budget after a post takes its slot, and (when the post may go, whether it came
        while the budget was in use: within two intervals of the previous post, whoever made
        it). First, `grown` posts accepted while it was in use grow the rate."""
        rate = self.clamp(budget.rate)
        for _ in range(grown):
            rate = self.clamp(rate + self.increase / (60.0 * rate))
        interval = 1.0 / rate
        at = max(not_before, max(budget.due, now) - (self.burst - 1) * interval)
        in_use = budget.last_at is not None and at - budget.last_at <= 2 * interval
        after = replace(budget, rate=rate, due=max(budget.due, at) + interval, last_at=at)
        return after, (at, in_use)

    def back_off(
        self, budget: SendBudget, *, now: float, until: float
    ) -> tuple[SendBudget, tuple[float, float]]:
        """The budget after a 429 whose Retry-After ends at `until`: its rate times
        `decrease`, once per Retry-After (the posts already on their way that come back 429
        do not drop it again); no post before `until`, then one per interval (no burst).
        Returns (the rate before, after)."""
        calm = budget.calm_until is not None and now < budget.calm_until
        rate = budget.rate if calm else self.clamp(budget.rate * self.decrease)
        interval = 1.0 / rate
        after = SendBudget(
            rate=rate,
            due=max(budget.due, until + (self.burst - 1) * interval),
            last_at=None,
            calm_until=budget.calm_until if calm else until,
        )
        return after, (budget.rate, rate)


class BudgetStore(Protocol):
    """Where the workspace budget is kept: `update` applies a change atomically (no other
    post, in this process or, when shared, any replica, sees it half made)."""

    def update(self, change: Callable[[SendBudget], tuple[SendBudget, T]]) -> T: ...


class ProcessBudget:
    """The budget in this process's memory: replicas would each have their own."""

    def __init__(self, start: float) -> None:
        self._budget = SendBudget(rate=start)
        self._lock = threading.Lock()

    def update(self, change: Callable[[SendBudget], tuple[SendBudget, T]]) -> T:
        with self._lock:
            self._budget, result = change(self._budget)
            return result


class Pacer:
    """Spaces bulk calls per method, lets a waiting person's calls through, and honours 429s
    per method. chat.postMessage is paced per channel (`channel_per_second`) and by a
    workspace budget starting at `post_per_second` that adapts between `post_min_per_second`
    and `post_max_per_second` (default: both equal to the start, a fixed pace), kept in
    `budget` (default: this process's memory; `bot.slack.shared_budget.SharedBudget` shares it
    with every replica through the database)."""

    def __init__(
        self,
        *,
        post_per_second: float = 1.0,
        post_min_per_second: float | None = None,
        post_max_per_second: float | None = None,
        post_increase: float = POST_INCREASE,
        post_decrease: float = POST_DECREASE,
        channel_per_second: float = CHANNEL_PER_SECOND,
        rates_per_minute: Mapping[str, float] = SLACK_RATES,
        burst: int = 3,
        budget: BudgetStore | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        floor = post_per_second if post_min_per_second is None else post_min_per_second
        ceiling = post_per_second if post_max_per_second is None else post_max_per_second
        if not 0 < floor <= post_per_second <= ceiling:
            raise ValueError(
                f"need 0 < post_min_per_second ({floor}) <= post_per_second "
                f"({post_per_second}) <= post_max_per_second ({ceiling})"
            )
        if post_increase < 0 or not 0 < post_decrease <= 1 or channel_per_second <= 0:
            raise ValueError("need post_increase >= 0, 0 < post_decrease <= 1, a positive rate")
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()  # the per-method slots and holds
        self._post_lock = threading.Lock()  # a post: its channel's slot and the budget's
        self._slots = {
            method: _Slot(60.0 / per_minute, burst)
            for method, per_minute in rates_per_minute.items()
            if method not in INTERACTIVE and method != POST
        }
        self._rule = BudgetRule(floor, ceiling, post_increase, post_decrease, burst)
        self._budget = budget if budget is not None else ProcessBudget(post_per_second)
        self._grown = 0  # posts accepted while the budget was in use, not yet counted in it
        self._in_use = False  # whether the last post reserved came while it was in use
        self._channel_interval, self._channel_burst = 1.0 / channel_per_second, burst
        self._channels: dict[str, _Slot] = {}  # forgotten once at rest (like a new one)
        self._prune_at = _PRUNE_CHANNELS
        self._held: dict[str, float] = {}  # method -> no call before this time (a 429)
        self.waited = 0.0  # total seconds spent waiting (for the benchmark and tests)

    @property
    def post_rate(self) -> float:
        """The workspace budget's rate of chat.postMessage now, in messages a second."""
        return self._budget.update(lambda budget: (budget, self._rule.clamp(budget.rate)))

    def wait(self, method: str, *, channel: str | None = None) -> None:
        """Block until a call to `method` may go (a person's: only past a 429's Retry-After;
        a bulk call: when it fits its method's pace too; a chat.postMessage: its `channel`'s
        pace and the workspace budget), then count it."""
        if method == POST:
            delay = self._reserve_post(channel)
        else:
            person = for_a_person(method)
            with self._lock:
                now = self._clock()
                start = max(now, self._held.get(method, now))
                paced = self._slots.get(method)
                at = start if paced is None or person else max(start, paced.ready(now))
                if paced is not None:  # a person's call takes its place: bulk calls give way
                    paced.take(at)
                delay = at - now
                self.waited += delay
        if delay > 0:
            self._sleep(delay)

    def _reserve_post(self, channel: str | None) -> float:
        """A post's slot, in its channel's pace and in the workspace budget (which may be a
        row in the database: reserved outside `_lock`, so other methods never wait for it)."""
        with self._post_lock:
            with self._lock:
                now = self._clock()
                start = max(now, self._held.get(POST, now))
                grown, self._grown = self._grown, 0
            slot = self._channel(channel, now) if channel else None
            not_before = max(start, slot.ready(now)) if slot is not None else start
            at, self._in_use = self._budget.update(
                lambda budget: self._rule.reserve(
                    budget, now=now, not_before=not_before, grown=grown
                )
            )
            if slot is not None:
                slot.take(at)
        with self._lock:
            self.waited += at - now
        return at - now

    def _channel(self, channel: str, now: float) -> _Slot:
        slot = self._channels.get(channel)
        if slot is None:
            if len(self._channels) >= self._prune_at:  # a slot due in the past is at rest:
                self._channels = {k: s for k, s in self._channels.items() if s.due > now}
                self._prune_at = max(_PRUNE_CHANNELS, 2 * len(self._channels))
            slot = self._channels[channel] = _Slot(self._channel_interval, self._channel_burst)
        return slot

    def accepted(self, method: str) -> None:
        """Slack took a call of `method` (no 429). For chat.postMessage, the workspace budget
        grows by `post_increase`/s per minute of such posts, while posts come about as fast as
        it allows (within two intervals of the previous one, whichever replica made it); not
        while it sits idle. Counted when this process reserves its next post."""
        if method != POST:
            return
        with self._lock:
            if self._in_use:
                self._grown += 1

    def hold(self, method: str, seconds: float) -> None:
        """Slack said 429: no call to `method` (from any thread, in either lane) before
        `seconds` from now; other methods are not held. For chat.postMessage the workspace
        budget's rate also drops (times `post_decrease`, not below the floor), once per hold:
        the calls already on their way that come back 429 do not drop it again."""
        with self._lock:
            now = self._clock()
            until = max(self._held.get(method, now), now + seconds)
            self._held[method] = until
            slot = self._slots.get(method)
            if slot is not None:  # then one call per interval again, not a burst
                slot.due = max(slot.due, until + (slot.burst - 1) * slot.interval)
            if method == POST:
                self._grown, self._in_use = 0, False
        if method == POST:
            before, after = self._budget.update(
                lambda budget: self._rule.back_off(budget, now=now, until=until)
            )
            if after != before:
                log.info(
                    "chat.postMessage: 429, waiting %.0f s; pace %.2f/s -> %.2f/s",
                    seconds,
                    before,
                    after,
                )
