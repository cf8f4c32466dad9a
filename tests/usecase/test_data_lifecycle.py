"""The data lifecycle as use cases (bot/operations/retention.py, bot/operations/erasure.py):
the tick's daily purge, on the process's clock, and who may be forgotten. SQLite and
FakeGateway; the storage side on both backends is tests/storage/test_retention_and_erasure.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery.tick import tick
from bot.operations.erasure import ACTOR, NameUnknownError, StillNeededError, forget_person
from bot.operations.retention import purge
from bot.portfolio.archive import inline
from storage import archives, audit, deliveries, portfolio
from storage.deliveries import Claim
from storage.models import ArchiveRow, AuditRow
from storage.records import DeliveryKind, ProjectState
from tests.usecase.conftest import PM, SPONSOR, World

DAY = timedelta(days=1)
DELEGATE = "U0DELEGATE"
PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
    delegates: [{DELEGATE}]
"""


def _old_digest(world: World, days_ago: int, channel: str = "C0OLD") -> int:
    """A digest sent `days_ago` days before the clock, followed by four more a day apart (so
    it is neither among its channel's newest three nor its newest sent, which are kept)."""
    sent_at = world.clock.now - days_ago * DAY
    with world.services.sessions.begin() as session:
        ids = deliveries.enqueue(
            session,
            [Claim(DeliveryKind.DIGEST, f"channel:{channel}", sent_at + n * DAY) for n in range(5)],
            now=sent_at,
        )
        for n, delivery_id in enumerate(ids):
            deliveries.mark_sent(
                session, delivery_id, channel=channel, ts=f"1.{n}", now=sent_at + n * DAY
            )
    return ids[0]


def _exists(world: World, delivery_id: int) -> bool:
    with world.services.sessions.begin() as session:
        return deliveries.find_delivery(session, delivery_id) is not None


def test_the_tick_purges_once_a_day_on_the_process_clock_not_the_ticks_time(
    world: World,
) -> None:
    expired = _old_digest(world, 401, "C0ONE")
    kept = _old_digest(world, 399, "C0TWO")
    # A tick replayed far in the future (tick --at) purges by the process's clock: `kept` is
    # 399 days old on that clock, well past 400 at the tick's time, and stays.
    tick(world.services, now=world.clock.now + 1000 * DAY)
    assert not _exists(world, expired) and _exists(world, kept)
    # The same day, the turn is taken: nothing more is purged, even what expired since.
    first = world.clock.now
    world.clock.now = first + DAY / 2
    later = _old_digest(world, 450, "C0THREE")
    tick(world.services, now=world.clock.now)
    assert _exists(world, kept) and _exists(world, later)
    world.clock.now = first + 2 * DAY  # the next day's turn: `kept` is now 401 days old
    tick(world.services, now=world.clock.now)
    assert not _exists(world, kept) and not _exists(world, later)


def test_a_dry_run_counts_and_removes_nothing(world: World) -> None:
    expired = _old_digest(world, 500)
    counted = purge(world.services.sessions, now=world.clock.now, days=400, dry_run=True)
    assert (counted.deliveries, counted.before) == (2, world.clock.now - 400 * DAY)  # 2 of 5
    assert _exists(world, expired)
    done = purge(world.services.sessions, now=world.clock.now, days=400)
    assert done.deliveries == 2 and not _exists(world, expired)


@pytest.mark.parametrize(
    ("person", "role"),
    [(PM, "PM of ATLAS"), (SPONSOR, "sponsor of ATLAS"), (DELEGATE, "delegate of ATLAS")],
)
def test_someone_with_a_role_in_an_open_project_cannot_be_forgotten(
    world: World, person: str, role: str
) -> None:
    world.load(PORTFOLIO)
    for state in (ProjectState.ACTIVE, ProjectState.ON_HOLD):
        world.load(PORTFOLIO + f"    state: {state.value}\n")
        with pytest.raises(StillNeededError) as refused:
            forget_person(world.services.sessions, person, now=world.clock.now)
        assert refused.value.roles == [role]
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        assert (atlas.pm, atlas.sponsor, atlas.delegates) == (PM, SPONSOR, (DELEGATE,))


def test_once_the_project_is_closed_the_person_is_forgotten_and_the_erasure_audited(
    world: World,
) -> None:
    world.load(PORTFOLIO + "    state: closed\n")
    forgotten = forget_person(world.services.sessions, PM, now=world.clock.now, without_name=True)
    assert forgotten.pseudonym.startswith("former member ")
    assert forgotten.changed["projects"] == 1
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        assert atlas.pm == forgotten.pseudonym
        entries = audit.project_changes(session, atlas.id, limit=50)
    assert PM not in repr(entries)
    with world.services.sessions.begin() as session:
        everything = repr(
            session.execute(select(AuditRow.actor, AuditRow.action, AuditRow.changes)).all()
        )
    assert f"'{ACTOR}'" in everything and "person_forgotten" in everything
    # Nothing holds them any more: a second run changes nothing (and records nothing).
    again = forget_person(world.services.sessions, PM, now=world.clock.now, without_name=True)
    assert not again.changed


def test_only_a_slack_user_id_can_be_forgotten(world: World) -> None:
    with pytest.raises(ValueError, match="is not a Slack user id"):
        forget_person(world.services.sessions, "camille", now=world.clock.now)


def test_names_leave_the_archives_as_markdown_wrote_them_and_whatever_their_case(
    world: World,
) -> None:
    world.load(PORTFOLIO + "    state: closed\n")
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        archives.save_archive(
            session,
            project_id=atlas.id,
            closed_by=SPONSOR,
            closed_at=world.clock.now,
            summary="Thanks to CAMILLE DURAND.",
            lessons="Ask camille_durand early.",
            markdown=f"- Project manager: {inline('camille_durand')} ({PM})\n",
        )
    # No name known (no cached profile) and none given: refused, nothing changed.
    with pytest.raises(NameUnknownError):
        forget_person(world.services.sessions, PM, now=world.clock.now)
    with world.services.sessions.begin() as session:
        assert portfolio.list_projects(session)[0].pm == PM
    forgotten = forget_person(
        world.services.sessions,
        PM,
        now=world.clock.now,
        names=["camille_durand", "Camille Durand"],
    )
    with world.services.sessions.begin() as session:
        texts = session.execute(
            select(ArchiveRow.markdown, ArchiveRow.summary, ArchiveRow.lessons)
        ).one()
    name = forgotten.pseudonym
    assert tuple(texts) == (
        f"- Project manager: {name} ({name})\n",
        f"Thanks to {name}.",
        f"Ask {name} early.",
    )
