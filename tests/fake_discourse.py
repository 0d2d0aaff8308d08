"""A fake Discourse HTTP server that behaves like the real one, for the endpoints mentorbot uses.

It answers on 127.0.0.1 from its own threads (a real socket, real HTTP), with
what a real Discourse sends:

- success bodies built to the official OpenAPI description and validated against
  it on every response, with the exact ``application/json; charset=utf-8``
  content type Discourse answers with;
- ``POST /posts`` read as the form a client sends, titles and bodies checked
  with Discourse's default limits, titles unique (case-insensitive), ``external_id``
  checked and unique, unknown categories, bad API keys;
- error bodies and headers as in the error-shapes reference (422 without
  ``error_type``, 400 ``invalid_parameters``, 403 ``invalid_access``, 429 with
  ``extras.wait_seconds``, ``Retry-After`` and ``Discourse-Rate-Limit-Error-Code``);
- the site-wide limit of 60 API requests a minute, shared by every key;
- ``GET /t/external_id/{id}.json`` answering 301 to the topic, with an empty body;
- ``GET /posts.json?before=N``: the newest 50 public posts, newest first, ``id <= N``;
- webhooks (``webhooks``, as an admin sets them up): a new topic or post is POSTed to each,
  from a thread of its own as Discourse's job queue does, signed and shaped as Discourse
  sends them (see ``Webhook``).

Faults can be switched on: 5xx, slow answers (for client timeouts, also after the
topic was created), plain-text 429s, and posts held for moderation.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import urllib.error
import urllib.request
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import jsonschema

SPEC_PATH = Path(__file__).resolve().parent / "discourse_openapi.json"
JSON_TYPE = "application/json; charset=utf-8"
API_LIMIT = 60  # admin/API-key requests per minute, for the whole site
PAGE = 50
MIN_TITLE, MAX_TITLE, MIN_BODY = 15, 255, 20
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def _schema(path: str, verb: str) -> dict:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec["paths"][path][verb]["responses"]["200"]["content"]["application/json"]["schema"]


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    category_id: int
    external_id: str | None
    username: str
    archetype: str = "regular"  # "private_message" for a personal message


@dataclass
class Post:
    id: int
    topic: Topic
    post_number: int
    raw: str
    username: str
    created_at: datetime
    visible: bool = True  # False while the post's transaction has not committed yet


@dataclass
class Faults:
    """What goes wrong, switched on by a test. Counters count down per request."""

    down: bool = False  # every request gets a 503 (read-only mode) until switched off
    server_errors: int = 0  # the next N requests get a 502 from the proxy
    slow: int = 0  # the next N requests answer only after ``slow_seconds``
    slow_after_create: int = 0  # the next N topic creations succeed, then answer too late
    slow_seconds: float = 5.0
    rate_limited: int = 0  # the next N requests get a JSON 429
    rate_limited_plain: int = 0  # the next N requests get a text/plain 429 from the proxy
    rate_limit_wait: int = 1
    enqueue: bool = False  # new topics are held for moderation
    on_create: object = None  # called (with the topic) after a topic is created, before answering


@dataclass
class Webhook:
    """A webhook as an admin sets it up in Discourse (Admin > API > Webhooks): where to, the
    secret it is signed with (none, or at least 12 characters, as Discourse requires), and which
    events it is sent for."""

    payload_url: str
    secret: str = ""
    events: tuple[str, ...] = ("topic_created", "post_created")
    content_type: str = "application/json"  # Discourse sends the same JSON body under either type
    active: bool = True
    held: bool = False  # deliveries wait in the job queue (a busy queue) until ``release_webhooks``

    def __post_init__(self) -> None:
        if self.secret and len(self.secret) < 12:
            raise ValueError("Secret is too short (minimum is 12 characters)")


@dataclass
class Delivery:
    """One webhook request as Discourse records it under the webhook's events: what was sent, and
    the answer (status -1 when there was none, as Discourse shows a refused connection)."""

    webhook: Webhook
    event_id: int
    event: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # None while the request is on its way
    answer: str = ""


@dataclass
class FakeDiscourse:
    api_username: str = "mentorbot"
    api_key: str = "fake-key-0123456789"
    categories: dict[int, str] = field(default_factory=lambda: {5: "announcements", 6: "mentors", 7: "general"})
    min_title: int = MIN_TITLE
    min_body: int = MIN_BODY
    title: str = "Mentoring forum"
    no_topics_in: set[int] = field(default_factory=set)  # categories where the API user may not start topics
    webhooks: list[Webhook] = field(default_factory=list)  # Admin > API > Webhooks
    deliveries: list[Delivery] = field(default_factory=list, init=False)
    _event_ids: itertools.count = field(default_factory=lambda: itertools.count(1), init=False, repr=False)

    def __post_init__(self) -> None:
        self.faults = Faults()
        self.topics: list[Topic] = []
        self.posts: list[Post] = []
        self.pending: list[dict] = []  # posts held for moderation
        self.requests: list[tuple[float, str, str, int]] = []  # (time, method, path, status)
        self._api_times: deque[float] = deque()
        self._lock = threading.RLock()
        self._next_post_id = 100
        self._next_topic_id = 10
        self._server: ThreadingHTTPServer | None = None
        self._post_schema = _schema("/posts.json", "post")
        self._list_schema = _schema("/posts.json", "get")
        self._site_schema = _schema("/site/basic-info.json", "get")
        self._category_schema = _schema("/c/{id}/show.json", "get")

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeDiscourse:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                fake._serve(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self, "POST")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------ what tests look at

    def topics_titled(self, title: str) -> list[Topic]:
        return [t for t in self.topics if t.title == title]

    def first_post(self, topic: Topic) -> Post:
        return next(p for p in self.posts if p.topic is topic and p.post_number == 1)

    # ------------------------------------------------------------ what others post

    def add_topic(self, title: str, raw: str, *, username: str = "ana", category_id: int = 6,
                  visible: bool = True) -> Post:
        """A topic someone posted on the forum (not through the API).

        ``visible=False``: its id is given out, but it shows only after ``reveal``, as a
        post whose transaction commits after a later post's does.
        """
        with self._lock:
            post = self._create_topic(title, raw, category_id, None, username)
            post.visible = visible
            return post

    def reveal(self, post: Post) -> None:
        with self._lock:
            post.visible = True

    def add_reply(self, topic: Topic, raw: str, *, username: str = "bob") -> Post:
        with self._lock:
            number = 1 + max(p.post_number for p in self.posts if p.topic is topic)
            post = self._add_post(topic, number, raw, username)
            self._emit_new(post)
            return post

    def approve_pending(self) -> list[Post]:
        with self._lock:
            made = [self._create_topic(p["title"], p["raw"], p["category"], p["external_id"], self.api_username)
                    for p in self.pending]
            self.pending.clear()
            return made

    # ------------------------------------------------------------ serving

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parsed = urlparse(h.path)
        status, headers, payload = self._answer(h, method, parsed.path, parse_qs(parsed.query), body)
        with self._lock:
            self.requests.append((time.time(), method, parsed.path, status))
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting

    def _answer(self, h, method: str, path: str, query: dict, body: bytes):
        f = self.faults
        with self._lock:
            if f.slow > 0:
                f.slow -= 1
                delay = f.slow_seconds
            else:
                delay = 0.0
        if delay:
            time.sleep(delay)
        with self._lock:
            if f.down:
                return _error(503, ["Discourse is in read-only mode for maintenance."], "read_only")
            if f.server_errors > 0:
                f.server_errors -= 1
                return 502, {"Content-Type": "text/html"}, b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            if f.rate_limited_plain > 0:
                f.rate_limited_plain -= 1
                wait = f.rate_limit_wait
                text = (f"Slow down, you're making too many requests.\nPlease retry again in {wait} seconds.\n"
                        "Error code: ip_10_secs_limit.\n")
                return 429, {"Content-Type": "text/plain", "Retry-After": str(wait),
                             "Discourse-Rate-Limit-Error-Code": "ip_10_secs_limit"}, text.encode()
            if method == "GET" and path == "/site/basic-info.json" and h.headers.get("Api-Key") is None:
                return self._basic_info()  # public: anyone may ask it, without a key
            if h.headers.get("Api-Key") != self.api_key or h.headers.get("Api-Username") != self.api_username:
                return _error(403, ["The API username or key is invalid."], "invalid_access")
            limited = self._site_limit() or self._injected_limit()
            if limited:
                return limited
            if method == "POST" and path == "/posts":
                return self._create(h, body)
            if method == "GET" and path == "/posts.json":
                return self._latest(query)
            if method == "GET" and path == "/site/basic-info.json":
                return self._basic_info()
            if method == "GET" and path == "/session/current.json":
                return self._current_user()
            shown = re.fullmatch(r"/c/([^/]+)/show\.json", path)
            if method == "GET" and shown:
                return self._category(shown.group(1))
            match = re.fullmatch(r"/t/external_id/([^/]+)\.json", path)
            if method == "GET" and match:
                return self._by_external_id(match.group(1))
            return _error(404, ["The requested URL or resource could not be found."], "not_found")

    def _site_limit(self):
        now = time.time()
        while self._api_times and now - self._api_times[0] >= 60:
            self._api_times.popleft()
        if len(self._api_times) >= API_LIMIT:
            wait = max(1, int(60 - (now - self._api_times[0])) + 1)
            return _rate_limited(wait, "admin_api_key_rate_limit")
        self._api_times.append(now)
        return None

    def _injected_limit(self):
        if self.faults.rate_limited > 0:
            self.faults.rate_limited -= 1
            return _rate_limited(self.faults.rate_limit_wait, "admin_api_key_rate_limit")
        return None

    def _create(self, h, body: bytes):
        ctype = h.headers.get("Content-Type", "")
        if not ctype.startswith("application/x-www-form-urlencoded"):
            return _error(400, ["param is missing or the value is empty: raw"])
        form = {k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        raw, title = form.get("raw", ""), form.get("title")
        if not raw:
            return _error(400, ["param is missing or the value is empty: raw"])
        if "topic_id" in form:
            return _error(404, ["The requested URL or resource could not be found."], "not_found")
        category = form.get("category")
        if category is not None and (not category.isdigit() or int(category) not in self.categories):
            return _error(400, ["You supplied invalid parameters to the request: category"], "invalid_parameters")
        if category is not None and int(category) in self.no_topics_in:
            return _error(403, ["You are not permitted to view the requested resource."], "invalid_access")
        external_id = form.get("external_id")
        errors = []
        title = (title or "").strip()
        if len(title) < self.min_title:
            errors.append(f"Title is too short (minimum is {self.min_title} characters)")
        elif len(title) > MAX_TITLE:
            errors.append(f"Title is too long (maximum is {MAX_TITLE} characters)")
        elif any(t.title.lower() == title.lower() for t in self.topics):
            errors.append("Title has already been used")
        if len(raw.strip()) < self.min_body:
            errors.append(f"Body is too short (minimum is {self.min_body} characters)")
        if external_id is not None:
            if not EXTERNAL_ID.fullmatch(external_id):
                errors.append("External ID is invalid")
            elif any(t.external_id == external_id for t in self.topics):
                errors.append("External ID has already been taken")
        if errors:
            return 422, {"Content-Type": JSON_TYPE}, {"action": "create_post", "errors": errors}
        cat = int(category) if category is not None else 7
        if self.faults.enqueue:
            self.pending.append({"title": title, "raw": raw, "category": cat, "external_id": external_id})
            return 200, {"Content-Type": JSON_TYPE}, {
                "action": "enqueued", "pending_post": {"id": len(self.pending), "raw": raw},
                "pending_count": len(self.pending), "success": True,
            }
        post = self._create_topic(title, raw, cat, external_id, self.api_username)
        if callable(self.faults.on_create):
            self.faults.on_create(post.topic)
        if self.faults.slow_after_create > 0:
            self.faults.slow_after_create -= 1
            self._lock.release()
            try:
                time.sleep(self.faults.slow_seconds)
            finally:
                self._lock.acquire()
        answer = self._post_json(post, created=True)
        jsonschema.validate(answer, self._post_schema)
        return 200, {"Content-Type": JSON_TYPE}, answer

    def _latest(self, query: dict):
        before = query.get("before", [None])[-1]
        posts = sorted((p for p in self.posts if p.visible), key=lambda p: p.id, reverse=True)
        if before is not None:
            if not before.lstrip("-").isdigit():
                return _error(400, ["You supplied invalid parameters to the request: before"], "invalid_parameters")
            posts = [p for p in posts if p.id <= int(before)]
        answer = {"latest_posts": [self._post_json(p, created=False) for p in posts[:PAGE]]}
        jsonschema.validate(answer, self._list_schema)
        return 200, {"Content-Type": JSON_TYPE}, answer

    def _by_external_id(self, external_id: str):
        topic = next((t for t in self.topics if t.external_id == external_id), None)
        if topic is None:
            return _error(404, ["The requested URL or resource could not be found."], "not_found")
        return 301, {"Location": f"{self.url}/t/{topic.slug}/{topic.id}.json",
                     "Content-Type": "text/html; charset=utf-8"}, b""

    def _basic_info(self):
        answer = {
            "logo_url": "/images/discourse-logo-sketch.png", "logo_small_url": "/images/discourse-logo-sketch-small.png",
            "apple_touch_icon_url": "/images/default-apple-touch-icon.png", "favicon_url": "/images/default-favicon.ico",
            "title": self.title, "description": "Where mentors and mentees meet", "header_primary_color": "333333",
            "header_background_color": "ffffff", "login_required": False, "locale": "en",
            "include_in_discourse_discover": False, "mobile_logo_url": "",
        }
        jsonschema.validate(answer, self._site_schema)
        return 200, {"Content-Type": JSON_TYPE}, answer

    def _current_user(self):
        """Discourse's CurrentUserSerializer, in part (the OpenAPI description has none for it)."""
        return 200, {"Content-Type": JSON_TYPE}, {"current_user": {
            "id": 1, "username": self.api_username, "name": self.api_username.title(),
            "avatar_template": f"/letter_avatar_proxy/v4/letter/{self.api_username[0]}/8e7dd6/{{size}}.png",
            "admin": True, "moderator": False, "staff": True, "trust_level": 4, "can_create_topic": True,
        }}

    def _category(self, ref: str):
        """``GET /c/{id}/show.json``: 404 for a category that does not exist; ``permission`` 1 (full)
        where the user may start topics, else null."""
        category_id = int(ref) if ref.isdigit() else next((i for i, n in self.categories.items() if n == ref), None)
        if category_id not in self.categories:
            return _error(404, ["The requested URL or resource could not be found."], "not_found")
        name = self.categories[category_id]
        count = sum(1 for t in self.topics if t.category_id == category_id)
        answer = {"category": {
            "id": category_id, "name": name.title(), "color": "0088CC", "text_color": "FFFFFF", "style_type": "square",
            "emoji": None, "icon": None, "slug": name, "topic_count": count, "post_count": count, "position": category_id,
            "description": None, "description_text": None, "description_excerpt": None, "topic_url": None,
            "read_restricted": False, "permission": None if category_id in self.no_topics_in else 1,
            "notification_level": 1, "can_edit": True, "topic_template": None, "topic_title_placeholder": None,
            "has_children": False, "subcategory_count": None, "sort_order": None, "sort_ascending": None,
            "show_subcategory_list": False, "num_featured_topics": 3, "default_view": None,
            "subcategory_list_style": "rows_with_featured_topics", "default_top_period": "all",
            "default_list_filter": "all", "minimum_required_tags": 0, "navigate_to_first_post_after_read": False,
            "custom_fields": {}, "required_tag_groups": [], "read_only_banner": None, "available_groups": [],
            "auto_close_hours": None, "auto_close_based_on_last_post": False,
            "allow_unlimited_owner_edits_on_first_post": False, "default_slow_mode_seconds": None,
            "group_permissions": [{"permission_type": 1, "group_name": "everyone", "group_id": 0}], "email_in": None,
            "email_in_allow_strangers": False, "mailinglist_mirror": False, "all_topics_wiki": False,
            "can_delete": False, "allow_badges": True, "topic_featured_link_allowed": True, "search_priority": 0,
            "topic_posting_review_group_ids": [], "reply_posting_review_group_ids": [], "uploaded_logo": None,
            "uploaded_logo_dark": None, "uploaded_background": None, "uploaded_background_dark": None,
        }}
        jsonschema.validate(answer, self._category_schema)
        return 200, {"Content-Type": JSON_TYPE}, answer

    # ------------------------------------------------------------ the forum's data

    def _create_topic(self, title: str, raw: str, category: int, external_id: str | None, username: str) -> Post:
        self._next_topic_id += 1
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "topic"
        topic = Topic(self._next_topic_id, title, slug, category, external_id, username)
        self.topics.append(topic)
        post = self._add_post(topic, 1, raw, username)
        self._emit_new(post)
        return post

    def _add_post(self, topic: Topic, number: int, raw: str, username: str) -> Post:
        self._next_post_id += 1
        post = Post(self._next_post_id, topic, number, raw, username, datetime.now(timezone.utc))
        self.posts.append(post)
        return post

    def _post_json(self, p: Post, *, created: bool) -> dict:
        stamp = p.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{p.created_at.microsecond // 1000:03d}Z"
        cooked = "".join(f"<p>{_escape(par)}</p>" for par in p.raw.split("\n\n") if par.strip())
        common = {
            "id": p.id, "name": p.username.title(), "username": p.username,
            "avatar_template": f"/letter_avatar_proxy/v4/letter/{p.username[0]}/8e7dd6/{{size}}.png",
            "created_at": stamp, "cooked": cooked, "post_number": p.post_number, "post_type": 1,
            "posts_count": sum(1 for q in self.posts if q.topic is p.topic),
            "updated_at": stamp, "reply_count": 0, "reply_to_post_number": None, "quote_count": 0,
            "incoming_link_count": 0, "reads": 1, "readers_count": 0, "score": 0, "yours": p.username == self.api_username,
            "topic_id": p.topic.id, "topic_slug": p.topic.slug, "display_username": p.username.title(),
            "primary_group_name": None, "flair_name": None, "flair_url": None, "flair_bg_color": None,
            "flair_color": None, "version": 1, "can_edit": True, "can_delete": False, "can_recover": False,
            "can_wiki": True, "user_title": None, "bookmarked": False,
            "actions_summary": [{"id": 3, "can_act": True}], "moderator": False, "admin": True, "staff": True,
            "user_id": 1, "hidden": False, "trust_level": 1, "deleted_at": None, "user_deleted": False,
            "edit_reason": None, "can_view_edit_history": True, "wiki": False,
            "reviewable_score_count": 0, "reviewable_score_pending_count": 0,
            "post_url": f"/t/{p.topic.slug}/{p.topic.id}/{p.post_number}",
        }
        if created:
            return common | {"raw": p.raw, "flair_group_id": None, "badges_granted": [], "can_see_hidden_post": False,
                             "draft_sequence": 0, "reviewable_id": None, "mentioned_users": []}
        excerpt = re.sub(r"<[^>]+>", "", cooked)[:200]
        return common | {
            "topic_title": p.topic.title, "topic_html_title": _escape(p.topic.title), "category_id": p.topic.category_id,
            "flair_group_id": None, "badges_granted": [], "can_see_hidden_post": False, "raw": p.raw,
            "excerpt": excerpt, "truncated": len(excerpt) < len(p.raw), "reviewable_id": None,
        }

    # ------------------------------------------------------------ webhooks

    def add_private_message(self, title: str, raw: str, *, username: str = "ana") -> Post:
        """A personal message: never among the public posts, but its events go to webhooks too."""
        with self._lock:
            self._next_topic_id += 1
            topic = Topic(self._next_topic_id, title, re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"),
                          None, None, username, archetype="private_message")
            self._next_post_id += 1
            post = Post(self._next_post_id, topic, 1, raw, username, datetime.now(timezone.utc))
            self._emit_new(post)
            return post

    def ping(self, webhook: Webhook) -> Delivery:
        """The webhook's Ping button: a ``ping`` event with the body ``{"ping": "OK"}``."""
        return self._deliver(webhook, "ping", "ping", {"ping": "OK"})

    def redeliver(self, delivery: Delivery) -> Delivery:
        """The Redeliver button of an event: the same headers (its id and signature too) and body."""
        again = Delivery(delivery.webhook, delivery.event_id, delivery.event, dict(delivery.headers), delivery.body)
        self._send(again)
        return again

    def delivered(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Waits until ``count`` deliveries have their answer; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                done = [d for d in self.deliveries if d.status is not None]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise AssertionError(f"{len(done)} webhook deliveries answered in {timeout} s, not {count}")

    def _emit_new(self, post: Post) -> None:
        """What Discourse's job queue sends when a post is created: ``topic_created`` for a first post,
        then ``post_created``, to every active webhook that takes the event."""
        for webhook in self.webhooks:
            if post.post_number == 1:
                self._deliver(webhook, "topic", "topic_created", {"topic": self._topic_webhook_json(post)})
            self._deliver(webhook, "post", "post_created", {"post": self._post_webhook_json(post)})

    def _deliver(self, webhook: Webhook, event_type: str, event: str, payload: dict) -> Delivery | None:
        if not webhook.active or (event != "ping" and event not in webhook.events):
            return None
        body = json.dumps(payload, separators=(",", ":")).encode()  # as Ruby's MultiJson.dump writes it
        event_id = next(self._event_ids)
        headers = {
            "Accept": "*/*", "Connection": "close", "Content-Length": str(len(body)),
            "Content-Type": webhook.content_type, "Host": urlparse(webhook.payload_url).hostname or "",
            "User-Agent": "Discourse/3.4.0", "X-Discourse-Instance": self.url, "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": event_type, "X-Discourse-Event": event,
        }
        if webhook.secret:
            headers["X-Discourse-Event-Signature"] = signature(webhook.secret, body)
        delivery = Delivery(webhook, event_id, event, headers, body)
        self._send(delivery)
        return delivery

    def release_webhooks(self) -> None:
        """The job queue catches up: the deliveries held for webhooks go out, all at once."""
        with self._lock:
            held = [d for d in self.deliveries if d.status is None and d.webhook.held]
            for webhook in self.webhooks:
                webhook.held = False
            for delivery in held:
                self._post(delivery)

    def _send(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)
            if not delivery.webhook.held:
                self._post(delivery)

    def _post(self, delivery: Delivery) -> None:
        """POSTs the delivery from a thread of its own, as a job of Discourse's queue, never while
        the request that created the post waits."""

        def post() -> None:
            request = urllib.request.Request(delivery.webhook.payload_url, data=delivery.body, method="POST",
                                             headers=delivery.headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    status, text = answer.status, answer.read().decode(errors="replace")
            except urllib.error.HTTPError as exc:
                status, text = exc.code, exc.read().decode(errors="replace")
            except OSError as exc:
                status, text = -1, str(exc)
            with self._lock:
                delivery.status, delivery.answer = status, text

        threading.Thread(target=post, daemon=True).start()

    def _topic_webhook_json(self, post: Post) -> dict:
        """A topic as Discourse's WebHookTopicViewSerializer writes it."""
        t = post.topic
        stamp = _stamp(post.created_at)
        user = {"id": 1, "username": t.username, "name": t.username.title(),
                "avatar_template": f"/letter_avatar_proxy/v4/letter/{t.username[0]}/8e7dd6/{{size}}.png"}
        return {
            "id": t.id, "title": t.title, "fancy_title": _escape(t.title), "posts_count": 1, "created_at": stamp,
            "views": 0, "reply_count": 0, "like_count": 0, "last_posted_at": stamp, "visible": True,
            "closed": False, "archived": False, "archetype": t.archetype, "slug": t.slug,
            "category_id": t.category_id, "word_count": len(post.raw.split()), "deleted_at": None, "user_id": 1,
            "featured_link": None, "pinned_globally": False, "pinned_at": None, "pinned_until": None,
            "unpinned": None, "pinned": False, "highest_post_number": 1, "deleted_by": None, "bookmarked": False,
            "participant_count": 1, "created_by": user, "last_poster": user, "tags": [], "thumbnails": None,
        }

    def _post_webhook_json(self, post: Post) -> dict:
        """A post as Discourse's WebHookPostSerializer writes it: the post with its topic's title,
        category and archetype, without what only a reader's view has."""
        shown = self._post_json(post, created=False)
        for key in ("can_view", "can_edit", "can_delete", "can_recover", "can_see_hidden_post", "can_wiki",
                    "actions_summary", "can_view_edit_history", "yours", "flair_url", "flair_bg_color", "flair_color",
                    "notice", "mentioned_users", "badges_granted", "readers_count", "excerpt", "truncated",
                    "topic_html_title"):
            shown.pop(key, None)
        count = sum(1 for p in self.posts if p.topic is post.topic) or 1
        shown |= {"topic_posts_count": count, "topic_filtered_posts_count": count,
                  "topic_archetype": post.topic.archetype}
        if post.topic.category_id in self.categories:  # a personal message has no category
            shown["category_slug"] = self.categories[post.topic.category_id]
        return shown


def signature(secret: str, body: bytes) -> str:
    """Discourse's ``X-Discourse-Event-Signature``: the HMAC-SHA256 of the raw body, keyed with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _error(status: int, errors: list[str], error_type: str | None = None):
    body: dict = {"errors": errors}
    if error_type:
        body["error_type"] = error_type
    return status, {"Content-Type": JSON_TYPE}, body


def _rate_limited(wait: int, code: str):
    body = {
        "errors": [f"You’ve performed this action too many times. Please wait {wait} seconds before trying again."],
        "error_type": "rate_limit",
        "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
    }
    headers = {"Content-Type": JSON_TYPE, "Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": code}
    return 429, headers, body
