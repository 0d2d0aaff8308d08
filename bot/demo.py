"""A small demo program, so every command can be tried in the shell at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from commands.policy import ProgramPolicy
from commands.services import people
from commands.services.commitment import commitment_end, midterm
from storage.db import Database
from storage.models import (
    Agreement,
    AgreementCheck,
    AgreementState,
    Announcement,
    AnnouncementCopy,
    AnnouncementState,
    Audience,
    ChangeRequest,
    CheckIn,
    CheckInKind,
    CoachingSession,
    CopyChannel,
    CopyState,
    DiaryEntry,
    Goal,
    GroupMember,
    MemberState,
    MentoringGroup,
    MentorRequest,
    Mentorship,
    Person,
    Reminder,
    RequestState,
    SessionKind,
    SessionRecord,
    TagKind,
)


@dataclass(frozen=True)
class DemoPerson:
    matrix_id: str
    name: str
    timezone: str
    languages: tuple[str, ...]
    role: str  # council, mentor, mentee
    tags: tuple[str, ...] = ()  # skills for mentors, interests for mentees
    capacity: int = 0


DEMO_PEOPLE = (
    DemoPerson("@cy:example.org", "Cy", "Europe/Berlin", ("en", "de"), "council"),
    DemoPerson("@bob:example.org", "Bob", "Europe/Madrid", ("en", "es"), "mentor",
               ("events", "public speaking", "localisation"), 3),
    DemoPerson("@dana:example.org", "Dana", "Europe/Berlin", ("en", "de"), "mentor",
               ("community building", "localisation"), 2),
    DemoPerson("@eli:example.org", "Eli", "America/Sao_Paulo", ("pt", "en"), "mentor",
               ("design", "events"), 4),
    DemoPerson("@ana:example.org", "Ana", "America/Lima", ("es", "en"), "mentee",
               ("events", "localisation")),
    DemoPerson("@finn:example.org", "Finn", "Europe/Dublin", ("en",), "mentee", ("public speaking",)),
    DemoPerson("@gia:example.org", "Gia", "Europe/Rome", ("it", "en"), "mentee", ("community building",)),
    DemoPerson("@hana:example.org", "Hana", "America/Sao_Paulo", ("pt", "en"), "volunteer", ("design",)),
)

# Where the demo program stands: Ana is mentored by Bob (check-in #1 was two hours
# ago, #2 is in 20 days; goal #1); Finn's request #1 waits for Bob's answer; Gia,
# mentored by Dana for nearly a year, asked the council to change mentor (change
# request #1); Hana has no mentor yet, and asked Bob for a single coaching session
# (#1) he has not answered. Bob leads group #1, which Gia is in and Finn is asked to
# join; its check-in #3 is in 10 days. The council published announcement #1 to the
# mentors yesterday; #2 is a draft.
SITUATION = (
    "Ana is mentored by Bob (check-in #1 two hours ago, #2 in 20 days), Gia by Dana for",
    "nearly a year; Finn's request #1 is offered to Bob; Gia's change of mentor (#1)",
    "waits for the council; Hana has no mentor yet and asked Bob for coaching session #1.",
    "Ana and Bob have an agreement, and Ana proposed a change to it that Bob has to confirm.",
    "Bob leads group #1: Gia is in it, Finn is asked to join, its check-in #3 is in 10 days.",
    "Announcement #1 went to the mentors yesterday; #2 is a draft of the council.",
)


async def seed(db: Database, now: datetime, policy: ProgramPolicy | None = None) -> bool:
    """Add the demo people to an empty database; returns False if it already has people."""
    async with db.session() as session:
        count = (await session.exec(select(func.count()).select_from(Person))).one()
        if count:
            return False
        for demo in DEMO_PEOPLE:
            person = Person(
                matrix_id=demo.matrix_id,
                display_name=demo.name,
                timezone=demo.timezone,
                is_council=demo.role == "council",
                is_mentor=demo.role == "mentor",
                is_mentee=demo.role == "mentee",
                capacity=demo.capacity,
                # Everyone in the demo chose English, so that the guides' tour reads as printed;
                # `profile language Deutsch` (or `profile language` alone) shows the others.
                language="en",
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            await session.flush()
            await people.set_tags(session, person, TagKind.LANGUAGE, list(demo.languages))
            kind = TagKind.SKILL if demo.role == "mentor" else TagKind.INTEREST
            await people.set_tags(session, person, kind, list(demo.tags))
        await _situation(session, now, policy or ProgramPolicy())
        await session.commit()
    return True


async def _planned(session, checkin: CheckIn, people_: tuple[Person, ...], policy: ProgramPolicy) -> None:
    """A check-in still ahead, with each person's reminders."""
    session.add(checkin)
    await session.flush()
    for minutes in policy.reminder_offsets():
        for person in people_:
            session.add(Reminder(checkin_id=checkin.id, person_id=person.id, before_minutes=minutes,
                                 due_at=checkin.due_at - timedelta(minutes=minutes)))


async def _situation(session, now: datetime, policy: ProgramPolicy) -> None:
    by_id = {p.matrix_id: p for p in (await session.exec(select(Person))).all()}
    ana, bob, dana = by_id["@ana:example.org"], by_id["@bob:example.org"], by_id["@dana:example.org"]
    finn, gia = by_id["@finn:example.org"], by_id["@gia:example.org"]
    ana_since, gia_since = now - timedelta(days=60), now - timedelta(days=350)
    ana_bob = Mentorship(mentee_id=ana.id, mentor_id=bob.id, started_at=ana_since,
                         commitment_ends_at=commitment_end(ana_since, policy),
                         midterm_at=midterm(ana_since, policy),
                         last_met_at=now - timedelta(days=50))
    gia_dana = Mentorship(mentee_id=gia.id, mentor_id=dana.id, started_at=gia_since,
                          commitment_ends_at=commitment_end(gia_since, policy),
                          midterm_at=midterm(gia_since, policy),
                          last_met_at=now - timedelta(days=30))
    session.add_all([ana_bob, gia_dana])
    await session.flush()
    ana_zone = ana.timezone or policy.timezone
    # Ana: oriented 50 days ago; a check-in two hours ago (not marked yet) and the next in 20 days.
    session.add(CheckIn(mentorship_id=ana_bob.id, kind=CheckInKind.REGULAR, due_at=now - timedelta(hours=2),
                        timezone=ana_zone, created_at=ana_since))
    upcoming = CheckIn(mentorship_id=ana_bob.id, kind=CheckInKind.REGULAR, due_at=now + timedelta(days=20),
                       timezone=ana_zone, created_at=ana_since)
    await _planned(session, upcoming, (ana, bob), policy)
    session.add(SessionRecord(mentorship_id=ana_bob.id, author_id=bob.id, kind=SessionKind.ORIENTATION,
                              held_at=now - timedelta(days=50), outcome="agreed goals and a call every month",
                              next_steps="Ana drafts her first event plan", progress_start=3, progress_now=3))
    session.add(Goal(person_id=ana.id, mentorship_id=ana_bob.id, text="organise a local community event",
                     created_at=ana_since))
    agreed = dict(goals="organise a local community event", mentor_part="a call a month, feedback on event plans",
                  mentee_part="come to each call with an agenda", contact="a video call on the first Monday of "
                  "the month; chat in between", cancelling="a day ahead, in a direct message",
                  urgent="a direct message that starts with URGENT")
    session.add(Agreement(mentorship_id=ana_bob.id, state=AgreementState.CONFIRMED, drafted_by_id=ana.id,
                          created_at=now - timedelta(days=50), updated_at=now - timedelta(days=50),
                          confirmed_by_id=bob.id, confirmed_at=now - timedelta(days=49), **agreed))
    await session.flush()
    session.add(Agreement(mentorship_id=ana_bob.id, state=AgreementState.DRAFT, drafted_by_id=ana.id,
                          created_at=now - timedelta(days=1), updated_at=now - timedelta(days=1),
                          **{**agreed, "contact": "a video call every two weeks; chat in between"}))
    for person in (ana, bob):  # asked a month in; neither has answered yet
        session.add(AgreementCheck(mentorship_id=ana_bob.id, person_id=person.id, asked_at=now - timedelta(days=30)))
    session.add(DiaryEntry(person_id=ana.id, mentorship_id=ana_bob.id, text="first call with Bob: helpful",
                           created_at=now - timedelta(days=50)))
    # Gia: nearly a year with Dana (commitment ends in two weeks), last met a month ago.
    session.add(SessionRecord(mentorship_id=gia_dana.id, author_id=dana.id, kind=SessionKind.REGULAR,
                              held_at=now - timedelta(days=30), outcome="reviewed the community plan"))
    session.add(MentorRequest(mentee_id=finn.id, topic="I want to speak at my first conference",
                              state=RequestState.PROPOSED, proposed_to_id=bob.id, proposed_at=now,
                              created_at=now, escalate_at=now + timedelta(days=policy.request_escalation_days)))
    session.add(ChangeRequest(mentorship_id=gia_dana.id, reason="we rarely find a time to meet", created_at=now))
    session.add(CoachingSession(asker_id=by_id["@hana:example.org"].id, coach_id=bob.id, skill="public speaking",
                                starts_at=now + timedelta(days=5), timezone="America/Sao_Paulo", asked_at=now))
    # Bob's group: Gia in it for a month, Finn asked today; a group check-in in 10 days.
    group_since = now - timedelta(days=30)
    group = MentoringGroup(name="Event organisers", mentor_id=bob.id, started_at=group_since,
                           commitment_ends_at=commitment_end(group_since, policy), room_key="demo-event-organisers")
    session.add(group)
    await session.flush()
    session.add_all([GroupMember(group_id=group.id, person_id=gia.id, state=MemberState.MEMBER,
                                 invited_at=group_since, joined_at=group_since),
                     GroupMember(group_id=group.id, person_id=finn.id, invited_at=now)])
    meeting = CheckIn(group_id=group.id, kind=CheckInKind.REGULAR, due_at=now + timedelta(days=10),
                      timezone=policy.timezone, created_by_id=bob.id, created_at=group_since)
    await _planned(session, meeting, (bob, gia), policy)
    cy = by_id["@cy:example.org"]
    training = Announcement(author_id=cy.id, audience=Audience.MENTORS, title="Mentor training on 3 March",
                            body="Join the spring training for mentors, **16:00 UTC**, in the usual video room.",
                            state=AnnouncementState.CONFIRMED, external_id="mentorbot-demo-training",
                            created_at=now - timedelta(days=1), confirmed_at=now - timedelta(days=1),
                            confirmed_by_id=cy.id)
    survey = Announcement(author_id=cy.id, audience=Audience.ALL, title="The yearly program survey is open",
                          body="Tell us how the program works for you: the survey takes ten minutes.",
                          external_id="mentorbot-demo-survey", created_at=now)
    session.add_all([training, survey])
    await session.flush()
    session.add(AnnouncementCopy(announcement_id=training.id, channel=CopyChannel.MENTORS_ROOM, state=CopyState.SENT,
                                 sent_at=now - timedelta(days=1)))


def describe() -> list[str]:
    return [f"  {d.matrix_id:<20} {d.name:<5} {d.role}" for d in DEMO_PEOPLE] + [f"  {line}" for line in SITUATION]
