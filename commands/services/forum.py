"""The forum, as the program sees it: what it can do, what it answers, and how its news is read.

:class:`Forum` is the one interface to a forum. The Discourse client implements it,
and so does the shell's printout of what would be posted; the services and jobs
know only this interface and the plain values below, never the network.

Every answer to a new topic is one of: the topic is up (:class:`Posted`), held for
a moderator (:class:`Held`), refused for good (:class:`Refused`, in the forum's own
words), or the forum is unavailable for now (:class:`Unavailable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

MAX_RELAY_PAGES = 400  # 20,000 posts since the last look: more is a forum flood, not news


@dataclass(frozen=True)
class Posted:
    topic_id: int | None
    url: str | None  # None when the shell only printed the topic


@dataclass(frozen=True)
class Held:
    """The forum holds the topic for a moderator (Discourse: ``action: enqueued``)."""


@dataclass(frozen=True)
class Refused:
    """A 4xx other than 429: trying again cannot help."""

    message: str
    status: int = 422


@dataclass(frozen=True)
class Unavailable:
    """5xx, a timeout, no connection, a rate limit: try again later."""

    message: str
    retry_after: float | None = None


TopicOutcome = Posted | Held | Refused | Unavailable


@dataclass(frozen=True)
class ForumPost:
    """A post from the forum's latest posts, or one the forum told the bot of at once (a
    webhook), as the relay needs it."""

    id: int | None  # None: a new topic the forum told of without its first post's id
    topic_id: int
    post_number: int
    category_id: int | None
    title: str
    username: str
    excerpt: str
    url: str


@dataclass(frozen=True)
class ForumTopic:
    """A new topic seen on the forum, as the relay shows it."""

    post_id: int | None  # None when the forum told of the topic without its first post's id
    topic_id: int
    title: str
    author: str
    excerpt: str
    url: str


class Forum(Protocol):
    """Where announcements become topics and where the relay reads news: Discourse, or the
    shell's printout of what would be posted."""

    @property
    def label(self) -> str:
        """How people are told where announcements go, like "category 5"."""
        ...

    async def publish(self, *, title: str, raw: str, external_id: str, maybe_posted: bool) -> TopicOutcome:
        """Create the topic once. ``maybe_posted``: an earlier try may have got through, so the
        topic is looked up by ``external_id`` first. Never raises: every failure is an outcome."""
        ...

    async def latest_posts(self, before: int | None = None) -> list[ForumPost]:
        """One page of the newest public posts, newest first, ``id <= before`` when given.
        Raises when the forum cannot be read."""
        ...

    async def close(self) -> None:
        """Let go of connections and workers; the forum is not used afterwards."""
        ...


# ---------------------------------------------------------------- reading the news


async def posts_since(forum: Forum, lower: int | None) -> list[ForumPost]:
    """The newest posts, page by page back to post id ``lower`` (only the newest page when
    there is no mark yet). Raises when the forum cannot be read."""
    page = await forum.latest_posts()
    seen = list(page)
    for _ in range(MAX_RELAY_PAGES):
        if not page or lower is None or min(p.id for p in page) <= lower + 1:
            break
        oldest = min(p.id for p in page)
        page = [p for p in await forum.latest_posts(before=oldest - 1) if p.id < oldest]
        seen += page
    return seen


def new_topics(posts: list[ForumPost], category: int, own_username: str) -> list[ForumTopic]:
    """The topics the posts open in ``category``, without the bot's own."""
    own = own_username.lower()
    return [
        ForumTopic(p.id, p.topic_id, p.title, p.username, p.excerpt, p.url)
        for p in posts
        if p.post_number == 1 and p.category_id == category and p.username.lower() != own
    ]
