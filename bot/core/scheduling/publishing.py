"""Publishing errors and values: how the scheduler posts a Card to a channel on some platform.

Contract every publisher meets (console, Discord, Slack):
- `publish` posts once and returns the platform's message id;
- the same `idempotency_key` must never create two posts (Discord: nonce + enforce_nonce;
  elsewhere: the best the platform allows, documented in the publisher);
- a failure worth retrying raises TransientPublishError (timeouts, 5xx, 429 with retry_after);
- a failure that retrying cannot fix raises PermanentPublishError (channel gone, bot removed,
  missing access or permission, revoked token): the scheduler pauses the schedule;
- it never raises anything else for platform errors.

Optionally a publisher also implements `check_channel` (the ChannelChecker protocol in ports):
`schedule add` then refuses, before storing anything, a channel the bot cannot post in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.ports import ChannelChecker

if TYPE_CHECKING:
    from bot.core.ports import Publisher


class PublishError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientPublishError(PublishError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentPublishError(PublishError):
    pass


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A channel the bot can post in, as the platform describes it."""

    channel_id: str
    # How to show it to moderators, e.g. "#welcome" ("" to keep what the moderator typed).
    label: str = ""


def channel_checker(publisher: Publisher) -> ChannelChecker | None:
    """The publisher's channel check, if it has one (it is optional)."""
    return publisher if isinstance(publisher, ChannelChecker) else None
