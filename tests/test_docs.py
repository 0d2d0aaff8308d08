"""The documentation holds together: a short README that maps every page, links that resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]

# [text](target): the target up to the closing parenthesis, without an optional "title".
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
CODE = re.compile(r"`[^`\n]*`")


def prose(page: Path) -> str:
    """The page without code blocks and code spans, where brackets are not links."""
    return CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))


def links(page: Path) -> list[str]:
    return LINK.findall(prose(page))


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the page's headings: lower case, punctuation dropped, spaces to -."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower().replace("`", "")).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def test_the_readme_is_short():
    assert len(README.read_bytes()) < 12 * 1024


def test_the_readme_links_every_page_of_docs():
    targets = {(README.parent / t.split("#")[0]).resolve() for t in links(README) if not re.match(r"\w+:", t)}
    missing = [p.name for p in sorted(DOCS.iterdir()) if p.is_file() and p.resolve() not in targets]
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: and the like
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(target)
    assert broken == []


def test_the_link_check_sees_links_and_anchors():
    assert "docs/commands.md" in links(README)
    assert "privacy.md#a-direct-message-is-private-to-two" in links(DOCS / "commands.md")
    assert {"security-model", "a-direct-message-is-private-to-two"} <= anchors(DOCS / "privacy.md")
    assert "the-mentorbot-command" in anchors(DOCS / "operators.md")  # code spans dropped from the slug
    assert "help" not in links(DOCS / "commands.md")  # `[command...]` in code is no link
