"""Erasing a person: their Slack user id replaced by a pseudonym in every record that holds it,
their cached profile and admin grant deleted, their names taken out of the archives (the
record, its summary and its lessons).

Every text and JSON column of every table is searched (so a table added later is covered
without a change here): the rows whose column contains the id are read, the id is replaced
where it stands as an id (alone, or as a mention `<@U…>` / `<@U…|name>`, never inside a longer
id) and the row written back. Primary keys are not rewritten: the only ones that hold user
ids (the profile cache, the admin grants) are deleted instead. The product's rule (who may be
forgotten, the pseudonym) is bot/operations/erasure.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, select, update
from sqlalchemy.orm import Session

from storage.models import AdminRow, ArchiveRow, Base, DeliveryRow, SlackUserRow
from storage.portfolio import projects_changed
from storage.standings import invalidate_all

DELETED = "deleted"  # the key under which `erase_person` counts deleted rows, per table


def erase_person(
    session: Session, user_id: str, *, pseudonym: str, names: Collection[str] = ()
) -> Counter[str]:
    """Replace `user_id` by `pseudonym` everywhere, delete the person's cached profile and
    admin grant, forget their DM channel in the outbox, and replace each of `names` (whole
    words, whatever their case) in the archives. Returns the rows changed per table (and
    deleted, under `table (deleted)`)."""
    changed: Counter[str] = Counter()
    profile = session.get(SlackUserRow, user_id)
    if profile is not None and profile.dm_channel:
        forgot = session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.channel == profile.dm_channel)
            .values(channel=None)
            .execution_options(synchronize_session=False)
        )
        changed[DeliveryRow.__tablename__] += int(getattr(forgot, "rowcount", 0) or 0)
    for row_type in (SlackUserRow, AdminRow):
        gone = session.execute(
            delete(row_type)
            .where(row_type.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(gone, "rowcount", 0) or 0)
        if count:
            changed[f"{row_type.__tablename__} ({DELETED})"] += count
    wanted = [n for n in {n.strip() for n in names} if n]
    if wanted:
        by_name = re.compile(
            r"(?<!\w)(?:"
            + "|".join(re.escape(n) for n in sorted(wanted, key=len, reverse=True))
            + r")(?!\w)",
            re.IGNORECASE,
        )
        for archive in session.scalars(select(ArchiveRow)):
            texts = (archive.markdown, archive.summary, archive.lessons)
            archive.markdown, archive.summary, archive.lessons = (
                by_name.sub(pseudonym, text) for text in texts
            )
            if (archive.markdown, archive.summary, archive.lessons) != texts:
                changed[f"{ArchiveRow.__tablename__} (names)"] += 1
        session.flush()
    as_id = re.compile(
        rf"<@{re.escape(user_id)}(?:\|[^>]*)?>|(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])"
    )
    for table in Base.metadata.sorted_tables:
        changed[table.name] += _replace_in(session, table, user_id, as_id, pseudonym)
    projects_changed(session)  # every process's copy of the projects lapses
    invalidate_all(session)  # and every standing is computed again
    return +changed


def _replace_in(
    session: Session, table: Table, user_id: str, as_id: re.Pattern[str], pseudonym: str
) -> int:
    """Rewrite the rows of `table` whose text or JSON columns hold `user_id`; how many rows."""
    keys = list(table.primary_key.columns)
    columns = [
        c for c in table.columns if not c.primary_key and isinstance(c.type, String | Text | JSON)
    ]
    rewritten: set[tuple[Any, ...]] = set()
    for column in columns:
        holds = cast(column, Text).contains(user_id, autoescape=True)
        for row in session.execute(select(*keys, column).where(holds)).all():
            value = row[-1]
            new = _replaced(value, as_id, pseudonym)
            if new == value:
                continue
            key = tuple(row[: len(keys)])
            where = [column_key == key[i] for i, column_key in enumerate(keys)]
            session.execute(update(table).where(*where).values({column.name: new}))
            rewritten.add(key)
    return len(rewritten)


def _replaced(value: Any, as_id: re.Pattern[str], pseudonym: str) -> Any:
    """`value` with the id replaced in every string it holds (JSON: keys and values)."""
    if isinstance(value, str):
        return as_id.sub(pseudonym, value)
    if isinstance(value, list):
        return [_replaced(v, as_id, pseudonym) for v in value]
    if isinstance(value, dict):
        return {
            _replaced(k, as_id, pseudonym): _replaced(v, as_id, pseudonym) for k, v in value.items()
        }
    return value
