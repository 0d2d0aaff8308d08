"""What the bot says about recognition: the council's decision, the mentee's consent, the
celebration, and what the nominating mentor hears. The nomination's reason is never among it,
except in the council's own list."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services.recognition import (
    AlreadyAnswered,
    AlreadyDecided,
    ConsentAsked,
    NoSuchNomination,
    NomineeForgotten,
    NominationShown,
    NominatorTold,
    NothingToAnswer,
    WhichOne,
)
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines, markdown
from commands.words import explains, renders, t, typed
from commands.words.council import day
from commands.words.roster import here, who
from storage.models import Nomination, NominationState, Person

ACCEPT_EXAMPLE = "nomination accept 1 Ana ran three localisation sprints this spring and welcomed 12 new translators."


def celebration_title(nomination: Nomination, nominee: Person, language: str) -> str:
    """The title of a celebration, as the mentors room and the forum show it: in the program's
    ``language``, also when the nominee is shown it beforehand in theirs."""
    return t("Celebrating {name} (recognition #{number})", name=who(nominee), number=str(nomination.id)).plain(
        language)


# ---------------------------------------------------------------- the council decides


def accepted(work: Work, nomination: Nomination, nominee: Person) -> Msg:
    return t("Accepted nomination #{number}. I asked {nominee} by DM whether they may be celebrated publicly, "
             "showing them the title and your citation; nothing is published without their yes. {nominations} "
             "shows where it stands.", number=nomination.id, nominee=who(nominee),
             nominations=here(work, "nominations"))


def declined(nomination: Nomination, nominee: Person) -> Msg:
    return t("Declined nomination #{number} of {nominee}. The mentor who nominated them is told; the mentee is not.",
             number=nomination.id, nominee=who(nominee))


@renders(ConsentAsked)
def _consent_asked(e: ConsentAsked, work: Work) -> None:
    n = e.nomination
    where = t("in the mentors room and as a topic on the forum") if work.forum else t("in the mentors room")
    work.send(Target.dm(e.nominee.matrix_id), lines(
        t("🎉 Good news: the council of {program} would like to celebrate you publicly for your work in the program.",
          program=work.policy.name),
        t("This is exactly what would be published {where}:", where=where),
        bold(celebration_title(n, e.nominee, work.policy.language)),
        markdown(n.citation or ""),
        t("Send {yes} to agree, or {no} to keep it private. Either answer is fine: nothing is published "
          "without your yes.", yes=typed(work, f"recognition yes {n.id}", RoomKind.DM),
          no=typed(work, f"recognition no {n.id}", RoomKind.DM)),
    ))


# ---------------------------------------------------------------- the mentee answers


def celebrating(work: Work) -> Msg:
    where = t("the mentors room and the forum") if work.forum else t("the mentors room")
    return t("Thank you! Your celebration goes to {where} now. Congratulations!", where=where)


def kept_private() -> Msg:
    return t("Understood: nothing is published. The council's recognition stands all the same. Congratulations!")


@renders(NominatorTold)
def _nominator_told(e: NominatorTold, work: Work) -> None:
    """The nominating mentor hears how it ended; when the mentee said no, without any pressure on them."""
    if e.nominator is None:
        return
    n, nominee = e.nomination, who(e.nominee)
    if n.state is NominationState.CELEBRATED:
        msg = t("🎉 Your nomination of {nominee} (#{number}) was accepted by the council, and {nominee} agreed to be "
                "celebrated: it is published in the mentors room as announcement #{announcement}. Thank you for "
                "nominating!", nominee=nominee, number=n.id, announcement=str(n.announcement_id))
    elif n.state is NominationState.PRIVATE:
        msg = t("The council accepted your nomination of {nominee} (#{number}). {nominee} chose not to be celebrated "
                "publicly, so nothing is published. That choice is theirs alone, and needs no discussion; the "
                "recognition reached them. Thank you for nominating!", nominee=nominee, number=n.id)
    else:
        msg = t("The council has decided not to take your nomination of {nominee} (#{number}) further this time. "
                "Thank you for nominating; you can nominate again whenever someone's work stands out.",
                nominee=nominee, number=n.id)
    work.send(Target.dm(e.nominator.matrix_id), msg)


# ---------------------------------------------------------------- refusals


@explains(NoSuchNomination)
def _no_such_nomination(e: NoSuchNomination, work: Work) -> Msg:
    return t("There is no nomination #{number}. Send {nominations} to see the recent ones.",
             number=e.number, nominations=here(work, "nominations"))


def _state(n: Nomination, nominee: Person) -> Msg:
    """Where a nomination stands, in a few words."""
    if n.state is NominationState.PENDING:
        return t("waiting for the council's decision")
    if n.state is NominationState.DECLINED:
        return t("declined by the council")
    if n.state is NominationState.ACCEPTED:
        return t("accepted; waiting for {nominee}'s answer", nominee=who(nominee))
    if n.state is NominationState.CELEBRATED:
        return t("accepted, and celebrated with {nominee}'s consent (announcement #{announcement})",
                 nominee=who(nominee), announcement=str(n.announcement_id))
    if n.state is NominationState.PRIVATE:
        return t("accepted; {nominee} chose to keep it private", nominee=who(nominee))
    return t("withdrawn: the mentee asked to be forgotten")


@explains(AlreadyDecided)
def _already_decided(e: AlreadyDecided, work: Work) -> Msg:
    n = e.nomination
    when = day(n.decided_at, ZoneInfo(work.policy.timezone)) if n.decided_at else None
    decided = t(" on {day}", day=when) if when else ""
    return t("Nomination #{number} was decided already{decided}: {state}. A decision is final.",
             number=n.id, decided=decided, state=_state(n, e.nominee))


@explains(NomineeForgotten)
def _nominee_forgotten(e: NomineeForgotten, work: Work) -> Msg:
    return t("Nomination #{number} cannot be accepted: the mentee asked to be forgotten, so they cannot be "
             "celebrated. You can decline it with {decline}.", number=e.nomination.id,
             decline=here(work, f"nomination decline {e.nomination.id}"))


@explains(NothingToAnswer)
def _nothing_to_answer(e: NothingToAnswer, work: Work) -> Msg:
    if e.number is not None:
        return t("Nomination #{number} does not wait for your answer.", number=e.number)
    return t("Nothing waits for your answer: when the council would like to celebrate you, I ask you here first.")


@explains(AlreadyAnswered)
def _already_answered(e: AlreadyAnswered, work: Work) -> Msg:
    if e.nomination.state is NominationState.CELEBRATED:
        return t("You already said yes to recognition #{number}, and it was published. Your answer is final.",
                 number=e.nomination.id)
    return t("You already chose to keep recognition #{number} private, and nothing was published. "
             "Your answer is final.", number=e.nomination.id)


@explains(WhichOne)
def _which_one(e: WhichOne, work: Work) -> Msg:
    return t("Several celebrations wait for your answer ({numbers}): say which, like {example}.",
             numbers=join([f"#{n}" for n in e.numbers]), example=code(f"recognition yes {e.numbers[0]}"))


# ---------------------------------------------------------------- the council's list


def no_nominations() -> Msg:
    return t("No nominations yet. Mentors nominate with {nominate}.", nominate=code("nominate <mentee> <reason>"))


def nominations(work: Work, shown: list[NominationShown], zone: ZoneInfo) -> Msg:
    rows = []
    for s in shown:
        n = s.nomination
        reason = t(": \u201c{reason}\u201d", reason=s.reason) if s.reason else ""
        state = _state(n, s.nominee)
        if n.state is NominationState.PENDING:
            state = t("{state}: {accept} or {decline}", state=state,
                      accept=here(work, f"nomination accept {n.id} <citation>"),
                      decline=here(work, f"nomination decline {n.id}"))
        citation = t("; citation: \u201c{citation}\u201d", citation=s.citation) if s.citation else ""
        rows.append(t("• #{number} {date}: {nominee} by {nominator}{reason} — {state}{citation}",
                      number=str(n.id), date=day(n.created_at, zone), nominee=who(s.nominee),
                      nominator=who(s.nominator), reason=reason, state=state, citation=citation))
    return lines(bold(t("Nominations (latest {count})", count=str(len(shown)))), *rows)
