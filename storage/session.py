"""What a unit of work talks to: one database session, the same API on both databases.

On PostgreSQL a session is SQLModel's ``AsyncSession`` over asyncpg: the database is across
a network, and waiting for it must leave the event loop free.

On SQLite the database is a library inside the process. A statement on this schema takes
microseconds to tens of microseconds, while handing it to a worker thread and back (what
an asyncio SQLite driver does, several times per statement) costs more than the statement
itself. So an SQLite session is SQLModel's plain ``Session`` on SQLAlchemy's standard
``pysqlite`` driver, run in place, behind the same awaitable methods. Nothing in a unit of
work waits for the network (calls to the forum and the homeserver happen between units of
work), and sessions are handed out one at a time, so no session ever waits for another
while holding the event loop.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Protocol, Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session as SyncSession


class Session(Protocol):
    """The session API the services use (a subset of SQLModel's ``AsyncSession``)."""

    async def exec(self, statement: Any, **kw: Any) -> Any: ...
    async def execute(self, statement: Any, **kw: Any) -> Any: ...
    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any: ...
    def add(self, instance: Any) -> None: ...
    def add_all(self, instances: Sequence[Any]) -> None: ...
    async def delete(self, instance: Any) -> None: ...
    async def flush(self, objects: Sequence[Any] | None = None) -> None: ...
    async def refresh(self, instance: Any, attribute_names: Sequence[str] | None = None) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def connection(self) -> Any: ...


class _InPlaceConnection:
    """The session's connection, for Core statements read without the ORM."""

    __slots__ = ("_connection",)

    def __init__(self, connection) -> None:
        self._connection = connection

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any):
        return self._connection.execute(statement, parameters, **kw)


class InPlaceSession:
    """SQLModel's ``Session`` on SQLite, behind ``AsyncSession``'s awaitable methods."""

    __slots__ = ("_session",)

    def __init__(self, session: SyncSession) -> None:
        self._session = session

    async def exec(self, statement: Any, **kw: Any):
        return self._session.exec(statement, **kw)

    async def execute(self, statement: Any, **kw: Any):
        return self._session.execute(statement, **kw)

    async def get(self, entity: Any, ident: Any, **kw: Any):
        return self._session.get(entity, ident, **kw)

    def add(self, instance: Any) -> None:
        self._session.add(instance)

    def add_all(self, instances: Sequence[Any]) -> None:
        self._session.add_all(instances)

    async def delete(self, instance: Any) -> None:
        self._session.delete(instance)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        self._session.flush(objects)

    async def refresh(self, instance: Any, attribute_names: Sequence[str] | None = None) -> None:
        self._session.refresh(instance, attribute_names)

    async def commit(self) -> None:
        self._session.commit()

    async def rollback(self) -> None:
        self._session.rollback()

    async def connection(self) -> _InPlaceConnection:
        return _InPlaceConnection(self._session.connection())


class InPlaceSessions:
    """Hands out SQLite sessions one at a time.

    A session never waits for the network, so a turn is short; a task that wants a
    session while another task holds one (because the holder awaited something) waits for
    its turn on the event loop, never inside SQLite's lock, where it would hold the loop.
    A task that opens a second session inside its own first gets it at once, on a
    connection of its own (as with any database): reading beside its first is fine."""

    def __init__(self, engine: Engine, light: Engine | None = None) -> None:
        self._engine = engine
        self._light = light or engine  # for units of work that need not wait for the disk
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task | None = None

    @asynccontextmanager
    async def session(self, *, durable: bool = True) -> AsyncIterator[InPlaceSession]:
        engine = self._engine if durable else self._light
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            with SyncSession(engine, expire_on_commit=False) as session:
                yield InPlaceSession(session)
            return
        async with self._turn:
            self._holder = task
            try:
                with SyncSession(engine, expire_on_commit=False) as session:
                    yield InPlaceSession(session)
            finally:
                self._holder = None
