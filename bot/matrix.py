"""The Matrix transport: the same commands as the shell, on a real homeserver.

What it guarantees, and how:
- No command is lost: the sync token is stored only after every event of a
  sync was handled, and a sync that says its timeline is ``limited`` is
  completed with /messages back to the previous token.
- No command is answered twice: every answered event id is recorded with the
  answer (see ``commands.services.outbox``), so replays and overlaps are dropped.
- Nothing from before the bot joined a room is acted on.
- Replies are stored before they are sent; a worker sends them in order with a
  stable transaction id, waiting out rate limits and outages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
import time
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ContentRepositoryConfigResponse,
    ErrorResponse,
    InviteMemberEvent,
    JoinError,
    KeysUploadError,
    LocalProtocolError,
    MegolmEvent,
    MessageDirection,
    PowerLevelsEvent,
    ReactionEvent,
    RoomCreateError,
    RoomGetStateError,
    RoomHistoryVisibilityEvent,
    RoomInviteError,
    RoomKickError,
    RoomJoinRulesEvent,
    RoomMemberEvent,
    RoomMessagesError,
    RoomMessageText,
    RoomPreset,
    RoomResolveAliasError,
    RoomSendError,
    RoomUpgradeEvent,
    SyncError,
    SyncResponse,
    UploadResponse,
    WhoamiError,
)
from nio.exceptions import OlmUnverifiedDeviceError, SendRetryError
from nio.store import DefaultStore

from bot import preflight
from bot import rooms as trust
from bot.charts import png_size
from bot.config import Settings
from bot.listener import Listener
from bot.runtime import MAX_BACKLOG, TRANSIENT, Runtime
from bot.scheduler import Scheduler
from bot import credentials

from commands.kinds import RoomKind, RoomProblem
from commands.messages import File, Incoming, Rendered, RoomUnreachable, SendFailed, Sent, Target
from commands.reactions import NO, YES, Reaction, choice_of
from commands.services import bookkeeping, courtesy, groups, membership
from commands.text import Msg
from commands.words import rooms as rooms_said
from commands.words import privacy as privacy_said
from commands.words import roster as roster_said

log = logging.getLogger("mentorbot.matrix")

SYNC_TIMEOUT_MS = 30_000
# Up to 20 new events per room in one sync (smaller responses, less memory at a time);
# more than that is fetched with /messages.
SYNC_FILTER = {
    "room": {"timeline": {"limit": 20}, "state": {"lazy_load_members": False}},
    "presence": {"types": []},
}
TOKEN_KEY = "matrix.next_batch"
TOKEN_SAVE_SECONDS = 2.0
SYNC_PAUSE = 0.3  # seconds the next sync may wait for the work of the last ones
MAX_QUEUED = 2000  # events waiting for their turn, before the bot reads more from the homeserver
ROOM_KEY = "matrix.room.{}"  # where a configured room lives now (after upgrades)
NO_ROLE_KEY = "matrix.no_role.{}"  # who joined a configured room while it was open to anyone
NOT_SEEN = RoomProblem(RoomProblem.NOT_SEEN)
GROUP_ALIAS = "mentorbot-group-{}"  # a group's room, named by its key: made once, found again after a crash
# In a group's room only the bot holds power (as its maker): nobody else invites, removes or changes the room.
GROUP_POWER = {"invite": 100, "kick": 100, "ban": 100, "redact": 100, "state_default": 100, "events_default": 0,
               "users_default": 0}
# A message the homeserver will never take: given up (and logged).
PERMANENT_ERRORS = {"M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_UNKNOWN_TOKEN"}
# The room refuses the bot now (it is not in it, or was removed): the message is kept for later.
UNREACHABLE = {"M_FORBIDDEN", "M_NOT_FOUND"}
REACTION_TRIES = 5  # a reaction the homeserver refuses for now (rate limits) is tried this often, then left out
MATRIX_TO_USER = re.compile(r'<a\s+href="https://matrix\.to/#/(@[^"?]+)"[^>]*>.*?</a>', re.I | re.S)


class FatalMatrixError(Exception):
    """The bot cannot run: bad credentials, a refused login. The message says what to do.

    ``temporary`` when the homeserver may well answer later (it is busy, limits requests,
    or failed): the service manager should start the bot again, not give up on it."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


# Answers that say the homeserver refuses for good; anything else (429, 5xx) may pass.
REFUSALS = {"M_FORBIDDEN", "M_UNKNOWN_TOKEN", "M_USER_DEACTIVATED", "M_NOT_FOUND", "M_INVALID_USERNAME",
            "M_MISSING_TOKEN"}


def _passing(response: Any) -> bool:
    """Whether an error answer may pass by itself (rate limited, a server error)."""
    return getattr(response, "status_code", None) not in REFUSALS


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1]


def command_text(event: RoomMessageText) -> str:
    """What the person typed, with pills turned back into Matrix IDs and reply quotes removed."""
    formatted = getattr(event, "formatted_body", None) or ""
    if formatted and MATRIX_TO_USER.search(formatted):
        text = MATRIX_TO_USER.sub(lambda m: m.group(1), formatted)
        text = re.sub(r"<mx-reply>.*?</mx-reply>", "", text, flags=re.S)
        text = re.sub(r"<br\s*/?>", "\n", text)
        import html  # only rich messages need it (and its table of entities)

        return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()
    body = event.body or ""
    if body.startswith("> "):  # the quoted fallback of a reply
        body = body.split("\n\n", 1)[1] if "\n\n" in body else ""
    return body.strip()


class MatrixBot:
    """Logs in, syncs, hands messages to the runtime, and implements its outbox."""

    def __init__(self, settings: Settings, runtime: Runtime, scheduler: Scheduler, *,
                 listener: Listener | None = None) -> None:
        if settings.matrix is None:
            raise FatalMatrixError("the configuration has no [matrix] section")
        self.settings = settings
        self.cfg = settings.matrix
        if not self.cfg.mentors_room or not self.cfg.council_room:
            # Escalations, change requests and reports would have nowhere to go.
            raise FatalMatrixError("[matrix] mentors_room and council_room must both be set")
        if self.cfg.encryption and not self.cfg.store_path:
            # matrix-nio would otherwise send plaintext into encrypted rooms.
            raise FatalMatrixError("encryption needs [matrix] store_path, where the keys are kept")
        self.store = Path(self.cfg.store_path) if self.cfg.store_path else None
        # Built by the composition root (``bot.app.matrix_bot``); this adapter is the runtime's outbox.
        self.runtime = runtime
        self.scheduler = scheduler
        self.listener = listener  # started first, so that /health answers (503) while connecting
        self.monitor: Any = None  # what serves /health and /metrics on it (``bot.monitoring``), when it is on
        self.allowed_servers = set(self.cfg.allowed_servers) or {server_of(self.cfg.user_id)}
        self.client: AsyncClient | None = None
        self.rooms: dict[RoomKind, str] = {}  # configured room kind -> room id
        self.since: str | None = None
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()  # joined and syncing
        self.sync_timeout_ms = SYNC_TIMEOUT_MS  # how long a sync waits for news before it returns empty
        # When the last sync came back and all of it was taken in (monotonic; None: none yet),
        # and until when the homeserver asked the bot to wait (its rate limit), for /health.
        self.synced_at: float | None = None
        self.rate_limited_until = 0.0
        self._synced = asyncio.Condition()
        self._dm_rooms: dict[str, str] = {}  # user id -> DM room id
        self._group_rooms: dict[str, int] = {}  # room id -> the mentoring group it was made for
        self._token_saved_at = 0.0
        # Set once a sync since start has told the client which rooms the bot is in:
        # before that, sending could not find existing DMs and would open new ones.
        self._rooms_known = asyncio.Event()
        self._joined: set[str] = set()  # rooms the bot was in at the last sync
        self._present: set[str] = set()  # rooms the bot is in, as the newest sync says
        self._max_upload: int | None | bool = False  # the homeserver's upload limit, once asked (False: not yet)
        self._invites_refused: set[tuple[str, str]] = set()  # (room, person) the council was told to invite
        self._creators: dict[str, set[str]] = {}  # who made each room considered for a DM (it never changes)
        # Events go to the runtime's queue per person. A sync's token is stored once all the
        # work its events caused is done: ``_marks`` pairs the last work of each sync with its token.
        self._seq = 0
        self._outstanding: set[int] = set()
        self._marks: deque[tuple[int, str]] = deque()
        self._done_token: str | None = None  # the newest token whose work is all done
        self._queued_ids: dict[str, None] = {}  # event ids queued lately (a sync taken again repeats them)
        self._open: dict[RoomKind, RoomProblem] = {}  # configured rooms open to anyone (or not known yet), and why
        # The join rule and history visibility of each configured room, as its events come, in order.
        self._rules: dict[RoomKind, dict[str, str]] = {}
        self._alerts: list[Msg] = []  # for the council, once it can be told
        # The bot's own ✅ and ❌ under messages that take them, added by a worker of their own so
        # that no reply waits for them: (room, event, keys, transaction id).
        self._to_react: asyncio.Queue[tuple[str, str, tuple[str, ...], str]] = asyncio.Queue()

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve until ``stop()``; returns after a clean shutdown."""
        await self.runtime.start()
        worker: asyncio.Task | None = None
        reacting: asyncio.Task | None = None
        turns: asyncio.Task | None = None
        scheduler: Scheduler | None = None  # set once started
        try:
            if self.listener is not None:
                await self.listener.start()
            if not await self._reach_homeserver():
                return  # stopped while waiting
            await self._login()
            await self._cross_sign()
            self._group_rooms = await self.runtime.read(groups.known_rooms)
            await self._find_configured_rooms()
            self.since = self._done_token = await self._state(TOKEN_KEY)
            if self.since is None:
                await self._first_sync()
            # Joined after a first sync marked where now is: what is said after the join is answered.
            await self._join_configured_rooms()
            await self._reconcile_roster()
            worker = asyncio.create_task(self.runtime.delivery_worker(self.stopping))
            reacting = asyncio.create_task(self._reaction_worker())
            turns = asyncio.create_task(self.runtime.serve_queue(self.stopping))
            scheduler = self.scheduler
            self.runtime.on_change = scheduler.poke
            self.runtime.on_announce = scheduler.announce
            await scheduler.start()
            self.ready.set()
            log.info("joined and syncing as %s", self.cfg.user_id)
            await self._sync_loop()
        finally:
            self.stopping.set()
            if scheduler is not None:
                scheduler.stop()
                with suppress(Exception):
                    await scheduler.drain(timeout=10)
            if turns is not None:  # finishes the work in hand; what is still queued comes again after a restart
                with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(turns, timeout=10)
            if self._done_token is not None and self.client is not None:
                with suppress(Exception):
                    await self._save_token(self._done_token)
            if worker is not None:
                with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(worker, timeout=10)
            if reacting is not None:  # the reactions of the last messages sent, briefly; then left out
                with suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._to_react.join(), timeout=5)
                reacting.cancel()
                with suppress(asyncio.CancelledError):
                    await reacting
            if self.client is not None:
                await self.client.close()
            if self.listener is not None:
                await self.listener.stop()
            await self.runtime.close()

    def stop(self) -> None:
        self.stopping.set()

    # ------------------------------------------------------------------ login

    async def _reach_homeserver(self) -> bool:
        """Wait, with backoff, while the homeserver may answer later (it is down, starting or
        busy); False if stopped meanwhile. What waiting cannot cure (no such host, a server that
        is not a Matrix homeserver, TLS that fails) stops the bot, with what `check-config
        --online` says of it."""
        delay = 1.0
        while not self.stopping.is_set():
            reached = await preflight.homeserver(self.cfg.homeserver)
            if reached.ok:
                return True
            if not reached.temporary:
                raise FatalMatrixError(reached.what)
            log.warning("%s", reached.then(f"Trying again in {delay:.0f} s."))
            await _sleep_unless(self.stopping, delay)
            delay = min(delay * 2, 30)
        return False

    async def _login(self) -> None:
        saved = self._load_credentials()
        self.client = new_client(self.cfg.homeserver, self.cfg.user_id, self.cfg.store_path,
                                 encryption=self.cfg.encryption)
        self.client.add_response_callback(self._on_error_response, ErrorResponse)
        try:
            await self._log_in(saved)
        except Exception as exc:
            if not store_fault(exc):
                raise
            raise FatalMatrixError(preflight.store_damaged(self.store, exc)) from None
        if self.client.olm and self.client.should_upload_keys:
            uploaded = await self.client.keys_upload()
            if isinstance(uploaded, KeysUploadError) and "already exists" in (uploaded.message or ""):
                said = uploaded.message.split(". Old key")[0]  # not the keys themselves
                raise FatalMatrixError(preflight.store_mismatch(self.store, self.client.device_id, said))

    async def _on_error_response(self, response: ErrorResponse) -> None:
        """matrix-nio waits out a rate limit (429) by itself, for as long as the homeserver asks:
        noted, so that messages waiting meanwhile are known to wait for it."""
        if response.status_code == "M_LIMIT_EXCEEDED":
            wait = (getattr(response, "retry_after_ms", None) or 5000) / 1000
            self.rate_limited_until = max(self.rate_limited_until, time.monotonic() + wait)
            self.runtime.observer.homeserver_rate_limited(wait)

    async def _log_in(self, saved: dict[str, str] | None) -> None:
        """Restore the kept device, or log in with the token or the password."""
        cfg = self.cfg
        if saved and await self._restore(saved["device_id"], saved["access_token"]):
            log.info("restored device %s", saved["device_id"])
        elif cfg.access_token:
            self.client.access_token = cfg.access_token
            who = await self.client.whoami()
            if isinstance(who, WhoamiError):
                raise FatalMatrixError(preflight.login_refused("access token", cfg.user_id, who.message),
                                       temporary=_passing(who))
            if who.user_id != cfg.user_id:
                raise FatalMatrixError(preflight.token_of_another(who.user_id, cfg.user_id))
            if not await self._restore(who.device_id, cfg.access_token):
                raise FatalMatrixError(preflight.login_refused("access token", cfg.user_id, "refused"))
            self._save_credentials(who.device_id, cfg.access_token)
        else:
            response = await self.client.login(cfg.password, device_name=cfg.device_name)
            if not hasattr(response, "access_token"):
                raise FatalMatrixError(preflight.login_refused("password", cfg.user_id,
                                                               getattr(response, "message", str(response))),
                                       temporary=_passing(response))
            self._save_credentials(response.device_id, response.access_token)
            log.info("logged in with a new device %s", response.device_id)

    async def _cross_sign(self) -> None:
        """Make the bot's device one its owner has verified (see bot/cross_signing.py). The bot
        runs without it, but clients that exclude unverified devices would not talk to it."""
        if self.client.olm is None or self.store is None:
            return
        from bot import cross_signing

        try:
            done = await cross_signing.ensure(
                homeserver=self.cfg.homeserver, access_token=self.client.access_token, user_id=self.cfg.user_id,
                device_id=self.client.device_id, store=self.store, password=self.cfg.password)
        except cross_signing.CrossSigningError as exc:
            log.error("the bot's device is not cross-signed, so clients that exclude unverified devices will not "
                      "talk to it: %s", exc)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            log.warning("could not check the bot's cross-signing (%s); it is tried again at the next start",
                        type(exc).__name__)
        else:
            fingerprint = self.client.olm.account.identity_keys.get("ed25519", "?")
            log.info("cross-signing: %s (device %s, fingerprint %s)", done, self.client.device_id, fingerprint)

    async def _restore(self, device_id: str, token: str) -> bool:
        assert self.client is not None
        self.client.restore_login(self.cfg.user_id, device_id, token)
        who = await self.client.whoami()
        return not isinstance(who, WhoamiError)

    def _load_credentials(self) -> dict[str, str] | None:
        return credentials.load(self.store, self.cfg.homeserver, self.cfg.user_id) if self.store is not None else None

    def _save_credentials(self, device_id: str, token: str) -> None:
        if self.store is not None:
            credentials.save(self.store, self.cfg.homeserver, self.cfg.user_id, device_id, token)

    # ------------------------------------------------------------------ rooms

    async def _find_configured_rooms(self) -> None:
        """Find the mentors and council rooms; each must resolve.

        A room alias is resolved once and the room it named is kept: whoever controls an
        alias later must not decide which room is the council. If the alias comes to name
        another room, that is reported, never followed.
        """
        for kind, ref in ((RoomKind.MENTORS, self.cfg.mentors_room), (RoomKind.COUNCIL, self.cfg.council_room)):
            self.rooms[kind] = await self._pinned_room(kind, ref)

    async def _join_configured_rooms(self) -> None:
        for kind, room_id in self.rooms.items():
            ref = self.cfg.mentors_room if kind is RoomKind.MENTORS else self.cfg.council_room
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinError):
                log.error(
                    "cannot join the %s room %s (%s): invite %s to it; the bot joins when invited, and "
                    "keeps the room's messages until then",
                    kind.value, ref, joined.message, self.cfg.user_id,
                )

    async def _pinned_room(self, kind: RoomKind, ref: str) -> str:
        key = ROOM_KEY.format(kind.value)
        stored = await self._state(key)
        pin = json.loads(stored) if stored and stored.startswith("{") else None
        if stored and pin is None:  # kept by an older version: the room the configured one became
            pin = {"ref": ref, "resolved": stored, "room_id": stored}
        if pin is None or pin.get("ref") != ref:  # a new configuration: take the room it names now
            resolved = await self._resolve(kind, ref)
            pin = {"ref": ref, "resolved": resolved, "room_id": resolved}
            await self._set_state(key, json.dumps(pin))
            return resolved
        if ref.startswith("#"):
            now = await self.client.room_resolve_alias(ref)
            target = getattr(now, "room_id", None)
            if target and target not in (pin["resolved"], pin["room_id"]) and target != pin.get("reported"):
                log.warning("the alias %s of the %s room now names %s; the bot stays in %s. If the room really "
                            "moved, put the new room's ID in [matrix] %s_room.", ref, kind.value, target,
                            pin["room_id"], kind.value)
                self._alerts.append(rooms_said.alias_changed(kind.value, ref, target, pin["room_id"]))
                pin["reported"] = target
                await self._set_state(key, json.dumps(pin))
        return pin["room_id"]

    async def _resolve(self, kind: RoomKind, ref: str) -> str:
        if ref.startswith("!"):
            return ref
        resolved = await self.client.room_resolve_alias(ref)
        if isinstance(resolved, RoomResolveAliasError):
            raise FatalMatrixError(preflight.room_unresolved(kind.value, ref, resolved.message),
                                   temporary=_passing(resolved))
        return resolved.room_id

    def trust(self, room_id: str, sender: str) -> trust.Trust:
        """What the room is when ``sender`` writes in it (see bot/rooms.py)."""
        room = self.client.rooms.get(room_id) if self.client else None
        return trust.classify(room_id, room, sender, self.cfg.user_id, self.rooms, encryption=self.cfg.encryption,
                              group_rooms=self._group_rooms)

    def room_kind(self, room_id: str) -> RoomKind:
        """The kind of a configured room; any other room is OTHER here (a DM is a DM with someone)."""
        for kind, configured in self.rooms.items():
            if configured == room_id:
                return kind
        return RoomKind.OTHER

    async def _no_role(self, kind: RoomKind) -> set[str]:
        """Who joined the room while it was open to anyone (and was not invited since)."""
        stored = await self._state(NO_ROLE_KEY.format(kind.value))
        return set(json.loads(stored)) if stored else set()

    async def _set_no_role(self, kind: RoomKind, people: set[str]) -> None:
        await self._set_state(NO_ROLE_KEY.format(kind.value), json.dumps(sorted(people)))

    async def _reconcile_roster(self) -> None:
        """Roles as the configured rooms are now; a room open to anyone gives none."""
        for kind, room_id in self.rooms.items():
            state = await self.client.room_get_state(room_id)
            if isinstance(state, RoomGetStateError):
                log.warning("cannot read the members of the %s room: %s", kind.value, state.message)
                # Until the bot can see the room's settings, being in it gives no role.
                await self._judge_openness(kind, NOT_SEEN, at_start=True)
                continue
            joined, departed = set(), set()
            for event in state.events:
                if event.get("type") != "m.room.member" or event.get("state_key") == self.cfg.user_id:
                    continue
                value = event.get("content", {}).get("membership")
                if value == "join":
                    joined.add(event["state_key"])
                elif value in ("leave", "ban"):
                    departed.add(event["state_key"])
            self._rules[kind] = trust.rules_of_state(state.events)
            await self._judge_openness(kind, trust.openness_of(self._rules[kind]), at_start=True)
            grant = kind not in self._open
            # Those who joined while the room was open get no role from it now either.
            joined -= await self._no_role(kind)

            async def catch_up(work, kind=kind, joined=joined, departed=departed, grant=grant) -> None:
                await membership.reconcile(work.session, kind, joined, departed, work.now, work.policy, grant=grant)

            await self.runtime.run("roster", catch_up)
        await self._tell_alerts()

    async def _tell_alerts(self) -> None:
        for alert in self._alerts:
            await self.runtime.tell("room alert", Target.council(), alert)
        self._alerts.clear()

    async def _judge_openness(self, kind: RoomKind, problem: str | None, *, at_start: bool = False) -> None:
        """Note whether a configured room is open to anyone, and tell of a change. While it is,
        joining it gives no role, and what the bot would post there waits."""
        was = self._open.get(kind)
        if problem is None:
            self._open.pop(kind, None)
            if was is not None:
                log.warning("the %s room is invite-only: people who join it get their role", kind.value)
                await self.runtime.release(kind)  # what waited for the room to be private goes now
            return
        self._open[kind] = problem
        if was == problem and not at_start or problem == NOT_SEEN:
            return
        log.error("the %s room is not invite-only (%s): joining it gives no role until it is; make it invite-only",
                  kind.value, rooms_said.problem(problem))
        if kind is not RoomKind.COUNCIL:  # the council room itself at fault: the log is the place
            self._alerts.append(rooms_said.not_invite_only(kind.value, problem))

    # ------------------------------------------------------------------ sync

    async def _first_sync(self) -> None:
        """The first sync of a new bot: note where now is, act on none of the history."""
        response = await self.client.sync(timeout=0, sync_filter=SYNC_FILTER, full_state=True)
        if isinstance(response, SyncError):
            raise FatalMatrixError(f"the first sync failed: {response.message}", temporary=_passing(response))
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(room_id, info)
        await self._crypto_housekeeping()
        await self._save_token(response.next_batch)
        self.since = self._done_token = response.next_batch
        self._present = set(response.rooms.join)
        self._rooms_known.set()
        self.synced_at = time.monotonic()

    async def _sync_loop(self) -> None:
        backoff = 1.0
        stalled = 1.0  # seconds before taking events again that the database could not take
        # After a restart the client knows no room yet: the first sync brings every joined
        # room's full state (members, encryption), so that DMs opened before are found and
        # reused, and encrypted rooms are encrypted to, instead of opening new ones.
        full_state = True
        while not self.stopping.is_set():
            await self._while_busy()
            sync = asyncio.ensure_future(self.client.sync(
                timeout=0 if full_state else self.sync_timeout_ms, sync_filter=SYNC_FILTER, since=self.since,
                full_state=full_state,
            ))
            stop = asyncio.ensure_future(self.stopping.wait())
            done, _ = await asyncio.wait({sync, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if sync not in done:
                sync.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await sync
                return
            try:
                response = sync.result()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any fault
                response = None
                log.warning("sync failed: %s", exc)
            if not isinstance(response, SyncResponse):
                if isinstance(response, SyncError) and response.status_code == "M_UNKNOWN_TOKEN":
                    raise FatalMatrixError("the homeserver no longer accepts the bot's access token; log in again")
                log.warning("sync failed (%s); retrying in %.0f s", getattr(response, "message", response), backoff)
                await _sleep_unless(self.stopping, backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 1.0
            full_state = False
            try:
                await self._process(response)
                self.synced_at = time.monotonic()
                stalled = 1.0
            except GapError as exc:
                # The token is not saved: the next sync starts from the same place,
                # and what was already answered is recognised by its event id.
                log.warning("could not fetch missed events (%s); syncing again", exc)
                await _sleep_unless(self.stopping, 1)
            except TRANSIENT as exc:
                # The database (or the network) is not answering: nothing of these events was
                # kept. Take them again from the same place once it answers.
                log.warning("could not handle this sync (%s); trying the same events again in %.0f s",
                            type(exc).__name__, stalled)
                await _sleep_unless(self.stopping, stalled)
                stalled = min(stalled * 2, 30)

    async def _process(self, response: SyncResponse) -> None:
        self._present = (self._present | set(response.rooms.join)) - set(response.rooms.leave)
        self._rooms_known.set()  # the client has taken in this sync's rooms before it returned
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(room_id, info)
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and self.since and room_id in self._joined:
                # The bot was in the room at the last sync, so the gap holds nothing from
                # before its join: walk it forward a page at a time, acting on each page
                # as it comes, instead of holding every missed event at once.
                done = await self._walk_gap(room_id, info.timeline.prev_batch)
                events = [e for e in events if getattr(e, "event_id", None) not in done]
            elif info.timeline.limited and self.since:
                events = await self._fetch_gap(room_id, info.timeline.prev_batch) + events
            for event in self._since_own_join(_unique(events)):
                await self._handle_one(room_id, event)
        for kind, configured in self.rooms.items():
            if configured in response.rooms.join and configured not in self._joined:
                # In the room (again): its settings as the bot now sees them, and what waited for it goes.
                room = self.client.rooms.get(configured)
                if room is not None:
                    self._rules[kind] = {"join_rule": room.join_rule, "history_visibility": room.history_visibility}
                    if self._open.get(kind) == NOT_SEEN:
                        del self._open[kind]
                    await self._judge_openness(kind, trust.openness_of(self._rules[kind]))
                    await self._tell_alerts()
                await self.runtime.release(kind)
        self._joined |= set(response.rooms.join)
        self._joined -= set(response.rooms.leave)
        for room_id in response.rooms.leave:
            for kind, configured in self.rooms.items():
                if configured == room_id:
                    log.error("the bot was removed from the %s room %s", kind.value, room_id)
        await self._crypto_housekeeping()
        self.since = response.next_batch
        self._marks.append((self._seq, response.next_batch))
        self._advance()
        # Stored at most every few seconds: after a crash the bot syncs again from a
        # slightly older token, and what it already answered is known by event id.
        if self._done_token and time.monotonic() - self._token_saved_at >= TOKEN_SAVE_SECONDS:
            await self._save_token(self._done_token)
        async with self._synced:
            self._synced.notify_all()

    async def _handle_one(self, room_id: str, event: Any) -> None:
        event_id = getattr(event, "event_id", None)
        if event_id in self._queued_ids:
            return  # queued already, from a sync taken again
        while self.runtime.queue.size > MAX_QUEUED and not self.stopping.is_set():
            await asyncio.sleep(0.05)  # a flood: read more only as the queue empties
        try:
            await self._on_event(room_id, event)
        except TRANSIENT:
            raise  # the whole sync is taken again
        except Exception:  # noqa: BLE001 - one event that cannot be handled must not stall the others
            log.exception("an event in a %s room could not be handled; it is skipped", self.room_kind(room_id).value)
        if event_id:
            self._queued_ids[event_id] = None
            if len(self._queued_ids) > 4 * MAX_QUEUED:
                for old in list(self._queued_ids)[: 2 * MAX_QUEUED]:
                    del self._queued_ids[old]

    async def _while_busy(self) -> None:
        """While work from the last syncs waits (queued, or replies not sent yet), the next sync
        waits a little for it: in a burst one larger sync costs the homeserver and the bot less
        than many small ones. Never longer than SYNC_PAUSE, so that a flood cannot hold back
        anyone else's message for long."""
        deadline = time.monotonic() + SYNC_PAUSE
        while ((self.runtime.queue.size or self.runtime.backlog() > MAX_BACKLOG)
               and time.monotonic() < deadline and not self.stopping.is_set()):
            await asyncio.sleep(0.01)

    def _track(self) -> Any:
        """A number for one piece of queued work; returns what to call once it is done."""
        self._seq += 1
        seq = self._seq
        self._outstanding.add(seq)

        def done() -> None:
            self._outstanding.discard(seq)
            self._advance()

        return done

    def _advance(self) -> None:
        """The newest sync token all of whose work is done: the one to store."""
        lowest = min(self._outstanding, default=self._seq + 1)
        while self._marks and self._marks[0][0] < lowest:
            self._done_token = self._marks.popleft()[1]

    async def _walk_gap(self, room_id: str, prev_batch: str) -> set[str]:
        """Handle, oldest first, the events a limited sync left out (from the last sync's
        token forward to its prev_batch); returns their ids."""
        done: set[str] = set()
        token = self.since
        while True:
            page = await self.client.room_messages(
                room_id, start=token, end=prev_batch, direction=MessageDirection.front, limit=50
            )
            if isinstance(page, RoomMessagesError):
                raise GapError(page.message)
            for event in page.chunk:
                event_id = getattr(event, "event_id", None)
                if event_id in done:
                    continue
                if event_id:
                    done.add(event_id)
                await self._handle_one(room_id, event)
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        log.info("handled %d missed events in %s", len(done), room_id)
        return done

    async def _fetch_gap(self, room_id: str, prev_batch: str) -> list[Any]:
        """Events a limited sync left out: from its prev_batch back to the last sync's token."""
        collected: list[Any] = []
        token = prev_batch
        while True:
            page = await self.client.room_messages(
                room_id, start=token, end=self.since, direction=MessageDirection.back, limit=100
            )
            if isinstance(page, RoomMessagesError):
                raise GapError(page.message)
            collected.extend(page.chunk)
            if not page.chunk or not page.end or page.end == token:
                break
            token = page.end
        log.info("fetched %d missed events in %s", len(collected), room_id)
        return list(reversed(collected))

    def _since_own_join(self, events: list[Any]) -> list[Any]:
        """Drop what came before the bot's own join: history is not for acting on."""
        for index in range(len(events) - 1, -1, -1):
            event = events[index]
            if (
                isinstance(event, RoomMemberEvent)
                and event.state_key == self.cfg.user_id
                and event.membership == "join"
                and event.prev_membership != "join"
            ):
                return events[index + 1 :]
        return events

    async def _crypto_housekeeping(self) -> None:
        client = self.client
        if client.olm is None:
            return
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    # ------------------------------------------------------------------ events

    async def _on_invite(self, room_id: str, info: Any) -> None:
        inviter = None
        for event in info.invite_state:
            if isinstance(event, InviteMemberEvent) and event.state_key == self.cfg.user_id:
                inviter = event.sender
        configured = room_id in self.rooms.values()
        if configured or (inviter and server_of(inviter) in self.allowed_servers):
            joined = await self.client.join(room_id)
            if isinstance(joined, JoinError):
                log.warning("could not join %s: %s", room_id, joined.message)
            return
        log.warning("refused an invite from %s: their server is not in allowed_servers", inviter)
        await self.client.room_leave(room_id)

    async def _on_event(self, room_id: str, event: Any) -> None:
        kind = self.room_kind(room_id)
        if getattr(event, "sender", None) == self.cfg.user_id:
            return
        if isinstance(event, RoomMemberEvent):
            await self._on_membership(kind, event)
        elif isinstance(event, RoomUpgradeEvent):
            await self._on_upgrade(kind, room_id, event)
        elif isinstance(event, (RoomJoinRulesEvent, RoomHistoryVisibilityEvent, PowerLevelsEvent)):
            if kind in self.rooms:
                # Judged from the event itself, in the order of the room's events: the room's state
                # at the end of the sync could hide a while when it was open (and who joined then).
                rules = self._rules.setdefault(kind, {})
                if isinstance(event, RoomJoinRulesEvent):
                    rules["join_rule"] = event.join_rule
                elif isinstance(event, RoomHistoryVisibilityEvent):
                    rules["history_visibility"] = event.history_visibility
                if self._open.get(kind) != NOT_SEEN:
                    await self._judge_openness(kind, trust.openness_of(rules))
                await self._tell_alerts()
        elif isinstance(event, RoomMessageText):
            where = await self._where(room_id, event.sender)
            if where.kind is RoomKind.GROUP:
                return  # the group's own conversation: the bot takes no command there
            incoming = Incoming(event.sender, where.kind, command_text(event), room_id=room_id,
                                event_id=event.event_id, room_problem=where.problem)
            done = self._track()
            if not self.runtime.submit_message(incoming, done=done):
                done()  # chat, not for the bot
        elif isinstance(event, ReactionEvent):
            # Plain, or decrypted by the client (an encrypted reaction is parsed as one once read).
            if choice_of(event.key) is None:
                return  # not a one-tap answer
            where = await self._where(room_id, event.sender)
            if where.kind is RoomKind.GROUP:
                return
            reaction = Reaction(event.sender, where.kind, room_id, event.event_id, event.reacts_to, event.key,
                                where.problem)
            self.runtime.submit(event.sender, lambda: self.runtime.react(reaction), done=self._track())
        elif isinstance(event, MegolmEvent):
            kind = self.trust(room_id, event.sender).kind
            self.runtime.submit(event.sender, lambda: self._on_undecryptable(kind, room_id, event), done=self._track())

    async def _where(self, room_id: str, sender: str) -> trust.Trust:
        """What the room is when ``sender`` writes in it; a DM is theirs only if they or the bot made it."""
        where = self.trust(room_id, sender)
        if where.kind is RoomKind.DM and not await self._made_by(room_id, sender):
            where = trust.Trust(RoomKind.OTHER, "someone else set it up")
        if where.kind is RoomKind.DM:
            await self._remember_dm(sender, room_id)
        return where

    async def _on_membership(self, kind: RoomKind, event: RoomMemberEvent) -> None:
        if kind not in (RoomKind.MENTORS, RoomKind.COUNCIL):
            return
        user_id = event.state_key
        if event.membership == "invite" and kind not in self._open:
            refused = await self._no_role(kind)
            if user_id in refused:  # invited by a member of the private room: a role when they join
                await self._set_no_role(kind, refused - {user_id})
            return
        if event.membership == "join" and event.prev_membership != "join":
            if kind in self._open:
                log.warning("%s joined the %s room while it is open to anyone (%s): no role given",
                            user_id, kind.value, rooms_said.problem(self._open[kind]))
                await self._set_no_role(kind, await self._no_role(kind) | {user_id})
                return
            if user_id in await self._no_role(kind):
                log.warning("%s is back in the %s room, which they first joined while it was open: no role "
                            "until a member invites them", user_id, kind.value)
                return

            async def job(work) -> None:
                await membership.joined(work.session, kind, user_id, work.now, work.policy)
        elif event.membership in ("leave", "ban") and event.prev_membership == "join":
            async def job(work) -> None:
                await membership.left(work.session, kind, user_id, work.now)
        else:
            return
        # In the person's turn, after what they said before it.
        self.runtime.submit(user_id, lambda: self.runtime.run("membership", job), done=self._track())

    async def _on_upgrade(self, kind: RoomKind, room_id: str, event: RoomUpgradeEvent) -> None:
        if kind not in self.rooms or not event.replacement_room:
            return
        log.info("the %s room was upgraded to %s; following it", kind.value, event.replacement_room)
        # From now on that is the room; if it cannot be joined yet, its invite is accepted. Until
        # the bot is in it and sees its settings, it gives no role and gets no message.
        self.rooms[kind] = event.replacement_room
        self._open[kind] = NOT_SEEN
        key = ROOM_KEY.format(kind.value)
        stored = await self._state(key)
        ref = self.cfg.mentors_room if kind is RoomKind.MENTORS else self.cfg.council_room
        pin = json.loads(stored) if stored and stored.startswith("{") else {"ref": ref, "resolved": room_id}
        pin["room_id"] = event.replacement_room
        await self._set_state(key, json.dumps(pin))
        joined = await self.client.join(event.replacement_room)
        if isinstance(joined, JoinError):
            log.warning("cannot join the upgraded %s room yet (%s); waiting for an invite", kind.value, joined.message)

    async def _on_undecryptable(self, kind: RoomKind, room_id: str, event: MegolmEvent) -> None:
        with suppress(LocalProtocolError):
            await self.client.request_room_key(event)
        if kind in (RoomKind.OTHER, RoomKind.GROUP):
            return  # no answers in a room that is neither the program's nor a private DM
        incoming = Incoming(event.sender, kind, "", room_id=room_id, event_id=event.event_id)
        # At most once an hour for each person: a client that never shares its keys must not
        # make the bot answer every message it sends.
        await self.runtime.notice(
            incoming,
            rooms_said.undecryptable("help" if kind is RoomKind.DM else f"{self.cfg.command_prefix}help"),
            once_per=courtesy.UNDECRYPTABLE,
        )

    async def _remember_dm(self, user_id: str, room_id: str) -> None:
        if self._dm_rooms.get(user_id) == room_id:
            return
        self._dm_rooms[user_id] = room_id

        async def job(work) -> None:
            await bookkeeping.remember_dm(work.session, user_id, room_id)

        await self.runtime.run("DM room", job)

    # ------------------------------------------------------------------ sending (the outbox)

    async def send(self, message: Rendered, txn_id: str) -> Sent:
        if not self._rooms_known.is_set():
            try:
                await asyncio.wait_for(self._rooms_known.wait(), 30)
            except asyncio.TimeoutError:
                raise SendFailed("the first sync has not completed yet", retry=True) from None
        room_id = await self._room_for(message.target)
        room = self.client.rooms.get(room_id)
        if room is not None and room.encrypted and self.client.olm is None:
            raise RoomUnreachable("the room is encrypted but encryption is off")
        content = _text(message.body, message.html, notify=message.notify, mentions=message.mentions)
        if message.reply_to and message.target.room_id == room_id:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": message.reply_to}}
        if message.invite and message.target.room is not RoomKind.DM:
            await self._invite(room_id, message.invite, message.target.room)
        event_id = await self._room_send(room_id, content, txn_id)
        if message.answers is not None:  # the bot's own ✅ and ❌ under it, for a tap
            keys = (YES, NO) if message.answers.no else (YES,)
            self._to_react.put_nowait((room_id, event_id, keys, txn_id))
        # A room not known yet is taken as encrypted when the bot can encrypt: a file (an
        # export of someone's data) is never uploaded in the clear by mistake.
        encrypted = room.encrypted if room is not None else self.client.olm is not None
        for index, f in enumerate(message.files):
            # Each file has its own transaction id, so a retried message sends none twice.
            await self._send_file(room_id, encrypted, f, f"{txn_id}.{index}")
        return Sent(room_id, event_id)

    async def _reaction_worker(self) -> None:
        """Add the bot's reactions under the messages that take them, one at a time."""
        while True:
            room_id, event_id, keys, txn_id = await self._to_react.get()
            try:
                for index, key in enumerate(keys):
                    await self._add_reaction(room_id, event_id, key, f"{txn_id}.react{index}")
            except Exception:  # noqa: BLE001 - the message says how to answer by typing: it stands without them
                log.warning("could not add the reactions under a message; it can still be answered by typing",
                            exc_info=True)
            finally:
                self._to_react.task_done()

    async def _add_reaction(self, room_id: str, event_id: str, key: str, txn_id: str) -> None:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        for _ in range(REACTION_TRIES):
            try:
                response = await self.client.room_send(room_id, "m.reaction", content, tx_id=txn_id,
                                                       ignore_unverified_devices=True)
            except (LocalProtocolError, SendRetryError, OlmUnverifiedDeviceError, aiohttp.ClientError, OSError,
                    asyncio.TimeoutError) as exc:
                log.warning("a reaction was not added (%s); trying again", type(exc).__name__)
                await _sleep_unless(self.stopping, 1.0)
                continue
            if not isinstance(response, RoomSendError):
                return
            if response.status_code in UNREACHABLE or response.status_code in PERMANENT_ERRORS:
                log.warning("a reaction was refused: %s", response.status_code)
                return
            # Rate limited, or the server is busy: wait as long as it says, as a message does.
            await _sleep_unless(self.stopping, max((response.retry_after_ms or 1000) / 1000, 0.2))
        log.warning("a reaction was left out after %d tries", REACTION_TRIES)

    async def _send_file(self, room_id: str, encrypted: bool, f: File, txn_id: str) -> None:
        """Upload a file (encrypted for an encrypted room, as Element does) and post it. A file
        larger than the homeserver takes is not sent: the room is told, with what to do."""
        data = f.content()
        limit = await self._upload_limit()
        if limit is not None and len(data) > limit:
            await self._too_large(room_id, f, len(data), limit, txn_id)
            return
        try:
            uploaded, keys = await self.client.upload(
                lambda *_: data, content_type=f.mimetype, filename=f.name, encrypt=encrypted, filesize=len(data)
            )
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise SendFailed(f"upload failed: {type(exc).__name__}", retry=True) from None
        if not isinstance(uploaded, UploadResponse):
            if getattr(uploaded, "status_code", None) == "M_TOO_LARGE":
                await self._too_large(room_id, f, len(data), limit, txn_id)
                return
            permanent = getattr(uploaded, "status_code", None) in PERMANENT_ERRORS
            raise SendFailed(f"upload failed: {getattr(uploaded, 'message', uploaded)}", retry=not permanent)
        info: dict[str, Any] = {"mimetype": f.mimetype, "size": len(data)}
        content: dict[str, Any] = {"msgtype": "m.file", "body": f.name, "filename": f.name, "info": info}
        size = png_size(data) if f.mimetype == "image/png" else None
        if size is not None:  # an image (a chart): shown in the room, described in words for who cannot see it
            info["w"], info["h"] = size
            content.update(msgtype="m.image", body=f.alt or f.name)
        if encrypted:
            content["file"] = {**keys, "url": uploaded.content_uri, "mimetype": f.mimetype}
        else:
            content["url"] = uploaded.content_uri
        await self._room_send(room_id, content, txn_id)

    async def _upload_limit(self) -> int | None:
        """The largest file the homeserver takes, asked once; None when it does not say."""
        if self._max_upload is False:
            try:
                response = await self.client.content_repository_config()
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                return None  # asked again with the next file
            if not isinstance(response, ContentRepositoryConfigResponse):
                return None
            self._max_upload = response.upload_size
        return self._max_upload

    async def _too_large(self, room_id: str, f: File, length: int, limit: int | None, txn_id: str) -> None:
        log.warning("a file of %d bytes was not sent: the homeserver takes at most %s", length, limit)
        said = privacy_said.file_too_large(f.name, length, limit)
        await self._room_send(room_id, _text(said.plain(), said.html()), f"{txn_id}.too-large")

    async def _room_send(self, room_id: str, content: dict[str, Any], txn_id: str) -> str:
        """Post a message; returns its event id."""
        try:
            response = await self.client.room_send(
                room_id, "m.room.message", content, tx_id=txn_id, ignore_unverified_devices=True
            )
        except (LocalProtocolError, SendRetryError, OlmUnverifiedDeviceError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}", retry=True) from None
        if isinstance(response, RoomSendError):
            if response.status_code in UNREACHABLE:
                raise RoomUnreachable(f"{response.status_code}: {response.message}")
            permanent = response.status_code in PERMANENT_ERRORS
            raise SendFailed(f"{response.status_code}: {response.message}", retry=not permanent)
        return response.event_id

    async def _invite(self, room_id: str, user_id: str, kind: RoomKind) -> None:
        """Invite someone into one of the program's rooms (a new mentor into the mentors room).
        Someone in it already, or invited, is left as they are. When the bot may not invite
        there, the council is told who to invite, and the message is posted all the same."""
        room = self.client.rooms.get(room_id)
        if room is not None and (user_id in room.users or user_id in room.invited_users):
            return
        try:
            response = await self.client.room_invite(room_id, user_id)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise SendFailed(f"invite failed: {type(exc).__name__}", retry=True) from None
        if not isinstance(response, RoomInviteError):
            return
        if "already in the room" in (response.message or ""):
            return
        if response.status_code != "M_FORBIDDEN":  # the server is busy or limits requests: try again
            raise SendFailed(f"invite failed: {response.status_code}", retry=True)
        log.warning("could not invite someone to the %s room (%s)", kind.value, response.status_code)
        if (room_id, user_id) not in self._invites_refused:  # told once, however often the message is tried
            self._invites_refused.add((room_id, user_id))
            await self.runtime.tell("invite failed", Target.council(),
                                    roster_said.invite_failed(user_id, kind.value, response.message or "refused"))

    async def _room_for(self, target: Target) -> str:
        if target.room in (RoomKind.MENTORS, RoomKind.COUNCIL):
            room_id = self.rooms.get(target.room)
            if room_id is None:  # the bot does not start without both rooms; kept, not dropped
                raise RoomUnreachable(f"no {target.room.value} room is known")
            if room_id not in self._present:
                raise RoomUnreachable(f"the bot is not in the {target.room.value} room {room_id}; invite it")
            if target.room in self._open:
                raise RoomUnreachable(f"the {target.room.value} room is not private ({rooms_said.problem(self._open[target.room])}); "
                                      "its messages wait until it is invite-only")
            return room_id
        if target.room is RoomKind.GROUP and target.group_id is not None:
            return await self._group_room(target.group_id)
        if target.room is RoomKind.DM and target.user_id is not None:
            # Where a DM goes is checked as it goes: a room that stopped being private (someone
            # was invited, it was made public) gets nothing personal; a private one is used or made.
            return await self._dm_room(target.user_id, preferred=target.room_id)
        if target.room_id:
            return target.room_id
        raise SendFailed("a message with no room and no person", retry=False)

    async def _dm_room(self, user_id: str, preferred: str | None = None) -> str:
        """The private direct-message room with a person, opened (as Element does) if there is none.

        Only a room that passes the trust test (bot/rooms.py) is used: a room that someone
        else set up with the two of them in it, then left, is never taken for a DM."""
        known = preferred or self._dm_rooms.get(user_id)
        if known is None:
            known = await self.runtime.read(lambda session: bookkeeping.dm_room_of(session, user_id))
        # Only rooms the bot is still in (matrix-nio keeps a room it was removed from).
        current = {room_id: room for room_id, room in self.client.rooms.items() if room_id in self._present}
        for found in trust.private_dms(current, user_id, self.cfg.user_id, encryption=self.cfg.encryption,
                                       excluded=set(self.rooms.values()) | set(self._group_rooms),
                                       preferred=known):
            if not await self._made_by(found, user_id):
                continue
            if found != known:
                await self._remember_dm(user_id, found)
            return found
        initial_state = []
        if self.cfg.encryption:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        created = await self.client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user_id], initial_state=initial_state
        )
        if isinstance(created, RoomCreateError):
            raise RoomUnreachable(f"cannot open a DM: {created.message}")  # no one's Matrix ID: it goes to the log
        log.info("opened a new private DM %s", created.room_id)
        self._present.add(created.room_id)
        self._creators[created.room_id] = {self.cfg.user_id}
        await self._remember_dm(user_id, created.room_id)
        await self._until_synced(created.room_id, user_id)
        return created.room_id

    async def _group_room(self, group_id: int) -> str:
        """The room of a mentoring group, made (once) if there is none, with the group's people
        in it and nobody else: who joined the group since is invited, who left it is removed.
        Nothing is posted while it is not private to the group (``trust.group_problem``)."""
        info = await self.runtime.read(lambda session: groups.room_of(session, group_id))
        if info is None:
            raise SendFailed(f"no group {group_id}", retry=False)
        room_id = info.room_id or await self._make_group_room(info)
        room = self.client.rooms.get(room_id)
        if room is None or room_id not in self._present:
            raise RoomUnreachable(f"the bot is not in the room of group {group_id}")
        gone: set[str] = set()
        if info.running:  # an ended group's room is left as it was
            for user_id in sorted(info.people - set(room.users)):
                await self._invite(room_id, user_id, RoomKind.GROUP)
            for user_id in sorted(set(room.users) - info.people - {self.cfg.user_id}):
                kicked = await self.client.room_kick(room_id, user_id)
                if isinstance(kicked, RoomKickError):
                    raise RoomUnreachable(f"cannot remove someone from the room of group {group_id}: "
                                          f"{kicked.status_code}")
                gone.add(user_id)
        problem = trust.group_problem(room, info.people, self.cfg.user_id, encryption=self.cfg.encryption, gone=gone)
        if problem is not None:
            raise RoomUnreachable(f"the room of group {group_id} is not private to it ({rooms_said.problem(problem)})")
        return room_id

    async def _make_group_room(self, info: groups.GroupRoom) -> str:
        """Make a group's room, invite-only and encrypted (when the bot encrypts). Its alias, from
        the group's key stored before, makes this idempotent: a room made before a crash, whose
        id was not stored yet, is found by its alias instead of being made twice."""
        alias = GROUP_ALIAS.format(info.room_key)
        initial_state = [{"type": "m.room.history_visibility", "state_key": "",
                          "content": {"history_visibility": "shared"}}]
        if self.cfg.encryption:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        created = await self.client.room_create(
            alias=alias, name=info.name, preset=RoomPreset.private_chat, invite=sorted(info.people),
            initial_state=initial_state, power_level_override=GROUP_POWER,
        )
        if isinstance(created, RoomCreateError):
            if created.status_code != "M_ROOM_IN_USE":
                raise RoomUnreachable(f"cannot make the room of group {info.group_id}: {created.message}")
            found = await self.client.room_resolve_alias(f"#{alias}:{server_of(self.cfg.user_id)}")
            if isinstance(found, RoomResolveAliasError):
                raise SendFailed(f"cannot find the room of group {info.group_id}: {found.message}", retry=True)
            room_id = found.room_id
            log.info("found the room %s of group %d, made before", room_id, info.group_id)
        else:
            room_id = created.room_id
            log.info("made the room %s for group %d", room_id, info.group_id)
            self._present.add(room_id)
        self._group_rooms[room_id] = info.group_id

        async def job(work) -> None:
            await groups.remember_room(work.session, info.group_id, room_id)

        await self.runtime.run("group room", job)
        if info.people:
            await self._until_synced(room_id, min(info.people))
        return room_id

    async def _made_by(self, room_id: str, person: str) -> bool:
        """Whether the room was made by the person or the bot: one that someone else set up
        with the two of them in it is not their DM, even after its maker left (a maker keeps
        power in a room, whatever its power levels say)."""
        made = self._creators.get(room_id)
        if made is None:
            state = await self.client.room_get_state(room_id)
            if isinstance(state, RoomGetStateError):
                return False
            made = self._creators[room_id] = trust.creators(state.events)
        return bool(made) and made <= {person, self.cfg.user_id}

    async def _until_synced(self, room_id: str, invitee: str, timeout: float = 30) -> None:
        """Wait until a sync has brought a new room's state: that it is encrypted, and who
        is invited, so that the invitee's devices get the keys of the first message."""
        def known() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and invitee in room.users

        async def synced() -> None:
            async with self._synced:
                await self._synced.wait_for(known)

        try:
            await asyncio.wait_for(synced(), timeout)
        except asyncio.TimeoutError:
            raise SendFailed(f"the new room {room_id} did not appear in a sync", retry=True) from None

    # ------------------------------------------------------------------ stored state

    async def _state(self, key: str) -> str | None:
        return await self.runtime.read(lambda session: bookkeeping.kept(session, key))

    async def _set_state(self, key: str, value: str, *, durable: bool = True) -> None:
        async def job(work) -> None:
            await bookkeeping.keep(work.session, key, value)

        await self.runtime.run("bot state", job, durable=durable)

    async def _save_token(self, token: str) -> None:
        # Taken back by a power cut, the sync starts from an older token: the events come
        # again and are known as handled.
        await self._set_state(TOKEN_KEY, token, durable=False)
        self._token_saved_at = time.monotonic()


def _text(body: str, html: str, *, notify: bool = False, mentions: tuple[str, ...] = ()) -> dict[str, Any]:
    """A text message's content. What someone must notice is m.text: default push rules never
    notify an m.notice."""
    return {"msgtype": "m.text" if notify else "m.notice", "body": body, "format": "org.matrix.custom.html",
            "formatted_body": html, "m.mentions": {"user_ids": list(mentions)}}


def new_client(homeserver: str, user_id: str, store_path: str, *, encryption: bool) -> AsyncClient:
    """The client the bot logs in with, its encryption store in ``store_path`` (made, for the bot's
    user only, if it is not there yet)."""
    client_config = AsyncClientConfig(
        encryption_enabled=encryption,
        store_sync_tokens=False,  # the sync token lives in our database
        store=DefaultStore,
        max_timeout_retry_wait_time=15,
        request_timeout=60,
    )
    if store_path:
        Path(store_path).mkdir(parents=True, exist_ok=True)
        os.chmod(store_path, 0o700)
    return AsyncClient(homeserver, user_id, store_path=store_path, config=client_config)


def store_fault(exc: Exception) -> bool:
    """Whether an error came from the encryption store's own database (damaged, unreadable)."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] == "peewee"


class GapError(Exception):
    """Missed events could not be fetched."""


def _unique(events: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for event in events:
        event_id = getattr(event, "event_id", None)
        if event_id in seen:
            continue
        if event_id:
            seen.add(event_id)
        out.append(event)
    return out


async def _sleep_unless(event: asyncio.Event, seconds: float) -> None:
    with suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
