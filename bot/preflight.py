"""What the bot relies on outside itself, asked and worded once for `check-config --online` and `run`.

Every answer is a :class:`Check`: ✔ or ✘ with what to do, and whether a ✘ may pass by
itself (``temporary``: the server is down, starting, busy or limiting requests). `run` waits
and tries again only then; on anything else (a mistyped address, a server that is not what
the configuration says, a refused key, a category that does not exist, an encryption store
that is not the device's) it stops at once with the same words `check-config` prints, because
waiting cannot put it right.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.config import SECRET_ENV, DiscourseSettings, Settings

log = logging.getLogger("mentorbot.preflight")

TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=10)
# What the resolver says of a name that does not exist (as opposed to "cannot ask now").
NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
JSON_ACCEPT = "application/json; charset=utf-8"
WEBHOOK_PATH = "/discourse/webhook"


@dataclass
class Check:
    """One line of `check-config --online`; ``temporary`` for a ✘ that may pass by itself."""

    ok: bool
    what: str
    temporary: bool = False

    def then(self, clause: str) -> str:
        """The text followed by one more sentence."""
        return f"{self.what}{' ' if self.what.endswith('?') else '. '}{clause}"

    def line(self) -> str:
        text = self.then("The bot would wait and retry.") if self.temporary and not self.ok else self.what
        return f"{'✔' if self.ok else '✘'} {text}"


# ---------------------------------------------------------------- reaching a server


def unreachable(exc: BaseException, url: str, thing: str, setting: str) -> Check:
    """Why a server did not answer, and whether waiting may help. ``thing`` names it ("the
    homeserver"), ``setting`` is where its address is configured ("[matrix] homeserver")."""
    host = urlsplit(url).hostname or url
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        reason = getattr(exc.os_error, "strerror", None) or str(exc.os_error)
        if getattr(exc.os_error, "errno", None) in NO_SUCH_NAME:
            return Check(False, f"no such host {host}: check {setting} for a typo (it is {url})")
        return Check(False, f"the name {host} cannot be looked up now ({reason}): is the network (DNS) up?",
                     temporary=True)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = exc.certificate_error
        reason = getattr(error, "verify_message", None) or str(error)
        return Check(False, f"the TLS certificate of {thing} {url} is not trusted ({reason}): check {setting} "
                            "(the name must be one its certificate is for) and that the server's certificate is "
                            "valid and complete")
    if isinstance(exc, aiohttp.ClientSSLError):
        reason = getattr(exc.os_error, "reason", None) or str(exc.os_error)
        return Check(False, f"TLS with {thing} {url} failed ({reason}): does it speak https on that port? If it "
                            f"speaks plain HTTP, write http:// in {setting}")
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.TooManyRedirects)):
        return Check(False, f"{thing} {url} cannot be asked ({type(exc).__name__}: {exc}): check {setting}")
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's own timeouts are these too
        return Check(False, f"{thing} {url} does not answer in time (it may be down or overloaded): is it running, "
                            "and reachable from here?", temporary=True)
    refused = isinstance(getattr(exc, "os_error", None), ConnectionRefusedError) or getattr(exc, "errno", None) == \
        errno.ECONNREFUSED
    if refused:
        return Check(False, f"{thing} {url} refuses connections (it may be down): is it running?", temporary=True)
    hint = "" if not url.startswith("http://") else f" (if it speaks only https, write https:// in {setting})"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return Check(False, f"{thing} {url} cannot be reached ({reason}){hint}: is it running?", temporary=True)


def busy(status: int, url: str, thing: str) -> Check | None:
    """An answer that says the server may answer properly later (it limits requests, or fails now)."""
    if status == 429:
        return Check(False, f"{thing} {url} limits requests now (HTTP 429)", temporary=True)
    if status >= 500:
        return Check(False, f"{thing} {url} answers HTTP {status} (it may be starting, in maintenance or failing)",
                     temporary=True)
    return None


async def homeserver(url: str) -> Check:
    """Whether ``url`` answers as a Matrix homeserver (``/_matrix/client/versions``)."""
    base = url.rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.get(f"{base}/_matrix/client/versions") as response:
                status, body = response.status, await response.read()
            if (found := busy(status, url, "the homeserver")) is not None:
                return found
            versions = _json(body).get("versions") if status == 200 else None
            if versions and isinstance(versions, list):
                return Check(True, f"the homeserver {url} answers (Matrix {versions[-1]})")
            delegated = await _delegated(http, base)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return unreachable(exc, url, "the homeserver", "[matrix] homeserver")
    hint = (f"; {url} names {delegated} as its homeserver: write that" if delegated and delegated != base
            else " (the address clients use, like https://matrix.example.org)")
    return Check(False, f"{url} answers, but not as a Matrix homeserver (HTTP {status}): check [matrix] "
                        f"homeserver{hint}")


async def _delegated(http: aiohttp.ClientSession, base: str) -> str | None:
    """The homeserver a server name delegates to (``/.well-known/matrix/client``), if it says."""
    try:
        async with http.get(f"{base}/.well-known/matrix/client") as response:
            found = _json(await response.read()) if response.status == 200 else {}
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        return None
    named = found.get("m.homeserver", {})
    value = named.get("base_url") if isinstance(named, dict) else None
    return value.rstrip("/") if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def _json(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


# ---------------------------------------------------------------- the login


def login_refused(how: str, user_id: str, message: str) -> str:
    """The password or token is refused (``how``: "password" or "access token")."""
    key = "password" if how == "password" else "access_token"
    return (f"the {how} is not accepted for {user_id} ({message}): check [matrix] {key} "
            f"(or {SECRET_ENV['matrix', key]}) and user_id")


def token_of_another(other: str, user_id: str) -> str:
    return (f"the access token belongs to {other}, not {user_id}: set [matrix] user_id to {other}, "
            f"or use a token of {user_id}")


def room_unresolved(kind: str, ref: str, message: str) -> str:
    return (f"the {kind} room {ref} does not resolve ({message}): check [matrix] {kind}_room; without it the bot "
            "cannot keep its promises to the program")


# ---------------------------------------------------------------- the encryption store


def store_damaged(store: Path, exc: BaseException) -> str:
    return (f"the encryption store in {store} cannot be read ({type(exc).__name__}: {exc}): it is damaged. "
            f"Stop the bot, move the folder {store} aside (keep it, it holds the device's keys), copy its "
            "cross_signing.json into a new, empty folder at the same place (so the bot keeps the identity people "
            "verified), and start again with [matrix] password (or MENTORBOT_MATRIX_PASSWORD) set: the bot logs "
            "in as a new device. Messages sent to the old device cannot be read by the new one.")


def store_mismatch(store: Path, device_id: str, reason: str) -> str:
    return (f"the encryption store in {store} does not match the device {device_id} on the homeserver ({reason}): "
            f"the store was lost or replaced. Stop the bot, move {store} aside (keeping its cross_signing.json for "
            "the new store) and start again with [matrix] password set (or MENTORBOT_MATRIX_PASSWORD): the bot "
            "logs in as a new device. Messages sent to the old device cannot be read by the new one.")


def store_account(store: Path, user_id: str, device_id: str) -> tuple[dict[str, str], bool] | None:
    """The identity keys the store keeps for the device, and whether they reached the homeserver
    (matrix-nio's ``shared``); None when it keeps no account of the device. Read from a copy, so
    that the store itself is not changed (opening it with matrix-nio may write to it). Raises
    ``FileNotFoundError`` when the device's database is not there, and the database's own errors
    when it is damaged."""
    from nio import AsyncClientConfig
    from nio.store import DefaultStore

    name = f"{user_id}_{device_id}.db"
    source = store / name
    if not source.is_file():
        raise FileNotFoundError(name)
    with tempfile.TemporaryDirectory(prefix="mentorbot-store-") as scratch:
        copy = Path(scratch) / name
        # SQLite's backup: a consistent copy even while the bot writes, the original opened read-only.
        original = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(copy)
            try:
                original.backup(target)
            finally:
                target.close()
        finally:
            original.close()
        # The pickle key the bot's client uses (matrix-nio's default: the bot sets none).
        kept = DefaultStore(user_id, device_id, scratch, AsyncClientConfig().pickle_key)
        try:
            account = kept.load_account()
        finally:
            kept.database.close()
    return (dict(account.identity_keys), bool(account.shared)) if account is not None else None


def store_matches(store: Path, user_id: str, device_id: str, published: dict | None) -> Check:
    """Whether the store keeps the device's own keys: those the homeserver publishes for it
    (``published``: the device's entry of ``/keys/query``)."""
    try:
        kept = store_account(store, user_id, device_id)
    except FileNotFoundError as exc:
        return Check(False, store_mismatch(store, device_id, f"the store has no database {exc} for it"))
    except Exception as exc:  # noqa: BLE001 - SQLite's, peewee's or olm's: the store cannot be read
        return Check(False, store_damaged(store, exc))
    if kept is None:
        return Check(False, store_mismatch(store, device_id, "the store keeps no keys of this device"))
    if published is None:
        return Check(False, f"the homeserver publishes no keys of the device {device_id}: start the bot once")
    (identity, shared), keys = kept, published.get("keys", {})
    if keys.get(f"ed25519:{device_id}") != identity.get("ed25519") or \
            keys.get(f"curve25519:{device_id}") != identity.get("curve25519"):
        return Check(False, store_mismatch(store, device_id, "its identity keys differ from those the homeserver "
                                                             "publishes"))
    if not shared:  # made after the device's first keys were published: the homeserver refuses its one-time keys
        return Check(False, store_mismatch(store, device_id, "the store's keys were made after the device's first "
                                                             "ones, and the homeserver refuses them"))
    return Check(True, f"the encryption store in {store} keeps the device {device_id}'s keys, the same the "
                       "homeserver publishes")


# ---------------------------------------------------------------- Discourse


async def discourse(settings: DiscourseSettings) -> list[Check]:
    """The site answers as a Discourse, the API key and user are accepted, the categories exist
    and the user may do there what the bot does. Later checks are left out when one fails."""
    base = settings.url.rstrip("/")
    headers = {"Accept": JSON_ACCEPT, "Api-Key": settings.api_key, "Api-Username": settings.api_username}
    out: list[Check] = []
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            # Asked without the key, so that a refused key is told apart from a site that is not a Discourse.
            status, site, moved = await _get(http, f"{base}/site/basic-info.json", {"Accept": JSON_ACCEPT})
            if (found := busy(status, settings.url, "the Discourse site")) is not None:
                return [found]
            if moved:
                return [Check(False, f"{settings.url} sends the bot elsewhere ({moved}): write the forum's own address "
                                     "in [discourse] url")]
            if status != 200 or not isinstance(site.get("title"), str) or "login_required" not in site:
                return [Check(False, f"{settings.url} answers, but not as a Discourse site (HTTP {status}): check "
                                     "[discourse] url (the forum's address, like https://forum.example.org)")]
            out.append(Check(True, f"the Discourse site {settings.url} answers ({site['title']})"))
            status, me, _ = await _get(http, f"{base}/session/current.json", headers)
            if (found := busy(status, settings.url, "the Discourse site")) is not None:
                return out + [found]
            user = me.get("current_user") if status == 200 else None
            if not isinstance(user, dict):
                said = ",".join(map(str, me.get("errors", []))) or f"HTTP {status}"
                return out + [Check(False, f"the Discourse API key is not accepted for the user "
                                           f"{settings.api_username} ({said}): check [discourse] api_key (or "
                                           f"{SECRET_ENV['discourse', 'api_key']}) and api_username; the key must "
                                           "be active and made for that user or for all users")]
            username = user.get("username", settings.api_username)
            role = " (an admin)" if user.get("admin") else " (a moderator)" if user.get("moderator") else ""
            out.append(Check(True, f"the Discourse API key is accepted for the user {username}{role}"))
            out.append(await _category(http, base, headers, settings, "announcements", username))
            if settings.relay_category:
                out.append(await _category(http, base, headers, settings, "relay", username))
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        out.append(unreachable(exc, settings.url, "the Discourse site", "[discourse] url"))
    return out


async def _category(http: aiohttp.ClientSession, base: str, headers: dict[str, str], settings: DiscourseSettings,
                    role: str, username: str) -> Check:
    key = f"{role}_category"
    category_id = getattr(settings, key)
    status, found, _ = await _get(http, f"{base}/c/{category_id}/show.json", headers)
    if (answer := busy(status, settings.url, "the Discourse site")) is not None:
        return answer
    category = found.get("category") if status == 200 else None
    if status == 404:
        return Check(False, f"the {role} category {category_id} does not exist on {settings.url}: check "
                            f"[discourse] {key} (the number at the end of the category's address, like "
                            "/c/announcements/5)")
    if status == 403:
        return Check(False, f"the user {username} may not see the {role} category {category_id}: give the user "
                            f"access to it on Discourse, or check [discourse] {key}")
    if not isinstance(category, dict):
        return Check(False, f"the {role} category {category_id} cannot be read (HTTP {status}): check [discourse] "
                            f"{key}")
    name = category.get("name", "?")
    if role == "announcements":
        if category.get("permission") != 1:  # Discourse's "full" permission: start topics, reply, see
            return Check(False, f"the announcements category {category_id} ({name}) exists, but the user {username} "
                                "may not start topics in it: give the user (or a group of it) the right to create "
                                f"topics there, or choose another category in [discourse] {key}")
        return Check(True, f"the announcements category {category_id} ({name}) exists, and the user {username} may "
                           "start topics in it")
    return Check(True, f"the relay category {category_id} ({name}) exists, and the user {username} can read it")


async def _get(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    """Status, JSON body and where a redirect points (as the bot's client, which follows none)."""
    async with http.get(url, headers=headers, allow_redirects=False) as response:
        moved = response.headers.get("Location", "") if response.status in (301, 302, 307, 308) else ""
        return response.status, _json(await response.read()), moved


def webhook(settings: Settings) -> Check:
    """Whether Discourse's webhook is on (the configuration makes sure a secret comes with the listener)."""
    d = settings.discourse
    listen = settings.monitoring.listen
    polls = (f"the relay polls every {d.relay_poll_seconds} s" if d.relay_category
             else "the relay is off (relay_category = 0)")
    if not d.webhook_secret:
        return Check(True, f"no Discourse webhook ([discourse] webhook_secret is empty): {polls}")
    return Check(True, f"the Discourse webhook is on: point it at {WEBHOOK_PATH} on the listener {listen} "
                       "(through your proxy), signed with [discourse] webhook_secret")


async def forum_fault(settings: Settings) -> str | None:
    """At start: what in ``[discourse]`` waiting cannot put right (the ✘ text), or None. A forum
    that is down or busy is logged and does not stop the bot: its work waits for it."""
    if settings.discourse is None:
        return None
    for check in await discourse(settings.discourse):
        if check.ok:
            continue
        if not check.temporary:
            return check.what
        log.warning("%s", check.then("The bot starts all the same; what goes to Discourse waits for it."))
        return None
    return None
