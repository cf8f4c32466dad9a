"""Pacing calls to Slack: people first, and the fan-out inside Slack's rate limits.

Slack publishes a rate per method (tiers: Tier 2 about 20 calls a minute, Tier 3 about 50,
Tier 4 about 100 and lets a minute's worth through in a burst; `chat.postMessage` about one
message a second per channel plus a workspace-wide limit it does not publish). Every Web API
call the gateway makes goes through `Pacer.wait(method)`, in one of two lanes.

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

**Bulk: spaced per method.** Everything else (`chat.postMessage`, `conversations.*`,
`users.*`, `files.*`...), whoever makes it, waits its turn: calls of a method are spaced evenly
(a generic cell rate algorithm: a small burst, then one call per interval). A person's
confirmation DM is a `chat.postMessage` like any other and keeps the workspace's pace.

**A 429 is honoured in both lanes, per method.** `hold(method, seconds)` (Slack's
`Retry-After`) makes the next call of *that* method, from any thread and either lane, wait it
out, instead of piling into the limit; a 429 on another method (say `chat.postMessage` during
a fan-out) never holds a person's call.

Why our own ~60 lines and not a rate-limiting library: the pacer must take an injected clock
and sleep, so that tests and the benchmark run in virtual time without sleeping; the
libraries we looked at (pyrate-limiter, limits) read the wall clock and sleep on their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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


class Pacer:
    """Spaces bulk calls per method, lets a waiting person's calls through, and honours 429s
    per method. `post_per_second` is the workspace-wide pace of chat.postMessage (per process:
    with several replicas, divide Slack's rate among them)."""

    def __init__(
        self,
        *,
        post_per_second: float = 1.0,
        rates_per_minute: Mapping[str, float] = SLACK_RATES,
        burst: int = 3,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._slots = {
            method: _Slot(60.0 / per_minute, burst)
            for method, per_minute in rates_per_minute.items()
            if method not in INTERACTIVE
        }
        self._slots["chat.postMessage"] = _Slot(1.0 / post_per_second, burst)
        self._held: dict[str, float] = {}  # method -> no call before this time (a 429)
        self.waited = 0.0  # total seconds spent waiting (for the benchmark and tests)

    def wait(self, method: str) -> None:
        """Block until a call to `method` may go (a person's: only past a 429's Retry-After;
        a bulk call: when it fits its method's pace too), then count it."""
        person = for_a_person(method)
        slot = self._slots.get(method)
        with self._lock:
            now = self._clock()
            delay = max(0.0, self._held.get(method, now) - now)
            if slot is not None and person:  # takes its place: the bulk calls give way
                slot.due = max(slot.due, now + delay) + slot.interval
            elif slot is not None:
                due = max(slot.due, now)
                delay = max(delay, due - (slot.burst - 1) * slot.interval - now)
                slot.due = due + slot.interval
            self.waited += delay
        if delay > 0:
            self._sleep(delay)

    def hold(self, method: str, seconds: float) -> None:
        """Slack said 429: no call to `method` (from any thread, in either lane) before
        `seconds` from now; other methods are not held."""
        slot = self._slots.get(method)
        with self._lock:
            now = self._clock()
            self._held[method] = max(self._held.get(method, now), now + seconds)
            if slot is not None:  # then one call per interval again, not a burst
                slot.due = max(slot.due, now + seconds + (slot.burst - 1) * slot.interval)
