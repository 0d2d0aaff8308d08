"""Talking to Discourse: a small HTTP client on aiohttp, paced, with every answer classified.

The bot needs three calls of Discourse's API: create a topic (``POST /posts``),
look a topic up by its external id (``GET /t/external_id/{id}.json``, answered
with a 301 to the topic) and read the newest posts (``GET /posts.json``). They are
made here on the event loop, with timeouts for connecting, for each read and for
the whole call, and no sooner after the previous answer than the configured pace
allows, which stays well under the 60 API requests a minute that a Discourse site allows all its API keys
together. A 429 is waited out with ``asyncio.sleep`` for as long as Discourse asks.

Every outcome of a new topic is one of: the topic is up (:class:`Posted`), held
for a moderator (:class:`Held`), refused for good (:class:`Refused`, with
Discourse's own message), or Discourse is unavailable for now
(:class:`Unavailable`: 5xx, timeouts, no connection, rate limits that would not end).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.config import DiscourseSettings
from commands.observer import Observer
from commands.services.forum import ForumPost, Held, Posted, Refused, TopicOutcome, Unavailable

log = logging.getLogger("mentorbot.discourse")

TIMEOUT = (5.0, 30.0)  # seconds to connect, seconds to wait for each read of an answer
RATE_LIMIT_RETRIES = 5  # 429s waited out in a row before the call counts as unavailable
MAX_WAIT = 600.0  # a 429 asking for longer than this is not waited out here
TOPIC_PATH = re.compile(r"/t/(?:[^/?#]+/)?(\d+)(?:\.json)?/?(?:[?#].*)?$")
CALL_DEADLINE = 90.0  # seconds for a whole call (DNS and slow trickles included), whatever the timeouts say
JSON_TYPE = "application/json"


class DiscourseError(Exception):
    """Discourse answered, but not with what the bot asked for."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RateLimited(Exception):
    """Discourse answered 429: wait this long, then try again."""

    def __init__(self, wait: float, code: str) -> None:
        super().__init__(f"rate limited ({code}), wait {wait:.0f} s")
        self.wait, self.code = wait, code


class Discourse:
    """A Discourse site, for announcements and the relay (a :class:`~commands.services.forum.Forum`)."""

    def __init__(self, settings: DiscourseSettings, *, timeout: tuple[float, float] = TIMEOUT,
                 interval: float | None = None) -> None:
        """``interval``: seconds between calls; by default the configured ``requests_per_minute``
        (a site of one's own, like a test server, may take calls faster)."""
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.connect_timeout, self.read_timeout = timeout
        self.interval = 60.0 / settings.requests_per_minute if interval is None else interval
        self.deadline = CALL_DEADLINE
        self._http: aiohttp.ClientSession | None = None
        self._pace = asyncio.Lock()
        self._next_at = 0.0  # monotonic time before which no request is made
        self.observer = Observer()  # who counts the calls (``bot.monitoring``); by default nobody

    @property
    def label(self) -> str:
        return f"category {self.settings.announcements_category}"

    def topic_url(self, topic_id: int, slug: str | None = None) -> str:
        return topic_url(self.base, topic_id, slug)

    # ------------------------------------------------------------ the forum's calls

    async def publish(self, *, title: str, raw: str, external_id: str, maybe_posted: bool) -> TopicOutcome:
        """Create the announcement topic once: when an earlier try may have got through, look first."""
        try:
            if maybe_posted:
                found = await self.find(external_id)
                if found is not None:
                    return found
            form = {"title": title, "raw": raw, "category": str(self.settings.announcements_category),
                    "external_id": external_id}
            try:
                answer = await self._call("POST", "/posts", data=form)
            except DiscourseError as exc:
                # Perhaps our own topic, posted by a try whose answer was lost: a duplicate title
                # or external id, in whatever words the forum uses. Look before calling it refused.
                if exc.status in (400, 409, 422):
                    found = await self.find(external_id)
                    if found is not None:
                        return found
                raise
            if not isinstance(answer, dict):
                return Unavailable("Discourse gave an empty answer")
            if answer.get("action") == "enqueued":
                return Held()
            return Posted(int(answer["topic_id"]), self.topic_url(int(answer["topic_id"]), answer.get("topic_slug")))
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes
            return classify(exc)

    async def find(self, external_id: str) -> Posted | None:
        """The topic with our external id, if it exists (Discourse answers 301 to it)."""
        try:
            location = await self._call("GET", f"/t/external_id/{quote(external_id, safe='')}.json", redirect=True)
        except DiscourseError as exc:
            if exc.status == 404:
                return None
            raise
        match = TOPIC_PATH.search(location) if isinstance(location, str) else None
        if match is None:
            raise DiscourseError("Discourse answered the topic lookup without saying where the topic is")
        topic_id = int(match.group(1))
        return Posted(topic_id, self.topic_url(topic_id, _slug_of(location)))

    async def latest_posts(self, before: int | None = None) -> list[ForumPost]:
        """One page of the newest public posts (newest first), ``id <= before`` when given."""
        answer = await self._call("GET", "/posts.json", params=None if before is None else {"before": str(before)})
        return [forum_post(p, self.base) for p in (answer or {}).get("latest_posts", [])]

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    # ------------------------------------------------------------ HTTP

    async def _call(self, method: str, path: str, *, params: dict | None = None, data: dict | None = None,
                    redirect: bool = False) -> Any:
        """One API call, paced, waiting out 429s without blocking. Returns the JSON answer (None
        for an empty one), or with ``redirect`` the place a 301/302 points to."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            async with self._pace:
                delay = self._next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    answer = await self._request(method, path, params=params, data=data, redirect=redirect)
                    self.observer.forum_call("ok")
                    return answer
                except RateLimited as exc:
                    self.observer.forum_call("rate_limited")
                    if exc.wait > MAX_WAIT or attempt == RATE_LIMIT_RETRIES:
                        raise
                    log.info("Discourse asks to wait %.0f s (%s)", exc.wait, exc.code)
                    self.observer.forum_rate_limited(exc.wait)
                    self._next_at = time.monotonic() + exc.wait
                except Exception as exc:
                    self.observer.forum_call(_outcome(exc))
                    raise
                finally:
                    # Counted from the answer, so that the site sees calls at least this far
                    # apart however long each one took on the way.
                    self._next_at = max(self._next_at, time.monotonic() + self.interval)
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, *, params: dict | None, data: dict | None,
                       redirect: bool) -> Any:
        if self._http is None:
            # A new connection for each call (there are a few a minute): no idle connection
            # that the site or a proxy could close just as the next call goes out.
            self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), headers={
                "Accept": "application/json; charset=utf-8",
                "Api-Key": self.settings.api_key,
                "Api-Username": self.settings.api_username,
            })
        timeout = aiohttp.ClientTimeout(total=self.deadline, sock_connect=self.connect_timeout,
                                        sock_read=self.read_timeout)
        async with self._http.request(method, self.base + path, params=params, data=data, allow_redirects=False,
                                      timeout=timeout) as response:
            body = await response.read()
            status = response.status
            if status == 429:
                raise _rate_limited(response, body)
            if status >= 400:
                raise DiscourseError(_error_message(response, body), status)
            if redirect and status in (301, 302):
                return response.headers.get("Location", "")
            if status in (301, 302):
                raise DiscourseError("Unexpected redirect: is the URL the forum's own, and the API key right?", status)
            if not body.strip():
                return None  # some calls answer with an empty document
            if response.content_type != JSON_TYPE:
                raise DiscourseError(f"Invalid response, expecting {JSON_TYPE} got {response.content_type}", status)
            try:
                decoded = json.loads(body)
            except ValueError:
                raise DiscourseError("failed to decode the answer", status) from None
            if isinstance(decoded, dict) and decoded.get("errors"):
                raise DiscourseError(decoded.get("message") or ",".join(map(str, decoded["errors"])), status)
            return decoded


def _outcome(exc: Exception) -> str:
    """How a failed call is counted (``commands.observer.Observer.forum_call``)."""
    if isinstance(exc, DiscourseError):
        if exc.status is not None and exc.status >= 500:
            return "server_error"
        return "refused" if exc.status is not None and exc.status >= 400 else "bad_answer"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "unreachable"
    return "bad_answer"


def _rate_limited(response: aiohttp.ClientResponse, body: bytes) -> RateLimited:
    """How long a 429 asks to wait: Discourse's ``extras.wait_seconds``, else ``Retry-After``, else 10 s."""
    wait: float | None = None
    if response.content_type == JSON_TYPE:
        try:
            wait = float(json.loads(body)["extras"]["wait_seconds"])
        except (ValueError, KeyError, TypeError):
            wait = None
    if wait is None:
        try:
            wait = float(response.headers.get("Retry-After", ""))
        except ValueError:
            wait = 10.0
    code = response.headers.get("Discourse-Rate-Limit-Error-Code", "rate_limit")
    return RateLimited(max(wait, 1.0), code)


def _error_message(response: aiohttp.ClientResponse, body: bytes) -> str:
    """Discourse's own words for a refusal (its ``errors``, joined), else the HTTP reason."""
    try:
        return ",".join(map(str, json.loads(body)["errors"]))
    except (ValueError, KeyError, TypeError):
        pass
    if response.reason:
        return response.reason
    return f"{response.status}: {body[:200].decode('utf-8', 'replace')}"


def _slug_of(location: str) -> str | None:
    match = re.search(r"/t/([^/?#]+)/\d+", location)
    return match.group(1) if match else None


def classify(exc: BaseException) -> TopicOutcome:
    """What a failed call means for the announcement, in words a council member can act on."""
    if isinstance(exc, RateLimited):
        return Unavailable(f"Discourse is rate-limiting the bot ({exc.code})", retry_after=exc.wait)
    if isinstance(exc, DiscourseError):
        status = exc.status
        message = str(exc) or f"HTTP {status}"
        if status is not None and 400 <= status < 500:
            if status in (408, 409, 425):
                return Unavailable(f"Discourse answered {status}: {message}")
            return Refused(message, status)
        # 5xx, or an answer that is not what Discourse sends
        return Unavailable(f"Discourse answered {status}: {message}" if status else f"Discourse: {message}")
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's timeouts are these too
        return Unavailable("Discourse did not answer in time")
    if isinstance(exc, aiohttp.ClientConnectionError):
        return Unavailable("Discourse cannot be reached")
    if isinstance(exc, (aiohttp.ClientError, KeyError, ValueError)):
        return Unavailable(f"Discourse gave an answer the bot could not read ({type(exc).__name__})")
    log.exception("unexpected error talking to Discourse", exc_info=exc)
    return Unavailable(f"unexpected error ({type(exc).__name__})")


def topic_url(base: str, topic_id: int, slug: str | None = None) -> str:
    return f"{base}/t/{slug}/{topic_id}" if slug else f"{base}/t/{topic_id}"


def forum_post(p: dict[str, Any], base: str) -> ForumPost:
    """A post as Discourse serialises it (the latest posts, a post webhook), as the relay reads it."""
    return ForumPost(
        id=int(p["id"]), topic_id=int(p["topic_id"]), post_number=int(p["post_number"]),
        category_id=p.get("category_id"), title=p.get("topic_title") or "", username=p.get("username") or "",
        excerpt=excerpt(p.get("cooked") or p.get("raw") or ""),
        url=topic_url(base, int(p["topic_id"]), p.get("topic_slug")),
    )


def excerpt(cooked: str, limit: int = 200) -> str:
    """Plain text of a post's HTML, shortened at a word."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", cooked))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"
