"""Gates and change requests (bot/stages/requests.py, issue 17) as use cases over SQLite:
asked by the PM, a delegate or an admin only, one of each kind at a time; decided once by an
approver; a mandatory item missing is never approved; an approved gate moves the phase and
records the baseline; an approved change rewrites the end and budget, keeps the previous
baseline, and earned value follows; conditions become actions; every step audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.finance.earned_value import project_figures
from bot.governance.decisions import ActionDraft
from bot.portfolio.admin import Closed, ProjectSaved, close_project, metadata
from bot.stages.requests import (
    RequestAlreadyDecided,
    RequestDecided,
    Requested,
    StageRefused,
    decide_request,
    may_ask,
    request_change,
    request_gate,
    withdraw_request,
)
from storage import audit, decisions, deliveries, portfolio, stages
from storage.records import (
    DecisionKind,
    DeliveryKind,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories
from tests.usecase.conftest import ADMIN, PM, SPONSOR, World
from tests.usecase.test_baseline_lock import save

STRANGER = "U0STRANGE1"
DELEGATE = "U0DELEGAT1"
APPROVER = "U0APPROVE1"
PORTFOLIO = f"""
process:
  phases: [initiation, planning, execution, closing]
  gates:
    - from: initiation
      to: planning
      approvers: [admins]
    - from: planning
      to: execution
      checklist:
        - {{name: "Project plan signed off", mandatory: true, link: true}}
        - {{name: "Lessons reviewed", mandatory: false}}
      approvers: [sponsor, {APPROVER}]
projects:
  - key: ATLAS
    name: Atlas ERP migration
    pm: {PM}
    sponsor: {SPONSOR}
    phase: planning
    budget: 1000000
    start: 2026-01-01
    end: 2026-12-31
    milestones:
      - {{name: Design signed off, due: 2026-03-01}}
"""
NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PLAN = "Project plan signed off"
LINK = {PLAN: "https://wiki.example.com/atlas/plan"}


@pytest.fixture
def staged(world: World) -> World:
    world.load(PORTFOLIO)
    return world


def _atlas_id(world: World) -> int:
    with world.services.sessions.begin() as session:
        found = portfolio.find_project(session, "ATLAS")
        assert found is not None
        return found.id


def _gate(
    world: World,
    actor: str = PM,
    ticked: tuple[str, ...] = (PLAN,),
    phase: str = "planning",
    links: dict[str, str | None] | None = None,
) -> Requested | StageRefused:
    with world.services.sessions.begin() as session:
        return request_gate(
            session,
            actor=actor,
            project_id=_atlas_id(world),
            phase=phase,
            ticked=ticked,
            links=LINK if links is None else links,
            note=None,
            admins={ADMIN},
            now=NOW,
        )


def _decide(
    world: World,
    request_id: int,
    actor: str,
    outcome: str,
    rationale: str | None = None,
    conditions: tuple[ActionDraft, ...] = (),
) -> RequestDecided | RequestAlreadyDecided | StageRefused:
    with world.services.sessions.begin() as session:
        return decide_request(
            session,
            actor=actor,
            request_id=request_id,
            outcome=outcome,
            rationale=rationale,
            admins={ADMIN},
            now=NOW + timedelta(hours=2),
            conditions=conditions,
        )


def test_a_gate_asked_by_the_pm_waits_on_its_approvers(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    assert asked.approvers == {SPONSOR, APPROVER}
    assert asked.request.from_phase == "planning" and asked.request.to_phase == "execution"
    with staged.services.sessions.begin() as session:
        outbox = session.execute(text("SELECT kind, target FROM deliveries ORDER BY target")).all()
        changes = audit.project_changes(session, _atlas_id(staged))
    assert [(k, t) for k, t in outbox] == [
        (DeliveryKind.STAGE_REQUEST.value, f"{APPROVER}:request:{asked.request.id}"),
        (DeliveryKind.STAGE_REQUEST.value, f"{SPONSOR}:request:{asked.request.id}"),
    ]
    assert changes[0].action == "gate_requested"


def test_only_the_pm_a_delegate_or_an_admin_may_ask(staged: World) -> None:
    assert _gate(staged, actor=STRANGER) == StageRefused("not_allowed")
    with staged.services.sessions.begin() as session:
        assert may_ask(session, SPONSOR, "atlas", RequestKind.GATE, admins={ADMIN}) == StageRefused(
            "not_allowed"
        )
        assert not isinstance(
            may_ask(session, ADMIN, "atlas", RequestKind.GATE, admins={ADMIN}), StageRefused
        )


def test_a_mandatory_item_unticked_or_a_missing_link_is_refused_and_nothing_recorded(
    staged: World,
) -> None:
    assert _gate(staged, ticked=()) == StageRefused("invalid", (("item.1", "mandatory"),))
    assert _gate(staged, links={}) == StageRefused("invalid", (("item.1.link", "required"),))
    assert _gate(staged, links={PLAN: "wiki/plan"}) == StageRefused(
        "invalid", (("item.1.link", "invalid"),)
    )
    with staged.services.sessions.begin() as session:
        assert stages.requests_of(session) == []


def test_one_gate_waits_at_a_time_and_a_stale_modal_is_refused(staged: World) -> None:
    first = _gate(staged)
    assert isinstance(first, Requested)
    again = _gate(staged)
    assert isinstance(again, StageRefused) and again.reason == "pending"
    assert again.pending is not None and again.pending.id == first.request.id
    assert _gate(staged, phase="initiation") == StageRefused("pending", pending=first.request)


def test_a_modal_opened_in_a_phase_the_project_has_left_is_refused(staged: World) -> None:
    """The gate modal says the phase it was opened in; asked from another, nothing is asked."""
    assert _gate(staged, phase="initiation") == StageRefused("changed")
    with staged.services.sessions.begin() as session:
        assert stages.requests_of(session) == []


def test_a_delegate_may_ask_a_stranger_may_not(world: World) -> None:
    world.load(
        PORTFOLIO.replace(
            "    phase: planning", f"    phase: planning\n    delegates: [{DELEGATE}]"
        )
    )
    assert _gate(world, actor=STRANGER) == StageRefused("not_allowed")
    asked = _gate(world, actor=DELEGATE)
    assert isinstance(asked, Requested) and asked.request.requested_by == DELEGATE


def test_a_gate_whose_project_moved_on_is_withdrawn_when_decided(staged: World) -> None:
    """Withdrawn at the click when nothing withdrew it before (the project's phase written
    without the import's sweep): audited once, and the approver told so."""
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    with staged.services.sessions.begin() as session:
        stages.set_stage_fields(
            session, _atlas_id(staged), at=NOW, phase="execution", fields=["phase"]
        )
    assert _decide(staged, asked.request.id, SPONSOR, "approved") == StageRefused("withdrawn")
    assert _decide(staged, asked.request.id, APPROVER, "approved") == StageRefused("withdrawn")
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session)
        changes = audit.project_changes(session, _atlas_id(staged))
    assert request.state is RequestState.WITHDRAWN and request.decision_id is None
    (withdrawn,) = [e for e in changes if e.action == "request_withdrawn"]
    assert withdrawn.changes["why"] == [None, "phase"]


def test_the_audit_says_the_phase_left_even_when_it_was_the_first_by_default(
    world: World,
) -> None:
    world.load(PORTFOLIO.replace("    phase: planning\n", ""))  # in initiation, implicitly
    asked = _gate(world, phase="initiation", ticked=())
    assert isinstance(asked, Requested)
    assert isinstance(_decide(world, asked.request.id, ADMIN, "approved"), RequestDecided)
    with world.services.sessions.begin() as session:
        changes = audit.project_changes(session, _atlas_id(world))
    (moved,) = [e for e in changes if e.action == "project_updated"]
    assert moved.changes["phase"] == ["initiation", "planning"]


def test_approval_moves_the_phase_and_records_the_baseline(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    decided = _decide(staged, asked.request.id, SPONSOR, "approved")
    assert isinstance(decided, RequestDecided)
    assert decided.request.state is RequestState.DECIDED
    assert decided.decision.kind is DecisionKind.GATE
    assert decided.decision.question == "planning → execution"
    assert decided.baseline is not None
    assert decided.baseline.number == 1
    assert decided.baseline.budget == Decimal("1000000.00")
    assert decided.baseline.end == date(2026, 12, 31)
    assert decided.baseline.milestones == (("Design signed off", date(2026, 3, 1)),)
    with staged.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None and atlas.phase == "execution"
        actions = [e.action for e in audit.project_changes(session, atlas.id)]
        # a gate decision is a decision record, but never the project's ask
        assert decisions.latest(session, atlas.id) is None
    assert {"gate_decided", "project_updated", "baseline_recorded"} <= set(actions)


def test_a_confidential_projects_gate_is_asked_only_of_approvers_who_may_see_it(
    world: World,
) -> None:
    """The process names APPROVER for every planning gate; ATLAS is confidential and does not
    name them: they are neither asked nor allowed to decide, its sponsor is."""
    secret = "    phase: planning\n    confidential: true"
    world.load(PORTFOLIO.replace("    phase: planning", secret))
    asked = _gate(world)
    assert isinstance(asked, Requested) and asked.approvers == {SPONSOR}
    with world.services.sessions.begin() as session:
        queued = deliveries.list_deliveries(session, kind=DeliveryKind.STAGE_REQUEST)
    assert [d.payload["user"] for d in queued] == [SPONSOR]
    assert _decide(world, asked.request.id, APPROVER, "approved") == StageRefused("not_allowed")
    assert isinstance(_decide(world, asked.request.id, SPONSOR, "approved"), RequestDecided)


def test_a_request_is_decided_once_and_only_by_its_approvers(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    assert _decide(staged, asked.request.id, STRANGER, "approved") == StageRefused("not_allowed")
    assert _decide(staged, asked.request.id, PM, "approved") == StageRefused("not_allowed")
    rejected = _decide(staged, asked.request.id, APPROVER, "rejected", rationale="Not yet")
    assert isinstance(rejected, RequestDecided)
    second = _decide(staged, asked.request.id, SPONSOR, "approved")
    assert isinstance(second, RequestAlreadyDecided) and second.request.decided_by == APPROVER
    with staged.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None and atlas.phase == "planning"  # rejected: it stays
        assert stages.baselines_of(session, [atlas.id]) == []


def test_rejecting_needs_a_rationale_and_conditions_need_an_owner(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    assert _decide(staged, asked.request.id, SPONSOR, "rejected") == StageRefused(
        "invalid", (("rationale", "required"),)
    )
    assert _decide(staged, asked.request.id, SPONSOR, "approved_with_conditions") == StageRefused(
        "invalid", (("action.1.title", "required"),)
    )
    condition = ActionDraft("Hire a test lead", None, "2026-12-01")
    assert _decide(
        staged, asked.request.id, SPONSOR, "approved_with_conditions", conditions=(condition,)
    ) == StageRefused("invalid", (("action.1.owner", "required"),))
    decided = _decide(
        staged,
        asked.request.id,
        SPONSOR,
        "approved_with_conditions",
        conditions=(ActionDraft("Hire a test lead", PM, "2026-12-01"),),
    )
    assert isinstance(decided, RequestDecided)
    assert [(a.title, a.owner) for a in decided.actions] == [("Hire a test lead", PM)]
    assert decided.request.outcome == "approved_with_conditions"


def test_a_mandatory_item_the_process_added_since_blocks_approval(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    staged.load(
        PORTFOLIO.replace(
            '        - {name: "Lessons reviewed", mandatory: false}',
            '        - {name: "Lessons reviewed", mandatory: true}',
        )
    )
    assert _decide(staged, asked.request.id, SPONSOR, "approved") == StageRefused(
        "mandatory", (("item", "Lessons reviewed"),)
    )
    # it may still be rejected, and stays pending meanwhile
    with staged.services.sessions.begin() as session:
        assert stages.pending_request(session, _atlas_id(staged), RequestKind.GATE) is not None


def _change(
    world: World,
    changes: tuple[str, ...] = ("schedule", "cost"),
    new_end: str = "2027-03-31",
    new_budget: str = "1250000",
    reason: str = "The data migration doubled in size",
) -> Requested | StageRefused:
    with world.services.sessions.begin() as session:
        return request_change(
            session,
            actor=PM,
            project_id=_atlas_id(world),
            changes=changes,
            new_end=new_end,
            new_budget=new_budget,
            reason=reason,
            admins={ADMIN},
            now=NOW,
        )


def test_a_change_request_checks_what_it_asks(staged: World) -> None:
    assert _change(staged, changes=(), reason="", new_budget="lots") == StageRefused(
        "invalid",
        (("changes", "required"), ("budget", "invalid"), ("reason", "required")),
    )
    assert _change(staged, new_end="2025-01-01", new_budget="-5") == StageRefused(
        "invalid", (("end", "before_start"), ("budget", "negative"))
    )
    # the figures as Slack's number input sends them, nothing guessed: a French
    # "1 200 000,50" is not read as 120,000,050
    assert _change(staged, new_budget="1 200 000,50") == StageRefused(
        "invalid", (("budget", "invalid"),)
    )
    # a budget is stored in cents: one that rounds to none is none
    assert _change(staged, new_budget="0.004") == StageRefused("invalid", (("budget", "negative"),))
    # a figure given is a change of its kind: tick it, or the approvers approve what they
    # were not told
    assert _change(staged, changes=("scope",)) == StageRefused(
        "invalid", (("end", "unticked"), ("budget", "unticked"))
    )
    # each figure with its tick: asked (a tick without a figure is a change the baseline does
    # not measure, as scope's)
    asked = _change(staged, changes=("schedule", "cost"), new_budget="")
    assert isinstance(asked, Requested)
    assert (asked.request.new_end, asked.request.new_budget) == (date(2027, 3, 31), None)


def test_an_approved_change_rebaselines_keeps_the_previous_and_earned_value_follows(
    staged: World,
) -> None:
    gate = _gate(staged)
    assert isinstance(gate, Requested)
    assert isinstance(_decide(staged, gate.request.id, SPONSOR, "approved"), RequestDecided)
    report = factories.report(period_start=NOW, percent_complete=50, budget_spent=Decimal("600000"))
    with staged.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        before = project_figures(atlas, report, tz=ZoneInfo("UTC"))
    asked = _change(staged)
    assert isinstance(asked, Requested)
    decided = _decide(staged, asked.request.id, APPROVER, "approved")
    assert isinstance(decided, RequestDecided)
    assert decided.decision.kind is DecisionKind.CHANGE
    with staged.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
        assert atlas is not None
        assert atlas.budget == Decimal("1250000.00") and atlas.end == date(2027, 3, 31)
        kept = stages.baselines_of(session, [atlas.id])
        after = project_figures(atlas, report, tz=ZoneInfo("UTC"))
        changed = audit.project_changes(session, atlas.id)
    updated = [e for e in changed if e.action == "project_updated"]
    assert [(b.number, b.source, b.budget) for b in kept] == [
        (1, "gate", Decimal("1000000.00")),
        (2, "change", Decimal("1250000.00")),
    ]
    assert before.bac == Decimal("1000000.00") and after.bac == Decimal("1250000.00")
    assert after.ev == Decimal("625000.00")
    assert updated[0].changes["budget"] == ["1000000.00", "1250000.00"]
    assert updated[0].changes["end"] == ["2026-12-31", "2027-03-31"]


def test_a_gate_the_import_moved_the_project_past_is_withdrawn(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    staged.load(PORTFOLIO.replace("    phase: planning", "    phase: execution"))
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session)
        changes = audit.project_changes(session, _atlas_id(staged))
    assert request.state is RequestState.WITHDRAWN
    (withdrawn,) = [e for e in changes if e.action == "request_withdrawn"]
    assert withdrawn.changes["why"] == [None, "phase"]
    assert _decide(staged, asked.request.id, SPONSOR, "approved") == StageRefused("withdrawn")


def test_a_change_waiting_when_the_project_closes_is_withdrawn(staged: World) -> None:
    asked = _change(staged)
    assert isinstance(asked, Requested)
    closed = close_project(
        staged.services,
        actor=ADMIN,
        private_metadata=metadata(_atlas_id(staged), "en"),
        summary="Delivered.",
        lessons="Gate early.",
    )
    assert isinstance(closed, Closed)
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session)
    assert request.state is RequestState.WITHDRAWN
    assert _decide(staged, asked.request.id, SPONSOR, "approved") == StageRefused("withdrawn")


def test_a_gate_waiting_when_the_project_modal_closes_it_is_withdrawn(staged: World) -> None:
    """Closed by /pmo project edit (its state set to closed) as by /pmo project close."""
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    with staged.services.sessions.begin() as session:
        atlas = portfolio.find_project(session, "ATLAS")
    assert atlas is not None
    saved = save(staged, atlas, state="closed")
    assert isinstance(saved, ProjectSaved) and saved.action == "closed"
    with staged.services.sessions.begin() as session:
        (request,) = stages.requests_of(session)
        changes = audit.project_changes(session, atlas.id)
    assert request.state is RequestState.WITHDRAWN
    (withdrawn,) = [e for e in changes if e.action == "request_withdrawn"]
    assert withdrawn.changes["why"] == [None, "closed"] and withdrawn.actor == ADMIN


def _withdraw(world: World, request_id: int, actor: str) -> object:
    with world.services.sessions.begin() as session:
        return withdraw_request(
            session,
            actor=actor,
            request_id=request_id,
            admins={ADMIN},
            now=NOW + timedelta(hours=1),
        )


def test_the_asker_side_withdraws_a_waiting_request_and_may_ask_again(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    # an approver (not the PM, a delegate or an admin) or a stranger may not withdraw it
    assert _withdraw(staged, asked.request.id, APPROVER) == StageRefused("not_allowed")
    assert _withdraw(staged, asked.request.id, STRANGER) == StageRefused("not_allowed")
    withdrawn = _withdraw(staged, asked.request.id, PM)
    assert isinstance(withdrawn, StageRequest) and withdrawn.state is RequestState.WITHDRAWN
    assert _withdraw(staged, asked.request.id, PM) == StageRefused("withdrawn")  # once
    # the approver's click is told it is withdrawn; the PM asks afresh at once
    assert _decide(staged, asked.request.id, SPONSOR, "approved") == StageRefused("withdrawn")
    again = _gate(staged)
    assert isinstance(again, Requested) and again.request.id != asked.request.id
    with staged.services.sessions.begin() as session:
        changes = audit.project_changes(session, _atlas_id(staged))
    (entry,) = [e for e in changes if e.action == "request_withdrawn"]
    assert entry.actor == PM and entry.changes["why"] == [None, "asker"]
    # one decided meanwhile stays decided: who decided it is said
    assert isinstance(_decide(staged, again.request.id, SPONSOR, "approved"), RequestDecided)
    late = _withdraw(staged, again.request.id, ADMIN)
    assert isinstance(late, RequestAlreadyDecided) and late.request.decided_by == SPONSOR


def test_a_pending_request_of_a_project_still_in_its_phase_stays(staged: World) -> None:
    asked = _gate(staged)
    assert isinstance(asked, Requested)
    staged.load(PORTFOLIO)  # the same file again: nothing moved
    with staged.services.sessions.begin() as session:
        assert stages.pending_request(session, _atlas_id(staged), RequestKind.GATE) is not None
