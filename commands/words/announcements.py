"""What the bot says about council announcements: drafts, publishing, the copies in Matrix
and on the forum, where each copy stands, mentors passing them on, and the forum relay."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Outgoing, Target
from commands.services import people
from commands.services.announcements import (
    FORUM_REFUSED,
    NO_FORUM,
    AlreadyPublished,
    AnnouncementCancelled,
    AnnouncementCopyDue,
    AnnouncementHeld,
    AnnouncementPosted,
    AnnouncementRefused,
    Claim,
    Confirmation,
    CopyStanding,
    Draft,
    ForumGivenUp,
    ForumRemoved,
    ForumUnavailable,
    NewForumTopics,
    NoSuchAnnouncement,
    NotForMentees,
    NotYetPublished,
    Relayed,
    Standing,
    WrongLength,
)
from commands.words.checkins import shown
from commands.services.work import Work
from commands.text import Msg, bold, join, lines, link, markdown, mention, person
from commands.words import Nn_, explains, number, renders, t, tn, typed
from storage.models import Announcement, AnnouncementState, Audience, CopyState, Person

WRITE = "announce <audience> <title> | <text>"  # the command to write an announcement, as people type it
RELAY_ONE_BY_ONE = 3  # more new forum topics than this at once are listed, RELAY_LISTED a message
RELAY_LISTED = 10


def _cmd(work: Work, text: str) -> Msg:
    """How to type a command where the person is (a DM for scheduled work)."""
    return typed(work, text, getattr(work, "room", RoomKind.DM))


def audience(kind: Audience) -> Msg:
    """Who an announcement is for, as its copies say it (each in its reader's language)."""
    names = {Audience.MENTORS: t("mentors"), Audience.MENTEES: t("mentees"), Audience.ALL: t("everyone")}
    return names[kind]


# ---------------------------------------------------------------- the announcement itself


def topic_text(claim: Claim) -> str:
    """The forum topic's body: the council's Markdown as written, and a short footer."""
    return t("{body}\n\n---\n*Announcement from the council of {program}, for {audience}.*",
             body=claim.body, program=claim.program, audience=audience(claim.audience)).plain()


def copy(ann: Announcement, url: str | None, *, held: bool = False, shared_by: Person | None = None,
         relay_hint: Msg | None = None) -> Msg:
    """A Matrix copy: title, the body (Markdown rendered, any HTML in it shown as text) and the link."""
    if shared_by is not None:
        head = t("Your mentor {mentor} passes on announcement #{number} from the council: {title}",
                 mentor=person(shared_by.matrix_id, people.name_of(shared_by)), number=ann.id, title=bold(ann.title))
    else:
        head = t("📣 Announcement #{number} from the council, for {audience}: {title}",
                 number=ann.id, audience=audience(ann.audience), title=bold(ann.title))
    if url:
        where = t("Read and discuss it on the forum: {link}", link=link(url))
    elif held:
        where = t("The forum copy is waiting for a moderator's approval.")
    else:
        where = None
    return lines(head, markdown(ann.body), where, relay_hint)


def relay_hint(work: Work, ann: Announcement) -> Msg:
    return t("Mentors: send {relay} to pass it on to your mentees.",
             relay=typed(work, f"relay {ann.id}", RoomKind.MENTORS))


@renders(AnnouncementCopyDue)
def _copy_due(e: AnnouncementCopyDue, work: Work) -> None:
    msg = copy(e.ann, e.url, held=e.held, shared_by=e.shared_by,
               relay_hint=relay_hint(work, e.ann) if e.relay_hint else None)
    # Kept with its transaction id, which the copy's standing looks up. A copy in someone's DM
    # is meant for them: it notifies; the mentors room's copy is ambient.
    work.outbox.append(Outgoing(e.target, msg, txn_id=e.txn_id, notify=e.target.room is RoomKind.DM))


# ---------------------------------------------------------------- drafting


def needs_bar(work: Work) -> Msg:
    return t("Put a | between the title and the text, like {example}.",
             example=_cmd(work, "announce all Mentor training on 3 March | Join us at 16:00 UTC..."))


LENGTHS = {  # (part, too long): the forum's limit, said in singular and plural
    ("title", False): Nn_("The title is {n} character; the forum needs at least {limit}. Say a little more.",
                       "The title is {n} characters; the forum needs at least {limit}. Say a little more."),
    ("title", True): Nn_("The title is {n} character; the forum takes at most {limit}.",
                      "The title is {n} characters; the forum takes at most {limit}."),
    ("text", False): Nn_("The text is {n} character; the forum needs at least {limit}.",
                      "The text is {n} characters; the forum needs at least {limit}."),
    ("text", True): Nn_("The text is {n} character; keep an announcement under {limit} and link to more.",
                     "The text is {n} characters; keep an announcement under {limit} and link to more."),
    ("citation", False): Nn_("The citation is {n} character; the forum needs at least {limit}: say what the "
                          "mentee did, in a sentence or two.",
                          "The citation is {n} characters; the forum needs at least {limit}: say what the "
                          "mentee did, in a sentence or two."),
    ("citation", True): Nn_("The citation is {n} character; keep it under {limit}.",
                         "The citation is {n} characters; keep it under {limit}."),
}


@explains(WrongLength)
def _wrong_length(e: WrongLength, work: Work) -> Msg:
    singular, plural = LENGTHS[e.part, e.too_long]
    return tn(singular, plural, e.length, limit=number(e.limit))


def _dms(n: int) -> Msg:
    return tn("{n} mentee by DM", "{n} mentees by DM", n, n=str(n))


def drafted(work: Work, d: Draft) -> Msg:
    goes = [t("the forum ({forum})", forum=work.forum) if work.forum else None, t("the mentors room"),
            _dms(d.dms) if d.ann.audience is not Audience.MENTORS else None]
    return lines(
        t("Draft announcement #{number}. This is how it will read:", number=d.ann.id),
        copy(d.ann, None),
        t("It goes to {where}. Send {confirm} to publish it, or {cancel} to drop it.",
          where=join([g for g in goes if g]), confirm=_cmd(work, f"confirm {d.ann.id}"),
          cancel=_cmd(work, f"cancel {d.ann.id}")),
    )


@explains(NoSuchAnnouncement)
def _no_such_announcement(e: NoSuchAnnouncement, work: Work) -> Msg:
    return t("There is no announcement #{number}. Send {announcements} to see the recent ones.",
             number=e.number, announcements=_cmd(work, "announcements"))


# ---------------------------------------------------------------- publishing and cancelling


def confirmed(work: Work, c: Confirmation) -> Msg:
    number = c.ann.id
    if c.already:
        return t("Announcement #{number} was already published. {announcements} shows where its copies stand.",
                 number=number, announcements=_cmd(work, "announcements"))
    dms = t(" and {dms}", dms=_dms(c.dms)) if c.ann.audience is not Audience.MENTORS else ""
    if work.forum:
        return t("Publishing announcement #{number}: posting it to the forum ({forum}); then it goes to the "
                 "mentors room{dms}, with the link. I'll tell you here when it is up.",
                 number=number, forum=work.forum, dms=dms)
    return t("Published announcement #{number} to the mentors room{dms}. "
             "(No forum is configured, so there is no forum topic.)", number=number, dms=dms)


@explains(AnnouncementCancelled)
def _announcement_cancelled(e: AnnouncementCancelled, work: Work) -> Msg:
    return t("Announcement #{number} was cancelled. Send {announce} to write it again.",
             number=e.ann.id, announce=_cmd(work, "announce ..."))


@explains(AlreadyPublished)
def _already_published(e: AlreadyPublished, work: Work) -> Msg:
    return t("Announcement #{number} is already published; it cannot be taken back from here.", number=e.ann.id)


def cancelled(ann: Announcement, now: bool) -> Msg:
    if not now:
        return t("Announcement #{number} was already cancelled.", number=ann.id)
    return t("Cancelled announcement #{number}. Nothing of it was sent.", number=ann.id)


# ---------------------------------------------------------------- what became of the forum topic


def _to(confirmer: Person | None) -> Msg | str:
    """The council member who confirmed the announcement, addressed (the outcome is for them)."""
    return t("{name}: ", name=mention(confirmer.matrix_id, people.name_of(confirmer))) if confirmer else ""


def _and_dms(sent: int) -> Msg | str:
    return tn(" and to {n} mentee by DM", " and to {n} mentees by DM", sent, n=str(sent)) if sent else ""


def _to_council(work: Work, confirmer: Person | None, msg: Msg) -> None:
    work.send(Target.council(), msg, notify=confirmer is not None)


@renders(AnnouncementPosted)
def _posted(e: AnnouncementPosted, work: Work) -> None:
    if e.url:
        msg = t("{to}announcement #{number} is on the forum: {link}. Sent to the mentors room{dms}.",
                to=_to(e.confirmer), number=e.ann.id, link=link(e.url), dms=_and_dms(e.dms))
    else:
        msg = t("{to}announcement #{number} is out (its forum topic was only printed: no forum is configured). "
                "Sent to the mentors room{dms}.", to=_to(e.confirmer), number=e.ann.id, dms=_and_dms(e.dms))
    _to_council(work, e.confirmer, msg)


@renders(AnnouncementHeld)
def _held(e: AnnouncementHeld, work: Work) -> None:
    _to_council(work, e.confirmer, t(
        "{to}Discourse is holding announcement #{number} for a moderator's approval; once approved it appears "
        "in the forum category. Sent to the mentors room{dms}, without a forum link.",
        to=_to(e.confirmer), number=e.ann.id, dms=_and_dms(e.dms)))


def _refusal_hint(status: int) -> Msg | str:
    if status == 403:
        return t(" (The API key or its user is not accepted: check [discourse] api_key and api_username.)")
    if status == 400:
        return t(" (Check [discourse] announcements_category: it should be the number of an existing category.)")
    return ""


@renders(AnnouncementRefused)
def _refused(e: AnnouncementRefused, work: Work) -> None:
    _to_council(work, e.confirmer, t(
        "{to}Discourse refused announcement #{number} ({title}): {message}. Nothing was sent to Matrix. "
        "Fix it and send {announce} again.{hint}",
        to=_to(e.confirmer), number=e.ann.id, title=bold(e.ann.title), message=e.message,
        announce=typed(work, WRITE, RoomKind.COUNCIL), hint=_refusal_hint(e.status)))


@renders(ForumGivenUp)
def _given_up(e: ForumGivenUp, work: Work) -> None:
    _to_council(work, e.confirmer, tn(
        "{to}Discourse has been unavailable for {hours} hour ({message}), so announcement #{number} went to the "
        "mentors room{dms} without a forum link. When the forum is back, look for the topic first (an earlier "
        "try may have got through before the answer was lost: its external id is {external_id}); if it is not "
        "there, post it by hand.",
        "{to}Discourse has been unavailable for {hours} hours ({message}), so announcement #{number} went to the "
        "mentors room{dms} without a forum link. When the forum is back, look for the topic first (an earlier "
        "try may have got through before the answer was lost: its external id is {external_id}); if it is not "
        "there, post it by hand.",
        e.hours, to=_to(e.confirmer), hours=str(e.hours), message=e.message, number=e.ann.id,
        dms=_and_dms(e.dms), external_id=e.ann.external_id))


@renders(ForumUnavailable)
def _unavailable(e: ForumUnavailable, work: Work) -> None:
    _to_council(work, e.confirmer, t(
        "{to}Discourse is not taking announcement #{number} right now ({message}). I keep trying for up to a "
        "day; the Matrix copies go out with the forum link once the topic is up. {announcements} shows where it "
        "stands.",
        to=_to(e.confirmer), number=e.ann.id, message=e.message,
        announcements=typed(work, "announcements", RoomKind.COUNCIL)))


@renders(ForumRemoved)
def _forum_removed(e: ForumRemoved, work: Work) -> None:
    work.send(Target.council(), t(
        "Announcement #{number} was waiting for the forum, which is no longer configured: it went to the "
        "mentors room{dms} without a forum link.", number=e.ann.id, dms=_and_dms(e.dms)))


# ---------------------------------------------------------------- where each copy stands


def none_yet(work: Work) -> Msg:
    return t("No announcements yet. Send {announce} in the council room to write one.",
             announce=typed(work, WRITE, RoomKind.COUNCIL))


def standings(work: Work, items: list[Standing], zone: ZoneInfo) -> Msg:
    return lines(t("{title} (newest first)", title=bold(t("Recent announcements"))),
                 *(_standing(work, s, zone) for s in items))


def _why(error: str | None) -> str | None:
    """Why a copy was not sent, as stored on it: the program's reasons, or the forum's own words."""
    reasons = {FORUM_REFUSED: t("not sent: Discourse refused the topic"),
               NO_FORUM: t("no forum is configured any more")}
    return reasons[error].plain() if error in reasons else error


def _matrix(c: CopyStanding) -> Msg:
    if c.state == "sent":
        return t("sent")
    if c.state == "waiting":
        return t("waiting: for the forum topic") if c.for_topic else t("waiting")
    if c.state == "failed":
        return t("failed: {why}", why=_why(c.error) or t("could not be delivered"))
    return t("not sent")


def _standing(work: Work, s: Standing, zone: ZoneInfo) -> Msg:
    ann = s.ann
    head = t("• #{number} {title} (for {audience})", number=ann.id, title=bold(ann.title),
             audience=audience(ann.audience))
    if ann.state is AnnouncementState.DRAFT:
        return t("{head}: draft, not sent. {confirm} publishes it.", head=head,
                 confirm=_cmd(work, f"confirm {ann.id}"))
    if ann.state is AnnouncementState.CANCELLED:
        return t("{head}: cancelled, not sent.", head=head)
    parts = [t("published {when}", when=shown(ann.confirmed_at, zone))]
    f = s.forum
    if f is None:
        parts.append(t("forum: none configured"))
    elif f.state is CopyState.SENT:
        parts.append(t("forum: posted {link}", link=link(f.url)) if f.url else t("forum: printed by the shell"))
    elif f.state is CopyState.ENQUEUED:
        parts.append(t("forum: held for a moderator"))
    elif f.state is CopyState.FAILED:
        parts.append(t("forum: failed: {why}", why=_why(f.error)))
    else:
        why = t(" ({why})", why=_why(f.error)) if f.error else ""
        parts.append(t("forum: waiting{why}, next try {when}", why=why, when=shown(f.next_attempt_at, zone)))
    parts.append(t("mentors room: {state}", state=_matrix(s.room)))
    if s.dms_sent or s.dms_waiting or s.dms_failed:
        waiting = t(", {n} waiting", n=s.dms_waiting) if s.dms_waiting else ""
        failed = t(", {n} failed", n=s.dms_failed) if s.dms_failed else ""
        parts.append(t("DMs: {sent} sent{waiting}{failed}", sent=s.dms_sent, waiting=waiting, failed=failed))
    return t("{head}: {parts}", head=head, parts=join(parts, "; "))


# ---------------------------------------------------------------- a mentor passes it on


@explains(NotForMentees)
def _not_for_mentees(e: NotForMentees, work: Work) -> Msg:
    return t("Announcement #{number} celebrates a mentee, who agreed to its publication in the mentors room and on "
             "the forum only: it is not passed on to mentees.", number=e.ann.id)


@explains(NotYetPublished)
def _not_yet_published(e: NotYetPublished, work: Work) -> Msg:
    return t("Announcement #{number} has not been published yet; you can pass it on once it appears in the "
             "mentors room.", number=e.ann.id)


def relayed(r: Relayed) -> Msg:
    if not r.sent and not r.had:
        return t("You have no active mentees to pass it on to.")
    if not r.sent:
        return t("Your mentees already have announcement #{number}; nothing more was sent.", number=r.ann.id)
    extra = t(" ({had} already had it)", had=r.had) if r.had else ""
    return tn("Passed announcement #{number} on to {n} mentee by DM{extra}.",
              "Passed announcement #{number} on to {n} mentees by DM{extra}.",
              r.sent, n=str(r.sent), number=r.ann.id, extra=extra)


# ---------------------------------------------------------------- the forum relay


@renders(NewForumTopics)
def _new_forum_topics(e: NewForumTopics, work: Work) -> None:
    new = e.topics
    if len(new) <= RELAY_ONE_BY_ONE:
        for topic in new:
            work.send(Target.mentors(), lines(
                t("💬 New on the forum: {title} by {author}", title=bold(topic.title), author=topic.author),
                Msg(topic.excerpt) if topic.excerpt else None,
                Msg(link(topic.url)),
            ))
        return
    # A flood (after downtime, say) is listed, not posted topic by topic.
    chunks = [new[i:i + RELAY_LISTED] for i in range(0, len(new), RELAY_LISTED)]
    for index, chunk in enumerate(chunks, start=1):
        part = t(" ({number} of {count})", number=index, count=len(chunks)) if len(chunks) > 1 else ""
        work.send(Target.mentors(), lines(
            tn("💬 {n} new topic on the forum{part}:", "💬 {n} new topics on the forum{part}:",
               len(new), n=str(len(new)), part=part),
            *(t("• {title} by {author}: {link}", title=bold(topic.title), author=topic.author, link=link(topic.url))
              for topic in chunk),
        ))
