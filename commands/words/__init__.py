"""The message layer: every sentence the bot sends to people is made here.

Each feature has a module of message functions (``commands.words.mentoring`` ...). A
function's qualified name is the sentence's stable key (``mentoring.request_sent``); its
text is an English template that goes through the translation catalog first, so a second
language is a catalog file, not a code change:

    t("Send {cmd} to see what I can do.", cmd=typed(work, "help"))
    tn("{n} mentee", "{n} mentees", count)

Templates use ``{name}`` placeholders, filled with rich parts (a command, a bold name) or
plain text; whatever a person typed enters as plain text and is escaped when rendered as
HTML. Plurals come from the catalog's own plural rule (``ngettext``), never from ``'s'
if n != 1`` in code; articles belong to the phrase they go with ("an orientation
meeting"), so each language writes its own.

Domain events and domain errors are turned into messages here too: ``render`` for what
services emit, ``explain`` for why they refuse. Each feature module registers its
renderers and explanations with ``@renders`` and ``@explains``.
"""

from __future__ import annotations

import gettext
import string
from functools import lru_cache
from typing import Callable, TypeVar

from commands.kinds import RoomKind
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from commands.text import Msg, Part, as_typed

_FIELDS = string.Formatter()
# The catalog in use. English is the templates themselves; a language's catalog replaces it.
catalog: gettext.NullTranslations = gettext.NullTranslations()


def t(template: str, /, **parts: Part) -> Msg:
    """The sentence ``template``, translated, with its ``{name}`` placeholders filled by ``parts``."""
    return fill(catalog.gettext(template), parts)


def tn(singular: str, plural: str, n: int, /, **parts: Part) -> Msg:
    """The singular or plural form for ``n`` (the catalog's plural rule), translated and filled.
    ``{n}`` is ``n``, written with thousands separators."""
    return fill(catalog.ngettext(singular, plural, n), {"n": f"{n:,}", **parts})


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
            out.append(format(value, spec) if spec else value)
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
