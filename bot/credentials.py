"""The bot's kept device: its id and access token, in the encryption store.

Written when the bot (or `mentorbot init`) logs in with the password, read at every start:
the bot then restores that device instead of logging in again, so it needs no password after
its first login, and its encryption keys stay those of one device. The file is for the bot's
user only, like the rest of the store.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

log = logging.getLogger("mentorbot.matrix")

FILE = "credentials.json"


def path(store: str | Path) -> Path:
    return Path(store) / FILE


def load(store: str | Path, homeserver: str, user_id: str) -> dict[str, str] | None:
    """The kept device of ``user_id`` on ``homeserver`` (``device_id``, ``access_token``), or None
    when the store keeps none for that account."""
    kept = path(store)
    if not kept.exists():
        return None
    try:
        data = json.loads(kept.read_text())
    except (OSError, ValueError):
        log.warning("ignoring an unreadable %s", kept)
        return None
    if not isinstance(data, dict) or data.get("user_id") != user_id or data.get("homeserver") != homeserver:
        return None
    if not data.get("device_id") or not data.get("access_token"):
        return None
    return data


def save(store: str | Path, homeserver: str, user_id: str, device_id: str, token: str) -> None:
    data = {"homeserver": homeserver, "user_id": user_id, "device_id": device_id, "access_token": token}
    fd = os.open(path(store), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
