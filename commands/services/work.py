"""One unit of program work: the database session, the time, the policy, and what comes of it.

Services take a ``Work`` and change the program's data through its session. What people
must hear about is not written here: a service *emits* a domain event (``work.emit``),
and the message layer above (``commands.words``), handed in as ``render``, turns each
event into messages, in the order they happened. So services hold no sentence and import
nothing from the command layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from commands.kinds import RoomKind
from commands.messages import Answers, File, Outgoing, Target
from commands.policy import ProgramPolicy, RetentionPolicy
from commands.services.languages import Readers
from commands.text import Msg
from storage.session import Session


class Event:
    """Something that happened in the program that someone must hear about.

    Each kind of event is a frozen dataclass next to the service that emits it; the
    message layer has one renderer per kind."""


def _unrendered(event: Event, work: Work) -> None:
    raise LookupError(f"no message layer was given to render {type(event).__name__}")


@dataclass(kw_only=True)
class Work:
    """One unit of work in one transaction: the database session, the time, and what to send.

    Commands get a ``Context`` (which adds who asked and where); scheduled program work
    (escalations, reminders) gets a plain ``Work``.
    """

    session: Session
    now: datetime
    policy: ProgramPolicy
    prefix: str
    outbox: list[Outgoing] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Turns an event into messages (``commands.words.render``): given by the layer that runs the work.
    render: Callable[[Event, Work], None] = _unrendered
    planned: bool = False  # set when reminders were planned, so the timer can wake up for them
    forum: str | None = None  # the forum category announcements go to; None: no forum configured
    announced: bool = False  # set when a topic waits to be posted, so the forum worker wakes up
    erased: bool = False  # set when texts were erased: the database's log is emptied after the commit
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    bulk: bool = False  # what is sent now is one of the program's bulk notices (see ``in_bulk``)
    # Which language each reader of what is sent gets (the program's, until looked up).
    readers: Readers = field(default_factory=lambda: Readers("en"))

    def emit(self, event: Event) -> None:
        """Record that ``event`` happened; the people concerned hear of it with this work's messages."""
        self.events.append(event)
        self.render(event, self)

    def send(self, target: Target, msg, reply_to: str | None = None, *, notify: bool | None = None,
             invite: str | None = None, files: tuple[File, ...] = (), answers: Answers | None = None) -> None:
        """Send ``msg`` (a ``commands.text.Msg``) to ``target``. What goes to one person's DM is
        meant for them: it notifies them (``notify``), unless told otherwise. In a shared room,
        only what someone must act on (an escalation, a request to decide) notifies. ``invite``: a
        person the transport invites into the target room before posting (a new mentor).
        ``files`` are sent after the message, in the same room (a chart). ``answers``: what a ✅ or
        ❌ reaction under it answers (see ``commands.reactions``)."""
        if notify is None:
            notify = target.room is RoomKind.DM and target.user_id is not None
        self.outbox.append(Outgoing(target, msg if isinstance(msg, Msg) else Msg(msg), reply_to, notify=notify,
                                    bulk=self.bulk, invite=invite, files=tuple(files), answers=answers))

    @contextmanager
    def in_bulk(self) -> Iterator[None]:
        """What is sent inside is notices nobody waits for this minute (overdue warnings, digests),
        which may be thousands after a long downtime: they are delivered after replies and reminders."""
        before, self.bulk = self.bulk, True
        try:
            yield
        finally:
            self.bulk = before
