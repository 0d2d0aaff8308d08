"""The async engine, sessions and schema upgrades."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Knowing it here lets a start on an up-to-date database skip
# loading Alembic at all (a test keeps it equal to the migrations' head).
HEAD_REVISION = "0009"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside a writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")  # another writer: wait for it rather than fail
    cursor.close()


def alembic_config():
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


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
        self._sqlite_file = parsed.database if self.is_sqlite and parsed.database not in (None, "", ":memory:") else None
        # hide_parameters: errors and logs never carry what people typed.
        # pool_reset_on_return: every session already ends its own transaction, so the
        # pool's extra rollback on each return would be one more round trip per command.
        extra = {}
        if parsed.drivername == "sqlite+aiosqlite":
            from storage import sqlite_driver

            extra["module"] = sqlite_driver.dbapi()  # one thread hop per statement, not four
        self.engine: AsyncEngine = create_async_engine(
            url, echo=echo, hide_parameters=True, pool_reset_on_return=None, **extra
        )
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def upgrade(self) -> str | None:
        """Bring the schema to the newest migration; returns the revision before."""
        if self._sqlite_file:
            Path(self._sqlite_file).parent.mkdir(parents=True, exist_ok=True)
        current = await self.revision()
        if current == HEAD_REVISION:
            return current
        async with self.engine.begin() as conn:
            return await conn.run_sync(_upgrade_sync)

    async def revision(self) -> str | None:
        """The schema's migration revision; None for an empty database."""
        async with self.engine.connect() as conn:
            try:
                return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
            except (OperationalError, ProgrammingError):  # no such table yet
                return None

    async def close(self) -> None:
        await self.engine.dispose()


def _upgrade_sync(connection: Connection) -> str | None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(connection).get_current_revision()
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("database upgraded from %s to %s", before or "empty", after)
    return before
