"""Opportunities: a training, an event or an introduction a mentor shares with their mentees,
or the council with every mentee who lists a matching interest.

Each mentee gets an opportunity once: one ``OpportunityRecipient`` row per mentee, unique in
the database, written in the transaction that sends the message. The same link on the same
day is the same opportunity, whoever shares it, so a retry or a second share sends nothing
new to those who have it. An opportunity is over at the end of its day (in the zone its
date was read in): it is no longer listed, nor sent.

Who received what can tell a mentee's interests: it is never said in a shared room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from commands.clock import Dated
from commands.services import audit, mentorships, vocabulary
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from storage.models import Opportunity, OpportunityKind, OpportunityRecipient, Person, PersonTag, TagKind
from storage.session import Session

LISTED = 20  # open opportunities shown at once


# ---------------------------------------------------------------- refusals


@dataclass
class NoMenteesToShare(DomainError):
    """A mentor shared with all their mentees, and has none now."""


@dataclass
class NobodyWithInterest(DomainError):
    """No mentee lists ``interest``; ``close``: interests mentees do list that look like it."""

    interest: str
    close: tuple[str, ...]


@dataclass
class KnownAsOther(DomainError):
    """The link and day are opportunity ``existing`` already, of another kind: shared as that,
    the description would not match."""

    existing: Opportunity
    kind: OpportunityKind


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class OpportunityShared(Event):
    """``recipient`` is sent ``opportunity``, shared by ``by`` (a mentor or the council)."""

    opportunity: Opportunity
    recipient: Person
    by: Person
    as_council: bool


# ---------------------------------------------------------------- sharing


@dataclass(frozen=True)
class Shared:
    """What a share did: the opportunity, who was sent it now, how many had it already, and
    whether it was shared before with another description (``kept``: the first one stays)."""

    opportunity: Opportunity
    sent: tuple[Person, ...]
    had: int
    kept: bool


async def _opportunity(work: Work, author: Person, kind: OpportunityKind, what: str, url: str,
                       when: Dated) -> tuple[Opportunity, bool]:
    """The opportunity at ``url`` on ``when``: the one shared before, or a new one; and whether it
    was shared before with another description (the first is kept)."""
    found = (await work.session.exec(
        select(Opportunity).where(Opportunity.url == url, Opportunity.happens_at == when.at))).first()
    if found is not None:
        if found.kind is not kind:
            raise KnownAsOther(found, kind)
        return found, found.what != " ".join(what.split())
    opportunity = Opportunity(author_id=author.id, kind=kind, what=" ".join(what.split()), url=url,
                              happens_at=when.at, all_day=when.all_day, timezone=when.zone, expires_at=when.until,
                              created_at=work.now)
    work.session.add(opportunity)
    await work.session.flush()
    return opportunity, False


async def _send(work: Work, by: Person, kind: OpportunityKind, what: str, url: str, when: Dated,
                mentees: list[Person], *, as_council: bool) -> Shared:
    """Send the opportunity to each of ``mentees`` who does not have it; each once."""
    opportunity, kept = await _opportunity(work, by, kind, what, url, when)
    ids = [p.id for p in mentees]
    have = set((await work.session.exec(select(OpportunityRecipient.person_id).where(
        OpportunityRecipient.opportunity_id == opportunity.id, OpportunityRecipient.person_id.in_(ids))
    )).all()) if ids else set()
    sent: list[Person] = []
    for p in mentees:
        if p.id in have or p.id in {s.id for s in sent}:
            continue
        work.session.add(OpportunityRecipient(opportunity_id=opportunity.id, person_id=p.id, shared_by_id=by.id,
                                              created_at=work.now))
        work.emit(OpportunityShared(opportunity, p, by, as_council))
        sent.append(p)
    if sent:
        await work.session.flush()  # the unique (opportunity, person) holds here, whatever raced
        audit.record(work.session, at=work.now, actor=by, entity="opportunity", entity_id=opportunity.id,
                     action="shared", to_state=str(len(sent)))
    return Shared(opportunity, tuple(sent), len(mentees) - len(sent), kept)


async def share_with_mentees(work: Work, mentor: Person, to: str, kind: OpportunityKind, what: str, url: str,
                             when: Dated) -> Shared:
    """A mentor shares an opportunity with one of their mentees now (``to``: a Matrix ID), or with
    all of them (``to`` is ``mentees``). Refused for anyone who is not their mentee now."""
    if to == "mentees":
        mentees = [p for _, p in await mentorships.mentees_of(work.session, mentor.id)]
        if not mentees:
            raise NoMenteesToShare()
    else:
        mentee, _ = await mentorships.mentee_of(work, mentor, to)
        mentees = [mentee]
    return await _send(work, mentor, kind, what, url, when, mentees, as_council=False)


def normal_interest(text: str) -> str:
    """An interest as profiles store it: lower case, single spaces."""
    return vocabulary.plain_word(text)


async def share_by_interest(work: Work, member: Person, interest: str, kind: OpportunityKind, what: str, url: str,
                            when: Dated) -> Shared:
    """The council shares an opportunity with every mentee who lists ``interest`` in their profile."""
    wanted = vocabulary.canonical(interest, work.policy.skills) or normal_interest(interest)
    meaning = vocabulary.terms((wanted,), work.policy.skills)  # its synonyms too, stored before they were known
    mentees = list({p.id: p for p in (await work.session.exec(
        select(Person).join(PersonTag, PersonTag.person_id == Person.id)
        .where(PersonTag.kind == TagKind.INTEREST, PersonTag.value.in_(tuple(meaning)), Person.is_mentee.is_(True),
               Person.forgotten_at.is_(None))
        .order_by(Person.id))).all()}.values())
    if not mentees:
        raise NobodyWithInterest(wanted, await _interests_like(work.session, wanted))
    with work.in_bulk():  # possibly many: sent after the replies and reminders waiting now
        return await _send(work, member, kind, what, url, when, mentees, as_council=True)


async def _interests_like(session: Session, wanted: str) -> tuple[str, ...]:
    """Interests mentees list that contain the word asked for, or that it contains (at most 5)."""
    values = (await session.exec(
        select(PersonTag.value).join(Person, Person.id == PersonTag.person_id)
        .where(PersonTag.kind == TagKind.INTEREST, Person.is_mentee.is_(True)).distinct())).all()
    return tuple(sorted(v for v in values if wanted in v or v in wanted)[:5])


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Received:
    opportunity: Opportunity
    by: Person
    at: datetime


async def open_for(session: Session, person: Person, now: datetime) -> list[Received]:
    """The opportunities ``person`` was sent whose day is not over, soonest first."""
    rows = (await session.exec(
        select(Opportunity, OpportunityRecipient, Person)
        .join(OpportunityRecipient, OpportunityRecipient.opportunity_id == Opportunity.id)
        .join(Person, Person.id == OpportunityRecipient.shared_by_id)
        .where(OpportunityRecipient.person_id == person.id, Opportunity.expires_at > now)
        .order_by(Opportunity.happens_at, Opportunity.id).limit(LISTED))).all()
    return [Received(o, by, r.created_at) for o, r, by in rows]


def shared_count(start: datetime, end: datetime):
    """How many times an opportunity was sent to a mentee between ``start`` and ``end`` (a query)."""
    return select(func.count()).select_from(OpportunityRecipient).where(
        OpportunityRecipient.created_at >= start, OpportunityRecipient.created_at < end)
