"""What the bot writes to its log, and how: ``[logging] level`` and ``format``.

Two formats, both one line per record on standard error (where systemd's journal and
container runtimes collect it):

- ``text``: ``2027-01-04 09:00:00,123 INFO commands.dispatcher: command handled
  command=help outcome=ok duration_ms=3.1 room=dm``: the time, the level, the logger and
  the message, then the record's structured fields as ``key=value``.
- ``json``: one JSON object a line, ``{"time": ..., "level": "info", "logger": ...,
  "message": ..., "command": "help", ...}``, with the same structured fields as keys, for
  a log collector.

Structured fields are what a call passes as ``extra`` (the line per command has
``command``, ``outcome``, ``duration_ms`` and ``room``). No line carries what people
typed, nor their Matrix IDs: the code that logs keeps to that.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that say a line for every event, request or wake-up (or, for Alembic, every plugin
# it loads: the bot says itself when it upgrades the database): only their warnings are kept.
CHATTY = ("nio", "apscheduler", "alembic")
# What every record has: anything else on a record is a structured field of the call.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a log call gave (its ``extra``)."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


class TextFormatter(logging.Formatter):
    """The classic line, followed by the record's structured fields as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extra = fields(record)
        if not extra:
            return line
        return line + " " + " ".join(f"{key}={_text(value)}" for key, value in extra.items())


def _text(value: Any) -> str:
    """A field's value as ``key=value`` shows it: quoted when it has spaces, quotes or ``=``."""
    shown = str(value)
    return json.dumps(shown, ensure_ascii=False) if not shown or _QUOTED.search(shown) else shown


_QUOTED = re.compile(r'[\s"=]')


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the structured
    fields, and for an error with a traceback, ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send every log record at ``level`` (debug, info, warning, error) or above to ``stream``
    (standard error) in ``fmt`` (text or json), replacing whatever was set up before."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logging.basicConfig(level=LEVELS[level], handlers=[handler], force=True)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
