"""`mentorbot check-config --online`: connect, and check what the bot would rely on.

One line per check, ✔ or ✘ with what to do. Nothing is changed: the bot's own device and
its encryption store are not touched (with a password and no kept device, the check logs
in with a device of its own and logs it out again).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from nio import AsyncClient, LoginResponse, RoomGetStateError, RoomResolveAliasError, WhoamiError

from bot import rooms as trust
from commands.words import rooms as rooms_said
from bot.config import Settings, mask_db_url
from bot.matrix import ROOM_KEY


@dataclass
class Check:
    ok: bool
    what: str

    def line(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.what}"


async def check(settings: Settings) -> list[Check]:
    """Every check, in order; later checks that need an earlier one are left out when it fails."""
    out: list[Check] = []
    out += await _database(settings)
    cfg = settings.matrix
    if cfg is None:
        out.append(Check(False, "[matrix] is not configured: `mentorbot run` needs it (see config.example.toml)"))
        return out
    base = cfg.homeserver.rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            async with http.get(f"{base}/_matrix/client/versions") as response:
                body = await response.text()
        versions = json.loads(body).get("versions") if body.startswith("{") else None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        out.append(Check(False, f"the homeserver {cfg.homeserver} does not answer ({type(exc).__name__}: {exc}): "
                                "check [matrix] homeserver and the network"))
        return out
    if not versions:
        out.append(Check(False, f"{cfg.homeserver} answers, but not as a Matrix homeserver: check [matrix] "
                                "homeserver (the address clients use, like https://matrix.example.org)"))
        return out
    out.append(Check(True, f"the homeserver {cfg.homeserver} answers (Matrix {versions[-1]})"))
    client = AsyncClient(cfg.homeserver, cfg.user_id)
    logged_in_here = False
    try:
        token, how = _kept_token(settings)
        if token:
            client.restore_login(cfg.user_id, "", token)
            who = await client.whoami()
            if isinstance(who, WhoamiError) or who.user_id != cfg.user_id:
                out.append(Check(False, f"the {how} is not accepted for {cfg.user_id}: "
                                        f"{getattr(who, 'message', None) or who.user_id}"))
                return out
        elif cfg.password:
            login = await client.login(cfg.password, device_name="mentorbot check-config")
            if not isinstance(login, LoginResponse):
                out.append(Check(False, f"the password is not accepted for {cfg.user_id}: "
                                        f"{getattr(login, 'message', login)}"))
                return out
            logged_in_here, how = True, "password"
        else:
            out.append(Check(False, "no password or access token: set [matrix] password or MENTORBOT_MATRIX_PASSWORD"))
            return out
        out.append(Check(True, f"the {how} is accepted for {cfg.user_id}"))
        if cfg.encryption and not logged_in_here:
            out.append(await _identity(client, cfg.user_id, _kept_device(settings)))
        pins = await _pins(settings)
        for kind, ref in (("mentors", cfg.mentors_room), ("council", cfg.council_room)):
            out += await _room(client, kind, ref, pins.get(kind))
    finally:
        if logged_in_here:
            await client.logout()
        await client.close()
    return out


async def _room(client: AsyncClient, kind: str, ref: str, pin: dict | None) -> list[Check]:
    room_id = ref
    if ref.startswith("#"):
        resolved = await client.room_resolve_alias(ref)
        if isinstance(resolved, RoomResolveAliasError):
            return [Check(False, f"the {kind} room {ref} does not resolve ({resolved.message}): "
                                 f"check [matrix] {kind}_room")]
        room_id = resolved.room_id
    checks = []
    if pin and pin.get("ref") == ref:
        kept = pin.get("room_id")
        if kept != room_id and pin.get("resolved") != room_id:
            checks.append(Check(False, f"the {kind} room's alias {ref} now names {room_id}, but the bot keeps using "
                                       f"{kept}: if the room really moved, put its ID in [matrix] {kind}_room"))
        room_id = kept or room_id
    state = await client.room_get_state(room_id)
    if isinstance(state, RoomGetStateError):
        return checks + [Check(False, f"the bot is not in the {kind} room {ref} ({state.message}): invite it")]
    checks.append(Check(True, f"the {kind} room {ref} resolves and the bot is in it"))
    problem = trust.openness_of_state(state.events)
    if problem:
        checks.append(Check(False, f"the {kind} room is not invite-only ({rooms_said.problem(problem)}): joining it "
                                   "gives no role until "
                                   "it is; make it private (invite only)"))
    else:
        checks.append(Check(True, f"the {kind} room is invite-only"))
    return checks


async def _identity(client: AsyncClient, user_id: str, device_id: str | None) -> Check:
    """Whether the bot's device is cross-signed by its owner, with what a person compares
    to verify it (Element: ``/verify <device> <fingerprint>``)."""
    if not device_id:
        return Check(False, "the bot has no kept device yet: start it once, then check again")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        async with http.post(f"{client.homeserver}/_matrix/client/v3/keys/query",
                             json={"device_keys": {user_id: [device_id]}},
                             headers={"Authorization": f"Bearer {client.access_token}"}) as response:
            found = await response.json(content_type=None)
    device = found.get("device_keys", {}).get(user_id, {}).get(device_id)
    ssk = found.get("self_signing_keys", {}).get(user_id)
    if device is None:
        return Check(False, f"the homeserver does not list the bot's device {device_id}: start the bot once")
    fingerprint = device.get("keys", {}).get(f"ed25519:{device_id}", "?")
    signed_by = set(device.get("signatures", {}).get(user_id, {}))
    if not ssk or not signed_by & set(ssk.get("keys", {})):
        return Check(False, f"the bot's device {device_id} is not cross-signed by its owner: see the bot's log at "
                            "start for why; clients that exclude unverified devices will not talk to it")
    return Check(True, f"the bot's device {device_id} is cross-signed by its owner (fingerprint {fingerprint})")


def _kept_device(settings: Settings) -> str | None:
    kept = Path(settings.matrix.store_path) / "credentials.json" if settings.matrix.store_path else None
    try:
        return json.loads(kept.read_text()).get("device_id") if kept is not None and kept.exists() else None
    except (OSError, ValueError):
        return None


def _kept_token(settings: Settings) -> tuple[str, str]:
    """The token the bot would use: its kept device's, else the configured one."""
    cfg = settings.matrix
    kept = Path(cfg.store_path) / "credentials.json" if cfg.store_path else None
    if kept is not None and kept.exists():
        try:
            data = json.loads(kept.read_text())
            if data.get("user_id") == cfg.user_id and data.get("homeserver") == cfg.homeserver:
                return data["access_token"], f"kept device {data.get('device_id')}'s token"
        except (OSError, ValueError, KeyError):
            pass
    return (cfg.access_token, "access token") if cfg.access_token else ("", "")


async def _database(settings: Settings) -> list[Check]:
    from storage.db import HEAD_REVISION, Database

    shown = mask_db_url(settings.storage.url)
    db = Database(settings.storage.url)
    if db.sqlite_file is not None and not db.sqlite_file.exists():
        await db.close()
        return [Check(True, f"the database {shown} does not exist yet: the bot makes it at its first start")]
    try:
        revision = await db.revision()
    except Exception as exc:  # noqa: BLE001 - told, with what to do
        reason = getattr(exc, "orig", None) or exc
        return [Check(False, f"the database {shown} does not open: {reason}")]
    finally:
        await db.close()
    if revision == HEAD_REVISION:
        return [Check(True, f"the database {shown} opens and is up to date (revision {revision})")]
    return [Check(True, f"the database {shown} opens; it is at revision {revision or 'empty'} and is upgraded "
                        f"to {HEAD_REVISION} when the bot starts (or with `mentorbot db upgrade`)")]


async def _pins(settings: Settings) -> dict[str, dict]:
    """The rooms the bot resolved before and keeps, from its database."""
    from sqlalchemy import text

    from storage.db import Database

    db = Database(settings.storage.url)
    out = {}
    if db.sqlite_file is not None and not db.sqlite_file.exists():
        await db.close()
        return out
    try:
        async with db.engine.connect() as conn:
            for kind in ("mentors", "council"):
                value = (await conn.execute(text("SELECT value FROM bot_state WHERE key = :k"),
                                            {"k": ROOM_KEY.format(kind)})).scalar_one_or_none()
                if value and value.startswith("{"):
                    out[kind] = json.loads(value)
    except Exception:  # noqa: BLE001 - a new database keeps nothing yet
        return {}
    finally:
        await db.close()
    return out
