"""Single coaching sessions from the coach pool: ask a coach, accept or decline, cancel, list."""

from __future__ import annotations

from datetime import datetime

from commands.arguments import OPTIONAL_REASON
from commands.dispatcher import Context
from commands.framework import (
    DM_ONLY,
    QUOTES,
    AmbiguousDate,
    Arg,
    ArgError,
    ArgType,
    Integer,
    MatrixId,
    ParseEnv,
    Role,
    Router,
    UnreadableDate,
    When,
    next_token,
)
from commands.services import coaching, people
from commands.words import coaching as said

router = Router("coaching", "Coaching sessions")

COACHING = Arg("number", Integer(minimum=1, label="coaching session number"))
MOST_SKILL_WORDS = 5  # a skill is at most this many words (the pool's skills are short)


class SkillAndTime(ArgType):
    """A skill, then a time read like a check-in's: ``"public speaking" friday 16:00``, or without
    the quotes, ``public speaking friday 16:00`` (the first words that leave a readable time)."""

    greedy = True
    label = "skill and when"

    def __init__(self) -> None:
        self.when = When("when", needs_time=True, max_years=1)

    def convert_in(self, token: str, env: ParseEnv) -> tuple[str, datetime]:
        text = token.strip()
        if text[:1] in QUOTES:
            skill, rest = next_token(text)
            if not skill.strip() or not rest.strip():
                raise ArgError(said.skill_and_time_needed())
            return skill, self._when(rest, env, before=text[:len(text) - len(rest)])
        words = text.split()
        if len(words) < 2:
            raise ArgError(said.skill_and_time_needed())
        tried: list[ArgError] = []
        for cut in range(1, min(len(words), MOST_SKILL_WORDS + 1)):
            rest = " ".join(words[cut:])
            try:
                return " ".join(words[:cut]), self._when(rest, env, before=" ".join(words[:cut]))
            except ArgError as problem:
                if not isinstance(problem, UnreadableDate):  # a time, but not a good one
                    raise
                tried.append(problem)
        raise tried[0]

    def _when(self, rest: str, env: ParseEnv, before: str) -> datetime:
        try:
            return self.when.convert_in(rest, env)
        except AmbiguousDate as choice:  # the choice is written with the skill before it
            raise choice.around(before=before.rstrip() + " ") from None


@router.command(
    "coaching ask",
    args=[Arg("coach", MatrixId()), Arg("what", SkillAndTime())],
    rooms=DM_ONLY,
    examples=("coaching ask @bob:example.org public speaking friday 16:00",
              'coaching ask @bob:example.org "public speaking" 2027-03-02 18:30'),
)
async def ask(ctx: Context, coach: str, what: tuple[str, datetime]) -> None:
    """Ask a mentor from the coach pool for one coaching session on a skill, at a time you propose.

    The time is read in your time zone, like a check-in's. The coach is told and accepts or declines;
    you hear either way. Once accepted, you both get the usual check-in reminders. It is a single
    session, not a mentorship. Find coaches and their skills with `pool`.
    """
    skill, when = what
    me = await ctx.me()
    cs = await coaching.ask(ctx, me, coach, skill, when, ctx.zone.key)
    ctx.reply(said.asked(ctx, cs, await people.find(ctx.session, coach), ctx.zone))


@router.command(
    "coaching accept",
    args=[COACHING],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("coaching accept 1",),
)
async def accept(ctx: Context, number: int) -> None:
    """Accept a coaching session you were asked for; you both get reminders before it.

    It counts towards your monthly limit (`profile coaching`), not towards your mentees.
    """
    cs, c, asker = await coaching.accept(ctx, await ctx.me(), number)
    ctx.reply(said.accepted(ctx, cs, c, asker, ctx.zone))


@router.command(
    "coaching decline",
    args=[COACHING, OPTIONAL_REASON],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("coaching decline 1", "coaching decline 1 I am travelling that week"),
)
async def decline(ctx: Context, number: int, reason: str | None) -> None:
    """Decline a coaching session you were asked for; no reason needed.

    A reason, if you give one, is told to the person who asked and to nobody else.
    """
    cs, asker = await coaching.decline(ctx, await ctx.me(), number, " ".join((reason or "").split()) or None)
    ctx.reply(said.declined(cs, asker))


@router.command(
    "coaching cancel",
    args=[COACHING],
    rooms=DM_ONLY,
    examples=("coaching cancel 1",),
)
async def cancel(ctx: Context, number: int) -> None:
    """Cancel a coaching session before its time, or take back your ask; the other person is told."""
    cs, other = await coaching.cancel(ctx, await ctx.me(), number)
    ctx.reply(said.cancelled(cs, other, ctx.zone))


@router.command("coaching", safe=True, rooms=DM_ONLY, examples=("coaching",))
async def list_sessions(ctx: Context) -> None:
    """Your coaching sessions still asked or planned, as the one who asked or as the coach."""
    me = await ctx.me()
    rows = await coaching.open_sessions_of(ctx.session, me.id)
    if not rows:
        ctx.reply(said.none_open(ctx))
        return
    others = await people.by_ids(ctx.session, (coaching.other_side(cs, me.id) for cs in rows))
    ctx.reply(said.listing(ctx, me, [(cs, others[coaching.other_side(cs, me.id)]) for cs in rows], ctx.zone))
