"""People's hours and stale news, tick by tick at chosen instants: PMs in Paris, New York,
Tokyo and Kolkata; an outage of three days; a reminder that would fall at night, and one that
would fall on the next prompt's day; a digest missed by one hour (posted) and by six days
(skipped). bot/ over SQLite, Slack as FakeGateway, the time the test's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.cli.deliveries import delivery_line
from bot.delivery.tick import tick
from bot.periods.hours import is_working_time
from storage import deliveries
from storage.records import DEFAULT_CALENDAR, Delivery, DeliveryKind, DeliveryStatus
from tests.usecase.conftest import World

PMS = {
    "U0PMPARIS2": ZoneInfo("Europe/Paris"),
    "U0PMNEWYRK": ZoneInfo("America/New_York"),
    "U0PMTOKYO1": ZoneInfo("Asia/Tokyo"),
    "U0PMKOLKAT": ZoneInfo("Asia/Kolkata"),
}
NEW_YORK_PM = "U0PMNEWYRK"
NEW_YORK = PMS[NEW_YORK_PM]
# Wednesday 2 December 2026 23:00 UTC: the bot stops, before any PM's Thursday 10:00.
OUTAGE_START = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def portfolio(*, reminder_after_hours: int = 24, digest: bool = False) -> str:
    projects = "".join(
        f"  - {{key: P-{index}, name: Project {index}, pm: {pm},"
        f" reminder_after_hours: {reminder_after_hours}}}\n"
        for index, pm in enumerate(PMS, start=1)
    )
    digests = "digests:\n  - {channel: C0LEADERS, timezone: Europe/Paris}\n" if digest else ""
    return f"projects:\n{projects}{digests}"


def add_pms(world: World) -> None:
    for pm, zone in PMS.items():
        world.gateway.add_user(pm, tz=zone.key, locale="en-US")


def hourly(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(hours=1)


def run(world: World, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    """Tick every hour from `start` to `end`; when each person got each direct message (the
    tick's instant), by Slack user id, thread replies included."""
    seen: dict[str, int] = {}
    received: dict[str, list[datetime]] = {}
    for moment in hourly(start, end):
        world.clock.now = moment
        tick(world.services, now=moment)
        for pm in PMS:
            count = sum(
                1 for c in world.gateway.calls_to("chat.postMessage") if _to(c.params) == pm
            )
            new = count - seen.get(pm, 0)
            received.setdefault(pm, []).extend([moment] * new)
            seen[pm] = count
    return received


def _to(params: dict[str, object]) -> str:
    channel = str(params.get("channel"))
    return channel[1:] if channel.startswith("D") else channel


def one_new_york_project(world: World, cadence: str) -> None:
    """A portfolio of one project, EDGE, with the New York PM and `cadence`, loaded at the end
    of November."""
    world.gateway.add_user(NEW_YORK_PM, tz=NEW_YORK.key, locale="en-US")
    world.clock.now = datetime(2026, 11, 30, tzinfo=UTC)
    world.load(
        f"projects:\n  - {{key: EDGE, name: Edge, pm: {NEW_YORK_PM}, cadence: '{cadence}'}}\n"
    )


def outbox(world: World, kind: DeliveryKind) -> list[Delivery]:
    with world.services.sessions.begin() as session:
        return deliveries.list_deliveries(session, kind=kind)


def test_after_a_three_day_outage_catch_up_prompts_wait_for_each_pms_morning(
    world: World,
) -> None:
    add_pms(world)
    world.clock.now = OUTAGE_START - timedelta(days=1)
    world.load(portfolio())
    # Back on Saturday 5 December at 23:00 UTC, three days later, ticking every hour.
    received = run(world, OUTAGE_START + timedelta(days=3), OUTAGE_START + timedelta(days=5))
    for pm, zone in PMS.items():
        sent = received[pm][0]  # the prompt (Tokyo's reminder follows a day later, in it)
        # Nobody on the weekend; each on Monday 7 December, at the first tick of their
        # working hours in their own zone (Kolkata's 08:00 is 02:30 UTC: the 03:00 tick).
        local = sent.astimezone(zone)
        assert (local.date().isoformat(), local.hour) == ("2026-12-07", 8), (pm, local)
        assert is_working_time(sent, zone, DEFAULT_CALENDAR)
    prompts = outbox(world, DeliveryKind.PROMPT)
    assert {p.status for p in prompts} == {DeliveryStatus.SENT}
    assert len(prompts) == len(PMS)


def test_a_waiting_prompt_shows_why_and_when_in_the_outbox(world: World) -> None:
    add_pms(world)
    world.clock.now = OUTAGE_START - timedelta(days=1)
    world.load(portfolio())
    saturday = OUTAGE_START + timedelta(days=3)
    world.clock.now = saturday
    tick(world.services, now=saturday)
    prompts = outbox(world, DeliveryKind.PROMPT)
    assert {p.status for p in prompts} == {DeliveryStatus.PENDING}
    for prompt in prompts:
        pm = next(pm for pm in PMS if prompt.project_id == list(PMS).index(pm) + 1)
        assert prompt.next_attempt_at is not None
        local = prompt.next_attempt_at.astimezone(PMS[pm])
        assert (local.weekday(), local.hour, local.minute) == (0, 8, 0), (pm, local)
        assert prompt.attempts == 0  # waiting is not trying
        # `pmo-bot deliveries` says why and until when (in PMO_TIMEZONE, Paris).
        line = delivery_line(prompt, {}, world.services.settings)
        assert "waits until 2026-12-07" in line and "outside working hours" in line, line


def test_a_cadence_set_outside_working_hours_is_the_admins_choice_and_kept(
    world: World,
) -> None:
    one_new_york_project(world, "FREQ=WEEKLY;BYDAY=SU;BYHOUR=20;BYMINUTE=0")  # Sunday 20:00
    due = datetime(2026, 12, 6, 20, 0, tzinfo=NEW_YORK).astimezone(UTC)
    world.clock.now = due
    tick(world.services, now=due)
    (prompt,) = outbox(world, DeliveryKind.PROMPT)
    assert prompt.status is DeliveryStatus.SENT  # Sunday 20:00, as the admin set it


def test_a_reminder_that_would_fall_at_night_comes_at_eight(world: World) -> None:
    add_pms(world)
    world.clock.now = datetime(2026, 11, 30, tzinfo=UTC)
    world.load(portfolio(reminder_after_hours=15))  # 10:00 + 15 h = 01:00 the next night
    thursday_10_ny = datetime(2026, 12, 3, 10, 0, tzinfo=NEW_YORK).astimezone(UTC)
    received = run(world, thursday_10_ny, thursday_10_ny + timedelta(hours=26))
    prompt, reminder = received[NEW_YORK_PM]
    assert prompt == thursday_10_ny
    assert reminder.astimezone(NEW_YORK) == datetime(2026, 12, 4, 8, 0, tzinfo=NEW_YORK)


def test_no_reminder_on_the_day_the_next_prompt_is_due(world: World) -> None:
    add_pms(world)
    world.clock.now = datetime(2026, 11, 30, tzinfo=UTC)
    # Six days after Thursday 10:00 is Wednesday 10:00 for the others; for a prompt caught up on
    # Friday at 08:00 in New York, it is Thursday 08:00, two hours before the next prompt.
    world.load(portfolio(reminder_after_hours=6 * 24))
    friday_8_ny = datetime(2026, 12, 4, 8, 0, tzinfo=NEW_YORK).astimezone(UTC)
    received = run(world, friday_8_ny, friday_8_ny + timedelta(days=6, hours=4))
    ny = [t.astimezone(NEW_YORK) for t in received[NEW_YORK_PM]]
    # the caught-up prompt, then no reminder, then the next prompt on Thursday 10 December
    assert [(t.day, t.hour) for t in ny] == [(4, 8), (10, 10)]
    reminders = [
        r for r in outbox(world, DeliveryKind.REMINDER) if r.project_id == 2
    ]  # the New York PM's project
    assert [(r.status, r.error) for r in reminders] == [
        (DeliveryStatus.SKIPPED, "the next period's prompt is due the same day")
    ]


def test_a_digest_missed_by_an_hour_is_posted_and_by_six_days_skipped(world: World) -> None:
    world.clock.now = datetime(2026, 11, 30, tzinfo=UTC)
    world.load(portfolio(digest=True))
    friday_16 = datetime(2026, 12, 4, 16, 0, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)
    # Down at 16:00, back at 17:00: within the default two hours, posted.
    world.clock.now = friday_16 + timedelta(hours=1)
    tick(world.services, now=world.clock.now)
    (posted,) = outbox(world, DeliveryKind.DIGEST)
    assert posted.status is DeliveryStatus.SENT
    assert len(world.gateway.messages("C0LEADERS")) == 1
    # The next Friday's is missed by six days: skipped, with the reason, never posted.
    six_days_late = friday_16 + timedelta(days=13)
    world.clock.now = six_days_late
    tick(world.services, now=six_days_late)
    skipped = [d for d in outbox(world, DeliveryKind.DIGEST) if d.id != posted.id]
    assert [(d.occurrence, d.status, d.error) for d in skipped] == [
        (friday_16 + timedelta(days=7), DeliveryStatus.SKIPPED, "not posted within 2 h of its time")
    ]
    assert len(world.gateway.messages("C0LEADERS")) == 1


def test_a_catch_up_prompt_whose_period_ends_before_the_morning_is_recorded_not_sent(
    world: World,
) -> None:
    # The admin's choice: Fridays at 07:00, before working hours.
    one_new_york_project(world, "FREQ=WEEKLY;BYDAY=FR;BYHOUR=7;BYMINUTE=0")
    # Down all week; back on Thursday 10 December at 20:00 in New York. The period began on
    # Friday 4 December 07:00 and ends on Friday 11 December 07:00, before the next morning.
    back = datetime(2026, 12, 10, 20, 0, tzinfo=NEW_YORK).astimezone(UTC)
    world.clock.now = back
    tick(world.services, now=back)
    (prompt,) = outbox(world, DeliveryKind.PROMPT)
    assert (prompt.status, prompt.error) == (
        DeliveryStatus.SKIPPED,
        "outside working hours until its period ended",
    )
    assert not world.gateway.calls_to("chat.postMessage")


def test_the_portfolios_own_working_hours_decide(world: World) -> None:
    add_pms(world)
    world.clock.now = OUTAGE_START - timedelta(days=1)
    early = "working_hours: {days: [mon, tue, wed, thu, fri, sat], start: '03:00', end: '22:00'}\n"
    world.load(portfolio() + early)
    # Saturday 5 December 09:00 in New York, 14:00 UTC: a working day and hour for this
    # portfolio (not for the default one), so the caught-up prompts go where it is one.
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=NEW_YORK).astimezone(UTC)
    received = run(world, saturday, saturday)
    sent = {pm for pm, times in received.items() if times}
    # 15:00 in Paris, 09:00 in New York, 19:30 in Kolkata; 23:00 in Tokyo is after 22:00.
    assert sent == {"U0PMPARIS2", NEW_YORK_PM, "U0PMKOLKAT"}
