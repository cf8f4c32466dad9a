"""Uninstalled, revoked, reinstalled (issue 12, point 6), end to end: Slack's signed
`app_uninstalled` and `tokens_revoked` events reach the real Bolt app over HTTP, FakeSlack
refuses the token as Slack does, and the tick, `/readyz` and the logs say what happens; once the
token works again the bot resumes by itself. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.operations.health import Probe, readiness
from storage import deliveries
from storage.records import DeliveryKind, DeliveryStatus
from tests.e2e.conftest import PM_NEW_YORK, PM_PARIS, Harness

THU_19_NYC = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # 10:00 in New York: both prompts due


def _ready(harness: Harness) -> tuple[int, dict[str, object]]:
    probe = Probe(
        started=harness.clock.now, ticking=False, slack_refusal=harness.services.access.problem
    )
    engine = harness.services.sessions.kw["bind"]
    answer = readiness(probe, engine, now=harness.clock.now)
    return answer.status, answer.body


def _outbox(harness: Harness) -> list[deliveries.Delivery]:
    with harness.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)


def test_uninstalled_the_bot_pauses_keeps_its_records_and_resumes_when_reinstalled(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    fake, driver = harness.fake, harness.driver
    harness.clock.now = THU_19_NYC - timedelta(hours=1)
    assert _ready(harness)[0] == 200
    fake.refuse_token()  # Slack revokes the app's tokens when it is uninstalled
    assert driver.event({"type": "app_uninstalled"}).status == 200

    with caplog.at_level(logging.INFO):
        paused = harness.tick(THU_19_NYC)
    assert paused.paused == "app_uninstalled, then auth.test: token_revoked"
    assert paused.recorded == 0 and not paused.sent and paused.failures == ()
    assert not fake.calls_to("chat.postMessage") and not _outbox(harness)
    status, body = _ready(harness)
    assert status == 503 and body["checks"]["slack"] == "token refused"  # type: ignore[index]
    (problem,) = body["problems"]  # type: ignore[misc]
    assert "app_uninstalled" in problem and "nothing is planned or sent" in problem
    assert fake.bot_token not in json.dumps(body)
    lost = [r for r in caplog.records if getattr(r, "event", "") == "slack_access_lost"]
    assert len(lost) == 1 and fake.bot_token not in caplog.text

    # A minute on: the token is tried (auth.test) and still refused.
    before = len(fake.calls)
    assert harness.tick(THU_19_NYC + timedelta(minutes=1)).paused is not None
    assert [c.method for c in fake.calls[before:]] == ["auth.test"]

    # Reinstalled with the same token: the next check finds it works, and that tick sends.
    fake.accept_token()
    resumed = harness.tick(THU_19_NYC + timedelta(minutes=2))
    assert resumed.paused is None and resumed.prompts_sent == 2
    assert len(harness.prompts_to(PM_PARIS)) == len(harness.prompts_to(PM_NEW_YORK)) == 1
    assert _ready(harness)[0] == 200


def test_a_token_refused_mid_send_keeps_the_delivery_pending_for_when_it_works(
    harness: Harness,
) -> None:
    harness.fake.refuse_token(error="account_inactive")
    result = harness.tick(THU_19_NYC)
    # planning asked users.info first: refused, nothing recorded, nothing sent
    assert result.paused == "users.info: account_inactive" and result.recorded == 0
    harness.fake.accept_token()
    assert harness.tick(THU_19_NYC + timedelta(minutes=1)).prompts_sent == 2
    assert {d.status for d in _outbox(harness)} == {DeliveryStatus.SENT}


def test_tokens_revoked_pauses_only_when_slack_refuses_the_bot_token(harness: Harness) -> None:
    fake, driver = harness.fake, harness.driver
    checks = len(fake.calls_to("auth.test"))  # Bolt's own, at start-up
    # A user token revoked (the bot holds none): nothing to do, Slack not even asked.
    users_only = {"type": "tokens_revoked", "tokens": {"oauth": ["U0PMPARIS1"], "bot": []}}
    assert driver.event(users_only).status == 200
    assert len(fake.calls_to("auth.test")) == checks
    assert harness.services.access.refusal() is None
    # The bot's token revoked: checked with Slack, which refuses it.
    fake.refuse_token()
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [fake.bot_user_id]}}
    assert driver.event(revoked).status == 200
    refusal = harness.services.access.refusal()
    assert refusal is not None
    assert refusal.reason == "tokens_revoked, then auth.test: token_revoked"
    assert harness.tick(THU_19_NYC).paused == refusal.reason


def test_an_uninstall_event_is_checked_with_slack_not_taken_on_trust(harness: Harness) -> None:
    # A late (or repeated) app_uninstalled reaching a replica whose token works: not paused.
    assert harness.driver.event({"type": "app_uninstalled"}).status == 200
    assert harness.services.access.refusal() is None
    assert harness.tick(THU_19_NYC).prompts_sent == 2


def test_commands_are_still_answered_from_the_cache_while_the_token_is_refused(
    harness: Harness,
) -> None:
    harness.tick(THU_19_NYC)  # the PMs' profiles are cached (French for PM_PARIS)
    harness.fake.refuse_token()  # e.g. a leaked token revoked while the app stays installed
    harness.clock.now = THU_19_NYC + timedelta(days=2)  # the cache is a day old and more
    answer = harness.command(PM_PARIS, "mine")  # the response_url needs no token
    assert "Vos projets" in answer["text"]  # still in their language, from the cache
    assert harness.services.access.refusal() is None  # a person's lookup does not pause it
