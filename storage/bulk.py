"""Adding many rows at once, as fast as each backend takes them: the way `pmo-bot demo
--projects N` stores hundreds of thousands of reports in seconds.

One rule for both backends: every value first goes through its column's own SQLAlchemy type,
as this backend's dialect processes it (`dialect_impl(...).bind_processor`), so a row holds
exactly what an INSERT of the same values stores (UTC datetimes, JSON, decimals). Only the
way rows travel differs. PostgreSQL takes them through `COPY … FROM STDIN`, one stream for the
whole batch: an INSERT per row, even pipelined, is about twice as slow, and SQLAlchemy's
multi-row VALUES spends its time compiling. SQLite runs one prepared INSERT for every row
(`executemany`, a loop in C), the fastest it offers. Columns left out get their database
default (ids from their sequence or rowid).

Reading rows of thousands of ids at once (`among`, `among_texts` for text ids such as Slack
user ids) is one condition, with one parameter, on either backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Table,
    Text,
    any_,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import NullType

from storage.models import Base, plain


def insert_rows(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (each naming the same columns) into the table of `model`, in the session's
    transaction. Constraints are checked as for any INSERT: a duplicate key fails the batch."""
    if not rows:
        return
    table = cast(Table, model.__table__)
    connection = session.connection()
    named = set(rows[0])
    names = [column.key for column in table.columns if column.key in named]
    if len(names) != len(named):
        raise ValueError(f"{table.name} has no column {sorted(named - set(names))}")
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    values = [_processed(row, names, processors) for row in rows]
    if dialect.name == "postgresql":
        _copy(connection, table, names, values)
        return
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    if list(compiled.positiontup or ()) != names:  # the placeholders' order is the values'
        raise RuntimeError(f"unexpected INSERT for {table.name}: {compiled}")
    connection.exec_driver_sql(str(compiled), values)


def _processed(
    row: Mapping[str, Any],
    names: Sequence[str],
    processors: Sequence[Callable[[Any], Any] | None],
) -> tuple[Any, ...]:
    if len(row) != len(names):
        raise ValueError(f"every row must name the same columns: {names}, not {list(row)}")
    return tuple(
        row[name] if process is None else process(row[name])
        for name, process in zip(names, processors, strict=True)
    )


def _copy(
    connection: Connection, table: Table, names: Sequence[str], values: Sequence[tuple[Any, ...]]
) -> None:
    """COPY the rows in, on the session's own connection and transaction (psycopg 3); the
    driver's errors come out as SQLAlchemy's (IntegrityError...), as from any statement."""
    quote = connection.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    command = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection checked out of the pool has its driver's
    try:
        with driver.cursor() as cursor, cursor.copy(command) as copy:
            for row in values:
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.Error as error:  # as SQLAlchemy would raise it
        raise DBAPIError.instance(
            command, None, error, connection.dialect.loaded_dbapi.Error
        ) from error


def among(
    session: Session, column: InstrumentedAttribute[int], ids: Collection[int]
) -> ColumnElement[bool]:
    """`column IN ids`, for thousands of ids, as one text parameter on either backend: on
    PostgreSQL an array (`= ANY('{1,2,…}'::INTEGER[])`), on SQLite a JSON array read by
    `json_each`. Bound one by one (an IN list), or as a list the driver adapts, each id costs
    SQLAlchemy and the driver 1 to 20 µs: 5 to 100 ms for 5,000 ids, more than the query."""
    listed = ",".join(str(int(value)) for value in sorted(set(ids)))
    if session.get_bind().dialect.name == "postgresql":
        # untyped, so that PostgreSQL reads the parameter as the array (a constant the
        # planner hashes); a VARCHAR cast to an array is parsed again for every row
        return column == any_(literal(f"{{{listed}}}", NullType()).cast(ARRAY(Integer)))
    values = func.json_each(literal(f"[{listed}]", Text())).table_valued("value")
    return column.in_(select(values.c.value))


def among_texts(
    session: Session, column: InstrumentedAttribute[str], values: Collection[str]
) -> ColumnElement[bool]:
    """`column IN values` for thousands of text ids (Slack user ids), as one parameter, as
    `among` does for integers: on PostgreSQL a text array (`= ANY('{"U1","U2"}'::TEXT[])`),
    each element double-quoted with its `"` and `\\` escaped, on SQLite a JSON array
    (`json.dumps`) read by `json_each`. Either way a value is data: quotes, commas, braces or
    backslashes in it can neither break the statement nor match another id."""
    wanted = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        listed = ",".join('"' + _array_escaped(value) + '"' for value in wanted)
        return column == any_(literal(f"{{{listed}}}", NullType()).cast(ARRAY(Text)))
    found = func.json_each(literal(json.dumps(wanted, ensure_ascii=False), Text()))
    return column.in_(select(found.table_valued("value").c.value))


def _array_escaped(value: str) -> str:
    """A text as PostgreSQL reads it inside a double-quoted element of an array literal."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


ROWS_BY_ID_PER_STATEMENT = 10_000  # ids per statement: rows read at once stay bounded


T = TypeVar("T")


def rows_by_id(
    session: Session, model: type[Base], ids: Collection[int], convert: Callable[[Any], T]
) -> dict[int, T]:
    """The rows of `model` with these ids (those that exist), each as `convert` makes it, by
    id: the one way storage reads many rows by id (plain rows, ids as `among`)."""
    found: dict[int, T] = {}
    wanted = sorted(set(ids))
    column = cast(InstrumentedAttribute[int], model.id)  # type: ignore[attr-defined]
    for start in range(0, len(wanted), ROWS_BY_ID_PER_STATEMENT):
        chunk = wanted[start : start + ROWS_BY_ID_PER_STATEMENT]
        query = plain(model).where(among(session, column, chunk))
        found.update((row.id, convert(row)) for row in session.execute(query))
    return found
