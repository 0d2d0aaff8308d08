"""Arguments that several commands take, declared once.

Some name something in the program and are looked up in the command's own transaction
before the handler runs (``ArgType.resolve``): the handler gets the person or the
mentorship, or the command is refused with the domain error's explanation. So no handler
checks "is this one of my mentees?" by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commands.framework import Arg, Integer, MatrixId, Text
from commands.kinds import Role
from commands.services import mentorships, people, vocabulary
from storage.models import Mentorship, Person


@dataclass(frozen=True)
class MenteeInHand:
    """One of the speaker's mentees, with the mentorship between them."""

    person: Person
    mentorship: Mentorship
    matrix_id: str


class MyMentee(MatrixId):
    """A Matrix ID that must name one of the speaker's mentees now (a mentee the program
    knows, mentored by the one who asks)."""

    label = "mentee"

    async def resolve(self, value: str, ctx: Any) -> MenteeInHand:
        await mentorships.known_person(ctx, value, Role.MENTEE)
        person, mentorship = await mentorships.mentee_of(ctx, await ctx.me(), value)
        return MenteeInHand(person, mentorship, value)


class KnownPerson(MatrixId):
    """A Matrix ID the program knows (as ``role``, for the refusal's words)."""

    def __init__(self, role: Role = Role.ANYONE) -> None:
        self.role = role

    async def resolve(self, value: str, ctx: Any) -> Person:
        return await mentorships.known_person(ctx, value, self.role)


class Words(Text):
    """Words as typed, quotes and all (a list reads its own quoted phrases)."""

    def convert(self, token: str) -> str:
        return super().convert(token) and token.strip()


class Languages(Words):
    """Languages, by name in any language or by code (``Deutsch, pt-BR``): the handler gets
    their tags, or the command is refused with the closest language names."""

    def __init__(self) -> None:
        super().__init__("languages", max_length=1000)

    async def resolve(self, value: str, ctx: Any) -> list[str]:
        return vocabulary.languages(value)


class Zone(Words):
    """A time zone as people name it (``Berlin``, ``Poland``, ``CET``, ``Europe/Berlin``): the
    handler gets the IANA zone, or the command is refused with the zones it could mean."""

    def __init__(self) -> None:
        super().__init__("time zone", max_length=200)

    async def resolve(self, value: str, ctx: Any) -> str:
        return vocabulary.timezone(value)


class Skills(Words):
    """Interests or skills separated by commas: the handler gets each in its normal form (the
    program's own word for a synonym), with the suggestions to make."""

    def __init__(self, label: str) -> None:
        super().__init__(label, max_length=1500)

    async def resolve(self, value: str, ctx: Any) -> list[vocabulary.Skill]:
        known = () if ctx.policy.skills else await people.words_in_use(ctx.session)
        return vocabulary.skills(value, ctx.policy.skills, known)


# The shared declarations.
MENTEE = Arg("mentee", MyMentee())
PERSON = Arg("person", MatrixId())
REASON = Arg("reason", Text("reason", max_length=1000))
OPTIONAL_REASON = Arg("reason", Text("reason", max_length=1000), optional=True)
REQUEST = Arg("request", Integer(minimum=1, label="request number"))
CHECKIN = Arg("checkin", Integer(minimum=1, label="check-in number"))
