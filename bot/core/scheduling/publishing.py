"""Publishing errors and values: how the scheduler posts a Card to a channel on some platform.

Contract every publisher meets (console, Discord, Slack):
- `publish` posts once and returns the platform's message id;
- the same `idempotency_key` must never create two posts (Discord: nonce + enforce_nonce;
  elsewhere: the best the platform allows, documented in the publisher);
- a failure worth retrying raises TransientPublishError (timeouts, 5xx, 429 with retry_after);
  when the platform may have created the post before failing (a 5xx or a timeout on the create
  call) it says so with `may_have_posted=True`, and the scheduler then retries with the same key
  only while the platform still honours it (NONCE_WINDOW_SECONDS), never blindly after that;
- a failure that says the platform refuses every request from Haven for a while (Discord's
  global rate limit, or a Cloudflare ban) raises PlatformPausedError: the scheduler then stops
  all scheduled traffic to that platform, not just to the channel;
- a failure that retrying cannot fix raises PermanentPublishError (channel gone, bot removed,
  missing access or permission, revoked token): the scheduler pauses the schedule;
- it never raises anything else for platform errors.

Optionally a publisher also implements `check_channel` (the ChannelChecker protocol in ports):
`schedule add` then refuses, before storing anything, a channel the bot cannot post in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.models import Platform
from bot.core.ports import ChannelChecker

if TYPE_CHECKING:
    from bot.core.ports import Publisher


class PublishError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# How long after the first attempt that may have created a post a retry with the same key is
# still safe. Discord matches a nonce against the author's messages of "the past few minutes"
# without saying how many; five minutes from the first ambiguous attempt is the window the
# scheduler trusts. Past it, a retry could post a second copy, so the slot is recorded
# `unknown` instead.
NONCE_WINDOW_SECONDS = 300.0

# Platforms whose posts no key protects (Slack's chat.postMessage takes none): there a post
# that may exist is never attempted again, whatever the window.
UNKEYED_PLATFORMS = frozenset({Platform.SLACK})


def retry_window(platform: Platform, nonce_window: float = NONCE_WINDOW_SECONDS) -> float:
    """How long after an attempt that may have posted a retry with the same key is safe."""
    return 0.0 if platform in UNKEYED_PLATFORMS else nonce_window


class TransientPublishError(PublishError):
    def __init__(
        self, reason: str, retry_after: float | None = None, *, may_have_posted: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        # True when the platform may have created the post before failing (5xx, timeout).
        self.may_have_posted = may_have_posted


class PlatformPausedError(TransientPublishError):
    """The platform refuses every request from Haven for a while (a global rate limit or an IP
    ban), not just requests to this channel: every scheduled post to it must wait."""


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
