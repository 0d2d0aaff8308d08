"""Plain words people write to the bot instead of a command, and what they are taken to mean.

Volunteers new to chat bots write in their own words: "hi", "thank you", "I would like a
mentor please". This module is the one, explicit list of the phrasings the bot
understands, each with what it means. The bot answers a wish by *offering* the command to
type ("To ask for a mentor, type `request ...`"); it never acts on one, so a phrasing read
wrongly costs a sentence, never a request sent or a mentorship ended.

A message is compared whole, after it is made plain: lower case, accents and punctuation
dropped, a greeting in front ("hi, ...") and polite words at either end ("please",
"bitte", "por favor", "proszę") left out. Only an exact phrasing of the list matches: "I
don't need a mentor" or "I would like to end my mentorship" match nothing. Greetings and
thanks are recognised by their first words, since the bot answers whatever follows the same.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class Wish(str, enum.Enum):
    MENTOR = "mentor"  # asking for a mentor: `request <...>`
    HELP = "help"  # asking what the bot does: `help`
    STATUS = "status"  # asking where they stand, who their mentor is: `status`
    NEXT_MEETING = "next_meeting"  # asking when they meet next: `checkins`


class Chat(str, enum.Enum):
    """What a message that is no command and no wish opens with."""

    GREETING = "greeting"
    THANKS = "thanks"
    OTHER = "other"


# Each phrasing made plain (see ``plain``), by what it means.
PHRASINGS: dict[Wish, tuple[str, ...]] = {
    Wish.MENTOR: (
        "i would like a mentor", "id like a mentor", "i want a mentor", "i need a mentor", "i am looking for a mentor",
        "im looking for a mentor", "looking for a mentor", "can i get a mentor", "can i have a mentor",
        "could i get a mentor", "could i have a mentor", "may i have a mentor", "i would like to have a mentor",
        "i would like to get a mentor", "i want to get a mentor", "i want to find a mentor", "find me a mentor",
        "get me a mentor", "how do i get a mentor", "how can i get a mentor", "how do i find a mentor",
        "how can i find a mentor", "mentor me", "i want to be mentored",
        "i would like to be mentored",
        # German
        "ich mochte einen mentor", "ich hatte gern einen mentor", "ich brauche einen mentor",
        "ich suche einen mentor", "ich mochte eine mentorin", "ich suche eine mentorin",
        # Polish
        "chce mentora", "chcialbym mentora", "chcialabym mentora", "potrzebuje mentora", "szukam mentora",
        # Spanish
        "quiero un mentor", "necesito un mentor", "busco un mentor", "quisiera un mentor", "me gustaria un mentor",
        # Portuguese
        "quero um mentor", "preciso de um mentor", "procuro um mentor", "gostaria de um mentor",
    ),
    Wish.HELP: (
        "help me", "can you help me", "can you help", "i need help", "what can you do", "what do you do",
        "how does this work", "how does it work", "how do i use this", "how do i start", "what can i do",
        "what are the commands", "commands", "menu", "info",
        "hilfe", "was kannst du", "wie funktioniert das",
        "pomoc", "pomocy", "co potrafisz", "jak to dziala",
        "ayuda", "que puedes hacer", "como funciona",
        "ajuda", "o que voce faz", "como funciona isso",
    ),
    Wish.STATUS: (
        "what is my status", "whats my status", "my status", "who is my mentor", "whos my mentor",
        "do i have a mentor", "where do i stand", "what is the status of my request", "where is my request",
        "wer ist mein mentor", "kto jest moim mentorem", "quien es mi mentor", "quem e o meu mentor",
        "quem e meu mentor",
    ),
    Wish.NEXT_MEETING: (
        "when is my next meeting", "when is my next check in", "when is my next checkin", "when do we meet",
        "when do i meet my mentor", "when is my next session", "next meeting", "next check in", "my check ins",
        "my checkins", "my meetings",
        "wann ist mein nachstes treffen", "kiedy jest nastepne spotkanie", "cuando es mi proxima reunion",
        "quando e a minha proxima reuniao",
    ),
}

GREETINGS = (
    "hi", "hii", "hello", "hallo", "hey", "heya", "hiya", "howdy", "yo", "good morning", "good afternoon",
    "good evening", "good day", "morning", "greetings",
    "guten morgen", "guten tag", "guten abend", "moin", "servus", "gruss gott", "gruezi",
    "czesc", "dzien dobry", "witam", "siema", "hej",
    "hola", "buenos dias", "buenas tardes", "buenas noches", "buenas",
    "ola", "oi", "bom dia", "boa tarde", "boa noite",
    "bonjour", "salut", "ciao",
)

THANKS = (
    "thanks", "thank you", "thank u", "thx", "ty", "cheers", "many thanks", "much appreciated",
    "danke", "danke schon", "vielen dank",
    "dziekuje", "dzieki",
    "gracias", "muchas gracias",
    "obrigado", "obrigada", "muito obrigado", "muito obrigada",
    "merci", "grazie",
)

# Polite words left out at either end of a message before it is compared.
POLITE = ("please", "pls", "plz", "thanks", "thank you", "bitte", "prosze", "por favor", "por favour")

# Letters that do not come apart into a plain letter and an accent.
_LETTERS = str.maketrans({"ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d"})


def plain(text: str) -> str:
    """``text`` as compared: lower case, no accents, apostrophes dropped, other punctuation a space."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['’`´]", "", text)
    return " ".join(re.sub(r"[^\w\s]|_", " ", text).split())


def _longest_first(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(phrases, key=len, reverse=True))


def _strip_front(text: str, phrases: tuple[str, ...]) -> str:
    """``text`` without one of ``phrases`` (longest first) in front, as a whole word or words."""
    for phrase in phrases:
        if text == phrase:
            return ""
        if text.startswith(phrase + " "):
            return text[len(phrase) + 1:]
    return text


def _strip_back(text: str, phrases: tuple[str, ...]) -> str:
    for phrase in phrases:
        if text.endswith(" " + phrase):
            return text[: -len(phrase) - 1]
    return text


def _bare(text: str) -> str:
    """The plain message without a greeting in front nor polite words at either end."""
    text = _strip_front(plain(text), _GREETINGS)
    text = _strip_front(text, ("mentorbot", "there", "bot"))  # "hi there, ...", "hello bot ..."
    text = _strip_front(text, _POLITE)
    return _strip_back(text, _POLITE)


_WISHES = {phrase: wish for wish, phrases in PHRASINGS.items() for phrase in phrases}
_GREETINGS, _THANKS, _POLITE = map(_longest_first, (GREETINGS, THANKS, POLITE))


def wish(text: str) -> Wish | None:
    """What ``text`` asks for, if it is one of the phrasings above; None otherwise."""
    return _WISHES.get(_bare(text))


def chat(text: str) -> Chat:
    """Whether ``text`` opens with a greeting, a thank-you, or neither."""
    words = plain(text)
    if _strip_front(words, _THANKS) != words:
        return Chat.THANKS
    if _strip_front(words, _GREETINGS) != words:
        return Chat.GREETING
    return Chat.OTHER
