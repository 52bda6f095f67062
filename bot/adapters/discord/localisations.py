"""/support's name, options and descriptions in every language Haven ships, for Discord.

discord.py asks an `app_commands.Translator` for each string of the tree in each Discord
locale when it syncs (Command.get_translated_payload), and sends the answers as
`name_localizations` / `description_localizations`. The words come from Haven's catalogs, so
the person sees `/support` described in their client's language and its options named
`tema` / `país` in Spanish. Only /support is localised: `/support-admin` (moderators) stays
English, and the command's own name stays `support` everywhere, as the answers and the
README name it. A locale Haven lacks gets no localisation (Discord shows the English).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.i18n import ENGLISH, N_, translator
from bot.core.locales import SHIPPED_LOCALES, SOURCE_LOCALE, best_locale

SUPPORT_COMMAND = "support"
SUPPORT_DESCRIPTION = N_(
    "Privately get a supportive message and helplines for your topic and country"
)
TOPIC_DESCRIPTION = N_("What it's about (leave empty for general support)")
REGION_DESCRIPTION = N_("Your country, for services near you (e.g. GB, IE, US)")
# Option names are looked up with their own context: "topic" the option name is not "topic"
# in a sentence, and a translation must stay a valid Discord name (lowercase, no spaces).
OPTION_NAME_CONTEXT = "Discord option name"
# (Marked with pgettext on the English words, which are the names themselves.)
OPTION_NAMES = (
    ENGLISH.pgettext("Discord option name", "topic"),
    ENGLISH.pgettext("Discord option name", "region"),
)


def shipped_locale(locale: discord.Locale) -> str | None:
    """The shipped non-English locale for a Discord locale (`es-419` -> `es`), or None."""
    found = best_locale(locale.value, SHIPPED_LOCALES)
    return None if found in (None, SOURCE_LOCALE) else found


def _belongs_to_support(context: app_commands.TranslationContextTypes) -> bool:
    data = context.data
    command = getattr(data, "command", data)
    root = getattr(command, "root_parent", None) or command
    return getattr(root, "name", None) == SUPPORT_COMMAND


class CommandTranslator(app_commands.Translator):
    """Haven's catalogs as discord.py's translator, for /support only."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        shipped = shipped_locale(locale)
        if shipped is None or not _belongs_to_support(context):
            return None
        if context.location is app_commands.TranslationContextLocation.command_name:
            return None  # `support` everywhere: the answers and the README name it so
        words = translator(shipped)
        if context.location is app_commands.TranslationContextLocation.parameter_name:
            found = words.pgettext(OPTION_NAME_CONTEXT, string.message)
        else:
            found = words.gettext(string.message)
        return found if found != string.message else None
