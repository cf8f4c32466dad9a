"""Who is a PMO admin right now: PMO_ADMINS, plus those granted with `/pmo admin add`.

Read from the database on every check (one small query), so a grant takes effect at once in
every replica. Every rule of bot/access/permissions.py takes this set.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from bot.services import Services
from storage import audit


def is_admin(user_id: str, admins: Collection[str]) -> bool:
    return user_id in admins


def admins_in(session: Session, configured: frozenset[str]) -> frozenset[str]:
    """The admins now: those configured (PMO_ADMINS) and those granted in Slack."""
    return configured | audit.granted_admins(session)


def current_admins(services: Services) -> frozenset[str]:
    with services.sessions.begin() as session:
        return admins_in(session, services.settings.admins)


def add_admin(services: Services, *, actor: str, user_id: str) -> bool:
    """Grant the PMO admin role (stored; audit "admin_added"); False if they already had it.
    The caller checks that `actor` is an admin."""
    if user_id in services.settings.admins:
        return False
    now = services.clock()
    with services.sessions.begin() as session:
        added = audit.grant_admin(session, user_id, by=actor, at=now)
        if added:
            audit.record(
                session,
                actor=actor,
                at=now,
                action="admin_added",
                changes={"admin": [None, user_id]},
            )
    return added
