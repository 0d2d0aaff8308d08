"""The `mentorbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from pathlib import Path

from bot import __version__, config, logs
from bot.app import DatabaseUnavailable, open_database
from bot.config import ConfigError, Settings
from commands.words import t, tn

log = logging.getLogger("mentorbot")

EXIT_OK, EXIT_CONFIG = 0, 1
# How `mentorbot run` ends for a service manager (sysexits.h): a fault that waiting cannot
# cure (the configuration, a refused token, a damaged encryption store, a database that
# cannot be written) is EX_CONFIG, which the systemd unit does not restart on; one that may
# pass (the database server not up yet) is EX_TEMPFAIL, which it restarts on.
EXIT_FATAL, EXIT_TEMPORARY = 78, 75


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorbot",
        description="Run a volunteer mentorship program on Matrix and Discourse.",
    )
    parser.add_argument("--version", action="version", version=f"mentorbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--config",
            metavar="FILE",
            help=f"configuration file (default: ${config.ENV_CONFIG}, then ./{config.DEFAULT_CONFIG})",
        )
        p.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
        return p

    shell = with_config(sub.add_parser("shell", help="talk to the bot in this terminal"))
    shell.add_argument("--script", metavar="FILE", help="run the lines of FILE, then exit")
    shell.add_argument("--demo", action="store_true", help="seed a small demo program into an empty database")
    with_config(sub.add_parser("run", help="serve the program on Matrix"))
    check = with_config(sub.add_parser("check-config", help="validate the configuration and print a summary"))
    check.add_argument("--online", action="store_true",
                       help="also connect: the homeserver, the bot's login, its rooms (invite-only?), its "
                            "encryption store, the database, Discourse")
    add_init(sub)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    with_config(db_sub.add_parser("upgrade", help="migrate the database schema to the newest version"))
    copy = db_sub.add_parser("copy", help="copy a whole program into another, empty database (e.g. to PostgreSQL)")
    copy.add_argument("--from", dest="source", metavar="URL", required=True,
                      help="the database to copy, like sqlite+aiosqlite:///mentorbot.db")
    copy.add_argument("--to", dest="target", metavar="URL", required=True,
                      help="an empty database, like postgresql+asyncpg://user:password@host/mentorbot")
    copy.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    backup = with_config(db_sub.add_parser(
        "backup", help="copy the database to FILE, safely while the bot runs (on PostgreSQL: the pg_dump command)"))
    backup.add_argument("file", metavar="FILE", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    restore = with_config(db_sub.add_parser(
        "restore", help="restore a backup into the configured database, which must be empty or missing "
                        "(on PostgreSQL: the pg_restore command)"))
    restore.add_argument("file", metavar="FILE", help="a backup made by `mentorbot db backup`")
    from bot.examples import EXAMPLES

    example = sub.add_parser(
        "example", help=f"print a file that ships with mentorbot ({', '.join(EXAMPLES)}), "
                        "like: mentorbot example config > config.toml",
        description="Print a file that ships with mentorbot, to save and adapt.")
    example.add_argument("name", metavar="NAME", choices=list(EXAMPLES),
                         help="; ".join(f"{name}: {what}" for name, (_, what) in EXAMPLES.items()))
    return parser


def add_init(sub) -> None:
    from commands.languages import SPOKEN

    init = sub.add_parser(
        "init", help="set up a new bot: log in once, make its rooms, write the configuration",
        description="Take the bot's new account to a working configuration: log in once and keep the device in the "
                    "store, make the mentors and council rooms (invite-only, encrypted) or check the ones given, "
                    "invite the council, write the configuration (no secret in it), then check it online. Asks for "
                    "what is not given when run in a terminal. Running it again changes nothing that is there.")
    init.add_argument("--homeserver", metavar="URL", help="the homeserver's address clients use, like "
                      "https://matrix.example.org")
    init.add_argument("--user-id", metavar="ID", help="the bot's Matrix ID, like @mentorbot:example.org (the account "
                      "must exist)")
    init.add_argument("--password-env", metavar="VAR", help="the environment variable that holds the bot's password "
                      "(default: MENTORBOT_MATRIX_PASSWORD; else it is asked for in a terminal). Used for the first "
                      "login only, and never kept")
    init.add_argument("--name", help="the program's name; the rooms are named after it")
    init.add_argument("--timezone", metavar="ZONE", help="the program's time zone, like Europe/Berlin (default: UTC)")
    init.add_argument("--language", choices=SPOKEN, help="the language of the shared rooms (default: en)")
    init.add_argument("--council", metavar="ID", action="append", default=[],
                      help="a council member's Matrix ID, invited to both rooms (repeat for more)")
    init.add_argument("--mentors-room", metavar="ROOM", help="an existing mentors room (ID or alias) to check and "
                      "use instead of making one")
    init.add_argument("--council-room", metavar="ROOM", help="an existing council room (ID or alias) to check and "
                      "use instead of making one")
    init.add_argument("--config", metavar="FILE", help=f"the configuration file to write (default: "
                      f"${config.ENV_CONFIG}, then ./{config.DEFAULT_CONFIG}); one that is there is never overwritten")
    init.add_argument("--store", metavar="DIR", help="the folder for the bot's device and encryption keys "
                      "(default: store)")
    init.add_argument("--database", metavar="URL", help="the database, like sqlite+aiosqlite:///mentorbot.db (the "
                      "default) or postgresql+asyncpg://user@host/mentorbot; a URL with a password goes in "
                      "MENTORBOT_STORAGE_URL instead")
    init.add_argument("-y", "--yes", "--non-interactive", dest="yes", action="store_true",
                      help="ask nothing: take what is not given from the configuration there, or the defaults")
    init.add_argument("-v", "--verbose", action="store_true", help="log what happens")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # What the bot writes (the database and its logs, the encryption store, files for people)
    # is for its own user only.
    os.umask(0o077)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    if args.command == "db" and args.db_command is None:
        parser.parse_args(["db", "--help"])
    verbose = getattr(args, "verbose", False)
    # Until a configuration is read, and for the one-shot commands: warnings, or with -v what happens.
    logs.configure("info" if verbose else "warning")
    try:
        if args.command == "check-config":
            return check_config(args.config, online=args.online)
        if args.command == "run":
            return run(args.config, verbose=verbose)
        if args.command == "init":
            return init(args)
        if args.command == "db" and args.db_command == "copy":
            return asyncio.run(db_copy(args.source, args.target))
        if args.command == "db" and args.db_command == "backup":
            return db_backup(load_settings(args.config), args.file, force=args.force)
        if args.command == "db" and args.db_command == "restore":
            return db_restore(load_settings(args.config), args.file)
        if args.command == "example":
            from bot.examples import text

            sys.stdout.write(text(args.name))
            return EXIT_OK
        if args.command == "db":
            return asyncio.run(db_upgrade(load_settings(args.config)))
        if args.command == "shell":
            from bot.shell_main import run_shell

            settings = load_settings(args.config)
            logs.configure(log_level(settings, verbose, shell=True), settings.logging.format)
            return asyncio.run(run_shell(settings, script=args.script, demo_data=args.demo))
    except ConfigError as exc:
        print_problems(exc)
        return EXIT_FATAL if args.command == "run" else EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except DatabaseUnavailable as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        if args.command == "run":
            return EXIT_FATAL if exc.fatal else EXIT_TEMPORARY
        return EXIT_CONFIG
    except Exception as exc:  # the last line of defence: a message, not a traceback
        log.info("unexpected error", exc_info=True)
        print(f"mentorbot: unexpected error: {type(exc).__name__}: {exc} (run with -v for details)", file=sys.stderr)
        return EXIT_CONFIG
    parser.print_help()
    return EXIT_OK


def load_settings(path: str | None, *, allow_missing: bool = True) -> Settings:
    return config.load(path, allow_missing=allow_missing)


def log_level(settings: Settings, verbose: bool, *, shell: bool = False) -> str:
    """The level the bot logs at: ``[logging] level`` (info unless set), at least info with -v.
    In the shell the terminal is the conversation: only warnings there, unless -v or the
    configuration sets a level itself."""
    level = settings.logging.level
    if shell and ("logging", "level") not in settings.given:
        level = "warning"
    if verbose and logs.LEVELS[level] > logs.LEVELS["info"]:
        level = "info"
    return level


def print_problems(exc: ConfigError) -> None:
    count = len(exc.problems)
    print(tn("mentorbot: the configuration has {n} problem:", "mentorbot: the configuration has {n} problems:",
             count).plain(), file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


def check_config(path: str | None, *, online: bool = False) -> int:
    settings = load_settings(path, allow_missing=False)
    for line in config.summary(settings):
        print(line)
    warnings = config.placeholder_warnings(settings)
    for warning in warnings:
        print(f"warning: {warning}")
    count = len(warnings)
    print(tn("The configuration is valid, with {n} warning.", "The configuration is valid, with {n} warnings.",
             count).plain() if count else t("The configuration is valid.").plain())
    if not online:
        return EXIT_OK
    from bot import online as live

    print("Online checks:")
    checks = asyncio.run(live.check(settings))
    for item in checks:
        print(f"  {item.line()}")
    failed = sum(not item.ok for item in checks)
    print("Everything the bot relies on is in place." if not failed else
          tn("{n} check failed: see the lines marked ✘.", "{n} checks failed: see the lines marked ✘.",
             failed).plain())
    return EXIT_OK if not failed else EXIT_CONFIG


def run(path: str | None, *, verbose: bool = False) -> int:
    settings = load_settings(path, allow_missing=False)
    logs.configure(log_level(settings, verbose), settings.logging.format)
    if settings.matrix is None:
        print(
            f"mentorbot: {settings.source} has no [matrix] section; `mentorbot run` needs one "
            "(see `mentorbot example config`). To try the bot without Matrix, use `mentorbot shell`.",
            file=sys.stderr,
        )
        return EXIT_FATAL
    return asyncio.run(serve(settings))


def init(args: argparse.Namespace) -> int:
    from bot import init as setup

    if not args.verbose:  # the steps say what went wrong, in words
        logging.getLogger("nio").setLevel(logging.ERROR)
    given = setup.Given(
        homeserver=args.homeserver, user_id=args.user_id, password_env=args.password_env, name=args.name,
        timezone=args.timezone, language=args.language, council=args.council, mentors_room=args.mentors_room,
        council_room=args.council_room, config=args.config, store=args.store, database=args.database,
        interactive=not args.yes and sys.stdin.isatty())
    return asyncio.run(setup.run(given, dict(os.environ)))


async def serve(settings: Settings) -> int:
    """Run the Matrix bot until SIGTERM or SIGINT, then shut down cleanly."""
    import signal

    # Signals are taken first of all: a SIGTERM during start-up (loading, upgrading the
    # database) stops the bot cleanly too.
    stop_asked = asyncio.Event()
    running: asyncio.Future | None = None

    def on_signal() -> None:
        stop_asked.set()
        if running is not None:
            bot.stop()  # finish what is in flight, deliver what is decided, close
            if not bot.ready.is_set():
                running.cancel()  # still connecting: nothing in flight to finish

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)

    from bot.app import matrix_bot
    from bot.listener import ListenerError
    from bot.matrix import FatalMatrixError
    from bot.runtime import settle

    try:
        bot = matrix_bot(settings)
    except FatalMatrixError as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return EXIT_FATAL
    from bot.preflight import forum_fault

    forum_checked = asyncio.ensure_future(forum_fault(settings))  # asked while the database opens
    await open_database(bot.runtime.db)
    settle()
    if fault := await forum_checked:  # a [discourse] that waiting cannot put right, as check-config says it
        print(f"mentorbot: {fault}", file=sys.stderr)
        await bot.runtime.close()
        return EXIT_FATAL
    if stop_asked.is_set():
        await bot.runtime.close()
        log.info("stopped before connecting")
        return EXIT_OK
    running = asyncio.ensure_future(bot.run())
    try:
        await running
    except asyncio.CancelledError:
        log.info("stopped before connecting")
    except FatalMatrixError as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return EXIT_TEMPORARY if exc.temporary else EXIT_FATAL
    except ListenerError as exc:
        print(f"mentorbot: {exc}", file=sys.stderr)
        return EXIT_FATAL
    log.info("stopped cleanly")
    return EXIT_OK


async def db_upgrade(settings: Settings) -> int:
    from storage.db import Database, head_revision

    db = Database(settings.storage.url)
    try:
        before = await open_database(db)
        after = head_revision()
        if before == after:
            print(f"The database is up to date (revision {after}).")
        else:
            print(f"The database was upgraded from {before or 'empty'} to revision {after}.")
        return EXIT_OK
    finally:
        await db.close()


async def db_copy(source: str, target: str) -> int:
    from storage.copy import CopyRefused, copy_database

    problems = [f"--{flag} {problem}" for flag, url in (("from", source), ("to", target))
                if (problem := config.check_database_url(url))]
    if problems:
        for problem in problems:
            print(f"mentorbot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    shown_from, shown_to = config.mask_db_url(source), config.mask_db_url(target)
    print(f"Copying {shown_from} to {shown_to} (stop the bot first: what it writes meanwhile is not copied)...")
    try:
        counts = await copy_database(source, target)
    except CopyRefused as exc:
        print(f"mentorbot: cannot copy: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:  # noqa: BLE001 - a connection or database error, told plainly
        reason = getattr(exc, "orig", None) or exc
        print(f"mentorbot: the copy failed, and nothing of it was kept in {shown_to}: {reason}", file=sys.stderr)
        return EXIT_CONFIG
    width = max(len(c.table) for c in counts)
    for c in counts:
        print(f"  {c.table:<{width}}  {c.source:>9,} rows  {'copied' if c.ok else f'MISMATCH: {c.copied:,} copied'}")
    if not all(c.ok for c in counts):
        print("mentorbot: the counts differ; do not use the copy.", file=sys.stderr)
        return EXIT_CONFIG
    total = sum(c.source for c in counts)
    print(f"Done: {total:,} rows in {len(counts)} tables, every count checked. Point [storage] url at the new "
          "database and start the bot.")
    return EXIT_OK


PASSWORD_NOT_SHOWN = "The password is not shown: give it in the PGPASSWORD environment variable or in ~/.pgpass."


def db_backup(settings: Settings, file: str, *, force: bool) -> int:
    from storage.backup import backup_sqlite, postgres_commands

    url = settings.storage.url
    if url.startswith("postgresql"):
        commands = postgres_commands(url, file)
        print(f"The database is on PostgreSQL ({config.mask_db_url(url)}): back it up with PostgreSQL's pg_dump, "
              f"which reads one consistent snapshot while the bot runs:\n\n    {commands.dump}\n\n"
              f"{PASSWORD_NOT_SHOWN} To restore the file into a new, empty database:\n\n"
              f"    {commands.createdb}\n    {commands.restore}")
        return EXIT_OK
    source = sqlite_file(url, "there is nothing to back up")
    copied = source and backup_step(lambda: backup_sqlite(source, Path(file), force=force), refused="cannot back up",
                                    failed=f"the backup failed, and {file} was not written")
    if not copied:
        return EXIT_CONFIG
    print(f"Backed up {source} to {copied.path}: {copied.size:,} bytes, schema revision {copied.revision}, "
          "checked, readable by its owner only.")
    return EXIT_OK


def db_restore(settings: Settings, file: str) -> int:
    from storage.backup import is_postgres_archive, is_sqlite_file, postgres_commands, restore_sqlite

    url = settings.storage.url
    if url.startswith("postgresql"):
        backup = Path(file)
        if not backup.is_file():
            print(f"mentorbot: cannot restore: {file}: no such file", file=sys.stderr)
            return EXIT_CONFIG
        if not is_postgres_archive(backup):
            hint = ("see `mentorbot db backup` for the command that makes one" if not is_sqlite_file(backup) else
                    "it is an SQLite backup. Restore it into SQLite ([storage] url = \"sqlite+aiosqlite:///...\"), "
                    "then move the program over with `mentorbot db copy`")
            print(f"mentorbot: {file} is not a pg_dump archive in the custom format (pg_dump -Fc): {hint}",
                  file=sys.stderr)
            return EXIT_CONFIG
        commands = postgres_commands(url, file)
        print(f"The database is on PostgreSQL ({config.mask_db_url(url)}): restore the archive with PostgreSQL's "
              "pg_restore, into an empty database, with the bot stopped. Make the database if it does not exist "
              f"(the first command), then restore:\n\n    {commands.createdb}\n    {commands.restore}\n\n"
              f"{PASSWORD_NOT_SHOWN} A backup from an older version of mentorbot is upgraded when the bot starts "
              "(or at once, with `mentorbot db upgrade`).")
        return EXIT_OK
    target = sqlite_file(url, "there is nowhere to restore to")
    restored = target and backup_step(lambda: restore_sqlite(Path(file), target), refused="cannot restore",
                                      failed="the restore failed")
    if not restored:
        return EXIT_CONFIG
    print(f"Restored {file} (schema revision {restored.revision}) into {target}.")
    if restored.upgrade_needed:  # from an older version: upgraded now, as at the bot's start
        return asyncio.run(db_upgrade(settings))
    print("Start the bot: it serves the program as it was at the backup.")
    return EXIT_OK


def sqlite_file(url: str, otherwise: str) -> Path | None:
    """The file of the configured SQLite database; None, said, when it is kept in none (in memory)."""
    from storage.db import sqlite_file_of

    if (found := sqlite_file_of(url)) is None:
        print(f"mentorbot: [storage] url {config.mask_db_url(url)} is kept in no file: {otherwise}", file=sys.stderr)
        return None
    return Path(found)


def backup_step(work, *, refused: str, failed: str):
    """What ``work`` returns; None when it was refused or failed, said in one line."""
    from storage.backup import BackupRefused

    try:
        return work()
    except BackupRefused as exc:
        print(f"mentorbot: {refused}: {exc}", file=sys.stderr)
    except (OSError, sqlite3.Error) as exc:
        print(f"mentorbot: {failed}: {exc}", file=sys.stderr)
    return None

if __name__ == "__main__":
    sys.exit(main())

