"""What the bot says about opportunities: sharing them, the message each mentee gets, the list."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services import people
from commands.services.opportunities import (
    KnownAsOther,
    NobodyWithInterest,
    NoMenteesToShare,
    OpportunityShared,
    Received,
    Shared,
)
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines, link, person
from commands.words import N_, explains, renders, t, tn, typed, written
from commands.words.checkins import shown
from storage.models import Opportunity, OpportunityKind

MENTOR_EXAMPLE = ("opportunity @ana:example.org training 2027-03-10 | https://example.org/workshop | "
                  "Facilitation workshop")
COUNCIL_EXAMPLE = "opportunity interest localisation event 12 March | https://example.org/sprint | Translation sprint"
KIND_NAMES = {OpportunityKind.TRAINING: N_("training"), OpportunityKind.EVENT: N_("event"),
              OpportunityKind.INTRODUCTION: N_("introduction")}


def kind_name(kind: OpportunityKind) -> str:
    return t(KIND_NAMES[kind])


def _here(work: Work) -> RoomKind:
    return getattr(work, "room", RoomKind.DM)


def _cmd(work: Work, text: str) -> Msg:
    return typed(work, text, _here(work))


def when(o: Opportunity, reader: ZoneInfo) -> Msg:
    """The opportunity's day as its sharer meant it; a time of day in the reader's own zone."""
    if o.all_day:
        return written(o.happens_at, ZoneInfo(o.timezone), "weekday day")
    return shown(o.happens_at, reader)


# ---------------------------------------------------------------- reading what was typed


def details_form() -> str:
    return t("write it as: date | link | what it is").plain()


def missing_parts() -> str:
    return t("give the date, the link and what it is, separated by |").plain()


def no_description() -> str:
    return t("say in a few words what it is, after the link").plain()


def too_long_description(length: int, limit: int) -> str:
    return t("what it is takes {length} characters; say it in at most {limit} (the link tells the rest)",
             length=str(length), limit=str(limit)).plain()


def not_a_link(text: str) -> str:
    return t("{text} is not a web link; give one that starts with https:// (or http://), "
             "like https://example.org/workshop", text=repr(text)).plain()


def link_too_long(limit: int) -> str:
    return t("the link is longer than {limit} characters; give a shorter one", limit=str(limit)).plain()


def not_a_recipient(text: str) -> str:
    return t("{text} is neither a mentee's Matrix ID (like @ana:example.org) nor the word mentees "
             "(all your mentees)", text=repr(text)).plain()


# ---------------------------------------------------------------- sharing


def _opportunity(o: Opportunity, reader: ZoneInfo) -> Msg:
    return t("{kind} {what} on {when}", kind=kind_name(o.kind), what=bold(o.what), when=when(o, reader))


def shared(work: Work, s: Shared, zone: ZoneInfo, *, named: bool) -> Msg:
    """What the one who shared hears: how many (and, ``named``, who) were sent it now."""
    o = s.opportunity
    known = t(" It was shared before with another description, which is kept.") if s.kept else ""
    had = tn(" {n} had it already.", " {n} had it already.", s.had) if s.had else ""
    if not s.sent:
        return t("Nothing was sent: everyone you named has opportunity #{number} already ({what}).{known}",
                 number=o.id, what=_opportunity(o, zone), known=known)
    to = join([person(p.matrix_id, people.name_of(p)) for p in s.sent]) if named else \
        tn("{n} mentee", "{n} mentees", len(s.sent))
    return t("Shared opportunity #{number} ({what}) with {to} by DM.{had}{known} It is listed for them "
             "until its day is over.", number=o.id, what=_opportunity(o, zone), to=to, had=had, known=known)


@renders(OpportunityShared)
def _shared_with(e: OpportunityShared, work: Work) -> None:
    zone = people.zone_of(e.recipient, work.policy)
    o = e.opportunity
    if e.as_council:
        head = t("🎓 An opportunity from the council of {program}, for mentees interested in it: {what}",
                 program=work.policy.name, what=_opportunity(o, zone))
    else:
        head = t("🎓 Your mentor {mentor} shares an opportunity with you: {what}",
                 mentor=person(e.by.matrix_id, people.name_of(e.by)), what=_opportunity(o, zone))
    work.send(Target.dm(e.recipient.matrix_id), lines(
        head,
        t("Link: {link}", link=link(o.url)),
        t("Send {opportunities} to see the open ones.", opportunities=typed(work, "opportunities", RoomKind.DM)),
    ))


@explains(NoMenteesToShare)
def _no_mentees(e: NoMenteesToShare, work: Work) -> Msg:
    return t("You have no mentees now, so there is nobody to share it with.")


@explains(NobodyWithInterest)
def _nobody_with_interest(e: NobodyWithInterest, work: Work) -> Msg:
    close = t(" Interests mentees list that look like it: {close}.", close=join(e.close)) if e.close else ""
    return t("No mentee lists the interest {interest}; nothing was sent.{close} For example: {example}",
             interest=repr(e.interest), close=close, example=code(COUNCIL_EXAMPLE))


@explains(KnownAsOther)
def _known_as_other(e: KnownAsOther, work: Work) -> Msg:
    return t("That link on that day is opportunity #{number} already, shared as {kind}; share it as {kind} too.",
             number=e.existing.id, kind=code(e.existing.kind.value))  # the word the command reads


# ---------------------------------------------------------------- the list


def none_open(work: Work) -> Msg:
    return t("You have no open opportunities. Your mentor or the council shares them with you by DM.")


def open_list(items: list[Received], zone: ZoneInfo) -> Msg:
    rows = [t("• #{number} {what}, from {by}: {link}", number=r.opportunity.id,
              what=_opportunity(r.opportunity, zone), by=person(r.by.matrix_id, people.name_of(r.by)),
              link=link(r.opportunity.url)) for r in items]
    return lines(bold(tn("{n} open opportunity (soonest first)", "{n} open opportunities (soonest first)",
                         len(items))), *rows)
