"""The protocol for one `/support-admin` group (message, resource, schedule, settings, pack)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.core.cards import Card
from bot.core.models import RequestContext


class CommandGroup(Protocol):
    """Handles `/support-admin <name> <verb> name:value ...` for one group.

    `options` are the parsed `name:value` pairs (already unquoted). Raise HavenError subclasses
    for anything wrong; the router turns them into error cards. Permission is checked by the
    router before any group runs, and again by services that write.
    """

    @property
    def name(self) -> str: ...

    @property
    def verbs(self) -> tuple[str, ...]: ...

    async def handle(self, ctx: RequestContext, verb: str, options: Mapping[str, str]) -> Card: ...

    def help_lines(self) -> tuple[str, ...]:
        """One line per verb: usage and what it does."""
        ...
