"""SlackPublisher: the scheduler's way to post a Card to a Slack channel (chat.postMessage).

How it meets the Publisher contract (bot/core/scheduling/publishing.py):
- one post per channel per second at most, enforced here whatever the caller does (Slack's
  chat.postMessage tier is about 1 message/s per channel, short bursts allowed), and a 429 holds
  back that channel only, for the Retry-After (in seconds) Slack gave;
- no automatic retries in the SDK (its default retries connection errors, which can post
  twice); the scheduler decides what to retry from the error class we raise;
- idempotency: as far as we know, Slack has no idempotency key for chat.postMessage. So a
  key that already produced a post is answered from memory with the same ts, and a card split
  into several messages resumes after the last part that was posted, never re-posting a part.
  A timeout or a 5xx after Slack may have accepted the post cannot be told apart from a lost
  request: it is reported with `may_have_posted`, and since no key protects a retry the
  scheduler records that slot `unknown` instead of posting it again;
- `channel_not_found`, `not_in_channel`, `is_archived` and revoked or invalid tokens are
  permanent (the scheduler pauses the schedule); everything else is transient.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.context import slack_error
from bot.adapters.slack.render import render_card
from bot.adapters.slack.workspaces import (
    OneWorkspace,
    WorkspaceClients,
    WorkspaceNotInstalled,
    team_of_community,
)
from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.publishing import ChannelInfo, PermanentPublishError, TransientPublishError

log = logging.getLogger(__name__)

# Errors retrying cannot fix: the channel is gone or closed to us, or the token is dead.
PERMANENT_ERRORS: dict[str, str] = {
    "channel_not_found": "the channel no longer exists or Haven cannot see it",
    "not_in_channel": "Haven is not a member of the channel; invite it with /invite @Haven",
    "is_archived": "the channel is archived",
    "invalid_auth": "Slack rejected Haven's token",
    "not_authed": "Haven has no Slack token",
    "token_revoked": "Haven's Slack token was revoked (the app was removed)",
    "token_expired": "Haven's Slack token expired",
    "account_inactive": "Haven's Slack account was deactivated",
    "team_access_not_granted": "the workspace has not granted Haven access",
    "missing_scope": "Haven's Slack app lacks the chat:write permission",
    "restricted_action": "the workspace does not allow Haven to post in that channel",
}
MIN_INTERVAL_SECONDS = 1.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0
# Keys remembered for idempotency: far more than one scheduler pass posts.
REMEMBERED_KEYS = 10_000


def make_publisher_client(token: str, base_url: str | None) -> AsyncWebClient:
    """A Web API client that never retries on its own (see the module docstring)."""
    kwargs: dict[str, object] = {"token": token, "retry_handlers": []}
    if base_url:
        kwargs["base_url"] = base_url
    return AsyncWebClient(**kwargs)  # type: ignore[arg-type]


class SlackPublisher:
    platform = Platform.SLACK

    def __init__(
        self,
        clients: AsyncWebClient | WorkspaceClients,
        *,
        min_interval: float = MIN_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        # Each workspace's posts go out with that workspace's own bot token.
        self._clients: WorkspaceClients = (
            OneWorkspace(clients) if isinstance(clients, AsyncWebClient) else clients
        )
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        # channel -> earliest monotonic time the next post may go out.
        self._next_allowed: dict[str, float] = {}
        # idempotency key -> the ts of every part posted so far.
        self._posted: OrderedDict[str, list[str]] = OrderedDict()
        self._complete: set[str] = set()

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        client = await self._client_for(community_id)
        lock = self._locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            if idempotency_key in self._complete:
                return self._posted[idempotency_key][0]
            messages = render_card(card, interactive=False)
            done = self._posted.setdefault(idempotency_key, [])
            self._posted.move_to_end(idempotency_key)
            while len(self._posted) > REMEMBERED_KEYS:
                old, _ = self._posted.popitem(last=False)
                self._complete.discard(old)
            for message in messages[len(done) :]:
                await self._wait_for_turn(channel_id)
                done.append(await self._post(client, channel_id, message.text, message.blocks))
            self._complete.add(idempotency_key)
            return done[0]

    async def _client_for(self, community_id: str) -> AsyncWebClient:
        try:
            return await self._clients.for_team(team_of_community(community_id))
        except WorkspaceNotInstalled:
            raise PermanentPublishError(
                "Haven is no longer installed in this Slack workspace; reinstall it to post"
            ) from None
        except Exception as error:  # the installation store could not be read right now
            raise TransientPublishError(
                f"the workspace's Slack token could not be read ({type(error).__name__})"
            ) from None

    async def check_channel(self, channel_id: str, *, community_id: str = "") -> ChannelInfo:
        """Whether Haven can post in the channel (conversations.info; posts nothing)."""
        client = await self._client_for(community_id)
        try:
            response = await client.conversations_info(channel=channel_id)
        except SlackApiError as error:
            code = slack_error(error)
            if code == "channel_not_found":
                raise PermanentPublishError(
                    "Haven cannot see that channel; if it is private, invite Haven to it first "
                    "(/invite @Haven)"
                ) from None
            if code in PERMANENT_ERRORS:
                raise PermanentPublishError(f"{PERMANENT_ERRORS[code]} ({code})") from None
            raise TransientPublishError(f"Slack answered {code}") from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as error:
            raise TransientPublishError(
                f"Slack could not be reached ({type(error).__name__})"
            ) from None
        channel = response.get("channel") or {}
        name = str(channel.get("name") or "")
        label = f"#{name}" if name else ""
        if channel.get("is_archived"):
            raise PermanentPublishError(f"{label or 'the channel'} is archived")
        if channel.get("is_member") is False:
            raise PermanentPublishError(
                f"Haven is not a member of {label or 'the channel'}; invite it there with "
                "/invite @Haven"
            )
        return ChannelInfo(channel_id=channel_id, label=label)

    async def _wait_for_turn(self, channel_id: str) -> None:
        delay = self._next_allowed.get(channel_id, 0.0) - self._monotonic()
        if delay > 0:
            await self._sleep(delay)

    async def _post(
        self, client: AsyncWebClient, channel_id: str, text: str, blocks: list[dict[str, Any]]
    ) -> str:
        try:
            response = await client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=blocks,
                # Links in a resource post are already shown as buttons with their domain.
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            self._next_allowed[channel_id] = self._monotonic() + self._min_interval
            raise self._classify(channel_id, error) from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError, OSError) as error:
            self._next_allowed[channel_id] = self._monotonic() + self._min_interval
            reason = f"Slack could not be reached ({type(error).__name__})"
            log.warning("slack post to %s failed: %s", channel_id, reason)
            # Only a connection that never opened certainly posted nothing.
            never_sent = isinstance(error, aiohttp.ClientConnectorError | ConnectionRefusedError)
            raise TransientPublishError(reason, may_have_posted=not never_sent) from None
        self._next_allowed[channel_id] = self._monotonic() + self._min_interval
        return str(response.get("ts", ""))

    def _classify(
        self, channel_id: str, error: SlackApiError
    ) -> TransientPublishError | PermanentPublishError:
        response = error.response
        status = response.status_code
        code = slack_error(error)
        if status == 429 or code == "ratelimited":
            retry_after = _retry_after(response.headers)
            # Hold this channel back only; other channels keep posting.
            self._next_allowed[channel_id] = self._monotonic() + retry_after
            log.warning("slack rate limit on %s: retry after %.1fs", channel_id, retry_after)
            return TransientPublishError(
                f"Slack asked Haven to slow down (retry after {retry_after:g}s)", retry_after
            )
        if code in PERMANENT_ERRORS:
            log.warning("slack post to %s failed permanently: %s", channel_id, code)
            return PermanentPublishError(f"{PERMANENT_ERRORS[code]} ({code})")
        log.warning("slack post to %s failed: %s", channel_id, code)
        # A 5xx may come after the message was stored (Slack's own docs say to check before
        # retrying); an error code Slack chose to answer means it refused the request.
        return TransientPublishError(f"Slack answered {code}", may_have_posted=status >= 500)


def _retry_after(headers: object) -> float:
    getter = getattr(headers, "get", None)
    raw = getter("Retry-After") if getter is not None else None
    try:
        value = float(raw) if raw is not None else DEFAULT_RETRY_AFTER_SECONDS
    except (TypeError, ValueError):
        value = DEFAULT_RETRY_AFTER_SECONDS
    return max(value, 0.0)
