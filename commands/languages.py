"""The languages the bot speaks, and which one each reader gets.

Every sentence is written in English in the code and translated through gettext catalogs
managed with Babel (``commands/locale/<language>/LC_MESSAGES/mentorbot.po``, compiled to
``.mo`` beside it; see docs/translating.md). A catalog is loaded the first time someone who
reads that language gets a message.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Iterable

DOMAIN = "mentorbot"
LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE = "en"  # the language the sentences are written in: it needs no catalog
# The languages the bot speaks, each with a complete catalog (a test checks it).
SPOKEN = ("en", "de", "pl", "es", "pt")


def base_language(tag: str) -> str:
    """The language a tag is of, without region or script (``pt`` for ``pt-BR``): people who
    speak ``pt-BR`` and ``pt`` understand each other."""
    return tag.replace("_", "-").split("-")[0].lower()


def speaks(tag: str | None) -> str | None:
    """The language the bot speaks for a profile language tag (``pt-BR`` → ``pt``), or None."""
    if not tag:
        return None
    language = base_language(tag)
    return language if language in SPOKEN else None


def reader_language(chosen: str | None, profile_languages: Iterable[str], program: str) -> str:
    """The language a person reads: the one they chose (``profile language``), else the first of
    their profile's languages the bot speaks, else the program's."""
    for tag in (chosen, *profile_languages):
        language = speaks(tag)
        if language is not None:
            return language
    return program


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.NullTranslations:
    """The translations into ``language`` (English, and any language without a catalog, reads the
    sentences as written)."""
    if language == SOURCE:
        return gettext.NullTranslations()
    from babel.support import Translations

    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)


@lru_cache(maxsize=None)
def locale(language: str):
    """Babel's locale for ``language``: how its dates, numbers and lists are written."""
    from babel import Locale

    return Locale.parse(language)
