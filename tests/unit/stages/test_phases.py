"""A project's phase and its next gate (bot/stages/phases.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.stages.phases import approvers, next_gate, phase_moved, phase_of
from storage.records import Gate, Process, Roles
from tests import factories

GATE = Gate("planning", "execution", approvers=("admins",))
PROCESS = Process(("initiation", "planning", "execution"), (GATE,))


@pytest.mark.parametrize(
    ("phase", "process", "expected", "gate"),
    [
        (None, PROCESS, "initiation", None),  # the first by default; no gate out of it
        ("planning", PROCESS, "planning", GATE),
        ("execution", PROCESS, "execution", None),
        ("build", PROCESS, None, None),  # a phase the process no longer has
        ("planning", Process(), None, None),  # no process: no phase for anyone
    ],
)
def test_a_projects_phase_is_its_own_else_the_first(
    phase: str | None, process: Process, expected: str | None, gate: Gate | None
) -> None:
    project = factories.project(phase=phase)
    assert phase_of(project, process) == expected
    assert next_gate(project, process) == gate


CFO, OUTSIDER, ADMIN = "U0CFO00001", "U0OUTSIDE1", "U0ADMIN001"


def test_approvers_are_the_sponsor_the_admins_and_those_named() -> None:
    project = factories.project(sponsor="U0SPONSOR1")
    assert approvers(("sponsor", CFO), project, {ADMIN}) == {"U0SPONSOR1", CFO}
    assert approvers(("admins",), project, {ADMIN}) == {ADMIN}
    # never nobody: a sponsorless project's sponsor falls to the admins
    assert approvers(("sponsor",), factories.project(sponsor=None), {ADMIN}) == {ADMIN}


def test_a_confidential_project_is_approved_only_by_those_it_names() -> None:
    """The process names its CFO as an approver of every planning gate; a confidential
    project that does not name them is not shown to them: its other approvers decide, and
    when none is left, the admins."""
    secret = factories.project(confidential=True, sponsor="U0SPONSOR1")
    assert approvers(("sponsor", OUTSIDER), secret, {ADMIN}) == {"U0SPONSOR1"}
    assert approvers((OUTSIDER,), secret, {ADMIN}) == {ADMIN}
    told = replace(secret, roles=Roles(consulted=(CFO,)))
    assert approvers((CFO, OUTSIDER), told, {ADMIN}) == {CFO}
    assert approvers((OUTSIDER,), replace(secret, confidential=False), {ADMIN}) == {OUTSIDER}


def test_the_phase_a_file_gives_a_stored_project() -> None:
    stored = factories.project(phase="planning")
    spec = factories.project_spec(phase="planning")
    assert phase_moved(stored, spec, PROCESS) is None
    assert phase_moved(stored, replace(spec, phase="execution"), PROCESS) == (
        "planning",
        "execution",
    )
    assert phase_moved(stored, replace(spec, phase=None), PROCESS) == ("planning", "initiation")
    assert phase_moved(factories.project(phase=None), replace(spec, phase=None), PROCESS) is None
    assert phase_moved(stored, spec, Process()) is None  # no process: no phase
