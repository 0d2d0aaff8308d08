"""The message layer: every sentence the bot sends to people is made here.

Each feature has a module of message functions (``commands.words.mentoring`` ...). A
function's qualified name is the sentence's stable key (``mentoring.request_sent``); its
text is an English template, translated when the message is rendered for its reader (each
reader in their own language: ``commands.languages``), so a language is a catalog file,
not a code change (docs/translating.md):

    t("Send {cmd} to see what I can do.", cmd=typed(work, "help"))
    tn("{n} mentee", "{n} mentees", count)

Templates use ``{name}`` placeholders, filled with rich parts (a command, a bold name) or
plain text; whatever a person typed enters as plain text and is escaped when rendered as
HTML. Plurals come from the catalog's own plural rule (``ngettext``), never from ``'s'
if n != 1`` in code; articles belong to the phrase they go with ("an orientation
meeting"), so each language writes its own. Numbers and dates are written by Babel in
the reader's locale (``number``, ``written``). A ``.plain()`` taken while a message is
made (a file's text, a reason passed on as text) is in the language of whoever is being
answered (``commands.text.reading``).

Domain events and domain errors are turned into messages here too: ``render`` for what
services emit, ``explain`` for why they refuse. Each feature module registers its
renderers and explanations with ``@renders`` and ``@explains``.
"""

from __future__ import annotations

import string
from datetime import datetime
from functools import lru_cache
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.languages import catalog, locale
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from commands.text import Lazy, Msg, Part, as_typed

_FIELDS = string.Formatter()


class Said(Lazy):
    """A sentence, put in the reader's language when the message is rendered for them: so one
    message sent to several people reads right for each."""

    __slots__ = ("template", "plural", "n", "parts")

    def __init__(self, template: str, plural: str | None, n: int | None, parts: dict[str, Part]) -> None:
        self.template, self.plural, self.n, self.parts = template, plural, n, parts

    def resolve(self, language: str) -> Msg:
        translations = catalog(language)
        if self.plural is None:
            return fill(translations.gettext(self.template), self.parts)
        text = translations.ngettext(self.template, self.plural, self.n)
        return fill(text, {"n": number(self.n), **self.parts})

    def mentions(self) -> list[str]:
        return Msg(*self.parts.values()).mentions()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Said) and (self.template, self.plural, self.n, self.parts) == \
            (other.template, other.plural, other.n, other.parts)

    def __hash__(self) -> int:
        return hash((self.template, self.plural, self.n))


def t(template: str, /, **parts: Part) -> Msg:
    """The sentence ``template``, in the reader's language, with its ``{name}`` placeholders filled
    by ``parts``."""
    return Msg(Said(template, None, None, parts))


def tn(singular: str, plural: str, n: int, /, **parts: Part) -> Msg:
    """The singular or plural form for ``n`` (the reader's language's plural rule), translated and
    filled. ``{n}`` is ``n``, written the reader's way (``1,234``; ``1.234`` in German)."""
    return Msg(Said(singular, plural, n, parts))


class Translated(Lazy):
    """Text kept outside sentences (a command's help, an argument's name, an example), translated
    as written: it has no placeholders. ``context`` tells apart the same words used in two ways."""

    __slots__ = ("text", "context")

    def __init__(self, text: str, context: str | None) -> None:
        self.text, self.context = text, context

    def resolve(self, language: str) -> Msg:
        translations = catalog(language)
        if self.context is None:
            return Msg(translations.gettext(self.text))
        return Msg(translations.pgettext(self.context, self.text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Translated) and (self.text, self.context) == (other.text, other.context)

    def __hash__(self) -> int:
        return hash((self.text, self.context))


def tx(text: str, context: str | None = None) -> Msg:
    """``text`` as written, in the reader's language (see ``Translated``)."""
    return Msg(Translated(text, context))


def N_(template: str) -> str:
    """Marks a sentence kept in a table (a kind's name) for translation: ``t(TABLE[key])`` says it."""
    return template


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular and plural kept in a table for translation: ``tn(*TABLE[key], n)`` says it."""
    return singular, plural


class Number(Lazy):
    """A number written the reader's way."""

    __slots__ = ("value",)

    def __init__(self, value: int | float) -> None:
        self.value = value

    def resolve(self, language: str) -> Msg:
        from babel.numbers import format_decimal

        return Msg(format_decimal(self.value, locale=locale(language)))


def number(value: int | float) -> Msg:
    return Msg(Number(value))


# How a date or time is written, as CLDR patterns (see Babel's ``format_datetime``): day and
# time stay in the ISO order people also type them back in; weekday and month are the reader's.
DATE_FORMS = {
    "day": "yyyy-MM-dd",
    "moment": "yyyy-MM-dd HH:mm",
    "weekday moment": "EEE yyyy-MM-dd HH:mm",
    "weekday day": "EEE yyyy-MM-dd",
    "weekday": "EEEE",
    "month": "LLLL yyyy",
    "month name": "LLLL",
    "short month": "LLL yyyy",
}


class LanguageName(Lazy):
    """A language's name (from its tag, ``pt-BR``) in the reader's language: ``Portuguese
    (Brazil)``, ``Portugiesisch (Brasilien)``."""

    __slots__ = ("tag",)

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def resolve(self, language: str) -> Msg:
        from commands.services.vocabulary import language_name

        return Msg(language_name(self.tag, language))


def language_names(tags: list[str]) -> list[Msg]:
    """The languages' names, each in the reader's language."""
    return [Msg(LanguageName(tag)) for tag in tags]


class Capital(Lazy):
    """Words that begin a sentence: their first letter a capital, in the reader's language."""

    __slots__ = ("words",)

    def __init__(self, words: Msg) -> None:
        self.words = words

    def resolve(self, language: str) -> Msg:
        text = self.words.plain(language)
        return Msg(text[:1].upper() + text[1:])


def capital(words: Msg) -> Msg:
    return Msg(Capital(words))


class When(Lazy):
    """A date or time in a time zone, written in the reader's language."""

    __slots__ = ("value", "zone", "form")

    def __init__(self, value: datetime, zone: ZoneInfo | None, form: str) -> None:
        self.value, self.zone, self.form = value, zone, form

    def resolve(self, language: str) -> Msg:
        from babel.dates import format_datetime

        local = self.value.astimezone(self.zone) if self.zone is not None else self.value
        return Msg(format_datetime(local, DATE_FORMS[self.form], tzinfo=local.tzinfo, locale=locale(language)))


def written(value: datetime, zone: ZoneInfo | None = None, form: str = "moment") -> Msg:
    """``value`` written the reader's way in ``zone`` (``form`` one of ``DATE_FORMS``)."""
    return Msg(When(value, zone, form))


@lru_cache(maxsize=4096)
def _pieces(template: str) -> tuple[tuple[str, str | None, str], ...]:
    """A template cut at its placeholders, once per template: (literal, name, format spec)."""
    return tuple((literal, name, spec) for literal, name, spec, _ in _FIELDS.parse(template))


def fill(template: str, parts: dict[str, Part]) -> Msg:
    out: list[Part] = []
    for literal, name, spec in _pieces(template):
        if literal:
            out.append(literal)
        if name is not None:
            value = parts[name]
            out.append(format(value, spec) if spec and not isinstance(value, Msg) else value)
    return Msg(*out)


def typed(work: Work, text: str, room: RoomKind) -> Msg:
    """A command as the person must type it in ``room``: shared rooms need the prefix."""
    return as_typed(text, room, work.prefix)


# ---------------------------------------------------------------- events and errors

E = TypeVar("E")
_RENDERERS: dict[type, Callable[[Event, Work], None]] = {}
_EXPLAINERS: dict[type, Callable[[DomainError, Work], Msg]] = {}


def renders(kind: type[E]) -> Callable[[Callable[[E, Work], None]], Callable[[E, Work], None]]:
    """Register the function that sends the messages for events of ``kind``."""
    def register(fn):
        _RENDERERS[kind] = fn
        return fn
    return register


def explains(kind: type[E]) -> Callable[[Callable[[E, Work], Msg]], Callable[[E, Work], Msg]]:
    """Register the function that explains a refusal of ``kind`` to the person who asked."""
    def register(fn):
        _EXPLAINERS[kind] = fn
        return fn
    return register


def render(event: Event, work: Work) -> None:
    """Send what ``event`` means to the people concerned, through ``work``'s outbox."""
    _load()
    _RENDERERS[type(event)](event, work)


def explain(error: DomainError, work: Work) -> Msg:
    """Why the work was refused, for the person who asked."""
    _load()
    for kind in type(error).__mro__:
        if kind in _EXPLAINERS:
            return _EXPLAINERS[kind](error, work)
    raise LookupError(f"no explanation for {type(error).__name__}")


def known() -> tuple[frozenset[type], frozenset[type]]:
    """The event and error kinds that have a renderer and an explanation (for tests)."""
    _load()
    return frozenset(_RENDERERS), frozenset(_EXPLAINERS)


_loaded = False


def _load() -> None:
    """Import every feature's message module once, which registers its renderers."""
    global _loaded
    if not _loaded:
        import importlib
        import pkgutil

        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
