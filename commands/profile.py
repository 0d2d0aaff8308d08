"""`profile`: see and set your own name, time zone, languages, interests and skills."""

from __future__ import annotations

from datetime import datetime

from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, CommandError, Integer, Role, RoomKind, Router, Text, TimeZoneName, WordList
from commands.services import audit, people
from commands.text import Msg, bold, join, lines
from storage.models import Person, TagKind

router = Router("profile", "Your profile")


@router.command("profile", rooms=DM_ONLY, examples=("profile",))
async def show(ctx: Context) -> None:
    """Show your profile: name, time zone, languages, interests and, for mentors, skills and capacity."""
    person = ctx.person
    if person is None:
        ctx.reply(
            Msg(
                "I don't have a profile for you yet. Start with ", ctx.cmd("profile name <your name>"),
                ", then ", ctx.cmd("profile timezone <zone>"), " and ", ctx.cmd("profile languages <list>"), ".",
            )
        )
        return
    ctx.reply(await render(ctx, person))


async def render(ctx: Context, person: Person) -> Msg:
    tags = await people.tags(ctx.session, person.id)

    def listed(kind: TagKind) -> str:
        return ", ".join(tags[kind]) if tags[kind] else "(not set)"

    zone = person.timezone or f"(not set; the program's {ctx.policy.timezone} is used)"
    rows: list[Msg | None] = [
        Msg(bold("Your profile"), f" ({person.matrix_id})"),
        Msg(f"Name: {person.display_name or '(not set)'}"),
        Msg(f"Time zone: {zone}"),
        Msg(f"Languages: {listed(TagKind.LANGUAGE)}"),
        Msg(f"Interests: {listed(TagKind.INTEREST)}"),
    ]
    if person.is_mentor:
        load = await people.active_mentee_count(ctx.session, person.id)
        rows.append(Msg(f"Skills: {listed(TagKind.SKILL)}"))
        rows.append(Msg(f"Capacity: {person.capacity} mentees ({load} now)"))
    roles = [r.value for r in (Role.MENTEE, Role.MENTOR, Role.COUNCIL) if r in ctx.roles]
    rows.append(Msg(f"Roles: {', '.join(roles) if roles else 'none yet'}"))
    rows.append(Msg("Change a field with ", ctx.cmd("profile <field> <value>"), "; see ", ctx.cmd("help"), "."))
    return lines(*rows)


def _touch(person: Person, now: datetime) -> None:
    person.updated_at = now


@router.command(
    "profile name",
    args=[Arg("name", Text("name", max_length=100))],
    rooms=DM_ONLY,
    examples=("profile name Ana García",),
)
async def set_name(ctx: Context, name: str) -> None:
    """Set the name people see in messages about you.

    At most 64 characters; a name that looks like a Matrix ID or carries a role
    (council, mentor, admin, bot...) is refused, as people would be misled by it.
    """
    try:
        name = people.clean_name(name)
    except people.BadName as exc:
        raise CommandError(Msg(str(exc)[0].upper(), str(exc)[1:], ". For example: ",
                               ctx.cmd("profile name Ana García"))) from None
    person = await ctx.me()
    person.display_name = name
    _touch(person, ctx.now)
    ctx.reply(Msg("Done: I'll call you ", bold(name), "."))


@router.command(
    "profile timezone",
    args=[Arg("zone", TimeZoneName())],
    aliases=("profile tz",),
    rooms=DM_ONLY,
    examples=("profile timezone Europe/Berlin", "profile timezone America/Lima"),
)
async def set_timezone(ctx: Context, zone: str) -> None:
    """Set your time zone, so times are read and shown in your local time."""
    person = await ctx.me()
    person.timezone = zone
    _touch(person, ctx.now)
    local = ctx.now.astimezone(people.zone_of(person, ctx.policy))
    ctx.reply(Msg(f"Done: your time zone is {zone}. Your local time now is {local:%Y-%m-%d %H:%M}."))


async def _set_list(ctx: Context, kind: TagKind, values: list[str], noun: str, example: str) -> None:
    person = await ctx.me()
    await people.set_tags(ctx.session, person, kind, values)
    _touch(person, ctx.now)
    if values:
        ctx.reply(Msg(f"Done: your {noun} are now ", join(bold(v) for v in values), "."))
    else:
        ctx.reply(Msg(f"Your {noun} are now empty. Add some with ", ctx.cmd(example), "."))


@router.command(
    "profile languages",
    args=[Arg("languages", WordList("languages"), optional=True, default=[])],
    rooms=DM_ONLY,
    examples=("profile languages en, es",),
)
async def set_languages(ctx: Context, languages: list[str]) -> None:
    """Set the languages you speak, separated by commas or spaces (replaces the list)."""
    await _set_list(ctx, TagKind.LANGUAGE, languages, "languages", "profile languages en, es")


@router.command(
    "profile interests",
    args=[Arg("interests", WordList("interests"), optional=True, default=[])],
    rooms=DM_ONLY,
    examples=("profile interests event planning, localisation",),
)
async def set_interests(ctx: Context, interests: list[str]) -> None:
    """Set what you want to grow in, separated by commas (replaces the list).

    Mentors are matched to mentees by these interests and their own skills.
    """
    await _set_list(ctx, TagKind.INTEREST, interests, "interests", "profile interests public speaking, events")


@router.command(
    "profile skills",
    args=[Arg("skills", WordList("skills"), optional=True, default=[])],
    aliases=("skills",),
    roles=[Role.MENTOR],
    rooms=(RoomKind.DM, RoomKind.MENTORS),
    examples=("profile skills events, localisation, public speaking",),
)
async def set_skills(ctx: Context, skills: list[str]) -> None:
    """Set the skills you offer as a mentor, separated by commas (replaces the list)."""
    await _set_list(ctx, TagKind.SKILL, skills, "skills", "profile skills events, localisation")


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
    limit = ctx.policy.max_group_size
    if mentees > limit:
        raise CommandError(f"The program allows at most {limit} mentees per mentor. Choose {limit} or fewer.")
    person = await ctx.me()
    load = await people.active_mentee_count(ctx.session, person.id)
    before = person.capacity
    person.capacity = mentees
    _touch(person, ctx.now)
    audit.record(
        ctx.session, at=ctx.now, actor=person, entity="person", entity_id=person.id,
        action="capacity", from_state=str(before), to_state=str(mentees),
    )
    note = ""
    if load > mentees:
        note = f" You have {load} mentees now; you keep them all, and get no new ones until below {mentees}."
    ctx.reply(Msg(f"Done: your capacity is {mentees} mentee{'s' if mentees != 1 else ''}.{note}"))


