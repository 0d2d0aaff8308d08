"""`mentorbot init`: from a new account on a real homeserver to a bot that answers.

The installed `mentorbot` runs in a process of its own, as an operator runs it: with flags,
in a terminal, twice, and then `mentorbot run` on what it wrote, without the password.
"""

from __future__ import annotations

import asyncio
import os
import pty
import secrets
import select
import shutil
import stat
import sys
import time
import tomllib
from pathlib import Path

import pytest
from nio import RoomPreset

from bot import credentials
from bot.init import Given, Plan, config_text, example_config, plan
from tests.conftest import database_url
from tests.matrix_helpers import person, unique

pytestmark = pytest.mark.sqlite_only  # what init does does not depend on the kind of database

EXE = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
MEGOLM = "m.megolm.v1.aes-sha2"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any of the bot's own variables: nothing comes from outside by accident."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")} | extra


async def mentorbot(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(EXE, *args, cwd=cwd, env=env or clean_env(),
                                                   stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def in_a_terminal(cwd: Path, answers: list[tuple[str, str]], env: dict[str, str]) -> tuple[int, str]:
    """`mentorbot init` in a terminal of its own: each answer is typed once its prompt shows."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.chdir(cwd)
        os.execve(EXE, [EXE, "init"], env)
    said, waiting = b"", list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            said += chunk
        if waiting and waiting[0][0].encode() in said.rsplit(b"\n", 1)[-1]:
            os.write(fd, waiting.pop(0)[1].encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    assert not waiting, f"init did not ask {waiting[0][0]!r}:\n{said.decode()}"
    return os.waitstatus_to_exitcode(status), said.decode().replace("\r\n", "\n")


def steps(out: str) -> list[str]:
    """init's own lines (the online checks after them are indented)."""
    return [line for line in out.splitlines() if line[:1] in ("✔", "✘")]


def files_hold(folder: Path, secret: str) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


async def test_init_takes_a_new_account_to_a_bot_that_answers_and_running_it_again_changes_nothing(synapse, tmp_path):
    password = f"pw-{secrets.token_hex(8)}"
    bot = synapse.register(unique("initbot"), password=password)
    cy = await person(synapse, "cy", tmp_path, encrypted=True)  # joins the rooms when invited
    flags = ["init", "--homeserver", synapse.url, "--user-id", bot.user_id, "--password-env", "BOT_SECRET",
             "--name", "Reps", "--timezone", "Europe/Berlin", "--language", "en", "--council", cy.user_id,
             "--database", database_url(tmp_path), "--yes"]
    env = clean_env(BOT_SECRET=password)
    localpart = bot.user_id[1:].split(":")[0]
    running = None
    try:
        code, out, err = await mentorbot(tmp_path, *flags, env=env)
        assert code == 0, out + err
        assert "✘" not in out and password not in out + err
        made = steps(out)
        assert made[0] == f"✔ the homeserver {synapse.url} answers (Matrix {made[0].rsplit(' ', 1)[1]}"
        assert made[1].startswith("✔ created: the bot's device ") and "kept in store/credentials.json" in made[1]
        assert made[2].startswith("✔ created: the encryption keys of device ") and "signed its device" in made[2]
        assert made[3].startswith('✔ created: the mentors room "Reps mentors" (!')
        assert made[3].endswith(f", #{localpart}-mentors:localhost), invite-only and encrypted")
        assert made[4].startswith('✔ created: the council room "Reps council" (!')
        assert made[5:7] == [f"✔ created: an invitation for {cy.user_id} to the mentors room",
                             f"✔ created: an invitation for {cy.user_id} to the council room"]
        assert made[7] == "✔ created: config.toml (for the bot's user only), with no password or token in it"
        assert "Online checks:" in out and "is cross-signed by its owner" in out

        # What it wrote: the configuration, for the bot's user only, with no secret in it.
        path = tmp_path / "config.toml"
        written = tomllib.loads(path.read_text())
        matrix, program = written["matrix"], written["program"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert (matrix["homeserver"], matrix["user_id"], matrix["store_path"]) == (synapse.url, bot.user_id, "store")
        assert matrix["password"] == matrix["access_token"] == ""
        assert (program["name"], program["timezone"], program["language"], program["council"]) == (
            "Reps", "Europe/Berlin", "en", [cy.user_id])
        assert written["storage"]["url"] == database_url(tmp_path) and "discourse" not in written
        rooms = {"mentors": matrix["mentors_room"], "council": matrix["council_room"]}
        # The device, kept in the store as the bot keeps it; the password nowhere.
        kept = credentials.load(tmp_path / "store", synapse.url, bot.user_id)
        assert kept is not None and stat.S_IMODE(credentials.path(tmp_path / "store").stat().st_mode) == 0o600
        assert files_hold(tmp_path, password) == []
        code, checked, err = await mentorbot(tmp_path, "check-config")
        assert code == 0, checked + err

        # The rooms, as the council member sees them once he joined: invite-only, encrypted,
        # named after the program, and he may look after them.
        for kind, room in rooms.items():
            await cy.until_joined(room, cy.user_id)
            state = synapse._request("GET", f"/_matrix/client/v3/rooms/{room}/state", token=cy.account.access_token)
            content = {event["type"]: event["content"] for event in state if event.get("state_key") == ""}
            assert content["m.room.join_rules"]["join_rule"] == "invite"
            assert content["m.room.history_visibility"]["history_visibility"] in ("shared", "joined")
            assert content["m.room.encryption"]["algorithm"] == MEGOLM
            assert content["m.room.name"]["name"] == f"Reps {kind}"
            assert content["m.room.power_levels"]["users"][cy.user_id] == 100

        def devices() -> set[str]:
            found = synapse._request("GET", "/_matrix/client/v3/devices", token=bot.access_token)
            return {d["device_id"] for d in found["devices"]}

        def joined_rooms() -> set[str]:
            return set(synapse._request("GET", "/_matrix/client/v3/joined_rooms", token=bot.access_token)["joined_rooms"])

        before = devices(), joined_rooms(), path.read_bytes(), path.stat().st_mtime_ns
        assert before[0] == {bot.device_id, kept["device_id"]} and before[1] == set(rooms.values())

        # Again, the same way: everything is there already, and nothing new is made.
        code, out, err = await mentorbot(tmp_path, *flags, env=env)
        assert code == 0, out + err
        again = steps(out)
        assert [line for line in again if "created" in line] == []
        assert again[1] == f"✔ already there: the bot's device {kept['device_id']}, kept in store/credentials.json"
        assert again[3] == f"✔ already there: the mentors room {rooms['mentors']}, invite-only and encrypted"
        assert f"✔ already there: {cy.user_id} is in the council room" in again
        assert again[-1] == "✔ already there: config.toml, with the values init sets"
        assert (devices(), joined_rooms(), path.read_bytes(), path.stat().st_mtime_ns) == before

        # In a terminal, without flags: it offers what is there, and Enter keeps it.
        code, said = await asyncio.to_thread(in_a_terminal, tmp_path, [
            ("address", ""), ("Matrix ID", ""), ("name [Reps]", ""), ("time zone [Europe/Berlin]", ""),
            ("language", ""), (f"Council members, Matrix IDs separated by spaces (like @cy:example.org) "
                               f"[{cy.user_id}]", ""), ("mentors room", ""), ("council room", "")], clean_env())
        assert code == 0, said
        assert f"homeserver's address, where Element connects (like https://matrix.example.org) [{synapse.url}]" in said
        assert [line for line in steps(said) if not line.startswith("✔ already there") and " answers " not in line] == []
        # Asked for something else than what the file says, it leaves the file as it is and says why.
        code, out, err = await mentorbot(tmp_path, *flags[:-1], "--name", "Another name", "--yes", env=env)
        assert code == 1
        assert ("✘ config.toml is there already and differs from what init would write: [program] name is 'Reps' "
                "there, not 'Another name'. It was left as it is") in out
        assert (devices(), joined_rooms(), path.read_bytes()) == before[:3]

        # The bot runs from what init made, on the device it kept, with no password anywhere.
        process = await asyncio.create_subprocess_exec(EXE, "run", "-v", cwd=tmp_path, env=clean_env(),
                                                       stderr=asyncio.subprocess.PIPE)
        running = process
        log = b""
        while b"joined and syncing" not in log:
            line = await asyncio.wait_for(process.stderr.readline(), 60)
            assert line, log.decode()
            log += line
        assert f"restored device {kept['device_id']}".encode() in log
        await cy.say(rooms["council"], "!help")
        [reply] = await cy.replies(bot.user_id, rooms["council"], 1, timeout=30)
        assert reply.body.startswith("Here is what you can do.")
        process.terminate()
        rest = await asyncio.wait_for(process.stderr.read(), 30)
        assert await process.wait() == 0 and password.encode() not in log + rest
        running = None
        assert devices() == before[0]
    finally:
        if running is not None:
            running.kill()
            await running.wait()
        await cy.stop()


async def test_init_stops_with_what_to_do_and_writes_nothing_it_should_not(synapse, tmp_path, fake):
    password = f"pw-{secrets.token_hex(8)}"
    bot = synapse.register(unique("wrongbot"), password=password)
    cy = await person(synapse, "cy", tmp_path)
    base = ["init", "--homeserver", synapse.url, "--user-id", bot.user_id, "--council", cy.user_id, "--yes"]
    work = tmp_path / "work"
    work.mkdir()
    try:
        # A wrong password: said, and nothing is left behind.
        code, out, err = await mentorbot(work, *base, env=clean_env(MENTORBOT_MATRIX_PASSWORD="not-the-password"))
        assert code == 1
        assert (f"✘ the homeserver refused the login as {bot.user_id} (Invalid username or password): check the "
                "account and its password, then run init again; nothing was written") in out
        assert "not-the-password" not in out + err and "Traceback" not in err
        assert list(work.iterdir()) == []
        # An address that answers, but not as a Matrix homeserver.
        code, out, err = await mentorbot(work, *base[:2], fake.url, *base[3:])
        assert code == 1 and "Traceback" not in err
        assert f"✘ {fake.url} answers, but not as a Matrix homeserver (HTTP 403): check --homeserver" in out
        assert list(work.iterdir()) == []
        # A room given that anyone can join: said, with what to change, and not changed.
        public = await cy.client.room_create(name="open", invite=[bot.user_id], preset=RoomPreset.public_chat)
        code, out, err = await mentorbot(work, *base, "--mentors-room", public.room_id,
                                         env=clean_env(MENTORBOT_MATRIX_PASSWORD=password))
        assert code == 1
        assert (f"✘ the mentors room {public.room_id} is not invite-only (anyone can join it): make it private "
                "(Element: Room settings, Security & Privacy, Private (invite only)), then run init again") in out
        rule = synapse._request("GET", f"/_matrix/client/v3/rooms/{public.room_id}/state/m.room.join_rules/",
                                token=cy.account.access_token)
        assert rule["join_rule"] == "public"
        assert not (work / "config.toml").exists() and password not in out + err
    finally:
        await cy.stop()


def test_init_names_every_flag_that_is_missing_or_wrong_and_does_nothing(tmp_path):
    import subprocess

    result = subprocess.run([EXE, "init", "--user-id", "bot", "--timezone", "Mars/Base", "--council", "cy",
                             "--database", "postgresql+asyncpg://bot:hunter2@db/mentorbot", "--yes"],
                            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "✘ --homeserver is needed: the homeserver's address, where Element connects (like https://matrix.example.org)",
        "✘ --user-id: 'bot' is not a Matrix ID: write it like @mentorbot:example.org",
        "✘ --timezone: unknown time zone 'Mars/Base': use a name like Europe/Berlin or UTC",
        "✘ --council: 'cy' is not a Matrix ID: write it like @cy:example.org",
        "✘ --database: a database password belongs neither on the command line (others see it in the process "
        "list) nor in the configuration: set the whole URL in MENTORBOT_STORAGE_URL where the bot runs, and leave "
        "--database out",
        "Nothing was done.",
    ]
    assert "hunter2" not in result.stdout + result.stderr and list(tmp_path.iterdir()) == []
    helped = subprocess.run([EXE, "init", "--help"], capture_output=True, text=True, timeout=60)
    for flag in ("--homeserver", "--user-id", "--password-env", "--name", "--timezone", "--language", "--council",
                 "--mentors-room", "--council-room", "--config", "--store", "--database", "--yes"):
        assert flag in helped.stdout


def test_the_configuration_is_the_shipped_example_filled_in_and_valid_with_the_kept_device(tmp_path, monkeypatch):
    from bot import config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MENTORBOT_CONFIG", raising=False)
    the_plan = Plan(path=tmp_path / "config.toml", homeserver="https://matrix.example.net", user_id="@bot:example.net",
                    name='The "Reps" program', timezone="America/Sao_Paulo", language="pt",
                    council=["@cy:example.net", "@di:example.net"], rooms={}, store="keys", database="sqlite+aiosqlite:///x.db")
    text = config_text(the_plan, {"mentors": "!m:example.net", "council": "#council:example.net"})
    written = tomllib.loads(text)
    example = tomllib.loads(example_config())
    assert set(written) == set(example) - {"discourse"}  # every section but Discourse, commented out
    assert "# [discourse]" in text and written["program"]["name"] == 'The "Reps" program'
    assert written["matrix"]["allowed_servers"] == ["example.net"]
    assert written["program"]["reminders"] == example["program"]["reminders"]  # the rest as the example has it
    # Without a password or a token, it is valid once the store keeps the bot's device (and only then).
    try:
        config.parse(written, "config.toml", env={})
    except config.ConfigError as exc:
        assert any("password / access_token: missing key" in p and "mentorbot init" in p for p in exc.problems)
    else:
        raise AssertionError("valid without any way to log in")
    (tmp_path / "keys").mkdir()
    credentials.save(tmp_path / "keys", "https://matrix.example.net", "@someone-else:example.net", "D", "t")
    with pytest.raises(config.ConfigError):
        config.parse(written, "config.toml", env={})
    credentials.save(tmp_path / "keys", "https://matrix.example.net", "@bot:example.net", "D", "t")
    assert config.parse(written, "config.toml", env={}).matrix.password == ""
    # A second run without flags takes what the file says; the example's placeholders are no answer.
    (tmp_path / "config.toml").write_text(text)
    again, problems = plan(Given())
    assert problems == [] and again.rooms == {"mentors": "!m:example.net", "council": "#council:example.net"}
    assert (again.name, again.timezone, again.council, again.store) == (
        'The "Reps" program', "America/Sao_Paulo", ["@cy:example.net", "@di:example.net"], "keys")
    (tmp_path / "config.toml").write_text(example_config())  # copied, as the old way of setting up was
    _, problems = plan(Given())
    assert "--homeserver is needed" in problems[0] and any(p.startswith("--council is needed") for p in problems)
