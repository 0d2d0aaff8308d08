"""Guided conversations in a person's DM: one question at a time, nothing applied until they confirm.

A conversation is a row of its own (one per person, the table's key): which question waits
for an answer and the answers so far, so a restart neither loses nor repeats a question. The
answers are applied by whoever started it (a request, a mentor's set-up) only when the person
says yes; cancelling, saying no, or a day without an answer leaves nothing behind.

What a mentee wants help with is their own words, like a request's text: it is kept here only
until they confirm, shown to nobody else, and never written to a log.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import select

from commands.services import mentorships, people
from commands.services.work import Work
from storage.models import Conversation, ConversationKind, Person, TagKind
from storage.session import Session

FORGOTTEN_AFTER = timedelta(days=1)  # a conversation not answered for this long is dropped, quietly
CONFIRM = "confirm"  # the step after the last question: the summary, waiting for yes or no

# The questions of each kind, in the order they are asked.
GOAL, LANGUAGES, TIMEZONE, INTERESTS, SKILLS, CAPACITY = (
    "goal", "languages", "timezone", "interests", "skills", "capacity")
QUESTIONS: dict[ConversationKind, tuple[str, ...]] = {
    ConversationKind.REQUEST: (GOAL, LANGUAGES, TIMEZONE, INTERESTS),
    ConversationKind.MENTOR_SETUP: (SKILLS, CAPACITY, LANGUAGES, TIMEZONE),
}
# Where each profile answer goes (``timezone`` and ``capacity`` are columns of the person).
LISTS = {LANGUAGES: TagKind.LANGUAGE, INTERESTS: TagKind.INTEREST, SKILLS: TagKind.SKILL}


def _stored(conversation: Conversation) -> dict[str, Any]:
    return json.loads(conversation.answers or "{}")


def answers_of(conversation: Conversation) -> dict[str, Any]:
    """The answers given so far (and what the command that began it said), by question."""
    return {k: v for k, v in _stored(conversation).items() if not k.startswith("_")}


def asked(conversation: Conversation) -> tuple[str, ...]:
    """The questions this conversation asks (those answered before it started are left out)."""
    return tuple(_stored(conversation).get("_asked", QUESTIONS[conversation.kind]))


async def of(session: Session, person_id: int) -> Conversation | None:
    """The person's conversation, expired or not."""
    return (await session.exec(select(Conversation).where(Conversation.person_id == person_id))).one_or_none()


async def open_of(session: Session, person_id: int, now: datetime) -> Conversation | None:
    """The person's conversation, unless there is none or it was left unanswered too long."""
    row = await of(session, person_id)
    return row if row is not None and row.expires_at > now else None


async def open_for(session: Session, matrix_id: str, now: datetime) -> bool:
    """Whether the person with this Matrix ID is in the middle of a conversation (one statement)."""
    found = await session.exec(select(Conversation.person_id).join(Person, Person.id == Conversation.person_id)
                               .where(Person.matrix_id == matrix_id, Conversation.expires_at > now))
    return found.first() is not None


async def request_questions(session: Session, mentee: Person, goal: str | None) -> tuple[str, ...]:
    """What a ``request`` must still ask: the goal unless given, and the profile fields that
    matching needs and the mentee has not filled in. Empty: the request can be made at once."""
    missing = set(await mentorships.missing_for_matching(session, mentee))
    return tuple(q for q in QUESTIONS[ConversationKind.REQUEST]
                 if (q == GOAL and not goal) or q in missing)


async def start(work: Work, person: Person, kind: ConversationKind, questions: tuple[str, ...],
                given: dict[str, Any] | None = None) -> Conversation:
    """Begin a conversation with ``person`` asking ``questions`` (a choice of the kind's, in their
    order), with what is known already in ``given``; one they had before is replaced."""
    await work.session.exec(delete(Conversation).where(Conversation.person_id == person.id))
    await work.session.flush()
    answers = {**(given or {}), "_asked": list(questions)}
    row = Conversation(person_id=person.id, kind=kind, pending=questions[0] if questions else CONFIRM,
                       answers=json.dumps(answers), started_at=work.now, updated_at=work.now,
                       expires_at=work.now + FORGOTTEN_AFTER)
    work.session.add(row)
    await work.session.flush()
    return row


def record(work: Work, conversation: Conversation, value: Any) -> str:
    """Keep ``value`` as the answer to the pending question; returns the next step (a question or
    :data:`CONFIRM`). Earlier answers are kept as they were."""
    answers = _stored(conversation)
    answers[conversation.pending] = value
    questions = asked(conversation)
    index = questions.index(conversation.pending) if conversation.pending in questions else len(questions)
    conversation.pending = questions[index + 1] if index + 1 < len(questions) else CONFIRM
    conversation.answers = json.dumps(answers)
    touch(work, conversation)
    return conversation.pending


def first_reminder(conversation: Conversation) -> bool:
    """Whether the pending question was not yet repeated below another command's reply; from now it was."""
    stored = _stored(conversation)
    if stored.get("_reminded") == conversation.pending:
        return False
    conversation.answers = json.dumps({**stored, "_reminded": conversation.pending})
    return True


def touch(work: Work, conversation: Conversation) -> None:
    """The person said something to it: a day from now before it is forgotten."""
    conversation.updated_at = work.now
    conversation.expires_at = work.now + FORGOTTEN_AFTER


async def end(work: Work, conversation: Conversation) -> dict[str, Any]:
    """Close the conversation (confirmed, cancelled or declined); returns its answers."""
    answers = answers_of(conversation)
    await work.session.delete(conversation)
    await work.session.flush()
    return answers


async def drop(work: Work, person: Person, kind: ConversationKind) -> None:
    """End the person's conversation of ``kind`` if they have one (a request made directly)."""
    await work.session.exec(delete(Conversation).where(Conversation.person_id == person.id,
                                                       Conversation.kind == kind))


async def apply_profile(work: Work, person: Person, answers: dict[str, Any]) -> None:
    """Store the profile answers as the ``profile`` commands store them."""
    for question, kind in LISTS.items():
        if question in answers:
            await people.set_list(work, person, kind, list(answers[question]))
    if TIMEZONE in answers:
        await people.set_timezone(work, person, answers[TIMEZONE])
    if CAPACITY in answers:
        await people.set_capacity(work, person, int(answers[CAPACITY]))


async def forget_expired(work: Work) -> int:
    """Drop the conversations nobody answered for a day (nothing of them was applied). Quietly."""
    result = await work.session.exec(delete(Conversation).where(Conversation.expires_at <= work.now)
                                     .execution_options(synchronize_session=False))
    return max(result.rowcount or 0, 0)


async def forget(session: Session, person_id: int) -> int:
    """Erase the person's conversation (they asked to be forgotten)."""
    result = await session.exec(delete(Conversation).where(Conversation.person_id == person_id)
                                .execution_options(synchronize_session=False))
    return max(result.rowcount or 0, 0)
