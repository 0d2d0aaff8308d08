"""The bot's cross-signing identity: a device its owner has verified.

Clients are moving to exclude devices that their owner has not cross-signed (MSC4153,
"exclude insecure devices"), which would cut a bot off from every encrypted DM. matrix-nio
has no cross-signing, so this module does the part a bot needs, with Matrix's own signing
library (signedjson): it makes the three cross-signing keys (master, self-signing,
user-signing), publishes them, signs the bot's device with the self-signing key, and keeps
the private keys in the encryption store (readable by the bot's user only).

People then verify the bot once (its user, in Element), and every device it ever has is
trusted through that one verification, as long as the keys in the store are kept.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json

log = logging.getLogger("mentorbot.cross_signing")

KEYS_FILE = "cross_signing.json"
USAGES = ("master", "self_signing", "user_signing")


class CrossSigningError(Exception):
    """The identity could not be set up; the message says why and what to do."""


@dataclass(frozen=True)
class Identity:
    """The three private keys. Each is an ed25519 key whose ID is its own public key."""

    keys: dict[str, Any]  # usage -> signedjson signing key

    @classmethod
    def create(cls) -> Identity:
        keys = {}
        for usage in USAGES:
            key = generate_signing_key("0")
            # A cross-signing key is named by its public key, not by a version.
            key.version = encode_verify_key_base64(get_verify_key(key))
            keys[usage] = key
        return cls(keys)

    def public_id(self, usage: str) -> str:
        return self.keys[usage].version

    def public(self, usage: str, user_id: str) -> dict[str, Any]:
        """The key as published: master self-standing, the others signed by the master key."""
        pub = self.public_id(usage)
        body: dict[str, Any] = {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{pub}": pub}}
        if usage != "master":
            body = sign_json(body, user_id, self.keys["master"])
        return body

    def save(self, path: Path) -> None:
        data = {usage: encode_signing_key_base64(key) for usage, key in self.keys.items()}
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)

    @classmethod
    def load(cls, path: Path) -> Identity | None:
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            keys = {}
            for usage in USAGES:
                key = decode_signing_key_base64("ed25519", "0", data[usage])
                key.version = encode_verify_key_base64(get_verify_key(key))
                keys[usage] = key
        except (OSError, ValueError, KeyError) as exc:
            raise CrossSigningError(f"{path} cannot be read ({type(exc).__name__}); it holds the bot's "
                                    "cross-signing keys: restore it from the old store") from None
        return cls(keys)


class Homeserver:
    """The few calls of the client-server API that cross-signing needs, on aiohttp."""

    def __init__(self, base_url: str, access_token: str) -> None:
        self.base = base_url.rstrip("/") + "/_matrix/client/v3"
        self.headers = {"Authorization": f"Bearer {access_token}"}

    async def post(self, http: aiohttp.ClientSession, path: str, body: dict) -> tuple[int, dict]:
        async with http.post(self.base + path, json=body, headers=self.headers) as response:
            try:
                data = await response.json(content_type=None)
            except ValueError:
                data = {}
            return response.status, data if isinstance(data, dict) else {}


async def ensure(*, homeserver: str, access_token: str, user_id: str, device_id: str, store: Path,
                 password: str = "") -> str:
    """Publish the bot's cross-signing keys if it has none yet, and sign its device.

    Returns what was done, in a sentence; raises CrossSigningError when it could not."""
    api = Homeserver(homeserver, access_token)
    path = store / KEYS_FILE
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        status, found = await api.post(http, "/keys/query", {"device_keys": {user_id: [device_id]}})
        if status != 200:
            raise CrossSigningError(f"the homeserver did not list the bot's keys (HTTP {status}: "
                                    f"{found.get('error', '')})")
        published = _master_id(found.get("master_keys", {}).get(user_id))
        identity = Identity.load(path)
        done = []
        if identity is None and published:
            raise CrossSigningError(
                f"the bot's account already has cross-signing keys (master key {published}), but the store "
                f"{store} does not hold them. Copy {KEYS_FILE} from the bot's earlier store into {store} and restart; "
                "or, if those keys are lost, reset the account's cross-signing keys (Element: Settings, Security) "
                "and restart, then verify the bot again")
        if identity is None:
            identity = Identity.create()
            identity.save(path)
        if published and published != identity.public_id("master"):
            raise CrossSigningError(
                f"the bot's account has other cross-signing keys (master key {published}) than those in "
                f"{path} (master key {identity.public_id('master')}): someone reset them. Restore the matching "
                f"{KEYS_FILE}, or move it aside and restart to publish new keys after resetting the account's keys")
        if not published:
            await _publish(http, api, identity, user_id, password)
            done.append(f"published its cross-signing keys (master key {identity.public_id('master')})")
        device = found.get("device_keys", {}).get(user_id, {}).get(device_id)
        if device is None:
            raise CrossSigningError(f"the homeserver does not list the bot's device {device_id} yet")
        self_signing = f"ed25519:{identity.public_id('self_signing')}"
        if self_signing not in device.get("signatures", {}).get(user_id, {}):
            signed = sign_json({k: v for k, v in device.items() if k not in ("signatures", "unsigned")}, user_id,
                               identity.keys["self_signing"])
            status, answer = await api.post(http, "/keys/signatures/upload", {user_id: {device_id: signed}})
            failures = answer.get("failures", {})
            if status != 200 or failures:
                raise CrossSigningError(f"the homeserver refused the device's signature (HTTP {status}: "
                                        f"{answer.get('error') or failures})")
            done.append(f"signed its device {device_id}")
    return "; ".join(done) if done else f"its device {device_id} is cross-signed"


async def _publish(http: aiohttp.ClientSession, api: Homeserver, identity: Identity, user_id: str,
                   password: str) -> None:
    """Upload the three public keys; with user-interactive auth when the homeserver asks for it."""
    body = {usage + "_key": identity.public(usage, user_id) for usage in USAGES}
    status, answer = await api.post(http, "/keys/device_signing/upload", body)
    if status == 401 and "flows" in answer:
        flows = [f.get("stages", []) for f in answer.get("flows", [])]
        if ["m.login.password"] in flows and password:
            auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
                    "password": password, "session": answer.get("session")}
            status, answer = await api.post(http, "/keys/device_signing/upload", {**body, "auth": auth})
        else:
            approve = (answer.get("params", {}).get("org.matrix.cross_signing_reset", {}) or {}).get("url")
            where = f" Approve it at {approve}, then restart the bot." if approve else (
                " Set [matrix] password (or MENTORBOT_MATRIX_PASSWORD) for one start, so the bot can confirm it.")
            raise CrossSigningError("the homeserver asks the account's owner to confirm publishing the bot's "
                                    f"cross-signing keys.{where}")
    if status != 200:
        raise CrossSigningError(f"the homeserver refused the bot's cross-signing keys (HTTP {status}: "
                                f"{answer.get('error', answer)})")


def _master_id(master: dict | None) -> str | None:
    if not master:
        return None
    return next(iter(master.get("keys", {}).values()), None)
