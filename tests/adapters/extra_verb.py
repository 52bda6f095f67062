"""A verb that exists only in tests: added to the verb table, it must appear everywhere."""

from __future__ import annotations

from bot.core.cards import Card, CardTone
from bot.core.commands.verbs import Arguments, Option, Verb, VerbTable
from bot.core.models import RequestContext

NAME_LIMIT = 20


async def _wave(ctx: RequestContext, args: Arguments) -> Card:
    return Card(title=f"Hello {args.text('name')}", tone=CardTone.SUCCESS)


def greeting_table() -> VerbTable:
    return VerbTable(
        "greeting",
        "A test-only group",
        (
            Verb(
                "wave",
                "say hello to someone",
                _wave,
                options=(Option("name", "Who to greet", required=True, max_length=NAME_LIMIT),),
                positional=("name",),
            ),
        ),
    )
