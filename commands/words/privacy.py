"""What the bot says about a person's own data, forgetting, the council's export and the retention policy."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import File, Target
from commands.policy import RetentionPolicy
from commands.services import privacy
from commands.words.mentoring import who
from commands.services.privacy import (
    EXPORT_NAME,
    Exported,
    ForgetNotAsked,
    ForgetPreview,
    OfferWithdrawn,
    RetentionApplied,
    UnknownExport,
)
from commands.services.visibility import RETENTION_SETTINGS
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines
from commands.words import N_, Nn_, explains, renders, t, tn, typed, written

# ---------------------------------------------------------------- mydata


def nothing_stored() -> Msg:
    return t("I store nothing about you: you have not used the program yet.")


def mydata_sent(records: int, files: tuple[File, File], work: Work, room: RoomKind) -> Msg:
    return tn("Here is everything I store about you ({n} record besides your profile), in two files: {json} for "
              "other programs and {md} to read. To have it erased, send {forget}.",
              "Here is everything I store about you ({n} records besides your profile), in two files: {json} for "
              "other programs and {md} to read. To have it erased, send {forget}.",
              records, json=code(files[0].name), md=code(files[1].name), forget=typed(work, "forget me", room))


SECTION_TITLES = {
    "requests": N_("Your requests for a mentor"),
    "conversation": N_("Your answers to a question the bot is asking (not confirmed yet)"),
    "mentorships": N_("Your mentorships"),
    "changes_of_mentor": N_("Changes of mentor you asked for"),
    "checkins": N_("Check-ins"),
    "coaching_sessions": N_("Single coaching sessions"),
    "sessions_about_you": N_("Session records about you"),
    "diary": N_("Your diary"),
    "goals": N_("Your goals"),
    "agreements": N_("Agreements of your mentorships"),
    "agreement_follow_ups": N_("Your answers: does the agreement work?"),
    "groups": N_("Mentoring groups you led or were asked to"),
    "group_sessions": N_("Sessions of your groups"),
    "feedback_you_gave": N_("Feedback you gave"),
    "requests_you_declined": N_("Requests you declined"),
    "nominations_of_you": N_("Nominations of you"),
    "nominations_you_made": N_("Nominations you made"),
    "opportunities_for_you": N_("Opportunities shared with you"),
    "opportunities_you_shared": N_("Opportunities you shared"),
    "announcements_you_wrote": N_("Announcements you wrote"),
    "your_actions": N_("What you did (the audit trail)"),
}


def _md(value: Any) -> str:
    """A value in a Markdown table cell: one line, pipes escaped."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return t("yes").plain() if value else t("no").plain()
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return " ".join(str(value).split()).replace("\\", "\\\\").replace("|", "\\|")


def _local(value: Any, zone: ZoneInfo) -> Any:
    """ISO times shown in the reader's zone, to the minute."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        except ValueError:
            return value
    return value


def mydata_markdown(data: dict[str, Any], zone: ZoneInfo) -> str:
    """A readable summary of a person's data (``privacy.collect``), with every value in it."""
    profile = data["profile"]
    out = [t("# Your data in {program}", program=data["program"]).plain(), "",
           t("Everything mentorbot stores about {who}, as of {when}.", who=profile["matrix_id"],
             when=_local(data["exported_at"], zone)).plain(),
           t("The JSON file beside this one holds the same data for other programs to read.").plain(), "",
           t("## Profile").plain(), ""]
    not_set = t("(not set)").plain()
    for key, value in profile.items():
        out.append(f"- **{key.replace('_', ' ')}**: {_md(_local(value, zone)) or not_set}")
    for key in privacy.SECTIONS:
        rows = data[key]
        out += ["", t("## {title}", title=t(SECTION_TITLES[key])).plain(), ""]
        if not rows:
            out.append(t("Nothing.").plain())
            continue
        columns = list(dict.fromkeys(c for row in rows for c in row))  # rows of a section may differ (groups)
        out.append("| " + " | ".join(c.replace("_", " ") for c in columns) + " |")
        out.append("|" + "---|" * len(columns))
        for row in rows:
            out.append("| " + " | ".join(_md(_local(row.get(c), zone)) for c in columns) + " |")
    return "\n".join(out) + "\n"


def mydata_files(data: dict[str, Any], zone: ZoneInfo, now: datetime) -> tuple[File, File]:
    """A person's data as JSON (for other programs) and as a readable Markdown summary."""
    stem = f"mydata-{now.astimezone(zone):%Y-%m-%d}"
    return (
        File(f"{stem}.json", "application/json", json.dumps(data, ensure_ascii=False, indent=2) + "\n"),
        File(f"{stem}.md", "text/markdown", mydata_markdown(data, zone)),
    )


# ---------------------------------------------------------------- forget me


def nothing_to_forget() -> Msg:
    return t("I store nothing about you: there is nothing to forget.")


def forget_preview(p: ForgetPreview, work: Work, room: RoomKind) -> Msg:
    texts = [tn("{n} diary entry", "{n} diary entries", p.diary_entries) if p.diary_entries else None,
             tn("{n} goal", "{n} goals", p.goals) if p.goals else None,
             tn("{n} session record about you", "{n} session records about you", p.sessions_about_them)
             if p.sessions_about_them else None,
             tn("{n} feedback answer", "{n} feedback answers", p.feedback_answers) if p.feedback_answers else None]
    texts = [x for x in texts if x is not None]
    rows: list[Msg | None] = [
        bold(t("Forgetting you would:")),
        t("• erase your profile (name, time zone, languages, skills, interests) and your texts: {texts}, plus any "
          "request, reason or nomination text about you;", texts=join(texts) if texts else t("no texts yet")),
    ]
    for other in p.ends_with:
        rows.append(t("• end your mentorship with {other} (they are told, without a reason);", other=who(other)))
    if p.withdraws_request:
        rows.append(t("• withdraw your request for a mentor;"))
    rows += [
        t("• keep, under a pseudonym, only what the program must: the dates and states of your mentorships "
          "and check-ins (for its counts) and the audit trail of who did what, with your name replaced."),
        tn("{undone} Send {mydata} first for a copy. To go ahead, send {confirm} within {n} minute.",
           "{undone} Send {mydata} first for a copy. To go ahead, send {confirm} within {n} minutes.",
           p.window_minutes, undone=bold(t("This cannot be undone.")), mydata=typed(work, "mydata", room),
           confirm=typed(work, "forget me confirm", room)),
    ]
    return lines(*rows)


@explains(ForgetNotAsked)
def forget_not_asked(e: ForgetNotAsked, work: Work) -> Msg:
    room = getattr(work, "room", RoomKind.DM)
    return tn("First send {forget} to see what would be erased; then confirm within {n} minute.",
              "First send {forget} to see what would be erased; then confirm within {n} minutes.",
              e.window_minutes, forget=typed(work, "forget me", room))


def forgotten(done: dict[str, int]) -> Msg:
    ended = done["mentorships_ended"]
    return t("Done: I have forgotten you. Your profile and texts are erased{ended}{withdrawn}. If you write to me "
             "again, I will treat you as someone new. Thank you for taking part!",
             ended=tn(", your mentorship ended", ", your mentorships ended", ended) if ended else "",
             withdrawn=t(", and your request withdrawn") if done["requests_withdrawn"] else "")


@renders(OfferWithdrawn)
def _offer_withdrawn(e: OfferWithdrawn, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), t("Request #{id} was withdrawn; nothing to do.", id=str(e.request_id)))


# ---------------------------------------------------------------- the council's export


@explains(UnknownExport)
def unknown_export(e: UnknownExport, work: Work) -> Msg:
    return t("I can't export {kind}. Choose from: {kinds} (or all), and add {confidential} to include "
             "confidential texts.", kind=repr(e.kind), kinds=", ".join(privacy.EXPORTS), confidential=code("confidential"))


def size(n: int) -> str:
    """A number of bytes as people read it: ``850 bytes``, ``12.4 kB``, ``3.2 MB``."""
    if n < 1000:
        return f"{n} bytes"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}"
    return f"{n:.1f} GB"


def exported(e: Exported, kinds: list[str], confidential: bool, work: Work, room: RoomKind) -> Msg:
    if confidential:
        note = t("{warning} Keep them where only the council can read them, and delete them when you are done.",
                 warning=bold(t("These files hold confidential texts.")))
    else:
        note = t("Confidential texts are left out; add {confidential} to include them, like {example}.",
                 confidential=code("confidential"), example=typed(work, "export sessions confidential", room))
    return tn("The export: one ZIP archive of {n} CSV file ({kinds}; {rows} rows), {size} ({csv} uncompressed). "
              "{note}",
              "The export: one ZIP archive of {n} CSV files ({kinds}; {rows} rows), {size} ({csv} uncompressed). "
              "{note}",
              e.files, kinds=", ".join(kinds), rows=str(e.rows), size=size(e.size), csv=size(e.uncompressed),
              note=note)


def file_too_large(name: str, length: int, limit: int | None) -> Msg:
    """In the room a file was for: the homeserver takes no file that large."""
    takes = t(" ({limit})", limit=size(limit)) if limit else ""
    if name.startswith(EXPORT_NAME):
        return t("The file {name} ({size}) is larger than this homeserver takes{takes}: it was not sent. Export "
                 "fewer kinds at a time, like {example}.", name=code(name), size=size(length), takes=takes,
                 example=code("export sessions"))
    return t("The file {name} ({size}) is larger than this homeserver takes{takes}: it was not sent. Ask the "
             "homeserver's admin to raise the limit.", name=code(name), size=size(length), takes=takes)


# ---------------------------------------------------------------- retention

EXPIRED = {  # each kind of text the retention policy erases (``privacy.Expiry.what``), counted
    "session notes": Nn_("{n} session note", "{n} session notes"),
    "agreements": Nn_("{n} agreement", "{n} agreements"),
    "follow-up answers": Nn_("{n} answer to an agreement's follow-up", "{n} answers to an agreement's follow-up"),
    "diary entries": Nn_("{n} diary entry", "{n} diary entries"),
    "goals": Nn_("{n} goal", "{n} goals"),
    "feedback answers": Nn_("{n} feedback answer", "{n} feedback answers"),
    "end reasons": Nn_("{n} end reason", "{n} end reasons"),
    "change reasons": Nn_("{n} change reason", "{n} change reasons"),
    "decline reasons": Nn_("{n} decline reason", "{n} decline reasons"),
    "coaching asks": Nn_("{n} coaching ask", "{n} coaching asks"),
    "group session notes": Nn_("{n} group session note", "{n} group session notes"),
    "group end reasons": Nn_("{n} reason for ending a group", "{n} reasons for ending a group"),
    "group leave reasons": Nn_("{n} reason for leaving a group", "{n} reasons for leaving a group"),
}


def counted(counts: dict[str, int] | tuple[tuple[str, int], ...]) -> Msg:
    """``1 session note, 3 diary entries``: what expired, counted."""
    items = counts.items() if isinstance(counts, dict) else counts
    return join([tn(*EXPIRED[kind], n) for kind, n in items])


def retention_report(policy: RetentionPolicy, waiting: dict[str, int], last: datetime | None, zone: ZoneInfo) -> Msg:
    rows: list[Msg | None] = [bold(t("Retention policy"))]
    for setting, what in RETENTION_SETTINGS.items():
        months = getattr(policy, setting)
        kept = (tn("erased {n} month after", "erased {n} months after", months) if months
                else t("kept (0: until the person asks to be forgotten)"))
        rows.append(t("• {setting}: {what}; {kept}", setting=code(f"{setting} = {months}"), what=what, kept=kept))
    rows.append(t("Expired and waiting for the daily job: {waiting}. Change the policy in the {section} section of "
                  "the config.", waiting=counted(waiting) if waiting else t("nothing"), section=code("[retention]")))
    if last is not None:
        rows.append(t("Last run: {when}.", when=written(last, zone)))
    return lines(*rows)


@renders(RetentionApplied)
def _retention_applied(e: RetentionApplied, work: Work) -> None:
    work.send(Target.council(), t("Retention policy: erased the expired {counted}.", counted=counted(e.erased)))
