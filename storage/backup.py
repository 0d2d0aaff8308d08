"""Backing up the program's database, and restoring a backup.

SQLite: a copy is made with SQLite's online backup API, which reads one snapshot of the
database while the bot goes on writing (in WAL mode the writer never waits for a reader),
into a temporary file in the destination's folder that is checked and then renamed into
place: a backup file is always whole, and readable by its owner only. A restore copies a
checked backup into an empty (or missing) database through the same API, so SQLite
writes it in one transaction.

PostgreSQL has its own tools for this, ``pg_dump`` and ``pg_restore``: here are the
commands for a configured database, without its password.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import tempfile
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import HEAD_REVISION, known_revisions, make_private

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"  # how a pg_dump archive in the custom format (-Fc) starts
# Tables every mentorbot database has had since its first migration.
MENTORBOT_TABLES = {"alembic_version", "bot_state", "person"}


class BackupRefused(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int  # bytes
    revision: str  # the schema's migration revision


@dataclass(frozen=True)
class Restored:
    path: Path
    revision: str
    upgrade_needed: bool  # an older schema, which the bot upgrades at start


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> Copied:
    """A consistent copy of the SQLite database ``source`` (the bot may be running) at ``target``."""
    if not source.is_file():
        raise BackupRefused(f"there is no database at {source}: nothing to back up (check [storage] url)")
    if target.exists() and not force:
        raise BackupRefused(f"{target} already exists: choose another name, or add --force to replace it")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupRefused(f"{target} is the database itself: write the backup to another file")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")  # mode 0600
    os.close(handle)
    partial = Path(name)
    try:
        with closing(_open_read_only(source)) as src, closing(sqlite3.connect(partial)) as copy:
            # In one step (pages=-1): one read transaction, so one snapshot, however the bot writes meanwhile.
            src.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, with no log beside it
            revision = _check(copy, f"the database {source}")
        _sync(partial)
        if force:
            os.replace(partial, target)
        else:
            try:
                os.link(partial, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise BackupRefused(f"{target} already exists: choose another name, or add --force to replace it")
        _sync(target.parent)
        return Copied(target, target.stat().st_size, revision)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()


def backup_revision(path: Path) -> str:
    """The migration revision of the mentorbot backup at ``path``, after checking it is one
    (an SQLite file, whole, with mentorbot's tables) and that this version can read it."""
    if not path.is_file():
        raise BackupRefused(f"{path}: no such file")
    if not is_sqlite_file(path):
        hint = " (it is a PostgreSQL archive: restore it with pg_restore)" if is_postgres_archive(path) else ""
        raise BackupRefused(f"{path} is not an SQLite database, so not a backup of mentorbot's{hint}")
    with closing(_open_read_only(path)) as conn:
        revision = _check(conn, str(path))
    if revision not in known_revisions():
        raise BackupRefused(f"{path} comes from a newer version of mentorbot (its schema is at revision {revision}; "
                            f"this version knows up to {HEAD_REVISION}): upgrade mentorbot first, then restore it")
    return revision


def restore_sqlite(backup: Path, target: Path) -> Restored:
    """Restore the backup into ``target``, which must be missing or empty."""
    revision = backup_revision(backup)
    if target.exists() and target.resolve() == backup.resolve():
        raise BackupRefused(f"{backup} is the configured database itself: nothing to restore")
    if target.exists():
        with closing(_open_read_only(target)) as existing:
            tables = existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            holds = _revision(existing) if tables else None
        if tables:
            held = f" (revision {holds})" if holds else ""
            raise BackupRefused(
                f"{target} already holds a database{held}, which a restore would replace. Stop the bot, move "
                f"{target} aside (with its -wal and -shm files, if there are any), then restore again")
    make_private(target)
    with closing(_open_read_only(backup)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
        src.backup(dst)  # SQLite writes the whole database in one transaction
        _check(dst, f"the restored database {target}")
    return Restored(target, revision, upgrade_needed=revision != HEAD_REVISION)


def _open_read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")  # the bot checkpointing its log: wait for it
    return conn


def _revision(conn: sqlite3.Connection) -> str | None:
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not MENTORBOT_TABLES <= tables:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def _check(conn: sqlite3.Connection, name: str) -> str:
    """The revision of a whole mentorbot database; refused otherwise."""
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        revision = _revision(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{name} cannot be read as a database: {exc}") from None
    if verdict != "ok":
        raise BackupRefused(f"{name} is damaged (SQLite's check says: {verdict})")
    if revision is None:
        if not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise BackupRefused(f"{name} is empty: it holds no program")
        raise BackupRefused(f"{name} is an SQLite database, but no mentorbot database (it has no mentorbot tables)")
    return revision


def _sync(path: Path) -> None:
    """Put a file (or a folder's list of names) on the disk before going on."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@dataclass(frozen=True)
class PostgresCommands:
    """PostgreSQL's own tools for one database, as commands to type (the password left out)."""

    dump: str
    createdb: str
    restore: str


def postgres_commands(url: str, file: str) -> PostgresCommands:
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host")
    connection: list[str] = []
    for flag, value in (("-h", host), ("-p", parsed.port), ("-U", parsed.username)):
        if value:
            connection += [flag, str(value)]
    name = parsed.database or ""
    return PostgresCommands(
        dump=shlex.join(["pg_dump", "-Fc", *connection, "-f", file, name]),
        createdb=shlex.join(["createdb", *connection, name]),
        # --no-owner: the tables belong to whoever restores them, the bot's user;
        # one transaction that stops at the first error: a failed restore leaves nothing behind.
        restore=shlex.join(["pg_restore", *connection, "-d", name, "--no-owner", "--single-transaction",
                            "--exit-on-error", file]),
    )


def is_postgres_archive(path: Path) -> bool:
    return _starts_with(path, PG_CUSTOM_HEADER)


def is_sqlite_file(path: Path) -> bool:
    return _starts_with(path, SQLITE_HEADER)


def _starts_with(path: Path, header: bytes) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(len(header)) == header
    except OSError:
        return False
