"""People first: whoever is waiting for Slack (a modal to open, an answer to a command) never
queues behind the bot's own deliveries (bot/slack/pacing.py).

A tick's fan-out of 300 prompts is sending, paced, with the fake enforcing Slack's rate limits,
when people click and type all at once. How long each of them waited in our pacer is measured in
virtual time, in the clock of the thread that served them, never on the wall clock.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from bot.delivery.tick import TickResult
from bot.slack.pacing import Pacer
from tests.e2e.conftest import (
    PM_NEW_YORK,
    PM_PARIS,
    SECRET,
    Harness,
    VirtualTime,
    start_harness,
)
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_driver import Response, SlackDriver

pytestmark = pytest.mark.e2e

T = TypeVar("T")
THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris: every prompt is due
THU_19_NYC = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # 10:00 in New York
PMS = [f"U0PM{i:05d}" for i in range(300)]
DELEGATES = [f"U0DLG{i:05d}" for i in range(10)]
LEADERS = [f"U0LEAD{i:04d}" for i in range(10)]
FAN_OUT = "fan-out"
PATIENCE = 1.0  # seconds a person may wait in our pacer (a trigger_id lives 3)
INTERACTIVE = ("views.open", "views.update", "views.push", "views.publish", "chat.postEphemeral")


def _running() -> threading.Event:
    running = threading.Event()
    running.set()
    return running


def _fanning_out() -> bool:
    return threading.current_thread().name.startswith(FAN_OUT)


@dataclass
class ThreadTime(VirtualTime):
    """Virtual time in which threads wait side by side, as people do.

    The fan-out's thread drives the clock: its sleeps move everyone's time. Any other thread (a
    request from a click, a handler of the fake) sees that time plus what it slept itself, so
    ten clicks waiting at once wait in parallel, not one after the other. `paused()` stops the
    fan-out at its next sleep (for real), so the clicks made meanwhile all happen at one
    instant of the fan-out, however slowly the machine serves them."""

    running: threading.Event = field(default_factory=_running)
    parked: threading.Event = field(default_factory=threading.Event)
    own: threading.local = field(default_factory=threading.local)

    def __call__(self) -> float:
        return self.at if _fanning_out() else self.at + getattr(self.own, "slept", 0.0)

    def sleep(self, seconds: float) -> None:
        if not _fanning_out():
            self.own.slept = getattr(self.own, "slept", 0.0) + seconds
            return
        if not self.running.is_set():
            self.parked.set()
            self.running.wait()
        super().sleep(seconds)

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.parked.clear()
        self.running.clear()
        try:
            assert self.parked.wait(timeout=120), "the fan-out ended before it could be paused"
            yield
        finally:
            self.running.set()


@dataclass(frozen=True)
class Waited:
    thread: str
    method: str
    seconds: float


class RecordingPacer(Pacer):
    """The pacer, recording how long each call waited in it (in the calling thread's time)."""

    def __init__(self, time: ThreadTime) -> None:
        super().__init__(clock=time, sleep=time.sleep)
        self.time = time
        self.waits: list[Waited] = []
        self._record = threading.Lock()

    def wait(self, method: str, *, channel: str | None = None) -> None:
        before = self.time()
        super().wait(method, channel=channel)
        waited = Waited(threading.current_thread().name, method, self.time() - before)
        with self._record:
            self.waits.append(waited)

    def per_request(self) -> dict[str, float]:
        """Seconds waited in the pacer by each thread that served a person (not the fan-out)."""
        total: dict[str, float] = defaultdict(float)
        for waited in self.waits:
            if not waited.thread.startswith(FAN_OUT):
                total[waited.thread] += waited.seconds
        return dict(total)


@dataclass
class Busy:
    """A harness whose tick fans out to 300 PMs, Slack's limits enforced on `time`."""

    harness: Harness
    fake: FakeSlack
    time: ThreadTime
    pacer: RecordingPacer
    driver: SlackDriver

    def fan_out(self) -> Future[TickResult]:
        """Start the tick in a thread of its own; come back once it is sending."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=FAN_OUT)
        sending = pool.submit(self.harness.tick, THU_19_PARIS)
        pool.shutdown(wait=False)
        self.fake.wait_for("chat.postMessage", 20, timeout=120)  # a liveness bound, not a timing
        return sending

    def all_at_once(self, requests: list[Callable[[], T]]) -> list[T]:
        """Send the requests at the same moment (one thread each), while the fan-out is paused
        in the middle of its sending; their answers, in order."""
        barrier = threading.Barrier(len(requests))

        def send(request: Callable[[], T]) -> T:
            barrier.wait()
            return request()

        with self.time.paused(), ThreadPoolExecutor(max_workers=len(requests)) as pool:
            return list(pool.map(send, requests))


def _portfolio() -> str:
    projects = []
    for i, pm in enumerate(PMS):
        delegates = f", delegates: [{DELEGATES[i]}]" if i < len(DELEGATES) else ""
        projects.append(f"  - {{key: P{i:03d}, name: Project {i}, pm: {pm}{delegates}}}")
    return "projects:\n" + "\n".join(projects) + "\n"


@pytest.fixture
def busy(sqlite_url: str) -> Iterator[Busy]:
    time = ThreadTime()
    # The fake's clock is the virtual one too: its rate limits (and its triggers' 3 seconds)
    # count the same seconds as the pacer, whatever the machine's load.
    fake = FakeSlack(clock=time).start()
    for pm in PMS:
        fake.add_user(pm, tz="Europe/Paris", locale="en-GB")
    for person in DELEGATES + LEADERS:
        fake.add_user(person, tz="Europe/London", locale="en-GB")
    pacer = RecordingPacer(time)
    harness, stop = start_harness(sqlite_url, fake, _portfolio(), pace=time, pacer=pacer)
    # Slack's tiers (a minute's worth in a burst), one message a second per DM and 60 a minute
    # across the workspace.
    fake.enforce_rate_limits(post_message_workspace_per_minute=60)
    # A driver that waits for the bot as long as a loaded machine needs.
    driver = SlackDriver(
        harness.driver.endpoint.removesuffix("/slack/events"), SECRET, fake, timeout=120
    )
    try:
        yield Busy(harness, fake, time, pacer, driver)
    finally:
        stop()
        fake.stop()


def _click_submit_status(busy: Busy, pm: str) -> Callable[[], Response]:
    prompt = busy.harness.prompts_to(pm)[0]
    button = prompt["blocks"][-1]["elements"][0]
    return lambda: busy.driver.block_action(
        pm,
        button["action_id"],
        value=button["value"],
        block_id="prompt",
        message=prompt,
        channel_id=prompt["channel"],
    )


def _seconds(waited: dict[str, float]) -> str:
    return "seconds each request waited in the pacer: " + ", ".join(
        f"{seconds:.1f}" for seconds in sorted(waited.values())
    )


def _answers(busy: Busy, method: str) -> list[tuple[int, str | None]]:
    return [(call.status, call.error) for call in busy.fake.calls_to(method)]


def test_ten_pms_clicking_submit_status_during_a_fan_out_get_their_modals_at_once(
    busy: Busy,
) -> None:
    started = busy.time()
    sending = busy.fan_out()
    prompted = [pm for pm in PMS if busy.harness.prompts_to(pm)][:10]
    assert len(prompted) == 10

    clicks = busy.all_at_once([_click_submit_status(busy, pm) for pm in prompted])

    result = sending.result(timeout=600)
    assert [click.status for click in clicks] == [200] * 10
    # Each click opened its modal, and Slack took every one of them.
    assert _answers(busy, "views.open") == [(200, None)] * 10
    opened = [view for view in busy.fake.views if view["method"] == "views.open"]
    assert sorted(view["user_id"] for view in opened) == sorted(prompted)
    # Nobody waited behind the fan-out, nor behind each other: the tenth click is as quick as
    # the first (before, three went at once and then one every 0.6 s: the tenth waited 4.2 s).
    views_open = [w for w in busy.pacer.waits if w.method == "views.open"]
    assert len(views_open) == 10
    waited = busy.pacer.per_request()
    assert max(waited.values()) < PATIENCE, _seconds(waited)
    # No call was rate-limited, neither a person's nor the fan-out's ...
    assert busy.fake.rate_limited_counts == {}
    # ... which kept its pace: every prompt sent, one a second after a short burst.
    assert result.prompts_sent == 300 and result.failures == ()
    assert 290 <= busy.time.at - started <= 310


def test_people_the_bot_does_not_know_yet_are_looked_up_and_answered_at_once(busy: Busy) -> None:
    """Their locale takes a users.info each, made while they wait: not queued behind the
    fan-out's lookups, nor behind each other's."""
    sending = busy.fan_out()
    reports = [
        (lambda d=d, i=i: busy.driver.command(d, f"report P{i:03d}"))
        for i, d in enumerate(DELEGATES)
    ]
    statuses = [
        (lambda who=who, i=i: busy.driver.command(who, f"status P{i:03d}"))
        for i, who in enumerate(LEADERS)
    ]

    answers = busy.all_at_once([*reports, *statuses])

    result = sending.result(timeout=600)
    assert [answer.status for answer in answers] == [200] * 20
    lookups = busy.fake.calls_to("users.info")
    assert sorted(call.params["user"] for call in lookups) == sorted(DELEGATES + LEADERS)
    assert _answers(busy, "users.info") == [(200, None)] * 20
    # The delegates' modals opened; the leaders got their answers through the response_url.
    assert _answers(busy, "views.open") == [(200, None)] * 10
    opened = [view for view in busy.fake.views if view["method"] == "views.open"]
    assert sorted(view["user_id"] for view in opened) == sorted(DELEGATES)
    answered = " ".join(str(response) for response in busy.fake.responses)
    assert len(busy.fake.responses) == 10
    assert all(f"P{i:03d}" in answered for i in range(10))
    waited = busy.pacer.per_request()
    assert len(waited) == 20
    assert max(waited.values()) < PATIENCE, _seconds(waited)
    assert not set(busy.fake.rate_limited_counts) & {"users.info", *INTERACTIVE}
    assert result.prompts_sent == 300 and result.failures == ()


def test_a_429_on_views_open_is_waited_out_for_views_open(harness: Harness) -> None:
    """Slack's Retry-After still holds a person's method: the click is retried after it, and
    the next click waits for what is left of it (other methods are not held: see the unit
    tests of the pacer)."""
    harness.tick(THU_19_NYC)
    paced = len(harness.pace.slept)  # the fan-out's own waits, if any
    harness.fake.fail("views.open", status=429, retry_after=2, times=1)

    prompt = harness.prompts_to(PM_PARIS)[0]
    button = prompt["blocks"][-1]["elements"][0]
    click = harness.driver.block_action(
        PM_PARIS, button["action_id"], value=button["value"], block_id="prompt", message=prompt
    )

    assert click.status == 200
    assert [call.status for call in harness.fake.calls_to("views.open")] == [429, 200]
    assert [view["user_id"] for view in harness.fake.views] == [PM_PARIS]
    assert any(2 <= slept < 3 for slept in harness.sleeps), harness.sleeps  # its Retry-After
    assert harness.pace.slept[paced:] == []
    harness.open_modal(PM_NEW_YORK, harness.prompts_to(PM_NEW_YORK)[0])
    assert harness.pace.slept[paced:] == [pytest.approx(2.0)]  # views.open held, in time
