"""What the bot says about a person's own profile."""

from __future__ import annotations

from datetime import datetime

from commands.kinds import Role
from commands.languages import SPOKEN
from commands.services.people import BadName, Profile
from commands.services.vocabulary import Skill
from commands.services.work import Work
from commands.text import Msg, bold, join, lines
from commands.words import N_, explains, language_names, t, tn, written
from commands.words.roster import here
from commands.words.vocabulary import suggestions
from storage.models import TagKind


# A person's roles, as their profile names them.
ROLE_NAMES = {Role.MENTEE: N_("mentee"), Role.MENTOR: N_("mentor"), Role.COUNCIL: N_("council member")}


def no_profile(name: Msg, timezone: Msg, languages: Msg) -> Msg:
    return t("I don't have a profile for you yet. Start with {name}, then {timezone} and {languages}.",
             name=name, timezone=timezone, languages=languages)


def not_set() -> Msg:
    return t("(not set)")


def profile(p: Profile, program_zone: str, roles: frozenset[Role], change: Msg, help_cmd: Msg) -> Msg:
    person = p.person

    def listed(kind: TagKind) -> Msg | str:
        shown = language_names(p.tags[kind]) if kind is TagKind.LANGUAGE else p.tags[kind]
        return join(shown) if shown else not_set()

    zone = person.timezone or t("(not set; the program's {zone} is used)", zone=program_zone)
    rows: list[Msg | None] = [
        t("{title} ({matrix_id})", title=bold(t("Your profile")), matrix_id=person.matrix_id),
        t("Name: {name}", name=person.display_name or not_set()),
        t("Time zone: {zone}", zone=zone),
        t("Languages: {languages}", languages=listed(TagKind.LANGUAGE)),
        (t("My messages to you: {language} (your choice)", language=language_names([p.reads])[0]) if person.language
         else t("My messages to you: {language}", language=language_names([p.reads])[0])),
        t("Interests: {interests}", interests=listed(TagKind.INTEREST)),
    ]
    if p.mentees is not None:
        rows.append(t("Skills: {skills}", skills=listed(TagKind.SKILL)))
        rows.append(tn("Capacity: {n} mentee ({load} now)", "Capacity: {n} mentees ({load} now)",
                       person.capacity, load=str(p.mentees)))
        rows.append(tn("Single coaching sessions: {n} a month", "Single coaching sessions: {n} a month",
                       p.coaching_per_month or 0))
    names = [t(ROLE_NAMES[r]) for r in (Role.MENTEE, Role.MENTOR, Role.COUNCIL) if r in roles]
    rows.append(t("Roles: {roles}", roles=join(names)) if names else t("Roles: none yet"))
    rows.append(t("Change a field with {change}; see {help}.", change=change, help=help_cmd))
    return lines(*rows)


@explains(BadName)
def bad_name(error: BadName, work: Work) -> Msg:
    if error.problem == "empty":
        why = t("Your name cannot be empty")
    elif error.problem == "too_long":
        why = t("That name is {length} characters long; keep it to {limit}",
                length=str(error.length), limit=str(error.limit))
    elif error.problem == "looks_like_id":
        why = t("A name cannot look like a Matrix ID (people would take it for someone else's)")
    else:
        why = t("A name cannot carry a role or title (like council, mentor, admin or bot): "
                "people would take it for one")
    return t("{why}. For example: {example}", why=why, example=here(work, "profile name Ana García"))


def name_set(name: str) -> Msg:
    return t("Done: I'll call you {name}.", name=bold(name))


def timezone_set(zone: str, local: datetime) -> Msg:
    return t("Done: your time zone is {zone}. Your local time now is {local}.",
             zone=zone, local=written(local))


def one_language() -> str:
    return t("name one language; I write to you in one at a time").plain()


def spoken_names() -> Msg:
    """The languages the bot writes in, named in the reader's language."""
    return join(bold(name) for name in language_names(list(SPOKEN)))


def not_spoken(tag: str, example: Msg) -> Msg:
    return t("I can't write in {language} yet. I write in {spoken}; choose one with {example}.",
             language=bold(language_names([tag])[0]), spoken=spoken_names(), example=example)


def language_set(language: str, chosen: bool, reset: Msg) -> Msg:
    if chosen:
        return t("Done: I write to you in {language} from now on. Send {reset} alone to let your profile's "
                 "languages decide again.", language=bold(language_names([language])[0]), reset=reset)
    return t("Done: I write to you in {language}: the first of your languages I speak, or else the "
             "program's.", language=bold(language_names([language])[0]))


def languages_set(tags: list[str], example: Msg) -> Msg:
    if tags:
        return t("Done: your languages are now {values}.", values=join(bold(v) for v in language_names(tags)))
    return t("Your languages are now empty. Add some with {example}.", example=example)


def interests_set(read: list[Skill], example: Msg, vocabulary: bool, work: Work) -> Msg:
    if read:
        done = t("Done: your interests are now {values}.", values=join(bold(s.value) for s in read))
        return lines(done, suggestions(read, vocabulary, "profile interests", work))
    return t("Your interests are now empty. Add some with {example}.", example=example)


def skills_set(read: list[Skill], example: Msg, vocabulary: bool, work: Work) -> Msg:
    if read:
        done = t("Done: your skills are now {values}.", values=join(bold(s.value) for s in read))
        return lines(done, suggestions(read, vocabulary, "profile skills", work))
    return t("Your skills are now empty. Add some with {example}.", example=example)


def capacity_set(capacity: int, mentees: int) -> Msg:
    msg = tn("Done: your capacity is {n} mentee.", "Done: your capacity is {n} mentees.", capacity)
    if mentees > capacity:
        msg += tn(" You have {n} mentee now; you keep them all, and get no new ones until below {capacity}.",
                  " You have {n} mentees now; you keep them all, and get no new ones until below {capacity}.",
                  mentees, capacity=str(capacity))
    return msg
