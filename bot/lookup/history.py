"""`/pmo history`: a project's last reports and its recorded changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from storage import audit, reports
from storage.audit import AuditEntry
from storage.records import Project, Report


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    changes: tuple[Change, ...]


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):  # roles: `accountable: U1; responsible: U2, U3`
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items() if v not in (None, []))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes_of(entry: AuditEntry) -> HistoryEntry:
    """An audit entry as people read it: each changed field with its value before and after."""
    changes = []
    for name, value in sorted(entry.changes.items()):
        if isinstance(value, list | tuple) and len(value) == 2:
            before, after = value
        else:
            before, after = None, value
        changes.append(Change(str(name), _shown(before), _shown(after)))
    return HistoryEntry(entry.at, entry.actor, entry.action, tuple(changes))


@dataclass(frozen=True, slots=True)
class History:
    project: Project
    reports: list[Report]
    changes: list[HistoryEntry]


def project_history(session: Session, project: Project, *, periods: int, changes: int) -> History:
    """The last `periods` reports of a project, newest first, and its latest changes."""
    found = reports.latest_reports(session, [project.id], per_project=periods)[project.id]
    log = audit.project_changes(session, project.id, limit=changes)
    return History(project, found, [changes_of(e) for e in log])
