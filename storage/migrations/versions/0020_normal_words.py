"""normal words: languages as BCP-47 tags, time zones as IANA names, interests and skills in lower case

Revision ID: 0020
Revises: 0019

What people gave before their words were read (``profile languages Portuguese``) is read
now as it would be today (``storage.normal``): a language becomes its tag (``pt``), a time
zone its IANA name (``Berlin`` -> ``Europe/Berlin``), an interest or skill its lower-case
form with single spaces. A program's vocabulary of skills lives in its configuration, not
here, so synonyms are not rewritten: matching reads stored words through the vocabulary as
it is at the time, and a near spelling is never guessed into another word.

A word that cannot be read (no such language, a zone name that means several zones) stays
as it was; the log names such words and how many people gave each, never who gave them.
Two words of one person that mean the same (``en`` and ``English``) become one.
"""
from __future__ import annotations

import logging
from collections import Counter

import sqlalchemy as sa
from alembic import op

from storage.normal import language_tag, plain_word, zones_meant

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

log = logging.getLogger("mentorbot.migrations")

TAG = sa.table('person_tag', sa.column('id', sa.Integer), sa.column('person_id', sa.Integer),
               sa.column('kind', sa.String), sa.column('value', sa.String))
PERSON = sa.table('person', sa.column('timezone', sa.String))


def _normal(kind: str, value: str) -> str | None:
    if kind == 'language':
        return language_tag(value)
    return plain_word(value) or None


def _tags(conn) -> None:
    rows = conn.execute(sa.select(TAG.c.id, TAG.c.person_id, TAG.c.kind, TAG.c.value).order_by(TAG.c.id)).all()
    held = {(person_id, kind, value) for _, person_id, kind, value in rows}
    unread: Counter[tuple[str, str]] = Counter()
    for row_id, person_id, kind, value in rows:
        normal = _normal(kind, value)
        if normal is None:
            unread[(kind, value)] += 1
            continue
        if normal == value:
            continue
        held.discard((person_id, kind, value))
        if (person_id, kind, normal) in held:
            conn.execute(sa.delete(TAG).where(TAG.c.id == row_id))  # the same word, given twice
        else:
            conn.execute(sa.update(TAG).where(TAG.c.id == row_id).values(value=normal))
            held.add((person_id, kind, normal))
    for (kind, value), n in sorted(unread.items()):
        log.warning("0020: the %s %r (people who gave it: %d) names nothing known; it is kept as it was",
                    kind, value, n)


def _zones(conn) -> None:
    given = conn.execute(sa.select(PERSON.c.timezone, sa.func.count()).where(PERSON.c.timezone.is_not(None))
                         .group_by(PERSON.c.timezone)).all()
    for zone, n in given:
        meant = zones_meant(zone)
        if len(meant) == 1 and meant[0] != zone:
            conn.execute(sa.update(PERSON).where(PERSON.c.timezone == zone).values(timezone=meant[0]))
        elif len(meant) != 1:
            log.warning("0020: the time zone %r (people who gave it: %d) means %s; it is kept as it was",
                        zone, n, "several zones" if meant else "no zone known")


def upgrade() -> None:
    conn = op.get_bind()
    _tags(conn)
    _zones(conn)


def downgrade() -> None:
    # The words as first typed are not kept: a normal word stays normal.
    pass
