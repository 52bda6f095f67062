"""Rate limiters that pace scheduled posts below each platform's limits, so a burst never 429s.

Why these numbers:
- Discord allows 50 REST requests/s per bot across all routes. Scheduled posts get a budget of
  40/s, leaving room for everything else the bot sends (interaction callbacks are exempt, but
  DMs, follow-ups and command syncs are not). A channel also has an observed (not contractual)
  bucket of about 5 messages per 5 s, so each channel is paced at 5 per 5 s.
- Slack's `chat.postMessage` allows about one message per second per channel, plus a
  workspace-wide limit it does not publish; we pace each channel at one per second and the whole
  platform at 20/s as a conservative guess.

The limiter is a GCRA ("virtual scheduling") with a burst: in any window of `w` seconds it lets
at most `burst + rate * w` requests through. Posting never sleeps in here: callers ask when a
request may go (`earliest`) and book it (`take`) when they actually send, so the scheduler can
keep many channels waiting without a task per post.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.models import Platform

DISCORD_POSTS_PER_SECOND = 40.0
DISCORD_GLOBAL_BURST = 5
DISCORD_CHANNEL_POSTS = 5
DISCORD_CHANNEL_WINDOW_SECONDS = 5.0
SLACK_CHANNEL_POSTS_PER_SECOND = 1.0
SLACK_POSTS_PER_SECOND = 20.0


class RateLimiter:
    """At most `burst` requests at once, then one every 1/`rate` seconds on average."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        # Theoretical arrival time of the next request if requests came exactly at the rate.
        self._tat = -math.inf

    def earliest(self, now: float) -> float:
        """The first instant at or after `now` when one more request may go."""
        return max(now, self._tat - self._tolerance)

    def take(self, now: float) -> None:
        """Book one request sent at `now` (callers check `earliest(now) <= now` first)."""
        self._tat = max(self._tat, now) + self._interval

    def hold_until(self, until: float) -> None:
        """Send nothing before `until` (a 429's retry-after)."""
        self._tat = max(self._tat, until + self._tolerance)

    def idle(self, now: float) -> bool:
        """True when the limiter remembers nothing that could delay a request."""
        return self._tat <= now


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """Budgets for one platform; None means no limit at that level."""

    global_rate: float | None = None
    global_burst: int = 1
    channel_rate: float | None = None
    channel_burst: int = 1


class ChannelPacer:
    """One platform's pacing: a budget for the whole platform and one per channel.

    A request may go when both allow it. Channels only wait for their own budget (and the
    global one), so a slow or throttled channel never delays the others.
    """

    # Forget idle per-channel limiters once this many are remembered, to bound memory.
    _PRUNE_AT = 4096

    def __init__(self, policy: PacingPolicy) -> None:
        self.policy = policy
        self._global = (
            RateLimiter(policy.global_rate, policy.global_burst)
            if policy.global_rate is not None
            else None
        )
        self._channels: dict[str, RateLimiter] = {}
        # The platform refuses every request until then (a global 429 or a ban).
        self._held_until = -math.inf

    def _channel(self, channel_id: str) -> RateLimiter | None:
        if self.policy.channel_rate is None:
            return None
        limiter = self._channels.get(channel_id)
        if limiter is None:
            limiter = RateLimiter(self.policy.channel_rate, self.policy.channel_burst)
            self._channels[channel_id] = limiter
        return limiter

    def global_earliest(self, now: float) -> float:
        """When the platform-wide budget allows the next post (at or after `now`)."""
        when = self._global.earliest(now) if self._global is not None else now
        return max(when, self._held_until)

    def earliest(self, channel_id: str, now: float) -> float:
        """When the next post to `channel_id` may go (at or after `now`)."""
        when = max(now, self._held_until)
        if self._global is not None:
            when = max(when, self._global.earliest(now))
        channel = self._channels.get(channel_id)
        if channel is not None:
            when = max(when, channel.earliest(now))
        return when

    def take(self, channel_id: str, now: float) -> None:
        if self._global is not None:
            self._global.take(now)
        channel = self._channel(channel_id)
        if channel is not None:
            channel.take(now)
        if len(self._channels) > self._PRUNE_AT:
            self._prune(now)

    def hold_all(self, until: float) -> None:
        """The platform refuses every request until `until` (a global 429 or a ban): no post
        to any channel goes before then."""
        self._held_until = max(self._held_until, until)

    def hold_channel(self, channel_id: str, until: float) -> None:
        """The platform told us to wait for this channel (a 429's retry-after)."""
        limiter = self._channel(channel_id)
        if limiter is None:
            # No per-channel budget configured: remember the hold anyway.
            limiter = RateLimiter(1.0, 1)
            self._channels[channel_id] = limiter
        limiter.hold_until(until)

    def _prune(self, now: float) -> None:
        for channel_id in [c for c, limiter in self._channels.items() if limiter.idle(now)]:
            del self._channels[channel_id]


def default_policies() -> Mapping[Platform, PacingPolicy]:
    return {
        Platform.DISCORD: PacingPolicy(
            global_rate=DISCORD_POSTS_PER_SECOND,
            # A small burst lets a loop that woke a little late catch up without losing
            # budget; 5 + 40 per second still stays under Discord's 50.
            global_burst=DISCORD_GLOBAL_BURST,
            # GCRA: burst 1 + rate r over a 5 s window gives at most 1 + 5r posts: r = 0.8/s.
            channel_rate=(DISCORD_CHANNEL_POSTS - 1) / DISCORD_CHANNEL_WINDOW_SECONDS,
            channel_burst=1,
        ),
        Platform.SLACK: PacingPolicy(
            global_rate=SLACK_POSTS_PER_SECOND,
            global_burst=2,
            channel_rate=SLACK_CHANNEL_POSTS_PER_SECOND,
            channel_burst=1,
        ),
        # The terminal has no limit, but a burst of hundreds of posts is unreadable.
        Platform.CONSOLE: PacingPolicy(global_rate=20.0, global_burst=5),
    }


def default_pacers(
    overrides: Mapping[Platform, PacingPolicy] | None = None,
) -> dict[Platform, ChannelPacer]:
    policies = dict(default_policies())
    if overrides:
        policies.update(overrides)
    return {platform: ChannelPacer(policy) for platform, policy in policies.items()}
