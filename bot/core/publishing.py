"""The Publisher port: how the scheduler posts a Card to a channel on some platform.

Contract every publisher meets (console, Discord, Slack):
- `publish` posts once and returns the platform's message id;
- the same `idempotency_key` must never create two posts (Discord: nonce + enforce_nonce;
  elsewhere: the best the platform allows, documented in the publisher);
- a failure worth retrying raises TransientPublishError (timeouts, 5xx, 429 with retry_after);
- a failure that retrying cannot fix raises PermanentPublishError (channel gone, bot removed,
  missing access or permission, revoked token): the scheduler pauses the schedule;
- it never raises anything else for platform errors.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.cards import Card
from bot.core.models import Platform


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


class Publisher(Protocol):
    platform: Platform

    async def publish(self, channel_id: str, card: Card, idempotency_key: str) -> str: ...
