"""Which of Haven's languages answers a person: the one locale-matching rule.

A request carries the person's client language for that one call (Discord's interaction
`locale`, Slack's user locale, `haven console --locale`), else the community's default, else
English. Haven's own words (gettext catalogs) and a pack's translations are both chosen with
`best_locale`, so a person never gets headings in one language and a message in another
because two places matched "pt-BR" differently. Nothing here is stored per person.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

# The languages Haven ships its own words and the default pack's translations in. Tags are
# BCP 47 as Discord sends them ("pt-BR"); the English text is the source.
SOURCE_LOCALE = "en"
SHIPPED_LOCALES: tuple[str, ...] = ("en", "es", "fr", "de", "pt-BR")


def normalise_tag(tag: str) -> str:
    """`es_ES`, `ES-es`, `pt-br` -> `es-ES`, `es-ES`, `pt-BR`: one spelling for comparisons."""
    parts = tag.strip().replace("_", "-").split("-")
    language = parts[0].lower()
    rest = [part.upper() if len(part) == 2 else part.title() for part in parts[1:] if part]
    return "-".join([language, *rest])


def language_of(tag: str) -> str:
    """`en-GB` -> `en`."""
    return normalise_tag(tag).split("-")[0]


def best_locale(requested: str | None, available: Iterable[str]) -> str | None:
    """The best of `available` for a person asking in `requested`, or None.

    An exact tag first (`pt-BR` for `pt-BR`), then the bare language (`es` for `es-ES`), then
    another variant of the same language (`pt-BR` for `pt-PT`: closer than English for the
    person), never a different language.
    """
    if not requested or not requested.strip():
        return None
    wanted = normalise_tag(requested)
    offered = {normalise_tag(tag): tag for tag in available}
    if wanted in offered:
        return offered[wanted]
    language = language_of(wanted)
    if language in offered:
        return offered[language]
    for normal, original in sorted(offered.items()):
        if language_of(normal) == language:
            return original
    return None


@functools.lru_cache(maxsize=1024)
def request_locale(person: str | None, community_default: str | None) -> str:
    """The locale a request is answered in: the person's, else the community's, else English.
    Memoised: every answer asks, and the tags people send are few."""
    for candidate in (person, community_default):
        found = best_locale(candidate, SHIPPED_LOCALES)
        if found is not None:
            return found
    return SOURCE_LOCALE
