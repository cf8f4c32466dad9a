"""Forgetting a person (`pmo-bot forget-user U…`): who may be forgotten, and under what name
their history is kept.

A person who still has a role in an open project (PM, sponsor or delegate of an active or
on-hold project) or in the delivery process (an approver the portfolio file names for a gate)
is refused, with the list of those roles: the projects, or the process, must be reassigned
first, or the bot would keep asking someone it no longer knows (and a process naming a
pseudonym would not import again). Otherwise their Slack id is replaced everywhere by a
pseudonym, the same in every record ("former member 3f9a1c"), so the history still reads as one
person's without saying whose: reports, decisions and actions, the gates and change requests
they asked or decided (and any mention of them in their reasons, notes and checklists), the
baselines they recorded, the audit log. Their cached profile and admin grant are deleted and
their names (the cached display name, and any given) taken out of the archives
(storage/erasure.py does the rewriting). The erasure itself is audited, under the pseudonym.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.portfolio.archive import inline
from bot.slack.user_ids import is_user_id, new_pseudonym
from storage import audit, erasure, portfolio, users
from storage.records import OPEN_STATES

ACTOR = "command line"  # who the audit log says erased the person


class StillNeededError(Exception):
    """The person still has roles in open projects (each in `roles`, e.g. "PM of ATLAS")."""

    def __init__(self, roles: list[str]) -> None:
        super().__init__(", ".join(roles))
        self.roles = roles


class NameUnknownError(Exception):
    """No name of the person is known (their cached profile is gone) and none was given: the
    archives, which name people, could keep it. Give one, or say to go on without."""


@dataclass(frozen=True, slots=True)
class Forgotten:
    pseudonym: str
    changed: Counter[str]  # rows changed per table (storage.erasure.erase_person)
    names: tuple[str, ...] = ()  # the names taken out of the archives (none known: none)


def open_roles(session: Session, user_id: str) -> list[str]:
    """The person's roles in open projects, by project key, then as an approver the delivery
    process names for a gate: what keeps them from being forgotten."""
    roles: list[str] = []
    for project in portfolio.list_projects(session, states=OPEN_STATES):
        if project.pm == user_id:
            roles.append(f"PM of {project.key}")
        if project.sponsor == user_id:
            roles.append(f"sponsor of {project.key}")
        if user_id in project.delegates:
            roles.append(f"delegate of {project.key}")
    for gate in portfolio.load_process(session).gates:
        if user_id in gate.approvers:
            roles.append(f"approver of the gate {gate.from_phase} → {gate.to_phase}")
    return roles


def forget_person(
    sessions: sessionmaker[Session],
    user_id: str,
    *,
    now: datetime,
    names: Collection[str] = (),
    without_name: bool = False,
) -> Forgotten:
    """Erase `user_id` (a Slack user id; ValueError otherwise) in one transaction; nothing
    changes on StillNeededError (a role in an open project) nor on NameUnknownError (no name
    known nor given, unless `without_name`: a name could stay in the archives, and a later run
    would give the same person a second pseudonym)."""
    if not is_user_id(user_id):
        raise ValueError(f"{user_id!r} is not a Slack user id (like U012ABCDEF)")
    pseudonym = new_pseudonym()
    with sessions.begin() as session:
        roles = open_roles(session, user_id)
        if roles:
            raise StillNeededError(roles)
        cached = users.find_users(session, [user_id]).get(user_id)
        known = [n for n in (*names, cached.name if cached else None) if n and n.strip()]
        if not known and not without_name:
            raise NameUnknownError(user_id)
        # as typed, and as the archive's Markdown writes them (control characters escaped)
        spelled = {form for name in known for form in (name, inline(name))}
        changed = erasure.erase_person(session, user_id, pseudonym=pseudonym, names=spelled)
        if changed:
            audit.record(
                session,
                actor=ACTOR,
                at=now,
                action="person_forgotten",
                changes={"person": [None, pseudonym]},
            )
    return Forgotten(pseudonym=pseudonym, changed=changed, names=tuple(sorted(set(known))))
