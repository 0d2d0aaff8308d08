"""SQLite through aiosqlite, one thread hop per statement.

aiosqlite runs the sqlite3 connection in a worker thread and every call on it is a
hop from the event loop to that thread and back. SQLAlchemy's adapter makes four
of them per statement (open a cursor, execute, fetch the rows, close the cursor).
Here the whole statement runs as one function on the worker thread, so a command
of five statements and a commit waits on seven hops instead of twenty-one.

Only the cursor changes; the connection, the transactions, the errors and the
thread are aiosqlite's and SQLAlchemy's own.
"""

from __future__ import annotations

import collections
from typing import Any

import aiosqlite
import sqlite3
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_


class _Outcome:
    """What a statement left on its cursor, read on the worker thread."""

    __slots__ = ("description", "rowcount", "lastrowid", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.rows = cursor.fetchall() if cursor.description else ()


def _execute(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        return _Outcome(cursor)
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements run on the worker thread in one call."""

    __slots__ = ("_outcome",)

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # no aiosqlite cursor: nothing to open or close on the thread
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._outcome: _Outcome | None = None

    @property
    def description(self):
        return self._outcome.description if self._outcome is not None else None

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount if self._outcome is not None else -1

    @property
    def lastrowid(self):
        return self._outcome.lastrowid if self._outcome is not None else None

    async def _async_soft_close(self) -> None:
        return None  # the rows are already buffered and the sqlite3 cursor closed

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = self._connection
        try:
            outcome = await_(connection._execute(_execute, connection._conn, operation, parameters, many))
        except Exception as error:  # translated into SQLAlchemy's errors, as for any statement
            self._adapt_connection._handle_exception(error)
        self._outcome = outcome
        self._rows = collections.deque(outcome.rows)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy's DBAPI module, handing out one-hop cursors."""

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


def dbapi() -> OneHopDBAPI:
    """The module to pass as ``create_async_engine(..., module=...)`` for SQLite."""
    return OneHopDBAPI(aiosqlite, sqlite3)
