"""The composition root: what the bot is made of, built from the configuration.

The command line asks for a shell or a Matrix bot; this module opens the database and
makes the pieces (runtime, forum client, transport, scheduler) and joins them. Nothing
below ``bot/`` knows which transport or forum it runs with.
"""

from __future__ import annotations

from typing import TextIO

from bot.charts import ChildProcessCharts
from bot.config import Settings, mask_db_url
from bot.runtime import Runtime
from commands.clock import Clock, SystemClock
from commands.services.forum import Forum


class DatabaseUnavailable(Exception):
    """The database cannot be used; ``fatal`` when waiting will not help (read-only, missing)."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


# What a database says when only the operator can help: it cannot be written, found or entered.
FATAL_DATABASE = ("readonly", "read-only", "unable to open database file", "does not exist", "permission denied",
                  "password authentication failed", "file is not a database", "malformed", "no space left",
                  "file exists", "not a directory")


async def open_database(db) -> str | None:
    """Upgrade the schema and write once, turning failures into a clear message."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from storage.db import SchemaTooNew

    try:
        before = await db.upgrade()
        await db.check_writable()
        return before
    except SchemaTooNew as exc:
        raise DatabaseUnavailable(f"cannot use the database {mask_db_url(db.url)}: {exc}. Install the newer version "
                                  "again, or restore a backup made before the upgrade.", fatal=True) from None
    except (OperationalError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc)
        target = mask_db_url(db.url)
        fatal = any(mark in reason.lower() for mark in FATAL_DATABASE)
        hint = ""
        if any(mark in reason.lower() for mark in ("readonly", "read-only", "permission denied")):
            hint = (" The bot must be able to write it: check that the database file and its folder belong to "
                    "the bot's user and are writable (and, for PostgreSQL, the user's rights).")
        elif "unable to open database file" in reason.lower() or "does not exist" in reason.lower():
            hint = " Check [storage] url: the folder (or, for PostgreSQL, the database) must exist."
        elif not fatal:
            hint = " This may pass (the database server starting, another program holding a lock): trying again later."
        raise DatabaseUnavailable(f"cannot open the database {target}: {reason}.{hint}", fatal=fatal) from None


def forum_for(settings: Settings) -> Forum | None:
    """The forum announcements go to: Discourse when ``[discourse]`` is configured, else none."""
    if settings.discourse is None:
        return None
    from bot.discourse import Discourse  # loaded only when a forum is configured

    return Discourse(settings.discourse)


def matrix_bot(settings: Settings, clock: Clock | None = None):
    """The bot on Matrix: the Matrix adapter as the runtime's outbox, the scheduler waking the
    runtime, and Discourse when configured. Raises ``FatalMatrixError`` on a configuration the
    adapter cannot serve."""
    from bot.matrix import MatrixBot
    from bot.scheduler import Scheduler

    runtime = Runtime(settings, clock or SystemClock(), None, deliver_inline=False, forum=forum_for(settings),
                      charts=ChildProcessCharts())
    listener = listener_for(settings)
    bot = MatrixBot(settings, runtime, Scheduler(runtime), listener=listener)
    runtime.outbox = bot
    if listener is not None:
        from bot.monitoring import watch
        from bot.webhook import serve_webhook  # POST /discourse/webhook, when [discourse] webhook_secret is set

        bot.monitor = watch(bot, listener)  # /health and /metrics
        serve_webhook(listener, runtime)
    return bot


def listener_for(settings: Settings):
    """The HTTP listener of ``[monitoring] listen``, with nothing served on it yet; None when off."""
    if settings.monitoring.address is None:
        return None
    from bot.listener import Listener

    return Listener(*settings.monitoring.address)


def shell_runtime(settings: Settings, clock: Clock, out: TextIO) -> Runtime:
    """The bot in a terminal: replies printed to ``out``; without ``[discourse]``, announcement
    topics are printed instead of posted."""
    from bot.shell import ShellForum, ShellOutbox

    forum = forum_for(settings) or ShellForum(out)
    return Runtime(settings, clock, ShellOutbox(out), forum=forum, charts=ChildProcessCharts())
