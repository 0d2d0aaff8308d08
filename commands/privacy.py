"""Your data: see all of it, take it with you, or have it erased. The council's export and
retention policy. Which field goes where is decided by :mod:`commands.services.visibility`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from commands.council import COUNCIL_ROOMS
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, CommandError, Role, Router, UsageError, WordList
from commands.services import audit, mentorships, privacy
from commands.services.mentorships import who
from commands.services.visibility import RETENTION_SETTINGS
from commands.text import Msg, bold, code, lines
from storage.models import BotState, DiaryEntry, Feedback, Goal, Mentorship, MentorshipState, SessionRecord

router = Router("privacy", "Your data")

FORGET_KEY = "forget.armed.{}"  # when a person asked what `forget me` would erase
FORGET_WINDOW = timedelta(minutes=15)


@router.command("mydata", rooms=DM_ONLY, examples=("mydata",))
async def mydata(ctx: Context) -> None:
    """Get everything I store about you, as two files: JSON (for other programs) and a readable summary.

    Your profile, requests, mentorships, check-ins, session records about you, your
    diary and goals, the feedback and reasons you gave, and what you did. Other
    people's data is not in it: the other side of a mentorship appears only by their
    Matrix ID. The files come to this direct message only (encrypted, like the
    conversation, where it is encrypted).
    """
    if ctx.person is None:
        ctx.reply("I store nothing about you: you have not used the program yet.")
        return
    data = await privacy.collect(ctx.session, ctx.person, ctx.now, ctx.policy.name)
    files = privacy.files_of(data, ctx.zone, ctx.now)
    audit.record(ctx.session, at=ctx.now, actor=ctx.person, entity="person", entity_id=ctx.person.id,
                 action="data_exported")
    ctx.reply(Msg(
        f"Here is everything I store about you ({privacy.count(data)} records besides your profile), in two files: ",
        code(files[0].name), " for other programs and ", code(files[1].name), " to read. ",
        "To have it erased, send ", ctx.cmd("forget me"), ".",
    ), files=files)


@router.command("forget me", rooms=DM_ONLY, examples=("forget me",))
async def forget_me(ctx: Context) -> None:
    """See what erasing your data would do; then `forget me confirm` erases it.

    Your profile and everything you wrote are erased; a running mentorship ends (the
    other side is told, without a reason). What the program must keep (counts for its
    reports, the audit trail) stays under a pseudonym. It cannot be undone.
    """
    person = ctx.person
    if person is None:
        ctx.reply("I store nothing about you: there is nothing to forget.")
        return
    s, pid = ctx.session, person.id
    counts = {
        "diary entry": await _count(ctx, select(func.count()).select_from(DiaryEntry).where(DiaryEntry.person_id == pid)),
        "goal": await _count(ctx, select(func.count()).select_from(Goal).where(Goal.person_id == pid)),
        "session record about you": await _count(ctx, select(func.count()).select_from(SessionRecord).join(
            Mentorship, Mentorship.id == SessionRecord.mentorship_id).where(Mentorship.mentee_id == pid)),
        "feedback answer": await _count(ctx, select(func.count()).select_from(Feedback).where(Feedback.author_id == pid)),
    }
    erased = ", ".join(_n(n, what) for what, n in counts.items() if n) or "no texts yet"
    rows: list[Msg | None] = [
        bold("Forgetting you would:"),
        Msg("• erase your profile (name, time zone, languages, skills, interests) and your texts: ", erased,
            ", plus any request, reason or nomination text about you;"),
    ]
    active = (await s.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE,
        (Mentorship.mentee_id == pid) | (Mentorship.mentor_id == pid)).order_by(Mentorship.id))).all()
    for m in active:
        other = await mentorships.person_by_id(s, m.mentor_id if m.mentee_id == pid else m.mentee_id)
        rows.append(Msg("• end your mentorship with ", who(other), " (they are told, without a reason);"))
    if await mentorships.open_request_of(s, pid):
        rows.append(Msg("• withdraw your request for a mentor;"))
    rows += [
        Msg("• keep, under a pseudonym, only what the program must: the dates and states of your mentorships "
            "and check-ins (for its counts) and the audit trail of who did what, with your name replaced."),
        Msg(bold("This cannot be undone."), " Send ", ctx.cmd("mydata"), " first for a copy. To go ahead, send ",
            ctx.cmd("forget me confirm"), f" within {int(FORGET_WINDOW.total_seconds() // 60)} minutes."),
    ]
    key = FORGET_KEY.format(pid)
    row = await s.get(BotState, key)
    if row is None:
        s.add(BotState(key=key, value=ctx.now.isoformat()))
    else:
        row.value = ctx.now.isoformat()
    ctx.reply(lines(*rows))


@router.command("forget me confirm", rooms=DM_ONLY, examples=("forget me confirm",))
async def forget_me_confirm(ctx: Context) -> None:
    """Erase your data, after `forget me` has shown you what that does."""
    person = ctx.person
    if person is None:
        ctx.reply("I store nothing about you: there is nothing to forget.")
        return
    armed = await ctx.session.get(BotState, FORGET_KEY.format(person.id))
    if armed is None or ctx.now - datetime.fromisoformat(armed.value) > FORGET_WINDOW:
        raise CommandError(Msg("First send ", ctx.cmd("forget me"), " to see what would be erased; then confirm "
                               f"within {int(FORGET_WINDOW.total_seconds() // 60)} minutes."))
    await ctx.session.delete(armed)
    done = await privacy.forget(ctx, person)
    ended = done["mentorships_ended"]
    ctx.reply(Msg(
        "Done: I have forgotten you. Your profile and texts are erased",
        f", your mentorship{'s' if ended > 1 else ''} ended" if ended else "",
        ", and your request withdrawn" if done["requests_withdrawn"] else "",
        ". If you write to me again, I will treat you as someone new. Thank you for taking part!",
    ))


def _n(n: int, noun: str) -> str:
    """``3 diary entries``, ``1 goal``, ``2 session records about you``."""
    if n == 1:
        return f"1 {noun}"
    head, _, tail = noun.partition(" about")
    head = head[:-1] + "ies" if head.endswith("y") else head + "s"
    return f"{n} {head}" + (f" about{tail}" if tail else "")


async def _count(ctx: Context, query) -> int:
    return int((await ctx.session.exec(query)).one())


# ---------------------------------------------------------------- council


@router.command(
    "export",
    args=[Arg("what", WordList("what", max_items=len(privacy.EXPORTS) + 2), optional=True)],
    roles=[Role.COUNCIL],
    rooms=DM_ONLY,
    examples=("export", "export mentorships sessions", "export all confidential"),
)
async def export(ctx: Context, what: list[str] | None) -> None:
    """The program's data as CSV files, one per kind: people, requests, mentorships, changes,
    checkins, sessions, feedback, declines, nominations, tags, diary, goals (default: all).

    Confidential texts (session notes, diary, goals, feedback, reasons) are left out unless
    you add the word `confidential`; such an export is recorded in the audit trail.
    """
    words = list(what or [])
    confidential = "confidential" in words
    kinds = [w for w in words if w not in ("confidential", "all")] or list(privacy.EXPORTS)
    unknown = [k for k in kinds if k not in privacy.EXPORTS]
    if unknown:
        raise UsageError(Msg(f"I can't export {unknown[0]!r}. Choose from: {', '.join(privacy.EXPORTS)} (or all), "
                             "and add ", code("confidential"), " to include confidential texts."))
    files = await privacy.export(ctx.session, kinds, confidential=confidential,
                                 stamp=f"{ctx.now.astimezone(ctx.zone):%Y-%m-%d}")
    me = await ctx.me()
    # Who took the program's data, and whether with the confidential texts: in their own audit trail.
    audit.record(ctx.session, at=ctx.now, actor=me, entity="person", entity_id=me.id,
                 action="exported_confidential" if confidential else "exported",
                 to_state="all" if len(kinds) == len(privacy.EXPORTS) else ",".join(kinds)[:40])
    note = (Msg(bold("These files hold confidential texts."), " Keep them where only the council can read them, "
                "and delete them when you are done.") if confidential else
            Msg("Confidential texts are left out; add ", code("confidential"), " to include them, like ",
                ctx.cmd("export sessions confidential"), "."))
    ctx.reply(Msg(f"The export: {len(files)} CSV file{'s' if len(files) != 1 else ''} (",
                  ", ".join(kinds), "). ", note), files=files)


@router.command("retention", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("retention",))
async def retention(ctx: Context) -> None:
    """The retention policy: how long confidential texts are kept, and what expires next.

    Set in the `[retention]` section of the config; a daily job erases what has expired.
    Only counts are shown here, never the texts.
    """
    policy = ctx.retention
    rows: list[Msg | None] = [bold("Retention policy")]
    for setting, what in RETENTION_SETTINGS.items():
        months = getattr(policy, setting)
        kept = f"erased {_n(months, 'month')} after" if months else "kept (0: until the person asks to be forgotten)"
        rows.append(Msg("• ", code(f"{setting} = {months}"), f": {what}; {kept}"))
    due = await privacy.expiring(ctx.session, policy, ctx.now)
    waiting = {k: v for k, v in due.items() if v}
    rows.append(Msg("Expired and waiting for the daily job: ",
                    privacy.counted(waiting) if waiting else "nothing", ". ",
                    "Change the policy in the ", code("[retention]"), " section of the config."))
    last = await ctx.session.get(BotState, privacy.RETENTION_RUN)
    if last is not None:
        rows.append(Msg(f"Last run: {datetime.fromisoformat(last.value).astimezone(ctx.zone):%Y-%m-%d %H:%M}."))
    ctx.reply(lines(*rows))
