"""ConsolePublisher: scheduled posts printed to the terminal in `haven console`."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from itertools import count

from bot.core.cards import Card
from bot.core.models import Platform
from bot.core.scheduling.publishing import ChannelInfo, PermanentPublishError
from bot.core.scheduling.schedules import parse_channel

log = logging.getLogger(__name__)

# Remember this many recent keys: a retry of a slot within the process prints nothing new.
_KEYS_REMEMBERED = 1024


class ConsolePublisher:
    """Prints a card with a header naming the channel.

    Idempotency: the terminal cannot take a post back, so the publisher remembers the keys it
    printed in this process and returns the first post's id for a repeated key. A restart
    forgets them (a slot retried after a crash may print twice in the console only).
    """

    platform = Platform.CONSOLE

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._ids = count(1)
        self._printed: OrderedDict[str, str] = OrderedDict()

    async def publish(
        self, channel_id: str, card: Card, idempotency_key: str, *, community_id: str = ""
    ) -> str:
        known = self._printed.get(idempotency_key)
        if known is not None:
            return known
        message_id = f"console-{next(self._ids)}"
        header = f"── Scheduled post to #{channel_id} "
        self._write(f"\n{header}{'─' * max(4, 60 - len(header))}\n{card.plain_text()}\n\n")
        self._printed[idempotency_key] = message_id
        if len(self._printed) > _KEYS_REMEMBERED:
            self._printed.popitem(last=False)
        return message_id

    async def check_channel(self, channel_id: str, *, community_id: str = "") -> ChannelInfo:
        try:
            channel, label = parse_channel(channel_id, Platform.CONSOLE)
        except Exception as error:
            raise PermanentPublishError(f"'{channel_id}' is not a channel name") from error
        return ChannelInfo(channel, label)
