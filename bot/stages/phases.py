"""A project's phase in the delivery process (issue 17), pure: the one rule every surface asks.

A project's phase is the one it names, else the process's first; without a process (the
portfolio describes none) a project has no phase, and nothing changes for anyone. A phase the
process no longer has (the file changed it since) reads as unknown: None.
"""

from __future__ import annotations

from storage.records import Gate, Process, Project


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
