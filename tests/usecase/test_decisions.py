"""Every ask becomes a decision record (bot/governance/decisions.py, issue 13 point 1), as use
cases over SQLite: opened, updated, kept through a "No change" copy, withdrawn, untouched by a
late answer for an earlier period, not reopened once decided, lapsed by the tick; every
change audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.delivery.tick import tick
from bot.governance.decisions import (
    AlreadyDecided,
    Decided,
    DecisionRefused,
    ask_fingerprint,
    decide,
    note_ask,
)
from storage import audit, decisions, portfolio, reports
from storage.records import UNDECIDED, Decision, DecisionState, Report
from tests import factories
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World

PORTFOLIO = f"""
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
"""
WEEK = timedelta(days=7)
THU_12 = datetime(2026, 11, 12, 9, 0, tzinfo=UTC)
ASK = "Steering committee decision this week: move go-live by eight weeks?"


def _answer(
    world: World,
    period: datetime,
    help_needed: str | None = None,
    copied_from: int | None = None,
    **fields: object,
) -> tuple[Report, str | None]:
    """The PM's report for the period starting `period`, saved as the modal saves it (as
    "No change" saves it when `copied_from` names the report copied)."""
    with world.services.sessions.begin() as session:
        atlas = next(p for p in portfolio.list_projects(session) if p.key == "ATLAS")
        report = reports.save_report(
            session,
            factories.draft(help_needed=help_needed, **fields),
            project_id=atlas.id,
            period_start=period,
            submitted_by=PM,
            submitted_at=world.clock.now,
            copied_from_id=copied_from,
        )
        return report, note_ask(session, report, now=world.clock.now)


def _decisions(world: World) -> list[Decision]:
    with world.services.sessions.begin() as session:
        atlas = next(p for p in portfolio.list_projects(session) if p.key == "ATLAS")
        return decisions.of_projects(session, [atlas.id])


def _actions(world: World) -> list[str]:
    with world.services.sessions.begin() as session:
        atlas = next(p for p in portfolio.list_projects(session) if p.key == "ATLAS")
        changes = audit.project_changes(session, atlas.id, limit=50)
    return [entry.action for entry in reversed(changes) if entry.action.startswith("decision")]


def test_an_ask_opens_a_decision_a_new_ask_updates_it_and_no_ask_withdraws_it(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    first, change = _answer(world, THU_12, ASK, help_needed_by=date(2026, 11, 20))
    assert change == "opened"
    (opened,) = _decisions(world)
    assert (opened.question, opened.needed_by, opened.report_id, opened.state) == (
        ASK,
        date(2026, 11, 20),
        first.id,
        DecisionState.OPEN,
    )
    # The next week's "No change" copy asks the same: the same decision, now from that report.
    copy, change = _answer(world, THU_12 + WEEK, ASK, help_needed_by=date(2026, 11, 20))
    assert change is None
    (same,) = _decisions(world)
    assert (same.id, same.report_id) == (opened.id, copy.id)
    # A new ask updates it.
    _, change = _answer(world, THU_12 + 2 * WEEK, "Move go-live by six weeks?")
    assert change == "updated"
    (updated,) = _decisions(world)
    assert (updated.id, updated.question, updated.needed_by) == (
        opened.id,
        "Move go-live by six weeks?",
        None,
    )
    # No ask any more: withdrawn.
    _, change = _answer(world, THU_12 + 3 * WEEK)
    assert change == "withdrawn"
    assert [d.state for d in _decisions(world)] == [DecisionState.WITHDRAWN]
    assert _actions(world) == ["decision_opened", "decision_updated", "decision_withdrawn"]


def test_a_late_answer_for_an_earlier_period_does_not_speak_for_the_project(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    _answer(world, THU_12 + WEEK, ASK)
    _, change = _answer(world, THU_12)  # last week's report, answered late, asks nothing
    assert change is None
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN]


def test_a_decided_ask_is_not_reopened_by_a_copy_but_asked_again_it_opens_another(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    first, _ = _answer(world, THU_12, ASK)
    (asked,) = _decisions(world)
    with world.services.sessions.begin() as session:
        decisions.set_state(session, asked.id, DecisionState.DECIDED, now=world.clock.now)
    # "No change": a copy of the report whose ask was decided asks nothing new.
    assert _answer(world, THU_12 + WEEK, ASK, copied_from=first.id)[1] is None
    # Typed again (the modal never prefills it: on purpose, say after "deferred"), or
    # another question: a new decision each time.
    assert _answer(world, THU_12 + 2 * WEEK, ASK)[1] == "opened"
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN, DecisionState.DECIDED]


def test_an_ask_changed_while_the_modal_was_open_is_not_decided_unseen(world: World) -> None:
    world.load(PORTFOLIO.replace(f"pm: {PM}", f"pm: {PM}\n    sponsor: {SPONSOR}"))
    _answer(world, THU_12, ASK)
    (shown,) = _decisions(world)
    _answer(world, THU_12, "Rather: drop the Lyon plant?")  # the PM corrects the ask
    with world.services.sessions.begin() as session:
        result = decide(
            session,
            actor=SPONSOR,
            decision_id=shown.id,
            outcome="approved",
            rationale=None,
            admins=world.services.settings.admins,
            now=world.clock.now,
            seen=ask_fingerprint(shown),
        )
    assert result == DecisionRefused("changed")
    (still,) = _decisions(world)
    assert still.state is DecisionState.OPEN and still.question == "Rather: drop the Lyon plant?"
    # Seen as it is now, it is decided.
    with world.services.sessions.begin() as session:
        again = decide(
            session,
            actor=SPONSOR,
            decision_id=still.id,
            outcome="approved",
            rationale=None,
            admins=world.services.settings.admins,
            now=world.clock.now,
            seen=ask_fingerprint(still),
        )
    assert isinstance(again, Decided)


def test_a_closed_projects_ask_does_not_lapse(world: World) -> None:
    world.load(PORTFOLIO)
    _answer(world, THU_12, ASK, help_needed_by=date(2026, 11, 16))
    world.load(PORTFOLIO.replace(f"pm: {PM}", f"pm: {PM}\n    state: closed"))
    tick(world.services, now=datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN]
    assert "decision_lapsed" not in _actions(world)


def test_the_tick_lapses_an_open_ask_past_its_date_and_a_new_date_reopens_it(
    world: World,
) -> None:
    world.load(PORTFOLIO)
    _answer(world, THU_12, ASK, help_needed_by=date(2026, 11, 16))
    tick(world.services, now=datetime(2026, 11, 16, 22, 0, tzinfo=UTC))  # the 16th in Paris
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN]
    tick(world.services, now=datetime(2026, 11, 16, 23, 30, tzinfo=UTC))  # the 17th in Paris
    assert [d.state for d in _decisions(world)] == [DecisionState.LAPSED]
    # The same ask in the next report stays lapsed; a new date opens it again.
    world.clock.now = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    _answer(world, THU_12 + WEEK, ASK, help_needed_by=date(2026, 11, 16))
    assert [d.state for d in _decisions(world)] == [DecisionState.LAPSED]
    _answer(world, THU_12 + WEEK, ASK, help_needed_by=date(2026, 11, 27))
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN]
    assert _actions(world) == ["decision_opened", "decision_lapsed", "decision_updated"]


def _decide(world: World, actor: str, outcome: str, rationale: str | None = None) -> object:
    (asked,) = [d for d in _decisions(world) if d.state in UNDECIDED] or _decisions(world)[:1]
    with world.services.sessions.begin() as session:
        return decide(
            session,
            actor=actor,
            decision_id=asked.id,
            outcome=outcome,
            rationale=rationale,
            admins=world.services.settings.admins,
            now=world.clock.now,
        )


DECIDERS = """
digests:
  - channel: C0LEADERS
    deciders: [U0DECIDER1]
  - channel: C0OTHERS
    keys: [OTHER]
    deciders: [U0ELSEWHERE]
"""


def test_the_sponsor_an_admin_or_a_decider_decides_once_and_others_change_nothing(
    world: World,
) -> None:
    world.load(
        PORTFOLIO.replace(f"pm: {PM}", f"pm: {PM}\n    sponsor: {SPONSOR}")
        + "  - {key: OTHER, name: Other, pm: U0PM00002}\n"
        + DECIDERS
    )
    _answer(world, THU_12, ASK)
    # Not theirs to decide: the PM, a stranger, the decider of a digest that does not show
    # the project. Nothing changes.
    for stranger in (PM, "U0STRANGER", "U0ELSEWHERE"):
        assert _decide(world, stranger, "approved") == DecisionRefused("not_allowed")
    # A rationale is required unless approved; an unknown outcome is refused.
    assert _decide(world, SPONSOR, "rejected", "  ") == DecisionRefused(
        "invalid", (("rationale", "required"),)
    )
    assert _decide(world, SPONSOR, "maybe") == DecisionRefused("invalid", (("outcome", "unknown"),))
    assert [d.state for d in _decisions(world)] == [DecisionState.OPEN]
    decided = _decide(world, SPONSOR, "deferred", "After the audit.")
    assert isinstance(decided, Decided)
    assert (decided.decision.outcome, decided.decision.rationale, decided.decision.decided_by) == (
        "deferred",
        "After the audit.",
        SPONSOR,
    )
    # Clicked again, or by an admin meanwhile: already decided, by whom, nothing recorded.
    for again in (SPONSOR, ADMIN, "U0DECIDER1"):
        second = _decide(world, again, "approved")
        assert isinstance(second, AlreadyDecided) and second.decision.decided_by == SPONSOR
    assert _actions(world) == ["decision_opened", "decision_decided"]
    # The next ask may be decided by a decider a subscription names, approved without a word.
    _answer(world, THU_12 + WEEK, "Two more analysts?")
    assert isinstance(_decide(world, "U0DECIDER1", "approved"), Decided)


def test_a_changed_ask_whose_date_has_passed_stays_lapsed(world: World) -> None:
    world.load(PORTFOLIO)
    _answer(world, THU_12, ASK, help_needed_by=date(2026, 11, 16))
    tick(world.services, now=datetime(2026, 11, 16, 23, 30, tzinfo=UTC))  # the 17th in Paris
    world.clock.now = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    _, change = _answer(
        world, THU_12 + WEEK, "Reworded, same date?", help_needed_by=date(2026, 11, 16)
    )
    assert change == "updated"
    (still,) = _decisions(world)
    assert (still.question, still.state) == ("Reworded, same date?", DecisionState.LAPSED)
    tick(world.services, now=datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    assert _actions(world).count("decision_lapsed") == 1  # not lapsed (nor told) twice


def test_a_withdrawn_ask_cannot_be_decided(world: World) -> None:
    world.load(PORTFOLIO.replace(f"pm: {PM}", f"pm: {PM}\n    sponsor: {SPONSOR}"))
    _answer(world, THU_12, ASK)
    _answer(world, THU_12 + WEEK)  # no longer asks
    assert _decide(world, SPONSOR, "approved") == DecisionRefused("withdrawn")
    assert [d.state for d in _decisions(world)] == [DecisionState.WITHDRAWN]
