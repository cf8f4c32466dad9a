"""A project's phase in the delivery process (issue 17), pure: the one rule every surface asks.

A project's phase is the one it names, else the process's first; without a process (the
portfolio describes none) a project has no phase, and nothing changes for anyone. A phase the
process no longer has (the file changed it since) reads as unknown: None.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.access.permissions import can_view
from bot.slack.user_ids import is_user_id
from storage.records import Gate, Process, Project, ProjectSpec


def phase_of(project: Project, process: Process) -> str | None:
    """The project's phase, or None without a process."""
    if not process.phases:
        return None
    phase = project.phase if project.phase is not None else process.phases[0]
    return phase if phase in process.phases else None


def next_gate(project: Project, process: Process) -> Gate | None:
    """The gate out of the project's phase, when the process describes one."""
    phase = phase_of(project, process)
    return next((g for g in process.gates if g.from_phase == phase), None)


def phase_moved(project: Project, after: ProjectSpec, process: Process) -> tuple[str, str] | None:
    """The stored project's phase and the one `after` gives it (its own, else the process's
    first), when they differ; None when they do not, or without a process."""
    if not process.phases:
        return None
    before = phase_of(project, process)
    then = after.phase if after.phase is not None else process.phases[0]
    if before is None or before == then:
        return None
    return before, then


PLANNING_PHASE = "planning"  # its gate is the planning gate, unless one says `baseline`
CHANGE_APPROVERS = ("sponsor", "admins")  # a change's, when the process has no planning gate


def planning_gate(process: Process) -> Gate | None:
    """The gate that approves the plan: the one marked `baseline: true`, else the one out of
    the phase named "planning" (any case); None when the process has neither."""
    marked = next((g for g in process.gates if g.baseline), None)
    if marked is not None:
        return marked
    return next((g for g in process.gates if g.from_phase.casefold() == PLANNING_PHASE), None)


def past_planning_gate(project: Project, process: Process) -> bool:
    """Whether the project's phase is at or past the planning gate's next phase: from then
    on its budget and end change only through an approved change request (or an admin's
    explicit `rebaseline`)."""
    gate, phase = planning_gate(process), phase_of(project, process)
    if gate is None or phase is None:
        return False
    return process.phases.index(phase) >= process.phases.index(gate.to_phase)


def approvers(named: Iterable[str], project: Project, admins: Collection[str]) -> frozenset[str]:
    """Who `named` (Slack ids, `sponsor`, `admins`) is for this project today: the sponsor
    when it has one, every current PMO admin, each person named who may see the project (a
    confidential project is shown only to those it names: bot.access.permissions.can_view, so
    the process's approver of every gate is not told of one that keeps them out). Never
    nobody: a list that names no one today (a sponsorless project's "sponsor", a confidential
    one's outsiders) falls to the admins."""
    people: set[str] = set()
    for name in named:
        if name == "sponsor":
            if project.sponsor and is_user_id(project.sponsor):
                people.add(project.sponsor)
        elif name == "admins":
            people.update(admins)
        elif is_user_id(name) and can_view(name, project, admins):
            people.add(name)
    return frozenset(people or admins)


def change_approvers(process: Process) -> tuple[str, ...]:
    """Who approves a change request: the planning gate's approvers, else the sponsor and
    the admins."""
    gate = planning_gate(process)
    return gate.approvers if gate is not None else CHANGE_APPROVERS
