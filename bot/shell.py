"""The terminal shell: the real dispatcher and database over a text transport.

One message per line::

    @ana:example.org> request help with event planning     a DM from Ana
    mentors @bob:example.org> !accept 1                      in the mentors room
    council @cy:example.org> !help                           in the council room
    other @eve:example.org> !help                            in some other room
    % now 2027-03-01T09:00 Europe/Berlin                     set the simulated clock
    % advance 3d                                             move the clock forward
    % as @ana:example.org                                    speaker for lines without one
    % react @ana:example.org ✅                              Ana's reaction to what the bot asked her
    # a comment
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from commands.clock import ManualClock
from commands.framework import ArgError, RoomKind, check_timezone, is_matrix_id, parse_duration
from commands.messages import File, Incoming, Rendered, Sent, Target
from commands.reactions import NO, YES, Reaction
from commands.services import answers
from commands.services.forum import ForumPost, Posted

ROOM_WORDS = {"mentors": RoomKind.MENTORS, "council": RoomKind.COUNCIL, "other": RoomKind.OTHER}
MESSAGE_LINE = re.compile(r"^(?:(?P<room>[A-Za-z]+)\s+)?(?P<sender>@[^\s>]+)>(?P<text>.*)$")
SPEAKER = re.compile(r"^(?:(?P<room>[A-Za-z]+)\s+)?(?P<sender>@[^\s>]+)$")
OTHER_ROOM_ID = "!other:shell"
FILES_DIR = "mentorbot-files"  # where the shell saves the files the bot sends (exports)
MIN_YEAR, MAX_YEAR = 1971, 9000  # far from the limits of datetime in any zone

SHELL_HELP = """\
Type one message per line:
  @ana:example.org> profile                 a direct message from Ana (no prefix needed)
  mentors @bob:example.org> !mentors        a message in the mentors room (prefix needed)
  council @cy:example.org> !help            a message in the council room
  other @eve:example.org> !help             a message in some other room
  % as @ana:example.org                     then plain lines are sent as Ana in a DM
  % as mentors @bob:example.org             ...or as Bob in the mentors room
  % react @bob:example.org ✅                Bob reacts to the last message the bot sent him that
                                            asks him something (✅ yes, ❌ no); `% react ✅` for
                                            the speaker set with % as, in their room
  % now 2027-03-01T09:00 Europe/Berlin      set the simulated clock (and the zone it is shown in)
  % advance 3d                              move the clock (m, h, d, w); reminders and
                                            rules that come due on the way fire in order
  % now                                     show the simulated time
  % show                                    print the last file the bot sent, if it is text
                                            (a calendar file, a summary); files are also saved
                                            in mentorbot-files/
  # a comment; % help shows this; % quit (or Ctrl-D) leaves"""


class ShellError(Exception):
    """A line the shell cannot understand."""


@dataclass(frozen=True)
class Speaker:
    sender: str
    room: RoomKind

    def label(self) -> str:
        return self.sender if self.room is RoomKind.DM else f"{self.room.value} {self.sender}"


def parse_speaker(room_word: str | None, sender: str) -> Speaker:
    room = RoomKind.DM if room_word is None else ROOM_WORDS.get(room_word.lower())
    if room is None:
        raise ShellError(f"unknown room {room_word!r}: use mentors, council or other (or nothing for a DM)")
    if not is_matrix_id(sender):
        raise ShellError(f"{sender[:60]!r} is not a Matrix ID; write it like @ana:example.org")
    return Speaker(sender, room)


def parse_when(text: str, default_zone: str) -> tuple[datetime, str]:
    """`2027-03-01T09:00 Europe/Berlin` (zone optional): an aware datetime and the zone to show."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise ShellError("write the time like: % now 2027-03-01T09:00 Europe/Berlin")
    try:
        when = datetime.fromisoformat(parts[0])
    except ValueError:
        raise ShellError(f"{parts[0][:40]!r} is not a date and time; write it like 2027-03-01T09:00") from None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        raise ShellError(f"keep the clock between the years {MIN_YEAR} and {MAX_YEAR}")
    if when.tzinfo is None:
        try:
            zone = check_timezone(parts[1] if len(parts) == 2 else default_zone)
        except ArgError as exc:
            raise ShellError(str(exc)) from None
        return when.replace(tzinfo=ZoneInfo(zone)), zone
    if len(parts) == 2:
        raise ShellError("give either an offset in the time or a zone name, not both")
    return when, default_zone


def room_id_of(room: RoomKind, user_id: str | None = None, group_id: int | None = None) -> str:
    """The room a message goes to in the shell, as a reaction names it: a DM is the person's."""
    if room is RoomKind.DM:
        return f"!dm-{user_id}:shell"
    if room is RoomKind.GROUP:
        return f"!group-{group_id}:shell"
    return OTHER_ROOM_ID if room is RoomKind.OTHER else f"!{room.value}:shell"


def sent(message: Rendered, txn_id: str) -> Sent:
    """Where the shell (or a test) posts a message: the event id is the message's transaction's."""
    target: Target = message.target
    room_id = target.room_id if target.room is RoomKind.OTHER and target.room_id else room_id_of(
        target.room, target.user_id, target.group_id)
    return Sent(room_id, f"${txn_id}")


def render(message: Rendered, saved: tuple[Path, ...] = ()) -> str:
    """A message as the shell prints it; each file it carries on a line of its own, with its size
    (and where the shell saved it, ``saved``)."""
    target = message.target
    if target.room is RoomKind.DM:
        label = f"dm {target.user_id}"
    elif target.room is RoomKind.OTHER:
        label = f"room {target.room_id or 'other'}"
    elif target.room is RoomKind.GROUP:
        label = f"group {target.group_id}"
    else:
        label = target.room.value
    invited = f"(invites {message.invite} to the {label} room)\n" if message.invite else ""
    text = f"{invited}[{label}] {message.body}"
    if message.answers is not None:  # the bot's own reactions under it, to tap
        text += f"\n  [{YES} {NO} react to answer]" if message.answers.no else f"\n  [{YES} react to answer]"
    for n, f in enumerate(message.files):
        where = f", saved as {saved[n]}" if n < len(saved) else ""
        text += f"\n  (file {f.name}, {f.mimetype}, {len(f.content()):,} bytes{where})"
    return text


class ShellOutbox:
    """Prints every message the bot sends, one block each; files it sends are saved in
    ``files_dir`` (readable by this user only: they may be confidential). The last one sent
    is kept, for ``% show`` to print."""

    def __init__(self, out: TextIO, files_dir: Path | None = None) -> None:
        self.out = out
        self.files_dir = files_dir or Path(FILES_DIR)
        self.last_file: File | None = None

    async def send(self, message: Rendered, txn_id: str) -> Sent:
        saved = tuple(self._save(f) for f in message.files)
        if message.files:
            self.last_file = message.files[-1]
        self.out.write(render(message, saved) + "\n\n")
        self.out.flush()
        return sent(message, txn_id)

    def _save(self, f: File) -> Path:
        self.files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        stem, dot, ext = f.name.rpartition(".")
        path, n = self.files_dir / f.name, 1
        while path.exists():
            n += 1
            path = self.files_dir / f"{stem}-{n}{dot}{ext}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(f.content())
        return path


class ShellForum:
    """The forum (a :class:`~commands.services.forum.Forum`), when no [discourse] is configured:
    prints the topic that would be posted."""

    label = "announcements"

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def publish(self, *, title: str, raw: str, external_id: str, maybe_posted: bool) -> Posted:
        body = "\n".join(f"  {line}" for line in raw.splitlines())
        self.out.write(f"[discourse {self.label}] {title}\n{body}\n(not posted: no [discourse] in the configuration)\n\n")
        self.out.flush()
        return Posted(None, None)

    async def latest_posts(self, before: int | None = None) -> list[ForumPost]:
        return []  # nothing to relay: there is no forum

    async def close(self) -> None:
        pass


class Shell:
    """Reads lines and feeds them to a runtime; owns the simulated clock."""

    def __init__(self, runtime, clock: ManualClock, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.runtime, self.clock, self.out, self.err = runtime, clock, out, err
        self.speaker: Speaker | None = None
        self.zone = runtime.settings.program.timezone
        self.finished = False

    def prompt(self) -> str:
        return f"{self.speaker.label()}> " if self.speaker else "> "

    def clock_line(self) -> str:
        local = self.clock.now().astimezone(ZoneInfo(self.zone))
        return f"[clock] {local:%Y-%m-%d %H:%M} {self.zone} ({local:%a})"

    async def feed(self, line: str, number: int | None = None) -> None:
        """Handle one line; a line that cannot be understood prints an error and is skipped."""
        try:
            await self._feed(line.rstrip("\n"))
        except ShellError as exc:
            where = f"line {number}: " if number is not None else ""
            self.err.write(f"error: {where}{exc}\n")
            self.err.flush()

    async def _feed(self, line: str) -> None:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return
        if stripped.startswith("%"):
            await self._directive(stripped[1:].strip())
            return
        match = MESSAGE_LINE.match(stripped)
        if match:
            speaker = parse_speaker(match.group("room"), match.group("sender"))
            text = match.group("text").strip()
        elif self.speaker is not None:
            speaker, text = self.speaker, stripped
        else:
            raise ShellError(
                "start the line with who is speaking, like `@ana:example.org> help` "
                "(or pick a speaker with `% as @ana:example.org`; `% help` explains more)"
            )
        room_id = OTHER_ROOM_ID if speaker.room is RoomKind.OTHER else None
        await self.runtime.handle(Incoming(sender=speaker.sender, room=speaker.room, text=text, room_id=room_id))

    async def _directive(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        word, rest = word.lower(), rest.strip()
        if word == "now":
            if rest:
                when, self.zone = parse_when(rest, self.zone)
                await self.runtime.advance_to(when, self.clock)
            self._say(self.clock_line())
        elif word == "advance":
            try:
                delta = parse_duration(rest)
            except ArgError as exc:
                raise ShellError(str(exc)) from None
            await self._advance(delta)
        elif word == "as":
            match = SPEAKER.match(rest)
            if not match:
                raise ShellError("write it like `% as @ana:example.org` or `% as mentors @bob:example.org`")
            self.speaker = parse_speaker(match.group("room"), match.group("sender"))
        elif word == "show":
            self._say(self._last_file_text())
        elif word == "react":
            await self._react(rest)
        elif word == "help":
            self._say(SHELL_HELP)
        elif word in ("quit", "exit"):
            self.finished = True
        else:
            raise ShellError(f"unknown directive %{word}: use % now, % advance, % as, % react, % show, % help or % quit")

    async def _react(self, rest: str) -> None:
        """A person's reaction to the last message the bot sent them that a reaction answers."""
        who, _, key = rest.rpartition(" ")
        key = key.strip()
        if not key:
            raise ShellError(f"write it like `% react @ana:example.org {YES}` (or {NO}); `% react {YES}` after % as")
        if who.strip():
            match = SPEAKER.match(who.strip())
            if not match:
                raise ShellError(f"write it like `% react @ana:example.org {YES}` or `% react council @cy:example.org {YES}`")
            speaker = parse_speaker(match.group("room"), match.group("sender"))
        elif self.speaker is not None:
            speaker = self.speaker
        else:
            raise ShellError(f"say who reacts, like `% react @ana:example.org {YES}`, or pick a speaker with % as")
        room_id = room_id_of(speaker.room, speaker.sender)
        row = await self.runtime.read(lambda session: answers.latest_for(session, speaker.sender, room_id))
        if row is None:
            where = "in a DM" if speaker.room is RoomKind.DM else f"in the {speaker.room.value} room"
            raise ShellError(f"the bot has asked {speaker.sender} nothing {where} that a reaction answers")
        await self.runtime.react(Reaction(speaker.sender, speaker.room, room_id, f"$react-{uuid.uuid4().hex}",
                                          row.event_id, key))

    async def _advance(self, delta: timedelta) -> None:
        if delta > timedelta(days=3660):
            raise ShellError("that is more than ten years; advance in smaller steps")
        if (self.clock.now() + delta).year > MAX_YEAR:
            raise ShellError(f"keep the clock between the years {MIN_YEAR} and {MAX_YEAR}")
        await self.runtime.advance_to(self.clock.now() + delta, self.clock)
        self._say(self.clock_line())

    def _last_file_text(self) -> str:
        """The text of the last file the bot sent (an .ics calendar, a summary), to read it here."""
        f = getattr(self.runtime.outbox, "last_file", None)
        if f is None:
            raise ShellError("the bot has sent no file yet; `calendar` or `mydata` sends one")
        if f.encoding != "text":
            raise ShellError(f"{f.name} is not text ({f.mimetype}); open the saved copy in {FILES_DIR}/")
        return f"(file {f.name})\n{f.data.rstrip()}"

    def _say(self, text: str) -> None:
        self.out.write(text + "\n\n")
        self.out.flush()

    async def run_lines(self, lines) -> None:
        for number, line in enumerate(lines, start=1):
            await self.feed(line, number)
            if self.finished:
                break
