"""Charts drawn as PNG images in a short-lived child process, just before they are sent.

A message may carry a chart to draw (a ``File`` whose encoding is ``CHART``: its months and
series). The runtime has it drawn here when the message is sent: ``python -m bot.chart_child``
is given the chart as JSON on its stdin and answers the PNG image on its stdout. The plotting
library is loaded in that process only, which ends with the image: the bot's own memory does
not grow by it. A chart that cannot be drawn (the library missing, the process too slow or
failing) is left out, and the message says so; its figures are in its text all the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import struct
import sys
from pathlib import Path
from typing import Protocol

from commands.messages import File, Rendered
from commands.text import Msg
from commands.words import rules as rules_said

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHILD = "bot.chart_child"
TIMEOUT = 30.0  # seconds for the child to start, load the library and draw (about 1 s on an idle core)
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # where the child finds this same code


class ChartFailed(Exception):
    """A chart could not be drawn; the reason is for the log."""


class Charts(Protocol):
    """Draws a chart (a ``File.spec()``) as a PNG image, or raises ``ChartFailed``."""

    async def draw(self, spec: dict) -> bytes: ...


class ChildProcessCharts:
    """Draws each chart in a child process of its own (one at a time), which ends with it."""

    def __init__(self, *, timeout: float = TIMEOUT, command: tuple[str, ...] | None = None) -> None:
        self.timeout = timeout
        self.command = command or (sys.executable, "-m", CHILD)
        self._one_at_a_time = asyncio.Lock()

    def _environment(self) -> dict[str, str]:
        # The bot's own settings (its password, its token) are no business of the child's.
        env = {name: value for name, value in os.environ.items() if not name.startswith("MENTORBOT_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        env["MPLBACKEND"] = "Agg"
        # The library keeps its font list in a cache folder; under systemd (CacheDirectory=) the
        # unit's own, so that it is built once, not at every chart.
        if "MPLCONFIGDIR" not in env and env.get("CACHE_DIRECTORY"):
            env["MPLCONFIGDIR"] = os.path.join(env["CACHE_DIRECTORY"].split(":")[0], "matplotlib")
        return env

    async def draw(self, spec: dict) -> bytes:
        async with self._one_at_a_time:  # a few charts asked at once are drawn in turn, not all at once
            try:
                child = await asyncio.create_subprocess_exec(
                    *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, env=self._environment())
            except OSError as exc:
                raise ChartFailed(f"cannot start the chart process: {exc}") from None
            try:
                out, err = await asyncio.wait_for(child.communicate(json.dumps(spec).encode()), self.timeout)
            except asyncio.TimeoutError:
                child.kill()
                await child.wait()
                raise ChartFailed(f"the chart process took longer than {self.timeout:.0f} s") from None
            except BaseException:  # cancelled (the bot stopping): the child goes too
                if child.returncode is None:
                    child.kill()
                    await child.wait()
                raise
        if child.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()
            raise ChartFailed(f"the chart process failed ({child.returncode}): {said[-1] if said else 'no message'}")
        if not out.startswith(PNG_SIGNATURE):
            raise ChartFailed("the chart process did not answer a PNG image")
        return out


def png_size(data: bytes) -> tuple[int, int] | None:
    """The width and height of a PNG image, from its header; None if it is not one."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


async def drawn(message: Rendered, charts: Charts | None) -> Rendered:
    """``message`` with its charts drawn as PNG images. A chart that cannot be drawn (or with no
    ``charts`` to draw it) is left out, and the message says so: its figures are in its text."""
    if not any(f.to_draw for f in message.files):
        return message
    files: list[File] = []
    failed = False
    for f in message.files:
        if not f.to_draw:
            files.append(f)
            continue
        try:
            if charts is None:
                raise ChartFailed("no chart drawing here")
            png = await charts.draw(f.spec())
        except ChartFailed as exc:
            log.warning("the chart %s is sent as text only: %s", f.name, exc)
            failed = True
            continue
        files.append(File.binary(f.name, f.mimetype, png, f.alt))
    if not failed:
        return dataclasses.replace(message, files=tuple(files))
    note = Msg("\n\n", rules_said.chart_not_drawn())
    return dataclasses.replace(message, body=message.body + note.plain(), html=message.html + note.html(),
                               files=tuple(files))
