"""Words people type about themselves, read into one normal form each.

Whatever reads a language, a time zone, an interest or a skill from a person goes through
the plain functions here, so the same word is understood the same way everywhere
(``profile``, a request, matching):

- ``language(text)``: a BCP-47 tag (``Deutsch``, ``German``, ``de`` -> ``de``), else
  ``UnknownLanguage`` with the closest language names; ``languages(text)`` reads a list;
  ``language_name(tag)`` is what people are shown.
- ``timezone(text)``: an IANA zone (``Berlin``, ``poland``, ``CET`` -> ``Europe/...``), else
  ``AmbiguousZone`` with the zones meant, or ``UnknownZone`` with the closest names.
- ``skill(text, vocabulary)``: an interest or skill in lower case, mapped to the program's
  word for it when the program has a vocabulary (``[program] skills``), with a suggestion
  when it is close in spelling to a known one; ``skills(text, vocabulary)`` reads a list.

What each word becomes is ``storage.normal``'s (the form in which it is stored); this
module adds what people are told: the errors, and the closest known words by spelling
(rapidfuzz) as suggestions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import langcodes
from rapidfuzz import fuzz, process

from commands.languages import base_language  # noqa: F401 - also read here (matching, cohorts)
from commands.services.errors import DomainError
from storage.normal import AREAS, MAX_WORD, folded, known_timezones, language_tag, plain_word, zones_meant

MAX_ITEMS = 20  # items of one list
SUGGESTIONS = 3  # closest names offered for a word not understood
CLOSE = 80  # rapidfuzz score (0-100) from which a spelling is "close" to a known word

# A vocabulary: each skill's own word, with the other words people use for it.
Vocabulary = Mapping[str, Sequence[str]]


def closest(text: str, names: Sequence[str], limit: int = SUGGESTIONS, cutoff: float = 60) -> tuple[str, ...]:
    """The ``names`` nearest ``text`` in spelling, best first (at most ``limit``, none below ``cutoff``)."""
    found = process.extract(folded(text), list(names), scorer=fuzz.WRatio, processor=folded,
                            limit=limit * 3, score_cutoff=cutoff)
    out: list[str] = []
    for name, _, _ in found:
        if name not in out:
            out.append(name)
    return tuple(out[:limit])


# ---------------------------------------------------------------- languages


@dataclass
class UnknownLanguage(DomainError):
    """A word that names no language; ``suggestions`` are the closest language names."""

    word: str
    suggestions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the suggestions' tags, to name them in the reader's language


@dataclass
class TooManyWords(DomainError):
    """A list longer than ``limit`` items, or an item longer than ``length`` characters."""

    word: str
    limit: int = MAX_ITEMS
    length: int = MAX_WORD


def language(text: str) -> str:
    """The BCP-47 tag of a language named in any language or by its code or tag:
    ``Deutsch``, ``german``, ``de``, ``pt_BR``, ``Brazilian Portuguese``, ``polski``.
    UnknownLanguage (with the closest names) if it names none."""
    word = " ".join(text.split())
    if len(word) > MAX_WORD:
        raise TooManyWords(word[:20])
    tag = language_tag(word)
    if tag is None:
        names = _language_names()
        near = closest(word, tuple(names), limit=2 * SUGGESTIONS, cutoff=CLOSE)
        tags = dict.fromkeys(names[n] for n in near)
        raise UnknownLanguage(word, tuple(language_name(t) for t in tags)[:SUGGESTIONS], tuple(tags)[:SUGGESTIONS])
    return tag


@lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    """The languages with a two-letter code, by their English name and their own name (each
    name to its tag): what a word not understood is compared with."""
    names: dict[str, str] = {}
    for first in "abcdefghijklmnopqrstuvwxyz":
        for second in "abcdefghijklmnopqrstuvwxyz":
            found = langcodes.Language.get(first + second)
            if not found.is_valid() or not found.has_name_data():
                continue
            names.setdefault(found.display_name(), first + second)
            autonym = found.autonym()
            if autonym and autonym != first + second:
                names.setdefault(autonym, first + second)
    return names


def is_language(text: str) -> bool:
    try:
        language(text)
    except (UnknownLanguage, TooManyWords):
        return False
    return True


def languages(text: str) -> list[str]:
    """The tags of a list of languages, each once, in the order given. Items are separated by
    commas (``Brazilian Portuguese, English``) or, when every word is a language on its own,
    by spaces (``en es``)."""
    items = split_items(text)
    if len(items) == 1 and " " in items[0] and not is_language(items[0]):
        spaced = items[0].split()
        if all(is_language(w) for w in spaced):
            items = spaced
    return _each(items, language)


def language_name(tag: str, in_language: str = "en") -> str:
    """How a language is shown to people: its name (``pt-BR`` -> ``Portuguese (Brazil)``). A
    word that is no tag (stored before languages were read) is shown as it was typed."""
    try:
        return langcodes.Language.get(tag).display_name(in_language) if langcodes.tag_is_valid(tag) else tag
    except (ValueError, LookupError):
        return tag


def language_names(tags: Sequence[str], in_language: str = "en") -> list[str]:
    return [language_name(t, in_language) for t in tags]


def same_language(a: str, b: str) -> bool:
    return base_language(a) == base_language(b)


def shared_languages(wanted: Sequence[str], spoken: Sequence[str]) -> tuple[str, ...]:
    """The languages of ``wanted`` that someone who speaks ``spoken`` understands."""
    bases = {base_language(s) for s in spoken}
    return tuple(w for w in wanted if base_language(w) in bases)


# ---------------------------------------------------------------- time zones

@dataclass
class UnknownZone(DomainError):
    """A word that names no time zone; ``suggestions`` are the closest names (zones, cities, countries)."""

    word: str
    suggestions: tuple[str, ...] = ()


@dataclass
class AmbiguousZone(DomainError):
    """A word that names several time zones (a country with more than one, or ``IST``): ``choices``."""

    word: str
    choices: tuple[str, ...]


def timezone(text: str) -> str:
    """The IANA zone a person means (see ``zones_meant``): AmbiguousZone if it means several,
    UnknownZone (with the closest names) if none."""
    word = " ".join(text.strip().strip("\"'“”").split())
    meant = zones_meant(word)
    if len(meant) == 1:
        return meant[0]
    if meant:
        raise AmbiguousZone(word, meant)
    shown = word if len(word) <= 40 else word[:40] + "…"
    by_city = {z.rsplit("/", 1)[1].replace("_", " "): z for z in sorted(known_timezones(), reverse=True)
               if z.split("/")[0] in AREAS}
    near = closest(word, tuple(by_city) + tuple(by_city.values()), limit=2 * SUGGESTIONS, cutoff=CLOSE)
    zones = dict.fromkeys(by_city.get(n, n) for n in near)
    raise UnknownZone(shown, tuple(zones)[:SUGGESTIONS])


# ---------------------------------------------------------------- interests and skills


@dataclass(frozen=True)
class Skill:
    """An interest or skill as read: ``value`` is what is stored; ``suggestion`` a known skill
    close to it in spelling (when ``value`` is not one); ``known`` whether the program's
    vocabulary has it (always True without a vocabulary)."""

    value: str
    suggestion: str | None = None
    known: bool = True


def canonical(word: str, vocabulary: Vocabulary) -> str | None:
    """The program's word for ``word`` (itself or one of its synonyms), if it has one."""
    return _synonyms(tuple((k, tuple(v)) for k, v in vocabulary.items())).get(folded(word))


@lru_cache(maxsize=8)
def _synonyms(vocabulary: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    words: dict[str, str] = {}
    for skill, others in vocabulary:
        for w in (skill, *others):
            words.setdefault(folded(w), plain_word(skill))
    return words


def skill(text: str, vocabulary: Vocabulary | None = None, known_words: Sequence[str] = ()) -> Skill:
    """An interest or skill in its normal form. With a vocabulary, a synonym becomes the
    skill's own word (``l10n`` -> ``localization``); a word it lacks is kept as typed (lower
    case), with the closest skill in spelling as a suggestion. ``known_words`` (the words
    people use already) give the suggestion when the program has no vocabulary."""
    word = plain_word(text)
    if len(word) > MAX_WORD:
        raise TooManyWords(word[:20])
    if vocabulary:
        found = canonical(word, vocabulary)
        if found is not None:
            return Skill(found)
        words = list(_synonyms(tuple((k, tuple(v)) for k, v in vocabulary.items())))
        near = closest(word, words, limit=1, cutoff=CLOSE)
        return Skill(word, canonical(near[0], vocabulary) if near else None, known=False)
    near = closest(word, [w for w in known_words if w != word], limit=1, cutoff=CLOSE)
    return Skill(word, near[0] if near else None)


def skills(text: str, vocabulary: Vocabulary | None = None, known_words: Sequence[str] = ()) -> list[Skill]:
    """A list of interests or skills, separated by commas (spaces do not separate: ``UX design``
    is one interest), each once, in the order given."""
    read: list[Skill] = []
    for item in _each(split_items(text), lambda w: w):
        one = skill(item, vocabulary, known_words)
        if one.value not in [s.value for s in read]:
            read.append(one)
    return read


def canonical_all(values: Sequence[str], vocabulary: Vocabulary | None) -> tuple[str, ...]:
    """Stored words in their program form today (the vocabulary may have grown since), each once."""
    if not vocabulary:
        return tuple(dict.fromkeys(values))
    return tuple(dict.fromkeys(canonical(v, vocabulary) or v for v in values))


def terms(values: Sequence[str], vocabulary: Vocabulary | None) -> dict[str, str]:
    """Every word that means one of ``values`` (their synonyms too), to the skill it means."""
    out = {v: v for v in values}
    for skill_word, others in (vocabulary or {}).items():
        mine = plain_word(skill_word)
        if mine in out:
            for w in (skill_word, *others):
                out.setdefault(plain_word(w), mine)
    return out


# ---------------------------------------------------------------- lists


QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|«([^»]*)»')


def split_items(text: str) -> list[str]:
    """The items of a list separated by commas (or semicolons), quotes removed, blanks dropped.
    Quoted phrases alone are items too: ``"event planning" "public speaking"``."""
    if QUOTED.search(text) and not QUOTED.sub("", text).strip(" \t,;"):
        return [" ".join("".join(m.groups(default="")).split()) for m in QUOTED.finditer(text)
                if "".join(m.groups(default="")).strip()]
    items = [i.strip().strip("\"'“”‘’«»„").strip() for i in re.split(r"[,;]", text)]
    return [" ".join(i.split()) for i in items if i.strip()]


def _each(items: list[str], read) -> list:
    if len(items) > MAX_ITEMS:
        raise TooManyWords(items[MAX_ITEMS][:20])
    out: list = []
    for item in items:
        value = read(item)
        if value not in out:
            out.append(value)
    return out
