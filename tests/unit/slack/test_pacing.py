"""The pacer's two lanes (bot/slack/pacing.py): a person waiting is never spaced nor queued
behind a fan-out; bulk calls keep Slack's pace; a 429 holds its own method, in both lanes."""

from __future__ import annotations

import inspect
import threading
from typing import Any

import pytest

from bot.slack.pacing import INTERACTIVE, Pacer, for_a_person, person_waiting
from tests.fakes.clocks import Instant, Virtual


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


# ------------------------------------------------------------------ chat.postMessage


def _post(pacer: Pacer, channel: str, *, accepted: bool = True) -> None:
    pacer.wait("chat.postMessage", channel=channel)
    if accepted:
        pacer.accepted("chat.postMessage")


def test_posts_are_paced_per_channel_one_a_second_after_a_burst_of_three() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=50.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        _post(pacer, "C0DIGEST")
    assert clock.slept == [pytest.approx(1.0), pytest.approx(1.0)]
    for n in range(3):  # other channels (each DM is one) do not wait for this one
        _post(pacer, f"D0PM{n}")
    assert sum(clock.slept[2:]) < 0.1
    _post(pacer, "C0DIGEST")  # but this one keeps its pace: one a second
    assert clock.slept[-1] == pytest.approx(1.0 - sum(clock.slept[2:-1]))


def test_channels_at_rest_are_forgotten_and_busy_ones_keep_their_pace() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=100.0, clock=clock, sleep=clock.sleep)
    for n in range(5000):  # a fan-out to 5,000 DMs
        _post(pacer, f"D{n:05d}")
        if n == 4990:
            for _ in range(3):
                _post(pacer, "C0DIGEST")
    assert len(pacer._channels) <= 1024  # not 5,001
    before = len(clock.slept)
    _post(pacer, "C0DIGEST")  # its fourth message this second still waits its turn
    assert clock.slept[before:] and clock.slept[-1] > 0.8  # 1 s after, less the 9 posts since


def test_the_workspace_budget_grows_while_slack_accepts_posts() -> None:
    clock = Virtual()
    pacer = Pacer(
        post_per_second=1.0,
        post_min_per_second=0.5,
        post_max_per_second=10.0,
        clock=clock,
        sleep=clock.sleep,
    )
    channels = iter(f"D{n:05d}" for n in range(10_000))
    while clock.at < 60:
        _post(pacer, next(channels))
    assert pacer.post_rate == pytest.approx(2.0, abs=0.1)  # +1 a second per minute
    while clock.at < 120:
        _post(pacer, next(channels))
    assert pacer.post_rate == pytest.approx(3.0, abs=0.1)


def test_the_budget_does_not_grow_while_posts_are_few() -> None:
    clock = Virtual()
    pacer = Pacer(post_max_per_second=10.0, clock=clock, sleep=clock.sleep)
    for n in range(100):
        _post(pacer, f"D{n}")
        clock.sleep(5.0)  # one post every five seconds: the budget is not what limits
    assert pacer.post_rate == 1.0


def test_a_429_halves_the_budget_once_and_its_retry_after_is_waited_out() -> None:
    clock = Virtual()
    pacer = Pacer(
        post_per_second=4.0,
        post_min_per_second=0.5,
        post_max_per_second=10.0,
        clock=clock,
        sleep=clock.sleep,
    )
    pacer.hold("chat.postMessage", 5)
    pacer.hold("chat.postMessage", 5)  # another post on its way came back 429 too
    assert pacer.post_rate == 2.0  # halved once, not twice
    _post(pacer, "D1")
    assert clock.slept == [pytest.approx(5.0)]  # Retry-After
    _post(pacer, "D2")
    _post(pacer, "D3")
    # 2/s (growing again a little since), and no burst after a 429
    assert clock.slept[1:] == [pytest.approx(0.5, abs=0.01), pytest.approx(0.5, abs=0.01)]
    pacer.hold("chat.postMessage", 1)  # a 429 after the Retry-After: halved again
    assert pacer.post_rate == pytest.approx(1.0, abs=0.01)


def test_the_budget_stays_between_its_floor_and_its_ceiling() -> None:
    clock = Virtual()
    pacer = Pacer(
        post_per_second=1.0,
        post_min_per_second=0.5,
        post_max_per_second=1.5,
        clock=clock,
        sleep=clock.sleep,
    )
    for n in range(1000):
        _post(pacer, f"D{n}")
    assert pacer.post_rate == 1.5  # the ceiling
    for _ in range(5):
        pacer.hold("chat.postMessage", 2)
        clock.sleep(2)
    assert pacer.post_rate == 0.5  # the floor


def test_without_a_range_the_post_pace_is_fixed() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=2.0, clock=clock, sleep=clock.sleep)
    for n in range(500):
        _post(pacer, f"D{n}")
    assert pacer.post_rate == 2.0
    pacer.hold("chat.postMessage", 1)
    assert pacer.post_rate == 2.0


def test_other_methods_neither_grow_nor_shrink_the_post_budget() -> None:
    clock = Virtual()
    pacer = Pacer(post_min_per_second=0.5, post_max_per_second=10.0, clock=clock, sleep=clock.sleep)
    for _ in range(200):
        pacer.wait("users.info")
        pacer.accepted("users.info")
    pacer.hold("users.list", 30)
    assert pacer.post_rate == 1.0


@pytest.mark.parametrize(
    ("start", "low", "high"), [(1.0, 2.0, 10.0), (5.0, 0.5, 2.0), (1.0, 0.0, 2.0)]
)
def test_a_budget_outside_its_range_is_refused(start: float, low: float, high: float) -> None:
    with pytest.raises(ValueError, match="post_min_per_second"):
        Pacer(post_per_second=start, post_min_per_second=low, post_max_per_second=high)


def test_the_gateway_paces_a_post_by_its_channel_and_reports_what_slack_accepted() -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web import SlackResponse

    from bot.slack.gateway import SlackError
    from bot.slack.web_api import WebApiGateway

    seen: list[tuple[str, str | None]] = []

    class Recording(Pacer):
        def wait(self, method: str, *, channel: str | None = None) -> None:
            seen.append(("wait", channel))
            super().wait(method, channel=channel)

        def accepted(self, method: str) -> None:
            seen.append(("accepted", method))
            super().accepted(method)

    class Client(WebClient):
        refuse = False

        def chat_postMessage(self, **kwargs: Any) -> Any:  # type: ignore[override]  # noqa: N802
            if self.refuse:
                response = SlackResponse(
                    client=self,
                    http_verb="POST",
                    api_url="chat.postMessage",
                    req_args={},
                    data={"ok": False, "error": "ratelimited"},
                    headers={},
                    status_code=429,
                )
                raise SlackApiError("ratelimited", response)
            return {"channel": "D0PM1", "ts": "1.000100"}

    clock = Virtual()
    client = Client(token="xoxb-test")
    gateway = WebApiGateway(client, Recording(clock=clock, sleep=clock.sleep))
    gateway.post_message(channel="U0PM1", text="hi", blocks=[])
    assert seen == [("wait", "U0PM1"), ("accepted", "chat.postMessage")]
    client.refuse = True  # a 429 that outlived its retries: not accepted
    with pytest.raises(SlackError):
        gateway.post_message(channel="D0PM1", text="hi", blocks=[])
    assert seen[2:] == [("wait", "D0PM1")]
