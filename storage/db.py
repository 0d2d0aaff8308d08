"""The async engine, sessions and schema upgrades."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import AsyncIterator, Callable

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.session import InPlaceSessions, Session

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Knowing it here lets a start on an up-to-date database skip
# loading Alembic at all (a test keeps it equal to the migrations' head).
HEAD_REVISION = "0023"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on the disk before the bot acts on it (sends what it decided), so a
    # power cut cannot take back a decision that was already sent.
    cursor.execute("PRAGMA synchronous=FULL")
    # Deleted and overwritten content is zeroed in the file, not left in free pages
    # (whatever the SQLite build's default): erased texts leave the disk.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=30000")  # another writer: wait for it rather than fail
    cursor.close()


def _sqlite_light(dbapi_connection, _record) -> None:
    """A connection for notes whose loss in a power cut costs nothing (see ``Database.session``):
    its commits are safe against a crash of the bot, but do not wait for the disk."""
    _sqlite_pragmas(dbapi_connection, _record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


PRIVATE = 0o600  # the database and what goes with it: for the bot's user only
SIDE_FILES = ("", "-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Create an SQLite file readable by its owner only (SQLite gives its WAL and shared-memory
    files the same mode), and narrow one made too open before.

    An existing file is never opened here: closing any descriptor of a database file drops
    every POSIX lock this process holds on it, and with them SQLite's own, which would let
    another process take the write-ahead log from under an open connection."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        with suppress(FileNotFoundError):
            if side.stat().st_mode & 0o077:
                os.chmod(side, PRIVATE)


def sqlite_file_of(url: str) -> str | None:
    """The file of an SQLite database URL; None for another database, an in-memory one, or
    one named by an SQLite URI (whose file the bot neither creates nor copies)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:") or parsed.query.get("uri"):
        return None
    return parsed.database


def alembic_config():
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of mentorbot, to a revision this one lacks."""

    def __init__(self, revision: str) -> None:
        super().__init__(f"its schema is at revision {revision}, from a newer version of mentorbot "
                         f"(this version knows up to {HEAD_REVISION})")
        self.revision = revision


def known_revisions() -> set[str]:
    """Every migration revision this version has."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def head_revision() -> str:
    """The newest migration, as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """One engine per process; one short session per unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if parsed.get_backend_name() == "postgresql":
            from storage.models import use_postgresql

            use_postgresql()
        self._sqlite_file = sqlite_file_of(url)
        # hide_parameters: errors and logs never carry what people typed.
        # pool_reset_on_return: every session already ends its own transaction, so the
        # pool's extra rollback on each return would be one more round trip per command.
        # The async engine serves whole-database work (copying, checks from outside); on
        # SQLite it is SQLAlchemy's own aiosqlite dialect, unchanged.
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, hide_parameters=True, pool_reset_on_return=None
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # Units of work on SQLite run in place, on the standard pysqlite driver (see
            # storage.session): the same file, the same settings, no thread in between.
            self.sync_engine: Engine | None = create_engine(
                parsed.set(drivername="sqlite"), echo=echo, hide_parameters=True, pool_reset_on_return=None
            )
            event.listen(self.sync_engine, "connect", _sqlite_pragmas)
            self._light_engine: Engine | None = create_engine(
                parsed.set(drivername="sqlite"), echo=echo, hide_parameters=True, pool_reset_on_return=None
            )
            event.listen(self._light_engine, "connect", _sqlite_light)
            self._in_place: InPlaceSessions | None = InPlaceSessions(self.sync_engine, self._light_engine)
        else:
            self.sync_engine = self._light_engine = None
            self._in_place = None
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self, *, durable: bool = True) -> AsyncIterator[Session]:
        """One unit of work: committed by its code, rolled back if it ends otherwise.

        A commit is on the disk before it returns. ``durable=False`` is for the bot's notes
        to itself that a power cut may take back at no cost (that a message was sent: it is
        sent again under the same transaction id, which the homeserver recognises; where
        syncing had got to: the events are read again and known as handled). On SQLite
        they are committed without waiting for the disk (still safe if the bot crashes);
        on PostgreSQL every commit waits for the server's own ``synchronous_commit``."""
        if self._in_place is not None:
            async with self._in_place.session(durable=durable) as session:
                yield session
            return
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def outside_session(self) -> AsyncIterator[Session]:
        """A session beside the units of work, for a look from outside (a health check): always
        on the async engine, so that on SQLite too its waits leave the event loop free, and it
        never queues behind a unit of work."""
        async with self._sessions() as session:
            yield session

    def on_error(self, callback: Callable[[BaseException], None]) -> None:
        """Call ``callback`` with each error the database raises, for a statement or a connection,
        on every engine of this database (to count them; the error goes on as before)."""
        def handle_error(context) -> None:
            callback(context.sqlalchemy_exception or context.original_exception)

        for engine in (self.engine.sync_engine, self.sync_engine, self._light_engine):
            if engine is not None:
                event.listen(engine, "handle_error", handle_error)

    async def upgrade(self) -> str | None:
        """Bring the schema to the newest migration; returns the revision before."""
        if self._sqlite_file:
            make_private(Path(self._sqlite_file))
        current = await self.revision()
        if current == HEAD_REVISION:
            return current
        if self.sync_engine is not None:
            with self.sync_engine.begin() as conn:
                return _upgrade_sync(conn)
        async with self.engine.begin() as conn:
            return await conn.run_sync(_upgrade_sync)

    async def revision(self) -> str | None:
        """The schema's migration revision; None for an empty database."""
        try:
            async with self.session() as session:
                return (await session.exec(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
        except (OperationalError, ProgrammingError):  # no such table yet
            return None

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite file, for a database kept in one."""
        return Path(self._sqlite_file) if self._sqlite_file else None

    async def check_writable(self) -> None:
        """Write once, at start: a database that cannot be written (read-only, full) is found
        now, with a clear message, not at the first command."""
        async with self.session() as session:
            await session.exec(text("DELETE FROM bot_state WHERE key = 'start.write_check'"))
            await session.exec(text("INSERT INTO bot_state (key, value) VALUES ('start.write_check', 'ok')"))
            await session.commit()

    async def checkpoint(self) -> None:
        """After erasing: move the write-ahead log into the database and empty it, so that
        erased text is no longer in the log file (SQLite; PostgreSQL keeps no such file here)."""
        if not self.is_sqlite:
            return
        async with self.session() as session:
            busy, _, _ = (await session.exec(text("PRAGMA wal_checkpoint(TRUNCATE)"))).one()
        if busy:
            log.warning("the database's log could not be emptied now (another connection reads it); "
                        "erased text leaves it at the next checkpoint")

    async def close(self) -> None:
        for engine in (self.sync_engine, self._light_engine):
            if engine is not None:
                engine.dispose()
        await self.engine.dispose()


def _upgrade_sync(connection: Connection) -> str | None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(connection).get_current_revision()
    if before is not None and before not in known_revisions():
        raise SchemaTooNew(before)  # a migration only moves forward
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after)
    return before
