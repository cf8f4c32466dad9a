"""The data lifecycle as use cases (bot/operations/retention.py, bot/operations/erasure.py):
the tick's daily purge, on the process's clock, and who may be forgotten. SQLite and
FakeGateway; the storage side on both backends is tests/storage/test_retention_and_erasure.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery.tick import tick
from bot.governance.decisions import ActionDraft
from bot.operations.erasure import ACTOR, NameUnknownError, StillNeededError, forget_person
from bot.operations.retention import purge
from bot.portfolio.admin import spec_of
from bot.portfolio.archive import inline
from bot.stages.requests import (
    RequestDecided,
    Requested,
    decide_request,
    request_change,
    request_gate,
)
from storage import archives, audit, decisions, deliveries, portfolio, stages
from storage.deliveries import Claim
from storage.models import (
    ActionRow,
    ArchiveRow,
    AuditRow,
    BaselineRow,
    DecisionRow,
    StageRequestRow,
)
from storage.records import DeliveryKind, ProjectState
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World, pass_gate

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


APPROVER = "U0APPROVE1"
STAGED = f"""
process:
  phases: [planning, execution]
  gates:
    - from: planning
      to: execution
      checklist:
        - {{name: "Plan signed off", mandatory: true, link: true}}
      approvers: [sponsor, {APPROVER}]
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
    phase: planning
    budget: 1000
    end: 2027-06-30
"""


def test_an_approver_the_process_names_cannot_be_forgotten(world: World) -> None:
    world.load(STAGED)
    with pytest.raises(StillNeededError) as refused:
        forget_person(world.services.sessions, APPROVER, now=world.clock.now, without_name=True)
    assert refused.value.roles == ["approver of the gate planning → execution"]
    with world.services.sessions.begin() as session:
        assert portfolio.load_process(session).gates[0].approvers == ("sponsor", APPROVER)
    world.load(STAGED.replace(f"[sponsor, {APPROVER}]", "[sponsor]"))
    forget_person(world.services.sessions, APPROVER, now=world.clock.now, without_name=True)


def test_the_gates_changes_and_baselines_of_a_forgotten_person_keep_one_pseudonym(
    world: World,
) -> None:
    """The sponsor asked nothing but decided a gate (with a condition they own) and a change,
    recorded the baseline, and is mentioned in a request's reason: once their project is
    closed and they are forgotten, every one of those says the same pseudonym."""
    world.load(STAGED)
    now, admins = world.clock.now, {ADMIN}
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        asked = request_gate(
            session,
            actor=PM,
            project_id=atlas.id,
            phase="planning",
            ticked=("Plan signed off",),
            links={"Plan signed off": "https://wiki.example/plan"},
            note=f"Reviewed with <@{SPONSOR}>",
            admins=admins,
            now=now,
        )
        assert isinstance(asked, Requested)
        gate = decide_request(
            session,
            actor=SPONSOR,
            request_id=asked.request.id,
            outcome="approved_with_conditions",
            rationale=None,
            admins=admins,
            now=now + DAY,
            conditions=[ActionDraft("Risk review", SPONSOR, (now + 9 * DAY).date().isoformat())],
        )
        assert isinstance(gate, RequestDecided) and gate.baseline is not None
        change = request_change(
            session,
            actor=PM,
            project_id=atlas.id,
            changes=["cost"],
            new_end=None,
            new_budget="1200",
            reason=f"{SPONSOR} asked for more",
            admins=admins,
            now=now + 2 * DAY,
        )
        assert isinstance(change, Requested)
        refused = decide_request(
            session,
            actor=SPONSOR,
            request_id=change.request.id,
            outcome="rejected",
            rationale="Not now",
            admins=admins,
            now=now + 3 * DAY,
        )
        assert isinstance(refused, RequestDecided)
        current = portfolio.find_project_by_id(session, atlas.id)
        assert current is not None
        portfolio.upsert_projects(
            session, [replace(spec_of(current), state=ProjectState.CLOSED)], now=now + 4 * DAY
        )
    forgotten = forget_person(
        world.services.sessions, SPONSOR, now=now + 5 * DAY, without_name=True
    )
    name = forgotten.pseudonym
    assert forgotten.changed["stage_requests"] == 2
    assert forgotten.changed["project_baselines"] == 1
    with world.services.sessions.begin() as session:
        requests = stages.requests_of(session, [atlas.id])
        (baseline,) = stages.baselines_of(session, [atlas.id])
        (condition,) = decisions.actions_of(session, project_ids=[atlas.id])
        decided = decisions.of_projects(session, [atlas.id])
        everything = "\n".join(
            repr(tuple(row))
            for table in (StageRequestRow, BaselineRow, DecisionRow, ActionRow)
            for row in session.execute(select(table.__table__))
        )
    assert SPONSOR not in everything
    assert [(r.requested_by, r.decided_by) for r in requests] == [(PM, name), (PM, name)]
    assert [r.reason for r in requests] == [f"Reviewed with {name}", f"{name} asked for more"]
    assert requests[0].checklist[0].link == "https://wiki.example/plan"  # no one's id: as it was
    assert baseline.recorded_by == name and condition.owner == name
    assert {d.decided_by for d in decided} == {name}


def test_the_purge_keeps_gates_changes_and_baselines_whatever_their_age(world: World) -> None:
    world.load(STAGED)
    long_ago = world.clock.now - 900 * DAY
    with world.services.sessions.begin() as session:
        (atlas,) = portfolio.list_projects(session)
        decided = pass_gate(
            session,
            atlas.id,
            at=long_ago,
            ticked=("Plan signed off",),
            links={"Plan signed off": "https://wiki.example/plan"},
            after=DAY,
        )
    purge(world.services.sessions, now=world.clock.now, days=400)
    with world.services.sessions.begin() as session:
        assert [r.id for r in stages.requests_of(session, [atlas.id])] == [decided.request.id]
        assert len(stages.baselines_of(session, [atlas.id])) == 1
        assert decisions.of_projects(session, [atlas.id])[0].kind.value == "gate"
