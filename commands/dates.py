"""Reading dates and times in the languages a person speaks.

Dates are read in English and in each language of the speaker's profile that dateparser
reads (``nächsten Dienstag 16:00``, ``wtorek 16:00``, ``martes 16:00``). Each language
gives its own reading, so the caller can tell when the same words mean different days in
two of them. dateparser's own data supplies every word (weekday and month names, the
language's word for "next", the words of "in 2 weeks"): there is no hand-made table.

Two things dateparser does not do for other languages are done here:

- "next" before a weekday: English ``next tuesday`` is the first Tuesday after today,
  like a bare ``tuesday``. dateparser knows no such word elsewhere, so the language's
  word for "next" (taken from its ``next week`` / ``next month`` / ``next year``) is
  dropped next to a weekday: ``nächsten Dienstag`` reads as ``Dienstag``, ``mardi
  prochain`` as ``mardi``.
- a reading whose weekday is not the one named (``Dienstag um 16 Uhr`` read as the 16th)
  is no reading at all.

English keeps exactly its own reader, for people who speak nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo

ENGLISH = "en"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
# English: a time of day, and "in 2 weeks" (which keeps the time of day of now).
TIME_OF_DAY = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*[ap]\.?m\b|\bnoon\b|\bmidnight\b", re.I)
RELATIVE = re.compile(r"^\s*in\s+(a|an|\d+)\s|\bfrom now\b", re.I)
YEAR_FIRST = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}(?!\d)")  # 2027-03-10: one order in every language
DAY_DOT = re.compile(r"(?<=\d)\.(?=\s)")  # "15. März": the German ordinal dot


@dataclass(frozen=True)
class Reading:
    """One way of reading a text as a date, in one language."""

    language: str
    at: datetime  # aware, in the speaker's zone
    clock: bool  # the text gives a time of day
    relative: bool  # counted from now ("in 2 weeks"): it keeps the time of day of now


@lru_cache(maxsize=None)
def readable(code: str) -> bool:
    """Whether dateparser reads dates in the language ``code`` (``de``, ``pl``)."""
    from dateparser.languages.loader import LocaleDataLoader

    try:
        LocaleDataLoader().get_locale_map(languages=[code])
    except ValueError:
        return False
    return True


def date_languages(tags: Iterable[str]) -> tuple[str, ...]:
    """The languages to read a person's dates in: English, then each language of their profile
    that dateparser reads, by its primary subtag (``pt-BR`` is ``pt``). Other values are
    ignored (a free word like ``German`` names no code)."""
    found = [ENGLISH]
    for tag in tags:
        primary = tag.strip().replace("_", "-").split("-")[0].lower()
        if primary.isalpha() and primary not in found and readable(primary):
            found.append(primary)
    return tuple(found)


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _word(token: str) -> str:
    return token.strip(".,;:!?()\"'").lower()


@dataclass(frozen=True)
class Vocabulary:
    """The date words of one language, from dateparser's data."""

    names: dict[str, frozenset[str]]  # a word -> what it names: "tuesday", "march"...
    full: dict[str, str]  # "tuesday" -> the language's longest word for it ("dienstag")
    next_words: tuple[str, ...]  # the words of "next week" other than "week": "nächste", "el", "próximo"
    in_words: tuple[str, ...]  # the words of "in 2 weeks": "in", "za", "en"


@lru_cache(maxsize=None)
def vocabulary(code: str) -> Vocabulary:
    info = _locale(code).info
    names: dict[str, set[str]] = {}
    full: dict[str, str] = {}
    for key in (*WEEKDAYS, *MONTHS):
        words = [_word(str(w)) for w in info.get(key, [])]
        for w in words:
            if w:
                names.setdefault(w, set()).add(key)
        if words:
            full[key] = max(words, key=len)
    skip = {_word(str(s)) for s in info.get("skip", [])}
    next_words: list[str] = []
    for unit in ("week", "month", "year"):
        units = {_word(str(u)) for u in info.get(unit, [])}
        for phrase in info.get("relative-type", {}).get(f"in 1 {unit}", []):
            for w in str(phrase).lower().split():
                w = _word(w)
                if w and w not in units and w not in skip and w not in next_words:
                    next_words.append(w)
    in_words = tuple(_word(str(w)) for w in info.get("in", []) if _word(str(w)))
    return Vocabulary({w: frozenset(k) for w, k in names.items()}, full, tuple(next_words), in_words)


@lru_cache(maxsize=None)
def _locale(code: str):
    from dateparser.languages.loader import LocaleDataLoader

    return LocaleDataLoader().get_locale(code)


@lru_cache(maxsize=1)
def _settings():
    from dateparser.conf import Settings

    return Settings()


def _is_next(word: str, forms: tuple[str, ...]) -> bool:
    """``word`` is one of ``forms`` or, for a long one, the same word with another ending
    (``nächster`` and ``nächsten``, ``przyszły`` and ``przyszłym``)."""
    for form in forms:
        if word == form:
            return True
        if len(form) >= 5 and abs(len(word) - len(form)) <= 2:
            stem = len(form) - 2
            if word[:stem] == form[:stem]:
                return True
    return False


def without_next(text: str, code: str) -> str:
    """``text`` without the language's word for "next" (and its article) next to a weekday:
    before it (``nächsten Dienstag``) or after it (``mardi prochain``)."""
    vocab = vocabulary(code)
    tokens = text.split()
    keep = [True] * len(tokens)
    for i, token in enumerate(tokens):
        if not any(k in WEEKDAYS for k in vocab.names.get(_word(token), ())):
            continue
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(tokens) and _is_next(_word(tokens[j]), vocab.next_words):
                keep[j] = False
                j += step
    return " ".join(t for t, k in zip(tokens, keep) if k)


def named_weekdays(text: str, code: str) -> set[int]:
    """The weekdays (0 is Monday) that ``text`` names in the language ``code``."""
    vocab = vocabulary(code)
    found: set[int] = set()
    for token in text.split():
        for key in vocab.names.get(_word(token), ()):
            if key in WEEKDAYS:
                found.add(WEEKDAYS.index(key))
    return found


def english_forms(text: str, languages: tuple[str, ...]) -> list[str]:
    """``text`` as each of the speaker's other languages translates its date words into
    English (``31. Februar`` is ``31 february``), for the checks that read English words."""
    forms: list[str] = []
    if not _has_letters(text):
        return forms  # nothing to translate
    for code in languages:
        if code == ENGLISH:
            continue
        translated = DAY_DOT.sub("", _locale(code).translate(text, settings=_settings()))
        translated = " ".join(translated.split())
        if translated != text and translated not in forms:
            forms.append(translated)
    return forms


def _parse(code: str, text: str, zone: ZoneInfo, local_now: datetime):
    import dateparser  # loaded on first use: it is slow to import

    return dateparser.DateDataParser(
        languages=[code],
        settings={
            "TIMEZONE": zone.key,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "PREFER_DATES_FROM": "future",
        },
    ).get_date_data(text)


def _read_in(code: str, text: str, zone: ZoneInfo, local_now: datetime) -> Reading | None:
    if code == ENGLISH:
        parsed = _parse(code, text, zone, local_now)
        if parsed.date_obj is None:
            return None
        return Reading(code, parsed.date_obj, bool(TIME_OF_DAY.search(text)), bool(RELATIVE.search(text)))
    parsed = _parse(code, text, zone, local_now)
    if parsed.date_obj is None:
        shorter = without_next(text, code)
        if shorter == text:
            return None
        parsed = _parse(code, shorter, zone, local_now)
        if parsed.date_obj is None:
            return None
    weekdays = named_weekdays(text, code)
    if weekdays and parsed.date_obj.weekday() not in weekdays:
        return None  # "Dienstag um 16 Uhr" read as the 16th: not what was said
    vocab = vocabulary(code)
    words = text.lower().split()
    relative = len(words) > 2 and _word(words[0]) in vocab.in_words and words[1].isdigit()
    return Reading(code, parsed.date_obj, "time" in (parsed.parts or ()), relative)


def _variants(text: str, languages: tuple[str, ...]) -> list[tuple[str, str]]:
    """For a word that names different things in the speaker's languages (Spanish ``mar`` is
    Tuesday and March): the text with that word written out as each of them, in its language."""
    tokens = text.split()
    out: list[tuple[str, str]] = []
    for i, token in enumerate(tokens):
        meanings = [(code, key) for code in languages for key in vocabulary(code).names.get(_word(token), ())]
        if len({key for _, key in meanings}) < 2:
            continue
        for code, key in meanings:
            variant = " ".join([*tokens[:i], vocabulary(code).full[key], *tokens[i + 1:]])
            if (code, variant) not in out:
                out.append((code, variant))
    return out


def readings(text: str, languages: tuple[str, ...], zone: ZoneInfo, now: datetime) -> list[Reading]:
    """Every reading of ``text`` as a date in the speaker's ``languages``, relative to ``now``
    in their ``zone``: one a language that reads it, and one for each meaning of a word
    that names different things in them."""
    local_now = now.astimezone(zone)
    if text.isascii() and not _has_letters(text):
        # Digits read differently only by the order of day and month: one reading for each order.
        orders: dict[str, str] = {}
        for code in languages:
            orders.setdefault(_locale(code).info.get("date_order", ""), code)
        languages = (ENGLISH,) if YEAR_FIRST.match(text) else tuple(orders.values())
    found = [r for code in languages if (r := _read_in(code, text, zone, local_now)) is not None]
    if len(languages) > 1:
        for code, variant in _variants(text, languages):
            reading = _read_in(code, variant, zone, local_now)
            if reading is not None:
                found.append(reading)
    return found
