"""The Slack side of the moderator contact line (the core's ContactPlatform port): the inbox
message in a private channel, its redraws, and private messages to a person in their DM with
Haven.

- The inbox must be a private channel Haven is a member of (conversations.info): a public
  channel would let the whole workspace read requests. Slack has no "can I post" check short
  of posting, so membership and "not archived" are what is checked.
- Several moderators share one inbox message: each change redraws it in place (chat.update),
  so there is one message per request and a sender's deletion empties it. No thread replies:
  each would be one more copy of the text to find and delete.
- A person is told things in their DM with Haven (conversations.open + chat.postMessage).
  Their reply key sits only in the buttons and text of those DM messages, which Slack holds
  and Haven does not.
- Nothing here logs a channel or user id (a DM's id names the person) or any text: Slack's
  error code only.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.context import slack_error
from bot.adapters.slack.render import SlackMessage, render_private
from bot.adapters.slack.workspaces import WorkspaceClients, WorkspaceNotInstalled, team_of_community
from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.publishing import PermanentPublishError, PublishError

log = logging.getLogger(__name__)

_CALL_ERRORS = (SlackApiError, SlackClientError, OSError, TimeoutError, WorkspaceNotInstalled)

# conversations.info's answers for a channel Haven cannot see, in words a moderator can act on.
_CANNOT_SEE = {
    "channel_not_found": "Slack says there is no such channel, or Haven is not in it",
    "missing_scope": "Haven's Slack app lacks the groups:read scope (reinstall it)",
    "WorkspaceNotInstalled": "Haven is not installed in this Slack workspace any more",
}


EARLIER_NOT_SHOWN = "… earlier messages are not shown: one Slack message holds only so much"


def fitted(card: Card) -> Card:
    """The card with its oldest thread lines left out until it fits one Slack message (a
    request and eight long replies can pass Slack's ~13k characters): an inbox message is
    redrawn in place, and a modal shows one view, so neither can continue in another. The
    newest lines, the ones to answer, stay."""
    if len(render_private(card)) == 1:
        return card
    lines = [line for line in card.lines if not line.startswith("… ")]
    while len(lines) > 1:
        lines.pop(0)
        shorter = replace(card, lines=(EARLIER_NOT_SHOWN, *lines))
        if len(render_private(shorter)) == 1:
            return shorter
    return replace(card, lines=(EARLIER_NOT_SHOWN, *lines))


def _blocks_message(card: Card) -> SlackMessage:
    """The card as one message (see `fitted`)."""
    messages = render_private(fitted(card))
    first = messages[0]
    # Only if even the newest line with the request cannot fit (never with the core's limits).
    blocks = [block for message in messages for block in message.blocks][:50]
    return SlackMessage(text=first.text, blocks=blocks)


class SlackContact:
    """Posts and redraws inbox messages and writes to a person's DM, per workspace."""

    platform = Platform.SLACK

    def __init__(self, clients: WorkspaceClients) -> None:
        self._clients = clients

    async def _client(self, community_id: str) -> AsyncWebClient:
        return await self._clients.for_team(team_of_community(community_id))

    async def check_inbox(self, community_id: str, channel_id: str) -> str:
        try:
            client = await self._client(community_id)
            info = await client.conversations_info(channel=channel_id)
        except _CALL_ERRORS as error:
            code = slack_error(error)
            raise PermanentPublishError(_CANNOT_SEE.get(code, f"Slack answered {code}")) from None
        channel: dict[str, Any] = info.get("channel") or {}
        label = f"#{channel['name']}" if channel.get("name") else channel_id
        if channel.get("is_archived"):
            raise PermanentPublishError(f"{label} is archived")
        if not channel.get("is_private"):
            raise PermanentPublishError(
                f"{label} is a public channel, which everyone in the workspace can read; "
                "the inbox must be a private channel"
            )
        if not channel.get("is_member"):
            raise PermanentPublishError(
                f"Haven is not a member of {label}: in the channel, type /invite @Haven"
            )
        return label

    async def post_inbox(self, community_id: str, channel_id: str, card: Card) -> str:
        message = _blocks_message(card)
        try:
            client = await self._client(community_id)
            response = await client.chat_postMessage(
                channel=channel_id,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except _CALL_ERRORS as error:
            raise PublishError(f"chat.postMessage: {slack_error(error)}") from None
        return str(response["ts"])

    async def edit_inbox(
        self, community_id: str, channel_id: str, message_id: str, card: Card
    ) -> None:
        message = _blocks_message(card)
        try:
            client = await self._client(community_id)
            await client.chat_update(
                channel=channel_id, ts=message_id, text=message.text, blocks=message.blocks
            )
        except _CALL_ERRORS as error:
            raise PublishError(f"chat.update: {slack_error(error)}") from None

    async def tell_person(self, community_id: str, user_id: str, card: Card) -> bool:
        """A DM from Haven to the person; False (logged by Slack's error code only) when Slack
        will not deliver it."""
        message = _blocks_message(card)
        try:
            client = await self._client(community_id)
            opened = await client.conversations_open(users=user_id)
            await client.chat_postMessage(
                channel=str(opened["channel"]["id"]),
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except _CALL_ERRORS as error:
            log.warning(
                "A private message about a request was not delivered (%s)", slack_error(error)
            )
            return False
        return True
