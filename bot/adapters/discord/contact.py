"""The contact line on Discord: the moderators' inbox channel and a person's DMs.

The inbox message is an embed with Reply / Close / Block sender buttons (haven:cmod ids);
it is edited in place as the thread grows or the request closes. A person is told about a
reply by DM, only while the core still knows who they are (its in-memory link). Nothing
here logs a user id or any text: failures are logged by status code only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.adapters.discord.context import community_id_for_guild
from bot.adapters.discord.modals_contact import CANNOT_SEND_TO_USER
from bot.adapters.discord.render import render_card
from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.publishing import PermanentPublishError

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)

TIMEOUT = 10.0


class DiscordContact:
    platform = Platform.DISCORD

    def __init__(self, bot: HavenBot) -> None:
        self._bot = bot

    async def check_inbox(self, community_id: str, channel_id: str) -> str:
        # A channel of this server only: an id from another server would send one
        # community's requests to another's moderators.
        channel = self._bot.get_channel(int(channel_id)) if channel_id.isdigit() else None
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            raise PermanentPublishError("that is not a text channel of this server")
        guild = channel.guild
        if community_id_for_guild(guild.id) != community_id:
            raise PermanentPublishError("that is not a text channel of this server")
        # Requests (and an "as myself" sender's name) must never land where members read:
        # that would out the very people the line exists for. Slack asks for a private channel.
        if channel.permissions_for(guild.default_role).view_channel:
            raise PermanentPublishError(
                "everyone in the server can read that channel; pick one only moderators can see "
                "(turn off View Channel for @everyone in its permissions)"
            )
        info = await self._bot.publisher.check_channel(channel_id, community_id=community_id)
        return info.label

    async def post_inbox(self, community_id: str, channel_id: str, card: Card) -> str:
        # Rendered here, not through the bot's card cache: request text is kept nowhere.
        rendered = render_card(card, self._bot.refs, interactive=True)
        channel = self._bot.get_partial_messageable(int(channel_id))
        async with asyncio.timeout(TIMEOUT):
            message = await channel.send(
                **rendered.send_kwargs(), allowed_mentions=discord.AllowedMentions.none()
            )
        return str(message.id)

    async def edit_inbox(
        self, community_id: str, channel_id: str, message_id: str, card: Card
    ) -> None:
        rendered = render_card(card, self._bot.refs, interactive=True)
        channel = self._bot.get_partial_messageable(int(channel_id))
        async with asyncio.timeout(TIMEOUT):
            await channel.get_partial_message(int(message_id)).edit(
                **rendered.edit_kwargs(), allowed_mentions=discord.AllowedMentions.none()
            )

    async def tell_person(self, community_id: str, user_id: str, card: Card) -> bool:
        rendered = render_card(card, self._bot.refs, interactive=False)
        try:
            async with asyncio.timeout(TIMEOUT):
                dm = await self._bot.create_dm(discord.Object(int(user_id)))
                await dm.send(**rendered.send_kwargs())
        except discord.Forbidden as error:
            if error.code != CANNOT_SEND_TO_USER:
                log.warning("A contact DM was refused by Discord (error %s)", error.code)
            return False
        return True
