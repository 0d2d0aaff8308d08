"""Words people give about themselves are read into one normal form: languages as tags shown
by name, time zones as IANA zones, interests and skills in the program's words. Matching
then compares what people mean, not how they spelled it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from commands.policy import ProgramPolicy
from commands.services import vocabulary
from storage.models import Person, PersonTag, TagKind
from tests.conftest import COUNCIL

EVE = "@eve:example.org"
ADA = "@ada:example.org"  # first by Matrix ID: wins every tie
ZOE = "@zoe:example.org"
SKILLS = {"localization": ["localisation", "l10n", "translation"], "ux design": ["user experience"]}


@pytest.fixture
def policy() -> ProgramPolicy:
    return ProgramPolicy(name="Test program", timezone="Europe/Berlin", council=[COUNCIL], skills=SKILLS)


async def said(bot, line: str) -> str:
    sent = await bot.say(line)
    assert len(sent) == 1, sent
    return sent[0]


async def stored(bot, who: str, kind: TagKind) -> list[str]:
    async with bot.db.session() as s:
        person = (await s.exec(select(Person).where(Person.matrix_id == who))).one()
        return list((await s.exec(select(PersonTag.value).where(PersonTag.person_id == person.id, PersonTag.kind == kind)
                                  .order_by(PersonTag.id))).all())


# ---------------------------------------------------------------- languages


async def test_languages_named_in_any_language_are_stored_as_tags_and_shown_as_names(bot):
    await said(bot, f"{EVE}> profile language English")  # her replies stay in English, to read the names
    reply = await said(bot, f"{EVE}> profile languages Portuguese, English")
    assert reply == f"[dm {EVE}] Done: your languages are now Portuguese, English."
    assert await stored(bot, EVE, TagKind.LANGUAGE) == ["pt", "en"]
    assert "Languages: Portuguese, English" in await said(bot, f"{EVE}> profile")

    assert "your languages are now German." in await said(bot, f"{EVE}> profile languages deutsch")
    assert await stored(bot, EVE, TagKind.LANGUAGE) == ["de"]
    await said(bot, f"{EVE}> profile languages polski, pt-BR, Norwegian Bokmål, Brazilian Portuguese")
    assert await stored(bot, EVE, TagKind.LANGUAGE) == ["pl", "pt-BR", "nb"]
    await said(bot, f"{EVE}> profile languages en es")  # codes alone may be separated by spaces
    assert await stored(bot, EVE, TagKind.LANGUAGE) == ["en", "es"]


async def test_an_unknown_language_is_refused_with_the_closest_names_and_nothing_changes(bot):
    await said(bot, f"{EVE}> profile languages en")
    reply = await said(bot, f"{EVE}> profile languages English, portugues")
    assert "I don't know a language called portugues. Did you mean Portuguese?" in reply
    assert "`profile languages Portuguese, English`" in reply
    assert await stored(bot, EVE, TagKind.LANGUAGE) == ["en"]
    reply = await said(bot, f"{EVE}> profile languages qqzz")
    assert "I don't know a language called qqzz. Name languages in any language or by code" in reply


@pytest.mark.parametrize("typed,tag", [("Deutsch", "de"), ("German", "de"), ("de", "de"), ("pt-BR", "pt-BR"),
                                       ("pt_br", "pt-BR"), ("polski", "pl"), ("Portuguese", "pt"), ("ENG", "en"),
                                       ("Mandarin", "zh"), ("español", "es"), ("日本語", "ja")])
def test_a_language_is_read_from_its_name_in_any_language_or_its_code(typed, tag):
    assert vocabulary.language(typed) == tag


def test_a_language_is_shown_by_name_and_matched_by_the_language_spoken():
    assert vocabulary.language_names(["pt-BR", "nb", "word typed long ago"]) == [
        "Portuguese (Brazil)", "Norwegian Bokmål", "word typed long ago"]
    assert vocabulary.shared_languages(["pt-BR", "de"], ["pt", "en"]) == ("pt-BR",)


# ---------------------------------------------------------------- time zones


async def test_a_city_or_country_becomes_its_zone_and_the_reply_says_which(bot):
    assert "Done: your time zone is Europe/Berlin." in await said(bot, f"{EVE}> profile timezone Berlin")
    assert "Done: your time zone is Europe/Warsaw." in await said(bot, f"{EVE}> profile timezone Warsaw")
    assert "Done: your time zone is America/New_York." in await said(bot, f"{EVE}> profile timezone new york")
    assert "Done: your time zone is Europe/Warsaw." in await said(bot, f"{EVE}> profile timezone Poland")
    assert "Done: your time zone is America/Los_Angeles." in await said(bot, f"{EVE}> profile timezone PST")
    assert "Time zone: America/Los_Angeles" in await said(bot, f"{EVE}> profile")


async def test_an_ambiguous_zone_lists_the_choices_as_commands_and_changes_nothing(bot):
    await said(bot, f"{EVE}> profile timezone Lima")
    reply = await said(bot, f"{EVE}> profile timezone Portugal")
    assert "Portugal has more than one time zone. Send the one that is yours (or your city):" in reply
    assert "`profile timezone Europe/Lisbon`" in reply and "`profile timezone Atlantic/Azores`" in reply
    reply = await said(bot, f"{EVE}> profile timezone IST")
    assert all(f"`profile timezone {z}`" in reply for z in ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"))
    assert "Time zone: America/Lima" in await said(bot, f"{EVE}> profile")
    reply = await said(bot, f"{EVE}> profile timezone Berlinn")
    assert "I don't know a time zone called Berlinn. Did you mean one of these?" in reply
    assert "`profile timezone Europe/Berlin`" in reply


@pytest.mark.parametrize("typed,zone", [("europe/berlin", "Europe/Berlin"), ("Germany", "Europe/Berlin"),
                                        ("CET", "Europe/Berlin"), ("CEST", "Europe/Berlin"),
                                        ("EST", "America/New_York"), ("BST", "Europe/London"), ("UTC", "UTC"),
                                        ("São Paulo", "America/Sao_Paulo"), ("Japan", "Asia/Tokyo")])
def test_a_zone_is_read_from_its_name_a_city_a_country_or_an_abbreviation(typed, zone):
    assert vocabulary.timezone(typed) == zone


@pytest.mark.parametrize("typed", ["Portugal", "USA", "IST"])
def test_a_word_of_several_zones_gives_the_choices(typed):
    with pytest.raises(vocabulary.AmbiguousZone) as meant:
        vocabulary.timezone(typed)
    assert len(meant.value.choices) > 1


# ---------------------------------------------------------------- interests and skills


async def test_spaces_do_not_split_an_interest_and_synonyms_become_the_programs_word(bot):
    assert "Done: your interests are now ux design." in await said(bot, f"{EVE}> profile interests UX design")
    assert await stored(bot, EVE, TagKind.INTEREST) == ["ux design"]
    reply = await said(bot, f"{EVE}> profile interests Localisation, l10n, User Experience")
    assert "Done: your interests are now localization, ux design." in reply
    assert await stored(bot, EVE, TagKind.INTEREST) == ["localization", "ux design"]


async def test_a_word_close_to_a_known_skill_is_kept_with_a_suggestion(bot):
    reply = await said(bot, f"{EVE}> profile interests localizaton, gardening")
    assert "Done: your interests are now localizaton, gardening." in reply
    assert ("Did you mean localization rather than localizaton? If so, send "
            "`profile interests localization, gardening`") in reply
    assert "gardening is not among the program's skills yet: it is kept as you wrote it" in reply
    assert await stored(bot, EVE, TagKind.INTEREST) == ["localizaton", "gardening"]


async def mentor(bot, who: str, *settings: str) -> None:
    await bot.send(COUNCIL, f"mentor add {who} 3")
    for line in ("profile timezone Europe/Berlin", "profile language English", *settings):
        await bot.send(who, line)


async def offers(bot, *profile: str, request: str) -> dict[str, str]:
    """Eve sets her profile and asks for a mentor: the offers sent, by mentor."""
    for line in ("profile timezone Berlin", "profile language English", *profile):
        await bot.send(EVE, line)
    sent = await bot.say(f"{EVE}> {request}")
    return {who: m for m in sent for who in (ADA, ZOE) if m.startswith(f"[dm {who}]")}


async def test_a_mentor_who_wrote_pt_is_offered_the_request_of_a_mentee_who_wrote_portuguese(bot):
    await mentor(bot, ADA, "profile languages de", "profile skills events")
    await mentor(bot, ZOE, "profile languages pt", "profile skills events")
    sent = await offers(bot, "profile languages Portuguese", "profile interests events",
                        request="request help me plan events")
    assert list(sent) == [ZOE]
    assert "shares: events; speaks Portuguese; same time zone" in sent[ZOE]


async def test_localisation_localization_and_l10n_meet(bot):
    await mentor(bot, ADA, "profile languages en", "profile skills events")
    await mentor(bot, ZOE, "profile languages English", "profile skills l10n")
    sent = await offers(bot, "profile languages en", "profile interests localisation",
                        request="request help with translating our site")
    assert list(sent) == [ZOE] and "shares: localization; speaks English" in sent[ZOE]


def test_a_synonym_added_later_counts_for_words_stored_before():
    later = {"localization": ["localisation", "l10n"]}
    assert vocabulary.canonical_all(["l10n", "localization", "events"], later) == ("localization", "events")
    assert vocabulary.terms(("localization",), later) == {"localization": "localization", "localisation":
                                                          "localization", "l10n": "localization"}


def test_the_configuration_refuses_a_word_given_to_two_skills(tmp_path):
    from bot import config

    path = tmp_path / "config.toml"
    path.write_text('[program]\nskills = { localization = ["l10n"], translation = ["L10N"] }\n', encoding="utf-8")
    with pytest.raises(config.ConfigError) as info:
        config.load(str(path), env={})
    assert "'L10N' means both 'localization' and 'translation'" in str(info.value)
    path.write_text('[program]\nskills = { "UX Design" = ["user experience"] }\n', encoding="utf-8")
    assert config.load(str(path), env={}).program.skills == {"UX Design": ["user experience"]}


async def test_an_opportunity_for_an_interest_reaches_the_mentees_who_wrote_a_synonym(bot):
    await mentor(bot, ADA, "profile languages en", "profile skills events")
    await offers(bot, "profile interests l10n", request="request help with translating our site")
    sent = await bot.say(f"council {COUNCIL}> !opportunity interest Localisation training 2027-03-10 18:00 | "
                         "https://example.org/sprint | Translation sprint")
    assert any(m.startswith("[council]") and "with 1 mentee by DM" in m for m in sent), sent
    assert any(m.startswith(f"[dm {EVE}]") and "Translation sprint" in m for m in sent), sent
