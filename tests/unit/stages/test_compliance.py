"""Compliance with the delivery process (bot/stages/compliance.py): the "no approved plan"
rule, a request waiting on its approvers too long and who they are, the phases line."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.stages.compliance import (
    PhaseCounts,
    WaitingRequest,
    approvers_named,
    baseline_changes,
    days_waiting,
    lacks_approved_plan,
    phase_counts,
    too_long_from,
    waiting_requests,
    waits_too_long,
)
from storage.records import (
    ChangeKind,
    Gate,
    Process,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
APPROVER = "U0APPROVE1"
SPONSOR = "U0SPONSOR1"
PLANNING = Gate("planning", "execution", approvers=("sponsor", APPROVER))
PROCESS = Process(
    ("initiation", "planning", "execution", "closing"),
    (Gate("initiation", "planning", approvers=("admins",)), PLANNING),
)


def request(
    kind: RequestKind = RequestKind.GATE,
    state: RequestState = RequestState.PENDING,
    *,
    asked: datetime = NOW - timedelta(days=9),
    project_id: int = 1,
    **kw: Any,
) -> StageRequest:
    gate = {"from_phase": "planning", "to_phase": "execution"} if kind is RequestKind.GATE else {}
    return StageRequest(
        id=kw.pop("id", 1),
        project_id=project_id,
        kind=kind,
        state=state,
        requested_by="U0PM00001",
        requested_at=asked,
        **{**gate, **kw},
    )


def approved(outcome: str = "approved", from_phase: str = "planning") -> StageRequest:
    return request(state=RequestState.DECIDED, outcome=outcome, from_phase=from_phase, to_phase="x")


@pytest.mark.parametrize(
    ("phase", "requests", "lacks"),
    [
        ("execution", [], True),  # in execution, no planning gate ever asked
        ("closing", [], True),  # past it too
        ("planning", [], False),  # not past it yet
        (None, [], False),  # the first phase by default
        ("execution", [approved()], False),
        ("execution", [approved("approved_with_conditions")], False),
        ("execution", [approved("rejected")], True),
        ("execution", [request()], True),  # asked, still pending
        ("execution", [approved(from_phase="initiation")], True),  # another gate's approval
        (
            "execution",
            [request(RequestKind.CHANGE, RequestState.DECIDED, outcome="approved")],
            True,
        ),
    ],
)
def test_a_project_past_the_planning_gate_lacks_a_plan_until_that_gate_is_approved(
    phase: str | None, requests: list[StageRequest], lacks: bool
) -> None:
    assert lacks_approved_plan(factories.project(phase=phase), PROCESS, requests) is lacks


def test_another_projects_approval_does_not_count_and_no_process_flags_nobody() -> None:
    project = factories.project(phase="execution")
    assert lacks_approved_plan(project, PROCESS, [approved()]) is False
    theirs = StageRequest(**{**_fields(approved()), "project_id": 2})
    assert lacks_approved_plan(project, PROCESS, [theirs]) is True
    assert lacks_approved_plan(project, Process(), []) is False
    # without a gate out of "planning" (nor one marked baseline), there is no planning gate
    loose = Process(("a", "b", "c"), (Gate("a", "b", approvers=("admins",)),))
    assert lacks_approved_plan(factories.project(phase="c"), loose, []) is False
    # the gate marked baseline is the planning gate, whatever its phase's name
    marked = Process(("a", "b", "c"), (Gate("a", "b", approvers=("admins",), baseline=True),))
    assert lacks_approved_plan(factories.project(phase="b"), marked, []) is True


def _fields(r: StageRequest) -> dict[str, Any]:
    return {name: getattr(r, name) for name in r.__dataclass_fields__}


def test_a_request_waits_too_long_past_seven_days_while_pending() -> None:
    week = timedelta(days=7)
    assert not waits_too_long(request(asked=NOW - week), NOW)  # exactly a week: not more
    assert waits_too_long(request(asked=NOW - week - timedelta(seconds=1)), NOW)
    assert not waits_too_long(request(RequestKind.GATE, RequestState.DECIDED), NOW)
    assert not waits_too_long(request(RequestKind.GATE, RequestState.WITHDRAWN), NOW)
    asked = request(asked=NOW)
    assert too_long_from(asked) > NOW + week
    assert not waits_too_long(asked, too_long_from(asked) - timedelta(microseconds=1))
    assert waits_too_long(asked, too_long_from(asked))
    assert days_waiting(request(asked=NOW - timedelta(days=9, hours=5)), NOW) == 9
    assert days_waiting(request(asked=NOW + timedelta(hours=1)), NOW) == 0


def test_who_may_decide_is_said_as_the_process_names_them_the_admins_as_a_group() -> None:
    project = factories.project(phase="planning", sponsor=SPONSOR)
    assert approvers_named(request(), project, PROCESS) == ((APPROVER, SPONSOR), False)
    first = request(from_phase="initiation", to_phase="planning")
    assert approvers_named(first, project, PROCESS) == ((), True)
    # a change: the planning gate's approvers
    change = request(RequestKind.CHANGE, changes=(ChangeKind.COST,))
    assert approvers_named(change, project, PROCESS) == ((APPROVER, SPONSOR), False)
    # a sponsorless project whose gate names only the sponsor falls to the admins
    alone = Process(PROCESS.phases, (Gate("planning", "execution", approvers=("sponsor",)),))
    assert approvers_named(request(), factories.project(), alone) == ((), True)
    # without a planning gate, a change is the sponsor's and the admins'
    bare = Process(PROCESS.phases)
    assert approvers_named(change, project, bare) == ((SPONSOR,), True)


def test_the_waiting_requests_of_a_project_gate_first() -> None:
    project = factories.project(phase="planning", sponsor=SPONSOR)
    gate = request(asked=NOW - timedelta(days=8), id=1)
    change = request(RequestKind.CHANGE, asked=NOW - timedelta(days=20), id=2)
    fresh = request(RequestKind.CHANGE, asked=NOW - timedelta(days=2), id=3)
    other = request(asked=NOW - timedelta(days=30), id=4, project_id=2)
    found = waiting_requests(project, PROCESS, [change, fresh, gate, other], at=NOW)
    assert found == (
        WaitingRequest(gate, 8, (APPROVER, SPONSOR), False),
        WaitingRequest(change, 20, (APPROVER, SPONSOR), False),
    )


def test_the_phases_line_counts_projects_per_phase_and_those_waiting_at_a_gate() -> None:
    projects = [
        factories.project("A", id=1),  # initiation, by default
        factories.project("B", id=2, phase="planning"),
        factories.project("C", id=3, phase="planning"),
        factories.project("D", id=4, phase="execution"),
        factories.project("E", id=5, phase="build"),  # the process no longer has it
    ]
    requests = [
        request(project_id=2, asked=NOW - timedelta(days=9, hours=1)),
        request(project_id=3, asked=NOW - timedelta(days=2)),
        request(RequestKind.CHANGE, project_id=4, asked=NOW - timedelta(days=40)),  # not a gate
        request(RequestKind.GATE, RequestState.DECIDED, project_id=1, asked=NOW),
        request(project_id=9, asked=NOW - timedelta(days=99)),  # not among these projects
    ]
    assert phase_counts(projects, PROCESS, requests, at=NOW) == PhaseCounts(
        (("initiation", 1), ("planning", 2), ("execution", 1)), 1, 2, 9
    )
    assert phase_counts(projects, PROCESS, [], at=NOW) == PhaseCounts(
        (("initiation", 1), ("planning", 2), ("execution", 1)), 1, 0, None
    )
    assert phase_counts(projects, Process(), requests, at=NOW) is None


def test_past_the_planning_gate_a_change_of_budget_or_end_is_a_baseline_change() -> None:
    stored = factories.project(phase="execution", budget=Decimal(1000), end=date(2027, 6, 30))
    same = factories.project_spec(phase="execution", budget=Decimal("1000.00"), end=stored.end)
    assert baseline_changes(stored, same, PROCESS) == ()
    both = replace(same, budget=Decimal(1200), end=date(2027, 9, 30), name="Renamed")
    assert baseline_changes(stored, both, PROCESS) == ("budget", "end")
    assert baseline_changes(stored, replace(same, budget=None), PROCESS) == ("budget",)
    # before the gate, or without a process: nothing is locked
    planning = replace(stored, phase="planning")
    assert baseline_changes(planning, both, PROCESS) == ()
    assert baseline_changes(stored, both, Process()) == ()
    # the stored phase decides, not the one the change says
    assert baseline_changes(stored, replace(both, phase="planning"), PROCESS) == ("budget", "end")
