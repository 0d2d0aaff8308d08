"""The bot speaks each person's language: complete catalogs, who reads which language, and a
mentoring year through the shell in each shipped language, every reader reading only their own.
"""

from __future__ import annotations

import io
import re
import string
from datetime import timedelta
from zoneinfo import ZoneInfo
from functools import lru_cache

import pytest
from babel.messages.pofile import read_po, write_po
from sqlmodel import select

from bot import translations
from commands import build_registry
from commands.framework import ParseEnv, RoomKind, UsageError
from commands.languages import SOURCE, SPOKEN, catalog
from storage.models import Mentorship, Reminder, ReminderState, SessionRecord
from tests.conftest import COUNCIL, START

ANA, BOB = "@ana:example.org", "@bob:example.org"
OTHERS = [language for language in SPOKEN if language != SOURCE]
# How each language names itself, as a person would type it in their profile.
SELF_NAMES = {"en": "English", "de": "Deutsch", "pl": "polski", "es": "español", "pt": "português"}
# What Ana asks for, in her own words (nothing in English that could pass for the bot's).
TOPICS = {"en": "organising my first community event", "de": "mein erstes Treffen organisieren",
          "pl": "zorganizować moje pierwsze spotkanie", "es": "organizar mi primer encuentro",
          "pt": "organizar meu primeiro encontro"}
_FIELDS = string.Formatter()


# ---------------------------------------------------------------- the catalogs


def test_the_template_holds_exactly_the_sentences_of_the_code():
    assert translations.template_problems() == []


@pytest.mark.parametrize("language", OTHERS)
def test_each_language_is_complete_and_compiled(language):
    """No missing or fuzzy entry, the placeholders of the original, the plural forms of the
    language, and the compiled catalog the bot reads made from the .po in the repository."""
    assert translations.problems(language) == []


@pytest.mark.parametrize("language", OTHERS)
def test_each_translated_example_is_still_its_command(language):
    """An example in help, translated, starts with the command's own words and reads as it."""
    env = ParseEnv(START, ZoneInfo("Europe/Berlin"))
    for command in build_registry().commands:
        for example in command.examples:
            translated = catalog(language).pgettext("example", example)
            assert translated.startswith(command.name), (language, example, translated)
            try:
                command.parse(example[len(command.name):], env)
            except UsageError:
                continue  # the English example itself needs a person or a date of its own
            command.parse(translated[len(command.name):], env)


@pytest.mark.parametrize("fault,found", [
    ("missing", "untranslated"), ("fuzzy", "fuzzy"), ("placeholder", "placeholders"), ("plural", "plural forms")])
def test_each_kind_of_fault_in_a_catalog_is_found(tmp_path, monkeypatch, fault, found):
    """The completeness check fails on each kind of fault (a check that cannot fail checks nothing)."""
    with translations.po_path("pl").open("rb") as f:
        po = read_po(f, locale="pl")
    plural = next(m for m in po if m.id and not isinstance(m.id, str))
    placed = next(m for m in po if m.id and isinstance(m.id, str) and "{" in m.id)
    message = {"missing": placed, "fuzzy": placed, "placeholder": placed, "plural": plural}[fault]
    if fault == "missing":
        message.string = ""
    elif fault == "fuzzy":
        message.flags.add("fuzzy")
    elif fault == "placeholder":
        message.string = message.string.replace("{", "{x", 1)
    monkeypatch.setattr(translations, "LOCALE_DIR", tmp_path)
    out = io.BytesIO()
    write_po(out, po)
    text = out.getvalue()
    if fault == "plural":  # a header copied from a language with two forms: Polish has three
        text = re.sub(rb"nplurals=3; plural=\(.*?\);", b"nplurals=2; plural=(n != 1);", text, flags=re.S)
    translations.po_path("pl").parent.mkdir(parents=True)
    translations.po_path("pl").write_bytes(text)
    problems = translations.problems("pl")
    assert any(found in p for p in problems), problems


# ---------------------------------------------------------------- which words are whose


def _pieces(text: str) -> set[str]:
    """The literal stretches of a sentence between its placeholders, long enough to recognise."""
    try:
        parts = [literal for literal, *_ in _FIELDS.parse(text)]
    except ValueError:
        parts = [text]
    return {p.strip(" .,:;()") for p in parts if len(p.strip()) >= 14 and " " in p.strip()}


@lru_cache(maxsize=None)
def _entries(language: str) -> tuple[tuple[str | None, tuple[str, ...], tuple[str, ...]], ...]:
    """The language's catalog (the template for English), read once: each entry's context, its
    English and the language's own text (the English itself for English)."""
    path = translations.TEMPLATE if language == SOURCE else translations.po_path(language)
    with path.open("rb") as f:
        po = read_po(f, locale=None if language == SOURCE else language)
    out = []
    for message in po:
        if message.id:
            ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
            texts = ids if language == SOURCE else (
                (message.string,) if isinstance(message.string, str) else tuple(message.string))
            out.append((message.context, ids, texts))
    return tuple(out)


@lru_cache(maxsize=None)
def _foreign(language: str) -> frozenset[str]:
    """Pieces of the other languages' sentences that ``language`` never says."""
    own = "\n".join(text for _, _, texts in _entries(language) for text in texts)
    out: set[str] = set()
    for other in SPOKEN:
        if other != language:
            out |= {p for _, _, texts in _entries(other) for text in texts for p in _pieces(text) if p not in own}
    return frozenset(out)


@lru_cache(maxsize=None)
def _patterns(language: str) -> tuple[re.Pattern, ...]:
    """The language's own sentences as patterns (a placeholder matches anything): those with words
    enough to tell a language by, and written otherwise than in English."""
    out = []
    for context, ids, texts in _entries(language):
        if context:
            continue
        for text in texts:
            if language != SOURCE and text in ids:
                continue
            literal = [piece for piece, *_ in _FIELDS.parse(text)]
            if len(re.findall(r"[^\W\d_]{3,}", " ".join(literal))) < 2:
                continue
            out.append(re.compile(".+?".join(re.escape(piece.strip()) for piece in literal if piece.strip())))
    return tuple(out)


def assert_reads(body: str, language: str) -> None:
    """``body`` is written in ``language``: one of that language's sentences is in it, and no
    piece of a sentence in another language is in it."""
    assert any(p.search(body) for p in _patterns(language)), f"not in {language}: {body!r}"
    strays = [p for p in _foreign(language) if p in body]
    assert not strays, f"{language} reader got {strays[:3]} in {body!r}"


# ---------------------------------------------------------------- a year in each language


def _pairs() -> list[tuple[str, str]]:
    """Each shipped language once as the mentee's, with the next one as the mentor's."""
    return [(language, SPOKEN[(i + 1) % len(SPOKEN)]) for i, language in enumerate(SPOKEN)]


@pytest.mark.parametrize("mentee_language,mentor_language", _pairs())
async def test_a_mentee_and_a_mentor_each_read_only_their_own_language(bot, mentee_language, mentor_language):
    """Ana's profile languages decide hers; Bob chooses his with ``profile language``. Request,
    offer, acceptance, a check-in with both its reminders, a confirmation and a session record:
    each reads every message in their own language, and the mentors room reads the program's."""
    script = [
        f"{BOB}> profile language {SELF_NAMES[mentor_language]}",
        f"{COUNCIL}> mentor add {BOB} 3",
        f"{BOB}> profile timezone Europe/Madrid",
        f"{BOB}> profile skills events",
        f"{ANA}> profile languages {SELF_NAMES[mentee_language]}, English",
        f"{ANA}> profile timezone America/Lima",
        f"{ANA}> profile interests events",
        f"{ANA}> request {TOPICS[mentee_language]}",
        f"{BOB}> accept 1",
        f"{BOB}> checkin {ANA} tomorrow 16:00",
        "% advance 6h",  # the reminder a day before, to both
        f"{ANA}> confirm",
        "% advance 23h",  # the reminder an hour before
        "% advance 2h",
        f"{BOB}> session {ANA} orientation ✱ | next: ✱✱ | progress: 3-5",
        f"{ANA}> status",
        f"{BOB}> help checkin",
    ]
    for line in script:
        await bot.say(line)
    sent = bot.outbox.sent
    to_ana = [m.body for m in sent if m.target.room is RoomKind.DM and m.target.user_id == ANA]
    to_bob = [m.body for m in sent if m.target.room is RoomKind.DM and m.target.user_id == BOB]
    mentors_room = [m.body for m in sent if m.target.room is RoomKind.MENTORS]
    # Everything happened, whatever the language.
    async with bot.db.session() as s:
        assert len((await s.exec(select(Mentorship))).all()) == 1
        assert sorted((await s.exec(select(Reminder.state))).all()) == [ReminderState.SENT] * 4
        assert len((await s.exec(select(SessionRecord))).all()) == 1
    assert len(to_ana) >= 9 and len(to_bob) >= 10
    for body in to_ana:
        assert_reads(body, mentee_language)
    for body in to_bob:
        assert_reads(body, mentor_language)
    for body in mentors_room:
        assert_reads(body, SOURCE)  # the program's language


async def test_shared_rooms_and_people_without_a_spoken_language_read_the_programs(bot):
    bot.runtime.settings.program.language = "de"
    await bot.say(f"{COUNCIL}> mentor add {BOB} 3")
    await bot.say(f"{ANA}> profile languages Japanese")  # none the bot speaks: the program's
    await bot.say(f"{ANA}> profile interests events")
    await bot.say(f"{ANA}> request {TOPICS['de']}")
    await bot.say(f"{BOB}> profile language English")
    to_ana = [m.body for m in bot.outbox.sent if m.target.room is RoomKind.DM and m.target.user_id == ANA]
    for body in to_ana:
        assert_reads(body, "de")
    shared = [m.body for m in bot.outbox.sent if m.target.room in (RoomKind.MENTORS, RoomKind.COUNCIL)]
    assert shared
    for body in shared:
        assert_reads(body, "de")
    reply = await bot.say(f"{BOB}> profile")
    assert_reads(reply[0], "en")


async def test_the_language_is_chosen_shown_and_given_back(bot):
    said = await bot.say(f"{ANA}> profile language Deutsch")
    assert_reads(said[0], "de")
    assert "Deutsch" in said[0]
    profile = (await bot.say(f"{ANA}> profile"))[0]
    assert_reads(profile, "de")
    refused = (await bot.say(f"{ANA}> profile language Japanese"))[0]
    assert_reads(refused, "de") and "Japanisch" in refused
    two = (await bot.say(f"{ANA}> profile language de, pl"))[0]
    assert_reads(two, "de")
    back = (await bot.say(f"{ANA}> profile language"))[0]
    assert_reads(back, "en")  # no profile languages: the program's
    async with bot.db.session() as s:
        from storage.models import Person

        assert (await s.exec(select(Person.language).where(Person.matrix_id == ANA))).one() is None


async def test_dates_typed_by_a_reader_are_read_in_their_language_and_english(bot):
    await bot.say(f"{COUNCIL}> mentor add {BOB} 3")
    await bot.say(f"{BOB}> profile language Deutsch")
    await bot.say(f"{ANA}> profile interests events")
    await bot.say(f"{ANA}> request {TOPICS['de']}")
    await bot.say(f"{BOB}> accept 1")
    german = (await bot.say(f"{BOB}> checkin {ANA} nächsten Dienstag 16:00"))[0]
    english = (await bot.say(f"{BOB}> checkin move 1 next wednesday 16:00"))[0]
    for reply in (german, english):
        assert_reads(reply, "de")
    assert "2027-01-05 16:00" in german and "2027-01-06 16:00" in english
    assert START.weekday() == 0  # the dates above: Monday 2027-01-04


async def test_numbers_and_dates_are_written_the_readers_way():
    from commands.words import number, written

    assert number(12345).plain("en") == "12,345" and number(12345).plain("de") == "12.345"
    day = START + timedelta(days=1, hours=6)
    assert written(day, None, "weekday moment").plain("en") == "Tue 2027-01-05 15:00"
    assert written(day, None, "weekday moment").plain("de") == "Di. 2027-01-05 15:00"
    assert written(day, None, "month").plain("pl") == "styczeń 2027"
    assert written(day, None, "weekday").plain("pt") == "terça-feira"


async def test_an_announcement_reaches_each_reader_in_their_language(bot):
    """The council's words as written; around them, each copy in its reader's language: the
    mentors room in the program's, a mentee's DM in hers."""
    bot.runtime.settings.program.language = "de"
    await bot.say(f"{ANA}> profile language polski")
    await bot.say(f"{ANA}> request {TOPICS['pl']}")
    await bot.say(f"{COUNCIL}> mentor add {BOB} 3")
    await bot.say(f"{BOB}> accept 1")  # Ana is a mentee now
    await bot.say(f"{COUNCIL}> profile language English")
    await bot.say(f"council {COUNCIL}> !announce all Frühjahrstreffen | Wir sehen uns **dort**.")
    start = len(bot.outbox.sent)
    await bot.say(f"council {COUNCIL}> !confirm 1")
    sent = bot.outbox.sent[start:]
    [copy] = [m.body for m in sent if m.target.user_id == ANA]
    [notice] = [m.body for m in sent if m.target.room is RoomKind.MENTORS]
    assert "Frühjahrstreffen" in copy and catalog("pl").gettext("everyone") in copy
    assert_reads(copy, "pl")
    assert catalog("de").gettext("everyone") in notice
    assert_reads(notice, "de")
