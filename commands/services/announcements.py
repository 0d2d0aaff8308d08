"""Council announcements: drafts, publishing, every copy delivered once, and the forum relay.

An announcement is stored before anything is sent. Confirming it creates one
row per copy: the Discourse topic (when a forum is configured), the mentors
room, and a DM per active mentee (for ``mentees`` and ``all``). The Matrix copies
wait for the topic, so that each can link to it; they go out in the transaction
that records the topic, through the durable outbox (which sends each message
once). When Discourse refuses the topic for good, nothing is sent to Matrix and
the council member who confirmed it is told why, in Discourse's own words.

The Discourse calls themselves happen outside any transaction: a copy is first
*claimed* (its attempt counted and its next try planned, committed), then
posted, then the outcome is recorded. A bot that dies between the post and the
record finds the claim on restart, and looks the topic up by its external id
before posting again.

Nothing here is a sentence: each Matrix copy and each outcome the council must hear
of is an event, and a refusal a domain error; ``commands.words.announcements`` words
them, and writes the topic's footer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from commands.messages import Target
from commands.services import audit, people, rules
from commands.services.errors import DomainError
from commands.services.forum import ForumTopic, Held, Posted, Refused, TopicOutcome
from commands.services.work import Event, Work
from storage.models import (
    Announcement,
    AnnouncementCopy,
    AnnouncementState,
    Audience,
    BotState,
    CopyChannel,
    CopyState,
    Mentorship,
    MentorshipState,
    Nomination,
    OutboxMessage,
    Person,
    ProgramNotice,
)
from storage.session import Session

MIN_TITLE, MAX_TITLE = 15, 255  # Discourse's default limits for a topic title
MIN_BODY, MAX_BODY = 20, 1800  # Discourse's least post length; the most a chat message carries well
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(hours=24)  # then the Matrix copies go out without a forum link
RELAY_MARK = "discourse:relay-mark"  # the newest post id the relay has seen
RELAY_FLOOR = "discourse:relay-floor"  # the newest post id at the relay's first look
RELAY_OVERLAP = 50  # post ids below the mark read again, for posts that showed late
# Why a copy was not sent, as stored on it (shown in the standings; a forum copy may instead
# hold the forum's own words).
FORUM_REFUSED = "forum-refused"  # a Matrix copy held back: the forum refused the topic
NO_FORUM = "no-forum"  # a forum copy left waiting when the forum was no longer configured


# ---------------------------------------------------------------- what is posted


@dataclass(frozen=True)
class Claim:
    """One Discourse topic to post now: the council's title and Markdown, for ``audience``
    of ``program`` (the message layer adds the topic's footer)."""

    copy_id: int
    announcement_id: int
    external_id: str
    title: str
    body: str
    audience: Audience
    program: str
    maybe_posted: bool  # an earlier try may have created the topic


# ---------------------------------------------------------------- refusals


@dataclass
class NoSuchAnnouncement(DomainError):
    number: int


@dataclass
class AnnouncementCancelled(DomainError):
    """A cancelled announcement cannot be published."""

    ann: Announcement


@dataclass
class AlreadyPublished(DomainError):
    """A published announcement cannot be cancelled."""

    ann: Announcement


@dataclass
class NotYetPublished(DomainError):
    """A mentor may pass on only what has reached the mentors room."""

    ann: Announcement


@dataclass
class NotForMentees(DomainError):
    """A celebration of a mentee is published where they agreed to (the mentors room, the forum): not passed on."""

    ann: Announcement


@dataclass
class WrongLength(DomainError):
    """The forum would not take the announcement's ``part`` ("title", "text", or a celebration's
    "citation"): it is ``length`` characters, and the forum needs at least, or (``too_long``)
    takes at most, ``limit``."""

    outcome = "usage"
    part: str
    length: int
    limit: int
    too_long: bool


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class AnnouncementCopyDue(Event):
    """One Matrix copy of ``ann`` to deliver to ``target``, once (the outbox keeps ``txn_id``).

    ``url`` is the forum topic, if any; ``held``: the topic waits for a moderator;
    ``shared_by``: the mentor passing it on; ``relay_hint``: the mentors room's copy of an
    announcement for mentors, which tells them how to pass it on."""

    ann: Announcement
    target: Target
    txn_id: str
    url: str | None = None
    held: bool = False
    shared_by: Person | None = None
    relay_hint: bool = False


@dataclass(frozen=True)
class AnnouncementPosted(Event):
    """The topic is up (``url`` None: the shell only printed it); the Matrix copies went out."""

    ann: Announcement
    confirmer: Person | None
    url: str | None
    dms: int


@dataclass(frozen=True)
class AnnouncementHeld(Event):
    """The forum holds the topic for a moderator; the Matrix copies went out without a link."""

    ann: Announcement
    confirmer: Person | None
    dms: int


@dataclass(frozen=True)
class AnnouncementRefused(Event):
    """The forum refused the topic for good (``message``: its own words); nothing went to Matrix."""

    ann: Announcement
    confirmer: Person | None
    message: str
    status: int


@dataclass(frozen=True)
class ForumUnavailable(Event):
    """The forum did not take the topic at the first try; it is tried again."""

    ann: Announcement
    confirmer: Person | None
    message: str


@dataclass(frozen=True)
class ForumGivenUp(Event):
    """The forum was unavailable for ``hours``: the Matrix copies went out without a link."""

    ann: Announcement
    confirmer: Person | None
    message: str
    hours: int
    dms: int


@dataclass(frozen=True)
class ForumRemoved(Event):
    """The topic waited for a forum that is no longer configured: the Matrix copies went out without a link."""

    ann: Announcement
    dms: int


@dataclass(frozen=True)
class NewForumTopics(Event):
    """New topics on the forum, oldest first, each relayed to the mentors room once."""

    topics: tuple[ForumTopic, ...]


# ---------------------------------------------------------------- drafting


def check_length(part: str, value: str, least: int, most: int) -> None:
    """Refused (WrongLength) unless the forum takes ``value`` as an announcement's ``part``."""
    if len(value) < least:
        raise WrongLength(part, len(value), least, too_long=False)
    if len(value) > most:
        raise WrongLength(part, len(value), most, too_long=True)


@dataclass(frozen=True)
class Draft:
    ann: Announcement
    dms: int  # how many mentees would get a DM copy


async def draft(work: Work, author: Person, audience: Audience, title: str, body: str) -> Draft:
    """Store a draft (nothing is sent); refused when the forum would not take the title or text."""
    check_length("title", title, MIN_TITLE, MAX_TITLE)
    check_length("text", body, MIN_BODY, MAX_BODY)
    ann = Announcement(author_id=author.id, audience=audience, title=title, body=body,
                       external_id=f"mentorbot-{uuid.uuid4().hex[:24]}", created_at=work.now)
    work.session.add(ann)
    await work.session.flush()
    return Draft(ann, len(await recipients(work.session, audience)))


async def get(session: Session, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def find(work: Work, number: int) -> Announcement:
    """Announcement ``number``; refused (NoSuchAnnouncement) if there is none."""
    ann = await get(work.session, number)
    if ann is None:
        raise NoSuchAnnouncement(number)
    return ann


async def active_mentees(session: Session, mentor_id: int | None = None) -> list[Person]:
    query = (select(Person).join(Mentorship, Mentorship.mentee_id == Person.id)
             .where(Mentorship.state == MentorshipState.ACTIVE).order_by(Person.id))
    if mentor_id is not None:
        query = query.where(Mentorship.mentor_id == mentor_id)
    return list((await session.exec(query)).all())


async def recipients(session: Session, audience: Audience) -> list[Person]:
    """The mentees who get a DM copy of an announcement for ``audience``: every active mentee,
    unless it is for mentors only."""
    if audience is Audience.MENTORS:
        return []
    return await active_mentees(session)


# ---------------------------------------------------------------- publishing


@dataclass(frozen=True)
class Confirmation:
    ann: Announcement
    dms: int  # how many mentees get a DM copy
    already: bool = False  # it was published before; nothing more was done


async def confirm(work: Work, number: int, by: Person) -> Confirmation:
    """Publish draft ``number``; refused if it was cancelled. Published already: nothing changes."""
    ann = await find(work, number)
    if ann.state is AnnouncementState.CONFIRMED:
        return Confirmation(ann, 0, already=True)
    if ann.state is AnnouncementState.CANCELLED:
        raise AnnouncementCancelled(ann)
    return Confirmation(ann, await publish(work, ann, by))


async def publish(work: Work, ann: Announcement, by: Person) -> int:
    """Confirm ``ann``: create its copies; returns how many mentees get a DM.

    With a forum, the Matrix copies wait for the topic; without one they are queued now.
    """
    ann.state = AnnouncementState.CONFIRMED
    ann.confirmed_at, ann.confirmed_by_id = work.now, by.id
    audit.record(work.session, at=work.now, actor=by, entity="announcement", entity_id=ann.id,
                 action="confirm", from_state="draft", to_state="confirmed")
    copies = [AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.MENTORS_ROOM)]
    mentees = await recipients(work.session, ann.audience)
    copies += [AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.DM, recipient_id=p.id) for p in mentees]
    if work.forum is not None:
        copies.append(AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.DISCOURSE, next_attempt_at=work.now))
        work.announced = True
    work.session.add_all(copies)
    await work.session.flush()
    if work.forum is None:
        await _release(work, ann, None)
    return len(mentees)


async def cancel(work: Work, number: int, by: Person) -> tuple[Announcement, bool]:
    """Drop draft ``number``; refused if it was published. Returns it, and False if it was cancelled already."""
    ann = await find(work, number)
    if ann.state is AnnouncementState.CONFIRMED:
        raise AlreadyPublished(ann)
    if ann.state is AnnouncementState.CANCELLED:
        return ann, False
    ann.state = AnnouncementState.CANCELLED
    audit.record(work.session, at=work.now, actor=by, entity="announcement", entity_id=ann.id,
                 action="cancel", from_state="draft", to_state="cancelled")
    return ann, True


async def claim_next(work: Work) -> Claim | None:
    """The next topic due to be posted, its attempt counted and its next try planned (committed by the caller)."""
    copy = (await work.session.exec(
        select(AnnouncementCopy)
        .where(AnnouncementCopy.channel == CopyChannel.DISCOURSE, AnnouncementCopy.state == CopyState.PENDING,
               AnnouncementCopy.next_attempt_at <= work.now)
        .order_by(AnnouncementCopy.next_attempt_at, AnnouncementCopy.id).limit(1)
    )).first()
    if copy is None:
        return None
    ann = await work.session.get(Announcement, copy.announcement_id)
    copy.attempts += 1
    # If the bot dies during the call, this is when it tries again (looking the topic up first).
    copy.next_attempt_at = work.now + _backoff(copy.attempts)
    return Claim(copy.id, ann.id, ann.external_id, ann.title, ann.body, ann.audience, work.policy.name,
                 maybe_posted=copy.attempts > 1)


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 10)), LONGEST_WAIT)


async def record(work: Work, claim: Claim, outcome: TopicOutcome) -> None:
    """What became of a claimed topic: release the Matrix copies, or plan the next try, or tell the council."""
    copy = await work.session.get(AnnouncementCopy, claim.copy_id)
    ann = await work.session.get(Announcement, claim.announcement_id)
    if copy is None or copy.state is not CopyState.PENDING:
        return  # recorded already
    # The outcome is addressed to the member who confirmed it.
    confirmer = await work.session.get(Person, ann.confirmed_by_id) if ann.confirmed_by_id else None
    if isinstance(outcome, Posted):
        copy.state, copy.sent_at, copy.error = CopyState.SENT, work.now, None
        copy.remote_id = str(outcome.topic_id) if outcome.topic_id is not None else None
        copy.url = outcome.url
        sent = await _release(work, ann, outcome.url)
        work.emit(AnnouncementPosted(ann, confirmer, outcome.url, sent))
    elif isinstance(outcome, Held):
        copy.state, copy.sent_at, copy.error = CopyState.ENQUEUED, work.now, None
        sent = await _release(work, ann, None, held=True)
        work.emit(AnnouncementHeld(ann, confirmer, sent))
    elif isinstance(outcome, Refused):
        copy.state, copy.error = CopyState.FAILED, outcome.message
        await _hold_back(work, ann, FORUM_REFUSED)
        work.emit(AnnouncementRefused(ann, confirmer, outcome.message, outcome.status))
    else:
        copy.error = outcome.message
        waited = work.now - (ann.confirmed_at or work.now)
        if waited >= GIVE_UP_AFTER:
            copy.state = CopyState.FAILED
            sent = await _release(work, ann, None)
            work.emit(ForumGivenUp(ann, confirmer, outcome.message, waited.days * 24 + waited.seconds // 3600, sent))
        else:
            wait = _backoff(copy.attempts)
            if outcome.retry_after:
                wait = max(wait, timedelta(seconds=outcome.retry_after))
            copy.next_attempt_at = work.now + wait
            if copy.attempts == 1:
                work.emit(ForumUnavailable(ann, confirmer, outcome.message))


async def _waiting_copies(work: Work, ann: Announcement) -> list[AnnouncementCopy]:
    """The Matrix copies of ``ann`` still waiting for the forum topic."""
    return list((await work.session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == ann.id,
                                       AnnouncementCopy.channel != CopyChannel.DISCOURSE,
                                       AnnouncementCopy.state == CopyState.PENDING)
    )).all())


async def _release(work: Work, ann: Announcement, url: str | None, *, held: bool = False) -> int:
    """Queue every Matrix copy still waiting; returns how many DMs went out."""
    copies = await _waiting_copies(work, ann)
    recipients_by_id = await people.by_ids(work.session, {c.recipient_id for c in copies if c.recipient_id})
    dms = 0
    for c in copies:
        if c.channel is CopyChannel.MENTORS_ROOM:
            _queue_copy(work, c, Target.mentors(), ann, url=url, held=held,
                        relay_hint=ann.audience is Audience.MENTORS and not await celebrates(work.session, ann))
        else:
            _queue_copy(work, c, Target.dm(recipients_by_id[c.recipient_id].matrix_id), ann, url=url, held=held)
            dms += 1
    return dms


def _queue_copy(work: Work, c: AnnouncementCopy, target: Target, ann: Announcement, **how) -> None:
    txn_id = uuid.uuid4().hex
    work.emit(AnnouncementCopyDue(ann, target, txn_id, **how))
    c.state, c.sent_at, c.remote_id = CopyState.SENT, work.now, txn_id  # handed to the outbox, which sends it once


async def _hold_back(work: Work, ann: Announcement, why: str) -> None:
    for c in await _waiting_copies(work, ann):
        c.state, c.error = CopyState.FAILED, why


async def without_forum(work: Work) -> None:
    """No forum is configured (any more): topics still waiting will not be posted; send their Matrix copies."""
    waiting = (await work.session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.channel == CopyChannel.DISCOURSE,
                                       AnnouncementCopy.state == CopyState.PENDING)
    )).all()
    for copy in waiting:
        ann = await work.session.get(Announcement, copy.announcement_id)
        copy.state, copy.error = CopyState.FAILED, NO_FORUM
        sent = await _release(work, ann, None)
        work.emit(ForumRemoved(ann, sent))


async def next_attempt_at(session: Session) -> datetime | None:
    result = await session.exec(
        select(func.min(AnnouncementCopy.next_attempt_at))
        .where(AnnouncementCopy.channel == CopyChannel.DISCOURSE, AnnouncementCopy.state == CopyState.PENDING))
    return result.one()


# ---------------------------------------------------------------- a mentor passes it on


@dataclass(frozen=True)
class Relayed:
    ann: Announcement
    sent: int  # mentees who got it now
    had: int  # mentees who had it already


async def relay(work: Work, number: int, mentor: Person) -> Relayed:
    """Pass announcement ``number`` on to the mentor's mentees; refused until it reached the mentors room."""
    ann = await find(work, number)
    if ann.state is not AnnouncementState.CONFIRMED or not await released(work.session, ann):
        raise NotYetPublished(ann)
    if await celebrates(work.session, ann):
        raise NotForMentees(ann)
    sent, had = await relay_to_mentees(work, ann, mentor)
    return Relayed(ann, sent, had)


async def relay_to_mentees(work: Work, ann: Announcement, mentor: Person) -> tuple[int, int]:
    """DM ``ann`` to the mentor's active mentees who do not have it; returns (sent, already had it)."""
    mentees = await active_mentees(work.session, mentor.id)
    have = set((await work.session.exec(
        select(AnnouncementCopy.recipient_id).where(AnnouncementCopy.announcement_id == ann.id,
                                                    AnnouncementCopy.channel == CopyChannel.DM)
    )).all())
    url = await topic_url(work.session, ann.id)
    sent = 0
    for p in mentees:
        if p.id in have:
            continue
        c = AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.DM, recipient_id=p.id)
        work.session.add(c)
        _queue_copy(work, c, Target.dm(p.matrix_id), ann, url=url, shared_by=mentor)
        sent += 1
    if sent:
        audit.record(work.session, at=work.now, actor=mentor, entity="announcement", entity_id=ann.id,
                     action="relay", to_state=str(sent))
    return sent, len(mentees) - sent


async def celebrates(session: Session, ann: Announcement) -> bool:
    """Whether ``ann`` celebrates a mentee (see ``commands.services.recognition``)."""
    found = await session.exec(select(Nomination.id).where(Nomination.announcement_id == ann.id))
    return found.first() is not None


async def topic_url(session: Session, announcement_id: int) -> str | None:
    return (await session.exec(
        select(AnnouncementCopy.url).where(AnnouncementCopy.announcement_id == announcement_id,
                                           AnnouncementCopy.channel == CopyChannel.DISCOURSE)
    )).first()


async def released(session: Session, ann: Announcement) -> bool:
    """Whether the announcement's Matrix copies have gone out (so mentors may pass it on)."""
    state = (await session.exec(
        select(AnnouncementCopy.state).where(AnnouncementCopy.announcement_id == ann.id,
                                             AnnouncementCopy.channel == CopyChannel.MENTORS_ROOM)
    )).first()
    return state is CopyState.SENT


# ---------------------------------------------------------------- where each copy stands


@dataclass(frozen=True)
class CopyStanding:
    """Where a Matrix copy stands: ``state`` is sent, waiting, failed or not sent (no copy).

    ``for_topic``: it waits for the forum topic; ``error``: why it failed (None: the outbox
    could not deliver it and does not say why)."""

    state: str
    for_topic: bool = False
    error: str | None = None


NOT_SENT = CopyStanding("not sent")


@dataclass
class Standing:
    ann: Announcement
    forum: AnnouncementCopy | None
    room: CopyStanding
    dms_sent: int
    dms_waiting: int
    dms_failed: int


async def recent(session: Session, limit: int = 10) -> list[Standing]:
    anns = list((await session.exec(select(Announcement).order_by(Announcement.id.desc()).limit(limit))).all())
    out = []
    for ann in anns:
        copies = list((await session.exec(
            select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == ann.id))).all())
        txns = [c.remote_id for c in copies if c.channel is not CopyChannel.DISCOURSE and c.remote_id]
        rows = {}
        if txns:
            for r in (await session.exec(select(OutboxMessage).where(OutboxMessage.txn_id.in_(txns)))).all():
                rows[r.txn_id] = r
        forum = next((c for c in copies if c.channel is CopyChannel.DISCOURSE), None)
        room, counts = NOT_SENT, {"sent": 0, "waiting": 0, "failed": 0}
        for c in copies:
            if c.channel is CopyChannel.DISCOURSE:
                continue
            state = _matrix_state(c, rows.get(c.remote_id))
            if c.channel is CopyChannel.MENTORS_ROOM:
                room = state
            else:
                counts[state.state] += 1
        out.append(Standing(ann, forum, room, counts["sent"], counts["waiting"], counts["failed"]))
    return out


def _matrix_state(c: AnnouncementCopy, row: OutboxMessage | None) -> CopyStanding:
    if c.state is CopyState.FAILED:
        return CopyStanding("failed", error=c.error)
    if c.state is CopyState.PENDING:
        return CopyStanding("waiting", for_topic=True)
    if row is None or row.sent_at is not None:
        return CopyStanding("sent")
    if row.given_up:
        return CopyStanding("failed", error=row.last_error or None)
    return CopyStanding("waiting")


# ---------------------------------------------------------------- the forum relay


async def relay_window(session: Session) -> int | None:
    """The post id from which the relay reads again (None before its first look).

    Post ids are given out when a post is written but a post shows when it is
    committed, so a post may appear below the newest id already seen: the relay
    reads RELAY_OVERLAP ids below its mark again, and remembers which topics it has
    relayed. It never reads below its first look (the forum's history is not news).
    """
    mark, floor = await session.get(BotState, RELAY_MARK), await session.get(BotState, RELAY_FLOOR)
    if mark is None:
        return None
    return max(int(mark.value) - RELAY_OVERLAP, int(floor.value) if floor else 0)


async def relay_topics(work: Work, newest_post_id: int, topics: list[ForumTopic]) -> int:
    """Tell the mentors room about new forum topics and move the mark, in one transaction.

    ``topics`` are the topics of the relayed category seen since the window, already
    without the bot's own posts; ``newest_post_id`` is the newest post seen. Each
    topic is relayed once (a notice key per topic), however often it is seen.
    """
    row = await work.session.get(BotState, RELAY_MARK)
    if row is None:
        work.session.add(BotState(key=RELAY_MARK, value=str(newest_post_id)))
        work.session.add(BotState(key=RELAY_FLOOR, value=str(newest_post_id)))
        return 0  # the first look: the forum's history is not news
    lower = await relay_window(work.session)
    relayed = await _tell_mentors(work, [t for t in sorted(topics, key=lambda t: t.post_id) if t.post_id > lower])
    row.value = str(max(int(row.value), newest_post_id))
    return relayed


async def relay_pushed(work: Work, topic: ForumTopic) -> bool:
    """Tell the mentors room about a new topic the forum told the bot of at once (a webhook),
    unless it was relayed already; True when it is relayed now.

    The mark is left alone: the poll still reads every post from its own mark on, and skips
    a topic relayed here by its notice key, so a topic pushed out of order (12 before 11 has
    shown) hides nothing from the poll, and a topic both see is relayed once, in either order.
    """
    return await _tell_mentors(work, [topic]) == 1


async def _tell_mentors(work: Work, topics: list[ForumTopic]) -> int:
    """The topics not relayed yet, and not the bot's own announcements, relayed in one message
    (or one each) and remembered by a notice key per topic; returns how many."""
    if not topics:
        return 0
    ours = set((await work.session.exec(
        select(AnnouncementCopy.remote_id).where(AnnouncementCopy.channel == CopyChannel.DISCOURSE,
                                                 AnnouncementCopy.remote_id.is_not(None))
    )).all())
    fresh = [t for t in topics if str(t.topic_id) not in ours]
    relayed = await rules.seen_keys(work.session, [_topic_key(t) for t in fresh])
    new = [t for t in fresh if _topic_key(t) not in relayed]
    for t in new:
        work.session.add(ProgramNotice(key=_topic_key(t), sent_at=work.now))
    if new:
        work.emit(NewForumTopics(tuple(new)))
    return len(new)


def _topic_key(t: ForumTopic) -> str:
    return f"forum-topic:{t.topic_id}"
