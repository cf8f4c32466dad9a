"""Pacing calls to Slack so a fan-out stays inside Slack's rate limits instead of hitting them.

Slack publishes a rate per method (tiers: Tier 2 about 20 calls a minute, Tier 3 about 50,
Tier 4 about 100; `chat.postMessage` about one message a second per channel plus a
workspace-wide limit it does not publish). Every call goes through `Pacer.wait(method)`, which
spaces calls of a method evenly (a generic cell rate algorithm: a small burst, then one call
per interval). A 429 pushes the method's next slot past its `Retry-After`, so the other threads
wait too instead of piling into the limit.

Why our own ~40 lines and not a rate-limiting library: the pacer must take an injected clock
and sleep, so that tests and the benchmark run in virtual time without sleeping; the
libraries we looked at (pyrate-limiter, limits) read the wall clock and sleep on their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Calls per minute, from Slack's published tiers (https://api.slack.com/docs/rate-limits).
TIER_2, TIER_3, TIER_4 = 20.0, 50.0, 100.0
SLACK_RATES: Mapping[str, float] = {
    "users.list": TIER_2,
    "conversations.open": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "chat.update": TIER_3,
    "users.info": TIER_4,
    "chat.postEphemeral": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    "views.publish": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
}


@dataclass
class _Slot:
    interval: float  # seconds between calls
    burst: int
    due: float = 0.0  # theoretical arrival time of the next call


class Pacer:
    """Spaces calls per method. `post_per_second` is the workspace-wide pace of chat.postMessage
    (per process: with several replicas, divide Slack's rate among them)."""

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
        }
        self._slots["chat.postMessage"] = _Slot(1.0 / post_per_second, burst)
        self.waited = 0.0  # total seconds spent waiting (for the benchmark and tests)

    def wait(self, method: str) -> None:
        """Block until a call to `method` fits its pace, then count it."""
        slot = self._slots.get(method)
        if slot is None:
            return
        with self._lock:
            now = self._clock()
            due = max(slot.due, now)
            delay = max(0.0, due - (slot.burst - 1) * slot.interval - now)
            slot.due = due + slot.interval
            self.waited += delay
        if delay > 0:
            self._sleep(delay)

    def hold(self, method: str, seconds: float) -> None:
        """Slack said 429: no call to `method` (from any thread) before `seconds` from now."""
        slot = self._slots.get(method)
        if slot is None:
            return
        with self._lock:
            slot.due = max(slot.due, self._clock() + seconds + (slot.burst - 1) * slot.interval)
