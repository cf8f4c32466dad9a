"""Who may do what. Checked on the server for every action, whatever the payload claims."""

from __future__ import annotations

from collections.abc import Collection

from bot.access.admins import is_admin
from bot.slack.user_ids import is_user_id
from storage.records import Project


def can_submit(user_id: str, project: Project, admins: Collection[str]) -> bool:
    """The project's PM, a delegate the portfolio names, or a PMO admin."""
    return user_id == project.pm or user_id in project.delegates or is_admin(user_id, admins)


def shown_in_channel(project: Project, channel_keys: Collection[str]) -> bool:
    """Whether a project may be shown in a channel, read by everyone in it: a confidential one
    only where the channel's digest subscription names its key (`keys`)."""
    return not project.confidential or project.key in channel_keys


def can_view(user_id: str, project: Project, admins: Collection[str]) -> bool:
    """Everyone, unless the project is confidential: then its PM, sponsor, delegates, admins,
    and everyone its roles (RACI) name: the project itself tells them."""
    if not project.confidential:
        return True
    if user_id in (project.pm, project.sponsor) or can_submit(user_id, project, admins):
        return True
    roles = project.roles
    return roles is not None and (
        user_id == roles.accountable
        or user_id in (*roles.responsible, *roles.consulted, *roles.informed)
    )


def can_remind(user_id: str, project: Project, admins: Collection[str]) -> bool:
    """PMO admins, and the project's sponsor."""
    return is_admin(user_id, admins) or (bool(project.sponsor) and user_id == project.sponsor)


def can_decide(
    user_id: str, project: Project, admins: Collection[str], deciders: Collection[str] = ()
) -> bool:
    """The project's sponsor, PMO admins, and the people a digest subscription covering the
    project names as its deciders (issue 13)."""
    return can_remind(user_id, project, admins) or user_id in deciders


def can_close_action(
    user_id: str, owner: str, decided_by: str | None, admins: Collection[str]
) -> bool:
    """An action's owner, the person who took the decision that set it, and PMO admins."""
    return user_id in (owner, decided_by) or is_admin(user_id, admins)


def kept_informed(project: Project) -> dict[str, str]:
    """Who the project's roles (RACI) name to hear its decisions and its closing, each with
    the role they hear it as: its accountable ("accountable"), then each of its informed
    ("informed"). Slack user ids only (an erased person's pseudonym hears nothing)."""
    roles = project.roles
    if roles is None:
        return {}
    named = [(roles.accountable, "accountable"), *((u, "informed") for u in roles.informed)]
    kept: dict[str, str] = {}
    for user, role in named:
        if user and is_user_id(user):
            kept.setdefault(user, role)
    return kept
