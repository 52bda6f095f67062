"""/support's and /support-contact's options and descriptions in every shipped language, for
Discord.

discord.py asks an `app_commands.Translator` for each string of the tree in each Discord
locale when it syncs (Command.get_translated_payload), and sends the answers as
`name_localizations` / `description_localizations`. The words come from Haven's catalogs, so
the person sees `/support` described in their client's language and its options named
`tema` / `país` in Spanish. Only the two commands a person asking for help uses are localised:
`/support-admin` (moderators) stays English, and the commands' own names stay the same
everywhere, as the answers and the README name them. A locale Haven lacks gets no localisation
(Discord shows the English).
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.contact.rules import CONTACT_COMMAND
from bot.core.i18n import ENGLISH, N_, translator
from bot.core.locales import SHIPPED_LOCALES, SOURCE_LOCALE, best_locale

SUPPORT_COMMAND = "support"
LOCALISED_COMMANDS = frozenset({SUPPORT_COMMAND, CONTACT_COMMAND})
SUPPORT_DESCRIPTION = N_(
    "Privately get a supportive message and helplines for your topic and country"
)
TOPIC_DESCRIPTION = N_("What it's about (leave empty for general support)")
REGION_DESCRIPTION = N_("Your country, for services near you (e.g. GB, IE, US)")
CONTACT_DESCRIPTION = N_("Privately write to this server's moderators, anonymously if you like")
SEND_AS_DESCRIPTION = N_("Anonymous (they never learn who wrote) or as yourself")
ANONYMOUS_CHOICE = N_("anonymous: the moderators never learn who wrote")
MYSELF_CHOICE = N_("as myself: the moderators see who wrote")
# Option names are looked up with their own context: "topic" the option name is not "topic"
# in a sentence, and a translation must stay a valid Discord name (lowercase, no spaces).
OPTION_NAME_CONTEXT = "Discord option name"
# (Marked with pgettext on the English words, which are the names themselves.)
OPTION_NAMES = (
    ENGLISH.pgettext("Discord option name", "topic"),
    ENGLISH.pgettext("Discord option name", "region"),
    ENGLISH.pgettext("Discord option name", "as"),
)


def shipped_locale(locale: discord.Locale) -> str | None:
    """The shipped non-English locale for a Discord locale (`es-419` -> `es`), or None."""
    found = best_locale(locale.value, SHIPPED_LOCALES)
    return None if found in (None, SOURCE_LOCALE) else found


# A choice's translation context names only the choice, not its command: these are ours.
LOCALISED_CHOICES = frozenset({ANONYMOUS_CHOICE, MYSELF_CHOICE})


def _belongs_to_support(context: app_commands.TranslationContextTypes) -> bool:
    if context.location is app_commands.TranslationContextLocation.choice_name:
        return getattr(context.data, "name", None) in LOCALISED_CHOICES
    data = context.data
    command = getattr(data, "command", data)
    root = getattr(command, "root_parent", None) or command
    return getattr(root, "name", None) in LOCALISED_COMMANDS


class CommandTranslator(app_commands.Translator):
    """Haven's catalogs as discord.py's translator, for /support and /support-contact only."""

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
            return None  # the same names everywhere: the answers and the README use them
        words = translator(shipped)
        if context.location is app_commands.TranslationContextLocation.parameter_name:
            found = words.pgettext(OPTION_NAME_CONTEXT, string.message)
        else:
            found = words.gettext(string.message)
        return found if found != string.message else None
