"""Reading arguments: quoting, Matrix IDs, numbers, durations, lists, free text."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from commands.framework import (
    Arg,
    ArgError,
    Choice,
    Command,
    Integer,
    MatrixId,
    Role,
    Router,
    Text,
    TimeZoneName,
    UsageError,
    Word,
    WordList,
    next_token,
    parse_duration,
    Registry,
    EVERYWHERE,
)


async def _noop(ctx, **kwargs):
    return None


def make(*args: Arg, name: str = "demo") -> Command:
    return Command(name, _noop, "Demo.", "", tuple(args), frozenset({Role.ANYONE}), EVERYWHERE, examples=("demo x",))


def test_tokens_respect_quotes_but_not_apostrophes():
    assert next_token('  "event planning" rest') == ("event planning", " rest")
    assert next_token("“smart quotes” rest") == ("smart quotes", " rest")
    assert next_token("don't stop") == ("don't", " stop")
    with pytest.raises(ArgError, match="not closed"):
        next_token('"never closed')


def test_matrix_ids_must_be_written_in_full():
    assert MatrixId().convert("@ana:example.org") == "@ana:example.org"
    assert MatrixId().convert("<@ana:example.org>,") == "@ana:example.org"
    assert MatrixId().convert("@ana:matrix.example.org:8448") == "@ana:matrix.example.org:8448"
    assert MatrixId().convert("@ana.g_r=1/+-:localhost") == "@ana.g_r=1/+-:localhost"
    too_long = "@" + "a" * 250 + ":example.org"
    for bad in ("ana", "@ana", "ana:example.org", "@:example.org", "@a b:example.org", "@Zoë:example.org",
                "@<b>x</b>:example.org", too_long):
        with pytest.raises(ArgError, match="like @ana:example.org"):
            MatrixId().convert(bad)


def test_numbers_are_whole_and_within_bounds():
    assert Integer().convert("#12") == 12
    with pytest.raises(ArgError, match="not a whole number"):
        Integer().convert("1.5")
    with pytest.raises(ArgError, match="at most 5"):
        Integer(0, 5).convert("6")
    with pytest.raises(ArgError, match="far too large"):
        Integer().convert("9" * 50)


def test_durations():
    assert parse_duration("3d") == timedelta(days=3)
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("2 weeks") == timedelta(weeks=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    for bad in ("", "soon", "3x", "0d", "3d later"):
        with pytest.raises(ArgError, match="not a duration"):
            parse_duration(bad)


def test_time_zones_and_choices():
    assert TimeZoneName().convert("America/Lima") == "America/Lima"
    for bad in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "localtime", "Factory", "right/UTC"):
        with pytest.raises(ArgError, match="not a time zone"):
            TimeZoneName().convert(bad)
    assert Choice("mentors", "all").convert("ALL") == "all"
    with pytest.raises(ArgError, match="one of: mentors, all"):
        Choice("mentors", "all").convert("everyone")


def test_lists_split_on_commas_or_spaces_and_drop_repeats():
    assert WordList().convert("en, es, EN") == ["en", "es"]
    assert WordList().convert("en es") == ["en", "es"]
    assert WordList().convert("public  speaking, events") == ["public speaking", "events"]
    assert WordList().convert('"event planning" "public speaking"') == ["event planning", "public speaking"]
    assert WordList().convert('"en", "es"') == ["en", "es"]
    assert WordList().convert('a, "b, c", d') == ["a", "b, c", "d"]
    with pytest.raises(ArgError, match="at most 2"):
        WordList(max_items=2).convert("a, b, c")


def test_a_command_parses_its_arguments_in_order():
    cmd = make(Arg("person", MatrixId()), Arg("n", Integer(), optional=True, default=3), Arg("note", Text()))
    assert cmd.parse("@ana:example.org 5 hello <b>there</b>") == {
        "person": "@ana:example.org", "n": 5, "note": "hello <b>there</b>",
    }
    cmd2 = make(Arg("person", MatrixId()), Arg("n", Integer(), optional=True, default=3))
    assert cmd2.parse("@ana:example.org") == {"person": "@ana:example.org", "n": 3}


def test_usage_errors_say_what_is_wrong_and_how_to_write_it():
    cmd = make(Arg("person", MatrixId()), Arg("n", Integer(), optional=True))
    with pytest.raises(UsageError) as missing:
        cmd.parse("")
    assert missing.value.message.plain().startswith("Person is missing. Usage: `demo <person> [n]`.")
    with pytest.raises(UsageError) as extra:
        cmd.parse("@ana:example.org 2 3")
    assert "I did not expect '3'" in extra.value.message.plain()
    with pytest.raises(UsageError) as bad:
        cmd.parse('"@ana:example.org')
    assert "not closed" in bad.value.message.plain()
    with pytest.raises(UsageError) as long_text:
        make(Arg("note", Text(max_length=10))).parse("x" * 11)
    assert "too long (11 characters; at most 10)" in long_text.value.message.plain()


def test_the_registry_finds_the_longest_name_and_refuses_duplicates():
    router = Router("t", "T")
    router.command("mentor add", args=[Arg("who", Word())])(_noop)
    router.command("mentor", aliases=("m",))(_noop)
    registry = Registry()
    registry.include(router)
    cmd, matched, rest = registry.find("Mentor ADD @x:y")
    assert (cmd.name, matched, rest) == ("mentor add", "mentor add", " @x:y")
    assert registry.find("m")[0].name == "mentor"
    assert registry.find("nothing here")[0] is None
    dup = Router("d", "D")
    dup.command("m")(_noop)
    with pytest.raises(ValueError, match="declared twice"):
        registry.include(dup)


def _env(zone: str = "Europe/Berlin"):
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from commands.framework import ParseEnv

    # Monday 4 January 2027, 10:00 in Berlin.
    return ParseEnv(datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc), ZoneInfo(zone))


def test_dates_in_words_are_read_in_the_speakers_zone():
    from datetime import datetime, timezone

    from commands.framework import When

    when = When(needs_time=True)
    assert when.convert_in("2027-01-10 18:00", _env()) == datetime(2027, 1, 10, 17, 0, tzinfo=timezone.utc)
    assert when.convert_in("2027-01-10 18:00", _env("America/Lima")) == datetime(2027, 1, 10, 23, 0, tzinfo=timezone.utc)
    assert when.convert_in("in 2 weeks", _env()) == datetime(2027, 1, 18, 9, 0, tzinfo=timezone.utc)
    assert when.convert_in("tuesday 16:00", _env()) == datetime(2027, 1, 5, 15, 0, tzinfo=timezone.utc)
    assert When().convert_in("march 3", _env()) == datetime(2027, 3, 2, 23, 0, tzinfo=timezone.utc)


def test_past_ambiguous_and_nonsense_dates_are_refused_with_an_example():
    from commands.framework import When

    cases = {
        "yesterday 10:00": "is in the past; give a future date, like 2027-03-01 16:00",
        "03/04/2027 10:00": "could be read two ways; write the date as year-month-day",
        "banana": "I can't read 'banana' as a date; write it like 2027-03-01 16:00",
        "friday": "'friday' has no time of day; add one, like friday 16:00",
        "2040-01-01 10:00": "more than 10 years ahead",
    }
    for text, message in cases.items():
        with pytest.raises(ArgError, match=re.escape(message)):
            When(needs_time=True).convert_in(text, _env())


def test_impossible_times_and_dates_are_refused_not_moved():
    from commands.framework import When

    cases = {
        "tomorrow 25:00": "25:00 is not a time of day; hours go from 0 to 23 and minutes from 0 to 59",
        "tomorrow 23:60": "23:60 is not a time of day",
        "friday 13pm": "13pm is not a time of day; write it like 4pm or 16:00",
        "31 February 10:00": "February has no day 31",
        "april 31 09:00": "April has no day 31",
        "2027-02-29 10:00": "2027-02-29 is not a date: February 2027 has no day 29",
        "2027-13-01 10:00": "2027-13-01 has no month 13",
    }
    for text, message in cases.items():
        with pytest.raises(ArgError, match=re.escape(message)):
            When(needs_time=True).convert_in(text, _env())
    # What is possible still reads as before.
    assert When(needs_time=True).convert_in("2028-02-29 10:00", _env()).day == 29
    assert When(needs_time=True).convert_in("tuesday 0:30", _env()).minute == 30


async def test_a_check_in_at_an_impossible_time_is_a_clear_usage_error(demo_bot):
    answer = await demo_bot.reply("@bob:example.org", "checkin @ana:example.org tomorrow 25:00")
    assert answer.startswith("When: 25:00 is not a time of day") and "Usage: `checkin" in answer
