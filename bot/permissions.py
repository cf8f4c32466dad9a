"""Who may do what. Checked on the server for every action, whatever the payload claims."""

from __future__ import annotations

from collections.abc import Collection

from storage.records import Project


def is_admin(user_id: str, admins: Collection[str]) -> bool:
    return user_id in admins


def can_submit(user_id: str, project: Project, admins: Collection[str]) -> bool:
    """The project's PM, a delegate the portfolio names, or a PMO admin."""
    return user_id == project.pm or user_id in project.delegates or is_admin(user_id, admins)


def can_view(user_id: str, project: Project, admins: Collection[str]) -> bool:
    """Everyone, unless the project is confidential: then its PM, sponsor, delegates, admins."""
    if not project.confidential:
        return True
    return user_id in (project.pm, project.sponsor) or can_submit(user_id, project, admins)
