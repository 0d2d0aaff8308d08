"""Discourse's webhook: the forum tells the bot of a new topic at once.

Served as ``POST /discourse/webhook`` on the bot's listener when both ``[discourse]
webhook_secret`` and ``[monitoring] listen`` are set. Discourse signs every delivery: its
``X-Discourse-Event-Signature`` header is ``sha256=`` and the hex HMAC-SHA256 of the raw
body, keyed with the secret. Its ``X-Discourse-Event`` header names the event
(``topic_created``, ``post_created``, ...) and the body holds the object under the event's
type: ``{"topic": {...}}``, ``{"post": {...}}``, or ``{"ping": "OK"}``.

A delivery is answered at once, before anything is relayed (Discourse waits for the answer,
gives up after a while, and counts anything but a 2xx as a failure); the relaying is done
afterwards, through the runtime like the poll's, into the same notice for the mentors room.
A topic both the webhook and the poll see, or that Discourse delivers twice, is relayed once
(``commands.services.announcements.relay_pushed``); the poll stays the catch-up after
downtime, and for a delivery this refuses.

The answers:
- 403 ``bad signature``: no signature, or not the one the secret makes (nothing more is said);
- 400: a body that is not a JSON object, or a new topic or post without what the relay reads;
- 409: a new topic or post older than ``EVENT_WINDOW`` or dated ahead by more than
  ``CLOCK_SKEW`` (a delivery replayed, or held up for long): the poll catches it up;
- 413, from the listener: a body over its limit (1 MB);
- 200 otherwise: ``pong`` to a ping, ``relaying`` a new topic of the relayed category, and
  ``ignored: ...`` for everything else (replies, edits, other categories, private messages,
  the bot's own topics).

The log says the event, its id and what became of it; never the secret, the signature or
what the topic says.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from bot.config import DiscourseSettings
from bot.discourse import forum_post, topic_url
from bot.listener import Listener
from bot.runtime import Runtime
from commands.services.forum import ForumPost, ForumTopic, new_topics

log = logging.getLogger("mentorbot.webhook")

PATH = "/discourse/webhook"
SIGNATURE = "X-Discourse-Event-Signature"
EVENT = "X-Discourse-Event"
EVENT_TYPE = "X-Discourse-Event-Type"
EVENT_ID = "X-Discourse-Event-Id"
# The events that bring a new topic, and where the body holds it.
NEWS = {"topic_created": "topic", "post_created": "post"}
EVENT_WINDOW = timedelta(minutes=15)  # older news is left to the poll: a replay, or a delivery held up
CLOCK_SKEW = timedelta(minutes=5)  # the forum's clock may run this much ahead of the bot's
DRAIN_SECONDS = 10.0  # at shutdown, relays in progress get this long to finish


def serve_webhook(listener: Listener, runtime: Runtime) -> DiscourseWebhook | None:
    """Serve Discourse's webhook on ``listener`` when ``[discourse] webhook_secret`` is set."""
    d = runtime.settings.discourse
    if d is None or not d.webhook_secret:
        return None
    hook = DiscourseWebhook(runtime, d)
    listener.add("POST", PATH, hook.receive)
    listener.app.on_shutdown.append(hook.drain)  # relays in progress finish before the runtime closes
    return hook


class DiscourseWebhook:
    def __init__(self, runtime: Runtime, settings: DiscourseSettings) -> None:
        self.runtime = runtime
        self._key = settings.webhook_secret.encode()
        self.base = settings.url.rstrip("/")
        self.category, self.own_username = settings.relay_category, settings.api_username
        self._relaying: set[asyncio.Task] = set()

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()  # a body over the listener's limit is answered 413 by aiohttp
        name = _shown(request.headers.get(EVENT) or request.headers.get(EVENT_TYPE))
        seen = f"discourse webhook {name} (event {_shown(request.headers.get(EVENT_ID))})"
        if not self.signed(body, request.headers.get(SIGNATURE, "")):
            log.warning("%s: refused, bad signature", seen)
            return _answer(403, "bad signature")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            log.warning("%s: refused, the body is not a JSON object", seen)
            return _answer(400, "the body is not a JSON object")
        if request.headers.get(EVENT_TYPE) == "ping" or "ping" in data:
            log.info("%s: answered", seen)
            return _answer(200, "pong")
        kind = NEWS.get(request.headers.get(EVENT, ""))
        if kind is None:
            return self._ignored(seen, "not a new topic or post")
        item = data.get(kind)
        when = _time(item.get("created_at")) if isinstance(item, dict) else None
        if when is None:
            log.warning("%s: refused, no %s with its created_at", seen, kind)
            return _answer(400, f"no {kind} with its created_at")
        now = self.runtime.clock.now()
        if not now - EVENT_WINDOW <= when <= now + CLOCK_SKEW:
            log.warning("%s: refused, dated %s from now (the poll catches it up)", seen, _age(when - now))
            return _answer(409, "too old" if when < now else "dated in the future")
        try:
            post = self._post(kind, item)
        except (KeyError, TypeError, ValueError):
            log.warning("%s: refused, the %s is not as Discourse sends it", seen, kind)
            return _answer(400, f"the {kind} is not as Discourse sends it")
        archetype = item.get("archetype" if kind == "topic" else "topic_archetype") or "regular"
        if archetype != "regular":
            return self._ignored(seen, "not a public topic")
        if not self.category:
            return self._ignored(seen, "the relay is off")
        topics = new_topics([post], self.category, self.own_username)
        if not topics:
            return self._ignored(seen, "not someone else's new topic in the relayed category")
        task = asyncio.get_running_loop().create_task(self._relay(topics[0], seen))
        self._relaying.add(task)
        task.add_done_callback(self._relaying.discard)
        return _answer(200, "relaying")

    def signed(self, body: bytes, signature: str) -> bool:
        """Whether ``signature`` is the one Discourse makes of ``body`` with the secret."""
        expected = "sha256=" + hmac.new(self._key, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode())

    def _post(self, kind: str, item: dict[str, Any]) -> ForumPost:
        """What the relay reads of a new post, or of a new topic (which has no text of its own: its
        first post's excerpt is not in a topic event, so the relay shows the topic without one)."""
        if kind == "post":
            return forum_post(item, self.base)
        topic_id = int(item["id"])
        return ForumPost(id=None, topic_id=topic_id, post_number=1, category_id=item.get("category_id"),
                         title=str(item["title"]), username=str((item.get("created_by") or {}).get("username") or ""),
                         excerpt="", url=topic_url(self.base, topic_id, item.get("slug")))

    def _ignored(self, seen: str, why: str) -> web.Response:
        log.info("%s: ignored, %s", seen, why)
        return _answer(200, f"ignored: {why}")

    async def _relay(self, topic: ForumTopic, seen: str) -> None:
        try:
            result = await self.runtime.relay_pushed(topic)
        except Exception:  # noqa: BLE001 - the poll catches the topic up
            log.exception("%s: relaying topic %d failed; the poll catches it up", seen, topic.topic_id)
            return
        if result.outcome != "ok":
            log.warning("%s: could not relay topic %d now; the poll catches it up", seen, topic.topic_id)
        elif result.messages:
            log.info("%s: relayed topic %d", seen, topic.topic_id)
        else:
            log.info("%s: topic %d was relayed already", seen, topic.topic_id)

    async def drain(self, _app: web.Application | None = None) -> None:
        """Let the relays in progress finish (for at most DRAIN_SECONDS); the poll catches up the rest."""
        if self._relaying:
            await asyncio.wait(set(self._relaying), timeout=DRAIN_SECONDS)


def _answer(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=reason)


def _shown(value: str | None) -> str:
    """A header's value as it may go into the log: short, and nothing but plain characters."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "?", value or "-")[:40]


def _time(value: Any) -> datetime | None:
    """Discourse's ISO 8601 time (``2027-01-04T09:00:00.000Z``), in UTC; None when it is none."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)


def _age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes:+d} min"
