"""Interaction -> RequestContext: the facts the core needs about a Discord request, and no more.

The core decides what those facts allow (permissions.is_moderator); this module only reads
them. Nothing here is stored: for /support the context lives for one call.
"""

from __future__ import annotations

import logging

import discord

from bot.core.models import Actor, Platform, RequestContext, community_id_for

log = logging.getLogger(__name__)

# A DM with the bot has no server: the core serves the default content there, read-only.
DM_EXTERNAL_ID = "dm"


def community_id_for_guild(guild_id: int | None) -> str:
    return community_id_for(Platform.DISCORD, str(guild_id) if guild_id else DM_EXTERNAL_ID)


def _language(locale: discord.Locale | None) -> str | None:
    # Discord locales are "en-US", "pt-BR", "fr"; the core compares the language part.
    return locale.value if locale is not None else None


def request_context(interaction: discord.Interaction) -> RequestContext:
    guild_id = interaction.guild_id
    user = interaction.user
    in_guild = guild_id is not None
    role_ids: tuple[str, ...] = ()
    if in_guild and isinstance(user, discord.Member):
        role_ids = tuple(str(role.id) for role in user.roles if not role.is_default())
    actor = Actor(
        id=str(user.id),
        display_name=user.display_name,
        # Computed by Discord for this member in this channel (no REST call, no intent needed).
        has_admin_permission=in_guild and interaction.permissions.manage_guild,
        role_ids=role_ids,
    )
    return RequestContext(
        community_id=community_id_for_guild(guild_id),
        platform=Platform.DISCORD,
        actor=actor,
        locale=_language(interaction.locale),
        in_direct_message=not in_guild,
        channel_id=str(interaction.channel_id) if interaction.channel_id else None,
    )
