"""Haven's own words in a person's language: gettext catalogs read once with Babel.

The catalogs are `bot/locales/<lang>/LC_MESSAGES/haven.po`, shipped as package data and read
straight from the `.po` files (Babel's reader, compiled in memory), so a plain
`pip install -e .` needs no build step. English is the source text: an English request, a
locale Haven does not ship, or a string not translated yet is answered in English.

Strings are marked where they are written: `words.gettext("...")` where the locale is at hand,
`N_("...")` for a constant translated where it is shown, `pgettext(context, "...")` for a word
that needs a context to translate (an option's name). `pybabel extract` finds all three (see
docs/translating.md), and tests/core/test_catalogs.py checks every catalog against the code.
"""

from __future__ import annotations

import functools
import gettext
import io
from dataclasses import dataclass
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.locales import SHIPPED_LOCALES, SOURCE_LOCALE, best_locale

DOMAIN = "haven"


@dataclass(frozen=True, slots=True)
class Words:
    """Haven's words in one shipped locale (`locale`, e.g. `pt-BR`): gettext's lookups."""

    locale: str
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    @property
    def babel_locale(self) -> str:
        """The locale as Babel names it (`pt_BR`), for CLDR names, days and dates."""
        return catalog_dir(self.locale)


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated with `words.gettext` where shown."""
    return message


def catalog_dir(locale: str) -> str:
    """The gettext folder name of a shipped locale: `pt-BR` -> `pt_BR`."""
    return locale.replace("-", "_")


def catalog_text(locale: str) -> str | None:
    """The `.po` text shipped for `locale`, or None (English has no catalog)."""
    path = resources.files("bot").joinpath(
        "locales", catalog_dir(locale), "LC_MESSAGES", f"{DOMAIN}.po"
    )
    return path.read_text(encoding="utf-8") if path.is_file() else None


@functools.cache
def _load(locale: str) -> Words:
    text = catalog_text(locale)
    if text is None:
        return Words(locale, gettext.NullTranslations())
    catalog = read_po(io.StringIO(text), locale=catalog_dir(locale))
    compiled = io.BytesIO()
    # Fuzzy entries are drafts a translator has not confirmed: they stay English.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Words(locale, gettext.GNUTranslations(compiled))


@functools.lru_cache(maxsize=1024)
def shipped_locale(tag: str | None) -> str:
    """The shipped locale for a tag (locales.best_locale, else English), memoised: every
    answer asks several times, and the tags people send are few."""
    return best_locale(tag, SHIPPED_LOCALES) or SOURCE_LOCALE


def translator(locale: str | None) -> Words:
    """Haven's words for a request's locale (already chosen with `locales.request_locale`, or a raw
    tag: it is matched to a shipped locale here too)."""
    return _load(shipped_locale(locale))


ENGLISH = Words(SOURCE_LOCALE, gettext.NullTranslations())
