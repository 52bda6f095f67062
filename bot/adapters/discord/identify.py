"""Discord's IDENTIFY rule across processes: one IDENTIFY per bucket per 5 s, whoever sends it.

Discord lets the shards of one bucket (`shard_id % max_concurrency`) IDENTIFY once every 5 s and
answers a faster one with op 9 (invalid session); a bot's daily start limit (1,000) counts every
attempt. discord.py's own `before_identify_hook` waits 5 s only between the shards of one
process, so processes started together would collide. `IdentifyTurns.wait` takes the bucket's
turn in the shared database instead (the IdentifyGate port), held for 5 s plus a margin, and
sleeps until the turn is free when another process holds it. When the database cannot be
reached it falls back to discord.py's wait (and says so once): a slower start, never a stop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.core.errors import StorageError, StorageUnavailable
from bot.core.ports import IdentifyGate

log = logging.getLogger(__name__)

# Discord's rule: one IDENTIFY per bucket per this many seconds.
IDENTIFY_INTERVAL = 5.0
# Added to the hold: the IDENTIFY leaves a moment after the turn is taken (the database write,
# the frame on the socket), and the next holder's must still come 5 s after it.
HOLD_MARGIN = 0.5
# A database that does not answer within this is treated as unreachable for this IDENTIFY.
TAKE_TIMEOUT = 5.0
# Never spin: the shortest sleep before asking again for a held turn.
MIN_RETRY = 0.05


class IdentifyTurns:
    """What HavenBot's `before_identify_hook` awaits (one per client)."""

    def __init__(
        self,
        gate: IdentifyGate | None,
        owner: str,
        *,
        interval: float = IDENTIFY_INTERVAL,
        margin: float = HOLD_MARGIN,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._gate = gate
        self._owner = owner
        self._interval = interval
        self._hold = interval + margin
        self._clock = clock
        self._sleep = sleep
        self._warned = False
        # From GET /gateway/bot once connected (1 for most bots: every shard in one bucket).
        self.max_concurrency = 1

    def bucket(self, shard_id: int) -> int:
        return shard_id % max(self.max_concurrency, 1)

    async def wait(self, shard_id: int, *, initial: bool) -> None:
        """Return when `shard_id` may IDENTIFY now."""
        if self._gate is None:
            await self._local_wait(initial)
            return
        bucket = self.bucket(shard_id)
        owner = f"{self._owner}/shard {shard_id}"
        while True:
            try:
                frees_at = await asyncio.wait_for(
                    self._gate.take(bucket, owner, self._clock(), self._hold), TAKE_TIMEOUT
                )
            except (StorageError, StorageUnavailable, OSError, TimeoutError) as error:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "The database did not answer for Discord's IDENTIFY turns (%s); "
                        "waiting %.0f s between this process's shards instead. Processes "
                        "starting together may be refused by Discord and retry.",
                        type(error).__name__,
                        self._interval,
                    )
                await self._local_wait(initial)
                return
            if frees_at is None:
                return
            await self._sleep(max(frees_at - self._clock(), MIN_RETRY))

    async def _local_wait(self, initial: bool) -> None:
        # discord.py's own rule: the first shard of a process goes at once, the others wait.
        if not initial:
            await self._sleep(self._interval)
