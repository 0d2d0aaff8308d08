"""Talking to Discourse: pydiscourse, off the event loop, paced, with every answer classified.

pydiscourse makes blocking ``requests`` calls and, on a 429, sleeps in the
calling thread. Here every call runs in one worker thread (which also keeps the
calls in order, and never holds up the bot's exit), with a timeout, and no more often than the configured pace,
which stays well under the 60 API requests a minute that a Discourse site allows
all its API keys together. A 429 is caught as it arrives (a response hook) and
waited out with ``asyncio.sleep``, so neither the event loop nor the worker
thread ever sleeps on it.

Every outcome is one of: the topic is up (:class:`Posted`), held for a moderator
(:class:`Held`), refused for good (:class:`Refused`, with Discourse's own
message), or Discourse is unavailable for now (:class:`Unavailable`: 5xx,
timeouts, no connection, rate limits that would not end).
"""

from __future__ import annotations

import asyncio
import html
import logging
import queue
import re
import threading
import time
from typing import Any, Callable

import requests
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseClientError, DiscourseError

from bot.config import DiscourseSettings
from commands.services.forum import ForumPost, Held, Posted, Refused, TopicOutcome, Unavailable

log = logging.getLogger("mentorbot.discourse")

TIMEOUT = (5.0, 30.0)  # seconds to connect, seconds to wait for an answer
RATE_LIMIT_RETRIES = 5  # 429s waited out in a row before the call counts as unavailable
MAX_WAIT = 600.0  # a 429 asking for longer than this is not waited out here
TOPIC_PATH = re.compile(r"/t/(?:[^/?#]+/)?(\d+)(?:\.json)?/?(?:[?#].*)?$")
CALL_DEADLINE = 90.0  # seconds for a whole call (DNS and slow trickles included), whatever the timeouts say


class RateLimited(Exception):
    """Discourse answered 429: wait this long, then try again."""

    def __init__(self, wait: float, code: str) -> None:
        super().__init__(f"rate limited ({code}), wait {wait:.0f} s")
        self.wait, self.code = wait, code


def _rate_limit_hook(response: requests.Response, *args, **kwargs) -> None:
    """Stop pydiscourse before it sleeps on a 429 in its own loop: raise with the wait instead."""
    if response.status_code != 429:
        return
    wait: float | None = None
    if "application/json" in response.headers.get("Content-Type", ""):
        try:
            wait = float(response.json()["extras"]["wait_seconds"])
        except (ValueError, KeyError, TypeError):
            wait = None
    if wait is None:
        try:
            wait = float(response.headers.get("Retry-After", ""))
        except ValueError:
            wait = 10.0
    code = response.headers.get("Discourse-Rate-Limit-Error-Code", "rate_limit")
    raise RateLimited(max(wait, 1.0), code)


class _Worker:
    """One daemon thread that runs blocking calls in order and hands each result back to the loop."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def run(self, fn: Callable[[], Any]) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="discourse", daemon=True)
            self._thread.start()
        self._jobs.put((fn, future, loop))
        return future

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future, loop = job
            try:
                outcome, error = fn(), None
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                outcome, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, error)
            except RuntimeError:
                pass  # the loop is closed: nobody waits for this answer any more

    def close(self) -> None:
        self._jobs.put(None)


def _settle(future: asyncio.Future, outcome: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)


class Discourse:
    """A Discourse site, for announcements and the relay."""

    def __init__(self, settings: DiscourseSettings, *, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.client = DiscourseClient(self.base, api_username=settings.api_username, api_key=settings.api_key,
                                      timeout=timeout)
        self.interval = 60.0 / settings.requests_per_minute
        self.deadline = CALL_DEADLINE
        self._worker = _Worker()
        self._pace = asyncio.Lock()
        self._next_at = 0.0  # monotonic time before which no request is made

    @property
    def label(self) -> str:
        return f"category {self.settings.announcements_category}"

    def topic_url(self, topic_id: int, slug: str | None = None) -> str:
        return f"{self.base}/t/{slug}/{topic_id}" if slug else f"{self.base}/t/{topic_id}"

    async def _call(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """Run one pydiscourse call in the worker thread, paced, waiting out 429s without blocking."""
        extra = kwargs.pop("override_request_kwargs", {})
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            async with self._pace:
                delay = self._next_at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._next_at = time.monotonic() + self.interval
                try:
                    hooks = {"response": [_rate_limit_hook]}
                    call = self._worker.run(lambda: fn(*args, override_request_kwargs={"hooks": hooks, **extra}, **kwargs))
                    try:
                        return await asyncio.wait_for(call, self.deadline)
                    except asyncio.TimeoutError:
                        # The thread is stuck in a call that ignores its timeouts: leave it, start another.
                        self._worker.close()
                        self._worker = _Worker()
                        raise requests.Timeout(f"no answer within {self.deadline:.0f} s") from None
                except RateLimited as exc:
                    if exc.wait > MAX_WAIT or attempt == RATE_LIMIT_RETRIES:
                        raise
                    log.info("Discourse asks to wait %.0f s (%s)", exc.wait, exc.code)
                    self._next_at = time.monotonic() + exc.wait
        raise AssertionError("unreachable")

    async def publish(self, *, title: str, raw: str, external_id: str, maybe_posted: bool) -> TopicOutcome:
        """Create the announcement topic once: when an earlier try may have got through, look first."""
        try:
            if maybe_posted:
                found = await self.find(external_id)
                if found is not None:
                    return found
            try:
                answer = await self._call(self.client.create_post, raw, category_id=self.settings.announcements_category,
                                          title=title, external_id=external_id)
            except DiscourseClientError as exc:
                # Perhaps our own topic, posted by a try whose answer was lost: a duplicate title
                # or external id, in whatever words the forum uses. Look before calling it refused.
                if exc.response is not None and exc.response.status_code in (400, 409, 422):
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
        seen: list[str] = []

        def remember(response: requests.Response, *args, **kwargs) -> None:
            if response.status_code in (301, 302):
                seen.append(response.headers.get("Location", ""))

        try:
            await self._call(self.client._get, f"/t/external_id/{external_id}.json",  # noqa: SLF001 - no public call for it
                             override_request_kwargs={"hooks": {"response": [_rate_limit_hook, remember]}})
        except DiscourseClientError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return None
            raise
        except DiscourseError:
            if not seen:
                raise
        match = TOPIC_PATH.search(seen[-1]) if seen else None
        if match is None:
            raise DiscourseError("Discourse answered the topic lookup without saying where the topic is")
        topic_id = int(match.group(1))
        return Posted(topic_id, self.topic_url(topic_id, _slug_of(seen[-1])))

    async def latest_posts(self, before: int | None = None) -> list[ForumPost]:
        """One page of the newest public posts (newest first), ``id <= before`` when given."""
        answer = await self._call(self.client.latest_posts, before=before)
        posts = []
        for p in (answer or {}).get("latest_posts", []):
            posts.append(ForumPost(
                id=int(p["id"]), topic_id=int(p["topic_id"]), post_number=int(p["post_number"]),
                category_id=p.get("category_id"), title=p.get("topic_title") or "", username=p.get("username") or "",
                excerpt=excerpt(p.get("cooked") or p.get("raw") or ""),
                url=self.topic_url(int(p["topic_id"]), p.get("topic_slug")),
            ))
        return posts

    async def close(self) -> None:
        self._worker.close()


def _slug_of(location: str) -> str | None:
    match = re.search(r"/t/([^/?#]+)/\d+", location)
    return match.group(1) if match else None


def classify(exc: BaseException) -> TopicOutcome:
    """What a failed call means for the announcement, in words a council member can act on."""
    if isinstance(exc, RateLimited):
        return Unavailable(f"Discourse is rate-limiting the bot ({exc.code})", retry_after=exc.wait)
    if isinstance(exc, DiscourseClientError):
        status = exc.response.status_code if exc.response is not None else 400
        message = str(exc) or f"HTTP {status}"
        if status in (408, 409, 425):
            return Unavailable(f"Discourse answered {status}: {message}")
        return Refused(message, status)
    if isinstance(exc, DiscourseError):  # 5xx, or an answer that is not what Discourse sends
        status = exc.response.status_code if getattr(exc, "response", None) is not None else None
        return Unavailable(f"Discourse answered {status}: {exc}" if status else f"Discourse: {exc}")
    if isinstance(exc, requests.Timeout):
        return Unavailable("Discourse did not answer in time")
    if isinstance(exc, requests.ConnectionError):
        return Unavailable("Discourse cannot be reached")
    if isinstance(exc, (requests.RequestException, KeyError, ValueError)):
        return Unavailable(f"Discourse gave an answer the bot could not read ({type(exc).__name__})")
    log.exception("unexpected error talking to Discourse", exc_info=exc)
    return Unavailable(f"unexpected error ({type(exc).__name__})")


def excerpt(cooked: str, limit: int = 200) -> str:
    """Plain text of a post's HTML, shortened at a word."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", cooked))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"
