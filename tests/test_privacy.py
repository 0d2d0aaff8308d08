"""Privacy: what each person can see (one rule set), export (`mydata`, the council's CSV)
and erase (`forget me`, the retention policy)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from commands.framework import RoomKind
from commands.policy import RetentionPolicy
from commands.services import privacy, visibility
from commands.services.visibility import Reader
from commands.words import privacy as privacy_words
from storage.models import (
    DiaryEntry,
    Feedback,
    Goal,
    Mentorship,
    MentorshipState,
    Person,
    SessionKind,
    SessionRecord,
    metadata,
)
from tests.conftest import COUNCIL, START

ANA, BOB, DAN, GIA = "@ana:example.org", "@bob:example.org", "@dan:example.org", "@gia:example.org"
Z = "Zqx"  # every marker starts with it

# Ana's data (and what others wrote about her), one marker per field.
ANA_NAME, ANA_TAG, ANA_TOPIC = f"Ana {Z}-ana-name", f"{Z.lower()}-ana-interest", f"{Z}-ana-topic"
ANA_DIARY, ANA_GOAL = f"{Z}-ana-diary", f"{Z}-ana-goal"
ANA_OUTCOME, ANA_NEXT, ANA_REMARKS = f"{Z}-ana-outcome", f"{Z}-ana-next", f"{Z}-ana-remarks"
ANA_WELL, ANA_BETTER = f"{Z}-ana-fb-well", f"{Z}-ana-fb-better"
ANA_END, ANA_CHANGE = f"{Z}-ana-end", f"{Z}-ana-change"
DAN_DECLINE = f"{Z}-dan-declines-ana"
# Ana's agreement with Bob, one marker per part, and her answer to its follow-up.
AGREED = {"goals": f"{Z}-agreed-goal", "mentor": f"{Z}-bob-commits", "mentee": f"{Z}-ana-commits",
          "contact": f"{Z}-agreed-contact", "cancel": f"{Z}-agreed-cancel", "urgent": f"{Z}-agreed-urgent"}
ANA_FOLLOWUP = f"{Z}-ana-followup"
ANA_DRAFT = f"{Z}-ana-draft"  # what she first answered `request`, before she typed her request instead
# A single coaching session Ana asked Dan for (a skill he listed then, and no longer), and his reason to decline.
ANA_COACHING, DAN_COACHING_REASON = f"{Z.lower()}-ana-coaching-skill", f"{Z}-dan-coaching-reason"
BOB_NOMINATES = f"{Z}-bob-nominates-ana"
ANA_CITATION = f"{Z}-council-cites-ana"  # the council's citation: hers to publish or not
BOB_OPPORTUNITY = f"{Z}-bob-shares-a-training"
# Other people's data.
BOB_NAME, DAN_NAME, GIA_NAME = f"Bob {Z}-bob-name", f"Dan {Z}-dan-name", f"Gia {Z}-gia-name"
BOB_WELL, BOB_BETTER = f"{Z}-bob-fb-well", f"{Z}-bob-fb-better"
GIA_TOPIC, GIA_DIARY, GIA_GOAL, GIA_OUTCOME = f"{Z}-gia-topic", f"{Z}-gia-diary", f"{Z}-gia-goal", f"{Z}-gia-outcome"
# Bob's group, which Ana and Gia join: what is said there, and why Ana left and Bob ended it.
GROUP_NAME, GROUP_OUTCOME, GROUP_NEXT = f"{Z}-group-name", f"{Z}-group-outcome", f"{Z}-group-next"
ANA_LEAVES, BOB_ENDS_GROUP = f"{Z}-ana-leaves-group", f"{Z}-bob-ends-group"

ANAS = [ANA_NAME, ANA_TAG, ANA_TOPIC, ANA_DIARY, ANA_GOAL, ANA_OUTCOME, ANA_NEXT, ANA_REMARKS, ANA_WELL, ANA_BETTER,
        ANA_END, ANA_CHANGE, BOB_NOMINATES, *AGREED.values(), ANA_FOLLOWUP, ANA_CITATION,
        ANA_COACHING, DAN_COACHING_REASON, ANA_LEAVES]
OTHERS = [BOB_NAME, DAN_NAME, GIA_NAME, BOB_WELL, BOB_BETTER, GIA_TOPIC, GIA_DIARY, GIA_GOAL, GIA_OUTCOME,
          DAN_DECLINE, BOB_ENDS_GROUP]


async def run(bot, sender: str, line: str, room: RoomKind = RoomKind.DM):
    result = await bot.send(sender, line, room)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    return result


async def year_of_ana(bot, language: str | None = None) -> None:
    """Ana's year: a first mentor (Dan) she leaves with a reason, then Bob; her diary, goals,
    sessions, feedback, a change request, an opportunity Bob shares with her, a nomination the
    council accepts and she keeps private. Gia, another mentee of Bob's, too."""
    for line in ("mentor add @bob:example.org 3", "mentor add @dan:example.org 2"):
        await run(bot, COUNCIL, line)
    for who, name in ((BOB, BOB_NAME), (DAN, DAN_NAME), (ANA, ANA_NAME), (GIA, GIA_NAME)):
        await run(bot, who, f"profile name {name}")
    await run(bot, ANA, "profile timezone America/Lima")
    if language:  # Ana reads another language than the others
        await run(bot, ANA, f"profile language {language}")
    await run(bot, ANA, f"profile interests {ANA_TAG}, events")
    await run(bot, ANA, "request")
    await run(bot, ANA, ANA_DRAFT)
    await run(bot, ANA, f"request {ANA_TOPIC}")
    await run(bot, DAN, f"decline 1 {DAN_DECLINE}")
    await run(bot, DAN, f"profile skills {ANA_COACHING}")
    await run(bot, ANA, f"coaching ask {DAN} {ANA_COACHING} in 3 days")
    await run(bot, DAN, f"coaching decline 1 {DAN_COACHING_REASON}")
    await run(bot, DAN, "profile skills events")
    await run(bot, COUNCIL, f"assign {ANA} {DAN}")
    await run(bot, ANA, f"diary {ANA_DIARY} with Dan")
    bot.clock.advance(timedelta(days=20))
    await run(bot, ANA, f"end {ANA_END}")
    await run(bot, ANA, "request events again")
    await run(bot, COUNCIL, f"assign {ANA} {BOB}")
    await run(bot, ANA, f"diary {ANA_DIARY} with Bob")
    await run(bot, ANA, f"goals add {ANA_GOAL}")
    await run(bot, BOB, f"session {ANA} regular {ANA_OUTCOME} | next: {ANA_NEXT} | progress: 7-9 | "
                        f"remarks: {ANA_REMARKS}")
    await run(bot, ANA, f"feedback {ANA_WELL} | {ANA_BETTER}")
    await run(bot, BOB, f"feedback {ANA} {BOB_WELL} | {BOB_BETTER}")
    await run(bot, ANA, f"change {ANA_CHANGE}")
    await run(bot, BOB, f"nominate {ANA} {BOB_NOMINATES}")
    await run(bot, ANA, "agreement draft " + " | ".join(f"{label}: {marker}" for label, marker in AGREED.items()))
    await run(bot, BOB, f"agreement confirm {ANA}")
    await run(bot, BOB, f"opportunity {ANA} training 2027-06-01 | https://example.org/training | {BOB_OPPORTUNITY}")
    await run(bot, COUNCIL, f"nomination accept 1 {ANA_CITATION} for the events she ran this year")
    await run(bot, ANA, "recognition no")
    await run(bot, GIA, f"request {GIA_TOPIC}")
    await run(bot, COUNCIL, f"assign {GIA} {BOB}")
    await run(bot, GIA, f"diary {GIA_DIARY}")
    await run(bot, GIA, f"goals add {GIA_GOAL}")
    await run(bot, BOB, f"session {GIA} regular {GIA_OUTCOME}")
    # A month after she began with Bob, both are asked whether the agreement works.
    await bot.runtime.advance_to(bot.clock.now() + timedelta(days=31), bot.clock)
    await run(bot, ANA, f"agreement works no {ANA_FOLLOWUP}")
    await run(bot, BOB, f"group create {GROUP_NAME}")
    for mentee in (ANA, GIA):
        await run(bot, BOB, f"group invite 1 {mentee}")
        await run(bot, mentee, "group join 1")
    await run(bot, BOB, f"group session 1 regular {GROUP_OUTCOME} | next: {GROUP_NEXT}")
    await run(bot, ANA, f"group leave 1 {ANA_LEAVES}")
    await run(bot, BOB, f"group end 1 {BOB_ENDS_GROUP}")


def opened(f) -> dict[str, str]:
    """A file's text by name; a ZIP archive (the council's export), each file in it."""
    if f.mimetype != "application/zip":
        return {f.name: f.data}
    with zipfile.ZipFile(io.BytesIO(f.content())) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def files_to(bot, user: str, since: int = 0) -> dict[str, str]:
    return {name: text for m in bot.outbox.sent[since:] if m.target.user_id == user for f in m.files
            for name, text in opened(f).items()}


async def mydata(bot, user: str) -> tuple[dict, str]:
    start = len(bot.outbox.sent)
    await run(bot, user, "mydata")
    files = files_to(bot, user, start)
    [raw] = [v for k, v in files.items() if k.endswith(".json")]
    [summary] = [v for k, v in files.items() if k.endswith(".md")]
    return json.loads(raw), summary


# ---------------------------------------------------------------- mydata


async def test_mydata_holds_everything_about_the_person_and_nothing_about_anyone_else(bot):
    await year_of_ana(bot)
    start = len(bot.outbox.sent)
    data, summary = await mydata(bot, ANA)
    raw = json.dumps(data, ensure_ascii=False)
    assert [m for m in ANAS if m not in raw] == []
    assert [m for m in ANAS if m not in summary] == []  # the readable file says it all too
    assert [m for m in OTHERS if m in raw + summary] == []
    # The two files go to her direct message, and nowhere else.
    [message] = bot.outbox.sent[start:]
    assert message.target.room is RoomKind.DM and message.target.user_id == ANA
    assert [f.name for f in message.files] == ["mydata-2027-02-24.json", "mydata-2027-02-24.md"]
    assert "Here is everything I store about you" in message.body
    # What the program holds about her, counted: two requests, both mentorships, two
    # diary entries, the session about her, her feedback, the change, the nomination.
    assert (len(data["requests"]), len(data["mentorships"]), len(data["diary"])) == (2, 2, 2)
    assert data["sessions_about_you"][0]["progress_start"] == 7 and data["sessions_about_you"][0]["progress_now"] == 9
    assert [m["with"] for m in data["mentorships"]] == [DAN, BOB]
    assert data["profile"]["timezone"] == "America/Lima" and ANA_TAG in data["profile"]["interests"]


async def test_a_mentors_mydata_holds_what_they_wrote_but_not_their_mentees_records(bot):
    await year_of_ana(bot)
    data, summary = await mydata(bot, BOB)
    raw = json.dumps(data, ensure_ascii=False) + summary
    assert BOB_NAME in raw and BOB_WELL in raw and BOB_BETTER in raw
    # The session notes he wrote are his mentees' records; their diaries, goals and names are theirs.
    assert [m for m in (ANA_OUTCOME, ANA_NEXT, ANA_REMARKS, GIA_OUTCOME, ANA_DIARY, GIA_DIARY, ANA_GOAL, ANA_NAME,
                        GIA_NAME, ANA_WELL, ANA_CHANGE, ANA_END, DAN_DECLINE) if m in raw] == []
    assert {m["with"] for m in data["mentorships"]} == {ANA, GIA}
    dan, _ = await mydata(bot, DAN)
    assert dan["requests_you_declined"][0]["reason"] == DAN_DECLINE
    assert ANA_END not in json.dumps(dan)  # Ana ended it with a reason: the reason is hers and the council's


async def test_mydata_for_someone_unknown_says_there_is_nothing(bot):
    result = await run(bot, "@new:example.org", "mydata")
    assert result.messages[0].msg.plain() == "I store nothing about you: you have not used the program yet."
    assert not result.messages[0].files


async def test_mydata_works_in_a_direct_message_only(bot):
    await year_of_ana(bot)
    result = await bot.send(BOB, "!mydata", RoomKind.MENTORS)
    assert result.outcome == "wrong_room" and not result.messages[0].files


# ---------------------------------------------------------------- forget me


async def every_text(bot) -> str:
    """Every value of every row of every table, as one text to search."""
    out: list[str] = []
    async with bot.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(select(table))).all():
                out.extend(str(v) for v in row if v is not None)
    return "\n".join(out)


async def counts(bot) -> dict[str, int]:
    async with bot.db.engine.connect() as conn:
        return {t.name: (await conn.execute(text(f"SELECT count(*) FROM {t.name}"))).scalar_one()
                for t in metadata.sorted_tables}


async def rows_of(bot, model, **where) -> list[tuple]:
    async with bot.db.session() as session:
        query = select(model).where(*(getattr(model, k) == v for k, v in where.items())).order_by(model.id)
        return [tuple(getattr(r, c.name) for c in model.__table__.columns) for r in (await session.exec(query))]


async def test_forget_me_leaves_no_trace_of_her_and_keeps_the_counts_and_everyone_else(bot):
    await year_of_ana(bot)
    gia = (await rows_of(bot, Person, matrix_id=GIA))[0][0]
    gia_before = [await rows_of(bot, DiaryEntry, person_id=gia), await rows_of(bot, Goal, person_id=gia)]
    report_before = await bot.reply(COUNCIL, "!report", RoomKind.COUNCIL)
    before = await counts(bot)
    assert ANA in await every_text(bot)

    explained = await bot.reply(ANA, "forget me")
    assert "end your mentorship with Bob" in explained and "forget me confirm" in explained
    assert "2 diary entries, 2 goals, 1 session record about you, 1 feedback answer" in explained
    start = len(bot.outbox.sent)
    await run(bot, ANA, "forget me confirm")
    sent = bot.outbox.sent[start:]
    [to_bob] = [m for m in sent if m.target.user_id == BOB]
    assert to_bob.body.startswith(f"{ANA_NAME} has ended your mentorship with you.")
    assert ANA_CHANGE not in to_bob.body and "reason" not in to_bob.body
    [to_ana] = [m for m in sent if m.target.user_id == ANA]
    assert to_ana.body.startswith("Done: I have forgotten you.")

    everything = await every_text(bot)
    assert [m for m in ANAS + [ANA, "@ana"] if m in everything] == []
    # Only what the program must keep: the rows behind its counts, under a pseudonym.
    after = await counts(bot)
    deleted = {t: before[t] - after[t] for t in before if after[t] < before[t]}
    assert deleted == {"person_tag": 2, "diary_entry": 2, "goal": 2}  # her interests and texts; Gia's stay
    # Every other row stays (the bot's own records grow: this very exchange, the audit entry).
    assert {t for t in before if after[t] > before[t]} <= {"audit_event", "handled_event", "outbox_message"}
    assert [m for m in OTHERS if m not in everything] == []  # everyone else's data is untouched
    assert [await rows_of(bot, DiaryEntry, person_id=gia), await rows_of(bot, Goal, person_id=gia)] == gia_before
    report_after = await bot.reply(COUNCIL, "!report", RoomKind.COUNCIL)
    assert _figures(report_after) == _figures(report_before)  # a mentorship ended today; nothing else moved
    async with bot.db.session() as session:
        ana = (await session.exec(select(Person).where(Person.forgotten_at.is_not(None)))).one()
        assert ana.matrix_id == f"forgotten:{ana.id}" and ana.display_name is None
        ships = (await session.exec(select(Mentorship).where(Mentorship.mentee_id == ana.id))).all()
        assert [m.state for m in ships] == [MentorshipState.ENDED, MentorshipState.ENDED]
    # If she comes back, she is someone new.
    assert (await bot.reply(ANA, "mydata")) == "I store nothing about you: you have not used the program yet."


def _figures(report: str) -> list[str]:
    """The lines of the program report that do not depend on today's events."""
    return [line for line in report.splitlines()[1:] if "ended" not in line and "Mentorships" not in line]


async def test_forget_me_confirm_needs_the_explanation_first_and_in_time(bot):
    await year_of_ana(bot)
    before = await bot.snapshot()
    refused = await bot.send(ANA, "forget me confirm")
    assert refused.outcome == "refused"
    assert refused.messages[0].msg.plain().startswith("First send `forget me` to see what would be erased")
    await run(bot, ANA, "forget me")
    bot.clock.advance(timedelta(minutes=16))
    late = await bot.send(ANA, "forget me confirm")
    assert late.outcome == "refused"
    after = await bot.snapshot()
    after.pop("bot_state"), before.pop("bot_state")  # the explanation was noted; nothing else changed
    assert after == before


async def test_a_mentor_who_is_forgotten_leaves_their_mentees_records_intact(bot):
    await year_of_ana(bot)
    await run(bot, BOB, "forget me")
    start = len(bot.outbox.sent)
    await run(bot, BOB, "forget me confirm")
    told = {m.target.user_id for m in bot.outbox.sent[start:]}
    assert {ANA, GIA} <= told  # both mentees learn their mentorship ended
    everything = await every_text(bot)
    assert [m for m in (BOB_NAME, BOB_WELL, BOB_BETTER, BOB, "@bob") if m in everything] == []
    # The notes he wrote are his mentees' records: they stay, for them and the council.
    assert ANA_OUTCOME in everything and GIA_OUTCOME in everything
    history = await bot.reply(ANA, "history")
    assert ANA_OUTCOME in history


# ---------------------------------------------------------------- retention


async def test_retention_erases_exactly_the_expired_texts(bot):
    policy = RetentionPolicy(session_notes_months=12, diary_months=12, feedback_months=24, reasons_months=6)
    bot.runtime.dispatcher.retention = policy
    now = START
    async with bot.db.session() as session:
        mentee, other, mentor = Person(matrix_id=ANA), Person(matrix_id=GIA), Person(matrix_id=BOB, is_mentor=True,
                                                                                      capacity=5)
        session.add_all([mentee, other, mentor])
        await session.flush()

        def ship(who: Person, ended_days_ago: int | None, reason: str) -> Mentorship:
            m = Mentorship(mentee_id=who.id, mentor_id=mentor.id, started_at=now - timedelta(days=900),
                           commitment_ends_at=now - timedelta(days=500),
                           state=MentorshipState.ACTIVE if ended_days_ago is None else MentorshipState.ENDED,
                           ended_at=None if ended_days_ago is None else now - timedelta(days=ended_days_ago),
                           end_reason=reason if ended_days_ago is not None else None)
            session.add(m)
            return m

        # A year before now is 365 days back (2026-01-04): one day either side of the cut.
        old = ship(mentee, 366, f"{Z}-old-end-reason")  # ended a year and a day ago
        recent = ship(other, 364, f"{Z}-recent-end-reason")  # a day short of a year; its reason is past 6 months
        await session.flush()
        for m, tag in ((old, "old"), (recent, "recent")):
            session.add(SessionRecord(mentorship_id=m.id, author_id=mentor.id, kind=SessionKind.REGULAR,
                                      held_at=now - timedelta(days=400), outcome=f"{Z}-{tag}-outcome",
                                      next_steps=f"{Z}-{tag}-next", progress_start=2, progress_now=5))
            session.add(DiaryEntry(person_id=m.mentee_id, mentorship_id=m.id, text=f"{Z}-{tag}-diary",
                                   created_at=now - timedelta(days=400)))
            session.add(Goal(person_id=m.mentee_id, text=f"{Z}-{tag}-goal", created_at=now - timedelta(days=400)))
        for days, tag in ((732, "old"), (729, "recent")):  # 24 months back is 2025-01-04, 730 days
            session.add(Feedback(author_id=mentee.id, round=tag, strengths=f"{Z}-{tag}-strengths",
                                 created_at=now - timedelta(days=days)))
        await session.commit()
    bot.clock.set(now)
    before = await counts(bot)

    waiting = await bot.reply(COUNCIL, "!retention", RoomKind.COUNCIL)
    # What waits to expire, counted (kinds with nothing to erase are not listed), never quoted.
    assert ("Expired and waiting for the daily job: 1 session note, 1 diary entry, 1 goal, 1 feedback answer, "
            "2 end reasons.") in waiting
    assert Z not in waiting

    start = len(bot.outbox.sent)
    await bot.runtime.run_rules()
    everything = await every_text(bot)
    gone = [f"{Z}-old-outcome", f"{Z}-old-next", f"{Z}-old-diary", f"{Z}-old-goal", f"{Z}-old-strengths",
            f"{Z}-old-end-reason", f"{Z}-recent-end-reason"]
    kept = [f"{Z}-recent-outcome", f"{Z}-recent-next", f"{Z}-recent-diary", f"{Z}-recent-goal",
            f"{Z}-recent-strengths"]
    assert [m for m in gone if m in everything] == []
    assert [m for m in kept if m not in everything] == []
    after = await counts(bot)
    # Rows stay for the counts, except the diary entry and goal, which are nothing but their text.
    changed = {t for t in before if before[t] != after[t]}
    assert changed <= {"diary_entry", "goal", "audit_event", "program_notice", "bot_state", "outbox_message",
                       "handled_event"}
    assert (before["diary_entry"] - after["diary_entry"], before["goal"] - after["goal"]) == (1, 1)
    [notice] = [m for m in bot.outbox.sent[start:] if m.target.room is RoomKind.COUNCIL and "Retention" in m.body]
    assert notice.body == ("Retention policy: erased the expired 1 session note, 1 diary entry, 1 goal, "
                           "1 feedback answer, 2 end reasons.")
    async with bot.db.session() as session:
        records = (await session.exec(select(SessionRecord).order_by(SessionRecord.id))).all()
        assert [(r.outcome, r.progress_now) for r in records] == [("", None), (f"{Z}-recent-outcome", 5)]
    # Once a day: running again the same day does nothing more, and says nothing.
    again = len(bot.outbox.sent)
    await bot.runtime.run_rules()
    assert not [m for m in bot.outbox.sent[again:] if "Retention" in m.body]
    assert "Last run: 2027-01-04" in await bot.reply(COUNCIL, "!retention", RoomKind.COUNCIL)


def test_each_retention_setting_expires_the_tables_the_rules_name():
    """The rule set says which setting expires which field; the retention job must touch
    exactly those tables for each setting."""
    from datetime import datetime, timezone

    for setting in visibility.RETENTION_SETTINGS:
        only = RetentionPolicy(**{setting: 6})
        touched = {e.table.__tablename__ for e in privacy.expiries(only, datetime(2027, 1, 1, tzinfo=timezone.utc))}
        assert touched == {r.field.split(".")[0] for r in visibility.expiring(setting)}, setting


async def test_without_a_retention_policy_nothing_expires(bot):
    await year_of_ana(bot)
    bot.clock.advance(timedelta(days=3650))
    await bot.runtime.run_rules()
    everything = await every_text(bot)
    assert [m for m in (ANA_OUTCOME, ANA_DIARY, ANA_WELL, ANA_END, DAN_DECLINE) if m not in everything] == []
    assert "Expired and waiting for the daily job: nothing." in await bot.reply(COUNCIL, "!retention", RoomKind.COUNCIL)


# ---------------------------------------------------------------- the council's export


def read_csv(data: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data)))


async def export(bot, line: str) -> dict[str, str]:
    start = len(bot.outbox.sent)
    await run(bot, COUNCIL, line)
    return files_to(bot, COUNCIL, start)


async def test_the_csv_export_has_no_confidential_columns_unless_asked(bot):
    await year_of_ana(bot)
    files = await export(bot, "export")
    assert sorted(files) == sorted(f"{kind}-2027-02-24.csv" for kind in privacy.EXPORTS)
    everything = "\n".join(files.values())
    confidential = [r.field for r in visibility.RULES.values() if r.confidential]
    for name, data in files.items():
        header = next(csv.reader(io.StringIO(data)))
        table = privacy.EXPORTS[name.split("-")[0]][0].__tablename__
        assert not [c for c in header if f"{table}.{c}" in confidential], name
    secrets = [*AGREED.values(), ANA_FOLLOWUP, ANA_DIARY, ANA_GOAL, ANA_OUTCOME, ANA_NEXT, ANA_REMARKS, ANA_WELL, ANA_BETTER, ANA_END, ANA_CHANGE,
               DAN_DECLINE, GIA_DIARY, GIA_OUTCOME, BOB_WELL]
    assert [m for m in secrets if m in everything] == []
    # The program's data is all there: every mentorship, every session (dated, without its notes).
    assert len(read_csv(files["mentorships-2027-02-24.csv"])) == 3
    assert len(read_csv(files["sessions-2027-02-24.csv"])) == 2
    assert ANA_NAME in everything and ANA_TOPIC in everything and BOB_NOMINATES in everything

    full = await export(bot, "export all confidential")
    everything = "\n".join(full.values())
    assert [m for m in secrets if m not in everything] == []
    assert all(name.endswith("-confidential.csv") for name in full)
    trail = await bot.reply(COUNCIL, "audit @cy:example.org")
    assert "exported (- \u2192 all) by Cy" in trail or "exported (- \u2192 all) by @cy" in trail
    assert "exported_confidential (- \u2192 all)" in trail


async def test_export_is_for_the_council_in_a_direct_message(bot):
    await year_of_ana(bot)
    assert (await bot.send(COUNCIL, "!export", RoomKind.COUNCIL)).outcome == "wrong_room"
    assert (await bot.send(BOB, "export")).outcome == "denied"
    unknown = await bot.send(COUNCIL, "export secrets")
    assert unknown.outcome == "usage" and "I can't export 'secrets'" in unknown.messages[0].msg.plain()


async def test_a_spreadsheet_formula_in_a_name_is_exported_as_text(bot):
    await run(bot, ANA, "profile name =HYPERLINK(\"http://evil\")")
    files = await export(bot, "export people")
    [row] = [r for r in read_csv(files["people-2027-01-04.csv"]) if r["matrix_id"] == ANA]
    assert row["display_name"] == "'=HYPERLINK(\"http://evil\")"


# ---------------------------------------------------------------- one rule set, a test per field

A, S, M, MS, C = Reader.AUTHOR, Reader.SUBJECT, Reader.MENTOR, Reader.MENTORS, Reader.COUNCIL
G = Reader.GROUP
# How each person of Ana's year relates to what is planted in a field, and who (or which
# room) must be able to read it there. Anyone whose relation the field's rule does not
# allow must not see it anywhere.
ABOUT_ANA = {ANA: {S, A}, BOB: {M, MS}, DAN: {MS}, COUNCIL: {C}}
HER_SESSION = {ANA: {S}, BOB: {A, M, MS}, DAN: {MS}, COUNCIL: {C}}
SHE_GAVE = {ANA: {A}, BOB: {M, MS}, DAN: {MS}, COUNCIL: {C}}
CASES = {
    "person.matrix_id": (ANA, ABOUT_ANA, (ANA, BOB, COUNCIL, "council room")),
    "person.display_name": (ANA_NAME, ABOUT_ANA, (ANA, BOB, COUNCIL, "council room")),
    "identity.mentee": (ANA_NAME, ABOUT_ANA, (BOB, COUNCIL, "council room")),
    "identity.mentor": (BOB_NAME, {ANA: {M}, BOB: {S}, DAN: {MS}, COUNCIL: {C}},
                        (ANA, BOB, DAN, COUNCIL, "mentors room", "council room")),
    "person.timezone": ("America/Lima", ABOUT_ANA, (ANA, COUNCIL)),
    "person.language": ('"language": "pl"', ABOUT_ANA, (ANA,)),
    "person_tag.value": (ANA_TAG, ABOUT_ANA, (ANA, COUNCIL, "mentors room")),
    "mentor_request.topic": (ANA_TOPIC, ABOUT_ANA, (ANA, COUNCIL)),
    "session_record.outcome": (ANA_OUTCOME, HER_SESSION, (ANA, BOB, COUNCIL)),
    "session_record.next_steps": (ANA_NEXT, HER_SESSION, (ANA, BOB, COUNCIL)),
    "session_record.remarks": (ANA_REMARKS, HER_SESSION, (ANA, BOB, COUNCIL)),
    "session_record.progress_start": ("progress 7", HER_SESSION, (BOB, COUNCIL)),
    "session_record.progress_now": ("\u2192 9", HER_SESSION, (BOB, COUNCIL)),
    "diary_entry.text": (ANA_DIARY, ABOUT_ANA, (ANA, BOB, COUNCIL)),
    "goal.text": (ANA_GOAL, ABOUT_ANA, (ANA, BOB, COUNCIL)),
    "feedback.strengths": (ANA_WELL, SHE_GAVE, (ANA, COUNCIL)),
    "feedback.improve": (ANA_BETTER, SHE_GAVE, (ANA, COUNCIL)),
    "mentorship.end_reason": (ANA_END, SHE_GAVE, (ANA, COUNCIL)),
    "change_request.reason": (ANA_CHANGE, SHE_GAVE, (ANA, COUNCIL)),
    "request_decline.reason": (DAN_DECLINE, {DAN: {A}, ANA: {S}, BOB: {MS}, COUNCIL: {C}}, (DAN, COUNCIL)),
    **{f"agreement.{part}": (AGREED[label], ABOUT_ANA, (ANA, BOB, COUNCIL)) for part, label in (
        ("goals", "goals"), ("mentor_part", "mentor"), ("mentee_part", "mentee"), ("contact", "contact"),
        ("cancelling", "cancel"), ("urgent", "urgent"))},
    "agreement_check.note": (ANA_FOLLOWUP, SHE_GAVE, (ANA, BOB, COUNCIL)),
    "mentoring_group.name": (GROUP_NAME, {ANA: {G}, BOB: {A, M}, DAN: {MS}, COUNCIL: {C}}, (ANA, BOB, COUNCIL)),
    "group_session.outcome": (GROUP_OUTCOME, {ANA: {G}, BOB: {A, M, MS}, DAN: {MS}, COUNCIL: {C}},
                              (ANA, BOB, COUNCIL)),
    "group_session.next_steps": (GROUP_NEXT, {ANA: {G}, BOB: {A, M, MS}, DAN: {MS}, COUNCIL: {C}},
                                 (ANA, BOB, COUNCIL)),
    "group_member.leave_reason": (ANA_LEAVES, SHE_GAVE, (ANA, COUNCIL)),
    "mentoring_group.end_reason": (BOB_ENDS_GROUP, {BOB: {A, M, MS}, ANA: {G}, DAN: {MS}, COUNCIL: {C}},
                                   (BOB, COUNCIL)),
    "nomination.reason": (BOB_NOMINATES, {BOB: {A, M}, ANA: {S}, DAN: {MS}, COUNCIL: {C}},
                          (ANA, COUNCIL, "council room")),
    "nomination.citation": (ANA_CITATION, {BOB: {M, MS}, ANA: {S}, DAN: {MS}, COUNCIL: {C}},
                            (ANA, COUNCIL, "council room")),
    "opportunity.what": (BOB_OPPORTUNITY, {BOB: {A, M}, ANA: {S}, DAN: {MS}, COUNCIL: {C}}, (ANA, BOB, COUNCIL)),
    "conversation.answers": (ANA_DRAFT, SHE_GAVE, (ANA,)),
    "coaching_session.skill": (ANA_COACHING, {ANA: {A}, DAN: {M}, BOB: {MS}, COUNCIL: {C}}, (ANA, DAN, COUNCIL)),
    "coaching_session.reason": (DAN_COACHING_REASON, {DAN: {A}, ANA: {S}, BOB: {MS}, COUNCIL: {C}},
                                (ANA, DAN, COUNCIL)),
}


async def surfaces(bot) -> dict[str, str]:
    """Everything each person was sent or can ask for, and everything said in each shared room."""
    out = {who: "" for who in (ANA, BOB, DAN, COUNCIL)}
    asks = {
        ANA: ["mydata", "history", "status", "diary", "goals", "agreement"],
        BOB: ["mydata", f"history {ANA}", "mentees", "requests", "checkins", f"agreement {ANA}"],
        DAN: ["mydata", f"history {ANA}", "requests", "pool", "mentors", f"agreement {ANA}"],
        COUNCIL: ["export all confidential", f"history {ANA}", f"agreement {ANA}", f"audit {ANA}", f"audit {DAN}", "feedbacks", "queue",
                  "nominations"],
    }
    for who, lines in asks.items():
        for line in lines:
            await bot.send(who, line)
    for room, lines in ((RoomKind.MENTORS, [(BOB, "!requests"), (BOB, "!mentors"), (DAN, "!pool")]),
                        (RoomKind.COUNCIL, [(COUNCIL, "!queue"), (COUNCIL, f"!audit {ANA}"),
                                            (COUNCIL, "!nominations"), (COUNCIL, "!report")])):
        for who, line in lines:
            await bot.send(who, line, room)
    await bot.runtime.advance_to(bot.clock.now() + timedelta(days=8), bot.clock)  # a weekly digest, a report
    seen = {**out, "mentors room": "", "council room": "", "group room": ""}
    for m in bot.outbox.sent:
        shown = "\n".join([m.body, m.html, *(text for f in m.files for text in opened(f).values())])
        if m.target.room is RoomKind.DM:
            if m.target.user_id in out:
                seen[m.target.user_id] += "\n" + shown
        else:
            seen[f"{m.target.room.value} room"] += "\n" + shown
    return seen


def test_every_personal_column_has_a_rule():
    """A column that holds what people say or are must be placed in the rule set."""
    texts = {f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns
             if str(c.type).upper().startswith(("TEXT", "VARCHAR", "INTEGER")) and t.name in (
                 "person", "person_tag", "mentor_request", "request_decline", "mentorship", "change_request",
                 "session_record", "diary_entry", "goal", "feedback", "nomination")}
    bookkeeping = {"id", "state", "kind", "capacity", "coaching_per_month", "active_mentees", "round", "dm_room_id"}
    assert sorted(f for f in texts - set(visibility.RULES) if f.split(".")[1] not in bookkeeping
                  and not f.endswith("_id")) == []


def test_the_rules_keep_the_programs_ethics():
    """What DOMAIN.md asks, read off the rule set: confidential texts never in a shared room,
    feedback and reasons for the council alone (and who wrote them), records for the mentee,
    their mentor and the council."""
    for r in visibility.RULES.values():
        if r.confidential:
            assert r.rooms == frozenset() and C in r.readers and MS not in r.readers, r.field
    for f in ("feedback.strengths", "feedback.improve", "mentorship.end_reason", "change_request.reason",
              "request_decline.reason"):
        assert visibility.rule(f).readers == {A, C}, f
    for f in ("session_record.outcome", "diary_entry.text", "goal.text"):
        assert {S, M, C} <= visibility.rule(f).readers, f
    assert RoomKind.MENTORS not in visibility.rule("identity.mentee").rooms


@pytest.mark.parametrize("field", list(CASES), ids=list(CASES))
async def test_each_field_is_seen_by_exactly_whom_the_rules_allow(bot, field):
    assert set(CASES) == set(visibility.RULES)  # every rule has its case
    await year_of_ana(bot, "polski")  # what is confidential stays so in every language
    seen = await surfaces(bot)
    rule = visibility.rule(field)
    marker, related, readable_by = CASES[field]
    for who, relation in related.items():
        if not rule.readers & relation:
            assert marker not in seen[who], f"{who} must not see {field}"
    for room, kind in (("mentors room", RoomKind.MENTORS), ("council room", RoomKind.COUNCIL),
                       ("group room", RoomKind.GROUP)):
        if kind not in rule.rooms:
            assert marker not in seen[room], f"{field} must not be shown in the {room}"
    for who in readable_by:
        assert marker in seen[who], f"{who} may see {field}, and can"
    if rule.confidential:
        plain = await export(bot, "export")
        assert marker not in "\n".join(plain.values()), f"{field} is confidential: not in the plain export"


async def test_a_large_export_is_read_a_page_at_a_time_and_its_compressed_size_is_said(bot):
    """More people than one page of the export holds: each exported once, in order, and the
    reply says how large the archive is (the homeserver has a limit on uploads)."""
    from sqlalchemy import insert

    from storage.models import Person

    now = bot.clock.now()
    async with bot.db.session() as s:
        await s.exec(insert(Person.__table__), params=[
            {"matrix_id": f"@p{i}:example.org", "display_name": f"Person {i}", "created_at": now, "updated_at": now}
            for i in range(2 * privacy.EXPORT_PAGE + 7)])
        await s.commit()
    async with bot.db.session() as s:
        count = len((await s.exec(select(Person.id))).all())
    start = len(bot.outbox.sent)
    await run(bot, COUNCIL, "export people")
    reply = [m.body for m in bot.outbox.sent[start:] if m.target.user_id == COUNCIL][0]
    files = files_to(bot, COUNCIL, start)
    rows = read_csv(files["people-2027-01-04.csv"])
    ids = [int(r["id"]) for r in rows]
    assert len(ids) == len(set(ids)) == count > 2 * privacy.EXPORT_PAGE
    assert ids == sorted(ids)
    archive = next(f for m in bot.outbox.sent[start:] for f in m.files)
    assert archive.name == "mentorbot-export-2027-01-04.zip" and archive.mimetype == "application/zip"
    shown = privacy_words.size(len(archive.content()))
    assert reply.startswith(f"The export: one ZIP archive of 1 CSV file (people; {count} rows), {shown} (")
    assert len(archive.content()) < len(files["people-2027-01-04.csv"]) / 3  # compressed
