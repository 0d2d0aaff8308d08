"""`profile`: see and set your own name, time zone, languages, interests and skills."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, Integer, Role, RoomKind, Router, Text, TimeZoneName, WordList
from commands.services import coaching, people
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
    args=[Arg("zone", TimeZoneName())],
    aliases=("profile tz",),
    rooms=DM_ONLY,
    examples=("profile timezone Europe/Berlin", "profile timezone America/Lima"),
)
async def set_timezone(ctx: Context, zone: str) -> None:
    """Set your time zone, so times are read and shown in your local time."""
    local = await people.set_timezone(ctx, await ctx.me(), zone)
    ctx.reply(words.timezone_set(zone, local))


@router.command(
    "profile languages",
    safe=True,
    args=[Arg("languages", WordList("languages"), optional=True, default=[])],
    rooms=DM_ONLY,
    examples=("profile languages en, es",),
)
async def set_languages(ctx: Context, languages: list[str]) -> None:
    """Set the languages you speak, separated by commas or spaces (replaces the list)."""
    await people.set_list(ctx, await ctx.me(), TagKind.LANGUAGE, languages)
    ctx.reply(words.languages_set(languages, ctx.cmd("profile languages en, es")))


@router.command(
    "profile interests",
    safe=True,
    args=[Arg("interests", WordList("interests"), optional=True, default=[])],
    rooms=DM_ONLY,
    examples=("profile interests event planning, localisation",),
)
async def set_interests(ctx: Context, interests: list[str]) -> None:
    """Set what you want to grow in, separated by commas (replaces the list).

    Mentors are matched to mentees by these interests and their own skills.
    """
    await people.set_list(ctx, await ctx.me(), TagKind.INTEREST, interests)
    ctx.reply(words.interests_set(interests, ctx.cmd("profile interests public speaking, events")))


@router.command(
    "profile skills",
    safe=True,
    args=[Arg("skills", WordList("skills"), optional=True, default=[])],
    aliases=("skills",),
    roles=[Role.MENTOR],
    rooms=(RoomKind.DM, RoomKind.MENTORS),
    examples=("profile skills events, localisation, public speaking",),
)
async def set_skills(ctx: Context, skills: list[str]) -> None:
    """Set the skills you offer as a mentor, separated by commas (replaces the list)."""
    await people.set_list(ctx, await ctx.me(), TagKind.SKILL, skills)
    ctx.reply(words.skills_set(skills, ctx.cmd("profile skills events, localisation")))


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
