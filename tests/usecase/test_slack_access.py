"""The bot pauses while Slack refuses its token, and resumes when it works (bot/slack/access.py),
as use cases: the tick over SQLite with FakeGateway, the time given. The end-to-end test with
Slack's events over HTTP and a real `serve` is in tests/e2e/test_serve.py."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_settings
from bot.delivery.tick import TickResult, tick
from bot.services import Services
from bot.slack.access import REFUSED, token_key
from bot.slack.gateway import SlackError
from storage import deliveries
from storage.records import DeliveryKind, DeliveryStatus
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
"""
THU_19 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris, ATLAS's prompt
DM = f"D{PM}"


def _prompts(world: World) -> list[deliveries.Delivery]:
    with world.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)


def _tick_at(world: World, at: datetime) -> TickResult:
    world.clock.now = at
    return tick(world.services, now=at)


def test_a_refused_send_pauses_the_bot_keeps_the_delivery_and_resumes_once_the_token_works(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.load(PORTFOLIO)
    world.gateway.refuse["chat.postMessage"] = "token_revoked"
    world.gateway.refuse["auth.test"] = "token_revoked"
    with caplog.at_level(logging.INFO):
        first = _tick_at(world, THU_19)
    assert first.paused == "chat.postMessage: token_revoked"
    assert first.failures == () and not first.sent
    (prompt,) = _prompts(world)  # kept, pending and due at once, with the reason
    assert prompt.status is DeliveryStatus.PENDING and prompt.next_attempt_at == THU_19
    assert (
        deliveries.deferral(prompt)
        == "Slack refuses the bot token (chat.postMessage: token_revoked)"
    )
    (lost,) = [r for r in caplog.records if getattr(r, "event", "") == "slack_access_lost"]
    assert lost.levelno == logging.WARNING and "paused" in lost.getMessage()

    # Within the minute: nothing planned, nothing sent, Slack not even asked.
    calls = len(world.gateway.calls)
    again = _tick_at(world, THU_19 + timedelta(seconds=30))
    assert again.paused == "chat.postMessage: token_revoked"
    assert len(world.gateway.calls) == calls
    # A minute on, the token is tried once (auth.test), still refused: still paused.
    _tick_at(world, THU_19 + timedelta(minutes=1))
    assert [c.method for c in world.gateway.calls[calls:]] == ["auth.test"]
    assert world.services.access.refusal() is not None

    # Reinstalled: the next check finds the token works, and the same tick sends the prompt.
    del world.gateway.refuse["chat.postMessage"], world.gateway.refuse["auth.test"]
    resumed = _tick_at(world, THU_19 + timedelta(minutes=2))
    assert resumed.paused is None
    assert world.services.access.refusal() is None
    (sent,) = world.gateway.messages(DM)
    assert sent["tag"].delivery_id == prompt.id
    assert _prompts(world)[0].status is DeliveryStatus.SENT
    assert any(getattr(r, "event", "") == "slack_access_restored" for r in caplog.records)


def test_a_refusal_while_planning_pauses_before_anything_is_recorded(world: World) -> None:
    world.load(PORTFOLIO)
    world.gateway.refuse["users.info"] = "account_inactive"
    result = _tick_at(world, THU_19)
    assert result.paused == "users.info: account_inactive"
    assert result.recorded == 0 and not _prompts(world)
    # one refused call, not one per person
    assert len(world.gateway.calls_to("users.info")) == 1
    assert not world.gateway.calls_to("chat.postMessage")


def test_a_refusal_keeps_what_was_sent_and_hands_back_the_rest(world: World) -> None:
    people = [f"U0PM{i:06d}" for i in range(4)]
    for person in people:
        world.gateway.add_user(person, tz="Europe/Paris")
    world.load(
        "projects:\n"
        + "".join(f"  - {{key: P{i}, name: Project {i}, pm: {p}}}\n" for i, p in enumerate(people))
    )
    posted = 0
    post = world.gateway.post_message

    def two_then_refused(**kwargs: object) -> object:
        nonlocal posted
        if posted == 2:
            raise SlackError("invalid_auth", "chat.postMessage")
        posted += 1
        return post(**kwargs)  # type: ignore[arg-type]

    world.gateway.post_message = two_then_refused  # type: ignore[method-assign]
    result = _tick_at(world, THU_19)
    assert result.paused == "chat.postMessage: invalid_auth"
    assert result.sent == {DeliveryKind.PROMPT: 2} and result.failures == ()
    statuses = sorted(p.status.value for p in _prompts(world))
    assert statuses == ["pending", "pending", "sent", "sent"]


@pytest.mark.parametrize("code", sorted(REFUSED))
def test_every_refusal_code_pauses_and_other_errors_do_not(world: World, code: str) -> None:
    world.load(PORTFOLIO)
    world.gateway.refuse["chat.postMessage"] = code
    assert _tick_at(world, THU_19).paused == f"chat.postMessage: {code}"


def test_a_permanent_error_of_one_delivery_is_its_failure_not_a_pause(world: World) -> None:
    world.load(PORTFOLIO)
    world.gateway.refuse["chat.postMessage"] = "user_disabled"
    result = _tick_at(world, THU_19)
    assert result.paused is None and len(result.failures) == 1
    assert world.services.access.refusal() is None


def test_a_refusal_pauses_the_replicas_holding_that_token_and_no_other(world: World) -> None:
    world.load(PORTFOLIO)
    world.services.access.refused("app_uninstalled: the app was removed from the workspace")
    same = replace(world.services, replica="other")  # the same token: paused too
    assert tick(same, now=THU_19).paused is not None
    assert not world.gateway.calls_to("chat.postMessage")
    new_token = load_settings(
        {"PMO_ADMINS": ADMIN, "PMO_TIMEZONE": "Europe/Paris", "SLACK_BOT_TOKEN": "xoxb-new"}
    )
    redeployed: Services = replace(world.services, settings=new_token)
    assert token_key("xoxb-new") != token_key(world.services.settings.slack_bot_token)
    assert tick(redeployed, now=THU_19).paused is None
    assert len(world.gateway.messages(DM)) == 1


def test_only_one_replica_tries_the_token_each_minute(world: World) -> None:
    world.services.access.refused("app_uninstalled")
    world.gateway.refuse["auth.test"] = "token_revoked"
    replicas = [replace(world.services, replica=name) for name in ("a", "b", "c")]
    for minute in (1, 2):
        world.clock.now = THU_19 + timedelta(minutes=minute)
        for services in replicas:
            assert services.access.paused() is not None
    assert len(world.gateway.calls_to("auth.test")) == 2


def test_tokens_revoked_is_checked_with_slack_not_taken_on_trust(world: World) -> None:
    access = world.services.access
    assert access.verify("tokens_revoked")  # the token still works: nothing recorded
    assert access.refusal() is None
    world.gateway.refuse["auth.test"] = "token_revoked"
    assert not access.verify("tokens_revoked")
    refusal = access.refusal()
    assert refusal is not None and refusal.reason == "tokens_revoked, then auth.test: token_revoked"
    assert access.problem() == (
        f"Slack refuses the bot token since {world.clock.now.isoformat()} "
        "(tokens_revoked, then auth.test: token_revoked): "
        "nothing is planned or sent until it works again"
    )
