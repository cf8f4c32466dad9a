"""The audit log (who changed what, when) and the admins granted in Slack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.bulk import insert_rows
from storage.models import AdminRow, AuditRow
from storage.upsert import insert_for


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    project_id: int | None
    actor: str  # a Slack user id, or "import"
    at: datetime
    action: str  # created, updated, closed, reopened, admin_added, ...
    changes: Mapping[str, Any]  # field -> [before, after]


@dataclass(frozen=True, slots=True)
class NewAuditEntry:
    """A change to record in bulk (`record_many`), made at its own time."""

    project_id: int | None
    actor: str
    at: datetime
    action: str
    changes: Mapping[str, Any]


def record(
    session: Session,
    *,
    actor: str,
    at: datetime,
    action: str,
    project_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(
            project_id=project_id, actor=actor, at=at, action=action, changes=dict(changes or {})
        )
    )


def record_many(session: Session, entries: Sequence[NewAuditEntry]) -> None:
    """Add audit entries in bulk (storage.bulk): changes made earlier, each at its own time."""
    insert_rows(
        session,
        AuditRow,
        [
            {
                "project_id": entry.project_id,
                "actor": entry.actor,
                "at": entry.at,
                "action": entry.action,
                "changes": dict(entry.changes),
            }
            for entry in entries
        ],
    )


def project_changes(session: Session, project_id: int, *, limit: int = 20) -> list[AuditEntry]:
    """A project's changes, newest first."""
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.project_id == project_id)
        .order_by(AuditRow.at.desc(), AuditRow.id.desc())
        .limit(limit)
    )
    return [
        AuditEntry(r.id, r.project_id, r.actor, r.at, r.action, dict(r.changes or {})) for r in rows
    ]


def granted_admins(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(AdminRow.user_id)))


def grant_admin(session: Session, user_id: str, *, by: str, at: datetime) -> bool:
    """Make `user_id` a PMO admin; False if they already were one (granted in Slack)."""
    statement = (
        insert_for(session, AdminRow.__table__)
        .values(user_id=user_id, granted_by=by, granted_at=at)
        .on_conflict_do_nothing(index_elements=["user_id"])
        .returning(AdminRow.__table__.c.user_id)
    )
    return session.execute(statement).first() is not None


def revoke_admin(session: Session, user_id: str) -> bool:
    """Remove an admin granted in Slack (PMO_ADMINS cannot be removed here)."""
    result = session.execute(delete(AdminRow).where(AdminRow.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))
