"""From a message to replies: prefix, lookup, permission, parsing, handler, errors.

This is the one place where domain errors become friendly replies, and where a
crashing handler becomes an apology instead of a dead bot. Each command runs in
one database transaction: if it is refused or fails, nothing it did is kept and
nothing it meant to send is sent.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DisconnectionError, IntegrityError, InterfaceError, OperationalError

from commands.clock import Clock
from commands.dates import date_languages
from commands.framework import (
    Command,
    CommandError,
    Denied,
    ParseEnv,
    Registry,
    Role,
    RoomKind,
    UsageError,
    WrongRoom,
)
from commands.messages import Answers, File, Incoming, Outgoing, Target
from commands.observer import SKIPPED, UNKNOWN, Observer, counted
from commands.policy import ProgramPolicy, RetentionPolicy
from commands import suggest, wishes, words
from commands.words import dispatch as said
from commands.words import welcome as welcome_said
from commands.services import courtesy, outbox, people, welcome
from commands.services.errors import DomainError
from commands.services.languages import Readers, of_person
from commands.services.work import Work
from commands.text import Msg, as_typed, reading, reading_in
from storage.db import Database
from storage.models import Person

log = logging.getLogger(__name__)

MAX_MESSAGE = 4000  # characters in one command message
# Faults that pass: the database locked or gone, the network. The same work can be tried again.
PASSING_FAULTS = (OperationalError, InterfaceError, DisconnectionError, OSError, asyncio.TimeoutError)
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(kw_only=True)
class Context(Work):
    """Everything a command handler needs: who asked, where, and the unit of work."""

    incoming: Incoming
    registry: Registry
    command: Command
    person: Person | None
    roles: frozenset[Role]
    host: str = ""  # the bot's server (``example.org``), naming what it makes (a calendar event's UID)

    @property
    def sender(self) -> str:
        return self.incoming.sender

    @property
    def room(self) -> RoomKind:
        return self.incoming.room

    @property
    def zone(self) -> ZoneInfo:
        """The sender's time zone: their profile's, else the program's."""
        return people.zone_of(self.person, self.policy)

    async def me(self) -> Person:
        """The sender's record, created if this is their first contact."""
        if self.person is None:
            self.person = await people.ensure(self.session, self.sender, self.now)
        return self.person

    def reply(self, msg: Msg | str, files: tuple[File, ...] = (), answers: Answers | None = None) -> None:
        self.outbox.append(Outgoing(Target.reply_to(self.incoming), _msg(msg), self.incoming.answered_event,
                                    files=tuple(files), answers=answers))

    def send(self, target: Target, msg: Msg | str, reply_to: str | None = None, *, notify: bool | None = None,
             invite: str | None = None, files: tuple[File, ...] = (), answers: Answers | None = None) -> None:
        """Send to ``target``; a message for the very room the command came from is a reply."""
        here = self.incoming.room
        if invite is None and ((target.room is here and here is RoomKind.DM and target.user_id == self.sender) or (
            target.room is here and here in (RoomKind.MENTORS, RoomKind.COUNCIL) and target.room_id is None
        ) or target == Target.reply_to(self.incoming)):
            self.reply(msg, files, answers)
        else:
            super().send(target, msg, reply_to, notify=notify, invite=invite, files=files, answers=answers)

    def cmd(self, text: str) -> Msg:
        """How to type a command here: with the prefix in a shared room."""
        return as_typed(text, self.room, self.prefix)


def _msg(msg: Msg | str) -> Msg:
    return msg if isinstance(msg, Msg) else Msg(msg)


@dataclass
class Result:
    outcome: str  # ok, ignored, duplicate, unknown, usage, denied, wrong_room, refused, failed, too_long, outside, skipped
    messages: list[Outgoing]
    command: str | None = None
    stored: list[outbox.Queued] = field(default_factory=list)  # the messages as stored, to deliver
    planned: bool = False  # the command planned reminders: the transport's timer should look again
    announced: bool = False  # a forum topic waits to be posted


class Dispatcher:
    def __init__(
        self,
        registry: Registry,
        db: Database,
        policy: ProgramPolicy,
        clock: Clock,
        prefix: str = "!",
        forum: str | None = None,
        retention: RetentionPolicy | None = None,
        host: str = "",
    ) -> None:
        self.registry, self.db, self.policy, self.clock, self.prefix = registry, db, policy, clock, prefix
        self.forum, self.host = forum, host
        self.retention = retention or RetentionPolicy()
        # Commands and scheduled work take turns: each reads and writes as if alone.
        self._turn = asyncio.Lock()
        self.observer = Observer()  # who watches (``bot.monitoring``); by default nobody

    def command_text(self, incoming: Incoming) -> str | None:
        """The command in a message, or None when the message is not for the bot.

        In shared rooms only messages that start with the prefix are commands; in
        a DM everything is, and a prefix out of habit is tolerated.
        """
        text = incoming.text.strip()
        if incoming.room is RoomKind.DM:
            return text[len(self.prefix) :].strip() if text.startswith(self.prefix) else text
        if not text.startswith(self.prefix):
            return None
        text = text[len(self.prefix) :].strip()
        # "!!! great news" or a lone "!" is chat, not a command.
        return text if text[:1].isalpha() else None

    def is_for_me(self, incoming: Incoming) -> bool:
        """Whether a message is addressed to the bot: anything in a DM, a command (the prefix
        and a word) in a shared room, and in any other room the prefix or a would-be DM."""
        if incoming.room is RoomKind.OTHER:
            return bool(incoming.room_problem) or incoming.text.lstrip().startswith(self.prefix)
        return self.command_text(incoming) is not None

    async def skipped(self, skipped: list[Incoming], notice: Msg) -> Result:
        """Commands not run (beyond their sender's budget): each is recorded as handled, so
        that it is never run later either; the first gets ``notice``, at most every few minutes."""
        now = self.clock.now()
        async with self._turn:
            async with self.db.session() as session:
                fresh = await outbox.not_handled(session, skipped)
                if not fresh:
                    return Result("duplicate", [])
                first = fresh[0]
                messages: list[Outgoing] = []
                # Not in a room the bot does not answer in: there, its one pointer a day is all it says.
                if first.room is not RoomKind.OTHER and await courtesy.due(session, first.sender,
                                                                           courtesy.SLOW_DOWN, now):
                    messages = [Outgoing(Target.reply_to(first), notice, first.event_id)]
                await outbox.mark_handled(session, fresh[1:], now)
                rows = await outbox.store(session, messages, now, handled=first, readers=self._readers())
                await session.commit()
        for incoming in fresh:
            self.observer.command(self.name_of(incoming), SKIPPED, None)
        # One line for the run, not one per command: a flood must not flood the log too.
        log.info("commands skipped", extra={"outcome": SKIPPED, "count": len(fresh), "room": first.room.value})
        return Result("skipped", messages, None, rows)

    def name_of(self, incoming: Incoming) -> str:
        """The name of the command a message names, from the command table; ``unknown`` for none."""
        text = self.command_text(incoming)
        command = self.registry.find(text)[0] if text else None
        return command.name if command is not None else UNKNOWN

    async def handle(self, incoming: Incoming) -> Result:
        started = time.perf_counter()
        if CONTROL.search(incoming.text):
            # Invisible control characters (NUL above all, which PostgreSQL cannot store) are dropped.
            incoming = replace(incoming, text=CONTROL.sub("", incoming.text))
        with reading_in(self.policy.language):
            async with self._turn:
                result = await self._handle(incoming)
        outcome = counted(result.outcome)
        if outcome is not None:
            seconds = time.perf_counter() - started
            name = result.command or UNKNOWN
            self.observer.command(name, outcome, seconds)
            if log.isEnabledFor(logging.INFO):
                # The command's name from the table, never what was typed nor who typed it.
                log.info("command handled", extra={"command": name, "outcome": outcome,
                                                   "duration_ms": round(seconds * 1000, 1),
                                                   "room": incoming.room.value})
        return result

    async def _handle(self, incoming: Incoming) -> Result:
        if incoming.room is RoomKind.OTHER:
            return await self._outside(incoming)
        text = self.command_text(incoming)
        if text is None:
            return Result("ignored", [])
        now = self.clock.now()
        command, _, rest = self.registry.find(text) if text else (None, "", "")
        routed, rest = await self._conversation(incoming, text, command, rest, now)
        if routed is command and incoming.room is RoomKind.DM and text and len(incoming.text) <= MAX_MESSAGE and (
                command is None or wishes.wish(text) is not None):  # not an answer in a guided conversation
            return await self._not_a_command(incoming, text, now)
        command = routed
        if command is None or len(incoming.text) > MAX_MESSAGE:
            return await self._answer(incoming, now, self._early_answer(incoming, text))
        ctx: Context | None = None
        readers: Readers | None = None
        try:
            async with self.db.session() as session:
                # A replayed event is caught by the handled_event primary key at commit.
                person, languages = await people.find_with_languages(session, incoming.sender)
                # The sender reads their replies in their language; a shared room, the program's.
                readers = self._readers(incoming.sender, person, languages)
                if incoming.room is RoomKind.DM:
                    reading.set(readers.known[incoming.sender])
                roles = await self._roles(session, incoming.sender, person)
                command = self.registry.pick(command, incoming.room, roles)
                self._check_access(command, roles, incoming)
                self._check_subcommand(command, rest, incoming)
                typed = "" if incoming.room is RoomKind.DM else self.prefix
                read_in = [person.language, *languages] if person is not None and person.language else languages
                args = command.parse(rest, ParseEnv(now, people.zone_of(person, self.policy),
                                                    date_languages(read_in), typed))
                ctx = Context(
                    incoming=incoming,
                    session=session,
                    now=now,
                    policy=self.policy,
                    prefix=self.prefix,
                    registry=self.registry,
                    command=command,
                    person=person,
                    roles=roles,
                    forum=self.forum,
                    retention=self.retention,
                    render=words.render,
                    host=self.host,
                    readers=readers,
                )
                await command.handler(ctx, **await command.resolve(args, ctx))
                # The answer is stored with what the command did: both or neither.
                rows = await outbox.store(session, ctx.outbox, now, handled=incoming, readers=ctx.readers)
                await session.commit()
            if ctx.erased:
                await self._empty_log()
            return Result("ok", ctx.outbox, command.name, rows, planned=ctx.planned, announced=ctx.announced)
        except CommandError as exc:
            return await self._answer(incoming, now, (exc.outcome, exc.message), command.name, readers=readers)
        except DomainError as exc:
            try:
                explained = words.explain(exc, ctx) if ctx is not None else None
            except Exception:  # noqa: BLE001 - a refusal without words is a failure, answered with an apology
                explained = None
            if explained is None:
                return await self._failed(incoming, now, command)
            return await self._answer(incoming, now, (exc.outcome, explained), command.name, readers=readers)
        except IntegrityError:
            # Another worker handled this very event a moment ago.
            if incoming.event_id and await self._was_handled(incoming.event_id):
                return Result("duplicate", [], command.name)
            return await self._failed(incoming, now, command)
        except Exception:
            return await self._failed(incoming, now, command)

    def _readers(self, sender: str | None = None, person: Person | None = None,
                 languages: list[str] = ()) -> Readers:
        """Who reads which language; with a sender read from the database, theirs is known."""
        if sender is None:
            return Readers(self.policy.language)
        return Readers(self.policy.language, {sender: of_person(person, languages, self.policy.language)})

    async def _roles(self, session, sender: str, person: Person | None) -> frozenset[Role]:
        roles = people.roles_of(sender, person, self.policy)
        if person is None and Role.COUNCIL in roles and await people.removal_kept(session, sender):
            roles = roles - {Role.COUNCIL}  # removed by the council, then erased at their request
        return roles

    async def _not_a_command(self, incoming: Incoming, text: str, now: datetime) -> Result:
        """Words in a DM that are no command (or one of the plain wishes of ``commands.wishes``): the
        one place they are answered. Nothing is done on a guess: a wish is answered with the command
        to type, a clear typo with a safe command (``commands.suggest``), anything else
        with a welcome that fits the person, in full once a day and in one line after that."""
        wish = wishes.wish(text)
        if wish is not None:
            return await self._answer(incoming, now, ("wish", welcome_said.wish(wish)))
        typo = self._typo(incoming, text)
        if typo is not None:
            return await self._answer(incoming, now, ("unknown", typo))
        chat = wishes.chat(text)
        messages: list[Outgoing] = []
        try:
            async with self.db.session() as session:
                readers = self._readers()
                if await courtesy.due(session, incoming.sender, courtesy.WELCOME, now):
                    person, languages = await people.find_with_languages(session, incoming.sender)
                    readers = self._readers(incoming.sender, person, languages)
                    roles = await self._roles(session, incoming.sender, person)
                    standing = await welcome.standing(session, person, roles, now)
                    msg = welcome_said.welcome(chat, standing, self.policy)
                else:
                    msg = welcome_said.again(chat)
                messages = [Outgoing(Target.reply_to(incoming), msg, incoming.event_id)]
                rows = await outbox.store(session, messages, now, handled=incoming, readers=readers)
                await session.commit()
        except IntegrityError:  # the handled_event key: this event was answered already
            return Result("duplicate", [])
        return Result("welcome", messages, None, rows)

    async def _outside(self, incoming: Incoming) -> Result:
        """A room that is neither one of the program's nor a private DM (a public room, a room
        with others in it, an unencrypted DM): what people tell the bot can be personal, so it
        runs no command there. Whoever addresses it gets one short pointer to a DM a day."""
        text = incoming.text.strip()
        if not incoming.room_problem and not text.startswith(self.prefix):
            return Result("ignored", [])
        now = self.clock.now()
        msg = said.outside(incoming.room_problem)
        return await self._answer(incoming, now, ("outside", msg), once_per=courtesy.OTHER_ROOM)

    async def run_job(self, name: str, job: Callable[[Work], Awaitable[object]], *,
                      raise_passing: bool = False, durable: bool = True) -> Result:
        """Run program work that no message asked for (escalations, reminders) in one transaction.

        Like a command, it either happens with everything it sends, or not at all. A failure is
        logged and reported as such; with ``raise_passing``, a passing fault (the database locked
        or gone) is raised instead, for the caller to try the same work again.
        """
        with reading_in(self.policy.language):
            async with self._turn:
                return await self._run_job(name, job, raise_passing, durable)

    async def _run_job(self, name: str, job: Callable[[Work], Awaitable[object]],
                       raise_passing: bool = False, durable: bool = True) -> Result:
        now = self.clock.now()
        try:
            async with self.db.session(durable=durable) as session:
                work = Work(session=session, now=now, policy=self.policy, prefix=self.prefix, forum=self.forum,
                            retention=self.retention, render=words.render, readers=self._readers())
                await job(work)
                rows = await outbox.store(session, work.outbox, now, readers=work.readers)
                await session.commit()
            if work.erased:
                await self._empty_log()
        except PASSING_FAULTS:
            if raise_passing:
                raise
            log.exception("scheduled work %s failed; it will be tried again", name)
            return Result("failed", [], name)
        except Exception:
            log.exception("scheduled work %s failed; it will be tried again", name)
            return Result("failed", [], name)
        return Result("ok", work.outbox, name, rows)

    async def _empty_log(self) -> None:
        """Erased texts must leave the disk: the database's write-ahead log still holds them
        until it is checkpointed and emptied."""
        try:
            await self.db.checkpoint()
        except Exception:  # noqa: BLE001 - the erasure is done; the log empties at the next checkpoint
            log.warning("could not empty the database's log after an erasure; it empties at the next checkpoint",
                        exc_info=True)

    async def notice(self, incoming: Incoming, msg: Msg, *, once_per: str | None = None) -> Result:
        """Answer a message that is not a command (one the transport could not read), once.

        With ``once_per`` (a kind of courtesy notice), the sender gets it at most once in
        that kind's period, whatever they send meanwhile."""
        with reading_in(self.policy.language):
            async with self._turn:
                return await self._answer(incoming, self.clock.now(), ("notice", msg), once_per=once_per)

    async def _failed(self, incoming: Incoming, now: datetime, command: Command) -> Result:
        log.error("command %s failed: %s", command.name, _where_it_failed())
        apology = said.failed(self._cmd(incoming, command.name))
        return await self._answer(incoming, now, ("failed", apology), command.name)

    async def _was_handled(self, event_id: str) -> bool:
        async with self.db.session() as session:
            return await outbox.already_handled(session, event_id)

    async def _answer(
        self, incoming: Incoming, now: datetime, answer: tuple[str, Msg], command: str | None = None,
        once_per: str | None = None, readers: Readers | None = None,
    ) -> Result:
        """Store a reply that is the whole outcome (refusal, error, unknown command)."""
        outcome, msg = answer
        messages = [Outgoing(Target.reply_to(incoming), msg, incoming.answered_event)]
        try:
            async with self.db.session() as session:
                if once_per is not None and not await courtesy.due(session, incoming.sender, once_per, now):
                    return Result("ignored", [], command)
                rows = await outbox.store(session, messages, now, handled=incoming,
                                          readers=readers or self._readers())
                await session.commit()
        except IntegrityError:  # the handled_event key: this event was answered already
            return Result("duplicate", [], command)
        return Result(outcome, messages, command, rows)

    async def _conversation(self, incoming: Incoming, text: str, command: Command | None, rest: str,
                            now: datetime) -> tuple[Command | None, str]:
        """A sender in the middle of a guided conversation: their text may be its answer."""
        if self.registry.conversation is None or incoming.room is not RoomKind.DM or not text or len(
                incoming.text) > MAX_MESSAGE:
            return command, rest
        async with self.db.session() as session:
            return await self.registry.conversation.route(session, incoming.sender, text, command, rest, now)

    def _early_answer(self, incoming: Incoming, text: str) -> tuple[str, Msg]:
        if not text:
            return "unknown", said.hello(self._cmd(incoming, "help"))
        if len(incoming.text) > MAX_MESSAGE:
            return "too_long", said.too_long(len(incoming.text), MAX_MESSAGE)
        return "unknown", self._unknown(incoming, text)

    def _check_access(self, command: Command, roles: frozenset[Role], incoming: Incoming) -> None:
        if not command.allows_role(roles):
            raise Denied(said.denied(self._cmd(incoming, command.name), command.who(), self._cmd(incoming, "help")))
        if not command.allows_room(incoming.room):
            raise WrongRoom(said.wrong_room(self._cmd(incoming, command.name), command.where()))

    def _check_subcommand(self, command: Command, rest: str, incoming: Incoming) -> None:
        """``profile language en`` is a typo of ``profile languages``, not extra words."""
        word = rest.split()[0].lower() if rest.split() else ""
        if command.args or not word:
            return
        forms = [c.name for c in self.registry.subcommands(command.name)]
        close = difflib.get_close_matches(f"{command.name} {word}", forms, n=1, cutoff=0.75)
        if close:
            meant = self.registry.get(close[0])
            if meant is not None and not meant.safe:  # never suggested from a guess: its help is
                raise UsageError(said.explain_first(f"{command.name} {word}", self._cmd(incoming, close[0]),
                                                    self._cmd(incoming, f"help {close[0]}")))
            raise UsageError(said.did_you_mean_subcommand(f"{command.name} {word}", self._cmd(incoming, close[0])))

    def _unknown(self, incoming: Incoming, text: str) -> Msg:
        return self._typo(incoming, text) or said.unknown_command(_shown(text), None, self._cmd(incoming, "help"))

    def _typo(self, incoming: Incoming, text: str) -> Msg | None:
        """The answer to words that name a family of commands or are clearly a typo of one; None
        otherwise. Only a safe command is suggested itself; for one that changes anything else,
        its help is (see ``commands.suggest``). A family's name alone (``mentor``) is no guess: its
        forms are listed; followed by words that match none of them, its help is offered."""
        word = text.split()[0].lower()
        subs = self.registry.subcommands(word)
        if subs and text.lower().split() == [word]:
            return said.needs_subcommand(word, [self._cmd(incoming, c.name) for c in subs],
                                         self._cmd(incoming, f"help {subs[0].name}"))
        close = suggest.closest(self.registry, text)
        if close is not None and not close.explain:
            return said.unknown_command(_cut(close.typed), self._cmd(incoming, close.typed_name),
                                        self._cmd(incoming, "help"))
        if close is not None:
            return said.explain_first(_cut(close.typed), self._cmd(incoming, close.typed_name),
                                      self._cmd(incoming, f"help {close.typed_name}"))
        if subs:
            return said.family_help(word, self._cmd(incoming, f"help {word}"))
        return None

    def _cmd(self, incoming: Incoming, text: str) -> Msg:
        return as_typed(text, incoming.room, self.prefix)


def _where_it_failed() -> str:
    """The exception being handled, for the log: its kind and the lines it came through, without
    its message, which may quote what was typed."""
    kind, _, tb = sys.exc_info()
    if kind is None:
        return "no exception"
    return f"{kind.__qualname__} (its message is left out: it may quote what was typed)\n" + "".join(
        traceback.format_tb(tb)).rstrip()


def _shown(text: str) -> str:
    """The first word of ``text``, as quoted back: cut when it is long."""
    return _cut(text.split()[0].lower())


def _cut(words: str) -> str:
    return words if len(words) <= 30 else words[:30] + "…"
