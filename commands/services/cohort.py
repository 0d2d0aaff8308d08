"""Cohort matching: the council assigns every open request at once, for the best total fit.

Matching one request at a time (``mentorships.propose_next``) gives the first requests the
best mentors; when many arrive together, the later ones get what is left. Here the council
asks for a proposal that assigns all of them together: each request to at most one mentor,
no mentor beyond their free places, and the sum of the fits as high as it can be. The fit
of a pair is ``matching.score``'s, the same as one at a time, with the mentor's load at the
place they fill; the mentors a request may go to are those ``matching.available_mentors``
lets through and ``matching.excluded_for`` does not exclude. The assignment is solved
exactly (SciPy's ``linear_sum_assignment``) on a table with a column for each free place
of each mentor; as many requests as can be matched are, and among those assignments the
one with the highest total is chosen.

A proposal is stored and sends nothing. When the council confirms it, each pair is
checked again (the request still open, the mentor still available with a free place and
not having declined it) and offered exactly as one-at-a-time matching offers a request;
the mentor accepts or declines as usual. Offers sent by a confirmed cohort and still
unanswered hold their mentor's place: a later proposal leaves those requests and places
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from commands.services import audit, matching, mentorships, people, vocabulary
from commands.services.errors import DomainError
from commands.services.matching import Match, Wishes
from commands.services.work import Event, Work
from storage.models import (
    OPEN_REQUEST_STATES,
    CohortPair,
    CohortProposal,
    CohortState,
    MentorRequest,
    Person,
    RequestDecline,
    RequestState,
    TagKind,
)
from storage.session import Session

if TYPE_CHECKING:
    import numpy as np

# NumPy and SciPy are imported by the functions that solve, not with this module: a bot
# that never matches a cohort never loads them (tens of megabytes, a second at start-up).

# What came of a pair when the council confirmed.
OFFERED = "offered"  # the mentor was asked, as one at a time asks
KEPT = "kept"  # the request was already offered to this very mentor: nothing sent again
TAKEN = "taken"  # someone took the request meanwhile
WITHDRAWN = "withdrawn"  # the mentee took it back meanwhile
UNAVAILABLE = "unavailable"  # the mentor left the roster, went away or became inactive
DECLINED = "declined"  # the mentor declined this request meanwhile
FULL = "full"  # the mentor has no free place left
HOLDING = (OFFERED, KEPT)  # outcomes whose offer, while unanswered, holds the mentor's place

FORBIDDEN = 1e9  # the cost of a pair that may not be made: more than any total of fits


# ---------------------------------------------------------------- events and refusals


@dataclass(frozen=True)
class OfferMoved(Event):
    """The council's cohort gave a request offered to ``mentor`` to another mentor."""

    request_id: int
    mentor: Person


@dataclass
class NoOpenRequests(DomainError):
    """No open request waits for a mentor (``held``: those whose cohort offer is unanswered)."""

    held: int


@dataclass
class NoFreePlaces(DomainError):
    """No available mentor has a free place for the ``requests`` waiting."""

    requests: int


@dataclass
class NothingToConfirm(DomainError):
    """No proposal waits for the council; ``last`` is the latest there was, if any."""

    last: CohortProposal | None


@dataclass
class NothingToCancel(DomainError):
    last: CohortProposal | None


@dataclass
class ProposalRace(DomainError):
    """Another council member's proposal was stored a moment ago (the database keeps one waiting)."""


# ---------------------------------------------------------------- who is in the cohort


@dataclass(frozen=True)
class Seeker:
    """An open request in the cohort, with what matching reads of its mentee."""

    request: MentorRequest
    mentee: Person
    wishes: Wishes
    excluded: frozenset[int]  # mentors it may not go to (``matching.excluded_for``)


@dataclass(frozen=True)
class Giver:
    """An available mentor with free places."""

    mentor: Person
    skills: frozenset[str]
    languages: tuple[str, ...]
    zone: str
    load: int  # mentees they have, and places promised to unanswered cohort offers
    free: int  # capacity minus load


@dataclass(frozen=True)
class Pair:
    seeker: Seeker
    giver: Giver | None  # None: left unmatched
    fit: float | None = None
    load: int | None = None  # the giver's load before this pair


@dataclass(frozen=True)
class Plan:
    pairs: tuple[Pair, ...]  # one per seeker, in queue order

    @property
    def total(self) -> float:
        return round(sum(p.fit for p in self.pairs if p.fit is not None), 6)

    @property
    def unmatched(self) -> int:
        return sum(1 for p in self.pairs if p.giver is None)


async def held_offers(session: Session) -> dict[int, int]:
    """Offers a confirmed cohort sent that are still unanswered: request id -> the mentor asked."""
    rows = (await session.exec(
        select(CohortPair.request_id, CohortPair.mentor_id)
        .join(MentorRequest, MentorRequest.id == CohortPair.request_id)
        .where(CohortPair.outcome.in_(HOLDING), MentorRequest.state.in_(OPEN_REQUEST_STATES),
               MentorRequest.proposed_to_id == CohortPair.mentor_id)
    )).all()
    return {request_id: mentor_id for request_id, mentor_id in rows}


def _promised(held: dict[int, int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for mentor_id in held.values():
        counts[mentor_id] = counts.get(mentor_id, 0) + 1
    return counts


async def gather(work: Work) -> tuple[list[Seeker], list[Giver], int]:
    """The open requests the cohort covers (queue order), the mentors with free places
    (by Matrix ID), and how many requests are left out because a cohort offer holds them."""
    session, now = work.session, work.now
    held = await held_offers(session)
    requests = list((await session.exec(
        select(MentorRequest).where(MentorRequest.state.in_(OPEN_REQUEST_STATES)).order_by(MentorRequest.id)
    )).all())
    requests = [r for r in requests if r.id not in held]
    promised = _promised(held)
    mentors = sorted((m for m in (await session.exec(
        select(Person).where(matching.available_mentors(now), Person.active_mentees < Person.capacity)
    )).all() if m.capacity - m.active_mentees - promised.get(m.id, 0) > 0), key=lambda m: m.matrix_id)
    mentee_ids = sorted({r.mentee_id for r in requests})
    mentees = {p.id: p for p in await _people(session, mentee_ids)}
    tags = await people.tags_of(session, sorted(set(mentee_ids) | {m.id for m in mentors}))
    declined: dict[int, set[int]] = {}
    for request_id, mentor_id in await _chunked(session, [r.id for r in requests], lambda ids: select(
            RequestDecline.request_id, RequestDecline.mentor_id).where(RequestDecline.request_id.in_(ids))):
        declined.setdefault(request_id, set()).add(mentor_id)
    seekers = []
    for r in requests:
        mentee = mentees[r.mentee_id]
        wishes = matching.wishes_from(mentee, tags[r.mentee_id], work.policy)
        seekers.append(Seeker(r, mentee, wishes, frozenset(matching.excluded_for(r, declined.get(r.id, set())))))
    givers = []
    for m in mentors:
        c = matching.candidate(m, tags[m.id], m.active_mentees + promised.get(m.id, 0), work.policy)
        givers.append(Giver(m, frozenset(c.skills), c.languages, c.zone, c.load, m.capacity - c.load))
    return seekers, givers, len(held)


async def _chunked(session: Session, ids: list[int], query) -> list:
    """The rows of ``query(some_ids)`` for all ``ids``, a few hundred at a time."""
    found: list = []
    for start in range(0, len(ids), 500):
        found += (await session.exec(query(ids[start:start + 500]))).all()
    return found


async def _people(session: Session, ids: list[int]) -> list[Person]:
    return await _chunked(session, ids, lambda some: select(Person).where(Person.id.in_(some)))


# ---------------------------------------------------------------- the two ways of matching


class Fits:
    """The fit of each request with each mentor at each of their free places, as a table of
    costs (the negated fits) with a column per place, mentors in the order given.

    Each pair comes down to a few terms (how many interests shared, a language shared or not,
    hours apart...) and there are few distinct sets of them, so ``matching.points``, the one
    formula, is worked out once per distinct set and load, and the table filled from those."""

    def __init__(self, seekers: list[Seeker], givers: list[Giver], now: datetime) -> None:
        import numpy as np

        self.seekers, self.givers = seekers, givers
        n, m = len(seekers), len(givers)
        self.capacity = [g.mentor.capacity for g in givers]
        self.base = [(g.load, g.free) for g in givers]
        self.points = lru_cache(maxsize=None)(matching.points)
        topics = _incidence([s.wishes.interests for s in seekers], [g.skills for g in givers])
        spoken = _incidence([[vocabulary.base_language(w) for w in s.wishes.languages] for s in seekers],
                            [[vocabulary.base_language(w) for w in g.languages] for g in givers])
        shared = topics[0] @ topics[1].T
        shares = (spoken[0] @ spoken[1].T) > 0
        speaks = spoken[1].sum(axis=1) > 0
        wants = spoken[0].sum(axis=1) > 0
        zones = sorted({s.wishes.zone for s in seekers} | {g.zone for g in givers})
        at = {z: k for k, z in enumerate(zones)}
        table = np.array([[matching.hours_apart(a, b, now) for b in zones] for a in zones], dtype=np.int64)
        apart = table[np.array([at[s.wishes.zone] for s in seekers], dtype=np.int64)[:, None],
                      np.array([at[g.zone] for g in givers], dtype=np.int64)[None, :]]
        # The terms of a pair as one number (hours apart are 0 to 12), to find the distinct ones.
        code = (((shared * 2 + shares) * 2 + speaks[None, :]) * 2 + wants[:, None]) * 16 + apart
        distinct, which = np.unique(code, return_inverse=True)
        self.distinct = [(int(c) >> 7, bool(c >> 6 & 1), bool(c >> 5 & 1), bool(c >> 4 & 1), int(c) & 15)
                         for c in distinct]
        self.which = which.reshape(n, m)
        self.excluded = np.zeros((n, m), dtype=bool)
        where = {g.mentor.id: j for j, g in enumerate(givers)}
        for i, s in enumerate(seekers):
            for mentor_id in s.excluded:
                if mentor_id in where:
                    self.excluded[i, where[mentor_id]] = True
        self.columns = [(j, k) for j, (_, free) in enumerate(self.base) for k in range(free)]
        self.start = np.cumsum([0] + [free for _, free in self.base])[:-1]
        self.cost = np.empty((n, len(self.columns)))
        for c, (j, k) in enumerate(self.columns):
            column = self._values(self.base[j][0] + k, self.capacity[j])[self.which[:, j]]
            column[self.excluded[:, j]] = -FORBIDDEN
            self.cost[:, c] = -column

    def _values(self, load: int, capacity: int) -> np.ndarray:
        """The fit of every distinct set of terms, for a mentor with ``load`` of ``capacity``."""
        import numpy as np

        return np.array([self.points(*t, load, capacity) for t in self.distinct])

    def fit(self, i: int, j: int, load: int) -> float | None:
        """Request ``i`` with mentor ``j`` when the mentor has ``load`` mentees; None if excluded."""
        if self.excluded[i, j]:
            return None
        return self.points(*self.distinct[self.which[i, j]], load, self.capacity[j])


def _incidence(wanted: list, offered: list) -> tuple[np.ndarray, np.ndarray]:
    """Two 0/1 tables over one vocabulary: which words each seeker wants and each giver offers."""
    import numpy as np

    words = {w: k for k, w in enumerate(sorted({w for ws in wanted for w in ws} | {w for ws in offered for w in ws}))}

    def table(rows: list) -> np.ndarray:
        out = np.zeros((len(rows), max(len(words), 1)), dtype=np.int64)
        for r, ws in enumerate(rows):
            for w in ws:
                out[r, words[w]] = 1
        return out
    return table(wanted), table(offered)


def assign_all(fits: Fits) -> Plan:
    """Every request at once: the most requests matched, and of those assignments the one
    with the highest total fit (exact, by ``linear_sum_assignment``)."""
    from scipy.optimize import linear_sum_assignment

    chosen: dict[int, tuple[int, int]] = {}
    if fits.cost.size:
        for i, c in zip(*linear_sum_assignment(fits.cost)):
            if fits.cost[i, c] < FORBIDDEN / 2:
                chosen[int(i)] = fits.columns[int(c)]
    # A mentor's places are filled in order (a later place fits less), so the places a
    # mentor fills are their first ones; each pair is shown with the load at its own place.
    pairs = []
    for i, s in enumerate(fits.seekers):
        if i not in chosen:
            pairs.append(Pair(s, None))
            continue
        j, k = chosen[i]
        g = fits.givers[j]
        pairs.append(Pair(s, g, fits.fit(i, j, g.load + k), g.load + k))
    return Plan(tuple(pairs))


def one_at_a_time(fits: Fits) -> Plan:
    """The same requests matched one at a time in queue order, each to the best mentor with
    a place left (``matching.rank``'s order: fit, then the lighter load, then the Matrix ID:
    the mentors are given in that order)."""
    import numpy as np

    free = np.array([f for _, f in fits.base], dtype=np.int64)
    load = np.array([b for b, _ in fits.base], dtype=np.int64)
    taken = np.zeros(len(fits.givers), dtype=np.int64)
    pairs = []
    for i, s in enumerate(fits.seekers):
        open_ = np.flatnonzero(taken < free)
        cost = fits.cost[i, fits.start[open_] + taken[open_]] if open_.size else np.empty(0)
        allowed = cost < FORBIDDEN / 2
        if not allowed.any():
            pairs.append(Pair(s, None))
            continue
        open_, cost = open_[allowed], cost[allowed]
        best = open_[cost == cost.min()]
        loads = load[best] + taken[best]
        j = int(best[loads == loads.min()][0])
        at = int(load[j] + taken[j])
        taken[j] += 1
        pairs.append(Pair(s, fits.givers[j], fits.fit(i, j, at), at))
    return Plan(tuple(pairs))


# ---------------------------------------------------------------- proposing, confirming, cancelling


@dataclass(frozen=True)
class Shown:
    """A stored proposal as the council reads it: its pairs in queue order (the first ``limit``
    with their reasons), and its unmatched requests."""

    proposal: CohortProposal
    pairs: tuple[tuple[MentorRequest, Person, Wishes, Match], ...]  # request, mentee, wishes, why it fits
    more_pairs: int  # pairs not shown
    unmatched: tuple[int, ...]  # request numbers left unmatched
    matched: int
    held: int  # requests left out: a cohort offer to them is unanswered


SHOWN_PAIRS = 20  # pairs shown in chat with their reasons; the rest are counted


async def propose(work: Work, by: Person) -> Shown:
    """Make and store a proposal for every open request (replacing one that waits); sends nothing."""
    seekers, givers, held = await gather(work)
    if not seekers:
        raise NoOpenRequests(held)
    if not givers:
        raise NoFreePlaces(len(seekers))
    fits = Fits(seekers, givers, work.now)
    plan, alone = assign_all(fits), one_at_a_time(fits)
    waiting = await _waiting(work.session)
    if waiting is not None:
        _close(work, waiting, CohortState.REPLACED, by)
        await work.session.flush()  # the database keeps one proposal waiting
    proposal = CohortProposal(made_by_id=by.id, made_at=work.now, requests=len(seekers),
                              places=sum(g.free for g in givers), total_fit=plan.total, unmatched=plan.unmatched,
                              one_at_a_time_fit=alone.total, one_at_a_time_unmatched=alone.unmatched)
    work.session.add(proposal)
    try:
        await work.session.flush()
    except IntegrityError:
        raise ProposalRace() from None
    await (await work.session.connection()).execute(insert(CohortPair), [
        {"cohort_id": proposal.id, "request_id": p.seeker.request.id,
         "mentor_id": p.giver.mentor.id if p.giver else None, "fit": p.fit, "load": p.load} for p in plan.pairs])
    audit.record(work.session, at=work.now, actor=by, entity="cohort", entity_id=proposal.id, action="proposed",
                 to_state=CohortState.PROPOSED.value)
    await work.session.flush()
    return await show(work, proposal, held)


async def waiting_proposal(work: Work) -> Shown:
    """The proposal waiting for the council, as it reads it; refused if there is none."""
    proposal = await _waiting(work.session)
    if proposal is None:
        raise NothingToConfirm(await _latest(work.session))
    return await show(work, proposal, len(await held_offers(work.session)))


async def show(work: Work, proposal: CohortProposal, held: int) -> Shown:
    session = work.session
    pairs = list((await session.exec(
        select(CohortPair).where(CohortPair.cohort_id == proposal.id).order_by(CohortPair.request_id)
    )).all())
    matched = [p for p in pairs if p.mentor_id is not None]
    first = matched[:SHOWN_PAIRS]
    requests = {r.id: r for r in (await session.exec(
        select(MentorRequest).where(MentorRequest.id.in_([p.request_id for p in first] or [0])))).all()}
    ids = {p.mentor_id for p in first} | {r.mentee_id for r in requests.values()}
    folk = {p.id: p for p in await _people(session, sorted(ids))}
    tags = await people.tags_of(session, sorted(folk))
    rows = []
    for p in first:
        r = requests[p.request_id]
        mentee, mentor = folk[r.mentee_id], folk[p.mentor_id]
        wishes = matching.wishes_from(mentee, tags[mentee.id], work.policy)
        rows.append((r, mentee, wishes, _why(work, wishes, mentor, tags[mentor.id], p.load or 0)))
    return Shown(proposal, tuple(rows), len(matched) - len(first),
                 tuple(p.request_id for p in pairs if p.mentor_id is None), len(matched), held)


def _why(work: Work, wishes: Wishes, mentor: Person, tags: dict[TagKind, list[str]], load: int) -> Match:
    """Why a mentor fits a request (``matching.score``: the reasons one-at-a-time matching gives)."""
    return matching.score(wishes, matching.candidate(mentor, tags, load, work.policy), work.now)


@dataclass(frozen=True)
class Confirmed:
    proposal: CohortProposal
    offered: tuple[tuple[MentorRequest, Person], ...]  # request, mentor asked
    kept: tuple[tuple[MentorRequest, Person], ...]  # already offered to that mentor: nothing sent again
    skipped: tuple[tuple[int, Person, str], ...]  # request number, mentor, why (an outcome above)
    unmatched: int


async def confirm(work: Work, by: Person) -> Confirmed:
    """Send the waiting proposal's offers, each pair checked again first; refused if none waits.
    The proposal moves to confirmed in one statement, so a second confirm sends nothing."""
    session = work.session
    proposal = await _waiting(session)
    if proposal is None:
        raise NothingToConfirm(await _latest(session))
    moved = await session.exec(update(CohortProposal).where(
        CohortProposal.id == proposal.id, CohortProposal.state == CohortState.PROPOSED
    ).values(state=CohortState.CONFIRMED, decided_by_id=by.id, decided_at=work.now))
    if moved.rowcount != 1:
        raise NothingToConfirm(await _latest(session))
    await session.refresh(proposal)
    audit.record(session, at=work.now, actor=by, entity="cohort", entity_id=proposal.id, action="confirmed",
                 from_state=CohortState.PROPOSED.value, to_state=CohortState.CONFIRMED.value)
    pairs = list((await session.exec(
        select(CohortPair).where(CohortPair.cohort_id == proposal.id, CohortPair.mentor_id.is_not(None))
        .order_by(CohortPair.request_id)
    )).all())
    promised = _promised(await held_offers(session))
    # What the checks read, in a few statements for the whole cohort.
    request_ids = [p.request_id for p in pairs]
    requests = {r.id: r for r in await _chunked(session, request_ids,
                                                lambda ids: select(MentorRequest).where(MentorRequest.id.in_(ids)))}
    folk_ids = sorted({p.mentor_id for p in pairs} | {r.mentee_id for r in requests.values()}
                      | {r.proposed_to_id for r in requests.values() if r.proposed_to_id})
    folk = {p.id: p for p in await _people(session, folk_ids)}
    available = set(await _chunked(session, folk_ids, lambda ids: select(Person.id).where(
        Person.id.in_(ids), matching.available_mentors(work.now))))
    declined = set(await _chunked(session, request_ids, lambda ids: select(
        RequestDecline.request_id, RequestDecline.mentor_id).where(RequestDecline.request_id.in_(ids))))
    tags = await people.tags_of(session, folk_ids)
    offered, kept, skipped = [], [], []
    for pair in pairs:
        request, mentor = requests[pair.request_id], folk[pair.mentor_id]
        why = _stale(request, mentor, promised, mentor.id in available, (request.id, mentor.id) in declined)
        if why is not None:
            pair.outcome = why
            skipped.append((request.id, mentor, why))
            continue
        if request.proposed_to_id == mentor.id:
            pair.outcome = KEPT
            kept.append((request, mentor))
        else:
            before = request.proposed_to_id
            mentee = folk[request.mentee_id]
            wishes = matching.wishes_from(mentee, tags[mentee.id], work.policy)
            match = _why(work, wishes, mentor, tags[mentor.id], mentor.active_mentees + promised.get(mentor.id, 0))
            if before is not None:
                work.emit(OfferMoved(request.id, folk[before]))
            mentorships.offer(work, request, mentee, match, wishes, announce=False, actor=by)
            pair.outcome = OFFERED
            offered.append((request, mentor))
        promised[mentor.id] = promised.get(mentor.id, 0) + 1
    await session.flush()
    return Confirmed(proposal, tuple(offered), tuple(kept), tuple(skipped), proposal.unmatched)


def _stale(request: MentorRequest, mentor: Person, promised: dict[int, int], available: bool,
           declined: bool) -> str | None:
    """Why a pair may no longer be offered now (an outcome), or None if it may."""
    if request.state not in OPEN_REQUEST_STATES:
        return WITHDRAWN if request.state is RequestState.WITHDRAWN else TAKEN
    if not available:
        return UNAVAILABLE
    if declined:
        return DECLINED
    if mentor.capacity - mentor.active_mentees - promised.get(mentor.id, 0) <= 0:
        return FULL
    return None


async def cancel(work: Work, by: Person) -> CohortProposal:
    """Drop the waiting proposal; nothing was sent. Refused if none waits."""
    proposal = await _waiting(work.session)
    if proposal is None:
        raise NothingToCancel(await _latest(work.session))
    _close(work, proposal, CohortState.CANCELLED, by)
    return proposal


def _close(work: Work, proposal: CohortProposal, state: CohortState, by: Person) -> None:
    proposal.state, proposal.decided_by_id, proposal.decided_at = state, by.id, work.now
    audit.record(work.session, at=work.now, actor=by, entity="cohort", entity_id=proposal.id,
                 action=state.value, from_state=CohortState.PROPOSED.value, to_state=state.value)


async def _waiting(session: Session) -> CohortProposal | None:
    return (await session.exec(
        select(CohortProposal).where(CohortProposal.state == CohortState.PROPOSED))).one_or_none()


async def _latest(session: Session) -> CohortProposal | None:
    return (await session.exec(select(CohortProposal).order_by(CohortProposal.id.desc()).limit(1))).first()
