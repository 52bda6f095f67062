"""HavenBot: the discord.py client, built from Services in a factory, and `run_discord`.

What it does and does not do:
- no privileged intents (guilds only: join/removal and the channel/role cache), no message
  cache, no member chunking, AllowedMentions.none() for everything it sends;
- everything starts in `setup_hook` (called once), never in `on_ready` (called on every resume);
- slash commands live in the cogs (cogs/*.py); components and modals are dispatched here by
  custom_id, so buttons keep working across restarts and nothing per request is kept in memory;
- the command tree is synced at start-up only when its hash changed;
- it is an AutoShardedBot: with no slice configured one process runs every shard (as many as
  Discord recommends), with DISCORD_SHARDS / --shards only that slice of DISCORD_SHARD_COUNT.
  Each IDENTIFY waits for its bucket's turn in the shared database (identify.py), and
  readiness is per shard: ready when every shard this process holds is.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.commands import build_admin_group, sync_if_changed
from bot.adapters.discord.context import request_context
from bot.adapters.discord.directory import DiscordDirectory
from bot.adapters.discord.endpoints import apply_endpoint_overrides
from bot.adapters.discord.forms import build_modal, can_show
from bot.adapters.discord.identify import IDENTIFY_INTERVAL, IdentifyTurns
from bot.adapters.discord.localisations import CommandTranslator
from bot.adapters.discord.publisher import DiscordPublisher
from bot.adapters.discord.render import CardRenderer
from bot.adapters.discord.responding import (
    NEW_MESSAGE,
    Presentation,
    answer_card,
    answer_text,
    modal_values,
    raw_data,
    send_card,
)
from bot.adapters.discord.shards import (
    INVALID_SHARD,
    SHARDING_REQUIRED,
    shard_list,
    sharding_refusal,
)
from bot.core.cards import Card
from bot.core.commands.router import SOMETHING_WENT_WRONG, error_card
from bot.core.commands.verbs import FormRequest
from bot.core.content.packs import MAX_PACK_BYTES
from bot.core.errors import HavenError
from bot.core.failures import log_failure
from bot.core.models import Platform
from bot.metrics import PlatformStatus

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.support", "cogs.curation", "cogs.admin", "cogs.contact")
ComponentHandler = Callable[[discord.Interaction, ids.ParsedId], Awaitable[None]]

# How long `close` waits for background work (server joins being recorded) to finish.
SHUTDOWN_GRACE = 10.0

EXPIRED = (
    "This button or form has expired (Haven restarted or too much time passed). "
    "Please run the command again."
)


class HavenTree(app_commands.CommandTree["HavenBot"]):
    """A backstop: every handler answers on its own, but if one raises, answer here."""

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "a command"
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        # The stack helps the operator; the user, the options and the error's message are not
        # logged (a message can quote what was typed).
        log_failure(log, f"/{command}", original)
        bot = interaction.client
        if isinstance(bot, HavenBot):
            bot.services.metrics.error(type(original).__name__)
        if isinstance(bot, HavenBot) and not interaction.response.is_done():
            await send_card(interaction, SOMETHING_WENT_WRONG, bot.renderer, what=f"/{command}")


class HavenBot(commands.AutoShardedBot):
    def __init__(
        self,
        services: Services,
        *,
        guild_ready_timeout: float = 2.0,
        sync_commands: bool = True,
        publish_timeout: float | None = None,
        extensions: tuple[str, ...] = EXTENSIONS,
        identify_interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        settings = services.settings
        # Neither: every shard, as many as GET /gateway/bot recommends.
        sharding: dict[str, Any] = {}
        if settings.discord_shard_ids is not None:
            sharding["shard_ids"] = list(settings.discord_shard_ids)
        if settings.discord_shard_count is not None:
            sharding["shard_count"] = settings.discord_shard_count
        # Haven never joins voice: discord.py's "PyNaCl/davey is not installed" warnings would
        # only send operators looking for a problem that does not exist.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: Haven has slash commands only
            help_command=None,
            intents=intents,
            tree_cls=HavenTree,
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
            # A 429 asking for more than 30 s is raised (discord.RateLimited) instead of slept
            # through, so a scheduled post fails fast as transient and the scheduler waits.
            max_ratelimit_timeout=30.0,
            **sharding,
        )
        self.services = services
        # `identify_interval` is Discord's 5 s; a test restarting clients on an emulator told
        # to expect less may shorten it.
        self.identify_turns = IdentifyTurns(
            services.identify_gate,
            f"{socket.gethostname()}:{os.getpid()}",
            interval=identify_interval,
        )
        # Shards whose guilds have all arrived since their last READY (or that resumed).
        self._ready_shards: set[int] = set()
        self.sync_commands = sync_commands
        self.publisher = (
            DiscordPublisher(self)
            if publish_timeout is None
            else DiscordPublisher(self, timeout=publish_timeout)
        )
        self.directory = DiscordDirectory(self)
        self.refs = ids.ShortLivedStore()
        self.renderer = CardRenderer(self.refs)
        self.admin_group = build_admin_group()
        self.component_handlers: dict[str, ComponentHandler] = {}
        self._extensions = extensions
        self._background: set[asyncio.Task[None]] = set()

    async def setup_hook(self) -> None:
        await self._read_gateway_limits()
        for extension in self._extensions:
            await self.load_extension(extension)
        self.tree.add_command(self.admin_group)
        # Before any sync: the payload (and its hash) carries /support's localisations.
        await self.tree.set_translator(CommandTranslator())
        self.services.register_publisher(self.publisher)
        self.services.register_directory(self.directory)
        # /readyz and /metrics ask this client (a reconnecting run_discord makes a new one).
        self.services.health.register(Platform.DISCORD, self.gateway_status)
        if self.sync_commands:
            try:
                await sync_if_changed(self.tree, self.services.meta)
            except discord.HTTPException as error:
                # The commands already registered keep working; the next start tries again.
                log.error(
                    "Could not sync slash commands (%s %s); run `haven discord sync`",
                    error.status,
                    error.code,
                )

    async def _read_gateway_limits(self) -> None:
        """The IDENTIFY bucket count from GET /gateway/bot, and the shard count when a gateway
        URL is configured: discord.py connects to the URL Discord advertises when it picks the
        count itself, and to DiscordWebSocket.DEFAULT_GATEWAY (which DISCORD_GATEWAY_URL sets)
        only when the count is given, so a configured gateway needs the count fixed here."""
        try:
            recommended, _, limits = await self.http.get_bot_gateway()
        except discord.GatewayNotFound:
            log.warning("GET /gateway/bot failed; assuming one IDENTIFY at a time")
            return
        self.identify_turns.max_concurrency = max(int(limits.get("max_concurrency", 1)), 1)
        if self.shard_count is None and self.services.settings.discord_gateway_url:
            self.shard_count = int(recommended)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Replaces discord.py's 5 s sleep: the bucket's turn is shared with every process.
        await self.identify_turns.wait(shard_id or 0, initial=initial)

    # Per-shard readiness: a new READY starts loading the shard's guilds again; shard_ready
    # says they have all arrived; a resumed shard has lost nothing.
    async def on_shard_connect(self, shard_id: int) -> None:
        self._ready_shards.discard(shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:
        self._ready_shards.add(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._ready_shards.add(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._ready_shards.discard(shard_id)

    def held_shards(self) -> tuple[int, ...]:
        """The shards this process runs (empty until the count is known)."""
        if self.shard_ids is not None:
            return tuple(self.shard_ids)
        return tuple(range(self.shard_count)) if self.shard_count else ()

    async def on_ready(self) -> None:
        # Once per new session (a resumed one does not repeat it): which bot this token is and
        # how many servers it serves, so a wrong token or a missing invite shows at start-up.
        servers = len(self.guilds)
        held = self.held_shards()
        log.info(
            "Connected to Discord as %s (id %s), in %d server%s%s",
            self.user.name if self.user else "?",
            self.user.id if self.user else "?",
            servers,
            "" if servers == 1 else "s",
            f" (shards {shard_list(held)} of {self.shard_count})" if self.shard_count != 1 else "",
        )

    async def gateway_status(self) -> PlatformStatus:
        """Ready when every shard this process holds is connected and has its guilds; which
        shards, and each one's heartbeat round trip, for /readyz and /metrics."""
        held = self.held_shards()
        open_shards = {sid for sid, info in self.shards.items() if not info.is_closed()}
        ready = tuple(sid for sid in held if sid in open_shards and sid in self._ready_shards)
        latencies = {
            sid: info.latency
            for sid, info in self.shards.items()
            if sid in open_shards and math.isfinite(info.latency)
        }
        average = sum(latencies.values()) / len(latencies) if latencies else None

        def status(is_ready: bool, detail: str) -> PlatformStatus:
            return PlatformStatus(
                is_ready,
                detail,
                len(open_shards),
                average,
                shards=held,
                shards_ready=ready,
                shard_count=self.shard_count,
                shard_latencies=latencies,
            )

        if self.is_closed():
            return PlatformStatus(False, "the gateway connection is closed", 0, None, shards=held)
        if not held:
            return status(False, "connecting to the gateway")
        waiting = [sid for sid in held if sid not in ready]
        if waiting:
            return status(
                False, f"connecting to the gateway (shard {shard_list(waiting)} not ready yet)"
            )
        count = f" (shards {shard_list(held)} of {self.shard_count})" if len(held) > 1 else ""
        return status(True, f"connected to the gateway{count}")

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `work` in the background, referenced until done and awaited by `close`
        (a server join must not be cut off half-way by a shutdown)."""
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def close(self) -> None:
        if self._background:
            await asyncio.wait(set(self._background), timeout=SHUTDOWN_GRACE)
        await super().close()

    # ---- shared by the cogs -------------------------------------------------------------

    async def answer(
        self,
        interaction: discord.Interaction,
        work: Awaitable[Card],
        *,
        what: str,
        how: Presentation = NEW_MESSAGE,
    ) -> None:
        await answer_card(interaction, work, self.renderer, what=what, how=how)

    async def run_admin(
        self,
        interaction: discord.Interaction,
        group: str,
        verb: str,
        options: dict[str, Any],
        *,
        how: Presentation = NEW_MESSAGE,
    ) -> None:
        """`/support-admin <group> <verb>` with the options given (None = not given)."""
        given = {k: option_text(v) for k, v in options.items() if v is not None}
        ctx = request_context(interaction)
        await self.answer(
            interaction,
            self.services.router.admin(ctx, group, verb, given),
            what=f"{group} {verb}",
            how=how,
        )

    async def run_verb(
        self, interaction: discord.Interaction, group: str, verb: str, values: dict[str, Any]
    ) -> None:
        """A /support-admin slash command: a form when the core says the call asks for one
        (and Discord can show it), else the command itself. Refusals come from the router."""
        try:
            given = await _options_text(values)
        except HavenError as error:
            await send_card(interaction, error_card(error), self.renderer, what=f"{group} {verb}")
            return
        ctx = request_context(interaction)
        form = await self.services.router.form(ctx, group, verb, given)
        if isinstance(form, Card):
            await send_card(interaction, form, self.renderer, what=f"{group} {verb}")
        elif form is not None and can_show(form):
            await self._open_form(interaction, form)
        else:
            await self.run_admin(interaction, group, verb, given)

    async def _open_form(self, interaction: discord.Interaction, form: FormRequest) -> None:
        try:
            await interaction.response.send_modal(build_modal(form, self.refs))
        except discord.HTTPException as error:
            log.warning(
                "Could not open the %s %s form (Discord %s)", form.group, form.verb, error.code
            )
            await answer_text(
                interaction,
                "I couldn't open the form. Please give the text as the command's options instead.",
                what=f"{form.group} {form.verb}",
            )

    # ---- components and modals ------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type not in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ):
            return
        parsed = ids.parse_id(str(raw_data(interaction).get("custom_id", "")))
        if parsed is None:
            return
        if interaction.type is discord.InteractionType.modal_submit and parsed.kind in (
            ids.FORM,
            ids.FORM_REF,
        ):
            await self._submit_form(interaction, parsed)
            return
        handler = self.component_handlers.get(parsed.kind)
        if handler is None:
            await answer_text(interaction, EXPIRED, what="an old component")
            return
        try:
            await handler(interaction, parsed)
        except Exception as error:
            log_failure(log, f"Handling a {parsed.kind} component", error)
            if not interaction.response.is_done():
                await send_card(interaction, SOMETHING_WENT_WRONG, self.renderer, what=parsed.kind)

    async def _submit_form(self, interaction: discord.Interaction, parsed: ids.ParsedId) -> None:
        form = ids.resolve_form(parsed, self.refs)
        if form is None:
            await answer_text(interaction, EXPIRED, what="an expired form")
            return
        group, verb, carried = form
        values = {k: v for k, v in modal_values(raw_data(interaction)).items() if v.strip()}
        await self.run_admin(interaction, group, verb, {**carried, **values})

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        # discord.py's default prints the event's arguments' repr, which can name people.
        error = sys.exc_info()[1]
        if error is not None:
            log_failure(log, f"Discord event {event_method}", error)


def option_text(value: Any) -> str:
    """A Discord option value as the text the core reads (booleans as yes/no, a channel as
    its mention: the id comes from Discord's picker, so it is one of this server's)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, discord.abc.GuildChannel | discord.Thread):
        return f"<#{value.id}>"
    return str(value)


async def _options_text(values: dict[str, Any]) -> dict[str, str]:
    """The options given, as text; an attached file becomes the `content` and `filename` the
    core reads (as the console's file:PATH does)."""
    given: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, discord.Attachment):
            given["content"], given["filename"] = await _attached_text(value), value.filename
        elif value is not None:
            given[name] = option_text(value)
    return given


async def _attached_text(value: discord.Attachment) -> str:
    """An attached file's text (a pack), refused when too big or not text."""
    if value.size > MAX_PACK_BYTES:
        raise HavenError(
            f"That file is {value.size // 1000} KB; a pack is at most "
            f"{MAX_PACK_BYTES // 1_000_000} MB.",
            "Attach the .yaml or .json file that pack export produced.",
        )
    try:
        return (await value.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise HavenError(
            "That file is not valid UTF-8 text.", "Attach a .yaml or .json pack file."
        ) from None


def create_bot(services: Services, **kwargs: Any) -> HavenBot:
    return HavenBot(services, **kwargs)


class DiscordLoginRejected(HavenError):
    pass


# Reconnect backoff for failures discord.py does not retry itself (login, start-up). Discord
# resets a bot's token after 1000 IDENTIFYs in 24 h, so a crash loop must slow down.
BACKOFF_START = 2.0
BACKOFF_MAX = 300.0
STABLE_AFTER = 120.0


async def run_discord(services: Services, **bot_kwargs: Any) -> None:
    """Serve Discord until cancelled; closes the connection cleanly on the way out."""
    settings = services.settings
    if settings.discord_token is None:
        raise DiscordLoginRejected("DISCORD_TOKEN is not set.", "See .env.example.")
    apply_endpoint_overrides(settings.discord_api_url, settings.discord_gateway_url)
    token = settings.discord_token.reveal()
    delay = BACKOFF_START
    while True:
        bot = create_bot(services, **bot_kwargs)
        started = time.monotonic()
        try:
            await bot.start(token)
            return  # closed on purpose
        except discord.LoginFailure as error:
            raise DiscordLoginRejected(
                "Discord rejected DISCORD_TOKEN.",
                "Copy the bot token again from the Developer Portal (Bot → Reset Token).",
            ) from error
        except (
            discord.HTTPException,
            discord.GatewayNotFound,
            discord.ConnectionClosed,
            aiohttp.ClientError,
            OSError,
            TimeoutError,
        ) as error:
            if isinstance(error, discord.ConnectionClosed) and error.code in (
                INVALID_SHARD,
                SHARDING_REQUIRED,
            ):
                # The same settings would be refused again: stop with what to change.
                raise sharding_refusal(error, settings.discord_shard_count) from None
            if time.monotonic() - started > STABLE_AFTER:
                delay = BACKOFF_START
            log.warning(
                "Discord connection failed (%s); retrying in %.0f s", type(error).__name__, delay
            )
        finally:
            if not bot.is_closed():
                await bot.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, BACKOFF_MAX)
