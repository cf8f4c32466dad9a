"""The read model's rows (project_standings): reading them, storing what was recomputed, and
invalidating them from every write they rest on. What a standing means and how it is computed
is the product's business (bot/overview/standings.py); here is only how it is kept.

Invalidation is one statement that creates the row if it is missing, bumps its `generation`
and clears `valid_until`, in the transaction of the write itself: a reader never trusts a
standing older than a write it depends on. Storing is a compare-and-set on the generation the
reader saw before it read anything else, so a standing computed from data a concurrent write
has since replaced is never stored over that write's invalidation."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.bulk import among
from storage.models import (
    EpochMicros,
    ProjectRow,
    ReportRow,
    StandingRow,
    VersionRow,
    as_python_orders,
    from_epoch_micros,
)
from storage.records import Standing
from storage.upsert import ROWS_PER_STATEMENT, insert_for

_FIELDS = tuple(f for f in Standing.__slots__ if f not in ("project_id", "generation"))


_TABLE = cast(Table, StandingRow.__table__)
_COLUMNS = [_TABLE.c[name] for name in Standing.__slots__]  # in the record's order
# Read as stored (instants as integers, converted by _standing): SQLAlchemy's per-value result
# processing costs more than the query when thousands are read per click.
_RAW = [
    type_coerce(column, BigInteger()) if isinstance(column.type, EpochMicros) else column
    for column in _COLUMNS
]
_INSTANTS = tuple(i for i, c in enumerate(_COLUMNS) if isinstance(c.type, EpochMicros))


def _standing(row: Sequence[Any]) -> Standing:
    values = list(row)
    for index in _INSTANTS:
        values[index] = from_epoch_micros(values[index])
    return Standing(*values)


def find_standings(session: Session, project_ids: Collection[int]) -> dict[int, Standing]:
    """The stored standings of these projects (a project without a row is left out). Many
    are read as the whole table, filtered here (cheaper than thousands of bound ids)."""
    ids = set(project_ids)
    if not ids:
        return {}
    if len(ids) > WHOLE_TABLE_AT:
        rows = session.connection().execute(select(*_RAW)).all()
        return {row[0]: _standing(row) for row in rows if row[0] in ids}
    found: dict[int, Standing] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), ROWS_PER_STATEMENT * 4):
        chunk = ordered[start : start + ROWS_PER_STATEMENT * 4]
        query = select(*_RAW).where(_TABLE.c.project_id.in_(chunk))
        rows = session.connection().execute(query).all()
        found.update((row[0], _standing(row)) for row in rows)
    return found


WHOLE_TABLE_AT = 500  # standings asked for, from which the whole table is read


def store_standings(session: Session, standings: Sequence[Standing]) -> None:
    """Store recomputed standings, each only if its row's generation is still the one it
    carries (a project without a row gets one, unless a write created it meanwhile), in one
    upsert per chunk, in project order (concurrent readers lock rows in the same order)."""
    ordered = sorted(standings, key=lambda s: s.project_id)
    for start in range(0, len(ordered), ROWS_PER_STATEMENT):
        insert = insert_for(session, _TABLE).values(
            [asdict(s) for s in ordered[start : start + ROWS_PER_STATEMENT]]
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["project_id"],
                set_={name: insert.excluded[name] for name in _FIELDS},
                where=_TABLE.c.generation == insert.excluded.generation,
            )
        )


def invalidate(session: Session, project_ids: Collection[int]) -> None:
    """A write these projects' standings rest on: recompute them (creates missing rows)."""
    ids = sorted(set(project_ids))
    table = StandingRow.__table__
    for start in range(0, len(ids), ROWS_PER_STATEMENT):
        insert = insert_for(session, table).values(
            [
                {"project_id": pid, "generation": 1, "planned": False}
                for pid in ids[start : start + ROWS_PER_STATEMENT]
            ]
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["project_id"],
                set_={
                    "generation": table.c.generation + 1,
                    "valid_until": None,
                    "due_at": None,
                    "planned": False,
                },
            )
        )


def invalidate_short_handed(session: Session) -> None:
    """A write to what the plan's loads rest on (projects' allocations, dates, states; the
    people): recompute the standings whose latest report says the team is short, the only ones
    whose "capacity on paper only" flag it may change (one statement)."""
    short = select(ReportRow.id).where(ReportRow.capacity_pulse == "short")
    session.execute(
        update(StandingRow)
        .where(StandingRow.report_id.in_(short))
        .values(generation=StandingRow.generation + 1, valid_until=None, due_at=None, planned=False)
        .execution_options(synchronize_session=False)
    )


def invalidate_all(session: Session) -> None:
    """A write every standing rests on (the portfolio's holidays or working hours)."""
    session.execute(
        update(StandingRow)
        .values(generation=StandingRow.generation + 1, valid_until=None, due_at=None, planned=False)
        .execution_options(synchronize_session=False)
    )


def invalidate_managed_by(session: Session, people: Collection[str]) -> None:
    """A write that changes these people's timezones: the standings of the projects they
    manage."""
    if not people:
        return
    managed = select(ProjectRow.id).where(ProjectRow.pm_id.in_(sorted(set(people))))
    invalidate(session, list(session.scalars(managed)))


def expired_standings(session: Session, *, at: datetime, limit: int) -> list[int]:
    """Projects whose standing is to recompute at `at` (invalidated, or its time has come),
    oldest deadline first, at most `limit`: what the tick refreshes ahead of readers."""
    query = (
        select(StandingRow.project_id)
        .where(
            StandingRow.valid_until.is_(None)
            | (StandingRow.valid_until <= at)
            | StandingRow.due_at.is_(None)
        )
        .order_by(StandingRow.valid_until.is_not(None), StandingRow.valid_until)
        .limit(limit)
    )
    return list(session.scalars(query))


def due_projects(session: Session, *, at: datetime) -> dict[int, int]:
    """The projects planning must look at, at `at` (the caller keeps the active ones), with
    their standing's generation: those whose standing says something is due (`due_at`
    reached), and those written since planning last looked at them (`planned` false: every
    project has a row, its first write creates it). One statement on two indexes: what the
    tick costs follows what is due, not the size of the portfolio."""
    query = (
        select(StandingRow.project_id, StandingRow.generation)
        .where(
            StandingRow.due_at.is_(None)
            | (StandingRow.due_at <= at)
            | (StandingRow.planned == false())
        )
        .order_by(StandingRow.project_id)
    )
    return {row.project_id: row.generation for row in session.execute(query)}


def mark_planned(session: Session, seen: Mapping[int, int]) -> None:
    """Planning looked at these projects, their standings at these generations: each is
    marked, unless a write moved its generation since (then it is due again)."""
    if not seen:
        return
    session.connection().execute(  # Core: one UPDATE, executed for each project
        update(_TABLE)
        .where(_TABLE.c.project_id == bindparam("pid"))
        .where(_TABLE.c.generation == bindparam("gen"))
        .values(planned=True),
        [{"pid": pid, "gen": generation} for pid, generation in sorted(seen.items())],
    )


def ensure_basis(session: Session, basis: str) -> bool:
    """Make every standing computed on another basis (another version of the rule, another
    default zone) due: when the basis recorded (in `versions`) is not `basis`, record it and
    invalidate them all. One statement when it is; returns whether it was not. The statement
    writes first (an upsert that changes nothing when the basis holds): on SQLite, processes
    that read and then write at once can deadlock, which a tick at start-up must not."""
    table = VersionRow.__table__
    insert = insert_for(session, table).values(name=_BASIS, token=basis)
    changed = session.execute(
        insert.on_conflict_do_update(
            index_elements=["name"],
            set_={"token": basis},
            where=table.c.token != basis,
        ).returning(table.c.name)
    ).first()
    if changed is None:
        return False
    invalidate_all(session)
    return True


_BASIS = "standings"


# --- reading many at once, narrowly (the App Home's summary) ----------------------------------


def unheld(session: Session, *, at: datetime, basis: str) -> list[int]:
    """The projects whose stored standing does not hold at `at` on `basis` (invalidated,
    expired, computed after `at` or on another basis): what a reader recomputes before it
    reads the others narrowly."""
    query = select(StandingRow.project_id).where(
        StandingRow.valid_until.is_(None)
        | (StandingRow.valid_until <= at)
        | StandingRow.computed_at.is_(None)
        | (StandingRow.computed_at > at)
        | StandingRow.basis.is_(None)
        | (StandingRow.basis != basis)
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class Group:
    """Standings alike for the digest's counts, and how many there are."""

    state: str | None
    started: bool  # the standing names a period
    rating: str | None
    stale: bool
    count: int


def groups(
    session: Session,
    *,
    among_ids: Collection[int] | None = None,
    excluding: Collection[int] = (),
    states_left_out: Collection[str] = (),
) -> list[Group]:
    """The standings counted by (state, whether they name a period, rating, stale), in one
    statement: of the projects `among_ids` (every stored one when None) but those
    `excluding`, leaving out the `states_left_out`."""
    started = StandingRow.period_start.is_not(None)
    stale = StandingRow.stale_since.is_not(None)
    query = select(StandingRow.state, started, StandingRow.rating, stale, func.count()).group_by(
        StandingRow.state, started, StandingRow.rating, stale
    )
    if among_ids is not None:
        query = query.where(among(session, StandingRow.project_id, among_ids))
    if excluding:
        query = query.where(~among(session, StandingRow.project_id, excluding))
    if states_left_out:
        query = query.where(StandingRow.state.not_in(sorted(states_left_out)))
    return [
        Group(state, bool(has_period), rating, bool(is_stale), count)
        for state, has_period, rating, is_stale, count in session.execute(query)
    ]


def attention_first(
    session: Session,
    *,
    groups: Sequence[str],
    dated: str,
    unprioritised: int,
    limit: int,
    among_ids: Collection[int] | None = None,
    excluding: Collection[int] = (),
) -> tuple[int, list[int]]:
    """How many standings name a reason for attention (of the projects `among_ids`, every
    stored one when None, but those `excluding`), and the projects of the first `limit` of
    them in the digest's order (bot.digest.lines.attention_key, whose terms the caller
    gives): by the rank of their reason in `groups`; in the group `dated`, by needed-by date,
    soonest first and none last; then in the ranking's order (bot.priorities.ranking
    .rank_order): mandatory first, by stored score (highest first, none last), by the
    project's priority (`unprioritised` when it has none), by key. One statement, whatever
    the number asking."""
    needed = case((StandingRow.attention == dated, StandingRow.needed_by), else_=None)
    count, rows = _first(
        session,
        [StandingRow.project_id],
        StandingRow.attention.is_not(None),
        [
            _rank(StandingRow.attention, groups),
            needed.is_(None),
            needed,
            ProjectRow.mandatory.desc(),
            ProjectRow.rank_score.is_(None),
            ProjectRow.rank_score.desc(),
        ],
        unprioritised=unprioritised,
        limit=limit,
        among_ids=among_ids,
        excluding=excluding,
    )
    return count, [pid for (pid,) in rows]


def states_first(
    session: Session,
    *,
    states: Sequence[str],
    unprioritised: int,
    limit: int,
    among_ids: Collection[int] | None = None,
) -> tuple[int, list[Standing]]:
    """How many standings of the projects `among_ids` (every stored one when None) are in one
    of `states` and name a period, and the first `limit` of them, partly read (project,
    state, period start and zone): by the rank of their state in `states`, then by the
    project's priority (`unprioritised` when it has none), then by key. One statement."""
    count, rows = _first(
        session,
        [
            StandingRow.project_id,
            StandingRow.state,
            type_coerce(StandingRow.period_start, BigInteger()),
            StandingRow.period_tz,
        ],
        StandingRow.state.in_(sorted(states)) & StandingRow.period_start.is_not(None),
        [_rank(StandingRow.state, states)],
        unprioritised=unprioritised,
        limit=limit,
        among_ids=among_ids,
    )
    return count, [
        Standing(project_id=pid, state=state, period_start=from_epoch_micros(start), period_tz=tz)
        for pid, state, start, tz in rows
    ]


def _rank(column: InstrumentedAttribute[str | None], ranked: Sequence[str]) -> Any:
    """The index of the column's value in `ranked` (those not in it after them)."""
    return case(
        {value: index for index, value in enumerate(ranked)}, value=column, else_=len(ranked)
    )


def _first(
    session: Session,
    columns: Sequence[Any],
    where: ColumnElement[bool],
    order: Sequence[Any],
    *,
    unprioritised: int,
    limit: int,
    among_ids: Collection[int] | None = None,
    excluding: Collection[int] = (),
) -> tuple[int, list[Any]]:
    """The number of standings `where` (of the projects among_ids but those excluding), and
    the `columns` of the first `limit` by `order`, then the project's priority, then its key
    (compared as code points, as Python compares strings), with the count on every row
    (a window) so that one statement answers both."""
    key = as_python_orders(session, ProjectRow.key)
    query = (
        select(*columns, func.count().over())
        .join(ProjectRow, ProjectRow.id == StandingRow.project_id)
        .where(where)
        .order_by(*order, func.coalesce(ProjectRow.priority, unprioritised), key)
        .limit(limit)
    )
    if among_ids is not None:
        query = query.where(among(session, StandingRow.project_id, among_ids))
    if excluding:
        query = query.where(~among(session, StandingRow.project_id, excluding))
    rows = session.execute(query).all()
    return (rows[0][-1] if rows else 0), [row[:-1] for row in rows]


def standings_where(
    session: Session, *, attention: bool = False, states: Collection[str] = ()
) -> list[Standing]:
    """The standings that name a reason for attention (with `attention`) or are in one of
    `states`, partly read: their project, state, period (start and zone), rating, stale
    since, attention and needed-by date (the other fields are left empty)."""
    wanted = []
    if attention:
        wanted.append(StandingRow.attention.is_not(None))
    if states:
        wanted.append(StandingRow.state.in_(sorted(states)))
    if not wanted:
        return []
    columns = [
        _TABLE.c.project_id,
        _TABLE.c.state,
        type_coerce(_TABLE.c.period_start, BigInteger()),
        _TABLE.c.period_tz,
        _TABLE.c.rating,
        type_coerce(_TABLE.c.stale_since, BigInteger()),
        _TABLE.c.attention,
        _TABLE.c.needed_by,
    ]
    rows = session.connection().execute(select(*columns).where(or_(*wanted))).all()
    return [
        Standing(
            project_id=pid,
            state=state,
            period_start=from_epoch_micros(start),
            period_tz=tz,
            rating=rating,
            stale_since=from_epoch_micros(stale_since),
            attention=why,
            needed_by=needed_by,
        )
        for pid, state, start, tz, rating, stale_since, why, needed_by in rows
    ]


def projects_where(
    session: Session, *, states: Collection[str] = (), latest_rating: str | None = None
) -> set[int]:
    """The projects whose standing is in one of `states`, or (with `latest_rating`) whose latest
    report is rated so, in one statement that reads their ids alone (from the standings'
    indexes, never a report)."""
    query = select(StandingRow.project_id)
    if latest_rating is not None:
        query = query.where(StandingRow.latest_rating == latest_rating)
    if states:
        query = query.where(StandingRow.state.in_(sorted(states)))
    return set(session.connection().execute(query).scalars())


@dataclass(frozen=True, slots=True)
class ListedStanding:
    """What a list shows of a project's standing: this period's state, and the project's
    latest report (whatever its period) by its id and overall rating."""

    project_id: int
    state: str | None
    report_id: int | None
    latest_rating: str | None


def periods_holding(session: Session, *, at: datetime, basis: str) -> list[Standing]:
    """The stored standings that hold at `at` on `basis`, partly read (project, period start,
    end, since and zone: the period the rule placed the project in), in one statement."""
    query = select(
        StandingRow.project_id,
        type_coerce(StandingRow.period_start, BigInteger()),
        type_coerce(StandingRow.period_end, BigInteger()),
        type_coerce(StandingRow.period_since, BigInteger()),
        StandingRow.period_tz,
    ).where(StandingRow.valid_until > at, StandingRow.computed_at <= at, StandingRow.basis == basis)
    return [
        Standing(
            project_id=pid,
            period_start=from_epoch_micros(start),
            period_end=from_epoch_micros(end),
            period_since=from_epoch_micros(since),
            period_tz=tz,
        )
        for pid, start, end, since, tz in session.connection().execute(query)
    ]


def listed_standings(
    session: Session, project_ids: Collection[int], *, at: datetime, basis: str
) -> dict[int, ListedStanding]:
    """What a list shows of each of these projects whose stored standing holds at `at` on
    `basis` (those that do not are left out, to recompute), in one statement by key: the
    rows a list shows, whatever the size of the portfolio."""
    if not project_ids:
        return {}
    holding = and_(
        StandingRow.valid_until > at,
        StandingRow.computed_at <= at,
        StandingRow.basis == basis,
    )
    query = select(
        StandingRow.project_id, StandingRow.state, StandingRow.report_id, StandingRow.latest_rating
    ).where(among(session, StandingRow.project_id, project_ids), holding)
    return {row[0]: ListedStanding(*row) for row in session.execute(query)}
