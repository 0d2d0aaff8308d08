"""Check-ins: plan, list, move, cancel, mark done, confirm."""

from __future__ import annotations

from commands.arguments import CHECKIN
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, CommandError, Integer, MatrixId, Plan, Role, Router, Schedule
from commands.messages import Target
from commands.services import answers, calendar, checkins, coaching, mentorships, people, records
from commands.words import calendar as calendar_words
from commands.words import checkins as said
from storage.models import Mentorship, Person

router = Router("checkins", "Check-ins")

PEOPLE_IN_CHECKINS = [Role.MENTOR, Role.MENTEE]


async def _people_of(ctx: Context, m: Mentorship) -> tuple[Person, Person]:
    """The other person in ``m`` (not the sender), and its mentee."""
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    me = await ctx.me()
    other = await mentorships.person_by_id(ctx.session, checkins.partner_id(m, me.id))
    return other, mentee


@router.command(
    "checkin",
    args=[Arg("mentee", MatrixId()), Arg("when", Schedule())],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=(
        "checkin @ana:example.org next tuesday 16:00",
        "checkin @ana:example.org in 2 weeks",
        "checkin @ana:example.org every 3 months from 2027-03-10 18:00",
    ),
)
async def checkin(ctx: Context, mentee: str, when: Plan) -> None:
    """Plan a check-in with your mentee, once or repeating; both of you get reminders.

    Times are read in your time zone, in English or your profile's languages, and shown to
    each of you in your own zone. The first
    check-in you plan after a mentorship starts is the orientation session.
    """
    me = await ctx.me()
    m, person = await records.mentee_of(ctx, me, mentee)
    c = await checkins.schedule(ctx, m, when.at, ctx.zone.key, by=me, every_months=when.every_months,
                                every_weeks=when.every_weeks)
    mentee_zone = people.zone_of(person, ctx.policy)
    ctx.reply(said.planned(ctx, c, person, ctx.zone, mentee_zone))
    ctx.send(Target.dm(person.matrix_id), said.planned_for_mentee(ctx, c, me, mentee_zone),
             answers=answers.checkin(c.id, person.matrix_id))


@router.command("checkins", safe=True, rooms=DM_ONLY, examples=("checkins",))
async def list_checkins(ctx: Context) -> None:
    """Your upcoming check-ins: as a mentor, with all your mentees; as a mentee, with your mentor;
    and your coaching sessions from the coach pool, as coach or as the one who asked."""
    me = await ctx.me()
    rows = await checkins.active_mentorships_of(ctx.session, me.id)
    planned = [(c, None) for c in await checkins.upcoming(ctx.session, [m.id for m in rows])]
    planned += await coaching.upcoming_checkins(ctx.session, me.id)
    if not planned:
        ctx.reply(said.none_planned(ctx, me.is_mentor))
        return
    planned.sort(key=lambda row: (row[0].due_at, row[0].id))
    other_of = {m.id: checkins.partner_id(m, me.id) for m in rows}
    whose = [other_of[c.mentorship_id] if cs is None else coaching.other_side(cs, me.id) for c, cs in planned]
    others = await people.by_ids(ctx.session, whose)
    items = [(c, others[other], cs) for (c, cs), other in zip(planned, whose)]
    ctx.reply(said.planned_list(ctx, items, ctx.zone))


@router.command(
    "checkin move",
    args=[CHECKIN, Arg("when", Schedule())],
    roles=PEOPLE_IN_CHECKINS,
    rooms=DM_ONLY,
    examples=("checkin move 1 friday 17:30",),
)
async def move(ctx: Context, checkin: int, when: Plan) -> None:
    """Move a check-in to another time (mentor or mentee); the other person is told."""
    if when.every_months or when.every_weeks:
        raise CommandError(said.move_takes_one_time())
    me = await ctx.me()
    c, m = await checkins.checkin_of(ctx, me, checkin)
    other, mentee = await _people_of(ctx, m)
    await checkins.move(ctx, c, m, when.at, ctx.zone.key, by=me)
    ctx.reply(said.moved(ctx, c, other, ctx.zone))
    to_mentee = other.id == mentee.id  # the mentee confirms the new time
    ctx.send(Target.dm(other.matrix_id), said.moved_for_other(ctx, c, me, people.zone_of(other, ctx.policy),
                                                              to_mentee=to_mentee),
             answers=answers.checkin(c.id, other.matrix_id) if to_mentee else None)


@router.command(
    "checkin cancel",
    args=[CHECKIN],
    roles=PEOPLE_IN_CHECKINS,
    rooms=DM_ONLY,
    examples=("checkin cancel 1",),
)
async def cancel(ctx: Context, checkin: int) -> None:
    """Cancel a check-in (a repeating one stops repeating); the other person is told."""
    me = await ctx.me()
    c, m = await checkins.checkin_of(ctx, me, checkin)
    other, _ = await _people_of(ctx, m)
    gone = await checkins.cancel(ctx, c, by=me)
    series = len(gone) > 1 or c.series_id is not None
    ctx.reply(said.cancelled(c, other, ctx.zone, series=series))
    ctx.send(Target.dm(other.matrix_id), said.cancelled_for_other(c, me, people.zone_of(other, ctx.policy),
                                                                  series=series))


@router.command(
    "checkin done",
    args=[CHECKIN],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("checkin done 1",),
)
async def done(ctx: Context, checkin: int) -> None:
    """Mark a check-in as held (to record what was said, use `session`)."""
    me = await ctx.me()
    c, m = await checkins.checkin_of(ctx, me, checkin, mentor_only=True)
    await checkins.hold(ctx, c, by=me)
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    ctx.reply(said.held(ctx, c, mentee))


@router.command(
    "confirm",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"), optional=True)],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("confirm", "confirm 2"),
)
async def confirm(ctx: Context, checkin: int | None) -> None:
    """Confirm your next check-in (or check-in N); your mentor is told."""
    me = await ctx.me()
    c, m, already = await checkins.confirm(ctx, me, checkin)
    if already:
        ctx.reply(said.already_confirmed(c, ctx.zone))
        return
    mentor = await mentorships.person_by_id(ctx.session, m.mentor_id)
    ctx.reply(said.confirmed(c, mentor, ctx.zone))
    ctx.send(Target.dm(mentor.matrix_id), said.confirmed_for_mentor(c, me, people.zone_of(mentor, ctx.policy)))


@router.command(
    "calendar",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"), optional=True)],
    rooms=DM_ONLY,
    examples=("calendar", "calendar 2"),
)
async def calendar_file(ctx: Context, checkin: int | None) -> None:
    """Your upcoming check-ins (or check-in N) as a calendar file, to add to your calendar app.

    Each check-in keeps its identity in the file, so importing a newer file (after a check-in
    moved) updates it instead of adding it twice. Times are in your time zone (`profile`). The
    file says when, what kind and with whom, nothing said in mentoring. A cancelled check-in is
    not in it: remove it from your calendar yourself.
    """
    me = await ctx.me()
    if checkin is not None:
        meetings = [await calendar.one(ctx.session, me, checkin)]
        name, reply = f"checkin-{checkin}.ics", calendar_words.sent_one(ctx, meetings[0].checkin)
    else:
        meetings = await calendar.upcoming(ctx.session, me, ctx.now)
        if not meetings:
            ctx.reply(calendar_words.nothing_planned(ctx))
            return
        name, reply = "checkins.ics", calendar_words.sent_all(ctx, len(meetings))
    content = calendar.ics([(m, calendar_words.summary(m)) for m in meetings], ctx.zone, owner=me.id, host=ctx.host,
                           now=ctx.now, name=calendar_words.calendar_name(ctx))
    ctx.reply(reply, files=(calendar.ics_file(name, content),))
