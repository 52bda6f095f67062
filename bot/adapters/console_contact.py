"""The console's part of the moderator contact line: the inbox and private messages printed.

On the console one person is both the member and the moderator, so everything is printed
with a header saying where it would have gone: the moderator inbox channel, or a private
message to the person. Message ids are counted in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from bot.core.cards import Card
from bot.core.models import Platform

_WIDTH = 60


class ConsoleContact:
    platform = Platform.CONSOLE

    def __init__(self, write: Callable[[str], None], render: Callable[[Card], str]) -> None:
        self._write = write
        self._render = render
        self._ids = count(1)

    def _print(self, header: str, card: Card) -> None:
        self._write(f"\n{header}{'─' * max(4, _WIDTH - len(header))}\n{self._render(card)}\n")

    async def check_inbox(self, community_id: str, channel_id: str) -> str:
        return f"#{channel_id}"

    async def post_inbox(self, community_id: str, channel_id: str, card: Card) -> str:
        message_id = f"console-inbox-{next(self._ids)}"
        self._print(f"── Moderator inbox #{channel_id} ", card)
        return message_id

    async def edit_inbox(
        self, community_id: str, channel_id: str, message_id: str, card: Card
    ) -> None:
        self._print(f"── Moderator inbox #{channel_id} (updated) ", card)

    async def tell_person(self, community_id: str, user_id: str, card: Card) -> bool:
        self._print("── Private message to you ", card)
        return True
