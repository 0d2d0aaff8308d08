"""What the bot says when a command's arguments cannot be read: each says what to write instead.

These are plain phrases (a reason, completed by the usage line of the command), so they
come back as text; ``usage`` makes the whole reply.
"""

from __future__ import annotations

from datetime import datetime

from commands.text import Msg, code, lines, reading
from commands.words import t, tn, written

DATE_EXAMPLE = "2027-03-01 16:00, next tuesday 16:00, in 2 weeks"


def _(template: str, **parts: object) -> str:
    return t(template, **{k: str(v) for k, v in parts.items()}).plain()


def quote_not_closed(opener: str, closer: str) -> str:
    return _("a quote {opener} is not closed; put a {closer} at the end of the phrase", opener=opener, closer=closer)


def word_too_long() -> str:
    return _("that word is too long (at most 100 characters)")


def far_too_large(start: str) -> str:
    return _("{start}… is far too large", start=start)


def not_a_whole_number(token: str) -> str:
    return _("{token} is not a whole number", token=repr(token))


def too_small(value: int, minimum: int) -> str:
    return _("{value} is too small (at least {minimum})", value=value, minimum=minimum)


def too_large(value: int, maximum: int) -> str:
    return _("{value} is too large (at most {maximum})", value=value, maximum=maximum)


def not_a_matrix_id(shown: str) -> str:
    return _("{shown} is not a Matrix ID; write it in full, like @ana:example.org", shown=repr(shown))


def not_one_of(token: str, options: tuple[str, ...]) -> str:
    return _("{token} is not one of: {options}", token=repr(token), options=", ".join(options))


def not_a_duration(text: str) -> str:
    return _("{text} is not a duration; write it like 90m, 3h, 2d or 1w", text=repr(text))


def unknown_time_zone(shown: str) -> str:
    return _("{shown} is not a time zone I know; use a name like Europe/Berlin, America/Lima or UTC",
             shown=repr(shown))


def not_a_time_of_day(hour: str, minute: str) -> str:
    return _("{hour}:{minute} is not a time of day; hours go from 0 to 23 and minutes from 0 to 59, like 16:00",
             hour=hour, minute=minute)


def not_a_twelve_hour_time(hour: str, half: str) -> str:
    return _("{hour}{half}m is not a time of day; write it like 4pm or 16:00", hour=hour, half=half.lower())


def no_such_month(year: str, month: str, day: str) -> str:
    return _("{year}-{month}-{day} has no month {number}; months go from 1 to 12",
             year=year, month=month, day=day, number=int(month))


def no_such_day_in_year(year: str, month: str, day: str) -> str:
    return _("{year}-{month}-{day} is not a date: {name} {year} has no day {number}",
             year=year, month=month, day=day, name=_month_name(int(month)), number=int(day))


def no_such_day(month: int, day: int) -> str:
    return _("{name} has no day {day}", name=_month_name(month), day=day)


def _month_name(month: int) -> str:
    """A month's name in the reader's language (``February``, ``Februar``, ``luty``)."""
    return written(datetime(2000, month, 1), None, "month name").plain()


def date_too_long() -> str:
    return _("that date is too long; write it like {example}", example=DATE_EXAMPLE)


def ambiguous_date(text: str) -> str:
    return _("{text} could be read two ways; write the date as year-month-day, like 2027-04-03", text=repr(text))


def unreadable_date(text: str, languages: tuple[str, ...] = ("en",)) -> str:
    """Said with the other languages the speaker's dates are read in, if any (``de``, ``pl``)."""
    others = [code for code in languages if code != "en"]
    if not others:
        return _("I can't read {text} as a date; write it like {example}", text=repr(text), example=DATE_EXAMPLE)
    return _("I can't read {text} as a date; write it in English, like {example}, or in {languages}",
             text=repr(text), example=DATE_EXAMPLE, languages=language_names(others))


def language_names(codes: list[str]) -> str:
    """``German or Polish``: the languages' names in the words' own language, listed by its rules."""
    from babel import Locale
    from babel.lists import format_list

    here = Locale.parse(reading.get())  # the reader's own language
    return format_list([here.languages.get(code, code) for code in codes], style="or", locale=here)


def which_date(text: str, choices: list[tuple[str, datetime]]) -> Msg:
    """Text that reads as different dates in the speaker's languages: nothing is done; each
    reading comes back as the command to send, with the day it is."""
    return lines(t("{text} could mean more than one date, so I did nothing yet. Send the one you mean:",
                   text=repr(text)),
                 *(t("{command} ({day})", command=code(command), day=written(day, None, "weekday")) for command, day in choices))


def no_time_of_day(text: str) -> str:
    return _("{quoted} has no time of day; add one, like {text} 16:00", quoted=repr(text), text=text)


def in_the_past(shown: str, zone: str) -> str:
    return _("{shown} ({zone}) is in the past; give a future date, like {example}",
             shown=shown, zone=zone, example=DATE_EXAMPLE)


def too_far_ahead(years: int) -> str:
    return _("that is more than {years} years ahead; give a nearer date", years=years)


def repeat_form() -> str:
    return _("write a repeat like: every 3 months from 2027-01-10 18:00, or every 2 weeks from monday 17:00")


def repeat_needs_start(count: int, unit: str) -> str:
    return _("say when the first one is: every {count} {unit} from 2027-01-10 18:00", count=count, unit=unit)


def repeat_range(limit: int, months: bool) -> str:
    if months:
        return _("repeat every 1 to {limit} months", limit=limit)
    return _("repeat every 1 to {limit} weeks", limit=limit)


def text_too_long(length: int, limit: int) -> str:
    return _("that is too long ({length} characters; at most {limit})", length=length, limit=limit)


def item_too_long(start: str, limit: int) -> str:
    return _("{start}... is too long (at most {limit} characters an item)", start=repr(start), limit=limit)


def too_many_items(count: int, limit: int) -> str:
    return tn("that is {n} item; at most {limit}", "that is {n} items; at most {limit}", count, n=str(count), limit=str(limit))


def missing(name: str) -> str:
    return _("{name} is missing", name=name)


def unexpected(shown: str) -> str:
    return _("I did not expect {shown} after the last argument", shown=repr(shown))


def problem_with(name: str, problem: str) -> str:
    return _("{name}: {problem}", name=name, problem=problem)


def usage(problem: str, usage_line: Msg, example: Msg | None, command: str) -> Msg:
    """The reply to a command that could not be read: the problem, the usage, an example, help."""
    sentence = problem[0].upper() + problem[1:]
    msg = t("{problem}. Usage: {usage}.", problem=sentence, usage=code(usage_line))
    if example:
        msg += t(" For example: {example}.", example=code(example))
    return msg + t(" Send {help} for details.", help=code(f"help {command}"))
