"""The floor: a plain matrix-nio bot that answers `!ping` with `pong`, in its own process.

It fetches the events a limited sync leaves out (as mentorbot does), so that a
burst compares like with like. Usage: python -m bench.echo_bot HOMESERVER USER PASSWORD
"""

from __future__ import annotations

import asyncio
import sys

from nio import AsyncClient, MessageDirection, RoomMessageText, SyncResponse

FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"types": []}}


async def main(homeserver: str, user: str, password: str) -> None:
    client = AsyncClient(homeserver, user)
    await client.login(password)
    first = await client.sync(timeout=0, sync_filter=FILTER)
    for room_id in first.rooms.invite:
        await client.join(room_id)
    since = first.next_batch
    answered: set[str] = set()
    print("ready", flush=True)
    while True:
        response = await client.sync(timeout=30000, sync_filter=FILTER, since=since)
        if not isinstance(response, SyncResponse):
            await asyncio.sleep(0.5)
            continue
        for room_id in response.rooms.invite:
            await client.join(room_id)
        for room_id, info in response.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited:
                gap, token = [], info.timeline.prev_batch
                while True:
                    page = await client.room_messages(room_id, start=token, end=since,
                                                      direction=MessageDirection.back, limit=100)
                    gap.extend(page.chunk)
                    if not page.chunk or not page.end or page.end == token:
                        break
                    token = page.end
                events = list(reversed(gap)) + events
            for event in events:
                if (isinstance(event, RoomMessageText) and event.sender != user and event.body == "!ping"
                        and event.event_id not in answered):
                    answered.add(event.event_id)
                    await client.room_send(room_id, "m.room.message", {
                        "msgtype": "m.notice", "body": "pong",
                        "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
                    })
        since = response.next_batch


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
