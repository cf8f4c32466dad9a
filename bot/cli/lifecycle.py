"""`pmo-bot purge` and `pmo-bot forget-user`: the data lifecycle from the command line.

The rules are bot/operations/retention.py (what the purge removes, and never) and
bot/operations/erasure.py (who may be forgotten, under what pseudonym); here are the lines a
person reads: what was removed or changed, or one line saying why nothing was (exit status 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.cli.arguments import UsageError
from bot.config import ConfigError, Settings, retention_days_or_error
from bot.operations.erasure import NameUnknownError, StillNeededError, forget_person
from bot.operations.retention import purge


def purge_command(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    older_than: str | None,
    dry_run: bool,
    now: datetime,
    out: TextIO,
) -> int:
    """Remove (or, with `dry_run`, count) what is past the retention: `--older-than DAYS`, or
    PMO_RETENTION_DAYS."""
    days = settings.retention_days
    if older_than is not None:
        try:
            days = retention_days_or_error(older_than.strip(), "--older-than")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    gone = purge(sessions, now=now, days=days, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    print(
        f"{verb} {gone.deliveries} finished deliveries and {gone.profiles} cached Slack profiles "
        f"older than {days} days (before {gone.before:%Y-%m-%d %H:%M} UTC); status reports, "
        "risks, blockers, milestones, skips, the audit log and archives are never purged",
        file=out,
    )
    return 0


def forget_command(
    sessions: sessionmaker[Session],
    settings: Settings,
    user_id: str,
    *,
    names: Sequence[str],
    without_name: bool = False,
    now: datetime,
    out: TextIO,
) -> int:
    """Erase a person, or say in one line why not (their roles in open projects, no name)."""
    try:
        forgotten = forget_person(
            sessions, user_id, now=now, names=names, without_name=without_name
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except NameUnknownError:
        raise UsageError(
            f"no name of {user_id} is known (their cached profile is gone): give the name the "
            'archives may show with --name "Full Name" (as many as needed), or --without-name '
            "to erase their id only; nothing changed"
        ) from None
    except StillNeededError as exc:
        raise UsageError(
            f"{user_id} is still {_listed(exc.roles)}: reassign "
            f"{'it' if len(exc.roles) == 1 else 'them'} first (`/pmo project edit KEY` or the "
            "portfolio file), then run this again; nothing changed"
        ) from None
    if not forgotten.changed:
        print(f"nothing held {user_id}: nothing changed", file=out)
        return 0
    print(f"{user_id} is now {forgotten.pseudonym!r} in every record:", file=out)
    for table, rows in sorted(forgotten.changed.items()):
        print(f"  {table}: {rows} row{'' if rows == 1 else 's'}", file=out)
    if forgotten.names:
        print(f"  names taken out of the archives: {', '.join(forgotten.names)}", file=out)
    if user_id in settings.admins:
        print(f"  note: {user_id} is still in PMO_ADMINS; remove them there too", file=out)
    return 0


def _listed(roles: Sequence[str]) -> str:
    return roles[0] if len(roles) == 1 else f"{', '.join(roles[:-1])} and {roles[-1]}"
