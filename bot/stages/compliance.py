"""Compliance with the delivery process (issue 17), pure: what the digest, the read model,
`/pmo status`, `/pmo list` and the App Home ask of a project's phase and its stage requests.

* A project **lacks an approved plan** when it is at or past the planning gate's next phase
  (bot.stages.phases.past_planning_gate) while no request to pass the planning gate was
  approved for it (approved, or approved with conditions): the flag "no approved plan"
  (bot/digest/flags.py), raised whatever the project's report (missing, skipped, on hold, not
  started), in the digest, the read model (the App Home) and `/pmo status` alike. Without a
  process, or without a planning gate, none does.
* A request **waits too long** when it is still pending more than WAITING_DAYS after it was
  asked: it needs its approvers' attention (the digest's "Needs your attention", the App
  Home's), whatever the project's report. Who they are is said as the process names them
  (`approvers_named`): the people named and the sponsor by name, the PMO admins as a group (a
  digest does not read them).
* The digest's **phases line** (`phase_counts`): how many projects are in each phase, and how
  many wait at a gate, with how long the oldest has waited (of every open project the digest's
  audience selects, those not started yet included).
* The **edit lock** (`baseline_changes`): past its planning gate, a project's budget and end
  date are its approved baseline; they change only through an approved change request
  (`/pmo change KEY`, bot/stages/requests.py). The project modal refuses any other change of
  them, and the import lists it as a problem unless the project's entry says
  `rebaseline: true` (an admin's explicit re-baselining, audited, its baseline recorded).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.stages.phases import past_planning_gate, phase_of, planning_gate
from bot.stages.requests import APPROVALS, WAITING_DAYS, approvers_of
from storage.records import (
    Process,
    Project,
    ProjectSpec,
    RequestKind,
    RequestState,
    StageRequest,
)

WAITING = timedelta(days=WAITING_DAYS)
BASELINE_FIELDS = ("budget", "end")  # a project's fields its approved baseline holds
ADMINS = "admins"  # stands for every PMO admin where they are not read (a digest)
_TICK = timedelta(microseconds=1)


def lacks_approved_plan(
    project: Project, process: Process, requests: Iterable[StageRequest]
) -> bool:
    """Whether the project is past its planning gate without an approved request to pass it
    (`requests`: the project's, in any state)."""
    gate = planning_gate(process)
    if gate is None or not past_planning_gate(project, process):
        return False
    return not any(
        r.project_id == project.id
        and r.kind is RequestKind.GATE
        and r.state is RequestState.DECIDED
        and r.outcome in APPROVALS
        and r.from_phase == gate.from_phase
        for r in requests
    )


def waits_too_long(request: StageRequest, at: datetime) -> bool:
    """Whether the request is pending, asked more than WAITING_DAYS before `at`."""
    return request.state is RequestState.PENDING and at >= too_long_from(request)


def too_long_from(request: StageRequest) -> datetime:
    """The first instant at which the request, still pending, waits too long."""
    return request.requested_at + WAITING + _TICK


def days_waiting(request: StageRequest, at: datetime) -> int:
    """Whole days since the request was asked, at `at`."""
    return max(0, (at - request.requested_at).days)


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    """A gate or change request pending for too long: how many days, and who may decide it
    (`approvers`: Slack ids; `admins`: the PMO admins too)."""

    request: StageRequest
    days: int
    approvers: tuple[str, ...]
    admins: bool


def approvers_named(
    request: StageRequest, project: Project, process: Process
) -> tuple[tuple[str, ...], bool]:
    """Who may decide the request (bot.stages.requests.approvers_of, the one rule), without
    reading the admins: the people it names (the sponsor included), and whether the PMO
    admins are among them (named, or those it falls to when it names no one today)."""
    found = approvers_of(request, project, process, frozenset({ADMINS}))
    return tuple(sorted(found - {ADMINS})), ADMINS in found


def waiting_requests(
    project: Project, process: Process, requests: Iterable[StageRequest], *, at: datetime
) -> tuple[WaitingRequest, ...]:
    """The project's requests that wait too long at `at`, the gate first."""
    waiting = [
        WaitingRequest(r, days_waiting(r, at), *approvers_named(r, project, process))
        for r in requests
        if r.project_id == project.id and waits_too_long(r, at)
    ]
    return tuple(sorted(waiting, key=lambda w: (w.request.kind is not RequestKind.GATE, w.days)))


@dataclass(frozen=True, slots=True)
class PhaseCounts:
    """The digest's phases line: projects per phase (the process's order, those with none
    left out), those whose phase the process no longer has, and those waiting at a gate with
    the days the oldest has waited."""

    phases: tuple[tuple[str, int], ...]
    unknown: int = 0
    at_gate: int = 0
    oldest_days: int | None = None


def phase_counts(
    projects: Sequence[Project],
    process: Process,
    requests: Iterable[StageRequest],
    *,
    at: datetime,
) -> PhaseCounts | None:
    """How `projects` stand in the process at `at` (`requests`: theirs, any state); None
    without a process."""
    if not process.phases:
        return None
    counts = dict.fromkeys(process.phases, 0)
    unknown = 0
    for project in projects:
        phase = phase_of(project, process)
        if phase is None:
            unknown += 1
        else:
            counts[phase] += 1
    ids = {p.id for p in projects}
    asked = [
        r.requested_at
        for r in requests
        if r.project_id in ids and r.kind is RequestKind.GATE and r.state is RequestState.PENDING
    ]
    oldest = max(0, (at - min(asked)).days) if asked else None
    return PhaseCounts(
        tuple((phase, n) for phase, n in counts.items() if n), unknown, len(asked), oldest
    )


def baseline_changes(project: Project, after: ProjectSpec, process: Process) -> tuple[str, ...]:
    """The baseline fields (of BASELINE_FIELDS) that `after` changes of the stored `project`,
    when the project is past its planning gate (as stored: its phase, the stored process);
    none before it, nor for a portfolio without a process."""
    if not past_planning_gate(project, process):
        return ()
    return tuple(name for name in BASELINE_FIELDS if getattr(project, name) != getattr(after, name))
