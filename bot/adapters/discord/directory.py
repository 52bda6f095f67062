"""DiscordDirectory: a server's roles and members, for the moderator settings (the core's
MemberDirectory port).

- Roles come from the guild cache the `guilds` intent keeps current (GUILD_CREATE and the role
  events), by id or by name: case-insensitive, without a leading '@'. @everyone is never a
  match (the core refuses it by name anyway; every member holds it).
- Members come by id only: the member cache is off and Haven has no privileged intents, so a
  member is fetched (`GET /guilds/{id}/members/{user}`, which needs no intent) and remembered
  for a minute. A plain name cannot be searched; the core asks for a mention or an id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import aiohttp
import discord

from bot.core.models import Actor, Community, Platform
from bot.core.ports import DirectoryUnavailable, Found, MemberRef

# Long enough for a moderator's few commands in a row, short enough to notice a rename.
MEMBER_TTL_SECONDS = 60.0
MEMBERS_REMEMBERED = 1000

_PLATFORM_ERRORS = (
    discord.HTTPException,
    discord.RateLimited,
    aiohttp.ClientError,
    OSError,
    TimeoutError,
)


class _GuildSource(Protocol):
    def get_guild(self, id: int, /) -> discord.Guild | None: ...


class DiscordDirectory:
    platform = Platform.DISCORD
    verifies = True
    finds_users_by_name = False

    def __init__(self, bot: _GuildSource, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._bot = bot
        self._clock = clock
        # (guild id, user id) -> (expires, the member's display name)
        self._members: dict[tuple[int, int], tuple[float, str]] = {}

    def _guild(self, community_id: str) -> discord.Guild:
        _, _, external_id = community_id.partition(":")
        guild = (
            self._bot.get_guild(int(external_id))
            if external_id.isascii() and external_id.isdecimal()
            else None
        )
        if guild is None:
            raise DirectoryUnavailable("the server is not in the client's cache")
        return guild

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        guild = self._guild(community_id)
        roles = [role for role in guild.roles if not role.is_default()]
        found: list[tuple[Found, ...]] = []
        for ref in refs:
            by_id = (
                guild.get_role(int(ref.id))
                if ref.id and ref.id.isascii() and ref.id.isdecimal()
                else None
            )
            if by_id is not None and not by_id.is_default():
                matches = [by_id]
            elif ref.name:
                wanted = ref.name.lstrip("@").casefold()
                matches = [role for role in roles if role.name.lstrip("@").casefold() == wanted]
            else:
                matches = []
            found.append(tuple(Found(str(role.id), role.name) for role in matches))
        return found

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        guild = self._guild(community_id)
        names = await asyncio.gather(*(self._member_name(guild, ref) for ref in refs))
        return [
            (Found(str(ref.id), name),) if name is not None and ref.id else ()
            for ref, name in zip(refs, names, strict=True)
        ]

    async def member_actor(self, community: Community, user_id: str) -> Actor | None:
        """The dashboard's check, fetched fresh (`GET /guilds/{id}/members/{user}`; the core
        reuses it a few seconds at most): Manage Server from the member's roles as the guild
        cache knows them (the owner and Administrator have it too), and their role ids."""
        guild = self._guild(community.id)
        if not (user_id.isascii() and user_id.isdecimal()):
            return None
        try:
            member = await guild.fetch_member(int(user_id))
        except discord.NotFound:
            return None
        except _PLATFORM_ERRORS as error:
            raise DirectoryUnavailable(
                f"fetching a member failed ({type(error).__name__})"
            ) from None
        return Actor(
            id=user_id,
            display_name=member.display_name,
            has_admin_permission=member.guild_permissions.manage_guild,
            role_ids=tuple(str(role.id) for role in member.roles if not role.is_default()),
        )

    async def _member_name(self, guild: discord.Guild, ref: MemberRef) -> str | None:
        if not ref.id or not (ref.id.isascii() and ref.id.isdecimal()):
            return None
        user_id = int(ref.id)
        cached = guild.get_member(user_id)
        if cached is not None:
            return cached.display_name
        key = (guild.id, user_id)
        remembered = self._members.get(key)
        now = self._clock()
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        try:
            member = await guild.fetch_member(user_id)
        except discord.NotFound:
            return None  # 10007 Unknown Member / 10013 Unknown User: not in this server
        except _PLATFORM_ERRORS as error:
            raise DirectoryUnavailable(
                f"fetching a member failed ({type(error).__name__})"
            ) from None
        name = member.display_name
        if len(self._members) >= MEMBERS_REMEMBERED:
            self._members = {k: v for k, v in self._members.items() if v[0] > now}
            if len(self._members) >= MEMBERS_REMEMBERED:
                self._members.clear()
        self._members[key] = (now + MEMBER_TTL_SECONDS, name)
        return name
