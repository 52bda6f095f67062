"""Once-only handling of platform events that may be delivered more than once (Slack re-sends
an event it did not see acknowledged within 3 s, to any of Haven's processes).

The rule, and why: an event is recorded as handled only once its handler returned. First a
claim is written (`done` = 0), so a second delivery arriving in another process while the
first is still being handled is not acknowledged (the adapter answers an error, so Slack
retries later: if the first handling then fails, a retry still comes), and once the first
finished every delivery is acknowledged and ignored. When the handler fails, the claim is
removed, and Slack's retry handles the event. A claim left by a process
that died mid-handling is taken over by a delivery that comes after `stale_after` (Slack
retries after about a minute, then five). Recording on arrival instead would lose the event
whenever its first handling failed: that was the bug where a retried `app_uninstalled` whose
first delivery was lost left the workspace active. The handlers themselves are idempotent
(pausing a paused workspace changes nothing), so the rare takeover of a claim whose handler
did in fact finish is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum

from bot.core.ports import Clock, EventLedger

log = logging.getLogger(__name__)

# Past Slack's last retry (three retries within about 5 minutes) with room to spare.
KEEP_FOR = timedelta(days=1)
STALE_AFTER = timedelta(seconds=60)
PRUNE_EVERY = timedelta(hours=1)


class Delivery(Enum):
    """What `DeliveryLedger.once` did with a delivery."""

    HANDLED = "handled"  # this delivery ran the handler
    ALREADY_HANDLED = "already handled"  # an earlier delivery finished it: acknowledge
    IN_FLIGHT = "in flight"  # another delivery is handling it now: do not acknowledge yet


class DeliveryLedger:
    def __init__(
        self,
        ledger: EventLedger,
        clock: Clock,
        *,
        stale_after: timedelta = STALE_AFTER,
        keep_for: timedelta = KEEP_FOR,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._stale_after = stale_after
        self._keep_for = keep_for
        self._last_prune: datetime | None = None

    async def once(self, event_id: str, handle: Callable[[], Awaitable[None]]) -> Delivery:
        """Run `handle` unless this event was handled (or is being handled) already. An
        exception from `handle` releases the claim and propagates."""
        now = self._clock.now()
        await self._prune(now)
        if not await self._ledger.claim(event_id, now, now - self._stale_after):
            if await self._ledger.is_done(event_id):
                log.info("Event %s was delivered again; already handled, ignored", event_id)
                return Delivery.ALREADY_HANDLED
            log.info("Event %s is being handled by another delivery; not acknowledged", event_id)
            return Delivery.IN_FLIGHT
        try:
            await handle()
        except BaseException:
            await self._ledger.release(event_id)
            raise
        await self._ledger.finish(event_id)
        return Delivery.HANDLED

    async def _prune(self, now: datetime) -> None:
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        forgotten = await self._ledger.prune(now - self._keep_for)
        if forgotten:
            log.debug("Forgot %d handled event(s) older than %s", forgotten, self._keep_for)
