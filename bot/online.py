"""`mentorbot check-config --online`: connect, and check what the bot would rely on.

One line per check, ✔ or ✘ with what to do. Nothing is changed: the bot's own device and
its encryption store are not touched (with a password and no kept device, the check logs
in with a device of its own and logs it out again; the store is read from a copy). The
wording and the judgement of each answer come from ``bot.preflight``, which `run` uses too.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import aiohttp
from nio import AsyncClient, LoginResponse, RoomGetStateError, RoomResolveAliasError, WhoamiError

from bot import credentials, preflight
from bot import rooms as trust
from bot.config import Settings, mask_db_url
from bot.matrix import ROOM_KEY
from bot.preflight import Check
from commands.words import rooms as rooms_said

__all__ = ["Check", "check"]

# A sync that brings nothing but the rooms the bot is invited to (and their invite state).
INVITES_ONLY = {"room": {"timeline": {"limit": 0}, "state": {"types": []}, "ephemeral": {"types": []},
                         "account_data": {"types": []}},
                "presence": {"types": []}, "account_data": {"types": []}}


async def check(settings: Settings) -> list[Check]:
    """Every check, in order; later checks that need an earlier one are left out when it fails."""
    out = await _matrix(settings)
    out += await _database(settings)
    if settings.discourse is not None:
        out += await preflight.discourse(settings.discourse)
        out.append(preflight.webhook(settings))
    return out


async def _matrix(settings: Settings) -> list[Check]:
    cfg = settings.matrix
    if cfg is None:
        return [Check(False, "[matrix] is not configured: `mentorbot run` needs it (see config.example.toml)")]
    reached = await preflight.homeserver(cfg.homeserver)
    if not reached.ok:
        return [reached]
    out = [reached]
    client = AsyncClient(cfg.homeserver, cfg.user_id)
    logged_in_here = False
    try:
        device = None  # the device the bot would be, when it is one already
        kept = credentials.load(cfg.store_path, cfg.homeserver, cfg.user_id) if cfg.store_path else None
        if kept:
            client.restore_login(cfg.user_id, kept["device_id"], kept["access_token"])
            who = await client.whoami()
            if not isinstance(who, WhoamiError) and who.user_id == cfg.user_id:
                device = kept["device_id"]
                out.append(Check(True, f"the kept device {device}'s token is accepted for {cfg.user_id}"))
            else:
                then = ("the bot would log in as a new device at its next start" if cfg.access_token or cfg.password
                        else "set [matrix] password, and the bot logs in as a new device")
                out.append(Check(False, f"the kept device {kept['device_id']}'s token is no longer accepted for "
                                        f"{cfg.user_id} ({getattr(who, 'message', who.user_id)}): the device was "
                                        f"logged out or removed; {then}"))
        if device is None and cfg.access_token:
            client.access_token = cfg.access_token  # its device is not known before whoami says it
            who = await client.whoami()
            if isinstance(who, WhoamiError):
                out.append(Check(False, preflight.login_refused("access token", cfg.user_id, who.message)))
                return out
            if who.user_id != cfg.user_id:
                out.append(Check(False, preflight.token_of_another(who.user_id, cfg.user_id)))
                return out
            device = who.device_id
            out.append(Check(True, f"the access token is accepted for {cfg.user_id} (device {device})"))
        elif device is None and cfg.password:
            login = await client.login(cfg.password, device_name="mentorbot check-config")
            if not isinstance(login, LoginResponse):
                out.append(Check(False, preflight.login_refused("password", cfg.user_id,
                                                                getattr(login, "message", str(login)))))
                return out
            logged_in_here = True
            out.append(Check(True, f"the password is accepted for {cfg.user_id}"))
        elif device is None:
            out.append(Check(False, "no password or access token: set [matrix] password or MENTORBOT_MATRIX_PASSWORD"))
            return out
        pins = await _pins(settings)
        for kind, ref in (("mentors", cfg.mentors_room), ("council", cfg.council_room)):
            out += await _room(client, kind, ref, pins.get(kind))
        if cfg.encryption:
            out += await _encryption(client, settings, device)
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
            return [Check(False, preflight.room_unresolved(kind, ref, resolved.message))]
        room_id = resolved.room_id
    checks = []
    if pin and pin.get("ref") == ref:
        kept = pin.get("room_id")
        if kept != room_id and pin.get("resolved") != room_id:
            checks.append(Check(False, f"the {kind} room's alias {ref} now names {room_id}, but the bot keeps using "
                                       f"{kept}: if the room really moved, put its ID in [matrix] {kind}_room"))
        room_id = kept or room_id
    state = await client.room_get_state(room_id)
    if not isinstance(state, RoomGetStateError):
        events = state.events
        checks.append(Check(True, f"the {kind} room {ref} resolves and the bot is in it"))
    elif (events := await _invite_state(client, room_id)) is not None:
        checks.append(Check(True, f"the {kind} room {ref} resolves; the bot is invited and joins at start"))
    else:
        return checks + [Check(False, f"the bot is not in the {kind} room {ref} ({state.message}): invite "
                                      f"{client.user_id} to it")]
    problem = trust.openness_of_state(events)
    if problem:
        checks.append(Check(False, f"the {kind} room is not invite-only ({rooms_said.problem(problem)}): joining it "
                                   "gives no role until it is; make it private (invite only)"))
    else:
        checks.append(Check(True, f"the {kind} room is invite-only"))
    return checks


async def _invite_state(client: AsyncClient, room_id: str) -> list[dict] | None:
    """The state an invitation shows of the room (its join rule among it), when the bot is
    invited to it; else None. A sync with no ``since`` acknowledges nothing: the bot's own
    next sync is not changed by it."""
    url = (f"{client.homeserver}/_matrix/client/v3/sync?timeout=0&set_presence=offline"
           f"&filter={quote(json.dumps({**INVITES_ONLY, 'room': {**INVITES_ONLY['room'], 'rooms': [room_id]}}))}")
    try:
        found = await _get_json(url, client.access_token)
    except (aiohttp.ClientError, OSError, ValueError):
        return None
    invited = found.get("rooms", {}).get("invite", {}).get(room_id)
    return invited.get("invite_state", {}).get("events", []) if isinstance(invited, dict) else None


async def _encryption(client: AsyncClient, settings: Settings, device: str | None) -> list[Check]:
    """The device is cross-signed by its owner, and the encryption store keeps its keys."""
    cfg = settings.matrix
    store = Path(cfg.store_path)
    if device is None:
        return [Check(True, f"no device kept yet: the bot logs in as a new device at its first start and keeps its "
                            f"keys in {store}")]
    found = await _post_json(f"{client.homeserver}/_matrix/client/v3/keys/query",
                             {"device_keys": {cfg.user_id: [device]}}, client.access_token)
    published = found.get("device_keys", {}).get(cfg.user_id, {}).get(device)
    out = [_identity(found, cfg.user_id, device, published)]
    if published is None and not (store / f"{cfg.user_id}_{device}.db").exists():
        out.append(Check(True, f"no encryption store for the device {device} yet: the bot makes its keys in "
                               f"{store} at its first start"))
    else:
        out.append(preflight.store_matches(store, cfg.user_id, device, published))
    return out


def _identity(found: dict, user_id: str, device_id: str, device: dict | None) -> Check:
    """Whether the bot's device is cross-signed by its owner, with what a person compares
    to verify it (Element: ``/verify <device> <fingerprint>``)."""
    if device is None:
        return Check(False, f"the homeserver does not list the bot's device {device_id}: start the bot once")
    ssk = found.get("self_signing_keys", {}).get(user_id)
    fingerprint = device.get("keys", {}).get(f"ed25519:{device_id}", "?")
    signed_by = set(device.get("signatures", {}).get(user_id, {}))
    if not ssk or not signed_by & set(ssk.get("keys", {})):
        return Check(False, f"the bot's device {device_id} is not cross-signed by its owner: see the bot's log at "
                            "start for why; clients that exclude unverified devices will not talk to it")
    return Check(True, f"the bot's device {device_id} is cross-signed by its owner (fingerprint {fingerprint})")


async def _get_json(url: str, token: str) -> dict:
    async with aiohttp.ClientSession(timeout=preflight.TIMEOUT) as http:
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
            found = await response.json(content_type=None)
    return found if isinstance(found, dict) else {}


async def _post_json(url: str, body: dict, token: str) -> dict:
    async with aiohttp.ClientSession(timeout=preflight.TIMEOUT) as http:
        async with http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
            found = await response.json(content_type=None)
    return found if isinstance(found, dict) else {}


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
