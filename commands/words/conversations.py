"""What the bot says in a guided conversation: the questions, what it understood, the summary."""

from __future__ import annotations

from typing import Any, Callable

from commands.services.conversations import (
    CAPACITY,
    GOAL,
    INTERESTS,
    LANGUAGES,
    SKILLS,
    TIMEZONE,
)
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines
from commands.words import language_names, t, tn, tx, typed
from commands.kinds import RoomKind
from storage.models import ConversationKind

# What a person types to stop a conversation, to say yes to its summary, or no. Lower case.
# In English and in each language the bot speaks.
CANCEL_WORDS = frozenset({"cancel", "stop", "quit", "abort", "abbrechen", "stopp", "anuluj", "przerwij", "cancelar",
                          "parar"})
YES_WORDS = frozenset({"yes", "y", "ok", "okay", "sure", "yep", "confirm", "ja", "sí", "si", "oui", "sim", "tak",
                       "claro", "bestätigen", "potwierdź", "confirmar"})
NO_WORDS = frozenset({"no", "n", "nope", "nein", "non", "não", "nao", "nie"})


def control_word(text: str) -> str | None:
    """``cancel``, ``yes`` or ``no`` if ``text`` is one of their words (leniently: case, a full stop), else None."""
    word = " ".join(text.split()).strip(".!").casefold()
    for meaning, words in (("cancel", CANCEL_WORDS), ("yes", YES_WORDS), ("no", NO_WORDS)):
        if word in words:
            return meaning
    return None


def _dm(work: Work, text: str) -> Msg:
    return typed(work, text, RoomKind.DM)


# Each question, with an example of an answer.
QUESTIONS: dict[str, Callable[[int], Msg]] = {
    GOAL: lambda most: t("What do you want to learn or get help with? A sentence or two, for example: {example}",
                         example=code(tx("I want to organise my first community event"))),
    LANGUAGES: lambda most: t("Which languages do you speak? Separate them with commas, for example: {example}",
                              example=code("Spanish, English")),
    TIMEZONE: lambda most: t("What is your time zone? A city like {example}, or a zone name like {other}.",
                             example=code("Berlin"), other=code("America/Lima")),
    INTERESTS: lambda most: t("What do you want to grow in? Separate your interests with commas, for example: "
                              "{example}", example=code("event planning, localisation")),
    SKILLS: lambda most: t("Which skills do you offer as a mentor? Separate them with commas, for example: {example}",
                           example=code("events, localisation, public speaking")),
    CAPACITY: lambda most: t("How many mentees can you take at once? A number from 0 to {most}.", most=most),
}
# How each answer is named in the summary.
LABELS: dict[str, Callable[[], Msg]] = {
    GOAL: lambda: t("What you want help with"),
    LANGUAGES: lambda: t("Languages"),
    TIMEZONE: lambda: t("Time zone"),
    INTERESTS: lambda: t("Interests"),
    SKILLS: lambda: t("Skills"),
    CAPACITY: lambda: t("Mentees at once"),
}


def question(work: Work, asked: str, number: int, total: int, *, max_capacity: int = 0) -> Msg:
    """One question, numbered, with an example of an answer."""
    return t("{number} {question}", number=bold(t("Question {n} of {total}:", n=number, total=total)),
             question=QUESTIONS[asked](max_capacity))


def shown(asked: str, value: Any) -> str | Msg:
    """An answer as it is stored, to show it back."""
    if asked == LANGUAGES:
        return join(language_names(value))
    if isinstance(value, list):
        return join(value)
    return str(value)


def got_it(asked: str, value: Any) -> Msg:
    return t("Got it: {value}.", value=shown(asked, value))


def begin_request(work: Work, total: int) -> Msg:
    return tn("Let's put your request for a mentor together: {n} short question. Nothing is stored until you "
              "say yes at the end; send {cancel} at any time to stop.",
              "Let's put your request for a mentor together: {n} short questions. Nothing is stored until you "
              "say yes at the end; send {cancel} at any time to stop.", total, cancel=_dm(work, "cancel"))


def welcome_mentor(work: Work, program: str, capacity: int, total: int) -> Msg:
    """A new mentor's welcome, which begins their set-up."""
    return lines(
        tn("Welcome, you are now a mentor in {program}! You can take up to {n} mentee.",
           "Welcome, you are now a mentor in {program}! You can take up to {n} mentees.", capacity, program=program),
        tn("Let's set up your mentor profile: {n} short question. Nothing is stored until you say yes at the end; "
           "send {cancel} to stop and set it later with {profile}.",
           "Let's set up your mentor profile: {n} short questions. Nothing is stored until you say yes at the end; "
           "send {cancel} to stop and set it later with {profile}.", total, cancel=_dm(work, "cancel"),
           profile=_dm(work, "profile")),
    )


def summary(work: Work, kind: ConversationKind, answers: dict[str, Any], order: tuple[str, ...]) -> Msg:
    """Everything answered, and how to confirm."""
    rows = [t("{label}: {value}", label=LABELS[q](), value=shown(q, answers[q])) for q in order if q in answers]
    if kind is ConversationKind.REQUEST:
        head = t("Here is your request for a mentor:")
        ask = t("Send {yes} to send it, or {no} to drop it.", yes=_dm(work, "yes"), no=_dm(work, "no"))
    else:
        head = t("Here is your mentor profile:")
        ask = t("Send {yes} to save it, or {no} to drop it.", yes=_dm(work, "yes"), no=_dm(work, "no"))
    return lines(bold(head), *rows, ask)


def again(problem: str | Msg, asked: Msg) -> Msg:
    """A bad answer: what was wrong, and the same question."""
    return lines(problem, asked)


def yes_or_no(work: Work) -> Msg:
    return t("Please answer {yes} or {no} (or {cancel} to stop).", yes=_dm(work, "yes"), no=_dm(work, "no"),
             cancel=_dm(work, "cancel"))


def stopped(work: Work, kind: ConversationKind) -> Msg:
    """Cancelled or declined: nothing was stored."""
    if kind is ConversationKind.REQUEST:
        return t("Stopped: nothing was stored and no request was sent. Send {request} when you want to start "
                 "again.", request=_dm(work, "request"))
    return t("Stopped: nothing was stored. You can set your mentor profile any time with {profile}.",
             profile=_dm(work, "profile"))


def mentor_profile_saved(work: Work) -> Msg:
    return t("Done: your mentor profile is saved. Send {profile} to see it, or {requests} to see who is looking "
             "for a mentor.", profile=_dm(work, "profile"), requests=_dm(work, "requests"))


def still_open(work: Work, kind: ConversationKind, asked: Msg) -> Msg:
    """After a command typed in the middle of a conversation: it is still open, where it was."""
    if kind is ConversationKind.REQUEST:
        head = t("Your request for a mentor is still waiting for this answer (or send {cancel} to stop):",
                 cancel=_dm(work, "cancel"))
    else:
        head = t("Your mentor set-up is still waiting for this answer (or send {cancel} to stop):",
                 cancel=_dm(work, "cancel"))
    return lines(head, asked)


def nothing_open(work: Work) -> Msg:
    return t("We were not in the middle of anything. Send {help} to see what I can do.", help=_dm(work, "help"))


def list_needed() -> Msg:
    return t("Please name at least one, separated by commas.")


def goal_needed() -> Msg:
    return t("Please tell me in a few words what you want help with.")
