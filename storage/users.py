"""Cache of Slack users (timezone, locale, display name, DM channel)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.bulk import among_texts
from storage.models import ProjectRow, SlackUserRow, plain
from storage.records import ProjectState, SlackUser
from storage.standings import invalidate_managed_by
from storage.upsert import ROWS_PER_STATEMENT, insert_for


def _to_user(row: Any) -> SlackUser:
    return SlackUser(
        user_id=row.user_id,
        tz=row.tz,
        locale=row.locale,
        name=row.name,
        dm_channel=row.dm_channel,
        fetched_at=row.fetched_at,
    )


def find_users(session: Session, user_ids: Collection[str]) -> dict[str, SlackUser]:
    """The cached users among `user_ids`, in one statement with one parameter whatever their
    number (`among_texts`: an IN list of thousands of ids costs more to build than to run),
    read as plain rows."""
    if not user_ids:
        return {}
    query = plain(SlackUserRow).where(among_texts(session, SlackUserRow.user_id, user_ids))
    return {row.user_id: _to_user(row) for row in session.execute(query)}


def managers_fetched_before(session: Session, cutoff: datetime) -> list[str]:
    """The cached profiles fetched at or before `cutoff` of people who manage an active
    project, in one statement on the `fetched_at` index: whose profiles a tick refreshes
    (a manager not cached at all has a project planning looks at already)."""
    manages = (
        select(ProjectRow.id)
        .where(ProjectRow.pm_id == SlackUserRow.user_id)
        .where(ProjectRow.state == ProjectState.ACTIVE.value)
    )
    query = (
        select(SlackUserRow.user_id)
        .where(SlackUserRow.fetched_at <= cutoff)
        .where(manages.exists())
        .order_by(SlackUserRow.user_id)
    )
    return list(session.scalars(query))


def save_user(session: Session, user: SlackUser) -> None:
    """Insert or refresh a cached user (keeps a known DM channel when the new one is unknown)."""
    save_users(session, [user])


def save_users(session: Session, batch: Sequence[SlackUser]) -> None:
    """Insert or refresh cached users in one statement (a known DM channel is kept when the
    new entry does not know it)."""
    for start in range(0, len(batch), ROWS_PER_STATEMENT):
        _save_chunk(session, batch[start : start + ROWS_PER_STATEMENT])


def _save_chunk(session: Session, batch: Sequence[SlackUser]) -> None:
    table = SlackUserRow.__table__
    known = find_users(session, [user.user_id for user in batch])
    moved = [  # a person's timezone sets their projects' periods: the read model rests on it
        u.user_id for u in batch if (known[u.user_id].tz if u.user_id in known else None) != u.tz
    ]
    invalidate_managed_by(session, moved)
    insert = insert_for(session, table).values(
        [
            {
                "user_id": user.user_id,
                "tz": user.tz,
                "locale": user.locale,
                "name": user.name,
                "dm_channel": user.dm_channel,
                "fetched_at": user.fetched_at,
            }
            for user in batch
        ]
    )
    updates = {
        "tz": insert.excluded.tz,
        "locale": insert.excluded.locale,
        "name": insert.excluded.name,
        "fetched_at": insert.excluded.fetched_at,
        "dm_channel": func.coalesce(insert.excluded.dm_channel, table.c.dm_channel),
    }
    session.execute(insert.on_conflict_do_update(index_elements=["user_id"], set_=updates))


def set_dm_channel(session: Session, user_id: str, channel: str, *, stale_since: datetime) -> None:
    """Remember a user's DM channel in one statement (a user not cached yet is inserted with
    `fetched_at=stale_since`, so their profile is still fetched)."""
    table = SlackUserRow.__table__
    insert = insert_for(session, table).values(
        user_id=user_id, dm_channel=channel, fetched_at=stale_since
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["user_id"], set_={"dm_channel": insert.excluded.dm_channel}
        )
    )


def purge_fetched_before(session: Session, before: datetime) -> int:
    """Forget the cached profiles last fetched from Slack before `before` (nobody the bot
    has needed since: the managers of active projects are fetched again every day). Such a
    person is asked of Slack again if they are ever needed. Returns how many."""
    result = session.execute(
        delete(SlackUserRow)
        .where(SlackUserRow.fetched_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
