"""DiscordPublisher: the scheduler's way to post a Card to a Discord channel.

- Idempotent: the slot's idempotency key is the message `nonce` and discord.py sends
  `enforce_nonce: true` with it, so a retry (ours, or discord.py's own retry of a 5xx after Discord
  may already have created the message) returns the first message instead of posting twice
  (Discord matches a nonce against the same author's messages of the past few minutes).
- No pings: AllowedMentions.none(), whatever the text contains (by default a channel message
  pings @everyone, users and roles).
- Failures are classified for the scheduler (bot/core/scheduling/publishing.py): a missing
  channel or permission (10003, 50001, 50013, any 403) is permanent, so the schedule pauses and
  stops spending the invalid-request budget; 429, 5xx and timeouts are transient, and 5xx and
  timeouts say the message may exist (Discord can fail after creating it).
- Platform-wide refusals: discord.py raises a 429 without a `Via` header at once (it reads as a
  Cloudflare ban) and a global 429 carries `X-RateLimit-Global: true`; both mean every request
  from Haven is refused for a while, so they are PlatformPausedError and the scheduler holds
  every channel, not just this one. A global 429 that discord.py waits out itself holds its
  client-wide lock (`HTTPClient._global_over`, discord.py 2.7): a post that finds the lock held
  reports the same instead of queueing behind it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from typing import Protocol

import aiohttp
import discord

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.render import render_card
from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.publishing import (
    ChannelInfo,
    PermanentPublishError,
    PlatformPausedError,
    TransientPublishError,
)

log = logging.getLogger(__name__)

NONCE_MAX = 25
# discord.py retries 5xx itself (sleeping 1, 3, 5, 7 s) with the same nonce; past this the
# scheduler retries later instead of holding the slot (it gives up on a post after 30 s).
DEFAULT_TIMEOUT = 25.0

UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013

_MESSAGEABLE = (
    discord.TextChannel,
    discord.Thread,
    discord.VoiceChannel,
    discord.StageChannel,
)


# What a Discord call can fail with; anything else is a bug and propagates.
_PLATFORM_ERRORS = (
    discord.HTTPException,
    discord.RateLimited,  # a 429 longer than max_ratelimit_timeout (not an HTTPException)
    TimeoutError,
    aiohttp.ClientError,
    OSError,
)


class _BotLike(Protocol):
    def get_channel(self, id: int, /) -> object: ...

    def get_partial_messageable(
        self, id: int, *, guild_id: int | None = None, type: discord.ChannelType | None = None
    ) -> discord.PartialMessageable: ...

    async def fetch_channel(self, channel_id: int, /) -> object: ...


def nonce_for(idempotency_key: str) -> str:
    """The key itself when it fits Discord's 25 characters, else a stable digest of it."""
    if len(idempotency_key) <= NONCE_MAX:
        return idempotency_key
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    return base64.b32encode(digest).decode("ascii")[:NONCE_MAX]


def _retry_after(error: discord.HTTPException) -> float | None:
    header = error.response.headers.get("Retry-After") if error.response is not None else None
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


def _platform_wide_429(error: discord.HTTPException) -> str | None:
    """Why a 429 refuses every request from Haven (not just this channel's), or None."""
    headers = error.response.headers if error.response is not None else {}
    if str(headers.get("X-RateLimit-Global", "")).lower() == "true":
        return "Discord's global rate limit"
    scope = str(headers.get("X-RateLimit-Scope", "")).lower()
    if scope == "global":
        return "Discord's global rate limit"
    if scope in ("user", "shared"):
        # A route's own limit, as Discord (or a rate-limit proxy relaying it) says: one channel.
        return None
    if not headers.get("Via"):
        # What discord.py treats as a Cloudflare ban, which more requests only prolong.
        return "Discord's network blocked Haven's requests (a 429 without a Via header)"
    return None


def classify(error: BaseException) -> TransientPublishError | PermanentPublishError:
    """The publisher contract's view of a platform failure."""
    if isinstance(error, discord.RateLimited):
        return TransientPublishError(
            f"Discord rate limit ({error.retry_after:.0f} s)", retry_after=error.retry_after
        )
    if isinstance(error, discord.Forbidden):
        if error.code == MISSING_PERMISSIONS:
            reason = "Haven is missing the Send Messages or Embed Links permission there"
        elif error.code == MISSING_ACCESS:
            reason = "Haven cannot see that channel (missing access)"
        else:
            reason = f"Discord refused the post (403, error {error.code})"
        return PermanentPublishError(reason)
    if isinstance(error, discord.NotFound):
        if error.code == UNKNOWN_CHANNEL:
            return PermanentPublishError("the channel no longer exists")
        return PermanentPublishError(f"Discord could not find the channel (error {error.code})")
    if isinstance(error, discord.DiscordServerError):
        return TransientPublishError(f"Discord server error {error.status}", may_have_posted=True)
    if isinstance(error, discord.HTTPException):
        if error.status == 429:
            wide = _platform_wide_429(error)
            if wide is not None:
                return PlatformPausedError(wide, retry_after=_retry_after(error))
            return TransientPublishError("Discord rate limit", retry_after=_retry_after(error))
        if error.status >= 500:
            return TransientPublishError(
                f"Discord server error {error.status}", may_have_posted=True
            )
        if error.status == 401:
            return PermanentPublishError("Discord rejected Haven's token")
        # 400 (e.g. 50035 invalid form body): sending the same post again cannot succeed.
        return PermanentPublishError(f"Discord refused the post ({error.status}, {error.code})")
    if isinstance(error, TimeoutError):
        return TransientPublishError("Discord did not answer in time", may_have_posted=True)
    # No connection at all cannot have created a message; a connection lost mid-request can.
    return TransientPublishError(
        f"could not reach Discord ({type(error).__name__})",
        may_have_posted=not isinstance(error, aiohttp.ClientConnectorError),
    )


class DiscordPublisher:
    platform = Platform.DISCORD

    def __init__(self, bot: _BotLike, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._bot = bot
        self.timeout = timeout
        # Link buttons only (interactive=False): nothing here needs a custom_id.
        self._store = ids.ShortLivedStore(capacity=1)

    def global_limit_held(self) -> bool:
        """discord.py is waiting out a global 429: its client-wide lock is held."""
        lock = getattr(getattr(self._bot, "http", None), "_global_over", None)
        return isinstance(lock, asyncio.Event) and not lock.is_set()

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        if self.global_limit_held():
            raise PlatformPausedError("Discord's global rate limit")
        rendered = render_card(card, self._store, interactive=False)
        channel = self._bot.get_partial_messageable(int(channel_id))
        try:
            async with asyncio.timeout(self.timeout):
                message = await channel.send(
                    **rendered.send_kwargs(),
                    nonce=nonce_for(idempotency_key),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except _PLATFORM_ERRORS as error:
            failure = classify(error)
            if isinstance(error, TimeoutError) and self.global_limit_held():
                # It was waiting behind discord.py's global lock: never sent, and every
                # other post would wait the same.
                failure = PlatformPausedError("Discord's global rate limit")
            log.warning("Scheduled post to channel %s failed: %s", channel_id, failure.reason)
            raise failure from error
        return str(message.id)

    async def check_channel(self, channel_id: str, *, community_id: str = "") -> ChannelInfo:
        """Whether Haven can post in the channel, without posting (ChannelChecker)."""
        try:
            channel = self._bot.get_channel(int(channel_id))
            if channel is None:
                async with asyncio.timeout(10):
                    channel = await self._bot.fetch_channel(int(channel_id))
        except _PLATFORM_ERRORS as error:
            raise classify(error) from error
        except ValueError as error:
            raise PermanentPublishError("that is not a Discord channel id") from error
        if not isinstance(channel, _MESSAGEABLE):
            raise PermanentPublishError("pick a text channel or thread")
        me = channel.guild.me
        if me is not None:
            allowed = channel.permissions_for(me)
            # In a thread, Send Messages in Threads replaces Send Messages.
            if isinstance(channel, discord.Thread):
                send = ("Send Messages in Threads", allowed.send_messages_in_threads)
            else:
                send = ("Send Messages", allowed.send_messages)
            needed = (
                ("View Channel", allowed.view_channel),
                send,
                ("Embed Links", allowed.embed_links),
            )
            missing = [name for name, ok in needed if not ok]
            if missing:
                raise PermanentPublishError(
                    "Haven is missing the " + ", ".join(missing) + " permission there"
                )
        return ChannelInfo(channel_id=str(channel.id), label=f"#{channel.name}")
