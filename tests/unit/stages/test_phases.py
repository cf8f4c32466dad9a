"""A project's phase and its next gate (bot/stages/phases.py)."""

from __future__ import annotations

import pytest

from bot.stages.phases import next_gate, phase_of
from storage.records import Gate, Process
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
