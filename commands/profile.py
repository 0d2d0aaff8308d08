"""`profile`: see and set your own name, time zone, languages, interests and skills."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.arguments import Languages, Skills, Zone
from commands.framework import DM_ONLY, Arg, Integer, Role, RoomKind, Router, Text
from commands import languages
from commands.services import coaching, people
from commands.services.languages import of_person
from commands.text import reading
from commands.services.vocabulary import Skill
from commands.words import coaching as coaching_said
from commands.words import profile as words
from storage.models import TagKind

router = Router("profile", "Your profile")


@router.command("profile", safe=True, rooms=DM_ONLY, examples=("profile",))
async def show(ctx: Context) -> None:
    """Show your profile: name, time zone, languages, interests and, for mentors, skills and capacity."""
    person = ctx.person
    if person is None:
        ctx.reply(words.no_profile(ctx.cmd("profile name <your name>"), ctx.cmd("profile timezone <zone>"),
                                   ctx.cmd("profile languages <list>")))
        return
    shown = await people.profile(ctx, person)
    ctx.reply(words.profile(shown, ctx.policy.timezone, ctx.roles, ctx.cmd("profile <field> <value>"),
                            ctx.cmd("help")))


@router.command(
    "profile name",
    safe=True,
    args=[Arg("name", Text("name", max_length=100))],
    rooms=DM_ONLY,
    examples=("profile name Ana García",),
)
async def set_name(ctx: Context, name: str) -> None:
    """Set the name people see in messages about you.

    At most 64 characters; a name that looks like a Matrix ID or carries a role
    (council, mentor, admin, bot...) is refused, as people would be misled by it.
    """
    ctx.reply(words.name_set(await people.set_name(ctx, await ctx.me(), name)))


@router.command(
    "profile timezone",
    safe=True,
    args=[Arg("zone", Zone())],
    aliases=("profile tz",),
    rooms=DM_ONLY,
    examples=("profile timezone Europe/Berlin", "profile timezone Lima", "profile timezone CET"),
)
async def set_timezone(ctx: Context, zone: str) -> None:
    """Set your time zone, so times are read and shown in your local time.

    Give a zone name (Europe/Berlin), a city (Berlin, New York), a country with one time
    zone (Poland) or an abbreviation (CET, PST); the reply says which zone was stored. For
    a country with several zones you are shown the ones to choose from.
    """
    local = await people.set_timezone(ctx, await ctx.me(), zone)
    ctx.reply(words.timezone_set(zone, local))


@router.command(
    "profile languages",
    safe=True,
    args=[Arg("languages", Languages(), optional=True, default="")],
    rooms=DM_ONLY,
    examples=("profile languages English, Spanish", "profile languages Deutsch, pt-BR"),
)
async def set_languages(ctx: Context, languages: list[str]) -> None:
    """Set the languages you speak, separated by commas (replaces the list).

    Name them in any language or by code: English, Deutsch, polski, pt-BR, Brazilian
    Portuguese. Codes alone may also be separated by spaces (en es).
    """
    me = await ctx.me()
    await people.set_list(ctx, me, TagKind.LANGUAGE, languages)
    _reads(ctx, of_person(me, languages, ctx.policy.language))
    ctx.reply(words.languages_set(languages, ctx.cmd("profile languages English, Spanish")))


def _reads(ctx: Context, language: str) -> None:
    """The sender reads ``language`` from now on: the reply already is in it."""
    ctx.readers.known[ctx.incoming.sender] = language
    reading.set(language)


@router.command(
    "profile language",
    safe=True,
    args=[Arg("language", Languages(), optional=True, default="")],
    rooms=DM_ONLY,
    examples=("profile language Deutsch", "profile language pl", "profile language"),
)
async def set_language(ctx: Context, language: list[str]) -> None:
    """Choose the language I write to you in: English, German, Polish, Spanish or Portuguese.

    Name it in any language or by code (Deutsch, polski, es, pt-BR). Without one, I write
    in the first of your profile's languages that I speak, else in the program's language.
    The commands keep their words in every language; their help is in yours. Dates you
    type are read in your language and in English.
    """
    if len(language) > 1:
        raise ctx.command.usage_error("language", words.one_language())
    chosen = languages.speaks(language[0]) if language else None
    if language and chosen is None:
        ctx.reply(words.not_spoken(language[0], ctx.cmd("profile language Deutsch")))
        return
    me = await ctx.me()
    people.set_language(ctx, me, chosen)
    now_read = of_person(me, (await people.tags(ctx.session, me.id))[TagKind.LANGUAGE], ctx.policy.language)
    _reads(ctx, now_read)
    ctx.reply(words.language_set(now_read, chosen is not None, ctx.cmd("profile language")))


@router.command(
    "profile interests",
    safe=True,
    args=[Arg("interests", Skills("interests"), optional=True, default="")],
    rooms=DM_ONLY,
    examples=("profile interests event planning, localisation",),
)
async def set_interests(ctx: Context, interests: list[Skill]) -> None:
    """Set what you want to grow in, separated by commas (replaces the list).

    Mentors are matched to mentees by these interests and their own skills. Spaces do not
    separate: "UX design" is one interest. A word the program knows by another name is
    stored under the program's word (l10n as localization).
    """
    await people.set_list(ctx, await ctx.me(), TagKind.INTEREST, [i.value for i in interests])
    ctx.reply(words.interests_set(interests, ctx.cmd("profile interests public speaking, events"),
                                  bool(ctx.policy.skills), ctx))


@router.command(
    "profile skills",
    safe=True,
    args=[Arg("skills", Skills("skills"), optional=True, default="")],
    aliases=("skills",),
    roles=[Role.MENTOR],
    rooms=(RoomKind.DM, RoomKind.MENTORS),
    examples=("profile skills events, localisation, public speaking",),
)
async def set_skills(ctx: Context, skills: list[Skill]) -> None:
    """Set the skills you offer as a mentor, separated by commas (replaces the list).

    As with interests, spaces do not separate and the program's own word is stored for one
    it knows by another name.
    """
    await people.set_list(ctx, await ctx.me(), TagKind.SKILL, [s.value for s in skills])
    ctx.reply(words.skills_set(skills, ctx.cmd("profile skills events, localisation"), bool(ctx.policy.skills), ctx))


@router.command(
    "profile capacity",
    args=[Arg("mentees", Integer(minimum=0, maximum=100, label="mentees"))],
    aliases=("capacity",),
    roles=[Role.MENTOR],
    rooms=(RoomKind.DM, RoomKind.MENTORS),
    examples=("profile capacity 3",),
)
async def set_capacity(ctx: Context, mentees: int) -> None:
    """Set how many mentees you can take at once (0 takes no new mentees)."""
    load = await people.set_capacity(ctx, await ctx.me(), mentees)
    ctx.reply(words.capacity_set(mentees, load))


@router.command(
    "profile coaching",
    args=[Arg("sessions", Integer(minimum=0, maximum=31, label="sessions a month"))],
    roles=[Role.MENTOR],
    rooms=(RoomKind.DM, RoomKind.MENTORS),
    examples=("profile coaching 2", "profile coaching 0"),
)
async def set_coaching(ctx: Context, sessions: int) -> None:
    """Set how many single coaching sessions from the coach pool you give a month (0 takes none).

    Until you set it, the program's default applies. Single sessions never count as mentees.
    """
    coaching.set_monthly_limit(ctx, await ctx.me(), sessions)
    ctx.reply(coaching_said.limit_set(ctx, sessions, ctx.policy.coaching_sessions_per_month))
