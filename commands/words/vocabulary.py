"""What the bot says about the words people give for languages, time zones, interests and skills."""

from __future__ import annotations

from commands.services.vocabulary import AmbiguousZone, Skill, TooManyWords, UnknownLanguage, UnknownZone
from commands.services.work import Work
from commands.text import Msg, bold, join, lines
from commands.words import explains, language_names, t
from commands.words.roster import here


def _command(work: Work, default: str) -> str:
    """The command being answered (``profile timezone``), else ``default``."""
    command = getattr(work, "command", None)
    return getattr(command, "name", None) or default


@explains(UnknownLanguage)
def unknown_language(error: UnknownLanguage, work: Work) -> Msg:
    command = _command(work, "profile languages")
    if error.suggestions:
        return t("I don't know a language called {word}. Did you mean {names}? Name languages in any "
                 "language or by code, separated by commas, like {example}",
                 word=bold(error.word), names=join((bold(n) for n in language_names(list(error.tags))), " / "),
                 example=here(work, f"{command} {error.suggestions[0]}" + (
                     "" if command == "profile language" else ", English")))
    return t("I don't know a language called {word}. Name languages in any language or by code, separated "
             "by commas, like {example}", word=bold(error.word), example=here(work, f"{command} Deutsch, pt-BR"))


@explains(UnknownZone)
def unknown_zone(error: UnknownZone, work: Work) -> Msg:
    command = _command(work, "profile timezone")
    if error.suggestions:
        return lines(
            t("I don't know a time zone called {word}. Did you mean one of these? Send the one that is yours:",
              word=bold(error.word)),
            *(here(work, f"{command} {s}") for s in error.suggestions),
        )
    return t("I don't know a time zone called {word}. Give your city (Berlin), your country (Poland), an "
             "abbreviation (CET) or a zone name, like {example}",
             word=bold(error.word), example=here(work, f"{command} Europe/Berlin"))


@explains(AmbiguousZone)
def ambiguous_zone(error: AmbiguousZone, work: Work) -> Msg:
    command = _command(work, "profile timezone")
    return lines(
        t("{word} has more than one time zone. Send the one that is yours (or your city):", word=bold(error.word)),
        *(here(work, f"{command} {zone}") for zone in error.choices),
    )


@explains(TooManyWords)
def too_many_words(error: TooManyWords, work: Work) -> Msg:
    return t("That list is too long: give at most {limit} items, each at most {length} characters "
             "(I stopped at {word}).", limit=str(error.limit), length=str(error.length), word=bold(error.word))


def suggestions(read: list[Skill], vocabulary: bool, command: str, work: Work) -> Msg | None:
    """What to tell about interests or skills just stored: the ones close to a known word, and,
    when the program keeps a vocabulary, the ones it does not know."""
    notes: list[Msg] = []
    for one in read:
        if one.suggestion:
            fixed = [s.suggestion if s is one else s.value for s in read]
            notes.append(t("Did you mean {suggestion} rather than {word}? If so, send {command}",
                           suggestion=bold(one.suggestion), word=bold(one.value),
                           command=here(work, f"{command} {', '.join(fixed)}")))
        elif vocabulary and not one.known:
            notes.append(t("{word} is not among the program's skills yet: it is kept as you wrote it, and matches "
                           "people who wrote the same.", word=bold(one.value)))
    return lines(*notes) if notes else None
