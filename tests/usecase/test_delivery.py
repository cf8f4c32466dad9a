"""The tick and on-demand reminders as use cases: bot/ over SQLite, Slack as FakeGateway.

What the product asked of Slack is read from the gateway's calls; the time is the test's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.delivery.tick import tick
from bot.reporting.on_demand import remind
from storage import deliveries, portfolio
from storage.deliveries import Claim
from storage.records import DeliveryKind, DeliveryStatus
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
"""
THU_19 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday 10:00 in Paris
DM = f"D{PM}"


def prompts(world: World) -> list[deliveries.Delivery]:
    with world.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=DeliveryKind.PROMPT)


def test_a_prompt_goes_out_once_per_occurrence_however_many_ticks(world: World) -> None:
    world.load(PORTFOLIO)
    for minutes in (0, 1, 2):
        world.clock.now = THU_19 + timedelta(minutes=minutes)
        tick(world.services, now=world.clock.now)
    (prompt,) = world.gateway.messages(DM)
    assert "ATLAS" in prompt["text"] and prompt["tag"].delivery_id == prompts(world)[0].id
    # Posted to the PM's id, Slack answered with their DM channel: cached, never opened.
    assert not world.gateway.calls_to("conversations.open")


def test_a_prompt_recorded_for_a_period_that_is_over_is_dropped_not_sent(world: World) -> None:
    world.load(PORTFOLIO)
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        last_week = Claim(
            DeliveryKind.PROMPT,
            f"project:{atlas.id}",
            THU_19 - timedelta(weeks=1),
            project_id=atlas.id,
            payload={"tz": "Europe/Paris"},
        )
        deliveries.enqueue(session, [last_week], now=THU_19)
    world.clock.now = THU_19 + timedelta(minutes=1)
    tick(world.services, now=world.clock.now)
    old, new = sorted(prompts(world), key=lambda p: p.occurrence)
    assert (old.status, old.error) == (DeliveryStatus.SKIPPED, "the period is over")
    assert new.status is DeliveryStatus.SENT and new.occurrence == THU_19
    (sent,) = world.gateway.messages(DM)
    assert sent["tag"].delivery_id == new.id


def test_one_reminder_in_the_prompts_thread_from_the_reminders_time(world: World) -> None:
    world.load(PORTFOLIO)
    tick(world.services, now=THU_19)
    (prompt,) = world.gateway.messages(DM)
    for hours in (23, 24, 25, 30):  # due 24 hours after the prompt went out, sent once
        world.clock.now = THU_19 + timedelta(hours=hours)
        tick(world.services, now=world.clock.now)
        replies = world.gateway.messages(DM, thread_ts=prompt["ts"])
        assert len(replies) == (0 if hours < 24 else 1)


def test_a_reminder_on_demand_goes_in_the_prompts_thread_and_is_refused_to_others(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    tick(world.services, now=THU_19)
    (prompt,) = world.gateway.messages(DM)
    world.clock.now = THU_19 + timedelta(hours=2)
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
    admins = frozenset({ADMIN})
    refused = remind(world.services, actor=PM, project=atlas, admins=admins)
    assert refused.code == "remind_denied"
    assert world.gateway.messages(DM, thread_ts=prompt["ts"]) == []
    for actor in (ADMIN, SPONSOR):
        assert remind(world.services, actor=actor, project=atlas, admins=admins).code == "reminded"
    assert len(world.gateway.messages(DM, thread_ts=prompt["ts"])) == 2
