"""The delivery engine's rules, one at a time: pacing, backoff, which Slack errors are worth a
retry, holidays, out-of-office statuses, and the settings and portfolio fields behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.delivery.outbox import MAX_ATTEMPTS, backoff, is_transient
from bot.periods import cadence
from bot.portfolio.file import PortfolioError, parse_portfolio
from bot.slack.gateway import SlackError, UserProfile
from bot.slack.pacing import Pacer
from bot.slack.people import is_out_of_office
from tests.fakes.clocks import Virtual

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------ pacing


def test_the_pacer_allows_a_short_burst_then_one_call_per_interval() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=2.0, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(7):
        pacer.wait("chat.postMessage")
    assert clock.slept == [0.5, 0.5, 0.5, 0.5]  # three at once, then every half second
    assert clock.at == pytest.approx(2.0)


def test_the_pacer_uses_slacks_tier_for_each_method_and_leaves_unknown_ones_alone() -> None:
    clock = Virtual()
    pacer = Pacer(burst=1, clock=clock, sleep=clock.sleep)
    pacer.wait("users.list")  # Tier 2: 20 a minute
    pacer.wait("users.list")
    pacer.wait("conversations.history")  # Tier 3: its own pace, not users.list's
    pacer.wait("auth.test")
    assert clock.slept == [pytest.approx(3.0)]


def test_a_429_holds_the_method_for_every_caller() -> None:
    clock = Virtual()
    pacer = Pacer(post_per_second=1.0, burst=3, clock=clock, sleep=clock.sleep)
    pacer.wait("chat.postMessage")
    pacer.hold("chat.postMessage", 30)
    pacer.wait("chat.postMessage")
    assert clock.slept == [pytest.approx(30.0)]
    pacer.wait("users.info")  # other methods are not held
    assert len(clock.slept) == 1


def test_the_pacer_is_shared_safely_by_threads() -> None:
    import threading

    clock = Virtual()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    pacer = Pacer(post_per_second=10.0, burst=1, clock=clock, sleep=sleep)
    threads = [
        threading.Thread(target=lambda: [pacer.wait("chat.postMessage") for _ in range(25)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pacer.waited == pytest.approx(99 * 0.1)  # 100 calls, one every 0.1 s after the first


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize(
    "code",
    [
        "ratelimited",
        "http_500",
        "http_503",
        "http_429",
        "unreachable (TimeoutError)",
        "internal_error",
        "fatal_error",
        "service_unavailable",
    ],
)
def test_transient_slack_errors_are_retried(code: str) -> None:
    assert is_transient(SlackError(code, "chat.postMessage"))


@pytest.mark.parametrize(
    "code",
    [
        "channel_not_found",
        "not_in_channel",
        "user_disabled",
        "account_inactive",
        "invalid_blocks",
        "msg_too_long",
        "invalid_auth",
        "token_revoked",
        "messages_tab_disabled",
        "missing_scope",
    ],
)
def test_permanent_slack_errors_are_not(code: str) -> None:
    assert not is_transient(SlackError(code, "chat.postMessage"))


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    for attempt, minutes in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 30), (9, 30)]:
        waits = [backoff(attempt) for _ in range(200)]
        assert all(
            timedelta(minutes=minutes) * 0.75 <= w <= timedelta(minutes=minutes) * 1.25
            for w in waits
        )
        assert len(set(waits)) > 1  # jittered, so replicas do not retry in lockstep
    total = sum((backoff(a) for a in range(1, MAX_ATTEMPTS)), timedelta())
    assert timedelta(minutes=20) < total < timedelta(minutes=60)


# ------------------------------------------------------------------ holidays

THURSDAY_10 = datetime(2026, 12, 24, 9, 0, tzinfo=UTC)  # Thursday 24 Dec, 10:00 in Paris


def test_a_working_day_is_not_moved() -> None:
    assert cadence.postpone_past_holidays(THURSDAY_10, PARIS, {date(2026, 12, 25)}) == THURSDAY_10


def test_a_holiday_moves_the_prompt_to_the_next_working_day_same_local_time() -> None:
    holidays = {date(2026, 12, 24), date(2026, 12, 25)}
    moved = cadence.postpone_past_holidays(THURSDAY_10, PARIS, holidays)
    # Friday is a holiday too, then the weekend: Monday 28th, 10:00 in Paris.
    assert moved == datetime(2026, 12, 28, 9, 0, tzinfo=UTC)


def test_a_saturday_cadence_is_kept_but_a_reminder_moves_off_the_weekend() -> None:
    saturday = datetime(2026, 12, 26, 9, 0, tzinfo=UTC)
    assert cadence.postpone_past_holidays(saturday, PARIS, set()) == saturday
    assert cadence.postpone_past_holidays(saturday, PARIS, set(), weekends=True) == datetime(
        2026, 12, 28, 9, 0, tzinfo=UTC
    )


def test_a_postponed_prompt_keeps_its_local_time_across_a_dst_change() -> None:
    # Friday 23 Oct 2026 10:00 CEST is a holiday; Monday 26th 10:00 is CET (an hour later UTC).
    friday = datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    moved = cadence.postpone_past_holidays(friday, PARIS, {date(2026, 10, 23)})
    assert moved == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    assert moved.astimezone(PARIS).hour == 10


# ------------------------------------------------------------------ out of office


def profile(text: str = "", emoji: str = "", expiration: int = 0) -> UserProfile:
    return UserProfile("U1", "Europe/Paris", "en-US", "Pat", False, False, text, emoji, expiration)


@pytest.mark.parametrize(
    ("text", "emoji"),
    [
        ("Out of office", ""),
        ("OOO until Monday", ""),
        ("On vacation", ""),
        ("En congés", ""),
        ("", ":palm_tree:"),
        ("", ":face_with_thermometer:"),
        ("Annual leave, back on the 3rd", ":airplane:"),
    ],
)
def test_away_statuses_mean_out_of_office(text: str, emoji: str) -> None:
    assert is_out_of_office(profile(text, emoji), now=NOW)


@pytest.mark.parametrize(
    ("text", "emoji"),
    [
        ("", ""),
        ("In a meeting", ":calendar:"),
        ("Focus time", ":headphones:"),
        ("Commuting", ":bus:"),
    ],
)
def test_other_statuses_do_not(text: str, emoji: str) -> None:
    assert not is_out_of_office(profile(text, emoji), now=NOW)


def test_an_expired_away_status_does_not_count() -> None:
    past = int((NOW - timedelta(hours=1)).timestamp())
    future = int((NOW + timedelta(hours=1)).timestamp())
    assert not is_out_of_office(profile("Out of office", ":palm_tree:", past), now=NOW)
    assert is_out_of_office(profile("Out of office", ":palm_tree:", future), now=NOW)


# ------------------------------------------------------------------ settings and portfolio


def test_send_rate_defaults_to_one_message_a_second_and_is_validated() -> None:
    assert load_settings({}).send_rate == 1.0
    assert load_settings({"PMO_SEND_RATE": "2.5"}).send_rate == 2.5
    for bad in ("0", "-1", "fast", "51"):
        with pytest.raises(ConfigError, match="PMO_SEND_RATE"):
            load_settings({"PMO_SEND_RATE": bad})


PORTFOLIO = """
escalate_to_sponsor: {top}
projects:
  - {{key: AA, name: A, pm: U0000001}}
  - {{key: BB, name: B, pm: U0000002, escalate_to_sponsor: {own}}}
"""


@pytest.mark.parametrize(
    ("top", "own", "expected"),
    [
        ("false", "true", (False, True)),
        ("true", "false", (True, False)),
        ("~", "true", (False, True)),
    ],
)
def test_escalation_is_set_globally_and_per_project(
    top: str, own: str, expected: tuple[bool, bool]
) -> None:
    parsed = parse_portfolio(PORTFOLIO.format(top=top, own=own))
    assert tuple(p.escalate_to_sponsor for p in parsed.projects) == expected


def test_a_bad_escalation_value_is_listed() -> None:
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(PORTFOLIO.format(top="sometimes", own="maybe"))
    problems = raised.value.problems
    assert any(p.startswith("escalate_to_sponsor:") for p in problems)
    assert any("projects[2] (BB)" in p and "escalate_to_sponsor" in p for p in problems)
