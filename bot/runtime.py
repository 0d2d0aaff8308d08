"""Wiring: settings, database, dispatcher, clock and an outbox, shared by every transport."""

from __future__ import annotations

import logging
from bot.config import Settings
from commands import build_registry
from commands.clock import Clock
from commands.dispatcher import Dispatcher, Result
from commands.messages import Incoming, Outbox
from storage.db import Database

log = logging.getLogger(__name__)


class Runtime:
    """The bot's core, independent of how messages arrive and leave."""

    def __init__(self, settings: Settings, clock: Clock, outbox: Outbox) -> None:
        self.settings = settings
        self.clock = clock
        self.outbox = outbox
        self.db = Database(settings.storage.url)
        self.registry = build_registry()
        prefix = settings.matrix.command_prefix if settings.matrix else "!"
        self.dispatcher = Dispatcher(self.registry, self.db, settings.program, clock, prefix)

    async def start(self) -> None:
        """Upgrade the database schema; safe to call on every start."""
        await self.db.upgrade()

    async def handle(self, incoming: Incoming) -> Result:
        result = await self.dispatcher.handle(incoming)
        for message in result.messages:
            await self.outbox.send(message)
        return result

    async def close(self) -> None:
        await self.db.close()
