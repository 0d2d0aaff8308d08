"""Configuration: a TOML file validated into typed settings.

Every problem is reported with the file, the section and the key, and all
problems are reported at once, so a broken file is fixed in one pass.
"""

from __future__ import annotations

import importlib.util
import os
import re
from datetime import timedelta
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.policy import FloodPolicy, ProgramPolicy, RetentionPolicy

ENV_CONFIG = "MENTORBOT_CONFIG"
DEFAULT_CONFIG = "config.toml"

# Secrets may live in the environment instead of the file.
SECRET_ENV = {
    ("matrix", "password"): "MENTORBOT_MATRIX_PASSWORD",
    ("matrix", "access_token"): "MENTORBOT_MATRIX_ACCESS_TOKEN",
    ("discourse", "api_key"): "MENTORBOT_DISCOURSE_API_KEY",
    # A database URL may hold a password.
    ("storage", "url"): "MENTORBOT_STORAGE_URL",
}

MATRIX_ID = re.compile(r"^@[^\s:]+:[A-Za-z0-9.\-]+(:\d{1,5})?$")
# Room IDs of room version 12 and later have no server part: !<hash>.
ROOM_REF = re.compile(r"^(![^\s:]+(:[A-Za-z0-9.\-]+(:\d{1,5})?)?|#[^\s:]+:[A-Za-z0-9.\-]+(:\d{1,5})?)$")
SERVER_NAME = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$")


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` lists every reason."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


# Markers for how a key is validated beyond its Python type.
def _meta(kind: str | None = None, *, required: bool = False, secret: bool = False, doc: str = "") -> dict:
    return {"kind": kind, "required": required, "secret": secret, "doc": doc}


def _f(default, kind: str | None = None, **meta):
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata=_meta(kind, **meta))
    return field(default=default, metadata=_meta(kind, **meta))


@dataclass
class MatrixSettings:
    homeserver: str = _f("", "url", required=True)
    user_id: str = _f("", "matrix_id", required=True)
    password: str = _f("", secret=True)
    access_token: str = _f("", secret=True)
    device_name: str = _f("mentorbot")
    store_path: str = _f("store")
    mentors_room: str = _f("", "room", required=True)
    council_room: str = _f("", "room", required=True)
    command_prefix: str = _f("!", "prefix")
    allowed_servers: list[str] = _f([], "servers")
    encryption: bool = _f(True)


@dataclass
class StorageSettings:
    url: str = _f("sqlite+aiosqlite:///mentorbot.db", "db_url")


@dataclass
class DiscourseSettings:
    url: str = _f("", "url", required=True)
    api_username: str = _f("", required=True)
    api_key: str = _f("", secret=True, required=True)
    announcements_category: int = _f(0, "positive", required=True)
    relay_category: int = _f(0, "non_negative")
    requests_per_minute: int = _f(30, "api_pace")
    relay_poll_seconds: int = _f(120, "poll_seconds")


@dataclass
class Settings:
    matrix: MatrixSettings | None = None
    storage: StorageSettings = field(default_factory=StorageSettings)
    discourse: DiscourseSettings | None = None
    program: ProgramPolicy = field(default_factory=ProgramPolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    limits: FloodPolicy = field(default_factory=FloodPolicy)
    source: str = "built-in defaults"
    secret_sources: dict[tuple[str, str], str] = field(default_factory=dict)


SECTIONS: dict[str, type] = {
    "matrix": MatrixSettings,
    "storage": StorageSettings,
    "discourse": DiscourseSettings,
    "program": ProgramPolicy,
    "retention": RetentionPolicy,
    "limits": FloodPolicy,
}


def resolve_path(explicit: str | None) -> tuple[Path, bool]:
    """The config file to use, and whether the user named it (flag or environment)."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env), True
    return Path(DEFAULT_CONFIG), False


def load(explicit: str | None = None, *, allow_missing: bool = True, env: dict[str, str] | None = None) -> Settings:
    """Load the configuration.

    Without a file (and when ``allow_missing``), the built-in defaults are used:
    an embedded SQLite database and no Matrix or Discourse connection.
    """
    env = os.environ if env is None else env
    path, named = resolve_path(explicit)
    if not path.exists():
        if named or not allow_missing:
            hint = "copy config.example.toml to config.toml and edit it" if not named else "check the path"
            raise ConfigError(str(path), [f"{path}: file not found ({hint})"])
        return _apply_env(Settings(), env, str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"{path}: not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"{path}: cannot be read: {exc}"]) from None
    return parse(raw, str(path), env)


def parse(raw: dict[str, Any], path: str, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    problems: list[str] = []
    invalid: set[tuple[str, str]] = set()  # keys already reported, not to be called missing too
    settings = Settings(source=path)
    for section, value in raw.items():
        if section not in SECTIONS:
            problems.append(f"{path}: [{section}]: unknown section (known: {', '.join(SECTIONS)})")
            continue
        if not isinstance(value, dict):
            problems.append(f"{path}: {section}: must be a section [{section}], not a single value")
            continue
        setattr(settings, section, _parse_section(section, value, path, problems, invalid))
    _apply_env(settings, env, path, problems)
    for section in ("matrix", "discourse"):
        if getattr(settings, section) is not None:
            _check_required(section, getattr(settings, section), path, problems, invalid)
    _check_across(settings, path, problems, invalid)
    if settings.matrix is not None:
        m = settings.matrix
        if not m.password and not m.access_token:
            problems.append(
                f"{path}: [matrix] password / access_token: missing key: set one of them "
                f"(or {SECRET_ENV[('matrix', 'password')]} / {SECRET_ENV[('matrix', 'access_token')]})"
            )
        if m.encryption and not m.store_path:
            problems.append(f"{path}: [matrix] store_path: missing key: encryption needs a store for its keys")
    if problems:
        raise ConfigError(path, problems)
    return settings


def _parse_section(section: str, values: dict[str, Any], path: str, problems: list[str], invalid: set):
    cls = SECTIONS[section]
    known = {f.name: f for f in fields(cls)}
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{path}: [{section}] {key}"
        if key not in known:
            close = ", ".join(sorted(known))
            problems.append(f"{where}: unknown key (known keys: {close})")
            continue
        f = known[key]
        problem = _check_value(hints[key], f.metadata.get("kind"), value)
        if problem and f.metadata.get("secret"):
            problem = problem.split(", got ")[0]  # never echo a secret, even a mistyped one
        if problem:
            problems.append(f"{where}: {problem}")
            invalid.add((section, key))
            continue
        kwargs[key] = value
    return cls(**kwargs)


def _type_name(tp) -> str:
    origin = get_origin(tp)
    if origin is list:
        return f"a list of {_type_name(get_args(tp)[0])}s"
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(tp, str(tp))


def _check_value(tp, kind: str | None, value) -> str | None:
    origin = get_origin(tp)
    if origin is list:
        item = get_args(tp)[0]
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            return f"wrong type: expected {_type_name(tp)}, got {value!r}"
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"wrong type: expected {_type_name(tp)}, got {value!r}"
    elif not isinstance(value, tp):
        return f"wrong type: expected {_type_name(tp)}, got {value!r}"
    return _check_kind(kind, value)


def _check_kind(kind: str | None, value) -> str | None:
    if kind == "url":
        parsed = urlparse(value)
        if value and (parsed.scheme not in ("http", "https") or not parsed.netloc):
            return f"bad URL {value!r}: expected something like https://example.org"
    elif kind == "db_url":
        return _check_db_url(value)
    elif kind == "matrix_id":
        if value and not MATRIX_ID.match(value):
            return f"bad Matrix ID {value!r}: expected e.g. @mentorbot:example.org"
    elif kind == "matrix_ids":
        bad = [v for v in value if not MATRIX_ID.match(v)]
        if bad:
            return f"bad Matrix ID {bad[0]!r}: expected e.g. @cy:example.org"
    elif kind == "room":
        if value and not ROOM_REF.match(value):
            return f"bad room {value!r}: expected a room ID (!abc:example.org) or alias (#mentors:example.org)"
    elif kind == "servers":
        bad = [v for v in value if not SERVER_NAME.match(v)]
        if bad:
            return f"bad server name {bad[0]!r}: expected e.g. example.org"
    elif kind == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown time zone {value!r}: use a name like Europe/Berlin or UTC"
    elif kind == "prefix":
        if not value or any(c.isspace() for c in value) or len(value) > 5:
            return f"bad prefix {value!r}: use one to five characters with no spaces, like !"
        if value[0].isalnum() or value[0] in "@#:":
            return f"bad prefix {value!r}: it must not start with a letter, digit, @, # or :, or chat would be read as commands"
    elif kind == "durations":
        from commands.framework import ArgError, parse_duration

        for item in value:
            try:
                if parse_duration(item) > timedelta(days=30):
                    return f"{item!r} is too long: reminders can be at most 30 days before"
            except ArgError:
                return f"bad duration {item!r}: write it like 24h, 1h, 30m or 2d"
    elif kind == "month":
        if not 1 <= value <= 12:
            return f"must be a month number from 1 to 12, got {value}"
    elif kind == "api_pace":
        if not 1 <= value <= 40:
            return (f"must be from 1 to 40, got {value}: a Discourse site allows 60 API requests a minute "
                    "for all its keys together; leave room for the others")
    elif kind == "poll_seconds":
        if value < 10:
            return f"must be at least 10 seconds, got {value}"
    elif kind == "positive":
        if value <= 0:
            return f"must be greater than 0, got {value}"
    elif kind == "non_negative":
        if value < 0:
            return f"must be 0 or more, got {value}"
    return None


DB_DRIVERS = {
    "sqlite+aiosqlite": ("aiosqlite", "sqlite+aiosqlite:///mentorbot.db"),
    "postgresql+asyncpg": ("asyncpg", "postgresql+asyncpg://user:password@host/mentorbot"),
}


def check_database_url(value: str) -> str | None:
    """What is wrong with a database URL, or None."""
    return _check_db_url(value)


def _check_db_url(value: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = mask_db_url(value)
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        return f"bad database URL {shown!r}: expected e.g. sqlite+aiosqlite:///mentorbot.db"
    driver = url.drivername
    if driver not in DB_DRIVERS:
        examples = " or ".join(example for _, example in DB_DRIVERS.values())
        return f"unsupported database URL {shown!r}: use {examples}"
    if value.partition("://")[2].count("@") > 1:
        return (f"bad database URL {shown!r}: the user name or password holds an @; write it as %40 "
                "(and / as %2F, : as %3A)")
    module, _ = DB_DRIVERS[driver]
    if importlib.util.find_spec(module) is None:
        return f"{driver} needs the {module} package: install mentorbot with its postgres extra (pip install -e '.[postgres]')"
    if driver.startswith("sqlite") and not url.database:
        return f"bad database URL {shown!r}: name the file, like sqlite+aiosqlite:///mentorbot.db"
    return None


def _check_across(settings: Settings, path: str, problems: list[str], invalid: set) -> None:
    """Rules between keys, each reported at the key to change."""
    p = settings.program
    if ("program", "default_capacity") not in invalid and p.default_capacity > p.max_group_size:
        problems.append(
            f"{path}: [program] default_capacity: {p.default_capacity} is more than max_group_size "
            f"({p.max_group_size}); a mentor can never take more than max_group_size"
        )
    d = settings.discourse
    if d is not None and d.relay_category and d.relay_category == d.announcements_category:
        problems.append(
            f"{path}: [discourse] relay_category: must differ from announcements_category, "
            "or announcements would be relayed back to the mentors room"
        )


def _check_required(section: str, values, path: str, problems: list[str], invalid: set) -> None:
    for f in fields(values):
        if not f.metadata.get("required") or (section, f.name) in invalid:
            continue
        value = getattr(values, f.name)
        if value in ("", 0, None):
            env_name = SECRET_ENV.get((section, f.name))
            extra = f" (or set {env_name})" if env_name else ""
            problems.append(f"{path}: [{section}] {f.name}: missing key{extra}")


def _apply_env(settings: Settings, env, path: str, problems: list[str] | None = None) -> Settings:
    for (section, key), name in SECRET_ENV.items():
        value = env.get(name)
        target = getattr(settings, section)
        if value and target is not None:
            if (section, key) == ("storage", "url") and (problem := _check_db_url(value)):
                if problems is None:
                    raise ConfigError(path, [f"environment {name}: {problem}"])
                problems.append(f"environment {name}: {problem}")
                continue
            setattr(target, key, value)
            settings.secret_sources[(section, key)] = f"environment {name}"
        elif target is not None and getattr(target, key) and (section, key) != ("storage", "url"):
            settings.secret_sources[(section, key)] = path
    return settings


def mask(value: str) -> str:
    return "(not set)" if not value else "******"


def summary(settings: Settings) -> list[str]:
    """Human-readable lines describing the settings, with every secret masked."""
    lines = [f"Configuration from {settings.source}"]
    for section in SECTIONS:
        values = getattr(settings, section)
        if values is None:
            if section == "matrix":
                lines.append("[matrix] not configured: `mentorbot run` needs it; the shell works without")
            elif section == "discourse":
                lines.append(
                    "[discourse] not configured: announcements reach Matrix only and the Discourse relay is off"
                )
            continue
        lines.append(f"[{section}]")
        for f in fields(values):
            value = getattr(values, f.name)
            if f.metadata.get("secret"):
                shown = mask(value)
                origin = settings.secret_sources.get((section, f.name))
                if value and origin:
                    shown += f" (from {origin})"
            elif section == "storage" and f.name == "url":
                shown = mask_db_url(value)
                origin = settings.secret_sources.get((section, f.name))
                if origin:
                    shown += f" (from {origin})"
            else:
                shown = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
            lines.append(f"  {f.name} = {shown}")
    return lines


def mask_db_url(url: str) -> str:
    """A database URL as it may be shown: its password hidden, by SQLAlchemy's own rendering.
    A URL it cannot read safely (an unescaped @ in the password) shows no credentials at all."""
    from sqlalchemy.engine import make_url

    scheme, sep, rest = url.partition("://")
    if sep and rest.count("@") > 1:
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL: show nothing of it that could be a secret
        return f"{scheme}://***" if sep else "***"
    secret_options = {k: "***" for k in parsed.query if k.lower() in ("password", "passwd", "pwd", "sslpassword")}
    return parsed.update_query_dict(secret_options).render_as_string(hide_password=True)


# What the example configuration holds where a secret goes: it must be replaced.
PLACEHOLDERS = ("change-me", "changeme", "your-", "xxx", "<")


def placeholder_warnings(settings: Settings) -> list[str]:
    """Secrets that still hold the example's placeholder: valid, but the bot cannot log in."""
    warnings = []
    for (section, key), env_name in SECRET_ENV.items():
        values = getattr(settings, section)
        value = getattr(values, key, "") if values is not None else ""
        if section == "storage" or not value:
            continue
        if any(mark in value.lower() for mark in PLACEHOLDERS):
            warnings.append(f"[{section}] {key} still holds a placeholder, not the real secret: set it "
                            f"(better, in the environment as {env_name}) or leave it empty")
    return warnings
