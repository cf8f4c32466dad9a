"""A project's gates and change requests as its records tell them (issue 17, point 5), pure:
what the archive at close (bot/portfolio/archive.py) and the steering pack's Changes sheet
(bot/steering/workbook.py) both show, read by one rule.

Each request comes with its decision record (a gate's or a change's, never an ask), the
conditions that decision set (actions), the baseline its approval recorded, and the baseline
it was weighed against: **the baseline in force before it was settled** — the latest one
recorded before its decision (or its withdrawal), or the latest one of all while it waits,
never its own. That is the honest "previous" end and budget: what an approved change replaced,
what a rejected one was refused against. Before a project's first baseline there is none, and
nothing is made up: the project's own values then are in the audit log (the archive's
Changes section, `/pmo history`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.records import Action, Baseline, Decision, StageRequest


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One gate or change request with what its records say about it."""

    request: StageRequest
    decision: Decision | None = None  # its decision record, once decided
    conditions: tuple[Action, ...] = ()  # the actions its decision set (approved with conditions)
    previous: Baseline | None = None  # the baseline in force before it was settled
    recorded: Baseline | None = None  # the baseline its approval recorded


def request_records(
    requests: Iterable[StageRequest],
    baselines: Iterable[Baseline],
    decisions: Iterable[Decision] = (),
    actions: Iterable[Action] = (),
) -> list[RequestRecord]:
    """Each request (oldest asked first) with its decision, conditions and baselines."""
    by_project: dict[int, list[Baseline]] = {}
    for b in sorted(baselines, key=lambda b: (b.project_id, b.number)):
        by_project.setdefault(b.project_id, []).append(b)
    by_decision = {d.id: d for d in decisions}
    conditions: dict[int, list[Action]] = {}
    for action in actions:
        conditions.setdefault(action.decision_id, []).append(action)
    found = []
    for request in sorted(requests, key=lambda r: (r.requested_at, r.id)):
        own = by_project.get(request.project_id, [])
        recorded = next((b for b in own if b.request_id == request.id), None)
        decision = by_decision.get(request.decision_id) if request.decision_id else None
        found.append(
            RequestRecord(
                request=request,
                decision=decision,
                conditions=tuple(
                    sorted(conditions.get(decision.id, ()), key=lambda a: (a.due_on, a.id))
                )
                if decision is not None
                else (),
                previous=_in_force(request, own, recorded),
                recorded=recorded,
            )
        )
    return found


def _in_force(
    request: StageRequest, baselines: Sequence[Baseline], recorded: Baseline | None
) -> Baseline | None:
    """The latest of the project's baselines (by number) recorded before `request` was settled
    (any, while it waits), and before the one it recorded, if it did."""
    before = [
        b
        for b in baselines
        if b is not recorded
        and (recorded is None or b.number < recorded.number)
        and (request.decided_at is None or b.recorded_at <= request.decided_at)
    ]
    return before[-1] if before else None
