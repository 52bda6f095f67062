"""Which language an answer's content is in, and its texts in that language: the one rule.

A `/support` card is in one language. The *message* decides it: the request's locale
(`locales.request_locale`: the person's, else the community's, else English) is matched with
`locales.best_locale` against the languages the chosen message has (the one it was written in
and its current translations). That is the card's content locale (`Card.locale`), which
Haven's own words follow too.

Every resource on the card is shown in the card's locale where it has that translation
(`best_locale` again, so `pt-BR` content picks a resource's `pt-BR` or `pt` text, never another
language), and in its source text otherwise: its phone numbers and name stay as the
organisation prints them either way, and leaving a description out would hide facts a person
may need (who it is for, that it takes reports rather than listens). So a text is never half
one language and half another; when the message has no translation for the person, the whole
card is in the source language even where some resources have a translation. A resource
translation may leave its title or hours out: an organisation's name is its own, and hours
such as "24/7" read the same; those fields then show the source's.

A translation marked `outdated` (its source text was edited after it was written) is never
shown: it may say what the source no longer says, and a wrong fact is worse than English.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.locales import best_locale
from bot.core.models import Resource, SupportMessage


def message_locales(message: SupportMessage) -> tuple[str, ...]:
    """The languages a message can be shown in: its own, then every current translation."""
    return (message.locale, *(tag for tag, t in message.translations if not t.outdated))


def content_locale(message: SupportMessage, wanted: str) -> str:
    """The language a card showing `message` is in, for a request answered in `wanted`."""
    return best_locale(wanted, message_locales(message)) or message.locale


def message_text(message: SupportMessage, locale: str) -> str:
    """The message's text in `locale` (a tag `content_locale` returned), else its own."""
    translation = message.translation(locale)
    if translation is None or translation.outdated or locale == message.locale:
        return message.text
    return translation.text


@dataclass(frozen=True, slots=True)
class ResourceWords:
    """A resource's words as one card shows them."""

    title: str
    description: str
    hours: str


def resource_words(resource: Resource, locale: str) -> ResourceWords:
    """The resource's title, description and hours on a card in `locale`."""
    current = [tag for tag, t in resource.translations if not t.outdated]
    tag = best_locale(locale, current)
    translation = resource.translation(tag) if tag else None
    if translation is None:
        return ResourceWords(resource.title, resource.description, resource.hours)
    return ResourceWords(
        title=translation.title or resource.title,
        description=translation.description or resource.description,
        hours=translation.hours or resource.hours,
    )
