"""`mentorbot init`: from an empty account on a homeserver to a configuration the bot runs on.

One line per step, ✔ or ✘ with what to do, each saying whether it made something
("created") or found it ("already there"). Running it again changes nothing that is there:

- the homeserver answers as a Matrix server;
- the bot's device: logged in once with the password, its id and access token kept in the
  store (``credentials.json``, as the bot keeps them itself); a second run restores it. The
  password is never written anywhere;
- the device's encryption keys, uploaded and cross-signed (publishing the cross-signing keys
  may need the password, which init has and `mentorbot run` then never needs);
- the mentors and council rooms: made invite-only and encrypted, each with an alias
  ``#<bot>-mentors:<server>`` by which a second run finds it even when the configuration was
  not written; or rooms given (or named by the configuration), checked and joined when the
  bot is invited, never changed;
- the council members given, invited to both rooms;
- the configuration, made from the shipped example, with no secret in it; a file that is
  there already is never overwritten: what differs is said;
- the online checks of `mentorbot check-config --online`.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from nio import (AsyncClient, JoinError, KeysUploadError, LoginError, RoomCreateError, RoomGetStateError,
                 RoomInviteError, RoomPreset, RoomResolveAliasError, WhoamiError)

from bot import config, credentials, cross_signing
from bot import rooms as trust
from bot.online import Check
from commands.languages import SPOKEN
from commands.policy import ProgramPolicy
from commands.words import rooms as rooms_said

EXIT_OK, EXIT_FAILED = 0, 1
KINDS = ("mentors", "council")
ALIAS = "{localpart}-{kind}"  # a room init made, found again by a second run
DEVICE_NAME = "mentorbot"
MEGOLM = "m.megolm.v1.aes-sha2"
# What a second run takes from the configuration it finds, and compares with what it would write.
KEYS = {"homeserver": ("matrix", "homeserver"), "user_id": ("matrix", "user_id"), "store": ("matrix", "store_path"),
        "mentors_room": ("matrix", "mentors_room"), "council_room": ("matrix", "council_room"),
        "database": ("storage", "url"), "name": ("program", "name"), "timezone": ("program", "timezone"),
        "language": ("program", "language"), "council": ("program", "council")}
# The keys where the example holds a placeholder (example.org), not a choice.
PLACEHOLDERS = {"homeserver", "user_id", "mentors_room", "council_room", "council"}


def example_config() -> str:
    """The shipped example configuration, which a written configuration is made from."""
    from bot import examples

    return examples.text("config")


# ---------------------------------------------------------------------- what the operator says


@dataclass
class Given:
    """What the operator gave as flags (None: not given)."""

    homeserver: str | None = None
    user_id: str | None = None
    password_env: str | None = None
    name: str | None = None
    timezone: str | None = None
    language: str | None = None
    council: list[str] = field(default_factory=list)
    mentors_room: str | None = None
    council_room: str | None = None
    config: str | None = None
    store: str | None = None
    database: str | None = None
    interactive: bool = False


@dataclass
class Plan:
    """What init sets up."""

    path: Path
    homeserver: str
    user_id: str
    name: str
    timezone: str
    language: str
    council: list[str]
    rooms: dict[str, str]  # kind -> the room given or configured; absent: make one
    store: str
    database: str

    @property
    def server(self) -> str:
        return self.user_id.split(":", 1)[1]

    def alias(self, kind: str) -> str:
        return ALIAS.format(localpart=self.user_id[1:].split(":", 1)[0], kind=kind)


def _homeserver(value: str) -> str:
    value = value.strip().rstrip("/")
    return value if "://" in value or not value else f"https://{value}"


def _homeserver_problem(value: str) -> str | None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return f"{value!r} is not a web address: give the one clients use, like https://matrix.example.org"
    return None


def _zone_problem(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r}: use a name like Europe/Berlin or UTC"
    return None


def _name_problem(value: str) -> str | None:
    if not value or len(value) > 80 or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "give a name of 1 to 80 characters, on one line"
    return None


def _council_problem(people: list[str]) -> str | None:
    if not people:
        return "name at least one council member (a Matrix ID like @cy:example.org): they are invited to both rooms"
    wrong = [p for p in people if not config.MATRIX_ID.match(p)]
    return f"{wrong[0]!r} is not a Matrix ID: write it like @cy:example.org" if wrong else None


def _database_problem(value: str) -> str | None:
    from sqlalchemy.engine import make_url

    if problem := config.check_database_url(value):
        return problem
    if make_url(value).password:
        return ("a database password belongs neither on the command line (others see it in the process list) nor "
                "in the configuration: set the whole URL in MENTORBOT_STORAGE_URL where the bot runs, and leave "
                "--database out")
    return None


@dataclass(frozen=True)
class Question:
    key: str
    flag: str
    prompt: str
    problem: Callable[[Any], str | None]
    default: Any = None
    optional: bool = False  # an empty answer is an answer


QUESTIONS = (
    Question("homeserver", "--homeserver", "The homeserver's address, where Element connects "
             "(like https://matrix.example.org)", _homeserver_problem),
    Question("user_id", "--user-id", "The bot's Matrix ID; its account must exist (like @mentorbot:example.org)",
             lambda v: None if config.MATRIX_ID.match(v) else f"{v!r} is not a Matrix ID: write it like "
             "@mentorbot:example.org"),
    Question("name", "--name", "The program's name", _name_problem, ProgramPolicy().name),
    Question("timezone", "--timezone", "The program's time zone", _zone_problem, ProgramPolicy().timezone),
    Question("language", "--language", f"The language of the shared rooms ({', '.join(SPOKEN)})",
             lambda v: None if v in SPOKEN else f"the bot does not speak {v!r}: use one of {', '.join(SPOKEN)}",
             ProgramPolicy().language),
    Question("council", "--council", "Council members, Matrix IDs separated by spaces (like @cy:example.org)",
             _council_problem),
    *(Question(f"{kind}_room", f"--{kind}-room", f"The {kind} room: an existing room's ID or alias, or Enter to "
               "make a new one", lambda v, kind=kind: None if not v or config.ROOM_REF.match(v) else
               f"{v!r} is not a room ID or alias: write it like !abc:example.org or #{kind}:example.org", "",
               optional=True) for kind in KINDS),
)


def read_existing(path: Path) -> dict[str, Any]:
    """What a configuration there already says of the keys init sets, leaving out the example's
    placeholders. Raises ValueError when it cannot be read."""
    if not path.exists():
        return {}
    try:
        found = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path} is there but cannot be read ({exc}): fix it, or move it aside and run init "
                         "again") from None
    example = tomllib.loads(example_config())
    out = {}
    for key, (section, name) in KEYS.items():
        value = found.get(section, {}).get(name) if isinstance(found.get(section), dict) else None
        right_type = (isinstance(value, list) and all(isinstance(v, str) for v in value) if key == "council"
                      else isinstance(value, str))
        if right_type and not (key in PLACEHOLDERS and value == example.get(section, {}).get(name)):
            out[key] = value
    return out


def _split(value: str) -> list[str]:
    return [p for p in value.replace(",", " ").split() if p]


def plan(given: Given, ask: Callable[[str, str], str] | None = None) -> tuple[Plan | None, list[str]]:
    """What to set up: from the flags, then the configuration found, then the person's answers
    (``ask``, when interactive) or the defaults. Returns the plan, or the problems."""
    path, _ = config.resolve_path(given.config)
    try:
        existing = read_existing(path)
    except ValueError as exc:
        return None, [str(exc)]
    answers: dict[str, Any] = {}
    problems = []
    for q in QUESTIONS:
        flag = getattr(given, q.key) if q.key != "council" else (given.council or None)
        if q.key.endswith("_room") and (existing.get("homeserver"), existing.get("user_id")) != (
                answers.get("homeserver"), answers.get("user_id")):
            existing.pop(q.key, None)  # the rooms of another account are not this one's
        default = existing.get(q.key, q.default)
        if flag is not None:
            value = _homeserver(flag) if q.key == "homeserver" else flag
            if problem := q.problem(value):
                problems.append(f"{q.flag}: {problem}")
            answers[q.key] = value
            continue
        if ask is not None:
            answers[q.key] = _ask(ask, q, default)
            continue
        if default is None:
            problems.append(f"{q.flag} is needed: {q.prompt[0].lower()}{q.prompt[1:]}")
        elif q.key in existing and (problem := q.problem(default)):
            problems.append(f"{path}: [{KEYS[q.key][0]}] {KEYS[q.key][1]}: {problem} (give {q.flag}, or fix the file)")
        answers[q.key] = default
    store = given.store or existing.get("store") or "store"
    database = given.database or existing.get("database") or config.StorageSettings().url
    if given.database and (problem := _database_problem(given.database)):
        problems.append(f"--database: {problem}")
    if problems:
        return None, problems
    rooms = {kind: answers[f"{kind}_room"] for kind in KINDS if answers[f"{kind}_room"]}
    return Plan(path=path, homeserver=answers["homeserver"], user_id=answers["user_id"], name=answers["name"],
                timezone=answers["timezone"], language=answers["language"], council=list(answers["council"]),
                rooms=rooms, store=store, database=database), []


def _ask(ask: Callable[[str, str], str], q: Question, default: Any) -> Any:
    shown = " ".join(default) if isinstance(default, list) else default
    while True:
        said = ask(q.prompt, shown or "").strip()
        value: Any = said or shown or ""
        if q.key == "homeserver":
            value = _homeserver(value)
        elif q.key == "council":
            value = _split(value)
        if not value and not q.optional:
            print("  Please answer: there is no default.")
            continue
        if problem := q.problem(value):
            print(f"  {problem}")
            continue
        return value


def ask_in_terminal(prompt: str, default: str) -> str:
    try:
        return input(f"{prompt}{f' [{default}]' if default else ''}: ")
    except EOFError:
        return ""


# ---------------------------------------------------------------------- the steps


class Failed(Exception):
    """A step failed; its ✘ line was said. Later steps need it, so init stops."""


@dataclass
class Report:
    """The lines said, as they happen."""

    lines: list[Check] = field(default_factory=list)

    def ok(self, what: str) -> None:
        self._say(Check(True, what))

    def fail(self, what: str) -> Failed:
        self._say(Check(False, what))
        return Failed(what)

    def _say(self, check: Check) -> None:
        self.lines.append(check)
        print(check.line(), flush=True)


class Password:
    """The password, asked for only when it is needed, and only once; never kept."""

    def __init__(self, given: Given, env: dict[str, str]) -> None:
        self.given, self.env = given, env
        self._value: str | None = None

    def available(self) -> str:
        """The password if it was given (flag or environment), without asking; else ""."""
        if self.given.password_env:
            return self.env.get(self.given.password_env, "")
        return self.env.get(config.SECRET_ENV["matrix", "password"], "")

    def known(self) -> str:
        """The password if init has it (asked for already, or given), without asking; else ""."""
        return self._value or self.available()

    def get(self, user_id: str) -> str | None:
        if self._value is None:
            self._value = self.available()
            if not self._value and self.given.interactive:
                try:
                    self._value = getpass.getpass(f"The password of {user_id} (not shown, and not kept): ")
                except EOFError:
                    self._value = ""
        return self._value or None

    def missing(self) -> str:
        if self.given.password_env:
            return f"the variable {self.given.password_env} (--password-env) is not set or empty"
        return (f"no password was given: set {config.SECRET_ENV['matrix', 'password']}, or name the variable that "
                "holds it with --password-env (never the password itself on the command line, where others see it)")


async def run(given: Given, env: dict[str, str]) -> int:
    ask = ask_in_terminal if given.interactive else None
    if given.interactive:
        print("Setting up mentorbot. Press Enter to take the value in [brackets].")
    the_plan, problems = plan(given, ask)
    if the_plan is None:
        for problem in problems:
            print(f"✘ {problem}")
        print("Nothing was done.")
        return EXIT_FAILED
    report = Report()
    try:
        await _set_up(the_plan, Password(given, env), report)
    except Failed:
        print("Stopped there. Put it right and run `mentorbot init` again: what is done already is kept.")
        return EXIT_FAILED
    return await _online(the_plan, report)


async def _set_up(plan: Plan, password: Password, report: Report) -> None:
    await _reach(plan.homeserver, report)
    client = await _device(plan, password, report)
    try:
        await _encryption(client, plan, password, report)
        rooms = {kind: await _room(client, plan, kind, report) for kind in KINDS}
        for kind, (room_id, state) in rooms.items():
            await _invite(client, kind, room_id, state, plan.council, report)
    finally:
        await client.close()
    write_config(plan, {kind: plan.rooms.get(kind) or room_id for kind, (room_id, _) in rooms.items()}, report)


async def _reach(homeserver: str, report: Report) -> None:
    from bot.preflight import homeserver as answers

    found = await answers(homeserver)
    if not found.ok:  # said as check-config says it, of the flag that gave the address
        raise report.fail(found.what.replace("[matrix] homeserver", "--homeserver"))
    report.ok(found.what)


async def _device(plan: Plan, password: Password, report: Report) -> AsyncClient:
    """The bot's device: the kept one, restored, or a new one logged in with the password and kept."""
    from bot.matrix import store_fault, new_client

    store = Path(plan.store)
    made_store = not store.exists()
    kept = credentials.load(store, plan.homeserver, plan.user_id)
    client = new_client(plan.homeserver, plan.user_id, plan.store, encryption=True)
    try:
        if kept:
            client.restore_login(plan.user_id, kept["device_id"], kept["access_token"])
            who = await client.whoami()
            if not isinstance(who, WhoamiError):
                report.ok(f"already there: the bot's device {kept['device_id']}, kept in {credentials.path(store)}")
                return client
            if who.status_code not in ("M_UNKNOWN_TOKEN", "M_FORBIDDEN"):
                raise report.fail(f"the homeserver did not confirm the bot's kept device ({who.message}): try again "
                                  "in a moment")
            report.ok(f"the kept device {kept['device_id']} was signed out ({who.message}): logging in again")
            await client.close()
            client = new_client(plan.homeserver, plan.user_id, plan.store, encryption=True)
        secret = password.get(plan.user_id)
        if secret is None:
            raise report.fail(f"the bot needs to log in once as {plan.user_id}, and {password.missing()}")
        login = await client.login(secret, device_name=DEVICE_NAME)
        if isinstance(login, LoginError):
            if made_store and not any(store.iterdir()):
                store.rmdir()  # nothing is left behind by a refused login
            raise report.fail(f"the homeserver refused the login as {plan.user_id} ({login.message}): check the "
                              "account and its password, then run init again; nothing was written")
        credentials.save(store, plan.homeserver, plan.user_id, login.device_id, login.access_token)
        report.ok(f"created: the bot's device {login.device_id}, kept in {credentials.path(store)} (its access "
                  "token; the password is not kept)")
        return client
    except Failed:
        await client.close()
        raise
    except Exception as exc:
        await client.close()
        if not store_fault(exc):
            raise
        raise report.fail(f"the encryption store {store} cannot be read ({type(exc).__name__}: {exc}): move it "
                          "aside (keep its cross_signing.json for the new store) and run init again") from None


async def _encryption(client: AsyncClient, plan: Plan, password: Password, report: Report) -> None:
    """The device's keys on the homeserver, and the device signed by the bot's cross-signing identity."""
    done = []
    if client.olm is not None and client.should_upload_keys:
        uploaded = await client.keys_upload()
        if isinstance(uploaded, KeysUploadError):
            said = (uploaded.message or "").split(". Old key")[0]  # not the keys themselves
            raise report.fail(f"the homeserver refused the device's encryption keys ({said}): if the store "
                              f"{plan.store} was replaced, move it aside (keep its cross_signing.json) and run init "
                              "again")
        done.append("uploaded the device's encryption keys")
    try:
        signed = await cross_signing.ensure(
            homeserver=plan.homeserver, access_token=client.access_token, user_id=plan.user_id,
            device_id=client.device_id, store=Path(plan.store), password=password.known())
    except cross_signing.CrossSigningError as exc:
        raise report.fail(f"the bot's device is not cross-signed: {exc}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise report.fail(f"cross-signing the bot's device failed ({type(exc).__name__}): try again") from None
    if not done and signed.startswith("its device"):
        report.ok(f"already there: the encryption keys of device {client.device_id}, cross-signed")
    else:
        report.ok(f"created: the encryption keys of device {client.device_id} ({'; '.join(done + [signed])})")


def _initial_state() -> list[dict]:
    return [
        {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}},
        {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "shared"}},
        {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
    ]


async def _room(client: AsyncClient, plan: Plan, kind: str, report: Report) -> tuple[str, list[dict]]:
    """The room of ``kind`` and its state: the one given or configured, checked, or one made (or
    found by its alias, made by an earlier run)."""
    if kind in plan.rooms:
        return await _existing(client, plan, kind, plan.rooms[kind], report)
    alias = plan.alias(kind)
    full_alias = f"#{alias}:{plan.server}"
    name = f"{plan.name} {kind}"
    created = await client.room_create(alias=alias, name=name, preset=RoomPreset.private_chat,
                                       initial_state=_initial_state())
    if not isinstance(created, RoomCreateError):
        await _empower(client, kind, created.room_id, plan.council, report)
        state = await _state(client, kind, created.room_id, report)
        report.ok(f'created: the {kind} room "{name}" ({created.room_id}, {full_alias}), invite-only and encrypted')
        return created.room_id, state
    if created.status_code != "M_ROOM_IN_USE":
        raise report.fail(f"the bot could not make the {kind} room ({created.message}): make one yourself, invite "
                          f"{plan.user_id}, and give it with --{kind}-room")
    found = await client.room_resolve_alias(full_alias)
    if isinstance(found, RoomResolveAliasError):
        raise report.fail(f"the alias {full_alias} is taken, but does not resolve ({found.message}): try again, or "
                          f"give a room with --{kind}-room")
    state = await client.room_get_state(found.room_id)
    if isinstance(state, RoomGetStateError) or trust.creators(state.events) != {plan.user_id}:
        raise report.fail(f"the alias {full_alias} names a room the bot did not make ({found.room_id}): give the "
                          f"{kind} room with --{kind}-room, or remove that alias")
    _check_private(kind, full_alias, state.events, report)
    report.ok(f"already there: the {kind} room {found.room_id} ({full_alias}), made by the bot before, invite-only"
              f"{_encrypted(state.events)}")
    return found.room_id, state.events


async def _empower(client: AsyncClient, kind: str, room_id: str, council: list[str], report: Report) -> None:
    """Give the council members the power of an administrator in a room the bot just made, so that
    people can still look after it if the bot's account is ever lost. (Set after the room is made:
    whether its maker is listed in the power levels depends on the room version.)"""
    levels = await client.room_get_state_event(room_id, "m.room.power_levels")
    content = getattr(levels, "content", None)
    if not isinstance(content, dict):
        raise report.fail(f"the bot cannot read the power levels of the {kind} room it made ({room_id}): run init "
                          "again")
    content["users"] = {**content.get("users", {}), **{person: 100 for person in council}}
    put = await client.room_put_state(room_id, "m.room.power_levels", content)
    if not hasattr(put, "event_id"):
        raise report.fail(f"the bot cannot give the council power in the {kind} room it made ({room_id}): "
                          f"{getattr(put, 'message', put)}")


async def _existing(client: AsyncClient, plan: Plan, kind: str, ref: str, report: Report) -> tuple[str, list[dict]]:
    """A room given (or configured): the bot must be in it (it joins when invited) and it must be
    invite-only. Init never changes it."""
    room_id = ref
    if ref.startswith("#"):
        resolved = await client.room_resolve_alias(ref)
        if isinstance(resolved, RoomResolveAliasError):
            raise report.fail(f"the {kind} room {ref} does not resolve ({resolved.message}): check --{kind}-room")
        room_id = resolved.room_id
    state = await client.room_get_state(room_id)
    joined_now = False
    if isinstance(state, RoomGetStateError):
        joined = await client.join(room_id)
        if isinstance(joined, JoinError):
            raise report.fail(f"the bot is not in the {kind} room {ref} and cannot join it ({joined.message}): "
                              f"invite {plan.user_id} to it, then run init again")
        joined_now = True
        state = await client.room_get_state(room_id)
        if isinstance(state, RoomGetStateError):
            raise report.fail(f"the bot joined the {kind} room {ref} but cannot read its settings ({state.message}): "
                              "try again")
    _check_private(kind, ref, state.events, report)
    report.ok(f"{'joined' if joined_now else 'already there'}: the {kind} room {ref}"
              f"{f' ({room_id})' if room_id != ref else ''}, invite-only{_encrypted(state.events)}")
    return room_id, state.events


def _check_private(kind: str, ref: str, events: list[dict], report: Report) -> None:
    if problem := trust.openness_of_state(events):
        raise report.fail(f"the {kind} room {ref} is not invite-only ({rooms_said.problem(problem)}): make it "
                          "private (Element: Room settings, Security & Privacy, Private (invite only)), then run "
                          "init again; init does not change a room it did not make")


def _encrypted(events: list[dict]) -> str:
    on = any(e.get("type") == "m.room.encryption" and e.get("content", {}).get("algorithm") for e in events)
    return " and encrypted" if on else " (not encrypted: you may turn encryption on in its settings)"


async def _state(client: AsyncClient, kind: str, room_id: str, report: Report) -> list[dict]:
    state = await client.room_get_state(room_id)
    if isinstance(state, RoomGetStateError):
        raise report.fail(f"the bot cannot read the settings of the {kind} room {room_id} ({state.message}): "
                          "try again")
    return state.events


def _membership(events: list[dict], user_id: str) -> str | None:
    for event in events:
        if event.get("type") == "m.room.member" and event.get("state_key") == user_id:
            return event.get("content", {}).get("membership")
    return None


async def _invite(client: AsyncClient, kind: str, room_id: str, state: list[dict], council: list[str],
                  report: Report) -> None:
    for person in council:
        membership = _membership(state, person)
        if membership == "join":
            report.ok(f"already there: {person} is in the {kind} room")
        elif membership == "invite":
            report.ok(f"already there: {person} is invited to the {kind} room")
        elif membership == "ban":
            raise report.fail(f"{person} is banned from the {kind} room: lift the ban, then run init again")
        else:
            invited = await client.room_invite(room_id, person)
            if isinstance(invited, RoomInviteError):
                raise report.fail(f"the bot could not invite {person} to the {kind} room ({invited.message}): "
                                  "check the Matrix ID, or invite them yourself")
            report.ok(f"created: an invitation for {person} to the {kind} room")


# ---------------------------------------------------------------------- the configuration


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


HEADER = """\
# mentorbot configuration, written by `mentorbot init`. Every key is explained beside it and in
# docs/configuration.md; check it with:  mentorbot check-config --online
# The bot logs in with the device `mentorbot init` kept in store_path (its credentials.json):
# no password or access token is needed here or in the environment.
"""


def config_text(plan: Plan, rooms: dict[str, str]) -> str:
    """The example configuration with what init set up filled in, and Discourse commented out."""
    values = {
        ("matrix", "homeserver"): plan.homeserver, ("matrix", "user_id"): plan.user_id,
        ("matrix", "password"): "", ("matrix", "access_token"): "", ("matrix", "store_path"): plan.store,
        ("matrix", "mentors_room"): rooms["mentors"], ("matrix", "council_room"): rooms["council"],
        ("matrix", "allowed_servers"): [plan.server], ("storage", "url"): plan.database,
        ("program", "name"): plan.name, ("program", "timezone"): plan.timezone,
        ("program", "language"): plan.language, ("program", "council"): plan.council,
    }
    lines = example_config().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("["))
    out, section, left = [HEADER.rstrip("\n"), ""], None, set(values)
    for line in lines[start:]:
        if line.startswith("["):
            section = line.strip("[] ")
            if section == "discourse":
                out.append("# Discourse is not connected: to connect a forum, remove the \"# \" before [discourse] "
                           "and its keys, and fill them in.")
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if (section, key) in values:
            line = f"{key} = {_toml(values[section, key])}"
            left.discard((section, key))
        if section == "discourse" and line.strip() and not line.lstrip().startswith("#"):
            line = f"# {line}"
        out.append(line)
    text = "\n".join(out) + "\n"
    written = tomllib.loads(text)
    wrong = [f"[{s}] {k}" for (s, k), v in values.items() if written.get(s, {}).get(k) != v]
    if left or wrong:  # the example lost a key, or holds one in a shape this cannot fill in
        raise ValueError(f"the example configuration cannot be filled in at {', '.join(wrong) or left}")
    return text


def differences(path: Path, text: str) -> list[str]:
    """What the file there says otherwise than ``text``, of the keys init sets."""
    there, wanted = tomllib.loads(path.read_text(encoding="utf-8")), tomllib.loads(text)
    out = []
    for section, key in KEYS.values():
        have = there.get(section, {}).get(key) if isinstance(there.get(section), dict) else None
        want = wanted[section][key]
        if have != want:
            shown = config.mask_db_url(have) if (section, key) == ("storage", "url") and have else have
            shown_want = config.mask_db_url(want) if (section, key) == ("storage", "url") else want
            out.append(f"[{section}] {key} is {shown!r} there, not {shown_want!r}" if have is not None
                       else f"[{section}] {key} is not there (init would write {shown_want!r})")
    return out


def write_config(plan: Plan, rooms: dict[str, str], report: Report) -> None:
    text = config_text(plan, rooms)
    try:
        config.parse(tomllib.loads(text), str(plan.path), env={})
    except config.ConfigError as exc:
        raise report.fail(f"the configuration init would write is not valid: {'; '.join(exc.problems)}") from None
    path = plan.path
    if path.exists():
        if differ := differences(path, text):
            raise report.fail(f"{path} is there already and differs from what init would write: "
                              f"{'; '.join(differ)}. It was left as it is: change those keys yourself, or move the "
                              "file aside and run init again")
        report.ok(f"already there: {path}, with the values init sets")
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise report.fail(f"cannot write {path} ({exc.strerror}): check --config") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    report.ok(f"created: {path} (for the bot's user only), with no password or token in it")


async def _online(plan: Plan, report: Report) -> int:
    from bot import online

    try:
        settings = config.load(str(plan.path), allow_missing=False)
    except config.ConfigError as exc:
        for problem in exc.problems:
            report.fail(problem)
        return EXIT_FAILED
    print("Online checks:")
    try:
        checks = await online.check(settings)
    except Exception as exc:  # noqa: BLE001 - said as a failed check, not a traceback
        checks = [Check(False, f"the online checks could not run ({type(exc).__name__}: {exc}): run "
                               "`mentorbot check-config --online -v` for details")]
    for item in checks:
        print(f"  {item.line()}")
    if any(not item.ok for item in checks):
        print("Some checks failed: see the lines marked ✘, put them right, and run `mentorbot init` again.")
        return EXIT_FAILED
    flag = "" if plan.path == config.resolve_path(None)[0] else f" --config {plan.path}"
    print(f"Done. Start the bot here with `mentorbot run{flag}`: it needs no password. Then verify the bot once "
          "from Element, as its owner (see docs/privacy.md).")
    return EXIT_OK
