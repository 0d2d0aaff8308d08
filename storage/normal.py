"""The normal form of the words people give about themselves, as they are stored.

A language is kept as its BCP-47 tag (``de``, ``pt-BR``), a time zone as its IANA name
(``Europe/Berlin``), an interest or skill in lower case with single spaces. The functions
here read a word into that form, or say they cannot (None, or no zone); what people are
told about a word not understood, and the suggestions, are ``commands.services.vocabulary``'s.
The migration that cleaned what was stored before (0020) reads words through them too.

Languages come from langcodes and its language_data (names in every language); countries
from Babel's territory names and pytz's zones of each country. Only the abbreviations of
time zones are a table of our own: no library keeps them, as they are ambiguous by nature
(IST is Indian, Irish and Israeli time).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone as utc_zone
from functools import lru_cache
from typing import Sequence
from zoneinfo import ZoneInfo, available_timezones

import langcodes
import pytz
from babel import Locale, UnknownLocaleError
from babel.core import get_global

MAX_WORD = 50  # characters of one language, interest or skill (the column holds 50)


def folded(text: str) -> str:
    """``text`` compared without case, accents or extra spaces: ``São  Paulo`` -> ``sao paulo``."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).replace("_", " ").split())


def plain_word(text: str) -> str:
    """A word as stored when nothing more is known of it: lower case, single spaces."""
    return " ".join(text.casefold().split())


# ---------------------------------------------------------------- languages


def _standard(found: langcodes.Language) -> str | None:
    """The standard tag of a language found, or None if it names no real language."""
    tag = langcodes.standardize_tag(found.to_tag(), macro=True)
    language = langcodes.Language.get(tag)
    if not language.language or language.language == "und" or not language.is_valid():
        return None
    return tag


@lru_cache(maxsize=4096)
def language_tag(word: str) -> str | None:
    """The BCP-47 tag of a language named in any language or by its code or tag (``Deutsch``,
    ``german``, ``de``, ``pt_BR``, ``Brazilian Portuguese``, ``polski``), else None."""
    word = " ".join(word.split())
    if not word or len(word) > MAX_WORD:
        return None
    code = word.replace("_", "-")
    if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", code) and langcodes.tag_is_valid(code):
        tag = _standard(langcodes.Language.get(code))
        if tag is not None:
            return tag
    if len(word) > 2:  # a two-letter word is a code or nothing (``ua`` is no language)
        try:
            return _standard(langcodes.find(word))
        except LookupError:
            return None
    return None


# ---------------------------------------------------------------- time zones


# Common abbreviations of time zones, each to the zone people mean by it, or to the zones
# it can mean. A table of our own, as no library keeps these: they are not unique.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "utc": ("UTC",), "gmt": ("UTC", "Europe/London"), "z": ("UTC",),
    "wet": ("Europe/Lisbon",), "west": ("Europe/Lisbon",),
    "bst": ("Europe/London",), "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "cet": ("Europe/Berlin",), "cest": ("Europe/Berlin",), "met": ("Europe/Berlin",),
    "eet": ("Europe/Athens",), "eest": ("Europe/Athens",), "msk": ("Europe/Moscow",),
    "est": ("America/New_York",), "edt": ("America/New_York",), "et": ("America/New_York",),
    "cst": ("America/Chicago", "Asia/Shanghai"), "cdt": ("America/Chicago",), "ct": ("America/Chicago",),
    "mst": ("America/Denver", "America/Phoenix"), "mdt": ("America/Denver",), "mt": ("America/Denver",),
    "pst": ("America/Los_Angeles",), "pdt": ("America/Los_Angeles",), "pt": ("America/Los_Angeles",),
    "akst": ("America/Anchorage",), "akdt": ("America/Anchorage",), "hst": ("Pacific/Honolulu",),
    "ast": ("America/Halifax", "Asia/Riyadh"), "brt": ("America/Sao_Paulo",),
    "art": ("America/Argentina/Buenos_Aires",),
    "wat": ("Africa/Lagos",), "cat": ("Africa/Maputo",), "eat": ("Africa/Nairobi",), "sast": ("Africa/Johannesburg",),
    "pkt": ("Asia/Karachi",), "jst": ("Asia/Tokyo",), "kst": ("Asia/Seoul",), "hkt": ("Asia/Hong_Kong",),
    "sgt": ("Asia/Singapore",), "wib": ("Asia/Jakarta",), "aest": ("Australia/Sydney",),
    "aedt": ("Australia/Sydney",), "acst": ("Australia/Adelaide",), "awst": ("Australia/Perth",),
    "nzst": ("Pacific/Auckland",), "nzdt": ("Pacific/Auckland",),
}
# Areas of the IANA names of places (not ``US/Eastern`` or ``Etc/GMT+3``).
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@lru_cache(maxsize=1)
def known_timezones() -> frozenset[str]:
    """IANA zone names, without server-dependent ones like ``localtime``."""
    return frozenset(z for z in available_timezones() - {"localtime", "Factory", "posixrules"}
                     if not z.startswith(("right/", "posix/")))


@lru_cache(maxsize=1)
def _zones_by_name() -> dict[str, str]:
    return {folded(z): z for z in known_timezones()}


def _country_zones() -> dict[str, list[str]]:
    return {code: list(zones) for code, zones in pytz.country_timezones.items()}


def _clock(zone: str) -> tuple:
    """A zone's offsets in January and July this year: zones with the same clock the whole year."""
    year = datetime.now(utc_zone.utc).year
    return tuple(datetime(year, month, 1, tzinfo=utc_zone.utc).astimezone(ZoneInfo(zone)).utcoffset()
                 for month in (1, 7))


def _distinct_clocks(zones: Sequence[str]) -> tuple[str, ...]:
    """``zones`` less those that keep the same time as one before them (Busingen as Berlin)."""
    seen: dict[tuple, str] = {}
    for zone in zones:
        if zone in known_timezones():
            seen.setdefault(_clock(zone), zone)
    return tuple(seen.values())


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, ...]]:
    """Cities and countries by folded name, each to the zones it can mean."""
    places: dict[str, list[str]] = {}
    principal = [z for zones in _country_zones().values() for z in zones]
    # Cities: the last part of the zones of countries (their principal zones) first, so
    # ``Buenos Aires`` is America/Argentina/Buenos_Aires, not its old alias.
    for zone in principal + sorted(known_timezones()):
        if zone.split("/")[0] in AREAS and "/" in zone:
            city = folded(zone.rsplit("/", 1)[1])
            if zone not in places.setdefault(city, []) and (zone in principal or not places[city]):
                places[city].append(zone)
    english = Locale("en").territories
    aliases = get_global("territory_aliases")
    for code, zones in _country_zones().items():
        names = {english.get(code, ""), code}
        names |= {alias for alias, codes in aliases.items() if codes == [code] and alias.isalpha()}
        names |= {_own_name(code)}
        for name in filter(None, names):
            places.setdefault(folded(name), [])
            places[folded(name)] = list(dict.fromkeys(places[folded(name)] + zones))
    return {name: tuple(zones) for name, zones in places.items()}


def _own_name(code: str) -> str:
    """A country's name in its main language (``Polska``, ``Deutschland``)."""
    spoken = get_global("territory_languages").get(code, {})
    official = [lang for lang, info in spoken.items() if info.get("official_status")]
    for lang in official[:1]:
        try:
            return Locale.parse(lang).territories.get(code, "")
        except (UnknownLocaleError, ValueError):
            return ""
    return ""


def zones_meant(text: str) -> tuple[str, ...]:
    """The IANA zones a person can mean: a zone name in any case (``europe/berlin``), a city
    (``Berlin``, ``new york``), a country (``Poland``) or an abbreviation (``CET``). One zone,
    several (``Portugal``, ``IST``: the choices), or none."""
    key = folded(" ".join(text.strip().strip("\"'“”").split()))
    if not key:
        return ()
    named = _zones_by_name().get(key) or _zones_by_name().get(key.replace(" ", "_"))
    if named is not None and ("/" in named or named == "UTC"):
        return (named,)
    # Old one-word zone names (``Poland``, ``Portugal``, ``EST``) are read as the country or
    # abbreviation they are: ``Portugal`` has two clocks, and ``EST`` knows no summer time.
    meant = ABBREVIATIONS.get(key) or _distinct_clocks(_places().get(key, ()))
    if meant:
        return tuple(meant)
    return (named,) if named is not None else ()
