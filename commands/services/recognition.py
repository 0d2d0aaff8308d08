"""Recognition: the council decides a mentor's nomination, the mentee consents (or not) to be
celebrated, and the celebration is published.

The nomination's reason is for the council alone and is never published: what may be
published is the council's own citation, shown first to the mentee exactly as it would
appear, and only once they said yes. The celebration is a council announcement for
mentors (``commands.services.announcements``): the mentors room, and a topic in the
forum's announcements category when a forum is configured, each posted once and retried.

Every decision is final: deciding or answering twice changes nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlmodel import select

from commands.kinds import RoomKind
from commands.services import announcements, audit, people, visibility
from commands.services.errors import DomainError
from commands.services.visibility import Reader
from commands.services.work import Event, Work
from storage.models import Announcement, Audience, Nomination, NominationState, Person

COUNCIL = frozenset({Reader.COUNCIL})
SHOWN = 20  # nominations listed at once


# ---------------------------------------------------------------- refusals


@dataclass
class NoSuchNomination(DomainError):
    number: int


@dataclass
class AlreadyDecided(DomainError):
    """Nomination ``nomination`` is decided already (its state says how); a decision is final."""

    nomination: Nomination
    nominee: Person


@dataclass
class NomineeForgotten(DomainError):
    """The nominee asked to be forgotten: they cannot be celebrated."""

    nomination: Nomination


@dataclass
class NothingToAnswer(DomainError):
    """The mentee has no celebration waiting for their answer (``number``: the one they named)."""

    number: int | None


@dataclass
class AlreadyAnswered(DomainError):
    """The mentee answered this one already (``nomination.state``: celebrated or private)."""

    nomination: Nomination


@dataclass
class WhichOne(DomainError):
    """Several celebrations wait for the mentee's answer: they must say which."""

    outcome = "usage"
    numbers: tuple[int, ...]


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class ConsentAsked(Event):
    """The council accepted ``nomination``: its nominee is asked whether it may be celebrated
    publicly, and shown the title and the citation exactly as they would be published."""

    nomination: Nomination
    nominee: Person


@dataclass(frozen=True)
class NominatorTold(Event):
    """How the nominating mentor's nomination ended (``nomination.state``: declined by the council,
    kept private by the mentee, or celebrated as ``announcement``). ``nominator`` None: they were
    forgotten, and nobody is told."""

    nomination: Nomination
    nominator: Person | None
    nominee: Person
    announcement: Announcement | None = None


# ---------------------------------------------------------------- the council decides


async def find(work: Work, number: int) -> Nomination:
    nomination = await work.session.get(Nomination, number)
    if nomination is None:
        raise NoSuchNomination(number)
    return nomination


async def _pending(work: Work, number: int) -> tuple[Nomination, Person]:
    """Nomination ``number`` and its nominee, still to be decided; refused otherwise."""
    nomination = await find(work, number)
    nominee = await people.by_ids(work.session, [nomination.nominee_id])
    if nomination.state is not NominationState.PENDING:
        raise AlreadyDecided(nomination, nominee[nomination.nominee_id])
    return nomination, nominee[nomination.nominee_id]


def _decided(work: Work, nomination: Nomination, by: Person, state: NominationState) -> None:
    before = nomination.state.value
    nomination.state, nomination.decided_at, nomination.decided_by_id = state, work.now, by.id
    audit.record(work.session, at=work.now, actor=by, entity="nomination", entity_id=nomination.id,
                 action=state.value, from_state=before, to_state=state.value)


async def _nominator(work: Work, nomination: Nomination) -> Person | None:
    """The mentor who nominated, unless they asked to be forgotten (then nobody is told)."""
    found = (await people.by_ids(work.session, [nomination.nominator_id]))[nomination.nominator_id]
    return None if found.forgotten_at is not None else found


async def accept(work: Work, number: int, by: Person, citation: str) -> tuple[Nomination, Person]:
    """The council accepts nomination ``number`` with the ``citation`` it would publish; the
    mentee is asked for their consent. Refused when it is decided already, when the mentee was
    forgotten, or when the forum would not take the citation."""
    nomination, nominee = await _pending(work, number)
    if nominee.forgotten_at is not None:
        raise NomineeForgotten(nomination)
    citation = citation.strip()
    announcements.check_length("citation", citation, announcements.MIN_BODY, announcements.MAX_BODY)
    nomination.citation = citation
    _decided(work, nomination, by, NominationState.ACCEPTED)
    work.emit(ConsentAsked(nomination, nominee))
    return nomination, nominee


async def decline(work: Work, number: int, by: Person) -> tuple[Nomination, Person]:
    """The council declines nomination ``number``; the nominating mentor is told."""
    nomination, nominee = await _pending(work, number)
    _decided(work, nomination, by, NominationState.DECLINED)
    work.emit(NominatorTold(nomination, await _nominator(work, nomination), nominee))
    return nomination, nominee


# ---------------------------------------------------------------- the mentee answers


async def _waiting_for(work: Work, me: Person, number: int | None) -> Nomination:
    """The accepted nomination of ``me`` that waits for their answer (``number``, or the only one)."""
    if number is not None:
        nomination = await work.session.get(Nomination, number)
        if nomination is None or nomination.nominee_id != me.id:
            raise NothingToAnswer(number)  # someone else's is not theirs to know of
        if nomination.state in (NominationState.CELEBRATED, NominationState.PRIVATE):
            raise AlreadyAnswered(nomination)
        if nomination.state is not NominationState.ACCEPTED:
            raise NothingToAnswer(number)
        return nomination
    waiting = (await work.session.exec(select(Nomination).where(
        Nomination.nominee_id == me.id, Nomination.state == NominationState.ACCEPTED).order_by(Nomination.id))).all()
    if len(waiting) > 1:
        raise WhichOne(tuple(n.id for n in waiting))
    if not waiting:
        last = (await work.session.exec(select(Nomination).where(
            Nomination.nominee_id == me.id, Nomination.answered_at.is_not(None))
            .order_by(Nomination.answered_at.desc()))).first()
        if last is not None:
            raise AlreadyAnswered(last)
        raise NothingToAnswer(None)
    return waiting[0]


async def consent(work: Work, me: Person, number: int | None,
                  title: Callable[[Nomination, Person], str]) -> Announcement:
    """The mentee says yes: the celebration (``title`` and the citation, as they were shown) is
    published to the mentors room and the forum; the nominating mentor is told."""
    nomination = await _waiting_for(work, me, number)
    nomination.state, nomination.answered_at = NominationState.CELEBRATED, work.now
    council = (await people.by_ids(work.session, [nomination.decided_by_id]))[nomination.decided_by_id]
    draft = await announcements.draft(work, council, Audience.MENTORS, title(nomination, me), nomination.citation)
    nomination.announcement_id = draft.ann.id
    audit.record(work.session, at=work.now, actor=me, entity="nomination", entity_id=nomination.id,
                 action="consented", from_state=NominationState.ACCEPTED.value,
                 to_state=NominationState.CELEBRATED.value)
    await announcements.publish(work, draft.ann, council)
    work.emit(NominatorTold(nomination, await _nominator(work, nomination), me, draft.ann))
    return draft.ann


async def keep_private(work: Work, me: Person, number: int | None) -> Nomination:
    """The mentee says no: nothing is published; the nominating mentor is told, without a reason."""
    nomination = await _waiting_for(work, me, number)
    nomination.state, nomination.answered_at = NominationState.PRIVATE, work.now
    audit.record(work.session, at=work.now, actor=me, entity="nomination", entity_id=nomination.id,
                 action="kept_private", from_state=NominationState.ACCEPTED.value,
                 to_state=NominationState.PRIVATE.value)
    work.emit(NominatorTold(nomination, await _nominator(work, nomination), me))
    return nomination


# ---------------------------------------------------------------- the council's list


@dataclass(frozen=True)
class NominationShown:
    nomination: Nomination
    nominee: Person
    nominator: Person
    reason: str | None  # None when it may not be read where it is asked for
    citation: str | None  # likewise


async def recent(work: Work, room: RoomKind) -> list[NominationShown]:
    """The latest nominations, newest first, each with its state; the reason and the citation
    as far as the council may read them in ``room``."""
    rows = (await work.session.exec(select(Nomination).order_by(Nomination.id.desc()).limit(SHOWN))).all()
    reason = visibility.may_read("nomination.reason", COUNCIL, room)
    citation = visibility.may_read("nomination.citation", COUNCIL, room)
    named = await people.by_ids(work.session, {i for n in rows for i in (n.nominee_id, n.nominator_id)})
    return [NominationShown(n, named[n.nominee_id], named[n.nominator_id], n.reason if reason and n.reason else None,
                            n.citation if citation and n.citation else None) for n in rows]
