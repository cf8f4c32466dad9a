"""A project's gates and change requests as its records tell them (bot/stages/history.py): each
with its decision, its conditions, the baseline it recorded and the one in force before it was
settled (never its own, none before the first)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.stages.history import request_records
from storage.records import (
    Baseline,
    ChangeKind,
    RequestKind,
    RequestState,
    StageRequest,
)
from tests import factories

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def request(
    id: int,
    kind: RequestKind,
    asked: datetime,
    decided: datetime | None = None,
    *,
    state: RequestState | None = None,
    decision_id: int | None = None,
    project_id: int = 1,
) -> StageRequest:
    return StageRequest(
        id=id,
        project_id=project_id,
        kind=kind,
        state=state or (RequestState.DECIDED if decided else RequestState.PENDING),
        requested_by="U0PM00001",
        requested_at=asked,
        changes=(ChangeKind.COST,) if kind is RequestKind.CHANGE else (),
        from_phase="planning" if kind is RequestKind.GATE else None,
        to_phase="execution" if kind is RequestKind.GATE else None,
        decision_id=decision_id,
        outcome="approved" if decided and state is None else None,
        decided_by="U0SPONS001" if decided else None,
        decided_at=decided,
    )


def baseline(number: int, at: datetime, *, request_id: int | None, project_id: int = 1) -> Baseline:
    return Baseline(
        id=number * 10 + project_id,
        project_id=project_id,
        number=number,
        budget=Decimal(1000 * number),
        end=date(2027, number, 1),
        milestones=(),
        source="gate" if number == 1 else "change",
        recorded_by="U0SPONS001",
        recorded_at=at,
        request_id=request_id,
    )


def test_each_request_has_its_own_baseline_and_the_one_in_force_before_it_was_settled() -> None:
    gate = request(1, RequestKind.GATE, T, T + DAY, decision_id=7)
    rejected = request(2, RequestKind.CHANGE, T + 2 * DAY, T + 3 * DAY, decision_id=8)
    approved = request(3, RequestKind.CHANGE, T + 4 * DAY, T + 6 * DAY, decision_id=9)
    waiting = request(4, RequestKind.CHANGE, T + 7 * DAY)
    first = baseline(1, T + DAY, request_id=1)
    # recorded by an admin while the change waited: in force when it was decided
    rebaselined = baseline(2, T + 5 * DAY, request_id=None)
    second = baseline(3, T + 6 * DAY, request_id=3)
    other_project = baseline(1, T, request_id=None, project_id=2)
    decisions = [factories.decision(1, "planning → execution", "decided", id=n) for n in (7, 8, 9)]
    conditions = [
        factories.action(7, "Later", id=2, due_on=date(2026, 4, 2)),
        factories.action(7, "Sooner", id=1, due_on=date(2026, 4, 1)),
        factories.action(8, "Not this one's", id=3),
    ]

    found = request_records(
        [waiting, approved, rejected, gate],
        [second, other_project, rebaselined, first],
        decisions,
        conditions,
    )

    assert [r.request.id for r in found] == [1, 2, 3, 4]  # oldest asked first
    g, r, a, w = found
    assert (g.previous, g.recorded) == (None, first)  # the first gate: nothing before it
    assert g.decision is not None and g.decision.id == 7
    assert [c.title for c in g.conditions] == ["Sooner", "Later"]
    assert (r.previous, r.recorded, [c.title for c in r.conditions]) == (
        first,
        None,
        ["Not this one's"],
    )
    assert (a.previous, a.recorded) == (rebaselined, second)  # never its own
    assert (w.previous, w.recorded, w.decision, w.conditions) == (second, None, None, ())


def test_a_withdrawn_request_is_weighed_against_the_baseline_when_it_was_withdrawn() -> None:
    withdrawn = request(1, RequestKind.GATE, T, T + 2 * DAY, state=RequestState.WITHDRAWN)
    early, late = baseline(1, T + DAY, request_id=None), baseline(2, T + 3 * DAY, request_id=None)
    (found,) = request_records([withdrawn], [late, early])
    assert (found.previous, found.recorded, found.decision) == (early, None, None)
