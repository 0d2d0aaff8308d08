"""What the bot says about cohort matching: the council's proposal, its confirmation, refusals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.messages import Target
from commands.services.cohort import (
    DECLINED,
    ProposalRace,
    FULL,
    TAKEN,
    UNAVAILABLE,
    WITHDRAWN,
    Confirmed,
    NoFreePlaces,
    NoOpenRequests,
    NothingToCancel,
    NothingToConfirm,
    OfferMoved,
    Shown,
)
from commands.services.work import Work
from commands.text import Msg, bold, join, lines
from commands.words import explains, renders, t, tn
from commands.words.council import day
from commands.words.mentoring import match_reason, summary
from commands.words.roster import here, who
from storage.models import CohortProposal, CohortState

SHOWN_SKIPPED = 20  # skipped pairs named after a confirmation; the rest are counted
SHOWN_NUMBERS = 30  # request numbers named in a list (unmatched, already offered); the rest are counted


def _fit(value: float) -> str:
    return f"{value:,.1f}"


def _numbers(numbers) -> Msg:
    """Request numbers, the first ``SHOWN_NUMBERS`` of them, and how many more."""
    shown = join([f"#{n}" for n in numbers[:SHOWN_NUMBERS]], ", ")
    more = len(numbers) - SHOWN_NUMBERS
    return shown + tn(" and {n} more", " and {n} more", more) if more > 0 else shown


def proposal(shown: Shown, work: Work, names: bool) -> Msg:
    """The proposal: its totals against one-at-a-time matching, the first pairs with their reasons
    (the mentee named only where ``names``), the requests it leaves unmatched, what to do next."""
    p = shown.proposal
    gained = p.total_fit - p.one_at_a_time_fit
    rows: list[Msg | None] = [
        t("{title}: {requests}, {places}.", title=bold(t("Cohort proposal #{number}", number=str(p.id))),
          requests=tn("{n} open request", "{n} open requests", p.requests),
          places=tn("{n} free place", "{n} free places", p.places)),
        t("Total fit {total} with {unmatched}; one at a time in queue order: {alone} with {alone_unmatched} "
          "({gained}).", total=_fit(p.total_fit), unmatched=tn("{n} unmatched", "{n} unmatched", p.unmatched),
          alone=_fit(p.one_at_a_time_fit),
          alone_unmatched=tn("{n} unmatched", "{n} unmatched", p.one_at_a_time_unmatched),
          gained=t("{sign}{value} for the proposal", sign="+" if gained >= 0 else "\u2212",
                   value=_fit(abs(gained)))),
    ]
    for request, mentee, wishes, match in shown.pairs:
        asker = who(mentee) if names else t("a mentee ({summary})", summary=summary(wishes))
        rows.append(t("• #{number} {mentee} \u2192 {mentor} ({reason}), fit {fit}", number=str(request.id),
                      mentee=asker, mentor=who(match.mentor), reason=match_reason(match), fit=_fit(match.score)))
    if shown.more_pairs:
        rows.append(tn("\u2026and {n} more pair, offered too on confirmation.",
                       "\u2026and {n} more pairs, offered too on confirmation.", shown.more_pairs))
    if shown.unmatched:
        rows.append(t("Left unmatched (no free place left that may take them): {numbers}.",
                      numbers=_numbers(shown.unmatched)))
    if shown.held:
        rows.append(tn("{n} request is left out: the mentor a cohort offered it to has not answered yet.",
                       "{n} requests are left out: the mentors a cohort offered them to have not answered yet.",
                       shown.held))
    rows.append(t("Nothing is sent yet. Send {confirm} to offer each request to its mentor, or {cancel}.",
                  confirm=here(work, "cohort confirm"), cancel=here(work, "cohort cancel")))
    return lines(*rows)


def _why_skipped(why: str) -> Msg:
    return {
        TAKEN: t("taken meanwhile"),
        WITHDRAWN: t("withdrawn meanwhile"),
        UNAVAILABLE: t("the mentor is away, inactive or off the roster now"),
        DECLINED: t("the mentor declined it meanwhile"),
        FULL: t("the mentor has no free place left"),
    }[why]


def confirmed(done: Confirmed, work: Work) -> Msg:
    rows: list[Msg | None] = [
        t("{done} {offered} Each mentor accepts or declines as usual.",
          done=bold(t("Done: cohort #{number} is confirmed.", number=str(done.proposal.id))),
          offered=tn("I have offered {n} request to its mentor.", "I have offered {n} requests to their mentors.",
                     len(done.offered))),
    ]
    if done.kept:
        rows.append(t("Already offered to the same mentor, so nothing was sent again: {numbers}.",
                      numbers=_numbers([r.id for r, _ in done.kept])))
    if done.skipped:
        rows.append(tn("Skipped {n} pair, as things changed since the proposal:",
                       "Skipped {n} pairs, as things changed since the proposal:", len(done.skipped)))
        for number, mentor, why in done.skipped[:SHOWN_SKIPPED]:
            rows.append(t("• #{number} \u2192 {mentor}: {why}", number=str(number), mentor=who(mentor),
                          why=_why_skipped(why)))
        if len(done.skipped) > SHOWN_SKIPPED:
            rows.append(tn("\u2026and {n} more.", "\u2026and {n} more.", len(done.skipped) - SHOWN_SKIPPED))
    if done.unmatched:
        rows.append(tn("{n} request stays unmatched: it waits in the list of open requests ({requests}).",
                       "{n} requests stay unmatched: they wait in the list of open requests ({requests}).",
                       done.unmatched, requests=here(work, "requests")))
    return lines(*rows)


def cancelled(proposal: CohortProposal) -> Msg:
    return t("Done: cohort proposal #{number} is cancelled; nothing was sent.", number=str(proposal.id))


@renders(OfferMoved)
def _offer_moved(e: OfferMoved, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), t(
        "Request #{number} has gone to another mentor, in the council's matching of all open requests; "
        "nothing to do.", number=str(e.request_id)))


# ---------------------------------------------------------------- refusals


@explains(NoOpenRequests)
def _no_open_requests(e: NoOpenRequests, work: Work) -> Msg:
    msg = t("No open request waits for a mentor, so there is nothing to propose.")
    if e.held:
        msg += " " + tn("({n} request waits for the answer of the mentor a cohort offered it to.)",
                        "({n} requests wait for the answers of the mentors a cohort offered them to.)", e.held)
    return msg


@explains(NoFreePlaces)
def _no_free_places(e: NoFreePlaces, work: Work) -> Msg:
    return tn("{n} open request waits, but no available mentor has a free place. Add a mentor with {add}, or ask "
              "mentors to raise their capacity ({capacity}).",
              "{n} open requests wait, but no available mentor has a free place. Add a mentor with {add}, or ask "
              "mentors to raise their capacity ({capacity}).",
              e.requests, add=here(work, "mentor add <person> <capacity>"),
              capacity=here(work, "profile capacity <number>"))


def _no_proposal(last: CohortProposal | None, work: Work) -> Msg:
    make = here(work, "cohort")
    if last is None:
        return t("There is no cohort proposal yet. Make one with {cohort}.", cohort=make)
    zone = ZoneInfo(work.policy.timezone)
    if last.state is CohortState.CONFIRMED and last.decided_at is not None:
        return t("Cohort #{number} was confirmed on {date}, and its offers went out then; nothing is sent twice. "
                 "To match the requests open now, make a new proposal with {cohort}.",
                 number=str(last.id), date=day(last.decided_at, zone), cohort=make)
    return t("No cohort proposal waits (the last, #{number}, was {state}). Make one with {cohort}.",
             number=str(last.id), state=_state(last.state), cohort=make)


def _state(state: CohortState) -> Msg:
    return {CohortState.PROPOSED: t("waiting"), CohortState.CONFIRMED: t("confirmed"),
            CohortState.CANCELLED: t("cancelled"), CohortState.REPLACED: t("replaced by a newer one")}[state]


@explains(NothingToConfirm)
def _nothing_to_confirm(e: NothingToConfirm, work: Work) -> Msg:
    return _no_proposal(e.last, work)


@explains(NothingToCancel)
def _nothing_to_cancel(e: NothingToCancel, work: Work) -> Msg:
    return _no_proposal(e.last, work)


@explains(ProposalRace)
def _proposal_race(e: ProposalRace, work: Work) -> Msg:
    return t("Another council member made a cohort proposal a moment ago. See it with {show}.",
             show=here(work, "cohort show"))
