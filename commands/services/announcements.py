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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands import text
from commands.services.work import Work
from commands.framework import RoomKind
from commands.messages import Outgoing, Target
from commands.services import audit, people, rules
from commands.services.forum import ForumTopic, Held, Posted, Refused, TopicOutcome
from commands.text import Msg, bold, lines
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
    OutboxMessage,
    Person,
    ProgramNotice,
)

MIN_TITLE, MAX_TITLE = 15, 255  # Discourse's default limits for a topic title
MIN_BODY, MAX_BODY = 20, 1800  # Discourse's least post length; the most a chat message carries well
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
GIVE_UP_AFTER = timedelta(hours=24)  # then the Matrix copies go out without a forum link
RELAY_MARK = "discourse:relay-mark"  # the newest post id the relay has seen
RELAY_FLOOR = "discourse:relay-floor"  # the newest post id at the relay's first look
RELAY_OVERLAP = 50  # post ids below the mark read again, for posts that showed late
RELAY_ONE_BY_ONE = 3  # more new topics than this at once are listed, RELAY_LISTED a message
RELAY_LISTED = 10
_COUNCIL = RoomKind.COUNCIL
AUDIENCE_WORDS = {Audience.MENTORS: "mentors", Audience.MENTEES: "mentees", Audience.ALL: "everyone"}


# ---------------------------------------------------------------- what is posted


@dataclass(frozen=True)
class Claim:
    """One Discourse topic to post now."""

    copy_id: int
    announcement_id: int
    external_id: str
    title: str
    raw: str
    maybe_posted: bool  # an earlier try may have created the topic


# ---------------------------------------------------------------- drafting


def check_title(title: str) -> str | None:
    if len(title) < MIN_TITLE:
        return f"The title is {len(title)} characters; the forum needs at least {MIN_TITLE}. Say a little more."
    if len(title) > MAX_TITLE:
        return f"The title is {len(title)} characters; the forum takes at most {MAX_TITLE}."
    return None


def check_body(body: str) -> str | None:
    if len(body) < MIN_BODY:
        return f"The text is {len(body)} characters; the forum needs at least {MIN_BODY}."
    if len(body) > MAX_BODY:
        return f"The text is {len(body):,} characters; keep an announcement under {MAX_BODY:,} and link to more."
    return None


def draft(work: Work, author: Person, audience: Audience, title: str, body: str) -> Announcement:
    ann = Announcement(author_id=author.id, audience=audience, title=title, body=body,
                       external_id=f"mentorbot-{uuid.uuid4().hex[:24]}", created_at=work.now)
    work.session.add(ann)
    return ann


async def get(session: AsyncSession, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def active_mentees(session: AsyncSession, mentor_id: int | None = None) -> list[Person]:
    query = (select(Person).join(Mentorship, Mentorship.mentee_id == Person.id)
             .where(Mentorship.state == MentorshipState.ACTIVE).order_by(Person.id))
    if mentor_id is not None:
        query = query.where(Mentorship.mentor_id == mentor_id)
    return list((await session.exec(query)).all())


async def reach(session: AsyncSession, audience: Audience) -> int:
    """How many mentees get a DM copy."""
    if audience is Audience.MENTORS:
        return 0
    return int((await session.exec(people.ACTIVE_MENTORSHIPS)).one())


def topic_text(ann: Announcement, program: str) -> str:
    """The topic's body: the council's Markdown as written, and a short footer."""
    return f"{ann.body}\n\n---\n*Announcement from the council of {program}, for {AUDIENCE_WORDS[ann.audience]}.*"


def as_message(ann: Announcement, url: str | None, *, held: bool = False, shared_by: Person | None = None,
               relay_hint: Msg | None = None) -> Msg:
    """A Matrix copy: title, the body (Markdown rendered, any HTML in it shown as text) and the link."""
    if shared_by is not None:
        head = Msg("Your mentor ", text.person(shared_by.matrix_id, people.name_of(shared_by)),
                   f" passes on announcement #{ann.id} from the council: ", bold(ann.title))
    else:
        head = Msg(f"📣 Announcement #{ann.id} from the council, for {AUDIENCE_WORDS[ann.audience]}: ", bold(ann.title))
    if url:
        where = Msg("Read and discuss it on the forum: ", text.link(url))
    elif held:
        where = Msg("The forum copy is waiting for a moderator's approval.")
    else:
        where = None
    return lines(head, text.markdown(ann.body), where, relay_hint)


# ---------------------------------------------------------------- publishing


async def publish(work: Work, ann: Announcement, by: Person) -> int:
    """Confirm ``ann``: create its copies; returns how many mentees get a DM.

    With a forum, the Matrix copies wait for the topic; without one they are queued now.
    """
    ann.state = AnnouncementState.CONFIRMED
    ann.confirmed_at, ann.confirmed_by_id = work.now, by.id
    audit.record(work.session, at=work.now, actor=by, entity="announcement", entity_id=ann.id,
                 action="confirm", from_state="draft", to_state="confirmed")
    copies = [AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.MENTORS_ROOM)]
    mentees = [] if ann.audience is Audience.MENTORS else await active_mentees(work.session)
    copies += [AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.DM, recipient_id=p.id) for p in mentees]
    if work.forum is not None:
        copies.append(AnnouncementCopy(announcement_id=ann.id, channel=CopyChannel.DISCOURSE, next_attempt_at=work.now))
        work.announced = True
    work.session.add_all(copies)
    await work.session.flush()
    if work.forum is None:
        await _release(work, ann, None)
    return len(mentees)


def cancel(work: Work, ann: Announcement, by: Person) -> None:
    ann.state = AnnouncementState.CANCELLED
    audit.record(work.session, at=work.now, actor=by, entity="announcement", entity_id=ann.id,
                 action="cancel", from_state="draft", to_state="cancelled")


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
    return Claim(copy.id, ann.id, ann.external_id, ann.title, topic_text(ann, work.policy.name),
                 maybe_posted=copy.attempts > 1)


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 10)), LONGEST_WAIT)


async def record(work: Work, claim: Claim, outcome: TopicOutcome) -> None:
    """What became of a claimed topic: release the Matrix copies, or plan the next try, or tell the council."""
    copy = await work.session.get(AnnouncementCopy, claim.copy_id)
    ann = await work.session.get(Announcement, claim.announcement_id)
    if copy is None or copy.state is not CopyState.PENDING:
        return  # recorded already
    confirmer = await work.session.get(Person, ann.confirmed_by_id) if ann.confirmed_by_id else None
    tell = Msg(text.mention(confirmer.matrix_id, people.name_of(confirmer)), ": ") if confirmer else Msg()
    notify = confirmer is not None  # the outcome is addressed to the member who confirmed it
    if isinstance(outcome, Posted):
        copy.state, copy.sent_at, copy.error = CopyState.SENT, work.now, None
        copy.remote_id = str(outcome.topic_id) if outcome.topic_id is not None else None
        copy.url = outcome.url
        sent = await _release(work, ann, outcome.url)
        if outcome.url:
            where = Msg(f"announcement #{ann.id} is on the forum: ", text.link(outcome.url), ".")
        else:
            where = Msg(f"announcement #{ann.id} is out (its forum topic was only printed: no forum is configured).")
        work.send(Target.council(), Msg(tell, where, f" Sent to the mentors room{_and_dms(sent)}."), notify=notify)
    elif isinstance(outcome, Held):
        copy.state, copy.sent_at, copy.error = CopyState.ENQUEUED, work.now, None
        sent = await _release(work, ann, None, held=True)
        work.send(Target.council(), Msg(
            tell, f"Discourse is holding announcement #{ann.id} for a moderator's approval; once approved it "
            f"appears in the forum category. Sent to the mentors room{_and_dms(sent)}, without a forum link."), notify=notify)
    elif isinstance(outcome, Refused):
        copy.state, copy.error = CopyState.FAILED, outcome.message
        await _hold_back(work, ann, "not sent: Discourse refused the topic")
        work.send(Target.council(), Msg(
            tell, f"Discourse refused announcement #{ann.id} (", bold(ann.title), "): ", outcome.message,
            ". Nothing was sent to Matrix. Fix it and send ",
            work.typed("announce <audience> <title> | <text>", _COUNCIL), " again.",
            _refusal_hint(outcome)), notify=notify)
    else:
        copy.error = outcome.message
        waited = work.now - (ann.confirmed_at or work.now)
        if waited >= GIVE_UP_AFTER:
            copy.state = CopyState.FAILED
            sent = await _release(work, ann, None)
            work.send(Target.council(), Msg(
                tell, f"Discourse has been unavailable for {waited.days * 24 + waited.seconds // 3600} hours "
                f"({outcome.message}), so announcement #{ann.id} went to the mentors room{_and_dms(sent)} without a "
                "forum link. When the forum is back, look for the topic first (an earlier try may have got through "
                f"before the answer was lost: its external id is {ann.external_id}); if it is not there, post it by "
                "hand."), notify=notify)
        else:
            wait = _backoff(copy.attempts)
            if outcome.retry_after:
                wait = max(wait, timedelta(seconds=outcome.retry_after))
            copy.next_attempt_at = work.now + wait
            if copy.attempts == 1:
                work.send(Target.council(), Msg(
                    tell, f"Discourse is not taking announcement #{ann.id} right now ({outcome.message}). I keep trying "
                    "for up to a day; the Matrix copies go out with the forum link once the topic is up. ",
                    work.typed("announcements", _COUNCIL), " shows where it stands."), notify=notify)


def _and_dms(sent: int) -> str:
    return f" and to {sent} mentee{'s' if sent != 1 else ''} by DM" if sent else ""


def _refusal_hint(outcome: Refused) -> str:
    if outcome.status == 403:
        return " (The API key or its user is not accepted: check [discourse] api_key and api_username.)"
    if outcome.status == 400:
        return " (Check [discourse] announcements_category: it should be the number of an existing category.)"
    return ""


async def _release(work: Work, ann: Announcement, url: str | None, *, held: bool = False) -> int:
    """Queue every Matrix copy still waiting; returns how many DMs went out."""
    copies = list((await work.session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == ann.id,
                                       AnnouncementCopy.channel != CopyChannel.DISCOURSE,
                                       AnnouncementCopy.state == CopyState.PENDING)
    )).all())
    recipients = await _people(work.session, {c.recipient_id for c in copies if c.recipient_id})
    hint = None
    if ann.audience is Audience.MENTORS:
        hint = Msg("Mentors: send ", work.typed(f"relay {ann.id}", RoomKind.MENTORS), " to pass it on to your mentees.")
    dms = 0
    for c in copies:
        if c.channel is CopyChannel.MENTORS_ROOM:
            target = Target.mentors()
            msg = as_message(ann, url, held=held, relay_hint=hint)
        else:
            person = recipients[c.recipient_id]
            target = Target.dm(person.matrix_id)
            msg = as_message(ann, url, held=held)
            dms += 1
        _queue_copy(work, c, target, msg)
    return dms


def _queue_copy(work: Work, c: AnnouncementCopy, target: Target, msg: Msg) -> None:
    txn_id = uuid.uuid4().hex
    # A copy in someone's DM is meant for them: it notifies; the mentors room's copy is ambient.
    work.outbox.append(Outgoing(target, msg, txn_id=txn_id, notify=target.room is RoomKind.DM))
    c.state, c.sent_at, c.remote_id = CopyState.SENT, work.now, txn_id  # handed to the outbox, which sends it once


async def _hold_back(work: Work, ann: Announcement, why: str) -> None:
    copies = (await work.session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == ann.id,
                                       AnnouncementCopy.channel != CopyChannel.DISCOURSE,
                                       AnnouncementCopy.state == CopyState.PENDING)
    )).all()
    for c in copies:
        c.state, c.error = CopyState.FAILED, why


async def _people(session: AsyncSession, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await session.exec(select(Person).where(Person.id.in_(ids)))
    return {p.id: p for p in rows.all()}


async def without_forum(work: Work) -> None:
    """No forum is configured (any more): topics still waiting will not be posted; send their Matrix copies."""
    waiting = (await work.session.exec(
        select(AnnouncementCopy).where(AnnouncementCopy.channel == CopyChannel.DISCOURSE,
                                       AnnouncementCopy.state == CopyState.PENDING)
    )).all()
    for copy in waiting:
        ann = await work.session.get(Announcement, copy.announcement_id)
        copy.state, copy.error = CopyState.FAILED, "no forum is configured any more"
        sent = await _release(work, ann, None)
        work.send(Target.council(), Msg(
            f"Announcement #{ann.id} was waiting for the forum, which is no longer configured: it went to the "
            f"mentors room{_and_dms(sent)} without a forum link."))


async def next_attempt_at(session: AsyncSession) -> datetime | None:
    result = await session.exec(
        select(func.min(AnnouncementCopy.next_attempt_at))
        .where(AnnouncementCopy.channel == CopyChannel.DISCOURSE, AnnouncementCopy.state == CopyState.PENDING))
    return result.one()


# ---------------------------------------------------------------- a mentor passes it on


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
        _queue_copy(work, c, Target.dm(p.matrix_id), as_message(ann, url, shared_by=mentor))
        sent += 1
    if sent:
        audit.record(work.session, at=work.now, actor=mentor, entity="announcement", entity_id=ann.id,
                     action="relay", to_state=str(sent))
    return sent, len(mentees) - sent


async def topic_url(session: AsyncSession, announcement_id: int) -> str | None:
    return (await session.exec(
        select(AnnouncementCopy.url).where(AnnouncementCopy.announcement_id == announcement_id,
                                           AnnouncementCopy.channel == CopyChannel.DISCOURSE)
    )).first()


async def released(session: AsyncSession, ann: Announcement) -> bool:
    """Whether the announcement's Matrix copies have gone out (so mentors may pass it on)."""
    state = (await session.exec(
        select(AnnouncementCopy.state).where(AnnouncementCopy.announcement_id == ann.id,
                                             AnnouncementCopy.channel == CopyChannel.MENTORS_ROOM)
    )).first()
    return state is CopyState.SENT


# ---------------------------------------------------------------- where each copy stands


@dataclass
class Standing:
    ann: Announcement
    forum: AnnouncementCopy | None
    room: str  # sent, waiting, failed: why
    dms_sent: int
    dms_waiting: int
    dms_failed: int


async def recent(session: AsyncSession, limit: int = 10) -> list[Standing]:
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
        room, counts = "not sent", {"sent": 0, "waiting": 0, "failed": 0}
        for c in copies:
            if c.channel is CopyChannel.DISCOURSE:
                continue
            state = _matrix_state(c, rows.get(c.remote_id))
            if c.channel is CopyChannel.MENTORS_ROOM:
                room = state
            else:
                counts[state.split(":")[0]] += 1
        out.append(Standing(ann, forum, room, counts["sent"], counts["waiting"], counts["failed"]))
    return out


def _matrix_state(c: AnnouncementCopy, row: OutboxMessage | None) -> str:
    if c.state is CopyState.FAILED:
        return f"failed: {c.error}"
    if c.state is CopyState.PENDING:
        return "waiting: for the forum topic"
    if row is None or row.sent_at is not None:
        return "sent"
    if row.given_up:
        return f"failed: {row.last_error or 'could not be delivered'}"
    return "waiting"


# ---------------------------------------------------------------- the forum relay


async def relay_window(session: AsyncSession) -> int | None:
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
    ours = set((await work.session.exec(
        select(AnnouncementCopy.remote_id).where(AnnouncementCopy.channel == CopyChannel.DISCOURSE,
                                                 AnnouncementCopy.remote_id.is_not(None))
    )).all())
    fresh = [t for t in sorted(topics, key=lambda t: t.post_id) if t.post_id > lower and str(t.topic_id) not in ours]
    relayed = await rules.seen_keys(work.session, [_topic_key(t) for t in fresh])
    new = [t for t in fresh if _topic_key(t) not in relayed]
    for t in new:
        work.session.add(ProgramNotice(key=_topic_key(t), sent_at=work.now))
    if len(new) <= RELAY_ONE_BY_ONE:
        for t in new:
            work.send(Target.mentors(), lines(
                Msg("💬 New on the forum: ", bold(t.title), f" by {t.author}"),
                Msg(t.excerpt) if t.excerpt else None,
                Msg(text.link(t.url)),
            ))
    else:  # a flood (after downtime, say) is listed, not posted topic by topic
        chunks = [new[i:i + RELAY_LISTED] for i in range(0, len(new), RELAY_LISTED)]
        for number, chunk in enumerate(chunks, start=1):
            part = f" ({number} of {len(chunks)})" if len(chunks) > 1 else ""
            work.send(Target.mentors(), lines(
                Msg(f"💬 {len(new)} new topics on the forum{part}:"),
                *(Msg("• ", bold(t.title), f" by {t.author}: ", text.link(t.url)) for t in chunk),
            ))
    row.value = str(max(int(row.value), newest_post_id))
    return len(new)


def _topic_key(t: ForumTopic) -> str:
    return f"forum-topic:{t.topic_id}"
