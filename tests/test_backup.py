"""`mentorbot db backup` and `db restore`, run as an operator runs them: real processes, real files,
a real writer beside the backup, and on the PostgreSQL pass PostgreSQL's own pg_dump and pg_restore."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from bot import cli
from bot.config import Settings, StorageSettings
from storage.db import HEAD_REVISION
from tests.conftest import database_url, on_postgres
from tests.test_cli import MENTORBOT, mentorbot


def config(folder: Path, *, empty: bool = False) -> Path:
    """A config file in ``folder`` for a database of its own (on SQLite, folder/mentorbot.db)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[storage]\nurl = "{database_url(folder, empty=empty)}"\n', encoding="utf-8")
    return path


def read(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# Another process writing to the database all along, as the bot does: each transaction adds a
# row and counts it, so a copy that caught half a transaction, or some transactions and not
# earlier ones, has a count that disagrees with its rows.
WRITER = r"""
import sqlite3, sys
from pathlib import Path

database, stop = sys.argv[1:]
conn = sqlite3.connect(database, isolation_level=None, timeout=30)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("BEGIN IMMEDIATE")
conn.executemany("INSERT INTO bot_state (key, value) VALUES (?, ?)", ((f"fill.{i}", "x" * 2000) for i in range(2000)))
conn.execute("INSERT INTO bot_state (key, value) VALUES ('w.count', '0')")
conn.execute("COMMIT")
n = 0
while not Path(stop).exists():
    n += 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO bot_state (key, value) VALUES (?, ?)", (f"w.{n}", "y" * 300))
    conn.execute("UPDATE bot_state SET value = ? WHERE key = 'w.count'", (str(n),))
    conn.execute("COMMIT")
"""


def written(path: Path) -> tuple[int, int]:
    """The writer's count, and the rows it counted."""
    [(count,)] = read(path, "SELECT value FROM bot_state WHERE key = 'w.count'")
    [(rows,)] = read(path, "SELECT count(*) FROM bot_state WHERE key LIKE 'w.%' AND key != 'w.count'")
    return int(count), rows


@pytest.mark.sqlite_only
def test_a_backup_taken_while_the_bot_writes_is_whole_private_and_never_overwritten(tmp_path):
    database_url(tmp_path)  # a migrated database, tmp_path/mentorbot.db
    source = tmp_path / "mentorbot.db"
    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source), str(stop)])
    try:
        deadline = time.monotonic() + 60
        while not read(source, "SELECT 1 FROM bot_state WHERE key = 'w.count' AND CAST(value AS INTEGER) >= 300"):
            assert writer.poll() is None and time.monotonic() < deadline, "the writer did not get going"
            time.sleep(0.05)
        before = written(source)[0]
        result = mentorbot("db", "backup", "backups/monday.db", cwd=tmp_path)
        after = written(source)[0]
        assert writer.poll() is None  # it wrote all along
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "backups" / "monday.db"
    size = copy.stat().st_size
    assert result.stdout == (f"Backed up mentorbot.db to backups/monday.db: {size:,} bytes, schema revision "
                             f"{HEAD_REVISION}, checked, readable by its owner only.\n")
    # The writer went on meanwhile; the copy holds one moment of it, every transaction whole.
    count, rows = written(copy)
    assert before < after and before <= count <= after
    assert rows == count
    assert read(copy, "SELECT count(*) FROM bot_state WHERE key LIKE 'fill.%'") == [(2000,)]
    assert read(copy, "PRAGMA integrity_check") == [("ok",)]
    assert read(copy, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    # One file for its owner only, with no log beside it and no temporary file left.
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in copy.parent.iterdir()) == ["monday.db"]
    assert oct(copy.parent.stat().st_mode & 0o777) == "0o700"  # the folder was made, for the owner only
    assert read(copy, "PRAGMA journal_mode") == [("delete",)]

    # An existing file is kept, unless the operator says to replace it.
    again = mentorbot("db", "backup", "backups/monday.db", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr == ("mentorbot: cannot back up: backups/monday.db already exists: choose another name, "
                            "or add --force to replace it\n")
    assert written(copy) == (count, rows)
    forced = mentorbot("db", "backup", "backups/monday.db", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert written(copy)[0] == written(source)[0] > count  # the writer's last count, now that it stopped
    assert oct(copy.stat().st_mode & 0o777) == "0o600"


SEED = """\
council @cy:example.org> !mentor add @zoe:example.org 2
@ana:example.org> profile name Ana Before The Backup
"""
CHECK = """\
mentors @bob:example.org> !mentors
@ana:example.org> profile
"""


def run_printed(output: str, program: str) -> None:
    """Run the command line that `mentorbot db ...` printed for ``program``, with PostgreSQL's own tools."""
    from tests.postgres import server_bin

    [line] = [line.strip() for line in output.splitlines() if line.strip().startswith(f"{program} ")]
    argv = shlex.split(line)
    done = subprocess.run([str(server_bin() / program), *argv[1:]], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_restored_backup_serves_the_program_as_it_was(tmp_path):
    first = config(tmp_path / "first")
    seeded = mentorbot("shell", "--demo", "--config", str(first), cwd=tmp_path, stdin=SEED)
    assert seeded.returncode == 0 and "@zoe:example.org is now a mentor" in seeded.stdout
    second = config(tmp_path / "second", empty=True)
    backup = tmp_path / "saved" / "program.backup"
    backup.parent.mkdir()

    saved = mentorbot("db", "backup", str(backup), "--config", str(first), cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    if on_postgres():
        # The commands to type for the configured databases, typed: pg_dump's archive of the first,
        # restored with pg_restore into the second, empty one.
        assert "pg_dump -Fc -h 127.0.0.1" in saved.stdout
        run_printed(saved.stdout, "pg_dump")
        assert backup.read_bytes().startswith(b"PGDMP")
    restored = mentorbot("db", "restore", str(backup), "--config", str(second), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    if on_postgres():
        run_printed(restored.stdout, "pg_restore")
    else:
        assert restored.stdout == (f"Restored {backup} (schema revision {HEAD_REVISION}) into "
                                   f"{tmp_path / 'second' / 'mentorbot.db'}.\n"
                                   "Start the bot: it serves the program as it was at the backup.\n")
        assert oct((tmp_path / "second" / "mentorbot.db").stat().st_mode & 0o777) == "0o600"

    answers = mentorbot("shell", "--config", str(second), cwd=tmp_path, stdin=CHECK)
    assert answers.returncode == 0, answers.stderr
    assert "• @zoe:example.org: 0 of 2" in answers.stdout and "Mentors (4)" in answers.stdout
    assert "Name: Ana Before The Backup" in answers.stdout


def settings(url: str) -> Settings:
    return Settings(storage=StorageSettings(url=url))


def backup_of_the_template(tmp_path: Path, name: str = "good.db") -> Path:
    (tmp_path / "source").mkdir()
    path = tmp_path / name
    assert cli.db_backup(settings(database_url(tmp_path / "source")), str(path), force=False) == 0
    return path


@pytest.mark.sqlite_only
def test_restore_refuses_to_replace_a_program_or_to_load_what_is_no_backup(tmp_path, capsys):
    good = backup_of_the_template(tmp_path)
    target = tmp_path / "live" / "mentorbot.db"
    live = settings(f"sqlite+aiosqlite:///{target}")
    capsys.readouterr()

    def refused(file: Path) -> str:
        assert cli.db_restore(live, str(file)) == 1
        out, err = capsys.readouterr()
        assert out == ""
        return err

    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    assert refused(text) == f"mentorbot: cannot restore: {text} is not an SQLite database, so not a backup of mentorbot's\n"
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE photos (id INTEGER)").connection.commit()
    assert refused(other) == (f"mentorbot: cannot restore: {other} is an SQLite database, but no mentorbot database "
                              "(it has no mentorbot tables)\n")
    newer = tmp_path / "newer.db"
    shutil.copyfile(good, newer)
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.commit()
    conn.close()
    assert refused(newer) == (f"mentorbot: cannot restore: {newer} comes from a newer version of mentorbot (its "
                              f"schema is at revision 0999; this version knows up to {HEAD_REVISION}): upgrade "
                              "mentorbot first, then restore it\n")
    cut = tmp_path / "cut.db"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert refused(cut) == f"mentorbot: cannot restore: {cut} cannot be read as a database: database disk image is malformed\n"
    assert not target.exists()  # nothing of the refused files was written

    # Into an empty file: restored. Then the database holds a program, which a restore would replace.
    target.parent.mkdir()
    target.touch()
    assert cli.db_restore(live, str(good)) == 0
    assert read(target, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    capsys.readouterr()
    assert refused(good) == (f"mentorbot: cannot restore: {target} already holds a database (revision "
                             f"{HEAD_REVISION}), which a restore would replace. Stop the bot, move {target} aside "
                             "(with its -wal and -shm files, if there are any), then restore again\n")


@pytest.mark.sqlite_only
def test_an_older_backup_is_restored_and_upgraded_at_once(tmp_path, capsys):
    from alembic import command
    from sqlalchemy import create_engine

    from storage.db import alembic_config

    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as connection:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0020")
        connection.exec_driver_sql(
            "INSERT INTO person (id, matrix_id, display_name, is_mentee, is_mentor, is_council, capacity, inactive, "
            "created_at, updated_at) VALUES (1, '@ana:x.org', 'Ana', 1, 0, 0, 0, 0, '2027-01-01', '2027-01-01')")
    engine.dispose()
    target = tmp_path / "mentorbot.db"
    assert cli.db_restore(settings(f"sqlite+aiosqlite:///{target}"), str(old)) == 0
    assert capsys.readouterr().out == (f"Restored {old} (schema revision 0020) into {target}.\n"
                                       f"The database was upgraded from 0020 to revision {HEAD_REVISION}.\n")
    assert read(target, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    assert read(target, "SELECT display_name FROM person") == [("Ana",)]


@pytest.mark.sqlite_only
def test_on_postgresql_backup_and_restore_say_which_commands_to_run_without_the_password(tmp_path, capsys):
    url = "postgresql+asyncpg://mentorbot:pa55-w0rd@db.example.org:5433/mentor"
    assert cli.db_backup(settings(url), "nightly.dump", force=False) == 0
    out = capsys.readouterr().out
    assert "    pg_dump -Fc -h db.example.org -p 5433 -U mentorbot -f nightly.dump mentor\n" in out
    assert ("    pg_restore -h db.example.org -p 5433 -U mentorbot -d mentor --no-owner --single-transaction "
            "--exit-on-error nightly.dump\n") in out
    assert "PGPASSWORD" in out and "~/.pgpass" in out and "pa55-w0rd" not in out
    assert not (tmp_path / "nightly.dump").exists()
    # An SQLite backup is no PostgreSQL archive: said, with the way to move a program over.
    sqlite_backup = backup_of_the_template(tmp_path)
    capsys.readouterr()
    assert cli.db_restore(settings(url), str(sqlite_backup)) == 1
    err = capsys.readouterr().err
    assert "is not a pg_dump archive in the custom format" in err and "mentorbot db copy" in err
    assert "pa55-w0rd" not in err


def unit_lines(text: str, key: str) -> list[str]:
    """The command lines of ``key=`` in a unit file, as the process sees them (systemd turns %% into %
    and $$ into $)."""
    lines = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}=")]
    return [line.replace("%%", "%").replace("$$", "$") for line in lines]


@pytest.mark.sqlite_only
def test_the_backup_units_write_a_dated_copy_each_day_and_keep_two_weeks(tmp_path):
    service = mentorbot("example", "backup-service", cwd=tmp_path).stdout
    timer = mentorbot("example", "backup-timer", cwd=tmp_path).stdout
    assert "OnCalendar=*-*-* 03:00:00" in timer and "Persistent=true" in timer
    assert "Type=oneshot" in service and "User=mentorbot" in service
    # The unit's commands, run as systemd would, with its folder here.
    [start], [keep] = ([line.replace("/srv/mentorbot/.venv/bin/mentorbot", MENTORBOT).replace("/srv/mentorbot", str(tmp_path))
                        for line in unit_lines(service, key)] for key in ("ExecStart", "ExecStartPost"))
    config(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    day = 24 * 3600
    for name, age in (("mentorbot-2020-01-01-0300.db", 20 * day), ("mentorbot-2020-01-16-0300.db", 5 * day),
                      ("notes.txt", 30 * day)):
        (backups / name).write_text("older")
        os.utime(backups / name, (time.time() - age, time.time() - age))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    made_on = datetime.now().strftime("%Y-%m-%d")
    for line in (start, keep):
        done = subprocess.run(shlex.split(line), cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
    days = {datetime.now().strftime("%Y-%m-%d"), made_on}
    names = sorted(p.name for p in backups.iterdir())
    made = [name for name in names if any(re.fullmatch(rf"mentorbot-{day}-\d{{4}}\.db", name) for day in days)]
    # A new dated copy; the one of 20 days ago is gone, the one of 5 days ago and what is no backup are kept.
    assert len(made) == 1 and names == sorted(["mentorbot-2020-01-16-0300.db", made[0], "notes.txt"])
    assert read(backups / made[0], "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]


@pytest.mark.sqlite_only
def test_a_database_a_newer_version_migrated_stops_the_bot_with_what_to_do(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@mentorbot:example.org"\naccess_token = "t"\n'
        'mentors_room = "!m:example.org"\ncouncil_room = "!c:example.org"\nencryption = false\n'
        f'[storage]\nurl = "{database_url(tmp_path)}"\n')
    conn = sqlite3.connect(tmp_path / "mentorbot.db")
    conn.execute("UPDATE alembic_version SET version_num = '0999'")
    conn.commit()
    conn.close()
    result = mentorbot("run", cwd=tmp_path)
    # 78: the service manager does not start it again and again; nothing was changed.
    assert result.returncode == 78
    assert result.stderr == (f"mentorbot: cannot use the database {database_url(tmp_path)}: its schema is at revision "
                             f"0999, from a newer version of mentorbot (this version knows up to {HEAD_REVISION}). "
                             "Install the newer version again, or restore a backup made before the upgrade.\n")
    assert read(tmp_path / "mentorbot.db", "SELECT version_num FROM alembic_version") == [("0999",)]
