"""What the operator is told before the bot relies on the outside world.

`mentorbot check-config --online` says, one line each, whether the homeserver, the login, the
rooms, the encryption store, the database and Discourse are as the bot needs them, and what to
do when one is not. `mentorbot run` judges the same answers the same way: what waiting cannot
put right (a mistyped address, a server that is not a homeserver, a refused Discourse key, a
missing category) stops it at once with the same words and exit 78; what may pass (a server
that is down) it waits out.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
from nio import AsyncClientConfig
from nio.crypto import OlmAccount
from nio.store import DefaultStore

from bot import online, preflight
from bot.config import StorageSettings, load
from bot.matrix import FatalMatrixError
from tests.conftest import database_url, storage_toml
from tests.matrix_helpers import RunningBot
from tests.synapse import free_port
from tests.test_cli import mentorbot
from tests.test_matrix import world  # noqa: F401 - the fixture is used by name

ROOMS = 'mentors_room = "!mentors:localhost"\ncouncil_room = "!council:localhost"\n'
WEBHOOK_SECRET = "hook-canary-7"


def matrix_toml(homeserver: str, user_id: str = "@bot:localhost", store: str = "store", rooms: str = ROOMS) -> str:
    return f'[matrix]\nhomeserver = "{homeserver}"\nuser_id = "{user_id}"\nstore_path = "{store}"\n{rooms}'


def discourse_toml(fake, *, key: str | None = None, announcements: int = 5, relay: int = 6,
                   webhook: bool = False) -> str:
    return (f'[discourse]\nurl = "{fake.url}"\napi_username = "{fake.api_username}"\napi_key = "{key or fake.api_key}"\n'
            f"announcements_category = {announcements}\nrelay_category = {relay}\n"
            + (f'webhook_secret = "{WEBHOOK_SECRET}"\n' if webhook else ""))


def check_online(tmp_path: Path, config: str, env: dict | None = None):
    (tmp_path / "config.toml").write_text(config)
    return mentorbot("check-config", "--online", cwd=tmp_path, env={"MENTORBOT_MATRIX_PASSWORD": "pw-canary-3"}
                     | (env or {}))


def lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith(("✔", "✘"))]


# ---------------------------------------------------------------- no homeserver needed


@pytest.mark.sqlite_only
def test_check_config_online_tells_a_wrong_address_and_each_discourse_fault_with_what_to_do(tmp_path, fake):
    # A homeserver name that does not exist and a Discourse key that is not the one; the webhook is on.
    result = check_online(tmp_path, matrix_toml("https://matrix.example.invalid") + storage_toml(tmp_path)
                          + discourse_toml(fake, key="wrong-key-0123456789", webhook=True)
                          + '[monitoring]\nlisten = "127.0.0.1:9108"\n')
    found = lines(result.stdout)
    assert result.returncode == 1, result.stdout
    assert found[0] == ("✘ no such host matrix.example.invalid: check [matrix] homeserver for a typo "
                        "(it is https://matrix.example.invalid)")
    assert f"✔ the Discourse site {fake.url} answers (Mentoring forum)" in found
    assert ("✘ the Discourse API key is not accepted for the user mentorbot (The API username or key is invalid.): "
            "check [discourse] api_key (or MENTORBOT_DISCOURSE_API_KEY) and api_username; the key must be active and "
            "made for that user or for all users") in found
    [hook] = [line for line in found if "webhook" in line]
    assert hook.startswith("✔ the Discourse webhook is on: point it at /discourse/webhook on the listener 127.0.0.1:9108")
    assert "2 checks failed" in result.stdout
    assert not [line for line in found if "category" in line]  # not asked with a key that is refused
    shown = result.stdout + result.stderr
    assert "wrong-key-0123456789" not in shown and WEBHOOK_SECRET not in shown and "pw-canary-3" not in shown
    # A server that answers, but is no homeserver (the forum's address); the right key; a category
    # that does not exist, and one where the user may not start topics.
    fake.no_topics_in.add(7)
    result = check_online(tmp_path, matrix_toml(fake.url) + storage_toml(tmp_path)
                          + discourse_toml(fake, announcements=9, relay=6))
    found = lines(result.stdout)
    assert found[0].startswith(f"✘ {fake.url} answers, but not as a Matrix homeserver (HTTP 4")
    assert found[0].endswith("): check [matrix] homeserver (the address clients use, like https://matrix.example.org)")
    assert "✔ the Discourse API key is accepted for the user mentorbot (an admin)" in found
    assert (f"✘ the announcements category 9 does not exist on {fake.url}: check [discourse] announcements_category "
            "(the number at the end of the category's address, like /c/announcements/5)") in found
    assert "✔ the relay category 6 (Mentors) exists, and the user mentorbot can read it" in found
    assert "✔ no Discourse webhook ([discourse] webhook_secret is empty): the relay polls every 120 s" in found
    result = check_online(tmp_path, matrix_toml(fake.url) + storage_toml(tmp_path)
                          + discourse_toml(fake, announcements=7, relay=0))
    assert ("✘ the announcements category 7 (General) exists, but the user mentorbot may not start topics in it: "
            "give the user (or a group of it) the right to create topics there, or choose another category in "
            "[discourse] announcements_category") in lines(result.stdout)


@pytest.mark.sqlite_only
async def test_a_homeserver_that_is_down_may_come_back_and_tls_that_fails_will_not(fake):
    down = await preflight.homeserver(f"http://127.0.0.1:{free_port()}")
    assert down.temporary and not down.ok
    assert down.line() == (f"✘ {down.what.split(' refuses')[0]} refuses connections (it may be down): is it running? "
                           "The bot would wait and retry.")
    plain = fake.url.replace("http://", "https://")  # TLS asked of a server that speaks plain HTTP
    tls = await preflight.homeserver(plain)
    assert not tls.ok and not tls.temporary
    assert tls.line() == (f"✘ TLS with the homeserver {plain} failed (WRONG_VERSION_NUMBER): does it speak https on "
                          "that port? If it speaks plain HTTP, write http:// in [matrix] homeserver")
    fake.faults.down = True  # a proxy's 503 while the server behind it restarts
    busy = await preflight.homeserver(fake.url)
    assert busy.temporary and "answers HTTP 503 (it may be starting, in maintenance or failing)" in busy.what


def run_until_it_stops(tmp_path: Path, config: str, within: float = 30):
    (tmp_path / "config.toml").write_text(config)
    started = time.monotonic()
    result = mentorbot("run", cwd=tmp_path, env={"MENTORBOT_MATRIX_PASSWORD": "pw-canary-3"})
    return result, time.monotonic() - started


@pytest.mark.sqlite_only
def test_run_stops_at_once_with_the_same_words_on_what_waiting_cannot_cure(tmp_path, fake):
    cases = [
        (matrix_toml("https://matrix.example.invalid"), "no such host matrix.example.invalid: check [matrix] "
                                                        "homeserver for a typo"),
        (matrix_toml(fake.url), f"{fake.url} answers, but not as a Matrix homeserver (HTTP "),
        # Discourse is asked at start too, whatever the homeserver does meanwhile.
        (matrix_toml(f"http://127.0.0.1:{free_port()}") + discourse_toml(fake, key="wrong-key-0123456789"),
         "the Discourse API key is not accepted for the user mentorbot (The API username or key is invalid.)"),
        (matrix_toml(f"http://127.0.0.1:{free_port()}") + discourse_toml(fake, announcements=9),
         f"the announcements category 9 does not exist on {fake.url}: check [discourse] announcements_category"),
    ]
    for config, said in cases:
        result, took = run_until_it_stops(tmp_path, config + storage_toml(tmp_path))
        assert result.returncode == 78, result.stderr  # the systemd unit does not restart on 78
        assert f"mentorbot: {said}" in result.stderr
        assert took < 20, took  # no retrying
        assert "Trying again" not in result.stderr and "pw-canary-3" not in result.stderr
        assert "wrong-key-0123456789" not in result.stderr


# ---------------------------------------------------------------- on a real homeserver


def copy_store(source: Path, target: Path) -> Path:
    """The store of a running bot, copied as its files are (its databases by SQLite's backup)."""
    target.mkdir()
    for item in source.iterdir():
        if item.suffix == ".db":
            with sqlite3.connect(item) as original, sqlite3.connect(target / item.name) as copy:
                original.backup(copy)
        elif item.is_file():
            (target / item.name).write_bytes(item.read_bytes())
    return target


@pytest.mark.sqlite_only
async def test_check_config_online_on_a_running_bot_is_all_well_and_tells_a_store_that_is_not_the_devices(
        world, fake, tmp_path):
    settings = world.running.settings
    cfg, store = settings.matrix, Path(settings.matrix.store_path)
    device = world.running.bot.client.device_id
    rooms = f'mentors_room = "{world.mentors_room}"\ncouncil_room = "{world.council_room}"\n'
    config = (matrix_toml(cfg.homeserver, cfg.user_id, str(store), rooms) + storage_toml(tmp_path)
              + discourse_toml(fake, webhook=True) + '[monitoring]\nlisten = "127.0.0.1:9108"\n')
    result = await asyncio.to_thread(check_online, tmp_path, config,
                                     {"MENTORBOT_MATRIX_PASSWORD": world.bot.password})
    found = lines(result.stdout)
    assert result.returncode == 0, result.stdout
    assert "Everything the bot relies on is in place." in result.stdout and not [l for l in found if "✘" in l]
    assert f"✔ the kept device {device}'s token is accepted for {cfg.user_id}" in found
    assert f"✔ the mentors room {world.mentors_room} resolves and the bot is in it" in found
    assert f"✔ the bot's device {device} is cross-signed by its owner (fingerprint " \
           f"{world.running.bot.client.olm.account.identity_keys['ed25519']})" in found
    assert (f"✔ the encryption store in {store} keeps the device {device}'s keys, the same the homeserver "
            "publishes") in found
    assert any(line.startswith("✔ the database ") for line in found)
    assert [line.split(" (")[0].split(" answers")[0] for line in found if "Discourse" in line or "category" in line] \
        == [f"✔ the Discourse site {fake.url}", "✔ the Discourse API key is accepted for the user mentorbot",
            "✔ the announcements category 5", "✔ the relay category 6",
            "✔ the Discourse webhook is on: point it at /discourse/webhook on the listener 127.0.0.1:9108"]
    shown = result.stdout + result.stderr
    assert world.bot.password not in shown and fake.api_key not in shown and WEBHOOK_SECRET not in shown

    async def said(**matrix) -> list[str]:
        (tmp_path / "variant.toml").write_text(matrix_toml(cfg.homeserver, cfg.user_id, matrix.pop("store", str(store)),
                                                           rooms) + "".join(f'{k} = "{v}"\n' for k, v in
                                                                            matrix.items()) + storage_toml(tmp_path))
        return [c.line() for c in await online.check(load(str(tmp_path / "variant.toml")))]

    # A token that is not the bot's (and no device kept, so the token is what the bot would use).
    (tmp_path / "empty").mkdir()
    refused = await said(store=str(tmp_path / "empty"), access_token="syt_not_a_token_of_anyone")
    assert [line for line in refused if "token" in line] == [
        f"✘ the access token is not accepted for {cfg.user_id} (Invalid access token passed.): check [matrix] "
        "access_token (or MENTORBOT_MATRIX_ACCESS_TOKEN) and user_id"]
    # A password that is not the bot's stops `run` with the words check-config prints (and for good).
    (tmp_path / "other").mkdir()
    wrong = replace(settings, matrix=replace(cfg, password="not-the-password", store_path=str(tmp_path / "fresh")),
                    storage=StorageSettings(url=database_url(tmp_path / "other")))
    [told] = [c for c in await online.check(wrong) if not c.ok]
    assert told.line() == (f"✘ the password is not accepted for {cfg.user_id} (Invalid username or password): check "
                           "[matrix] password (or MENTORBOT_MATRIX_PASSWORD) and user_id")
    with pytest.raises(FatalMatrixError) as stopped:
        await RunningBot(wrong).start()
    assert str(stopped.value) == told.what and not stopped.value.temporary
    # The device's store, lost: its database is gone, or holds another device's keys, or is damaged.
    # Each is told with what to do, in the words the bot stops with at start.
    lost = copy_store(store, tmp_path / "lost")
    [database] = lost.glob("*.db")
    database.unlink()
    found = await said(store=str(lost), password=world.bot.password)
    assert f"✔ the bot's device {device} is cross-signed by its owner (fingerprint" in "\n".join(found)
    assert (f"✘ {preflight.store_mismatch(lost, device, f'the store has no database {database.name} for it')}"
            in found)
    [another] = Path(world.cy.client.store_path).glob("*.db")
    with sqlite3.connect(another) as original, sqlite3.connect(database) as copy:
        original.backup(copy)  # Cy's keys, under the bot's device's name
    found = await said(store=str(lost), password=world.bot.password)
    assert f"✘ {preflight.store_mismatch(lost, device, 'the store keeps no keys of this device')}" in found
    database.unlink()  # keys of the device's own, but not the ones it published
    made = DefaultStore(cfg.user_id, device, str(lost), AsyncClientConfig().pickle_key)
    account = OlmAccount()
    account.shared = True
    made.save_account(account)
    made.database.close()
    found = await said(store=str(lost), password=world.bot.password)
    assert (f"✘ {preflight.store_mismatch(lost, device, 'its identity keys differ from those the homeserver publishes')}"
            in found)
    database.write_bytes(b"this is not a database any more " * 64)
    [damaged] = [line for line in await said(store=str(lost), password=world.bot.password) if "store" in line]
    assert damaged.startswith(f"✘ the encryption store in {lost} cannot be read (") and "it is damaged" in damaged
    assert "copy its cross_signing.json into a new, empty folder" in damaged
    assert database.read_bytes() == b"this is not a database any more " * 64  # read, never changed
