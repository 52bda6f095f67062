"""Answering interactions: always, ephemerally, within Discord's 3-second window.

Discord invalidates an interaction's token if it gets no response within 3 s. Haven answers from
memory well inside that; if the work is still running after DEFER_AFTER seconds, the answer is
deferred (ephemeral, fixed at defer time) and sent as a follow-up. Any exception still produces
an answer (never "The application did not respond") and a log line without user ids.

Every answer is counted (`Metrics.interaction`, by command name and outcome). A callback that
Discord refuses with 10062 (unknown interaction: too late, or answered by another process) or
40060 (already acknowledged) is never retried, the defer's included: a second attempt can only
fail the same way, and adds to the invalid-request budget. The metrics warn when their rate
passes 0.5 % (bot/metrics.py), so each one alone is only an INFO line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import discord

from bot.adapters.discord.render import CardRenderer, RenderedCard, clip
from bot.core.cards import Card
from bot.core.commands.router import SOMETHING_WENT_WRONG
from bot.core.failures import log_failure
from bot.core.models import Platform
from bot.core.ports import NO_METRICS, InteractionOutcome, Metrics

log = logging.getLogger(__name__)

DEFER_AFTER = 1.5

# Discord error codes (opcodes-and-status-codes.mdx).
UNKNOWN_INTERACTION = 10062
ALREADY_ACKNOWLEDGED = 40060


_REFUSALS = {
    UNKNOWN_INTERACTION: InteractionOutcome.UNKNOWN_INTERACTION,
    ALREADY_ACKNOWLEDGED: InteractionOutcome.ALREADY_ACKNOWLEDGED,
}


class _DeferRefused(Exception):
    """The defer itself got 10062 or 40060: nothing can be sent for this interaction."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _metrics(interaction: discord.Interaction) -> Metrics:
    """The metrics of the bot that received the interaction (HavenBot.services.metrics)."""
    services = getattr(interaction.client, "services", None)
    metrics = getattr(services, "metrics", None)
    return metrics if metrics is not None else NO_METRICS


def _count(interaction: discord.Interaction, what: str, outcome: InteractionOutcome) -> None:
    _metrics(interaction).interaction(Platform.DISCORD, what, outcome)


def _refused(interaction: discord.Interaction, what: str, code: int | None) -> bool:
    """Count and note a 10062/40060 refusal; False for any other error (not handled here)."""
    outcome = _REFUSALS.get(code or 0)
    if outcome is None:
        return False
    _count(interaction, what, outcome)
    # Too late or answered elsewhere (a second instance on the same token): never retry.
    log.info("Could not answer %s: Discord error %s (not retried)", what, code)
    return True


@dataclass(frozen=True, slots=True)
class Presentation:
    """How to show a card: a new ephemeral message, or in place of the message clicked."""

    update: bool = False
    interactive: bool = True
    offer_dm_copy: bool = True


NEW_MESSAGE = Presentation()
UPDATE_MESSAGE = Presentation(update=True)


async def _within_window(
    interaction: discord.Interaction, work: Awaitable[Card], update: bool
) -> Card:
    """Await `work`; if it is still running after DEFER_AFTER seconds, defer the answer.

    A timer rather than a task per request: the work runs in the handler's own task, and the
    defer (a REST call) only starts if it is needed.
    """
    deferring: list[asyncio.Future[Any]] = []

    def defer() -> None:
        if not interaction.response.is_done():
            # Too slow for the 3 s window: acknowledge now, answer within the token's 15 min.
            if update:
                deferring.append(asyncio.ensure_future(interaction.response.defer()))
            else:
                deferring.append(
                    asyncio.ensure_future(interaction.response.defer(ephemeral=True, thinking=True))
                )

    timer = asyncio.get_running_loop().call_later(DEFER_AFTER, defer)
    try:
        return await work
    finally:
        timer.cancel()
        if deferring:
            # The answer must know whether the defer went out (then it is a follow-up).
            try:
                await deferring[0]
            except discord.HTTPException as error:
                if error.code in _REFUSALS:
                    raise _DeferRefused(error.code) from None
                raise


async def answer_card(
    interaction: discord.Interaction,
    work: Awaitable[Card],
    renderer: CardRenderer,
    *,
    what: str,
    how: Presentation = NEW_MESSAGE,
) -> None:
    """Run `work` and answer with its card; never raises, never leaves Discord waiting.

    `what` names the command in logs ("/support", "message add"): never ids or text.
    """
    try:
        card = await _within_window(interaction, work, how.update)
    except _DeferRefused as refused:
        _refused(interaction, what, refused.code)
        return
    except Exception as error:
        log_failure(log, f"Answering {what}", error)
        _metrics(interaction).error(type(error).__name__)
        card = SOMETHING_WENT_WRONG
    await send_card(interaction, card, renderer, what=what, how=how)


async def send_card(
    interaction: discord.Interaction,
    card: Card,
    renderer: CardRenderer,
    *,
    what: str,
    how: Presentation = NEW_MESSAGE,
) -> None:
    try:
        rendered = renderer.render(
            card, interactive=how.interactive, offer_dm_copy=how.offer_dm_copy
        )
    except Exception as error:
        log_failure(log, f"Rendering the answer to {what}", error)
        rendered = renderer.render(SOMETHING_WENT_WRONG)
    try:
        await _deliver(interaction, rendered, how.update)
    except discord.HTTPException as error:
        if _refused(interaction, what, error.code):
            return
        log.error("Discord refused the answer to %s (%s %s)", what, error.status, error.code)
        _count(interaction, what, InteractionOutcome.REFUSED)
        await _last_resort(interaction, card, what)
    except Exception as error:
        log_failure(log, f"Sending the answer to {what}", error)
        _metrics(interaction).error(type(error).__name__)
        _count(interaction, what, InteractionOutcome.ERROR)
        await _last_resort(interaction, card, what)
    else:
        failed = card is SOMETHING_WENT_WRONG
        _count(interaction, what, InteractionOutcome.ERROR if failed else InteractionOutcome.OK)


async def _deliver(interaction: discord.Interaction, rendered: RenderedCard, update: bool) -> None:
    if update:
        if interaction.response.is_done():
            await interaction.edit_original_response(**rendered.edit_kwargs())
        else:
            await interaction.response.edit_message(**rendered.edit_kwargs())
    elif interaction.response.is_done():
        await interaction.followup.send(**rendered.send_kwargs(), ephemeral=True)
    else:
        await interaction.response.send_message(**rendered.send_kwargs(), ephemeral=True)


async def _last_resort(interaction: discord.Interaction, card: Card, what: str) -> None:
    """Plain text, no embed or components: what is left when the rich answer was refused."""
    text = clip(card.plain_text(), 2000)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except Exception as error:
        log_failure(log, f"Even the plain answer to {what}", error)


async def answer_text(interaction: discord.Interaction, text: str, *, what: str) -> None:
    """A short ephemeral sentence (acknowledgements, "your DMs may be closed")."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(clip(text, 2000), ephemeral=True)
        else:
            await interaction.response.send_message(clip(text, 2000), ephemeral=True)
    except discord.HTTPException as error:
        if not _refused(interaction, what, error.code):
            log.warning("Could not answer %s: Discord error %s", what, error.code)
            _count(interaction, what, InteractionOutcome.REFUSED)
    else:
        _count(interaction, what, InteractionOutcome.OK)


def raw_data(interaction: discord.Interaction) -> Mapping[str, Any]:
    """The interaction's `data` as a plain mapping (components and modals carry raw JSON)."""
    return cast("Mapping[str, Any]", interaction.data or {})


def selected_values(interaction: discord.Interaction) -> list[str]:
    return [str(v) for v in raw_data(interaction).get("values") or ()]


def modal_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """custom_id -> value of every text input in a modal submission (action rows or labels)."""
    values: dict[str, str] = {}

    def walk(components: Any) -> None:
        for component in components or ():
            if not isinstance(component, Mapping):
                continue
            if "custom_id" in component and "value" in component:
                values[str(component["custom_id"])] = str(component["value"] or "")
            walk(component.get("components"))
            inner = component.get("component")
            if isinstance(inner, Mapping):
                walk([inner])

    walk((data or {}).get("components"))
    return values
