"""Guided conversations in a DM: a ``request`` or a new mentor's set-up, one question at a time.

While a person has a conversation open, what they type in their DM that is no command is the
answer to its pending question (the dispatcher asks :data:`LISTENER`), read by the question's
function in :mod:`commands.readers`. ``cancel`` (or ``stop``) ends it at any point with nothing
stored; after the last question comes a summary, and only ``yes`` applies the answers. A real
command typed meanwhile runs as usual and the conversation stays open where it was; the reply
of the first such command says so and asks the pending question again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from commands import readers
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, ArgError, Command, Router, Text
from commands.policy import ProgramPolicy
from commands.messages import Target
from commands.services import conversations, mentorships, people
from commands.services.conversations import CAPACITY, CONFIRM, GOAL, INTERESTS, LANGUAGES, SKILLS, TIMEZONE
from commands.services.errors import DomainError
from commands.text import Msg, lines
from commands.words import conversations as said
from commands.words import explain
from commands.words import roster as roster_said
from storage.models import Conversation, ConversationKind, Person
from storage.session import Session

# How each question's answer is read. Each is ``read(text, policy) -> value`` or raises ArgError
# or a domain error.
READERS: dict[str, Callable[[str, ProgramPolicy], Any]] = {
    GOAL: readers.read_goal,
    LANGUAGES: readers.read_languages,
    TIMEZONE: readers.read_timezone,
    INTERESTS: readers.read_interests,
    SKILLS: readers.read_skills,
    CAPACITY: readers.read_capacity,
}

router = Router("conversation", "Guided conversations")  # not listed: its command is reached by answering


@router.command("answer", args=[Arg("text", Text("answer"))], rooms=DM_ONLY)
async def answer(ctx: Context, text: str) -> None:
    """The answer to the pending question of the sender's conversation."""
    me = await ctx.me()
    conversation = await conversations.open_of(ctx.session, me.id, ctx.now)
    if conversation is None:  # forgotten between the look and the answer
        ctx.reply(said.nothing_open(ctx))
        return
    word = said.control_word(text)
    if word == "cancel" or (word == "no" and conversation.pending == CONFIRM):
        await conversations.end(ctx, conversation)
        ctx.reply(said.stopped(ctx, conversation.kind))
        return
    if conversation.pending == CONFIRM:
        if word != "yes":
            conversations.touch(ctx, conversation)
            ctx.reply(lines(said.yes_or_no(ctx), summary(ctx, conversation)))
            return
        await conclude(ctx, me, conversation)
        return
    try:
        value = READERS[conversation.pending](text, ctx.policy)
        if conversation.pending == CAPACITY:
            people.check_group_size(ctx.policy, value)
    except ArgError as exc:
        conversations.touch(ctx, conversation)
        ctx.reply(said.again(str(exc), pending_question(ctx, conversation)))
        return
    except DomainError as exc:
        conversations.touch(ctx, conversation)
        ctx.reply(said.again(explain(exc, ctx), pending_question(ctx, conversation)))
        return
    asked = conversation.pending
    following = conversations.record(ctx, conversation, value)
    after = summary(ctx, conversation) if following == CONFIRM else pending_question(ctx, conversation)
    ctx.reply(lines(said.got_it(asked, value), after))


ANSWER: Command = router.commands[0]


def pending_question(ctx: Context, conversation: Conversation) -> Msg:
    """What the conversation waits for: its next question, or after the last one, a yes or no."""
    if conversation.pending == CONFIRM:
        return summary(ctx, conversation)
    questions = conversations.asked(conversation)
    number = questions.index(conversation.pending) + 1
    return said.question(ctx, conversation.pending, number, len(questions),
                         max_capacity=people.largest_group(ctx.policy))


def summary(ctx: Context, conversation: Conversation) -> Msg:
    return said.summary(ctx, conversation.kind, conversations.answers_of(conversation),
                        conversations.QUESTIONS[conversation.kind])


async def conclude(ctx: Context, me: Person, conversation: Conversation) -> None:
    """``yes``: the answers are stored as the ``profile`` commands store them, then a request is made
    by the very ``request`` command, as if its text had been typed after it."""
    kind = conversation.kind
    given = await conversations.end(ctx, conversation)
    await conversations.apply_profile(ctx, me, given)
    if kind is ConversationKind.REQUEST:
        typed = ctx.registry.get("request")
        assert typed is not None
        await typed.handler(ctx, what=given[GOAL])
    else:
        ctx.reply(said.mentor_profile_saved(ctx))


# ---------------------------------------------------------------- starting one


async def begin_request(ctx: Context, me: Person, goal: str) -> bool:
    """``request`` without a text, or (``request_asks_profile``) from a mentee whose profile lacks
    what matching needs: the conversation begins with its first question (True). False: the request
    is made at once, and a request conversation the mentee had open is over."""
    questions = await conversations.request_questions(ctx.session, me, goal)
    if goal and not ctx.policy.request_asks_profile:
        questions = ()
    if not questions:
        await conversations.drop(ctx, me, ConversationKind.REQUEST)
        return False
    await mentorships.check_may_ask(ctx.session, me)  # refused now, not after the last question
    conversation = await conversations.start(ctx, me, ConversationKind.REQUEST, questions,
                                             {GOAL: goal} if goal else None)
    ctx.reply(lines(said.begin_request(ctx, len(questions)), pending_question(ctx, conversation)))
    return True


async def mentor_welcome(ctx: Context, mentor: Person) -> Msg:
    """The welcome of a mentor the council just added, which begins their set-up; a person in the
    middle of another conversation keeps it and is welcomed with the ``profile`` commands instead."""
    if await conversations.open_of(ctx.session, mentor.id, ctx.now) is not None:
        return roster_said.welcome_mentor(ctx.policy.name, mentor.capacity)
    questions = conversations.QUESTIONS[ConversationKind.MENTOR_SETUP]
    conversation = await conversations.start(ctx, mentor, ConversationKind.MENTOR_SETUP, questions)
    return lines(said.welcome_mentor(ctx, ctx.policy.name, mentor.capacity, len(questions)),
                 pending_question(ctx, conversation))


# ---------------------------------------------------------------- the dispatcher's question


class Listener:
    """Tells the dispatcher which command a DM text is, given the sender's open conversation."""

    async def route(self, session: Session, sender: str, text: str, command: Command | None, rest: str,
                    now: datetime) -> tuple[Command | None, str]:
        if not await conversations.open_for(session, sender, now):
            return command, rest
        if command is None or said.control_word(text) is not None:
            return ANSWER, text
        return replace(command, handler=_reminding(command.handler)), rest


def _reminding(handler: Callable[..., Any]) -> Callable[..., Any]:
    """A command typed in the middle of a conversation: it runs; then, if it left the conversation
    as it was, its reply says the conversation is still open and asks the pending question again
    (once a question: the commands typed after that are answered as usual)."""

    async def run(ctx: Context, **kwargs: Any) -> None:
        before = await _state(ctx)
        await handler(ctx, **kwargs)
        after = await _state(ctx)
        if after is not None and after == before:
            conversation = await conversations.open_of(ctx.session, ctx.person.id, ctx.now)
            if not conversations.first_reminder(conversation):
                return
            _add_to_reply(ctx, said.still_open(ctx, conversation.kind, pending_question(ctx, conversation)))

    return run


def _add_to_reply(ctx: Context, msg: Msg) -> None:
    """Below the command's own reply, in the same message (a reply stays one message)."""
    here = Target.reply_to(ctx.incoming)
    for i in range(len(ctx.outbox) - 1, -1, -1):
        if ctx.outbox[i].target == here:
            ctx.outbox[i] = replace(ctx.outbox[i], msg=lines(ctx.outbox[i].msg, msg))
            return
    ctx.reply(msg)


async def _state(ctx: Context) -> tuple | None:
    if ctx.person is None or ctx.person.id is None:
        return None
    row = await conversations.open_of(ctx.session, ctx.person.id, ctx.now)
    return None if row is None else (row.kind, row.pending, row.answers, row.started_at)


LISTENER = Listener()
