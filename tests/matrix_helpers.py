"""People on a real homeserver, as matrix-nio clients, and the bot running beside them."""

from __future__ import annotations

from tests.conftest import database_url

import asyncio
import itertools
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
    RoomPreset,
    ReactionEvent,
    SyncResponse,
)

from bot.app import matrix_bot
from bot.config import MatrixSettings, Settings, StorageSettings
from bot.matrix import MatrixBot
from commands.policy import ProgramPolicy
from tests.synapse import Account, Synapse

_names = itertools.count()


def unique(name: str) -> str:
    return f"{name}{next(_names)}{secrets.token_hex(2)}"


@dataclass
class Seen:
    room_id: str
    sender: str
    body: str
    html: str
    msgtype: str
    content: dict[str, Any]
    event_id: str


@dataclass
class SeenReaction:
    room_id: str
    sender: str
    reacts_to: str
    key: str
    event_id: str


@dataclass
class Person:
    """A person with a Matrix client that keeps syncing and remembers what it saw."""

    account: Account
    client: AsyncClient
    seen: list[Seen] = field(default_factory=list)
    reactions: list[SeenReaction] = field(default_factory=list)
    task: asyncio.Task | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def start(self) -> None:
        if self.client.olm is not None and self.client.should_upload_keys:
            await self.client.keys_upload()  # as a client does when it first logs in
        first = await self.client.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            response = await self.client.sync(timeout=1000)
            if not isinstance(response, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            for room_id, info in response.rooms.join.items():
                for event in info.timeline.events:
                    if isinstance(event, (RoomMessageText, RoomMessageNotice, RoomMessageFile, RoomEncryptedFile,
                                          RoomMessageImage, RoomEncryptedImage)):
                        self.seen.append(Seen(
                            room_id, event.sender, event.body, getattr(event, "formatted_body", "") or "",
                            event.source["content"].get("msgtype", ""), event.source["content"], event.event_id,
                        ))
                    elif isinstance(event, ReactionEvent):
                        self.reactions.append(SeenReaction(room_id, event.sender, event.reacts_to, event.key,
                                                           event.event_id))
            for room_id in response.rooms.invite:
                await self.client.join(room_id)
            if self.client.olm is not None:
                await self.client.send_to_device_messages()
                if self.client.should_upload_keys:
                    await self.client.keys_upload()
                if self.client.should_query_keys:
                    await self.client.keys_query()
                if self.client.should_claim_keys:
                    await self.client.keys_claim(self.client.get_users_for_key_claiming())
            self.changed.set()

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self.task
        await self.client.close()

    async def say(self, room_id: str, text: str) -> str:
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": text}, ignore_unverified_devices=True
        )
        assert hasattr(response, "event_id"), response
        return response.event_id

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """React to a message as Element does: in an encrypted room the reaction is encrypted
        (its relation stays in the clear part), elsewhere it is a plain m.reaction."""
        content: dict[str, Any] = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        kind = "m.reaction"
        if self.client.rooms[room_id].encrypted:
            if not self.client.rooms[room_id].members_synced:  # as room_send does before it encrypts
                await self.client.joined_members(room_id)
                if self.client.should_query_keys:
                    await self.client.keys_query()
            if self.client.olm.should_share_group_session(room_id):
                await self.client.share_group_session(room_id, ignore_unverified_devices=True)
            kind, content = self.client.encrypt(room_id, kind, content)
        url = f"{self.client.homeserver}/_matrix/client/v3/rooms/{room_id}/send/{kind}/{secrets.token_hex(8)}"
        async with aiohttp.ClientSession() as http:
            async with http.put(url, json=content,
                                headers={"Authorization": f"Bearer {self.account.access_token}"}) as response:
                answer = await response.json()
        assert "event_id" in answer, answer
        return answer["event_id"]

    def has_joined(self, room_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is joined (not just invited) in the room, as this person sees it."""
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    async def until_joined(self, room_id: str, user_id: str, timeout: float = 20.0) -> None:
        await self.wait_for(lambda _: self.has_joined(room_id, user_id), timeout)

    def from_user(self, user_id: str, room_id: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.sender == user_id and (room_id is None or s.room_id == room_id)]

    async def wait_for(self, predicate, timeout: float = 20.0) -> list[Seen]:
        """Wait until ``predicate(seen)`` is true; returns what was seen."""
        async def until() -> None:
            while not predicate(self.seen):
                self.changed.clear()
                await self.changed.wait()

        try:
            await asyncio.wait_for(until(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.user_id} waited {timeout}s; saw {[s.body[:80] for s in self.seen]}")
        return self.seen

    async def replies(self, bot_id: str, room_id: str, count: int, timeout: float = 20.0) -> list[Seen]:
        await self.wait_for(lambda seen: len([s for s in seen if s.sender == bot_id and s.room_id == room_id]) >= count,
                            timeout)
        return self.from_user(bot_id, room_id)

    async def dm(self, other: str, *, encrypted: bool = False) -> str:
        """Open a direct chat the way Element does."""
        initial_state = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        created = await self.client.room_create(
            is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[other], initial_state=initial_state
        )
        assert hasattr(created, "room_id"), created
        return created.room_id

    async def room(self, *invite: str, name: str = "room", encrypted: bool = False) -> str:
        initial_state = [{"type": "m.room.encryption", "state_key": "",
                          "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else []
        created = await self.client.room_create(name=name, invite=list(invite), preset=RoomPreset.private_chat,
                                                initial_state=initial_state)
        assert hasattr(created, "room_id"), created
        return created.room_id


async def person(synapse: Synapse, name: str, tmp_path: Path, *, encrypted: bool = False) -> Person:
    account = synapse.register(unique(name))
    store = tmp_path / f"store-{account.user_id[1:].split(':')[0]}"
    store.mkdir(parents=True, exist_ok=True)
    config = AsyncClientConfig(encryption_enabled=encrypted, store_sync_tokens=False)
    client = AsyncClient(synapse.url, account.user_id, store_path=str(store) if encrypted else "", config=config)
    client.restore_login(account.user_id, account.device_id, account.access_token)
    someone = Person(account, client)
    await someone.start()
    return someone


def bot_settings(
    synapse: Synapse,
    bot: Account,
    tmp_path: Path,
    *,
    mentors_room: str,
    council_room: str,
    council: list[str] | None = None,
    encryption: bool = True,
    allowed_servers: list[str] | None = None,
) -> Settings:
    return Settings(
        matrix=MatrixSettings(
            homeserver=synapse.url,
            user_id=bot.user_id,
            password=bot.password,
            store_path=str(tmp_path / "bot-store"),
            mentors_room=mentors_room,
            council_room=council_room,
            allowed_servers=allowed_servers or [],
            encryption=encryption,
        ),
        storage=StorageSettings(url=database_url(tmp_path)),
        program=ProgramPolicy(name="Test program", timezone="Europe/Berlin", council=council or []),
    )


class RunningBot:
    """The bot in this process, started and stopped as a service would be."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bot: MatrixBot | None = None
        self.task: asyncio.Task | None = None

    async def start(self, timeout: float = 30) -> MatrixBot:
        self.bot = matrix_bot(self.settings)
        self.task = asyncio.create_task(self.bot.run())
        ready = asyncio.ensure_future(self.bot.ready.wait())
        done, _ = await asyncio.wait({ready, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            self.task.result()  # raises what stopped it
        assert ready in done, "the bot did not get ready in time"
        return self.bot

    async def stop(self) -> None:
        if self.bot is not None and self.task is not None:
            self.bot.stop()
            await asyncio.wait_for(self.task, 30)
        self.bot = self.task = None
