"""Dates and times read in the languages a person speaks, as well as English.

The program here: Bob (mentor, Europe/Madrid) takes Ana (mentee, America/Lima) on
Monday 2027-01-04 at 09:00 UTC (10:00 in Madrid). Every reading below is pinned to the
exact day and time it gives from there.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from commands.dates import date_languages, readings
from commands.framework import AmbiguousDate, ArgError, OnDate, ParseEnv, Schedule, UnreadableDate, When
from storage.models import CheckIn, Person
from tests.conftest import COUNCIL

ANA, BOB = "@ana:example.org", "@bob:example.org"
MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)  # Monday, 10:00 in Madrid


def env(*languages: str, zone: ZoneInfo = MADRID) -> ParseEnv:
    return ParseEnv(NOW, zone, date_languages(languages))


def local(when: datetime) -> str:
    return f"{when.astimezone(MADRID):%a %Y-%m-%d %H:%M}"


@pytest.fixture
async def program(bot):
    for line in (
        f"{COUNCIL}> mentor add {BOB} 3",
        f"{BOB}> profile timezone Europe/Madrid", f"{ANA}> profile timezone America/Lima",
        f"{BOB}> profile name Bob", f"{ANA}> profile name Ana",
        f"{ANA}> request help with events", f"{BOB}> accept 1",
    ):
        assert await bot.say(line)
    return bot


async def planned(bot) -> list[datetime]:
    async with bot.db.session() as s:
        return [c.due_at for c in (await s.exec(select(CheckIn).where(CheckIn.arranged.is_(True)).order_by(CheckIn.id))).all()]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# ---------------------------------------------------------------- which languages


def test_profile_languages_become_date_languages_by_their_primary_subtag():
    assert date_languages([]) == ("en",)
    assert date_languages(["de", "pl"]) == ("en", "de", "pl")
    assert date_languages(["pt-BR", "es_MX", "EN-gb"]) == ("en", "pt", "es")
    # Free words and codes dateparser does not read are left out; English is always there.
    assert date_languages(["German", "klingon", "xx", "", "tlh"]) == ("en",)


# ---------------------------------------------------------------- readings, pinned


@pytest.mark.parametrize("language,text,expected", [
    ("de", "nächsten Dienstag 16:00", "Tue 2027-01-05 16:00"),  # like English "next tuesday": the first after today
    ("de", "Dienstag 16:00", "Tue 2027-01-05 16:00"),
    ("de", "Montag 16:00", "Mon 2027-01-11 16:00"),  # today is Monday: like English "monday", next week's
    ("de", "morgen 10:00", "Tue 2027-01-05 10:00"),
    ("de", "heute 16:00", "Mon 2027-01-04 16:00"),
    ("de", "15. März 2027 14:00", "Mon 2027-03-15 14:00"),
    ("de", "in 2 Wochen", "Mon 2027-01-18 10:00"),  # counted from now, like "in 2 weeks"
    ("pl", "wtorek 16:00", "Tue 2027-01-05 16:00"),
    ("pl", "w przyszły wtorek 16:00", "Tue 2027-01-05 16:00"),
    ("pl", "jutro 16:00", "Tue 2027-01-05 16:00"),
    ("pl", "środę 16:00", "Wed 2027-01-06 16:00"),
    ("pl", "za 2 tygodnie", "Mon 2027-01-18 10:00"),
    ("es", "martes 16:00", "Tue 2027-01-05 16:00"),
    ("es", "el próximo martes 16:00", "Tue 2027-01-05 16:00"),
    ("es", "15 de marzo de 2027 14:00", "Mon 2027-03-15 14:00"),
    ("pt", "terça-feira 16:00", "Tue 2027-01-05 16:00"),
    ("pt", "próxima terça-feira 16:00", "Tue 2027-01-05 16:00"),
    ("pt", "amanhã 10:00", "Tue 2027-01-05 10:00"),
    ("fr", "mardi prochain 16:00", "Tue 2027-01-05 16:00"),  # "next" after the weekday
])
def test_each_language_reads_its_own_words_to_the_right_day(language, text, expected):
    assert local(Schedule().convert_in(text, env(language)).at) == expected
    with pytest.raises(UnreadableDate):  # and only for someone who speaks it
        When(needs_time=True).convert_in(text, env())


def test_english_reads_as_before_beside_another_language():
    for text, expected in (("next tuesday 16:00", "Tue 2027-01-05 16:00"), ("tomorrow 10:00", "Tue 2027-01-05 10:00"),
                           ("2027-03-10 18:00", "Wed 2027-03-10 18:00"), ("in 2 weeks", "Mon 2027-01-18 10:00")):
        assert local(When(needs_time=True).convert_in(text, env("de", "pl"))) == expected
        assert local(When(needs_time=True).convert_in(text, env())) == expected


def test_a_weekday_that_is_not_the_day_read_is_no_reading():
    # dateparser reads "16 Uhr" as the 16th, which is no Tuesday.
    assert [r for r in readings("Dienstag um 16 Uhr", ("de",), MADRID, NOW)] == []
    with pytest.raises(UnreadableDate):
        When(needs_time=True).convert_in("Dienstag um 16 Uhr", env("de"))


def test_a_date_without_a_time_is_a_whole_day_in_any_language():
    day = OnDate().convert_in("Dienstag", env("de"))
    assert day.all_day and local(day.at) == "Tue 2027-01-05 00:00"
    assert not OnDate().convert_in("Dienstag 16:00", env("de")).all_day


# ---------------------------------------------------------------- the guards, in every language


@pytest.mark.parametrize("language,text,problem", [
    ("de", "31. Februar 2027 10:00", "February has no day 31"),
    ("pl", "30 lutego 2027 10:00", "February has no day 30"),
    ("es", "31 de febrero de 2027 10:00", "February has no day 31"),
    ("pt", "31 de abril de 2027 10:00", "April has no day 31"),
    ("de", "morgen 25:00", "25:00 is not a time of day"),
    ("de", "03.04.2027 10:00", "could be read two ways; write the date as year-month-day"),
    ("de", "gestern 10:00", "2027-01-03 10:00 (Europe/Madrid) is in the past"),
    ("pl", "wczoraj 10:00", "is in the past"),
    ("de", "in 5 Jahren", "more than 2 years ahead"),
    ("de", "morgen", "'morgen' has no time of day; add one, like morgen 16:00"),
    ("es", "martes", "'martes' has no time of day"),
])
def test_the_guards_hold_in_other_languages(language, text, problem):
    with pytest.raises(ArgError, match=re.escape(problem)):
        Schedule().convert_in(text, env(language))


# ---------------------------------------------------------------- ambiguity


@pytest.mark.parametrize("languages,text,choices", [
    (("es",), "mar 16:00", ("2027-01-05 16:00", "2027-03-04 16:00")),  # Spanish Tuesday, English March
    (("de", "pl"), "so 10:00", ("2027-01-09 10:00", "2027-01-10 10:00")),  # Polish Saturday, German Sunday
    (("de",), "3/4 16:00", ("2027-03-04 16:00", "2027-04-03 16:00")),  # month first in English, day in German
])
def test_text_that_reads_as_different_dates_is_offered_back(languages, text, choices):
    with pytest.raises(AmbiguousDate) as choice:
        Schedule().convert_in(text, env(*languages))
    assert tuple(written for written, _ in choice.value.readings) == choices
    # The same text from someone who speaks English only is read as it always was.
    if languages == ("es",):
        assert local(Schedule().convert_in(text, env()).at) == "Thu 2027-03-04 16:00"


# ---------------------------------------------------------------- through the bot, as people type


async def test_a_german_speaking_mentor_plans_a_checkin_in_german(program):
    await program.say(f"{BOB}> profile languages de")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    said = await program.say(f"{BOB}> checkin {ANA} nächsten Dienstag 16:00")
    assert "on Tue 2027-01-05 16:00 (Europe/Madrid)" in said[0]
    assert "Tue 2027-01-05 10:00 (America/Lima)" in said[1] and said[1].startswith(f"[dm {ANA}]")
    assert await planned(program) == [utc(2027, 1, 5, 15, 0)]


@pytest.mark.parametrize("languages,when,expected", [
    ("pl", "wtorek 16:00", utc(2027, 1, 5, 15, 0)),
    ("es", "martes 16:00", utc(2027, 1, 5, 15, 0)),
    ("pt-BR", "terça-feira 16:00", utc(2027, 1, 5, 15, 0)),
    ("pt-BR", "amanhã 9:30", utc(2027, 1, 5, 8, 30)),
    ("de", "15. März 2027 14:00", utc(2027, 3, 15, 13, 0)),
])
async def test_mentors_plan_checkins_in_their_languages(program, languages, when, expected):
    await program.say(f"{BOB}> profile languages {languages}")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    said = await program.say(f"{BOB}> checkin {ANA} {when}")
    assert said[0].startswith(f"[dm {BOB}] Done: orientation session #1"), said
    assert await planned(program) == [expected]


async def test_german_from_someone_who_does_not_speak_it_is_not_read(program):
    await program.say(f"{BOB}> profile languages en, fr")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    before = await program.snapshot()
    [said] = await program.say(f"{BOB}> checkin {ANA} nächsten Dienstag 16:00")
    assert ("I can't read 'nächsten Dienstag 16:00' as a date; write it in English, like 2027-03-01 16:00, "
            "next tuesday 16:00, in 2 weeks, or in French") in said
    assert await program.snapshot() == before


async def test_someone_with_english_only_is_told_as_before(program):
    [said] = await program.say(f"{BOB}> checkin {ANA} nächsten Dienstag 16:00")
    assert "I can't read 'nächsten Dienstag 16:00' as a date; write it like 2027-03-01 16:00" in said
    assert "in English" not in said


async def test_an_ambiguous_date_plans_nothing_and_offers_each_reading_to_send(program):
    await program.say(f"{BOB}> profile languages de, pl")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    before = await program.snapshot()
    said = await program.say(f"{BOB}> checkin {ANA} so 10:00")
    assert said == [f"[dm {BOB}] 'so 10:00' could mean more than one date, so I did nothing yet. "
                    f"Send the one you mean:\n`checkin {ANA} 2027-01-09 10:00` (Saturday)\n"
                    f"`checkin {ANA} 2027-01-10 10:00` (Sunday)"]
    assert await program.snapshot() == before
    # Sending one of them plans it.
    said = await program.say(f"{BOB}> checkin {ANA} 2027-01-10 10:00")
    assert "on Sun 2027-01-10 10:00 (Europe/Madrid)" in said[0]
    assert await planned(program) == [utc(2027, 1, 10, 9, 0)]


async def test_a_repeat_and_a_move_read_the_speakers_languages_too(program):
    await program.say(f"{BOB}> profile languages es")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    said = await program.say(f"{BOB}> checkin {ANA} every 2 weeks from mar 16:00")
    assert said == [f"[dm {BOB}] 'mar 16:00' could mean more than one date, so I did nothing yet. "
                    f"Send the one you mean:\n`checkin {ANA} every 2 weeks from 2027-01-05 16:00` (Tuesday)\n"
                    f"`checkin {ANA} every 2 weeks from 2027-03-04 16:00` (Thursday)"]
    await program.say(f"{BOB}> checkin {ANA} every 2 weeks from martes 16:00")
    assert (await planned(program))[0] == utc(2027, 1, 5, 15, 0)
    # Ana speaks Portuguese and moves the first one.
    await program.say(f"{ANA}> profile languages pt")
    await program.say(f"{ANA}> profile language English")  # replies stay in English
    said = await program.say(f"{ANA}> checkin move 1 quarta-feira 11:00")
    assert "Wed 2027-01-06 11:00 (America/Lima)" in said[0], said
    assert (await planned(program))[0] == utc(2027, 1, 6, 16, 0)


async def test_away_in_the_mentors_room_reads_german_and_offers_choices_with_the_prefix(program):
    await program.say(f"{BOB}> profile languages de, pl")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    said = await program.say(f"mentors {BOB}> !away 15. März 2027")
    assert "2027-03-15" in said[0], said
    async with program.db.session() as s:
        bob = (await s.exec(select(Person).where(Person.matrix_id == BOB))).one()
    assert bob.away_until is not None and bob.away_until.astimezone(MADRID).date().isoformat() == "2027-03-15"
    said = await program.say(f"mentors {BOB}> !away so")
    assert "`!away 2027-01-09` (Saturday)\n`!away 2027-01-10` (Sunday)" in said[0], said


async def test_an_opportunity_date_is_read_in_the_mentors_language(program):
    await program.say(f"{BOB}> profile languages de")
    await program.say(f"{BOB}> profile language English")  # replies stay in English
    said = await program.say(f"{BOB}> opportunity {ANA} event Freitag 17:00 | https://example.org/call | Community call")
    assert "Fri 2027-01-08 17:00 (Europe/Madrid)" in said[-1] and "Fri 2027-01-08 11:00 (America/Lima)" in said[0]


def test_a_choice_inside_a_longer_argument_is_written_with_its_other_parts():
    from commands.coaching import SkillAndTime
    from commands.opportunities import OpportunityDetails

    with pytest.raises(AmbiguousDate) as choice:
        SkillAndTime().convert_in("public speaking so 10:00", env("de", "pl"))
    assert [written for written, _ in choice.value.readings] == [
        "public speaking 2027-01-09 10:00", "public speaking 2027-01-10 10:00"]
    assert SkillAndTime().convert_in("public speaking Dienstag 16:00", env("de"))[0] == "public speaking"
    with pytest.raises(AmbiguousDate) as choice:
        OpportunityDetails().convert_in("so | https://example.org/x | Sprint", env("de", "pl"))
    assert [written for written, _ in choice.value.readings] == [
        "2027-01-09 | https://example.org/x | Sprint", "2027-01-10 | https://example.org/x | Sprint"]
