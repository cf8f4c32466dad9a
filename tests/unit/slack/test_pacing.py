"""The pacer's two lanes (bot/slack/pacing.py): a person waiting is never spaced nor queued
behind a fan-out; bulk calls keep Slack's pace; a 429 holds its own method, in both lanes."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest

from bot.slack.pacing import INTERACTIVE, Pacer, for_a_person, person_waiting


class Virtual:
    """Time that moves only when the pacer sleeps on it (one caller after another)."""

    def __init__(self) -> None:
        self.at = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


class Instant(Virtual):
    """Time that stands still: every call happens at the same instant, as calls from many
    threads at once do; what each was asked to sleep is recorded."""

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_calls_a_person_waits_for_are_never_spaced() -> None:
    clock = Instant()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    for method in sorted(INTERACTIVE):
        for _ in range(50):  # fifty people at the same instant
            pacer.wait(method)
    assert clock.slept == []
    assert pacer.waited == 0.0


def test_a_person_waiting_is_not_spaced_even_if_the_rates_name_their_method() -> None:
    clock = Instant()
    pacer = Pacer(rates_per_minute={"views.open": 1.0}, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        pacer.wait("views.open")
    assert clock.slept == []


def test_bulk_calls_keep_their_pace_while_people_click() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=1.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        pacer.wait("chat.postMessage")
        pacer.wait("views.open")
        pacer.wait("views.publish")
    assert clock.slept == [1.0, 1.0, 1.0, 1.0]  # three at once, then one a second


def test_ten_simultaneous_lookups_of_a_fan_out_are_spaced_but_a_persons_is_not() -> None:
    clock = Instant()
    pacer = Pacer(burst=3, clock=clock, sleep=clock.sleep)  # users.info: Tier 4, one per 0.6 s
    for _ in range(10):
        pacer.wait("users.info")
    assert clock.slept == pytest.approx([0.6 * n for n in range(1, 8)])  # the tenth: 4.2 s
    with person_waiting():
        pacer.wait("users.info")
    assert len(clock.slept) == 7  # the person did not wait
    pacer.wait("users.info")  # the fan-out's next lookup gives way to the person's
    assert clock.slept[-1] == pytest.approx(0.6 * 9)  # not 0.6 * 8


def test_a_persons_other_calls_keep_the_bulk_pace() -> None:
    """A confirmation DM is a chat.postMessage like the fan-out's: only lookups change lane."""
    clock = Instant()
    pacer = Pacer(post_per_second=1.0, burst=1, clock=clock, sleep=clock.sleep)
    with person_waiting():
        for method in (
            "chat.postMessage",
            "conversations.open",
            "users.list",
            "files.getUploadURLExternal",
        ):
            assert not for_a_person(method)
            pacer.wait(method)
            pacer.wait(method)
    assert len(clock.slept) == 4  # the second call of each method waited its turn


def test_a_429_holds_its_method_for_people_too_and_only_that_method() -> None:
    clock = Virtual()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold("chat.postMessage", 30)  # the fan-out ran into a limit
    pacer.hold("users.list", 30)
    pacer.wait("views.open")
    with person_waiting():
        pacer.wait("users.info")
    assert clock.slept == []  # a person never waits behind another method's 429
    pacer.hold("views.open", 2)  # Slack said 429 to a views.open: Retry-After 2
    pacer.wait("views.open")
    assert clock.slept == [pytest.approx(2.0)]
    pacer.wait("views.open")  # the hold is over: no spacing again
    assert clock.slept == [pytest.approx(2.0)]


def test_a_429_on_users_info_holds_a_persons_lookup_too() -> None:
    clock = Virtual()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold("users.info", 5)
    with person_waiting():
        pacer.wait("users.info")
    assert clock.slept == [pytest.approx(5.0)]


def test_a_hold_is_never_shortened_by_a_shorter_one() -> None:
    clock = Virtual()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold("views.publish", 10)
    pacer.hold("views.publish", 1)
    pacer.wait("views.publish")
    assert clock.slept == [pytest.approx(10.0)]


def test_the_persons_lane_is_per_thread_and_ends_with_the_listener() -> None:
    inside, checked = threading.Event(), threading.Event()
    seen: list[bool] = []

    def listener() -> None:
        with person_waiting():
            seen.append(for_a_person("users.info"))
            inside.set()
            checked.wait(timeout=10)  # a liveness bound: the other thread answers at once

    thread = threading.Thread(target=listener)
    thread.start()
    assert inside.wait(timeout=10)
    fan_out_sees = for_a_person("users.info")  # meanwhile, in another thread (the tick)
    checked.set()
    thread.join()
    assert seen == [True]
    assert fan_out_sees is False
    assert for_a_person("users.info") is False
    assert for_a_person("views.open") is True  # by its method, wherever it is made


def test_as_a_decorator_it_keeps_the_listeners_arguments_for_bolt() -> None:
    @person_waiting()
    def listener(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> bool:
        return for_a_person("users.info")

    # Bolt passes a listener the arguments it names (getfullargspec of the unwrapped function).
    assert inspect.getfullargspec(inspect.unwrap(listener)).args == ["ack", "body", "action"]
    assert listener(None, {}, {}) is True
    assert listener(None, {}, {}) is True  # again: each call enters afresh
    assert for_a_person("users.info") is False
