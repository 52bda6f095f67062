"""What a person asking for support is told when `/support` cannot read what they typed.

An unknown topic or country is answered in the person's language, with the closest choices
named in that language too; anything else keeps the shared English error card (moderator
wording, which may stay English).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.cards import Card, CardTone, Choice
from bot.core.content.regions import MAX_REGION_LENGTH, region_name
from bot.core.content.topics import MAX_TOPIC_LENGTH
from bot.core.content.validation import make_mentions_inert
from bot.core.errors import UnknownChoice
from bot.core.i18n import Words
from bot.core.locales import SOURCE_LOCALE

# Long enough to recognise what was typed, short enough that a pasted paragraph is not echoed.
_ECHO = 40


def support_error_card(error: UnknownChoice, words: Words, fallback: Card) -> Card:
    """The localised card for an unknown topic or region; `fallback` (the English error
    card) for anything else, and for English, whose wording is the shared card's."""
    if words.locale == SOURCE_LOCALE:
        return fallback
    limit = MAX_TOPIC_LENGTH if error.what == "Topic" else MAX_REGION_LENGTH
    too_long = len(error.given) > limit
    given = error.given if len(error.given) <= _ECHO else error.given[: _ECHO - 1] + "…"
    if error.what == "Topic":
        body = (
            words.gettext("That is too long for a topic: topic names are short, like crisis.")
            if too_long
            else words.gettext("I don't know the topic '{given}'.").format(given=given)
        )
        heading = words.gettext("Closest topics")
        choices = tuple(
            Choice(label=words.gettext(error.label(value)), value=value)
            for value in error.choices[:25]
        )
        footer = words.gettext("Or just type /support for general support.")
    elif error.what == "Region":
        body = (
            words.gettext("That is too long for a country name.")
            if too_long
            else words.gettext("I don't know the country '{given}'.").format(given=given)
        )
        heading = words.gettext("Closest countries")
        choices = tuple(
            Choice(label=f"{region_name(value, words.locale)} ({value})", value=value)
            for value in error.choices[:25]
        )
        footer = words.gettext(
            "Give a country name or its two-letter code, like GB or NZ. "
            "Or just type /support for general support."
        )
    else:
        return replace(fallback, locale=words.locale)
    # Suggested only where the shared rule suggested one (a clear closest choice).
    if choices and "did you mean" in error.hint.lower():
        body += " " + words.gettext("Did you mean {choice}?").format(choice=choices[0].label)
    return Card(
        title=words.gettext("That didn't work"),
        body=make_mentions_inert(body),
        footer=footer,
        tone=CardTone.ERROR,
        choices=choices,
        choices_label=heading if choices else "",
        locale=words.locale,
    )
