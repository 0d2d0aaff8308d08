"""Your data: see all of it, take it with you, or have it erased. The council's export and
retention policy. Which field goes where is decided by :mod:`commands.services.visibility`."""

from __future__ import annotations

from commands.council import COUNCIL_ROOMS
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, Role, Router, WordList
from commands.services import privacy
from commands.words import privacy as words

router = Router("privacy", "Your data")


@router.command("mydata", safe=True, rooms=DM_ONLY, examples=("mydata",))
async def mydata(ctx: Context) -> None:
    """Get everything I store about you, as two files: JSON (for other programs) and a readable summary.

    Your profile, requests, mentorships, check-ins, session records about you, your
    diary and goals, the feedback and reasons you gave, and what you did. Other
    people's data is not in it: the other side of a mentorship appears only by their
    Matrix ID. The files come to this direct message only (encrypted, like the
    conversation, where it is encrypted).
    """
    if ctx.person is None:
        ctx.reply(words.nothing_stored())
        return
    data = await privacy.export_own_data(ctx, ctx.person)
    files = words.mydata_files(data, ctx.zone, ctx.now)
    ctx.reply(words.mydata_sent(privacy.count(data), files, ctx, ctx.room), files=files)


@router.command("forget me", rooms=DM_ONLY, examples=("forget me",))
async def forget_me(ctx: Context) -> None:
    """See what erasing your data would do; then `forget me confirm` erases it.

    Your profile and everything you wrote are erased; a running mentorship ends (the
    other side is told, without a reason). What the program must keep (counts for its
    reports, the audit trail) stays under a pseudonym. It cannot be undone.
    """
    if ctx.person is None:
        ctx.reply(words.nothing_to_forget())
        return
    ctx.reply(words.forget_preview(await privacy.preview_forget(ctx, ctx.person), ctx, ctx.room))


@router.command("forget me confirm", rooms=DM_ONLY, examples=("forget me confirm",))
async def forget_me_confirm(ctx: Context) -> None:
    """Erase your data, after `forget me` has shown you what that does."""
    if ctx.person is None:
        ctx.reply(words.nothing_to_forget())
        return
    ctx.reply(words.forgotten(await privacy.confirm_forget(ctx, ctx.person)))


# ---------------------------------------------------------------- council


@router.command(
    "export",
    safe=True,
    args=[Arg("what", WordList("what", max_items=len(privacy.EXPORTS) + 2), optional=True)],
    roles=[Role.COUNCIL],
    rooms=DM_ONLY,
    examples=("export", "export mentorships sessions", "export all confidential"),
)
async def export(ctx: Context, what: list[str] | None) -> None:
    """The program's data as CSV files in one ZIP archive, one per kind: people, requests,
    mentorships, changes, checkins, sessions, feedback, declines, nominations, opportunities,
    opportunity_recipients, tags, diary, goals (default: all).

    Confidential texts (session notes, diary, goals, feedback, reasons) are left out unless
    you add the word `confidential`; such an export is recorded in the audit trail. The
    reply says the archive's size.
    """
    given = list(what or [])
    confidential = "confidential" in given
    kinds = list(dict.fromkeys(w for w in given if w not in ("confidential", "all"))) or list(privacy.EXPORTS)
    exported = await privacy.export_program(ctx, ctx.me, kinds, confidential=confidential, zone=ctx.zone)
    ctx.reply(words.exported(exported, kinds, confidential, ctx, ctx.room), files=(exported.archive,))


@router.command("retention", safe=True, roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("retention",))
async def retention(ctx: Context) -> None:
    """The retention policy: how long confidential texts are kept, and what expires next.

    Set in the `[retention]` section of the config; a daily job erases what has expired.
    Only counts are shown here, never the texts.
    """
    due = await privacy.expiring(ctx.session, ctx.retention, ctx.now)
    waiting = {k: v for k, v in due.items() if v}
    last = await privacy.last_retention_run(ctx.session)
    ctx.reply(words.retention_report(ctx.retention, waiting, last, ctx.zone))
