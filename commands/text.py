"""Rich text for the bot's messages: one value, rendered as plain text and as HTML.

Everything that did not come from the bot itself (names, topics, anything a user
typed) enters as plain text and is escaped when rendered to HTML, so user text
can never inject markup into a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Union

Part = Union[str, "Node", "Msg", "Lazy"]

# The language of whoever the message being made now is for, when rendering is not told: the
# person whose command is being handled, else the program's language (see ``commands.words``).
reading: ContextVar[str] = ContextVar("reading", default="en")


@contextmanager
def reading_in(language: str) -> Iterator[None]:
    """Inside, messages made without a reader are in ``language``; as before, after."""
    token = reading.set(language)
    try:
        yield
    finally:
        reading.reset(token)


class Lazy:
    """A part whose words depend on who reads it (a sentence in their language, a date written
    their way): it becomes text only when the message is rendered for a reader."""

    __slots__ = ()

    def resolve(self, language: str) -> Msg:
        raise NotImplementedError

    def mentions(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Node:
    kind: str  # bold, code, mention, link, item
    value: str | Msg
    extra: str = ""
    notify: bool = False  # a mention that pings the person


class Msg:
    """A message under construction: a sequence of text and formatted nodes."""

    __slots__ = ("parts", "lazy")

    def __init__(self, *parts: Part) -> None:
        flat: list[str | Node | Lazy] = []
        lazy = False
        for part in parts:
            if isinstance(part, Msg):
                flat.extend(part.parts)
                lazy = lazy or part.lazy
            elif isinstance(part, Node):
                flat.append(part)
                lazy = lazy or (isinstance(part.value, Msg) and part.value.lazy)
            elif isinstance(part, str):
                flat.append(part)
            elif isinstance(part, Lazy):
                flat.append(part)
                lazy = True
            else:
                flat.append(str(part))
        self.parts: tuple[str | Node | Lazy, ...] = tuple(flat)
        self.lazy = lazy  # holds words still to be put in a reader's language

    def __add__(self, other: Part) -> Msg:
        return Msg(self, other)

    def __radd__(self, other: Part) -> Msg:
        return Msg(other, self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __repr__(self) -> str:
        return f"Msg({self.plain()!r})"

    def resolve(self, language: str | None = None) -> Msg:
        """This message as one reader reads it, in ``language`` (by default, ``reading``'s)."""
        if not self.lazy:
            return self
        language = language or reading.get()
        out: list[Part] = []
        for p in self.parts:
            if isinstance(p, Lazy):
                out.append(p.resolve(language).resolve(language))
            elif isinstance(p, Node) and isinstance(p.value, Msg) and p.value.lazy:
                out.append(Node(p.kind, p.value.resolve(language), p.extra, p.notify))
            else:
                out.append(p)
        return Msg(*out)

    def plain(self, language: str | None = None) -> str:
        return "".join(_plain(p) for p in self.resolve(language).parts)

    def html(self, language: str | None = None) -> str:
        # Line breaks become <br>, except inside rendered Markdown, which has its own blocks.
        return "".join(p.extra if isinstance(p, Node) and p.kind == "rich" else _html(p).replace("\n", "<br>\n")
                       for p in self.resolve(language).parts)

    def mentions(self) -> list[str]:
        """Matrix IDs this message pings (``mention``, not ``person``), in order, without repeats."""
        seen: list[str] = []
        for p in self.parts:
            if isinstance(p, Lazy):
                ids = p.mentions()
            elif isinstance(p, Node):
                inner = p.value.mentions() if isinstance(p.value, Msg) else []
                ids = [p.value] if p.kind == "mention" and p.notify else inner
            else:
                continue
            seen.extend(i for i in ids if i not in seen)
        return seen


def _plain(p: str | Node) -> str:
    if isinstance(p, str):
        return p
    inner = p.value.plain() if isinstance(p.value, Msg) else p.value
    if p.kind == "code":
        return f"`{inner}`"
    if p.kind == "mention":
        return p.extra or inner
    if p.kind == "link":
        return f"{p.extra} ({inner})" if p.extra and p.extra != inner else inner
    if p.kind == "item":
        return f"• {inner}"
    return inner


def _escape(text: str, quote: bool) -> str:
    """As ``html.escape`` (without loading its table of entities, which a bot never needs)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;") if quote else text


def _html(p: str | Node) -> str:
    if isinstance(p, str):
        return _escape(p, quote=False)
    inner = p.value.html() if isinstance(p.value, Msg) else _escape(p.value, quote=False)
    if p.kind == "bold":
        return f"<strong>{inner}</strong>"
    if p.kind == "code":
        return f"<code>{inner}</code>"
    if p.kind == "mention":
        href = _escape(f"https://matrix.to/#/{p.value}", quote=True)
        return f'<a href="{href}">{_escape(p.extra or p.value, quote=False)}</a>'
    if p.kind == "link":
        href = _escape(p.value if isinstance(p.value, str) else "", quote=True)
        return f'<a href="{href}">{_escape(p.extra or p.value, quote=False)}</a>'
    if p.kind == "item":
        return f"• {inner}"
    return inner


def bold(*parts: Part) -> Node:
    return Node("bold", Msg(*parts))


def code(text: str | Msg) -> Node:
    return Node("code", text)


def mention(matrix_id: str, name: str | None = None) -> Node:
    """A person the message is for: shown by name, and in Matrix a pill that notifies them."""
    return Node("mention", matrix_id, name or "", notify=True)


def person(matrix_id: str, name: str | None = None) -> Node:
    """A person the message is about: shown by name and linked, without notifying them."""
    return Node("mention", matrix_id, name or "")


def link(url: str, label: str | None = None) -> Node:
    return Node("link", url, label or "")


def markdown(source: str) -> Node:
    """Markdown someone wrote, rendered to HTML for clients that show it; plain text as written.

    Raw HTML in it is not passed through: it shows as the text that was typed.
    Images are left as links (Matrix clients show only images uploaded to the homeserver).
    """
    return Node("rich", source, _markdown_renderer().render(source).strip())


_RENDERER = None


def _markdown_renderer():
    global _RENDERER
    if _RENDERER is None:
        from markdown_it import MarkdownIt  # loaded on first use

        _RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")
    return _RENDERER


def lines(*items: Part | None) -> Msg:
    """Join parts with line breaks, skipping None."""
    out: list[Part] = []
    for item in items:
        if item is None:
            continue
        if out:
            out.append("\n")
        out.append(item)
    return Msg(*out)


def bullets(items: Iterable[Part]) -> Msg:
    return lines(*(Node("item", Msg(i)) for i in items))


def join(items: Iterable[Part], sep: str = ", ") -> Msg:
    out: list[Part] = []
    for item in items:
        if out:
            out.append(sep)
        out.append(item)
    return Msg(*out)


def as_typed(text: str, room, prefix: str) -> Msg:
    """A command as the person must type it in ``room`` (a ``RoomKind``): shared rooms need the prefix."""
    return Msg(code(text if room == "dm" else f"{prefix}{text}"))
