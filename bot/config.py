"""Configuration: a TOML file validated into typed settings.

The sections are declared below as pydantic dataclasses (the program's rules as the
dataclasses of commands/policy.py); secrets may come from the environment instead of
the file (pydantic-settings). Every problem is reported with the file, the section and
the key, and all problems are reported at once, so a broken file is fixed in one pass.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from dataclasses import MISSING, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Callable, get_args, get_origin, get_type_hints
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (AfterValidator, BeforeValidator, ConfigDict, Field, SecretStr, StrictBool, StrictInt, StrictStr,
                      ValidationError, ValidationInfo, create_model, field_validator)
from pydantic.dataclasses import dataclass, is_pydantic_dataclass
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import credentials
from commands.policy import FloodPolicy, ProgramPolicy, RetentionPolicy

ENV_CONFIG = "MENTORBOT_CONFIG"
DEFAULT_CONFIG = "config.toml"


class Environment(BaseSettings):
    """What the environment may set: the file to read, and secrets that replace the file's (in a
    section the file has; [storage] always)."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore")

    config: str | None = Field(None, alias=ENV_CONFIG)
    matrix_password: SecretStr | None = Field(None, alias="MENTORBOT_MATRIX_PASSWORD")
    matrix_access_token: SecretStr | None = Field(None, alias="MENTORBOT_MATRIX_ACCESS_TOKEN")
    discourse_api_key: SecretStr | None = Field(None, alias="MENTORBOT_DISCOURSE_API_KEY")
    discourse_webhook_secret: SecretStr | None = Field(None, alias="MENTORBOT_DISCOURSE_WEBHOOK_SECRET")
    storage_url: SecretStr | None = Field(None, alias="MENTORBOT_STORAGE_URL")  # a database URL may hold a password


# The variable of each (section, key) the environment may set: the field section_key above.
SECRET_ENV = {tuple(name.split("_", 1)): f.alias for name, f in Environment.model_fields.items() if name != "config"}
# The keys that hold secrets: never shown, not even in an error.
SECRETS = set(SECRET_ENV) - {("storage", "url")}

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


class Secret(str):
    """A secret, usable as the string it is, that never shows itself in a repr (logs, tracebacks)."""

    def __repr__(self) -> str:
        return "'******'"


class DatabaseUrl(str):
    def __repr__(self) -> str:
        return repr(mask_db_url(self))  # a password it holds is hidden


def _problem(message: str, shown_at: str | None = None) -> PydanticCustomError:
    """A problem in our own words, reported at the key checked or, for a rule between keys, ``shown_at``."""
    return PydanticCustomError("config", message, {"shown_at": shown_at} if shown_at else None)


def _check(problem: Callable[[Any], str | None]) -> AfterValidator:
    """A check as a pydantic validator: ``problem`` says what is wrong with a value, or None."""

    def validate(value):
        if (text := problem(value)) is not None:
            raise _problem(text)
        return value

    return AfterValidator(validate)


def _rule(ok: Callable[[Any], Any], message: str) -> AfterValidator:
    return _check(lambda value: None if ok(value) else message.format(value))


def _between(key: str, holds: Callable[[Any, dict], Any], message: str, *, shown_at: str | None = None):
    """A rule between keys, checked at ``key`` against the valid keys before it; ``message`` may name
    them, and the value as {value}."""

    def check(cls, value, info: ValidationInfo):
        if not holds(value, info.data):
            raise _problem(message.format(value=value, **info.data), shown_at)
        return value

    return field_validator(key)(check)


def _required(value: Any) -> Any:
    if value is None or value == "":
        raise PydanticCustomError("missing", "missing key")
    return value


def _is_zone(value: str) -> bool:
    try:
        return bool(ZoneInfo(value))
    except (ZoneInfoNotFoundError, ValueError):
        return False


def _bad_duration(value: str) -> str | None:
    from commands.framework import ArgError, parse_duration

    try:
        too_long = parse_duration(value) > timedelta(days=30)
    except ArgError:
        return f"bad duration {value!r}: write it like 24h, 1h, 30m or 2d"
    return f"{value!r} is too long: reminders can be at most 30 days before" if too_long else None


# The kinds of value the file holds, each with what is said when one is wrong. A list is
# checked item by item, and its first bad item is reported.
Required = BeforeValidator(_required)  # an empty value is as good as none
Url = Annotated[StrictStr, _rule(lambda v: not v or (urlparse(v).scheme in ("http", "https") and urlparse(v).netloc),
                                 "bad URL {!r}: expected something like https://example.org")]
MatrixId = Annotated[StrictStr, _rule(lambda v: not v or MATRIX_ID.match(v),
                                      "bad Matrix ID {!r}: expected e.g. @mentorbot:example.org")]
MatrixIds = list[Annotated[StrictStr, _rule(MATRIX_ID.match, "bad Matrix ID {!r}: expected e.g. @cy:example.org")]]
Room = Annotated[StrictStr, _rule(lambda v: not v or ROOM_REF.match(v),
                                  "bad room {!r}: expected a room ID (!abc:example.org) or alias (#mentors:example.org)")]
Servers = list[Annotated[StrictStr, _rule(SERVER_NAME.match, "bad server name {!r}: expected e.g. example.org")]]
TimeZone = Annotated[StrictStr, _rule(_is_zone, "unknown time zone {!r}: use a name like Europe/Berlin or UTC")]
Prefix = Annotated[StrictStr, _rule(lambda v: 0 < len(v) <= 5 and not any(c.isspace() for c in v),
                                    "bad prefix {!r}: use one to five characters with no spaces, like !"),
                   _rule(lambda v: not (v[0].isalnum() or v[0] in "@#:"), "bad prefix {!r}: it must not start with "
                         "a letter, digit, @, # or :, or chat would be read as commands")]
Durations = list[Annotated[StrictStr, _check(_bad_duration)]]
Positive = Annotated[StrictInt, _rule(lambda v: v > 0, "must be greater than 0, got {}")]
NonNegative = Annotated[StrictInt, _rule(lambda v: v >= 0, "must be 0 or more, got {}")]
Month = Annotated[StrictInt, _rule(lambda v: 1 <= v <= 12, "must be a month number from 1 to 12, got {}")]
ApiPace = Annotated[StrictInt, _rule(lambda v: 1 <= v <= 40, "must be from 1 to 40, got {}: a Discourse site allows 60 "
                                     "API requests a minute for all its keys together; leave room for the others")]
PollSeconds = Annotated[StrictInt, _rule(lambda v: v >= 10, "must be at least 10 seconds, got {}")]
LISTEN = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")
Listen = Annotated[StrictStr, _rule(lambda v: not v or ((m := LISTEN.match(v)) and 0 < int(m["port"]) < 65536),
                                    "bad address {!r}: expected host:port, like 127.0.0.1:9108")]
LogLevel = Annotated[StrictStr, _rule(lambda v: v in ("debug", "info", "warning", "error"),
                                      "bad level {!r}: use debug, info, warning or error")]
LogFormat = Annotated[StrictStr, _rule(lambda v: v in ("text", "json"), "bad format {!r}: use text or json")]
SecretText = Annotated[StrictStr, AfterValidator(Secret)]


def _bad_skills(vocabulary: dict[str, list[str]]) -> str | None:
    from commands.services.vocabulary import MAX_WORD, plain_word

    meaning: dict[str, str] = {}
    for skill, others in vocabulary.items():
        for word in (skill, *others):
            plain = plain_word(word)
            if not plain or len(plain) > MAX_WORD or "," in plain:
                return f"bad skill word {word!r}: use words of 1 to {MAX_WORD} characters, without commas"
            if meaning.setdefault(plain, plain_word(skill)) != plain_word(skill):
                return f"{word!r} means both {meaning[plain]!r} and {skill!r}: give each word to one skill only"
    return None


def _bad_language(value: str) -> str | None:
    from commands.languages import SPOKEN

    if value in SPOKEN:
        return None
    return f"the bot does not speak {value!r}: use one of {', '.join(SPOKEN)}"


Language = Annotated[StrictStr, _check(_bad_language)]
SkillWords = Annotated[dict[StrictStr, list[StrictStr]], _check(_bad_skills)]
DbUrl = Annotated[StrictStr, _check(lambda v: check_database_url(v)), AfterValidator(DatabaseUrl)]

# The kinds the rules of commands/policy.py name.
KINDS = {"timezone": TimeZone, "matrix_ids": MatrixIds, "durations": Durations, "month": Month,
         "positive": Positive, "non_negative": NonNegative, "skills": SkillWords, "language": Language}

# Defaults are validated too: the rules between keys then always run, and a required key that is
# absent (its default empty) is reported as missing.
SECTION = ConfigDict(extra="forbid", hide_input_in_errors=True, validate_default=True)


@dataclass(config=SECTION)
class MatrixSettings:
    homeserver: Annotated[Url, Required] = ""
    user_id: Annotated[MatrixId, Required] = ""
    password: SecretText = ""
    access_token: SecretText = ""
    device_name: StrictStr = "mentorbot"
    store_path: StrictStr = "store"
    mentors_room: Annotated[Room, Required] = ""
    council_room: Annotated[Room, Required] = ""
    command_prefix: Prefix = "!"
    allowed_servers: Servers = Field(default_factory=list)
    encryption: StrictBool = True

    # A device kept in the store (by `mentorbot init`, or the bot's own first login) needs neither.
    _password_or_token = _between("store_path", lambda store, keys: keys.get("access_token") or keys.get("password") or (
        store and credentials.load(store, keys.get("homeserver"), keys.get("user_id"))), (
        f"missing key: set one of them (or {SECRET_ENV['matrix', 'password']} / "
        f"{SECRET_ENV['matrix', 'access_token']}), or run `mentorbot init`, which keeps the bot's device in "
        "store_path"), shown_at="password / access_token")
    _store_for_keys = _between("encryption", lambda on, keys: not on or keys.get("store_path", "store"),
                               "missing key: encryption needs a store for its keys", shown_at="store_path")


@dataclass(config=SECTION)
class StorageSettings:
    url: DbUrl = "sqlite+aiosqlite:///mentorbot.db"


@dataclass(config=SECTION)
class DiscourseSettings:
    url: Annotated[Url, Required] = ""
    api_username: Annotated[StrictStr, Required] = ""
    api_key: Annotated[SecretText, Required] = ""
    announcements_category: Annotated[Positive, Required] = None  # not 0, which is reported as not positive
    relay_category: NonNegative = 0
    requests_per_minute: ApiPace = 30
    relay_poll_seconds: PollSeconds = 120
    # The secret Discourse signs its webhooks with; empty: no webhook, the relay polls only.
    webhook_secret: SecretText = ""

    _not_announcements = _between(
        "relay_category", lambda relay, keys: not relay or relay != keys.get("announcements_category"),
        "must differ from announcements_category, or announcements would be relayed back to the mentors room")


@dataclass(config=SECTION)
class MonitoringSettings:
    # host:port of the HTTP listener (/health, /metrics, /discourse/webhook); empty: none.
    listen: Listen = ""

    @property
    def address(self) -> tuple[str, int] | None:
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


@dataclass(config=SECTION)
class LoggingSettings:
    level: LogLevel = "info"
    format: LogFormat = "text"


# Rules between the keys of a policy, each reported at the key to change.
POLICY_RULES = {ProgramPolicy: {"capacity_within_group": _between(
    "default_capacity", lambda capacity, keys: capacity <= keys.get("max_group_size", capacity),
    "{value} is more than max_group_size ({max_group_size}); a mentor can never take more than max_group_size")}}


@dataclass
class Settings:
    matrix: MatrixSettings | None = None
    storage: StorageSettings = field(default_factory=StorageSettings)
    discourse: DiscourseSettings | None = None
    program: ProgramPolicy = field(default_factory=ProgramPolicy)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    limits: FloodPolicy = field(default_factory=FloodPolicy)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    source: str = "built-in defaults"
    secret_sources: dict[tuple[str, str], str] = field(default_factory=dict)
    given: frozenset[tuple[str, str]] = frozenset()  # the (section, key) pairs set, not left to their defaults


SECTIONS: dict[str, type] = {
    "matrix": MatrixSettings,
    "storage": StorageSettings,
    "discourse": DiscourseSettings,
    "program": ProgramPolicy,
    "retention": RetentionPolicy,
    "limits": FloodPolicy,
    "monitoring": MonitoringSettings,
    "logging": LoggingSettings,
}


def _section(cls: type) -> Any:
    """How a section is validated: our own sections are pydantic dataclasses; a policy of commands/
    is a plain dataclass whose rules name their ``kind``, checked here and turned into the policy."""
    if is_pydantic_dataclass(cls):
        return cls
    hints = get_type_hints(cls)
    rules = {f.name: (KINDS.get(f.metadata.get("kind"), hints[f.name]),
                      Field(f.default) if f.default is not MISSING else Field(default_factory=f.default_factory))
             for f in fields(cls)}
    model = create_model(cls.__name__, __config__=ConfigDict(SECTION, strict=True),
                         __validators__=POLICY_RULES.get(cls, {}), **rules)
    return Annotated[model, AfterValidator(lambda checked: cls(**dict(checked)))]


# The file: its sections, each of them optional.
ConfigFile = create_model("ConfigFile", __config__=ConfigDict(extra="forbid"),
                          **{name: (_section(cls) | None, None) for name, cls in SECTIONS.items()})


def resolve_path(explicit: str | None) -> tuple[Path, bool]:
    """The config file to use, and whether the user named it (flag or environment)."""
    if explicit:
        return Path(explicit), True
    if env := Environment().config:
        return Path(env), True
    return Path(DEFAULT_CONFIG), False


def load(explicit: str | None = None, *, allow_missing: bool = True, env: dict[str, str] | None = None) -> Settings:
    """Load the configuration.

    Without a file (and when ``allow_missing``), the built-in defaults are used:
    an embedded SQLite database and no Matrix or Discourse connection.
    """
    path, named = resolve_path(explicit)
    if not path.exists():
        if named or not allow_missing:
            hint = ("make one with `mentorbot example config > config.toml`, then edit it" if not named
                    else "check the path")
            raise ConfigError(str(path), [f"{path}: file not found ({hint})"])
        return parse({}, str(path), env, source="built-in defaults")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"{path}: not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"{path}: cannot be read: {exc}"]) from None
    return parse(raw, str(path), env)


def parse(raw: dict[str, Any], path: str, env: dict[str, str] | None = None, *, source: str | None = None) -> Settings:
    """Settings from the file's contents and the environment (``env``, or the process's own)."""
    environment = Environment() if env is None else Environment.model_validate({k: v for k, v in env.items() if v})
    merged = {section: dict(values) if isinstance(values, dict) else values for section, values in raw.items()}
    from_env: dict[tuple[str, str], str] = {}
    for (section, key), name in SECRET_ENV.items():
        if (value := getattr(environment, f"{section}_{key}")) is None:
            continue
        if section == "storage":
            merged.setdefault(section, {})
        if isinstance(merged.get(section), dict):
            merged[section][key] = value.get_secret_value()
            from_env[(section, key)] = f"environment {name}"
    across = _across_sections(merged, path, from_env)
    try:
        checked = ConfigFile.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(path, _problems(exc, merged, path, from_env) + across) from None
    if across:
        raise ConfigError(path, across)
    given = frozenset((section, key) for section, values in merged.items() if isinstance(values, dict)
                      for key in values)
    settings = Settings(source=source or path, secret_sources=dict(from_env), given=given,
                        **{name: value for name in SECTIONS if (value := getattr(checked, name)) is not None})
    for section, key in SECRETS - set(from_env):
        if getattr(getattr(settings, section), key, ""):
            settings.secret_sources[(section, key)] = path
    return settings


def _across_sections(raw: dict[str, Any], path: str, from_env: dict) -> list[str]:
    """Rules between sections, each reported at the key that needs the other section."""
    discourse, monitoring = raw.get("discourse"), raw.get("monitoring")
    secret = discourse.get("webhook_secret") if isinstance(discourse, dict) else None
    listen = monitoring.get("listen") if isinstance(monitoring, dict) else None
    if isinstance(secret, str) and secret and not listen:
        where = from_env.get(("discourse", "webhook_secret")) or f"{path}: [discourse] webhook_secret"
        return [f"{where}: Discourse's webhook is served on the bot's HTTP listener, which is off: set "
                "[monitoring] listen (like 127.0.0.1:9108), or leave webhook_secret empty to poll only"]
    return []


def _problems(error: ValidationError, raw: dict[str, Any], path: str, from_env: dict) -> list[str]:
    """pydantic's errors as lines that each name the file (or variable), the section and the key."""
    problems: dict[tuple, str] = {}
    for e in error.errors(include_url=False):
        section, key = e["loc"][0], e["loc"][1] if len(e["loc"]) > 1 else None
        if (section, key) in problems:  # one problem a key: a list's first bad item
            continue
        if key is None:
            problems[section, key] = (
                f"{path}: [{section}]: unknown section (known: {', '.join(SECTIONS)})"
                if e["type"] == "extra_forbidden" else
                f"{path}: {section}: must be a section [{section}], not a single value")
            continue
        where = from_env.get((section, key)) or f"{path}: [{section}] {(e.get('ctx') or {}).get('shown_at', key)}"
        problems[section, key] = f"{where}: {_message(e, section, key, raw)}"
    return list(problems.values())


def _message(e: dict, section: str, key: str, raw: dict[str, Any]) -> str:
    """What is wrong, in plain words."""
    cls = SECTIONS[section]
    if e["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown key (known keys: {', '.join(sorted(f.name for f in fields(cls)))})"
    if e["type"] == "missing":
        env_name = SECRET_ENV.get((section, key))
        return "missing key" + (f" (or set {env_name})" if env_name else "")
    if e["type"].endswith("_type"):
        got = "" if (section, key) in SECRETS else f", got {raw[section][key]!r}"  # never echo a secret
        return f"wrong type: expected {_type_name(get_type_hints(cls)[key])}{got}"
    return e["msg"]


def _type_name(tp) -> str:
    if get_origin(tp) is list:
        return f"a list of {_type_name(get_args(tp)[0]).removeprefix('a ')}s"
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(tp, str(tp))


DB_DRIVERS = {
    "sqlite+aiosqlite": ("aiosqlite", "sqlite+aiosqlite:///mentorbot.db"),
    "postgresql+asyncpg": ("asyncpg", "postgresql+asyncpg://user:password@host/mentorbot"),
}


def check_database_url(value: str) -> str | None:
    """What is wrong with a database URL, or None."""
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


NOT_CONFIGURED = {
    "matrix": "[matrix] not configured: `mentorbot run` needs it; the shell works without",
    "discourse": "[discourse] not configured: announcements reach Matrix only and the Discourse relay is off",
}


def summary(settings: Settings) -> list[str]:
    """Human-readable lines describing the settings, with every secret masked."""
    lines = [f"Configuration from {settings.source}"]
    for section in SECTIONS:
        if (values := getattr(settings, section)) is None:
            lines.append(NOT_CONFIGURED[section])
            continue
        lines.append(f"[{section}]")
        for f in fields(values):
            value, origin = getattr(values, f.name), settings.secret_sources.get((section, f.name))
            if (section, f.name) in SECRETS:
                shown = "******" + (f" (from {origin})" if origin else "") if value else "(not set)"
            elif (section, f.name) == ("storage", "url"):
                shown = mask_db_url(value) + (f" (from {origin})" if origin else "")
            else:
                shown = repr(str(value)) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
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
        parsed = make_url(str(url))
    except Exception:  # noqa: BLE001 - not a URL: show nothing of it that could be a secret
        return f"{scheme}://***" if sep else "***"
    secret_options = {k: "***" for k in parsed.query if k.lower() in ("password", "passwd", "pwd", "sslpassword")}
    return parsed.update_query_dict(secret_options).render_as_string(hide_password=True)


# What the example configuration holds where a secret goes: it must be replaced.
PLACEHOLDERS = ("change-me", "changeme", "your-", "xxx", "<")


def placeholder_warnings(settings: Settings) -> list[str]:
    """Secrets that still hold the example's placeholder: valid, but the bot cannot log in."""
    return [f"[{section}] {key} still holds a placeholder, not the real secret: set it "
            f"(better, in the environment as {env_name}) or leave it empty"
            for (section, key), env_name in SECRET_ENV.items()
            if (section, key) in SECRETS and any(mark in getattr(getattr(settings, section), key, "").lower()
                                                 for mark in PLACEHOLDERS)]
