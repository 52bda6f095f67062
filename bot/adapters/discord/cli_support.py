"""What `haven discord sync` and `haven invite` call (bot/cli.py stays free of discord.py)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import aiohttp
import discord
import discord.http

from bot.adapters.discord.client import DiscordLoginRejected, create_bot
from bot.adapters.discord.commands import sync_now
from bot.adapters.discord.endpoints import apply_endpoint_overrides
from bot.core.errors import HavenError

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

# A sync is a few REST calls; past this the network or Discord is not answering, and the
# operator is better told so than left waiting on aiohttp's five-minute default.
SYNC_TIMEOUT_SECONDS = 60.0


class DiscordUnreachable(HavenError):
    """Discord's API could not be reached, or answered with a server error."""


# The minimal permissions, each with why Haven needs it. /support answers are interaction
# responses, which need no channel permission at all; these are for scheduled posts.
PERMISSIONS: tuple[tuple[str, int, str], ...] = (
    ("View Channel", 1 << 10, "to see the channels moderators choose for scheduled posts"),
    ("Send Messages", 1 << 11, "to post scheduled resource messages in those channels"),
    (
        "Embed Links",
        1 << 14,
        "scheduled posts are embeds (title, message, each resource with its link's domain)",
    ),
    (
        "Send Messages in Threads",
        1 << 38,
        "a schedule may post into a thread; Discord checks this instead of Send Messages there",
    ),
)
NOT_NEEDED = (
    "Not requested: Read Message History, Mention Everyone, Manage Messages, Attach Files "
    "(pack exports are sent as private interaction replies), and no privileged intents."
)


def permission_integer() -> int:
    value = 0
    for _, bit, _ in PERMISSIONS:
        value |= bit
    return value


def invite_url(application_id: str) -> str:
    query = urlencode(
        {
            "client_id": application_id,
            "scope": "bot applications.commands",
            "permissions": str(permission_integer()),
            "integration_type": "0",  # a server install; Haven is not a user-installed app
        }
    )
    return f"https://discord.com/oauth2/authorize?{query}"


def invite_text(application_id: str | None) -> str:
    lines = []
    if application_id:
        lines.append(f"Invite Haven to a server with:\n  {invite_url(application_id)}")
    else:
        lines.append(
            "Invite URL (put your application id, from the Developer Portal → General "
            "Information, in place of APPLICATION_ID, or run `haven invite --application-id "
            "<id>`):\n  " + invite_url("APPLICATION_ID")
        )
    lines.append("")
    lines.append("Scopes: bot (to post scheduled messages), applications.commands (/support).")
    lines.append(f"Permissions ({permission_integer()}):")
    for name, _, why in PERMISSIONS:
        lines.append(f"  - {name}: {why}")
    lines.append(NOT_NEEDED)
    return "\n".join(lines)


async def sync_command_tree(services: Services, guild_id: int | None) -> str:
    """Log in (REST only, no gateway), sync the tree, and say what happened."""
    settings = services.settings
    if settings.discord_token is None:
        raise DiscordLoginRejected("DISCORD_TOKEN is not set.", "See .env.example.")
    apply_endpoint_overrides(settings.discord_api_url, settings.discord_gateway_url)
    bot = create_bot(services, sync_commands=False)
    try:
        async with asyncio.timeout(SYNC_TIMEOUT_SECONDS):
            try:
                await bot.login(settings.discord_token.reveal())  # runs setup_hook: cogs loaded
            except discord.LoginFailure as error:
                raise DiscordLoginRejected(
                    "Discord rejected DISCORD_TOKEN.",
                    "Copy the bot token again from the Developer Portal (Bot → Reset Token).",
                ) from error
            count = await sync_now(bot.tree, services.meta, guild_id)
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise _unreachable(error) from None
    except discord.HTTPException as error:
        if error.status < 500:
            raise
        raise DiscordUnreachable(
            f"Discord answered {error.status} (a problem on Discord's side); nothing was synced.",
            "Try again in a few minutes (https://discordstatus.com shows incidents).",
        ) from None
    finally:
        await bot.close()
    if guild_id is None:
        return (
            f"Synced {count} slash commands globally. Discord shows changes within minutes; "
            "restart your Discord client if they do not appear."
        )
    return f"Synced {count} slash commands to server {guild_id} (available there at once)."


def _unreachable(error: BaseException) -> DiscordUnreachable:
    if isinstance(error, TimeoutError):
        why = f"no answer within {SYNC_TIMEOUT_SECONDS:.0f} s"
    elif isinstance(error, aiohttp.ClientConnectorError):
        cause = error.os_error
        # asyncio words a refused connection as "Connect call failed ('host', port)"; the
        # errno's own text ("Connection refused") is what an operator searches for.
        plain = os.strerror(cause.errno) if cause.errno and cause.errno > 0 else None
        why = plain or cause.strerror or type(cause).__name__
    else:
        why = str(error) or type(error).__name__
    return DiscordUnreachable(
        f"Haven cannot reach Discord at {discord.http.Route.BASE} ({why}); nothing was synced.",
        "Check this machine's network connection (and DISCORD_API_URL if you set it), then "
        "run haven discord sync again.",
    )
