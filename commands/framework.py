"""Declaring commands once.

A command is declared with its name, arguments, who may run it and where. That
one declaration drives parsing, permission checks, usage errors and help.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from commands.clock import Dated, end_of_day, read_duration
from commands.dates import ENGLISH, RELATIVE, TIME_OF_DAY, english_forms, readings  # noqa: F401 - read here
from commands.kinds import DM_ONLY, EVERYWHERE, Role, RoomKind  # noqa: F401 - the declarations' words
from commands.services import vocabulary
from commands.text import Msg, join
from commands.words import arguments as said
from commands.words import tx
from commands.words import kinds as kinds_said

MAX_TEXT = 2000  # longest free text a command accepts


# ---------------------------------------------------------------- errors


class CommandError(Exception):
    """A command cannot go ahead; the message tells the person why and what to do."""

    outcome = "refused"

    def __init__(self, message: Msg | str) -> None:
        self.message = message if isinstance(message, Msg) else Msg(message)
        super().__init__(self.message.plain())


class UsageError(CommandError):
    outcome = "usage"


class Denied(CommandError):
    outcome = "denied"


class WrongRoom(CommandError):
    outcome = "wrong_room"


class ArgError(ValueError):
    """An argument does not have the expected form."""


class UnreadableDate(ArgError):
    """Text that reads as no date at all."""


class AmbiguousDate(ArgError):
    """Text that reads as different dates: ``readings`` are the argument written out for each,
    unambiguously (``2027-03-09 16:00``), with the day it names, for the person to choose one."""

    def __init__(self, text: str, readings: tuple[tuple[str, datetime], ...]) -> None:
        self.text, self.readings = text, readings
        super().__init__(text)

    def around(self, before: str = "", after: str = "") -> AmbiguousDate:
        """The same choice, for an argument that holds the date among other parts."""
        return AmbiguousDate(self.text, tuple((f"{before}{r}{after}", day) for r, day in self.readings))


# ---------------------------------------------------------------- tokens

QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "„": "“"}


def next_token(text: str) -> tuple[str, str]:
    """Split the next word (or quoted phrase) off ``text``: returns (token, rest)."""
    text = text.lstrip()
    if not text:
        return "", ""
    opener = text[0]
    if opener in QUOTES:
        closer = QUOTES[opener]
        end = text.find(closer, 1)
        while end != -1 and end + 1 < len(text) and not (text[end + 1].isspace() or text[end + 1] == ","):
            end = text.find(closer, end + 1)
        if end == -1:
            raise ArgError(said.quote_not_closed(opener, closer))
        return text[1:end], text[end + 1 :]
    match = re.match(r"\S+", text)
    assert match
    return match.group(0), text[match.end() :]


def unquote_rest(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in QUOTES and text[-1] == QUOTES[text[0]]:
        return text[1:-1].strip()
    return text


# ---------------------------------------------------------------- argument types


@dataclass(frozen=True)
class ParseEnv:
    """What reading some arguments depends on: the time now, the speaker's zone and the
    languages their dates are read in (``dates.date_languages``), and how a command is typed
    where they wrote (the prefix, or nothing in a DM)."""

    now: datetime
    zone: ZoneInfo
    languages: tuple[str, ...] = (ENGLISH,)
    prefix: str = ""


class ArgType:
    """How one argument is read from the message."""

    label = "word"
    greedy = False  # takes the rest of the message

    def convert(self, token: str) -> Any:
        return token

    def convert_in(self, token: str, env: ParseEnv) -> Any:
        """Like ``convert``, for types whose reading depends on the time or the speaker."""
        return self.convert(token)

    async def resolve(self, value: Any, ctx: Any) -> Any:
        """What the handler gets for the value read: the value itself, or for a type that names
        something in the program (one of my mentees, a known person) that thing, looked up in
        the command's transaction. May refuse with a domain error."""
        return value


class Word(ArgType):
    label = "word"

    def convert(self, token: str) -> str:
        if len(token) > 100:
            raise ArgError(said.word_too_long())
        return token


class Integer(ArgType):
    def __init__(self, minimum: int | None = None, maximum: int | None = None, label: str = "number") -> None:
        self.minimum, self.maximum, self.label = minimum, maximum, label

    def convert(self, token: str) -> int:
        token = token.lstrip("#")
        if re.fullmatch(r"[+-]?\d{10,}", token):
            raise ArgError(said.far_too_large(token[:12]))
        if not re.fullmatch(r"[+-]?\d{1,9}", token):
            raise ArgError(said.not_a_whole_number(token[:40]))
        value = int(token)
        if self.minimum is not None and value < self.minimum:
            raise ArgError(said.too_small(value, self.minimum))
        if self.maximum is not None and value > self.maximum:
            raise ArgError(said.too_large(value, self.maximum))
        return value


# The user ID grammar of the Matrix spec: a localpart of a-z 0-9 . _ = - / +, then the server.
MATRIX_ID = re.compile(r"@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(?::\d{1,5})?")
MAX_MATRIX_ID = 255


def is_matrix_id(text: str) -> bool:
    return len(text) <= MAX_MATRIX_ID and MATRIX_ID.fullmatch(text) is not None


class MatrixId(ArgType):
    label = "person"

    def convert(self, token: str) -> str:
        token = token.strip("<>,")  # tolerate <@ana:example.org> and trailing commas
        if not is_matrix_id(token):
            shown = token if len(token) <= 60 else token[:60] + "…"
            raise ArgError(said.not_a_matrix_id(shown))
        return token


class Choice(ArgType):
    def __init__(self, *options: str, label: str | None = None) -> None:
        self.options = options
        self.label = label or "|".join(options)

    def convert(self, token: str) -> str:
        value = token.lower()
        if value not in self.options:
            raise ArgError(said.not_one_of(token, self.options))
        return value


def parse_duration(text: str) -> timedelta:
    """``3d``, ``2w``, ``90m``, ``1d12h``, ``2 weeks``: a positive duration."""
    duration = read_duration(text)
    if duration is None:
        raise ArgError(said.not_a_duration(text.strip()))
    return duration


class Duration(ArgType):
    label = "duration"

    def convert(self, token: str) -> timedelta:
        return parse_duration(token)


class TimeZoneName(ArgType):
    label = "time zone"

    def convert(self, token: str) -> str:
        return check_timezone(token)


def check_timezone(name: str) -> str:
    """The IANA zone ``name`` means (``Berlin``, ``CET``, ``Europe/Berlin``: see ``vocabulary.timezone``)."""
    try:
        return vocabulary.timezone(name)
    except (vocabulary.UnknownZone, vocabulary.AmbiguousZone):
        name = name.strip()
        raise ArgError(said.unknown_time_zone(name if len(name) <= 40 else name[:40] + "…")) from None


AMBIGUOUS_DATE = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})\b")
CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
TWELVE_HOUR = re.compile(r"(?<!\d)(\d{1,2})(?::\d{2})?\s*([ap])\.?m\b", re.I)
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
MONTHS = {name: n for n, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
DAY_MONTH = re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)|([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?(?![\d:])",
                       re.I)


def impossible_time(text: str) -> str | None:
    """What makes a date or time impossible (25:00, 31 February, month 13), or None. Date
    readers quietly turn such times into other ones; a person must be told instead."""
    for hour, minute in CLOCK.findall(text):
        if int(hour) > 23 or int(minute) > 59:
            return said.not_a_time_of_day(hour, minute)
    for hour, half in TWELVE_HOUR.findall(text):
        if not 1 <= int(hour) <= 12:
            return said.not_a_twelve_hour_time(hour, half)
    for year, month, day in ISO_DATE.findall(text):
        if not 1 <= int(month) <= 12:
            return said.no_such_month(year, month, day)
        if not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
            return said.no_such_day_in_year(year, month, day)
    for day_a, month_a, month_b, day_b in DAY_MONTH.findall(text):
        month = MONTHS.get((month_a or month_b).lower())
        day = int(day_a or day_b)
        if month is not None and not 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1]):
            return said.no_such_day(month, day)
    return None
DATE_EXAMPLE = said.DATE_EXAMPLE


class When(ArgType):
    """A date and time in words people use, read in the speaker's time zone.

    Gives an aware datetime in UTC. Dates in the past, ambiguous dates like
    03/04/2027, and anything unreadable are refused with an example.
    """

    greedy = True

    def __init__(self, label: str = "when", needs_time: bool = False, max_years: int = 10,
                 whole_days: bool = False) -> None:
        self.label, self.needs_time, self.max_years = label, needs_time, max_years
        self.whole_days = whole_days  # a bare date lasts all day: today is not in the past

    def convert_in(self, token: str, env: ParseEnv) -> datetime:
        return self.read(token, env)[0]

    def read(self, token: str, env: ParseEnv) -> tuple[datetime, bool]:
        """The time read, in UTC, and whether the text gave a time of day. Read in each of the
        speaker's languages: readings that differ are offered back to choose from."""
        text = unquote_rest(token)
        if len(text) > 100:
            raise ArgError(said.date_too_long())
        for form in (text, *english_forms(text, env.languages)):
            impossible = impossible_time(form)
            if impossible:
                raise ArgError(impossible)
        ambiguous = AMBIGUOUS_DATE.match(text)
        if ambiguous and ambiguous.group(1) != ambiguous.group(2) and max(map(int, ambiguous.group(1, 2))) <= 12:
            raise ArgError(said.ambiguous_date(text))
        found: dict[datetime, bool] = {}  # each time read, and whether with a time of day
        refused: list[ArgError] = []
        for reading in readings(text, env.languages, env.zone, env.now):
            try:
                when = self._checked(reading.at, reading.clock or reading.relative, text, env)
            except ArgError as problem:
                refused.append(problem)
                continue
            found[when] = found.get(when, False) or reading.clock
        if len(found) > 1:
            raise AmbiguousDate(text, tuple((self._written(when, env), when.astimezone(env.zone))
                                            for when in sorted(found)))
        if found:
            return next(iter(found.items()))
        if refused:
            raise refused[0]
        raise UnreadableDate(said.unreadable_date(text, env.languages))

    def _checked(self, when: datetime, timed: bool, text: str, env: ParseEnv) -> datetime:
        """One reading made whole: a bare date has no time of its own; not past, not too far."""
        over = when
        if not timed:
            if self.needs_time:
                raise ArgError(said.no_time_of_day(text))
            when = when.replace(hour=0, minute=0, second=0, microsecond=0)
            over = end_of_day(when, env.zone) if self.whole_days else when
        when = when.astimezone(timezone.utc)
        if over < env.now - timedelta(minutes=1):
            shown = when.astimezone(env.zone)
            raise ArgError(said.in_the_past(f"{shown:%Y-%m-%d %H:%M}", env.zone.key))
        if when > env.now + timedelta(days=366 * self.max_years):
            raise ArgError(said.too_far_ahead(self.max_years))
        return when

    def _written(self, when: datetime, env: ParseEnv) -> str:
        """A reading as it is written without any doubt: ``2027-03-09 16:00``, or ``2027-03-09``
        for a day that starts at midnight."""
        local = when.astimezone(env.zone)
        return f"{local:%Y-%m-%d}" if (local.hour, local.minute) == (0, 0) and not self.needs_time \
            else f"{local:%Y-%m-%d %H:%M}"


class OnDate(ArgType):
    """A date, with or without a time of day, read in the speaker's time zone: today or later.

    ``2027-03-10``, ``10 March``, ``next friday``, ``2027-03-10 16:00``."""

    greedy = True

    def __init__(self, label: str = "date", max_years: int = 2) -> None:
        self.label = label
        self.when = When(label, max_years=max_years, whole_days=True)

    def convert_in(self, token: str, env: ParseEnv) -> Dated:
        text = unquote_rest(token)
        at, clock = self.when.read(text, env)
        all_day = not clock
        if all_day:  # "in 2 weeks" names a day too
            local = at.astimezone(env.zone)
            at = datetime.combine(local.date(), datetime.min.time(), tzinfo=env.zone).astimezone(timezone.utc)
        return Dated(at, all_day, env.zone.key, end_of_day(at, env.zone))


REPEAT = re.compile(
    r"^\s*every\s+(?:(\d{1,2})\s+)?(months?|weeks?)\b\s*(?:from|starting|,)?\s*(.*)$", re.I | re.S
)


@dataclass(frozen=True)
class Plan:
    """When a check-in is, and how often it repeats (at most one of the two is set)."""

    at: datetime
    every_months: int | None = None
    every_weeks: int | None = None


class Schedule(ArgType):
    """A time, or a repeating one: ``next tuesday 16:00``, ``in 2 weeks``,
    ``every 3 months from 2027-01-10 18:00``, ``every 2 weeks from monday 17:00``."""

    greedy = True
    label = "when"

    def __init__(self, label: str = "when") -> None:
        self.label = label
        self.when = When(label, needs_time=True, max_years=2)

    def convert_in(self, token: str, env: ParseEnv) -> Plan:
        text = unquote_rest(token)
        repeat = REPEAT.match(text)
        if not repeat:
            if text.lower().startswith("every"):
                raise ArgError(said.repeat_form())
            return Plan(self.when.convert_in(text, env))
        count = int(repeat.group(1) or 1)
        unit = repeat.group(2).lower()
        start = repeat.group(3).strip()
        if not start:
            raise ArgError(said.repeat_needs_start(count, unit))
        limit = 12 if unit.startswith("month") else 52
        if not 1 <= count <= limit:
            raise ArgError(said.repeat_range(limit, months=unit.startswith("month")))
        try:
            at = self.when.convert_in(start, env)
        except AmbiguousDate as choice:
            raise choice.around(before=text[:repeat.start(3)]) from None
        if unit.startswith("month"):
            return Plan(at, every_months=count)
        return Plan(at, every_weeks=count)


class Text(ArgType):
    """The rest of the message, as typed."""

    greedy = True

    def __init__(self, label: str = "text", max_length: int = MAX_TEXT) -> None:
        self.label, self.max_length = label, max_length

    def convert(self, token: str) -> str:
        value = unquote_rest(token)
        if len(value) > self.max_length:
            raise ArgError(said.text_too_long(len(value), self.max_length))
        return value


def split_list(text: str) -> list[str]:
    """Items separated by commas (``en, es``) or, without commas, by spaces (``en es``).

    A quoted phrase is one word: ``"event planning" "public speaking"``.
    """
    commas = "," in re.sub(r'"[^"]*"|“[^”]*”', "", text)
    items: list[str] = []
    current: list[str] = []
    rest = text
    while True:
        rest = rest.lstrip()
        if not rest:
            break
        if rest[0] == ",":
            items.append(" ".join(current))
            current, rest = [], rest[1:]
            continue
        if rest[0] in QUOTES:
            word, rest = next_token(rest)
        else:
            match = re.match(r"[^\s,]+", rest)
            assert match
            word, rest = match.group(0), rest[match.end() :]
        if commas:
            current.append(word)
        else:
            items.append(word)
    items.append(" ".join(current))
    return items


class WordList(ArgType):
    """The rest of the message as a list: ``en, es`` or ``en es``."""

    greedy = True

    def __init__(self, label: str = "list", max_items: int = 20, max_length: int = 50) -> None:
        self.label, self.max_items, self.max_length = label, max_items, max_length

    def convert(self, token: str) -> list[str]:
        parts = split_list(token)
        parts = [p.strip() for p in parts]
        values: list[str] = []
        for p in parts:
            p = " ".join(p.lower().split())
            if not p or p in values:
                continue
            if len(p) > self.max_length:
                raise ArgError(said.item_too_long(p[:20], self.max_length))
            values.append(p)
        if len(values) > self.max_items:
            raise ArgError(said.too_many_items(len(values), self.max_items))
        return values


@dataclass(frozen=True)
class Arg:
    name: str
    type: ArgType
    optional: bool = False
    default: Any = None

    def usage(self) -> str:
        text = f"{self.name}..." if self.type.greedy else self.name
        return f"[{text}]" if self.optional else f"<{text}>"

    def usage_said(self) -> Msg:
        """As ``usage``, with the argument's name in the reader's language."""
        name = tx(self.name, "argument")
        text = Msg(name, "...") if self.type.greedy else name
        return Msg("[", text, "]") if self.optional else Msg("<", text, ">")


# ---------------------------------------------------------------- commands

Handler = Callable[..., Awaitable[Any]]


@dataclass
class Command:
    name: str
    handler: Handler
    summary: str
    details: str
    args: tuple[Arg, ...]
    roles: frozenset[Role]
    rooms: frozenset[RoomKind]
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    group: str = ""
    # Safe to suggest from a guess at what someone meant (see ``commands.suggest``): it only
    # shows things, or sets a field of the sender's own profile that they can set back at once.
    safe: bool = False

    def usage(self) -> str:
        return " ".join([self.name, *(a.usage() for a in self.args)])

    def usage_said(self) -> Msg:
        """The usage line as a reader reads it: the command's words as typed, its arguments named
        in the reader's language."""
        return join([self.name, *(a.usage_said() for a in self.args)], " ")

    def summary_said(self) -> Msg:
        return tx(self.summary)

    def details_said(self) -> Msg | None:
        return tx(self.details) if self.details else None

    def examples_said(self) -> list[Msg]:
        return [tx(e, "example") for e in self.examples]

    def allows_role(self, roles: Iterable[Role]) -> bool:
        return Role.ANYONE in self.roles or bool(self.roles & set(roles))

    def allows_room(self, room: RoomKind) -> bool:
        return room in self.rooms

    def who(self) -> str:
        return kinds_said.who(self.roles)

    def where(self, short: bool = False) -> str:
        return kinds_said.where(self.rooms, short=short)

    async def resolve(self, values: dict[str, Any], ctx: Any) -> dict[str, Any]:
        """The handler's arguments: each value read, resolved by its type (see ``ArgType.resolve``)."""
        for arg in self.args:
            if values.get(arg.name) is not None:
                values[arg.name] = await arg.type.resolve(values[arg.name], ctx)
        return values

    def parse(self, text: str, env: ParseEnv | None = None) -> dict[str, Any]:
        """Read this command's arguments from ``text`` (what follows the name)."""
        env = env or ParseEnv(datetime.now(timezone.utc), ZoneInfo("UTC"))
        values: dict[str, Any] = {}
        rest = text
        for arg in self.args:
            before = rest
            if not rest.strip():
                if not arg.optional:
                    raise UsageError(self._usage_message(said.missing(tx(arg.name, "argument").plain())))
                values[arg.name] = arg.default
                continue
            try:
                if arg.type.greedy:
                    token, rest = rest, ""
                else:
                    token, rest = next_token(rest)
                values[arg.name] = arg.type.convert_in(token, env)
            except AmbiguousDate as choice:
                typed = f"{env.prefix}{self.name} {text[:len(text) - len(before)].strip()}".rstrip()
                raise UsageError(said.which_date(choice.text, [(f"{typed} {r}", day) for r, day in choice.readings])) \
                    from None
            except ArgError as exc:
                raise self.usage_error(arg.name, str(exc)) from None
        if rest.strip():
            extra = rest.strip()
            shown = extra if len(extra) <= 40 else extra[:40] + "…"
            raise UsageError(self._usage_message(said.unexpected(shown)))
        return values

    def usage_error(self, arg: str, problem: str) -> UsageError:
        """The refusal of a value of argument ``arg`` that a handler found wrong, said like the parser's."""
        return UsageError(self._usage_message(said.problem_with(tx(arg, "argument").plain(), problem)))

    def _usage_message(self, problem: str) -> Msg:
        examples = self.examples_said()
        return said.usage(problem, self.usage_said(), examples[0] if examples else None, self.name)


class Router:
    """The commands of one domain (profile, roster, requests...)."""

    def __init__(self, name: str, title: str) -> None:
        self.name, self.title = name, title
        self.commands: list[Command] = []

    def command(
        self,
        name: str,
        *,
        args: Sequence[Arg] = (),
        roles: Iterable[Role] = (Role.ANYONE,),
        rooms: Iterable[RoomKind] = EVERYWHERE,
        aliases: Sequence[str] = (),
        examples: Sequence[str] = (),
        safe: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Declare a command. The handler's docstring is its help: first line the summary.

        ``safe``: the bot may suggest the command to someone whose words it could not read,
        because it only shows things, whatever its arguments (or sets a field of the sender's
        own profile, which they can set back at once). A command that ends, cancels, declines,
        removes, erases or changes anything else must never be declared so."""

        def decorate(handler: Handler) -> Handler:
            doc = (handler.__doc__ or "").strip()
            summary, _, details = doc.partition("\n")
            self.commands.append(
                Command(
                    name=name,
                    handler=handler,
                    summary=summary.strip(),
                    details=" ".join(details.split()),
                    args=tuple(args),
                    roles=frozenset(roles),
                    rooms=frozenset(rooms),
                    aliases=tuple(aliases),
                    examples=tuple(examples),
                    group=self.title,
                    safe=safe,
                )
            )
            return handler

        return decorate


@dataclass
class Registry:
    """Every command the bot knows, found by its (possibly multi-word) name."""

    routers: list[Router] = field(default_factory=list)
    _names: dict[str, Command] = field(default_factory=dict)
    # A name may mean different commands in different rooms (``confirm`` a check-in in a DM,
    # an announcement in the council room): the first declared is the one found by name.
    _variants: dict[str, list[Command]] = field(default_factory=dict)
    # Which command a DM text is while its sender is in a guided conversation (see commands.conversations).
    conversation: Any = None

    def include(self, router: Router) -> None:
        for cmd in router.commands:
            for name in (cmd.name, *cmd.aliases):
                if name in self._names:
                    others = self._variants.setdefault(name, [self._names[name]])
                    if any(o.rooms & cmd.rooms for o in others):
                        raise ValueError(f"command name {name!r} declared twice for the same room")
                    others.append(cmd)
                    continue
                self._names[name] = cmd
        self.routers.append(router)

    def variants(self, cmd: Command) -> list[Command]:
        """Every command declared under ``cmd``'s name (usually just ``cmd``)."""
        return self._variants.get(cmd.name, [cmd])

    def pick(self, cmd: Command, room: RoomKind, roles: Iterable[Role]) -> Command:
        """The variant of ``cmd`` meant in ``room``: one that works there (for this person, if
        possible), else one this person may use (to be told where it works)."""
        options = self.variants(cmd)
        roles = frozenset(roles)
        for test in (lambda c: c.allows_room(room) and c.allows_role(roles), lambda c: c.allows_room(room),
                     lambda c: c.allows_role(roles)):
            for c in options:
                if test(c):
                    return c
        return options[0]

    @property
    def commands(self) -> list[Command]:
        return [c for r in self.routers for c in r.commands]

    def names(self) -> list[str]:
        return list(self._names)

    def get(self, name: str) -> Command | None:
        return self._names.get(" ".join(name.lower().split()))

    def find(self, text: str) -> tuple[Command | None, str, str]:
        """Match the longest command name at the start of ``text``.

        Returns (command, the words matched, the rest of the text).
        """
        words: list[str] = []
        rest = text
        best: tuple[Command | None, str, str] = (None, "", text)
        for _ in range(3):
            match = re.match(r"\s*(\S+)", rest)
            if not match:
                break
            words.append(match.group(1).lower())
            rest = rest[match.end() :]
            cmd = self._names.get(" ".join(words))
            if cmd is not None:
                best = (cmd, " ".join(words), rest)
        return best

    def subcommands(self, word: str) -> list[Command]:
        prefix = word.lower() + " "
        seen: list[Command] = []
        for name, cmd in self._names.items():
            if name.startswith(prefix) and cmd not in seen:
                seen.append(cmd)
        return seen
