"""The bot's own HTTP listener (``[monitoring] listen``): what is served on it is added by
whoever needs it (``/health`` and ``/metrics``, ``/discourse/webhook``), then it starts.

Off by default. It is one aiohttp server on the bot's event loop, so a handler may read
the bot's state directly; a handler that needs the database goes through the runtime like
everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("mentorbot.listener")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 1024 * 1024  # a webhook's body is a few kilobytes; nothing served here takes more


class ListenerError(Exception):
    """The listener cannot start (the address is taken, or cannot be had): the message says what to do."""


class Listener:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=MAX_BODY)
        self._runner: web.AppRunner | None = None

    def add(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)  # a line per scrape is noise
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ListenerError(f"cannot listen on {self.host}:{self.port} ({exc.strerror or exc}): "
                                "check [monitoring] listen (is another program using the port?)") from None
        if self.port == 0:  # a spare port was asked for: which one it got
            self.port = self._bound_port()
        log.info("listening on http://%s:%d", self.host, self.port)

    def _bound_port(self) -> int:
        for address in self._runner.addresses:
            return address[1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
