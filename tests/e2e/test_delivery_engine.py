"""The delivery engine end to end: every delivery sent exactly once whatever Slack does.

Slack throttles, fails, hangs and loses answers (FakeSlack's faults); a worker dies between
posting and recording; ticks come late or many times. Each test asserts what Slack received
and what the outbox says, and runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY

from bot.cli.main import run
from bot.delivery.outbox import MAX_ATTEMPTS
from bot.delivery.tick import tick
from bot.slack.gateway import Posted, SlackGateway
from bot.slack.pacing import Pacer
from bot.slack.web_api import WebApiGateway, build_client
from storage import deliveries
from storage.records import Delivery, DeliveryKind, DeliveryStatus
from tests.e2e.conftest import (
    ADMIN,
    PM_NEW_YORK,
    PM_PARIS,
    SPONSOR,
    Harness,
    VirtualTime,
    make_services,
    start_harness,
)
from tests.e2e.test_status_loop import answer
from tests.fakes.fake_slack import FakeSlack

pytestmark = pytest.mark.e2e

THU_19_PARIS = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # 10:00 in Paris
THU_19_NYC = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # 10:00 in New York
FRI_20_DIGEST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # Friday 16:00 in Paris


def outbox(h: Harness, kind: DeliveryKind | None = None) -> list[Delivery]:
    with h.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=kind)


STALE_DIGEST = "not posted within 2 h of its time"


def live(h: Harness, kind: DeliveryKind | None = None) -> list[Delivery]:
    """The outbox, less the digest of Friday 13th: the harness's first tick (Thursday 19th)
    records it six days late, past its grace window, so it is skipped, never posted."""
    return [d for d in outbox(h, kind) if d.error != STALE_DIGEST]


def dms(h: Harness, user: str) -> list[dict[str, Any]]:
    return h.fake.messages(user)


def reminders(h: Harness, user: str) -> list[dict[str, Any]]:
    """The reminders in a user's DM, in any language (their buttons' block is "reminder")."""
    return [
        m for m in dms(h, user) if any(b.get("block_id") == "reminder" for b in m["blocks"] or [])
    ]


@pytest.fixture(autouse=True)
def english_speaking_pm(fake_slack: FakeSlack) -> None:
    """These tests read some English texts; messages in French are tested in test_languages.py."""
    fake_slack.add_user(PM_PARIS, real_name="Camille Durand", tz="Europe/Paris", locale="en-GB")


# ------------------------------------------------------------------ Slack misbehaving


def test_429s_are_waited_out_for_their_retry_after_and_nothing_is_doubled(
    harness: Harness,
) -> None:
    harness.fake.fail("chat.postMessage", status=429, retry_after=4, times=2)
    harness.fake.fail("users.info", status=429, retry_after=2, times=1)
    result = harness.tick(THU_19_NYC)
    assert result.prompts_sent == 2 and result.failures == ()
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert sum(1 for s in harness.sleeps if 4 <= s < 5) == 2, harness.sleeps
    assert any(2 <= s < 3 for s in harness.sleeps), harness.sleeps
    assert {d.status for d in live(harness)} == {DeliveryStatus.SENT}


def _counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_metrics_count_calls_429s_deliveries_retries_and_the_tick(harness: Harness) -> None:
    # The process's counters (GET /metrics) as deltas: other tests in this process count too.
    names = [
        ("pmo_slack_rate_limited_total", {"method": "chat.postMessage"}),
        ("pmo_slack_calls_total", {"method": "chat.postMessage"}),
        ("pmo_deliveries_total", {"kind": "prompt", "state": "sent"}),
        ("pmo_delivery_retries_total", {"kind": "prompt"}),
        ("pmo_tick_duration_seconds_count", {}),
    ]
    before = [_counted(name, **labels) for name, labels in names]
    harness.fake.fail("chat.postMessage", status=429, retry_after=1, times=2)
    harness.fake.fail("chat.postMessage", status=503, times=1)  # then a retry for later
    harness.tick(THU_19_NYC)
    harness.tick(THU_19_NYC + timedelta(minutes=2))
    delta = [_counted(name, **labels) - b for (name, labels), b in zip(names, before, strict=True)]
    posts = len(harness.fake.calls_to("chat.postMessage"))
    # two 429s, each retried in the client; the gateway's calls, not the client's retries;
    # both prompts sent in the end, one after a retry; two ticks
    assert delta == [2, posts - 2, 2, 1, 2], (delta, posts)


def test_server_errors_are_retried_later_with_backoff_then_sent_once(harness: Harness) -> None:
    harness.fake.fail("chat.postMessage", status=503, times=1)
    first = harness.tick(THU_19_NYC)
    # chat.postMessage is not retried inside the client (a lost answer could double it): the
    # outbox schedules the retry, about a minute later with jitter.
    assert first.prompts_sent == 1 and first.retrying == 1 and first.failures == ()
    waiting = [d for d in outbox(harness) if d.status is DeliveryStatus.PENDING]
    assert len(waiting) == 1 and waiting[0].error == "chat.postMessage: http_503"
    assert waiting[0].next_attempt_at is not None
    delay = waiting[0].next_attempt_at - THU_19_NYC
    assert timedelta(seconds=44) <= delay <= timedelta(seconds=76)

    assert harness.tick(THU_19_NYC + timedelta(seconds=20)).prompts_sent == 0  # not yet due
    assert harness.tick(THU_19_NYC + timedelta(minutes=2)).prompts_sent == 1
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert {d.status for d in live(harness)} == {DeliveryStatus.SENT}


def test_a_post_whose_answer_was_lost_is_found_in_slack_and_not_posted_again(
    harness: Harness,
) -> None:
    # Slack posts the first prompt, then the connection drops before its answer.
    harness.fake.fail("chat.postMessage", drop_after=True, times=1)
    first = harness.tick(THU_19_NYC)
    assert first.retrying == 1
    posted = [m for m in harness.fake.calls_to("chat.postMessage") if m.status == 0]
    assert len(posted) == 1
    history_before = len(harness.fake.calls_to("conversations.history"))

    harness.tick(THU_19_NYC + timedelta(minutes=5))
    # The retry looked for the message by its metadata, found it, and did not post again.
    assert len(harness.fake.calls_to("conversations.history")) == history_before + 1
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    sent = outbox(harness, DeliveryKind.PROMPT)
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    stored = {m["ts"] for u in (PM_PARIS, PM_NEW_YORK) for m in harness.prompts_to(u)}
    assert {d.ts for d in sent} == stored


def test_a_post_that_hangs_past_the_timeout_and_lands_later_is_not_doubled(
    harness: Harness, database_url: str
) -> None:
    # A client with a one-second timeout; Slack answers the first post after two seconds.
    impatient = dataclasses.replace(
        harness.services,
        gateway=make_services(
            database_url, harness.fake, harness.clock, [], harness.pacer, timeout=1
        ).gateway,
    )
    harness.fake.fail("chat.postMessage", delay=2.0, times=1)
    harness.clock.now = THU_19_NYC
    first = tick(impatient, now=THU_19_NYC)
    assert first.retrying == 1
    # Wait (on the fake's condition, not a sleep) until the hung post has landed.
    harness.fake.wait_for("chat.postMessage", count=2, where=lambda c: c.status == 200)
    harness.tick(THU_19_NYC + timedelta(minutes=5))
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert {d.status for d in live(harness)} == {DeliveryStatus.SENT}


def test_a_delivery_that_keeps_failing_ends_failed_with_its_reason_and_admins_are_told_once(
    harness: Harness,
) -> None:
    harness.fake.fail_ratio("chat.postMessage", 1.0, status=500)
    # Each tick after the retry's backoff (1, 2, 4, 8, 16 minutes, ±25 %), all within the
    # Paris PM's working hours (THU_19_NYC is 16:00 in Paris).
    gaps = [timedelta(minutes=m) for m in (2, 3, 6, 11, 21, 1)]
    at = THU_19_NYC
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = harness.tick(at)
        if attempt < MAX_ATTEMPTS:
            assert result.retrying == 2 and result.failures == (), attempt  # the 2 prompts
        at += gaps[attempt - 1]
    assert len(result.failures) == 2
    failed = [d for d in outbox(harness) if d.status is DeliveryStatus.FAILED]
    assert len(failed) == 2
    assert all(
        d.error == f"chat.postMessage: http_500 (gave up after {MAX_ATTEMPTS} attempts)"
        for d in failed
    )
    assert harness.prompts_to(PM_PARIS) == []

    # `pmo-bot deliveries` lists them with the reason.
    out, err = io.StringIO(), io.StringIO()
    environ = {"DATABASE_URL": harness.database_url, "PMO_TIMEZONE": "Europe/Paris"}
    assert run(["deliveries"], environ=environ, stdout=out, stderr=err) == 0, err.getvalue()
    listing = out.getvalue()
    assert "ATLAS" in listing and "BOREAL" in listing
    assert listing.count("http_500 (gave up") == 2 and "2 failed" in listing

    # Slack is back: the admins get one summary of the failures, once that day.
    harness.fake.clear_faults()
    harness.tick(at)
    summaries = dms(harness, ADMIN)
    assert len(summaries) == 1 and "2 message(s) could not be delivered" in summaries[0]["text"]
    body = str(summaries[0]["blocks"])
    assert "ATLAS" in body and "BOREAL" in body and "http_500" in body
    harness.tick(at + timedelta(minutes=50))
    assert len(dms(harness, ADMIN)) == 1

    # An admin retries them from the command line: each is sent once (before 18:00 in Paris).
    ids = [str(d.id) for d in failed]
    assert run(["deliveries", "--retry", *ids], environ=environ, stdout=out, stderr=err) == 0
    harness.tick(at + timedelta(hours=1))
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert not [d for d in outbox(harness) if d.status is DeliveryStatus.FAILED]
    # Retrying something that is not a failed delivery changes nothing and says so.
    err = io.StringIO()
    assert run(["deliveries", "--retry", ids[0]], environ=environ, stdout=out, stderr=err) == 2
    assert "not failed deliveries" in err.getvalue() and err.getvalue().count("\n") == 1


def test_slack_refusing_for_good_fails_at_once_and_other_deliveries_go_out(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.fail("chat.postMessage", error="user_disabled", times=1)
    with caplog.at_level(logging.WARNING, logger="bot.delivery.outbox"):
        result = harness.tick(THU_19_NYC)
    assert result.prompts_sent == 1 and result.retrying == 0
    assert len(result.failures) == 1 and "user_disabled" in result.failures[0]
    failed = [d for d in outbox(harness) if d.status is DeliveryStatus.FAILED]
    assert len(failed) == 1 and failed[0].attempts == 1
    # one log line for the failure, its facts as fields (LOG_FORMAT=json keeps them as keys)
    (line,) = [r for r in caplog.records if getattr(r, "event", None) == "delivery_failed"]
    assert (line.delivery_id, line.kind, line.reason) == (
        failed[0].id,
        "prompt",
        "chat.postMessage: user_disabled",
    )
    harness.tick(THU_19_NYC + timedelta(hours=1))
    assert len([d for d in outbox(harness) if d.status is DeliveryStatus.FAILED]) == 1


# ------------------------------------------------------------------ a worker dying mid-send


class Crash(BaseException):
    """The process dying (nothing in the bot catches a BaseException)."""


class DiesAfterPosting:
    """A gateway that posts, then kills the process before the outcome is recorded."""

    def __init__(self, inner: SlackGateway, *, before: bool = False) -> None:
        self._inner, self._before = inner, before

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def post_message(self, **kwargs: Any) -> Posted:
        if self._before:
            raise Crash
        self._inner.post_message(**kwargs)
        raise Crash


@pytest.mark.parametrize("before", [False, True], ids=["after-posting", "before-posting"])
def test_a_worker_that_dies_mid_send_loses_nothing_and_doubles_nothing(
    harness: Harness, before: bool
) -> None:
    dying = dataclasses.replace(
        harness.services, gateway=DiesAfterPosting(harness.services.gateway, before=before)
    )
    harness.clock.now = THU_19_NYC
    with pytest.raises(Crash):
        tick(dying, now=THU_19_NYC)
    in_flight = [d for d in outbox(harness) if d.status is DeliveryStatus.SENDING]
    assert len(in_flight) == 3  # the whole leased batch: 2 prompts and a (stale) digest

    # While the lease runs, another worker leaves them alone (their worker may be alive).
    assert harness.tick(THU_19_NYC + timedelta(minutes=5)).sent == {}
    # Once it has run out, they are recovered: what was posted is found, the rest is sent (the
    # digest of the 13th is past its grace window: skipped).
    result = harness.tick(THU_19_NYC + timedelta(minutes=11))
    assert result.sent == {DeliveryKind.PROMPT: 2} and result.skipped == 1
    assert len(harness.prompts_to(PM_PARIS)) == 1 and len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert harness.digests("C0LEADERS") == []
    assert {d.status for d in live(harness)} == {DeliveryStatus.SENT}


# ------------------------------------------------------------------ pacing


def test_a_fan_out_is_paced_inside_slacks_limits(sqlite_url: str, fake_slack: FakeSlack) -> None:
    pms = [f"U0PM{i:05d}" for i in range(120)]
    for pm in pms:
        fake_slack.add_user(pm, tz="Europe/Paris")
    projects = "\n".join(
        f"  - {{key: P{i:03d}, name: Project {i}, pm: {pm}}}" for i, pm in enumerate(pms)
    )
    harness, stop = start_harness(sqlite_url, fake_slack, f"projects:\n{projects}\n")
    try:
        # The fake enforces Slack's limits on the same virtual clock the pacer sleeps on.
        fake_slack.enforce_rate_limits(clock=harness.pace, post_message_workspace_per_minute=60)
        started = harness.pace()
        result = harness.tick(THU_19_PARIS)
        assert result.prompts_sent == 120 and result.failures == ()
        assert fake_slack.rate_limited_calls == []
        assert all(len(harness.prompts_to(pm)) == 1 for pm in pms)
        # One message a second after a short burst; profiles came from one users.list page
        # instead of 120 users.info calls.
        assert 115 <= harness.pace() - started <= 125
        assert len(fake_slack.calls_to("users.list")) == 1
        assert fake_slack.calls_to("users.info") == []
    finally:
        stop()


def test_an_adaptive_pace_backs_off_on_429s_and_sends_each_prompt_once(
    sqlite_url: str, fake_slack: FakeSlack
) -> None:
    """Started too fast for the workspace (3 a second where Slack takes 60 a minute after a
    burst of 10), the pace halves on each 429, waits out its Retry-After, and every prompt
    is sent once within the tick."""
    pms = [f"U0PM{i:05d}" for i in range(100)]
    for pm in pms:
        fake_slack.add_user(pm, tz="Europe/Paris")
    projects = "\n".join(
        f"  - {{key: P{i:03d}, name: Project {i}, pm: {pm}}}" for i, pm in enumerate(pms)
    )
    pace = VirtualTime()
    pacer = Pacer(
        post_per_second=3.0,
        post_min_per_second=0.5,
        post_max_per_second=10.0,
        clock=pace,
        sleep=pace.sleep,
    )
    harness, stop = start_harness(
        sqlite_url, fake_slack, f"projects:\n{projects}\n", pace=pace, pacer=pacer
    )
    try:
        # The retries of a 429 sleep on the virtual clock too (Retry-After).
        client = build_client(
            token=fake_slack.bot_token, base_url=fake_slack.base_url, sleep=pace.sleep, pacer=pacer
        )
        harness.services = dataclasses.replace(
            harness.services, gateway=WebApiGateway(client, pacer)
        )
        fake_slack.enforce_rate_limits(
            clock=pace, post_message_workspace_per_minute=60, post_message_workspace_burst=10
        )
        started = pace()
        result = harness.tick(THU_19_PARIS)
        assert result.prompts_sent == 100 and result.failures == () and result.retrying == 0
        assert all(len(harness.prompts_to(pm)) == 1 for pm in pms)  # none lost, none doubled
        limited = len(fake_slack.rate_limited_calls)
        assert 0 < limited < 10
        assert pacer.post_rate < 2.0  # backed off from 3 a second, towards Slack's 1
        assert pace() - started >= 85  # 100 posts at 60 a minute after a burst of 10
    finally:
        stop()


# ------------------------------------------------------------------ reminders


def test_a_pm_who_has_not_answered_is_reminded_once_in_the_prompts_thread(
    harness: Harness,
) -> None:
    harness.tick(THU_19_NYC)  # both prompted for their 19 Nov periods
    answer(harness, PM_NEW_YORK, harness.prompts_to(PM_NEW_YORK)[-1])

    assert harness.tick(THU_19_NYC + timedelta(hours=23)).reminders_sent == 0
    result = harness.tick(THU_19_NYC + timedelta(hours=24))
    assert result.reminders_sent == 1
    prompt = harness.prompts_to(PM_PARIS)[-1]
    thread = harness.fake.thread(PM_PARIS, prompt["ts"])
    assert len(thread) == 1 and "ATLAS" in thread[0]["text"]
    assert (
        thread[0]["blocks"][-1]["elements"][0]["value"]
        == prompt["blocks"][-1]["elements"][0]["value"]
    )
    assert reminders(harness, PM_NEW_YORK) == []  # answered: not reminded

    # Hourly ticks for the rest of the week: never more than two unrequested messages a period.
    at = THU_19_NYC + timedelta(hours=25)
    while at < datetime(2026, 11, 26, 8, 0, tzinfo=UTC):
        harness.tick(at)
        at += timedelta(hours=1)
    unrequested = [m for m in dms(harness, PM_PARIS) if not m["text"].startswith("Thanks")]
    assert len(unrequested) == 2


def test_a_pm_out_of_office_is_not_reminded(harness: Harness) -> None:
    harness.tick(THU_19_NYC)
    harness.fake.set_user_status(PM_PARIS, text="Out of office until Monday", emoji=":palm_tree:")
    result = harness.tick(THU_19_NYC + timedelta(hours=24))
    assert result.reminders_sent == 1  # New York's PM only
    assert reminders(harness, PM_PARIS) == [] and len(reminders(harness, PM_NEW_YORK)) == 1
    skipped = [d for d in outbox(harness, DeliveryKind.REMINDER) if d.status.value == "skipped"]
    assert len(skipped) == 1 and "out of office" in (skipped[0].error or "")
    harness.fake.set_user_status(PM_PARIS)  # back: still no second chance this period
    harness.tick(THU_19_NYC + timedelta(hours=30))
    assert reminders(harness, PM_PARIS) == []


REMINDER_PORTFOLIO = f"""
holidays: [2026-11-23]
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    cadence: FREQ=WEEKLY;BYDAY=FR;BYHOUR=10;BYMINUTE=0
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    reminder_after_hours: 2
"""


def test_reminders_follow_the_projects_delay_and_skip_weekends_and_holidays(
    database_url: str, fake_slack: FakeSlack
) -> None:
    harness, stop = start_harness(database_url, fake_slack, REMINDER_PORTFOLIO)
    try:
        # Friday 09:00 UTC: ATLAS's Friday 10:00 prompt; BOREAL's for Thursday's period waits
        # for 08:00 in New York (13:00 UTC): it is 04:00 there.
        harness.tick(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        assert harness.tick(datetime(2026, 11, 20, 13, 0, tzinfo=UTC)).prompts_sent == 1
        # BOREAL reminds 2 hours after its prompt.
        assert harness.tick(datetime(2026, 11, 20, 14, 59, tzinfo=UTC)).reminders_sent == 0
        assert harness.tick(datetime(2026, 11, 20, 15, 0, tzinfo=UTC)).reminders_sent == 1
        assert len(reminders(harness, PM_NEW_YORK)) == 1
        # ATLAS's 24 hours end on Saturday; Monday 23rd is a holiday: Tuesday 10:00 it is.
        for day in (21, 22, 23):
            harness.tick(datetime(2026, 11, day, 12, 0, tzinfo=UTC))
        assert reminders(harness, PM_PARIS) == []
        harness.tick(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
        assert len(reminders(harness, PM_PARIS)) == 1
    finally:
        stop()


# ------------------------------------------------------------------ escalation

ESCALATION_PORTFOLIO = f"""
escalate_to_sponsor: true
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
    sponsor: {SPONSOR}
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    sponsor: {SPONSOR}
    escalate_to_sponsor: false
"""


def test_the_sponsor_is_told_once_after_a_second_missed_period(
    database_url: str, fake_slack: FakeSlack
) -> None:
    harness, stop = start_harness(database_url, fake_slack, ESCALATION_PORTFOLIO)
    try:
        thursdays = [datetime(2026, 11, d, 15, 0, tzinfo=UTC) for d in (5, 12, 19, 26)]
        harness.tick(thursdays[0])
        harness.tick(thursdays[1])
        assert dms(harness, SPONSOR) == []  # one missed period is not news yet
        harness.tick(thursdays[2])  # the 19th's prompt: the 12th's period is over, missed
        harness.tick(thursdays[2] + timedelta(minutes=1))
        told = dms(harness, SPONSOR)
        assert len(told) == 1 and "ATLAS" in told[0]["text"] and "2 periods" in told[0]["text"]
        assert "BOREAL" not in str(told)  # BOREAL opted out
        harness.tick(thursdays[2] + timedelta(hours=3))
        assert len(dms(harness, SPONSOR)) == 1
        # ATLAS reports for the 19th: the 12th and 19th are not both missed, no new message.
        answer(harness, PM_PARIS, harness.prompts_to(PM_PARIS)[-1])
        harness.tick(thursdays[3])
        assert len(dms(harness, SPONSOR)) == 1
    finally:
        stop()


# ------------------------------------------------------------------ late reports


def late_notes(h: Harness, digest: dict[str, Any]) -> list[dict[str, Any]]:
    """The late-report replies in a digest's thread (which also holds the full reports)."""
    return [m for m in h.fake.thread("C0LEADERS", digest["ts"]) if "Late report" in m["text"]]


def test_a_late_report_gets_one_reply_in_the_digests_thread(harness: Harness) -> None:
    harness.tick(THU_19_NYC)
    harness.tick(FRI_20_DIGEST)  # ATLAS and BOREAL missing
    digest = harness.digests("C0LEADERS")[-1]
    assert "2 not reported" in digest["text"]

    # Monday: ATLAS's PM answers Thursday's prompt.
    harness.clock.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    answer(
        harness,
        PM_PARIS,
        harness.prompts_to(PM_PARIS)[-1],
        overall="amber",
        path_to_green="Re-plan.",
    )
    harness.tick(datetime(2026, 11, 23, 8, 1, tzinfo=UTC))
    thread = late_notes(harness, digest)
    assert len(thread) == 1
    assert "Late report" in thread[0]["text"] and "ATLAS" in thread[0]["text"]
    assert ":large_orange_circle:" in str(thread[0]["blocks"]) or "Amber" in str(
        thread[0]["blocks"]
    )
    # The digest itself is left as leadership read it.
    assert next(m for m in harness.digests("C0LEADERS") if m["ts"] == digest["ts"]) == digest
    # A correction is not news: no second reply.
    answer(
        harness,
        PM_PARIS,
        harness.prompts_to(PM_PARIS)[-1],
        overall="red",
        path_to_green="Escalate.",
    )
    harness.tick(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert len(late_notes(harness, digest)) == 1


def test_an_answer_before_the_digest_is_not_a_late_report(harness: Harness) -> None:
    harness.tick(THU_19_NYC)
    answer(harness, PM_PARIS, harness.prompts_to(PM_PARIS)[-1])
    harness.tick(FRI_20_DIGEST)
    digest = harness.digests("C0LEADERS")[-1]
    assert late_notes(harness, digest) == []
    assert outbox(harness, DeliveryKind.LATE_REPORT) == []


# ------------------------------------------------------------------ lifecycle and calendar


LIFECYCLE_PORTFOLIO = f"""
holidays: [2026-11-19]
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM_PARIS}
  - key: BOREAL
    name: Boreal CRM rollout
    pm: {PM_NEW_YORK}
    state: on_hold
  - key: CEDAR
    name: Cedar data platform
    pm: {SPONSOR}
    state: closed
  - key: DUNE
    name: Dune supplier portal
    pm: {ADMIN}
    holidays: [2026-11-20]
"""


def test_only_active_projects_are_prompted_and_holidays_move_the_prompt(
    database_url: str, fake_slack: FakeSlack
) -> None:
    harness, stop = start_harness(database_url, fake_slack, LIFECYCLE_PORTFOLIO)
    try:
        harness.tick(datetime(2026, 11, 13, 9, 0, tzinfo=UTC))  # last week's periods
        assert [len(harness.prompts_to(u)) for u in (PM_PARIS, PM_NEW_YORK, SPONSOR, ADMIN)] == [
            1,
            0,
            0,
            1,
        ]
        # Thursday 19th is a holiday for everyone: no prompt that day...
        assert harness.tick(datetime(2026, 11, 19, 9, 0, tzinfo=UTC)).prompts_sent == 0
        # ...Friday 10:00 Paris instead, for the period that began on Thursday.
        assert harness.tick(datetime(2026, 11, 20, 9, 0, tzinfo=UTC)).prompts_sent == 1
        text = harness.prompts_to(PM_PARIS)[-1]["blocks"][0]["text"]["text"]
        assert "from Thu 19 Nov 2026" in text
        # DUNE's own holiday on Friday too: next working day is Monday 23rd.
        assert harness.prompts_to(ADMIN)[-1]["ts"] == harness.prompts_to(ADMIN)[0]["ts"]
        harness.tick(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        assert len(harness.prompts_to(ADMIN)) == 2
    finally:
        stop()


def test_a_prompt_waiting_for_a_retry_is_dropped_when_its_project_goes_on_hold(
    harness: Harness,
) -> None:
    from bot.portfolio.importing import import_portfolio
    from tests.e2e.conftest import PORTFOLIO

    harness.fake.fail("chat.postMessage", status=503, times=1)
    harness.tick(THU_19_NYC)  # the first prompt (ATLAS) fails for now
    with harness.services.sessions.begin() as session:
        import_portfolio(
            session,
            PORTFOLIO.replace("    priority: 1\n", "    priority: 1\n    state: on_hold\n"),
            now=THU_19_NYC,
        )
    result = harness.tick(THU_19_NYC + timedelta(minutes=5))
    assert result.skipped == 1 and harness.prompts_to(PM_PARIS) == []
    prompt = next(d for d in outbox(harness, DeliveryKind.PROMPT) if d.target.endswith(":1"))
    assert prompt.status is DeliveryStatus.SKIPPED and prompt.error == "project is on hold"


def test_a_pm_whose_timezone_changes_is_prompted_in_the_new_one_from_the_next_period(
    harness: Harness,
) -> None:
    harness.tick(THU_19_PARIS)  # ATLAS: 10:00 in Paris
    assert len(harness.prompts_to(PM_PARIS)) == 1
    harness.fake.set_user_tz(PM_PARIS, "America/New_York")
    # A day later the profile is refreshed: in New York, Thursday 10:00 was 15:00 UTC, which
    # is the same occurrence, already prompted.
    for hours in (25, 30, 48):
        harness.tick(THU_19_PARIS + timedelta(hours=hours))
    assert len(harness.prompts_to(PM_PARIS)) == 1
    # The next Thursday: not at 10:00 Paris, at 10:00 New York.
    assert harness.tick(datetime(2026, 11, 26, 9, 0, tzinfo=UTC)).prompts_sent == 0
    assert harness.tick(datetime(2026, 11, 26, 15, 0, tzinfo=UTC)).prompts_sent == 2
    assert len(harness.prompts_to(PM_PARIS)) == 2
    # Its answer lands in its period and the digest counts it as current.
    answer(harness, PM_PARIS, harness.prompts_to(PM_PARIS)[-1])
    harness.tick(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    digest = harness.digests("C0LEADERS")[-1]
    assert "1 green" in digest["text"]


def test_a_ten_oclock_prompt_stays_at_ten_across_the_daylight_saving_change(
    harness: Harness,
) -> None:
    # Europe moves to summer time on Sunday 28 March 2027.
    harness.tick(datetime(2027, 3, 25, 9, 0, tzinfo=UTC))  # 10:00 CET
    harness.tick(datetime(2027, 3, 25, 14, 0, tzinfo=UTC))  # 10:00 in New York (EDT)
    before = len(harness.prompts_to(PM_PARIS))
    assert harness.tick(datetime(2027, 4, 1, 7, 59, tzinfo=UTC)).prompts_sent == 0
    assert harness.tick(datetime(2027, 4, 1, 8, 0, tzinfo=UTC)).prompts_sent == 1  # 10:00 CEST
    assert len(harness.prompts_to(PM_PARIS)) == before + 1


def test_every_message_the_bot_sends_on_its_own_carries_its_delivery_id(
    harness: Harness,
) -> None:
    harness.tick(THU_19_NYC)
    harness.tick(FRI_20_DIGEST)
    posts = [c for c in harness.fake.calls_to("chat.postMessage") if c.status == 200]
    assert posts
    ids = {d.id for d in outbox(harness)}
    for call in posts:
        metadata = call.params["metadata"]
        assert metadata["event_type"] == "pmo_bot_delivery"
        assert metadata["event_payload"]["delivery_id"] in ids


CADENCE_PORTFOLIO = f"""
projects:
  - key: FORTNIGHT
    name: Every other Thursday
    pm: {PM_PARIS}
    start: 2026-11-05
    cadence: FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=10;BYMINUTE=0
  - key: MONTHLY
    name: First Monday of the month
    pm: {PM_NEW_YORK}
    cadence: FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9;BYMINUTE=0
"""


def test_bi_weekly_and_monthly_cadences_prompt_on_their_days_only(
    database_url: str, fake_slack: FakeSlack
) -> None:
    harness, stop = start_harness(database_url, fake_slack, CADENCE_PORTFOLIO)
    try:
        day = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
        while day < datetime(2027, 1, 8, tzinfo=UTC):
            for hour in (9, 15):  # 10:00 in Paris, 09:00 or 10:00 in New York
                harness.tick(day + timedelta(hours=hour))
            day += timedelta(days=1)

        def periods(user: str) -> list[str]:
            return [
                p["blocks"][0]["text"]["text"].split("from ", 1)[1][:15]
                for p in harness.prompts_to(user)
            ]

        assert periods(PM_PARIS) == [
            "Thu 5 Nov 2026 ",
            "Thu 19 Nov 2026",
            "Thu 3 Dec 2026 ",
            "Thu 17 Dec 2026",
            "Thu 31 Dec 2026",
        ]
        # The first tick asks for the current period (begun Monday 2 November), then each
        # first Monday.
        assert periods(PM_NEW_YORK) == ["Mon 2 Nov 2026 ", "Mon 7 Dec 2026 ", "Mon 4 Jan 2027 "]
        # Each prompt went out at 10:00 Paris / 09:00 New York on its day, not before.
        fortnight = [d for d in outbox(harness, DeliveryKind.PROMPT) if d.target == "project:1"]
        assert [d.occurrence.astimezone(ZoneInfo("Europe/Paris")).hour for d in fortnight] == [
            10
        ] * 5
    finally:
        stop()


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "retry_after": 1},
        {"status": 503},
        {"drop": True},
        {"drop_after": True},
    ],
    ids=["throttled", "server-error", "dropped", "lost-answer"],
)
def test_under_a_share_of_failing_calls_every_prompt_ends_sent_exactly_once(
    sqlite_url: str, fake_slack: FakeSlack, fault: dict[str, Any]
) -> None:
    pms = [f"U0PM{i:05d}" for i in range(40)]
    for pm in pms:
        fake_slack.add_user(pm, tz="Europe/Paris")
    projects = "\n".join(
        f"  - {{key: P{i:03d}, name: Project {i}, pm: {pm}}}" for i, pm in enumerate(pms)
    )
    harness, stop = start_harness(sqlite_url, fake_slack, f"projects:\n{projects}\n")
    try:
        # A third of the posts fail, and a fifth of the history look-ups the retries make.
        fake_slack.fail_ratio("chat.postMessage", 0.33, seed=7, **fault)
        fake_slack.fail_ratio("conversations.history", 0.2, seed=8, status=503)
        at = THU_19_PARIS
        for _ in range(24):  # two hours of ticks, five minutes apart
            harness.tick(at)
            at += timedelta(minutes=5)
        assert all(len(harness.prompts_to(pm)) == 1 for pm in pms)
        prompts = outbox(harness, DeliveryKind.PROMPT)
        assert len(prompts) == 40 and {d.status for d in prompts} == {DeliveryStatus.SENT}
        faulted = [c for c in fake_slack.calls_to("chat.postMessage") if c.fault is not None]
        assert len(faulted) >= 5, "the faults did not happen"
        if fault.get("status") == 429:
            assert any(1 <= s < 2 for s in harness.sleeps)  # Retry-After was waited
    finally:
        stop()


def test_a_digest_goes_out_without_its_chart_when_the_upload_fails(harness: Harness) -> None:
    harness.fake.fail("files.completeUploadExternal", error="internal_error", times=3)
    harness.tick(THU_19_NYC)
    result = harness.tick(FRI_20_DIGEST)
    assert result.digests_sent == 1 and result.failures == ()
    digest = harness.digests("C0LEADERS")[-1]
    assert "Portfolio digest" in digest["text"]
    assert harness.fake.thread("C0LEADERS", digest["ts"])  # the full reports are there
    assert [f for f in harness.fake.files if f.get("thread_ts") == digest["ts"]] == []
    assert {d.status for d in live(harness, DeliveryKind.DIGEST)} == {DeliveryStatus.SENT}
    # The next digest has its chart again.
    harness.fake.clear_faults()
    harness.tick(FRI_20_DIGEST + timedelta(days=7))
    latest = harness.digests("C0LEADERS")[-1]
    assert [f for f in harness.fake.files if f.get("thread_ts") == latest["ts"]]
