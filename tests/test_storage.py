"""The schema: migrations from empty to head, and invariants held by the database itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import select
from sqlalchemy.exc import IntegrityError

from storage.db import HEAD_REVISION, Database, head_revision
from storage.models import (
    MentorRequest,
    Mentorship,
    MentorshipState,
    Person,
    RequestState,
    SessionRecord,
    SessionKind,
    metadata,
)
from tests.conftest import START, database_url


def upgraded_to(revision: str):
    """What takes a connection's database to ``revision`` (to plant data an upgrade then reads)."""
    from alembic import command

    from storage.db import alembic_config

    def upgrade(connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    return upgrade


@pytest.fixture
async def db(tmp_path):
    database = Database(database_url(tmp_path, empty=True))
    yield database
    await database.close()


async def test_migrations_take_an_empty_database_to_head_and_match_the_models(db):
    assert await db.upgrade() is None  # it was empty
    assert await db.revision() == head_revision()
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {t.name for t in metadata.sorted_tables} <= tables


def _constraints(conn) -> dict:
    """CHECK constraints and indexes (with their WHERE) of every table, as the database has them."""
    found = inspect(conn)

    def where(options: dict) -> str:
        return " ".join(str(v) for v in options.values())

    return {
        table: (
            sorted((c["name"], " ".join(c["sqltext"].split())) for c in found.get_check_constraints(table)),
            sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]), where(i.get("dialect_options", {})))
                for i in found.get_indexes(table)
            ),
        )
        for table in found.get_table_names()
        if table != "alembic_version"
    }


async def test_migrations_build_the_same_constraints_as_the_models(db, tmp_path):
    # compare_metadata does not see CHECK constraints or partial-index conditions.
    await db.upgrade()
    (tmp_path / "models").mkdir()
    fresh = Database(database_url(tmp_path / "models", empty=True))
    async with fresh.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        from_models = await conn.run_sync(_constraints)
    await fresh.close()
    async with db.engine.connect() as conn:
        from_migrations = await conn.run_sync(_constraints)
    assert from_migrations == from_models
    assert ("ck_mentorship_not_self", "mentor_id <> mentee_id") in from_models["mentorship"][0]


def test_the_known_head_is_the_newest_migration():
    assert HEAD_REVISION == head_revision()


async def test_upgrading_twice_is_harmless_and_keeps_data(db):
    await db.upgrade()
    async with db.session() as s:
        s.add(Person(matrix_id="@ana:example.org", display_name="Ana"))
        await s.commit()
    assert await db.upgrade() == head_revision()
    async with db.session() as s:
        assert (await s.get(Person, 1)).display_name == "Ana"


async def _people(db) -> tuple[int, int, int]:
    await db.upgrade()
    async with db.session() as s:
        people = [Person(matrix_id=f"@{n}:example.org", capacity=3) for n in ("ana", "bob", "dana")]
        s.add_all(people)
        await s.commit()
        return tuple(p.id for p in people)


async def test_a_mentee_has_at_most_one_open_request(db):
    ana, _, _ = await _people(db)
    async with db.session() as s:
        s.add(MentorRequest(mentee_id=ana, topic="events", state=RequestState.OPEN))
        await s.commit()
        s.add(MentorRequest(mentee_id=ana, topic="more events", state=RequestState.PROPOSED))
        with pytest.raises(IntegrityError):
            await s.commit()
        await s.rollback()
        # Closed requests do not count.
        s.add(MentorRequest(mentee_id=ana, topic="old", state=RequestState.ACCEPTED))
        await s.commit()


async def test_a_mentee_has_at_most_one_active_mentorship(db):
    ana, bob, dana = await _people(db)
    ends = START + timedelta(days=365)
    async with db.session() as s:
        s.add(Mentorship(mentee_id=ana, mentor_id=bob, started_at=START, commitment_ends_at=ends))
        await s.commit()
        s.add(Mentorship(mentee_id=ana, mentor_id=dana, started_at=START, commitment_ends_at=ends))
        with pytest.raises(IntegrityError):
            await s.commit()
        await s.rollback()
        s.add(
            Mentorship(
                mentee_id=ana, mentor_id=dana, started_at=START, commitment_ends_at=ends, state=MentorshipState.ENDED
            )
        )
        await s.commit()


async def test_foreign_keys_states_and_scales_are_checked(db):
    ana, bob, _ = await _people(db)
    async with db.session() as s:
        s.add(Mentorship(mentee_id=999, mentor_id=bob, started_at=START, commitment_ends_at=START))
        with pytest.raises(IntegrityError):
            await s.commit()
        await s.rollback()
        s.add(Mentorship(mentee_id=ana, mentor_id=bob, started_at=START, commitment_ends_at=START))
        await s.commit()
        s.add(SessionRecord(mentorship_id=1, author_id=bob, kind=SessionKind.REGULAR, held_at=START,
                            outcome="ok", progress_now=11))
        with pytest.raises(IntegrityError):
            await s.commit()
        await s.rollback()
        s.add(Mentorship(mentee_id=bob, mentor_id=bob, started_at=START, commitment_ends_at=START,
                         state=MentorshipState.ENDED))
        with pytest.raises(IntegrityError):  # nobody mentors themselves
            await s.commit()


async def test_the_database_keeps_a_mentor_within_capacity(db):
    from sqlalchemy import update

    ana, bob, dana = await _people(db)
    async with db.session() as s:
        finn = Person(matrix_id="@finn:example.org")
        s.add(finn)
        await s.flush()
        finn_id = finn.id
        (await s.get(Person, bob)).capacity = 1
        s.add(Mentorship(mentee_id=ana, mentor_id=bob, started_at=START, commitment_ends_at=START))
        await s.commit()
        # Bob's one place is taken: a second active mentee is refused by the database itself.
        s.add(Mentorship(mentee_id=finn_id, mentor_id=bob, started_at=START, commitment_ends_at=START))
        with pytest.raises(IntegrityError, match="mentor_over_capacity"):
            await s.commit()
        await s.rollback()
        # Ended mentorships do not count, and reviving one is checked too.
        s.add(Mentorship(mentee_id=finn_id, mentor_id=bob, started_at=START, commitment_ends_at=START,
                         state=MentorshipState.ENDED))
        await s.commit()
        with pytest.raises(IntegrityError, match="mentor_over_capacity"):
            await s.exec(update(Mentorship).where(Mentorship.mentee_id == finn_id).values(state="active"))
        await s.rollback()
        # Moving a mentorship onto a full mentor is refused; onto one with room it is fine.
        s.add(Mentorship(mentee_id=finn_id, mentor_id=dana, started_at=START, commitment_ends_at=START))
        await s.commit()
        with pytest.raises(IntegrityError, match="mentor_over_capacity"):
            await s.exec(update(Mentorship).where(Mentorship.mentor_id == dana).values(mentor_id=bob))
        await s.rollback()
        # Lowering a capacity below the load is allowed: mentors keep their mentees.
        await s.exec(update(Person).where(Person.id == bob).values(capacity=0))
        await s.commit()


async def test_the_database_counts_each_mentors_active_mentees(db):
    from sqlalchemy import delete, func, update

    ana, bob, dana = await _people(db)

    async def loads() -> dict[int, tuple[int, int]]:
        """Each mentor's kept count, and the count of their active mentorships."""
        async with db.session() as s:
            kept = dict((await s.exec(select(Person.id, Person.active_mentees))).all())
            counted = dict((await s.exec(select(Mentorship.mentor_id, func.count())
                                         .where(Mentorship.state == MentorshipState.ACTIVE)
                                         .group_by(Mentorship.mentor_id))).all())
        return {i: (kept[i], counted.get(i, 0)) for i in kept}

    async with db.session() as s:
        finn = Person(matrix_id="@finn:example.org")
        s.add(finn)
        await s.flush()
        finn_id = finn.id
        s.add(Mentorship(mentee_id=ana, mentor_id=bob, started_at=START, commitment_ends_at=START))
        s.add(Mentorship(mentee_id=finn_id, mentor_id=bob, started_at=START, commitment_ends_at=START))
        await s.commit()
    assert (await loads())[bob] == (2, 2)
    steps = [
        update(Mentorship).where(Mentorship.mentee_id == ana).values(mentor_id=dana),  # moved to another mentor
        update(Mentorship).where(Mentorship.mentee_id == finn_id).values(state="ended"),  # ended
        update(Mentorship).where(Mentorship.mentee_id == finn_id).values(mentor_id=dana),  # an ended one moved
        update(Mentorship).where(Mentorship.mentee_id == finn_id).values(state="active"),  # revived
        delete(Mentorship).where(Mentorship.mentee_id == ana),  # deleted while active
    ]
    for step in steps:
        async with db.session() as s:
            await s.exec(step)
            await s.commit()
        assert all(kept == counted for kept, counted in (await loads()).values()), step
    assert (await loads())[dana] == (1, 1) and (await loads())[bob] == (0, 0)


async def test_times_come_back_in_utc(db):
    from zoneinfo import ZoneInfo

    await db.upgrade()
    lima = START.astimezone(ZoneInfo("America/Lima"))
    async with db.session() as s:
        s.add(Person(matrix_id="@ana:example.org", away_until=lima))
        await s.commit()
    async with db.session() as s:
        back = (await s.get(Person, 1)).away_until
    assert back == START and back.utcoffset() == timedelta(0)


async def test_upgrading_to_0006_fills_when_each_mentorship_last_met(db):
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        await conn.run_sync(upgraded_to("0005"))
        for sql in (
            "INSERT INTO person (id, matrix_id, is_mentee, is_mentor, is_council, capacity, inactive, created_at, "
            "updated_at) VALUES (1, '@ana:x.org', true, false, false, 0, false, '2027-01-01', '2027-01-01'), "
            "(2, '@bob:x.org', false, true, false, 3, false, '2027-01-01', '2027-01-01')",
            "INSERT INTO mentorship (id, mentee_id, mentor_id, state, started_at, commitment_ends_at) VALUES "
            "(1, 1, 2, 'ended', '2026-01-01', '2027-01-01'), (2, 1, 2, 'active', '2026-06-01', '2027-06-01')",
            "INSERT INTO session_record (mentorship_id, author_id, kind, held_at, outcome, created_at) VALUES "
            "(1, 2, 'regular', '2026-03-01', 'x', '2026-03-01'), (2, 2, 'regular', '2026-07-01', 'x', '2026-07-01')",
            "INSERT INTO checkin (mentorship_id, kind, due_at, timezone, arranged, state, done_at, created_at) VALUES "
            "(2, 'regular', '2026-09-01', 'UTC', true, 'done', '2026-09-02', '2026-08-01'), "
            "(2, 'regular', '2026-12-01', 'UTC', true, 'scheduled', NULL, '2026-08-01')",
        ):
            await conn.execute(text(sql))
    await db.upgrade()
    async with db.session() as s:
        met = {m.id: m.last_met_at for m in (await s.exec(select(Mentorship))).all()}
    assert met[1].date().isoformat() == "2026-03-01"  # a session
    assert met[2].date().isoformat() == "2026-09-02"  # a check-in done after the last session


async def test_upgrading_to_0012_sets_when_each_running_mentorship_is_halfway(db):
    """Mentorships running before reviews were proposed get their mid-term: halfway through
    their commitment; one that ended gets none."""
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        await conn.run_sync(upgraded_to("0011"))
        for sql in (
            "INSERT INTO person (id, matrix_id, is_mentee, is_mentor, is_council, capacity, inactive, created_at, "
            "updated_at) VALUES (1, '@ana:x.org', true, false, false, 0, false, '2027-01-01', '2027-01-01'), "
            "(2, '@bob:x.org', false, true, false, 3, false, '2027-01-01', '2027-01-01')",
            "INSERT INTO mentorship (id, mentee_id, mentor_id, state, started_at, commitment_ends_at) VALUES "
            "(1, 1, 2, 'ended', '2026-01-01', '2027-01-01'), (2, 1, 2, 'active', '2027-01-01', '2027-12-31')",
        ):
            await conn.execute(text(sql))
    await db.upgrade()
    async with db.session() as s:
        halfway = {m.id: m.midterm_at for m in (await s.exec(select(Mentorship))).all()}
    assert halfway[1] is None
    assert halfway[2].isoformat() == "2027-07-02T00:00:00+00:00"


async def test_a_unit_of_work_that_waits_for_its_turn_leaves_the_bot_running(db):
    """Two units of work at once (one of them paused mid-way) both land, and the event loop
    keeps serving everything else meanwhile: on SQLite, where sessions run in place, the
    second waits for its turn on the loop, never inside the database's lock."""
    import asyncio

    await db.upgrade()
    paused, resume = asyncio.Event(), asyncio.Event()
    ticks = 0

    async def first() -> None:
        async with db.session() as s:
            s.add(Person(matrix_id="@first:example.org", display_name="First"))
            await s.flush()
            paused.set()
            await resume.wait()  # holds its session (and its write) across an await
            await s.commit()

    async def second() -> None:
        await paused.wait()
        async with db.session() as s:
            s.add(Person(matrix_id="@second:example.org", display_name="Second"))
            await s.commit()

    async def ticker() -> None:
        nonlocal ticks
        while not resume.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tasks = [asyncio.create_task(f()) for f in (first, second, ticker)]
    await paused.wait()
    await asyncio.sleep(0.3)
    assert ticks >= 10, "the event loop stopped while a unit of work waited"
    resume.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=10)
    async with db.session() as s:
        names = sorted((await s.exec(select(Person.matrix_id))).all())
    assert names == ["@first:example.org", "@second:example.org"]


async def test_a_unit_of_work_may_read_in_a_second_session_inside_its_first(db):
    await db.upgrade()
    async with db.session() as outer:
        outer.add(Person(matrix_id="@ana:example.org", display_name="Ana"))
        await outer.commit()
        async with db.session() as inner:  # at once, not waiting for itself
            found = (await inner.exec(select(Person).where(Person.matrix_id == "@ana:example.org"))).one()
    assert found.display_name == "Ana"


async def test_a_bot_on_sqlite_does_not_load_postgresqls_driver_code(tmp_path):
    """Memory: the models name PostgreSQL's options only when a PostgreSQL database is opened."""
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "m.db"
    migrated = Database(f"sqlite+aiosqlite:///{path}")
    await migrated.upgrade()  # the first start migrates; this is a later one
    await migrated.close()
    code = ("import sys, asyncio\nfrom bot import app, runtime, scheduler\nfrom storage.db import Database\n"
            "db = Database('sqlite+aiosqlite:///' + sys.argv[1])\nasyncio.run(db.upgrade())\n"
            "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


async def test_a_decision_waits_for_the_disk_and_a_note_to_itself_need_not(tmp_path):
    """On SQLite a unit of work is on the disk when its commit returns (a power cut cannot take
    back a decision already sent); the bot's notes that a power cut may take back at no cost
    (a message sent, where syncing got to) are committed without waiting for the disk."""
    from sqlalchemy import text

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}")
    await db.upgrade()
    try:
        async with db.session() as s:
            assert (await s.exec(text("PRAGMA synchronous"))).scalar() == 2  # FULL
        async with db.session(durable=False) as s:
            assert (await s.exec(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
            await s.exec(text("INSERT INTO bot_state (key, value) VALUES ('k', 'v')"))
            await s.commit()
        async with db.session() as s:  # the same file, seen by the others at once
            assert (await s.exec(text("SELECT value FROM bot_state WHERE key = 'k'"))).scalar() == "v"
            assert (await s.exec(text("PRAGMA synchronous"))).scalar() == 2
    finally:
        await db.close()


async def test_upgrading_to_0020_reads_the_words_people_gave_before(db, caplog):
    """Languages typed as names become tags, zones named by a city become IANA names,
    interests lose their capitals; what names nothing stays as it was and is logged as a word
    with a count, never beside who gave it. A word given twice (``en`` and ``English``) is kept once."""
    import logging

    from sqlalchemy import text

    from storage.models import PersonTag, TagKind

    async with db.engine.begin() as conn:
        await conn.run_sync(upgraded_to("0019"))
        for sql in (
            "INSERT INTO person (id, matrix_id, is_mentee, is_mentor, is_council, capacity, inactive, created_at, "
            "updated_at, timezone) VALUES "
            "(1, '@ana:x.org', true, false, false, 0, false, '2027-01-01', '2027-01-01', 'Berlin'), "
            "(2, '@bob:x.org', false, true, false, 3, false, '2027-01-01', '2027-01-01', 'Portugal'), "
            "(3, '@cy:x.org', false, true, false, 3, false, '2027-01-01', '2027-01-01', 'America/Lima')",
            "INSERT INTO person_tag (person_id, kind, value) VALUES "
            "(1, 'language', 'Portuguese'), (1, 'language', 'english'), (1, 'language', 'en'), "
            "(1, 'language', 'elvish-ish'), (1, 'interest', '  UX   Design '), (1, 'interest', 'ux design'), "
            "(2, 'language', 'deutsch'), (2, 'language', 'pt-br'), (2, 'skill', 'L10n'), "
            "(3, 'language', 'elvish-ish')",
        ):
            await conn.execute(text(sql))
    with caplog.at_level(logging.INFO):
        await db.upgrade()
    async with db.session() as s:
        zones = {p.id: p.timezone for p in (await s.exec(select(Person))).all()}
        tags = [(t.person_id, t.kind, t.value) for t in (await s.exec(select(PersonTag).order_by(PersonTag.id))).all()]
    assert zones == {1: "Europe/Berlin", 2: "Portugal", 3: "America/Lima"}  # Portugal has two zones: kept
    assert tags == [(1, TagKind.LANGUAGE, "pt"), (1, TagKind.LANGUAGE, "en"), (1, TagKind.LANGUAGE, "elvish-ish"),
                    (1, TagKind.INTEREST, "ux design"), (2, TagKind.LANGUAGE, "de"), (2, TagKind.LANGUAGE, "pt-BR"),
                    (2, TagKind.SKILL, "l10n"), (3, TagKind.LANGUAGE, "elvish-ish")]
    logged = "\n".join(r.getMessage() for r in caplog.records if "0020" in r.getMessage())
    assert "'elvish-ish' (people who gave it: 2)" in logged
    assert "'Portugal' (people who gave it: 1) means several" in logged
    assert "@" not in logged and "x.org" not in logged
