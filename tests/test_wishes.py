"""Every phrasing the bot understands in plain words, and near misses it must not take for one."""

from __future__ import annotations

import pytest

from commands import build_registry
from commands.wishes import GREETINGS, PHRASINGS, THANKS, Chat, Wish, chat, plain, wish

LISTED = [(phrase, meant) for meant, phrases in PHRASINGS.items() for phrase in phrases]


@pytest.mark.parametrize("phrase,meant", LISTED)
def test_every_listed_phrasing_is_understood_as_typed_by_people(phrase, meant):
    assert wish(phrase) is meant
    assert wish(phrase.capitalize() + "?") is meant
    assert wish(f"Hi, {phrase} please!") is meant
    assert wish(f"  {phrase.upper()}  ") is meant


@pytest.mark.parametrize("text,meant", [
    ("I would like a mentor please", Wish.MENTOR), ("Can I get a mentor?", Wish.MENTOR),
    ("I'd like a mentor", Wish.MENTOR), ("hello there, I'm looking for a mentor", Wish.MENTOR),
    ("Ich möchte einen Mentor, bitte", Wish.MENTOR), ("Chcę mentora", Wish.MENTOR),
    ("Necesito un mentor, por favor", Wish.MENTOR), ("Quero um mentor", Wish.MENTOR),
    ("What's my status?", Wish.STATUS), ("Quem é o meu mentor?", Wish.STATUS),
    ("When is my next check-in?", Wish.NEXT_MEETING), ("¿Cuándo es mi próxima reunión?", Wish.NEXT_MEETING),
    ("How does this work?", Wish.HELP), ("Jak to działa?", Wish.HELP),
])
def test_accents_apostrophes_and_punctuation_do_not_matter(text, meant):
    assert wish(text) is meant


@pytest.mark.parametrize("text", [
    "I don't need a mentor", "I would like to end my mentorship", "I would like a new mentor for my friend",
    "I need a mentor to stop writing to me", "my mentor is great", "end my mentor", "forget my mentor",
    "cancel my meeting", "when is my next meeting with the council about removing a mentor",
    "i would like a mentor please end", "mentor", "a mentor", "help", "status", "status please",
    "remind me tomorrow", "what is your status", "who is your mentor", "hi", "thanks", "",
    "I need a mentor and I also want to end my other one",
])
def test_near_misses_are_not_taken_for_a_wish(text):
    assert wish(text) is None


def test_no_phrasing_shadows_a_command():
    """A listed phrasing is answered instead of being run as a command: none may be one that
    runs, except ``help`` followed by a word that names no command (``help me``)."""
    registry = build_registry()
    for phrase, _ in LISTED:
        command, matched, rest = registry.find(phrase)
        if command is not None:
            assert command.name == "help" and registry.find(rest.strip())[0] is None, phrase


@pytest.mark.parametrize("text", [*GREETINGS, "Hello!", "hey bot", "Good morning :)", "Olá!", "Cześć", "Grüß Gott"])
def test_greetings_open_a_chat(text):
    assert chat(text) is Chat.GREETING


@pytest.mark.parametrize("text", [*THANKS, "Thank you!", "thanks a lot", "Dziękuję!", "Danke schön"])
def test_thanks_are_recognised(text):
    assert chat(text) is Chat.THANKS


@pytest.mark.parametrize("text", ["his idea", "height", "help", "the weather", "thanksgiving plans", "ola123",
                                  "status", "remind me tomorrow"])
def test_words_that_merely_start_alike_are_neither(text):
    assert chat(text) is Chat.OTHER


def test_plain_drops_case_accents_and_punctuation():
    assert plain("  Ich MÖCHTE einen Mentor!!! ") == "ich mochte einen mentor"
    assert plain("Potrzebuję mentora, proszę") == "potrzebuje mentora prosze"
    assert plain("I'd like a mentor :)") == "id like a mentor"
    assert plain("Czy mogę? Łódź") == "czy moge lodz"
