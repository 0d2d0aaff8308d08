"""Program work that runs by itself when its time comes, not because someone typed a command.

The database says what is due, so running a job twice, late, or after a restart
does the right thing: each item is handled once, in the transaction that records
it as handled.

Work that talks to the forum spans several transactions, because a call to the
forum may take a while and must not hold one open: it is given a :class:`Forum`
and a ``run`` that does one unit of work in one transaction (committed, and what
it decided to send handed to the outbox), and returns each :class:`Result`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Awaitable, Callable

from commands.dispatcher import Result
from commands.services import agreements, announcements, checkins, conversations, privacy, reviews, rules
from commands.services.announcements import Claim
from commands.services.forum import Forum, ForumTopic, TopicOutcome, new_topics, posts_since
from commands.policy import ProgramPolicy
from commands.services.work import Work
from storage.session import Session
from commands.words import announcements as said

log = logging.getLogger(__name__)

Job = Callable[[Work], Awaitable[object]]
RunJob = Callable[[str, Job], Awaitable[Result]]  # one unit of work in one transaction


async def reminders(work: Work) -> int:
    """One batch of the reminders that have come due; returns how many were settled."""
    return await checkins.send_due_reminders(work)


def lateness(work: Work) -> list[float]:
    """How late each reminder that ``work`` sends goes out: seconds after it was due."""
    return [(work.now - event.due_at).total_seconds() for event in work.events
            if isinstance(event, (checkins.ReminderDue, checkins.GroupReminderDue)) and event.due_at is not None]


async def program_rules(work: Work) -> None:
    """Escalations, overdue meetings, deadlines, the end of commitments, feedback rounds,
    the weekly digest, the monthly report, the agreement's follow-up, the reviews, and once
    a day the retention policy; guided conversations left unanswered for a day are forgotten."""
    await rules.run(work)
    await conversations.forget_expired(work)
    with work.in_bulk():
        await agreements.ask_followups(work)
        await reviews.propose(work)
    await privacy.expire_daily(work)


async def next_due(session: Session, now: datetime, policy: ProgramPolicy) -> datetime | None:
    """The earliest time after ``now`` at which some program rule comes due."""
    times = [await rules.next_due(session, now, policy),
             await agreements.next_followup(session, now, policy.followup_days),
             await reviews.next_proposal(session, now, policy.final_review_days)]
    ahead = [t for t in times if t is not None and t > now]
    return min(ahead) if ahead else None


async def publish_announcements(forum: Forum, run: RunJob) -> list[Result]:
    """Post the announcement topics that are due, one at a time, and record each outcome;
    returns the results of the records.

    The call to the forum happens outside any transaction (it may take a while, and
    commands go on meanwhile): the topic is claimed first, posted, then recorded.
    """
    results: list[Result] = []
    while True:
        claimed: list[Claim] = []
        texts: list[str] = []

        async def take(work: Work) -> None:
            claim = await announcements.claim_next(work)
            if claim is not None:
                claimed.append(claim)
                # Written here, in the program's language, as everything posted to the forum is.
                texts.append(said.topic_text(claim))

        taken = await run("announcements", take)
        if taken.outcome != "ok" or not claimed:
            return results
        claim = claimed[0]
        outcome = await forum.publish(title=claim.title, raw=texts[0], external_id=claim.external_id,
                                      maybe_posted=claim.maybe_posted)
        log.info("announcement %s, try %s: %s", claim.announcement_id,
                 "again" if claim.maybe_posted else "first", type(outcome).__name__.lower())

        async def record(work: Work, claim: Claim = claim, outcome: TopicOutcome = outcome) -> None:
            await announcements.record(work, claim, outcome)

        results.append(await run("announcement outcome", record))


async def relay_forum(forum: Forum, run: RunJob, *, category: int, own_username: str) -> Result:
    """Relay the forum's new topics in ``category`` to the mentors room, each once.

    The newest posts are read page by page back to the stored mark, outside any
    transaction; then the notices and the new mark are stored together. The first
    look only sets the mark. A forum that cannot be read is tried again at the next poll.
    """
    window: list[int | None] = []

    async def look(work: Work) -> None:
        window.append(await announcements.relay_window(work.session))

    looked = await run("forum relay", look)
    if looked.outcome != "ok":
        return looked
    lower = window[0]
    try:
        seen = await posts_since(forum, lower)
    except Exception as exc:  # noqa: BLE001 - the next poll tries again
        log.warning("forum relay: could not read new posts (%s); trying again at the next poll", type(exc).__name__)
        return Result("failed", [], "forum relay")
    newest = max((p.id for p in seen), default=lower or 0)
    topics = new_topics(seen, category, own_username)

    async def relay(work: Work) -> None:
        await announcements.relay_topics(work, newest, topics)

    return await run("forum relay", relay)


async def relay_pushed(topic: ForumTopic, run: RunJob) -> Result:
    """Relay a new topic the forum told the bot of at once (a webhook), unless it was relayed
    already (by the poll, or by the same news told twice): the result's messages are empty then."""

    async def relay(work: Work) -> None:
        await announcements.relay_pushed(work, topic)

    return await run("forum relay", relay)
