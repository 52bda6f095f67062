"""/support-admin message, resource, settings and pack: moderators curate Haven's library.

Each handler only translates: Discord options -> `router.admin(ctx, group, verb, options)` ->
the Card, shown ephemerally. The router checks moderator rights on every call (Manage Server
or a moderator role), whatever Discord's command permissions say. Forms (modals) open when the
main text is missing; their submission runs the same command with the same checks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import autocomplete
from bot.adapters.discord.client import option_text
from bot.adapters.discord.context import request_context
from bot.adapters.discord.forms import MESSAGE_FIELDS, RESOURCE_FIELDS, build_modal
from bot.adapters.discord.responding import answer_text, send_card
from bot.core.cards import Card
from bot.core.commands.router import error_card
from bot.core.errors import HavenError

if TYPE_CHECKING:
    from bot.adapters.discord.client import HavenBot

log = logging.getLogger(__name__)

# A pack file is text; anything bigger than this is not one (the default pack is ~100 KB).
PACK_MAX_BYTES = 2 * 1024 * 1024

PageNumber = app_commands.Range[int, 1, 1000]
Key = app_commands.Range[str, 1, 100]


async def _open_form(interaction: discord.Interaction, modal: discord.ui.Modal, what: str) -> None:
    try:
        await interaction.response.send_modal(modal)
    except discord.HTTPException as error:
        log.warning("Could not open the %s form (Discord %s)", what, error.code)
        await answer_text(
            interaction,
            "I couldn't open the form. Please give the text as the command's options instead.",
            what=what,
        )


class MessageGroup(app_commands.Group, name="message", description="Supportive messages"):
    def __init__(self, bot: HavenBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="add", description="Add a message (without text: opens a form)")
    @app_commands.describe(
        text="The message", topics="Topics, comma separated", locale="Language, e.g. en"
    )
    @app_commands.autocomplete(topics=autocomplete.topics)
    async def add(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, 4000] | None = None,
        topics: str | None = None,
        locale: app_commands.Range[str, 2, 10] | None = None,
    ) -> None:
        if text is None:
            if await self.bot.may_moderate(interaction, "message", "add"):
                carried = {"locale": locale} if locale else {}
                modal = build_modal(
                    "Add a supportive message",
                    "message",
                    "add",
                    MESSAGE_FIELDS,
                    prefill={"topics": topics or ""},
                    carried=carried,
                    store=self.bot.refs,
                )
                await _open_form(interaction, modal, "message add")
            return
        await self.bot.run_admin(
            interaction, "message", "add", {"text": text, "topics": topics, "locale": locale}
        )

    @app_commands.command(name="edit", description="Change a message (without text: opens a form)")
    @app_commands.describe(key="Which message", text="New text", topics="New topics")
    @app_commands.autocomplete(key=autocomplete.message_key, topics=autocomplete.topics)
    async def edit(
        self,
        interaction: discord.Interaction,
        key: Key,
        text: app_commands.Range[str, 1, 4000] | None = None,
        topics: str | None = None,
        locale: app_commands.Range[str, 2, 10] | None = None,
    ) -> None:
        if text is None and topics is None and locale is None:
            await self._edit_form(interaction, key)
            return
        options = {"key": key, "text": text, "topics": topics, "locale": locale}
        await self.bot.run_admin(interaction, "message", "edit", options)

    async def _edit_form(self, interaction: discord.Interaction, key: str) -> None:
        ctx = request_context(interaction)
        try:
            message = await self.bot.services.curation.get_message(ctx, key)
        except HavenError as error:
            await send_card(interaction, error_card(error), self.bot.renderer, what="message edit")
            return
        modal = build_modal(
            f"Edit {message.key}",
            "message",
            "edit",
            MESSAGE_FIELDS,
            prefill={"text": message.text, "topics": ", ".join(message.topics)},
            # The version goes back with the form: a concurrent edit gets "changed since you
            # opened it" instead of being overwritten.
            carried={"key": message.key, "version": str(message.version)},
            store=self.bot.refs,
        )
        await _open_form(interaction, modal, "message edit")

    @app_commands.command(name="list", description="List messages")
    @app_commands.autocomplete(topic=autocomplete.topic)
    async def list_(
        self,
        interaction: discord.Interaction,
        page: PageNumber | None = None,
        topic: str | None = None,
    ) -> None:
        await self.bot.run_admin(interaction, "message", "list", {"page": page, "topic": topic})

    async def _keyed(self, interaction: discord.Interaction, verb: str, key: str) -> None:
        await self.bot.run_admin(interaction, "message", verb, {"key": key})

    @app_commands.command(name="show", description="Show one message")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def show(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "show", key)

    @app_commands.command(name="remove", description="Remove a message (undo brings it back)")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def remove(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "remove", key)

    @app_commands.command(name="history", description="Changes to a message")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def history(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "history", key)

    @app_commands.command(name="undo", description="Undo the last change to a message")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def undo(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "undo", key)

    @app_commands.command(name="enable", description="Show a message again")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def enable(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "enable", key)

    @app_commands.command(name="disable", description="Stop showing a message")
    @app_commands.autocomplete(key=autocomplete.message_key)
    async def disable(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "disable", key)


_RESOURCE_FORM_FIELDS = tuple(field.name for field in RESOURCE_FIELDS)


class ResourceGroup(app_commands.Group, name="resource", description="Helplines and links"):
    def __init__(self, bot: HavenBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="add", description="Add a resource (without title/url: a form)")
    @app_commands.describe(
        title="Name",
        url="https:// link",
        topics="Topics, comma separated",
        regions="Countries (GB, IE) or global",
        phone="Phone, as printed",
        sms="Text line",
        chat="Chat link",
        crisis="A crisis line?",
    )
    @app_commands.autocomplete(topics=autocomplete.topics, regions=autocomplete.regions)
    async def add(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 256] | None = None,
        url: app_commands.Range[str, 1, 512] | None = None,
        topics: str | None = None,
        regions: str | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        phone: str | None = None,
        sms: str | None = None,
        chat: str | None = None,
        email: str | None = None,
        hours: str | None = None,
        crisis: bool | None = None,
        key: Key | None = None,
    ) -> None:
        options = {
            "title": title,
            "url": url,
            "topics": topics,
            "regions": regions,
            "description": description,
            "phone": phone,
            "sms": sms,
            "chat": chat,
            "email": email,
            "hours": hours,
            "crisis": crisis,
            "key": key,
        }
        if title is None or url is None:
            if await self.bot.may_moderate(interaction, "resource", "add"):
                given = {k: option_text(v) for k, v in options.items() if v is not None}
                modal = build_modal(
                    "Add a resource",
                    "resource",
                    "add",
                    RESOURCE_FIELDS,
                    prefill={k: v for k, v in given.items() if k in _RESOURCE_FORM_FIELDS},
                    carried={k: v for k, v in given.items() if k not in _RESOURCE_FORM_FIELDS},
                    store=self.bot.refs,
                )
                await _open_form(interaction, modal, "resource add")
            return
        await self.bot.run_admin(interaction, "resource", "add", options)

    @app_commands.command(name="edit", description="Change a resource (no changes given: a form)")
    @app_commands.describe(key="Which resource", crisis="A crisis line?")
    @app_commands.autocomplete(
        key=autocomplete.resource_key, topics=autocomplete.topics, regions=autocomplete.regions
    )
    async def edit(
        self,
        interaction: discord.Interaction,
        key: Key,
        title: app_commands.Range[str, 1, 256] | None = None,
        url: app_commands.Range[str, 1, 512] | None = None,
        topics: str | None = None,
        regions: str | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        phone: str | None = None,
        sms: str | None = None,
        chat: str | None = None,
        email: str | None = None,
        hours: str | None = None,
        crisis: bool | None = None,
    ) -> None:
        changes = {
            "title": title,
            "url": url,
            "topics": topics,
            "regions": regions,
            "description": description,
            "phone": phone,
            "sms": sms,
            "chat": chat,
            "email": email,
            "hours": hours,
            "crisis": crisis,
        }
        if all(v is None for v in changes.values()):
            await self._edit_form(interaction, key)
            return
        await self.bot.run_admin(interaction, "resource", "edit", {"key": key, **changes})

    async def _edit_form(self, interaction: discord.Interaction, key: str) -> None:
        ctx = request_context(interaction)
        try:
            resource = await self.bot.services.curation.get_resource(ctx, key)
        except HavenError as error:
            await send_card(interaction, error_card(error), self.bot.renderer, what="resource edit")
            return
        modal = build_modal(
            f"Edit {resource.key}",
            "resource",
            "edit",
            RESOURCE_FIELDS,
            prefill={
                "title": resource.title,
                "url": resource.url,
                "topics": ", ".join(resource.topics),
                "regions": ", ".join(resource.regions),
                "description": resource.description,
            },
            carried={"key": resource.key, "version": str(resource.version)},
            store=self.bot.refs,
        )
        await _open_form(interaction, modal, "resource edit")

    @app_commands.command(name="list", description="List resources")
    @app_commands.autocomplete(topic=autocomplete.topic, region=autocomplete.region)
    async def list_(
        self,
        interaction: discord.Interaction,
        page: PageNumber | None = None,
        topic: str | None = None,
        region: str | None = None,
    ) -> None:
        options = {"page": page, "topic": topic, "region": region}
        await self.bot.run_admin(interaction, "resource", "list", options)

    async def _keyed(self, interaction: discord.Interaction, verb: str, key: str) -> None:
        await self.bot.run_admin(interaction, "resource", verb, {"key": key})

    @app_commands.command(name="show", description="Show one resource")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def show(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "show", key)

    @app_commands.command(name="remove", description="Remove a resource (undo brings it back)")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def remove(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "remove", key)

    @app_commands.command(name="history", description="Changes to a resource")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def history(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "history", key)

    @app_commands.command(name="undo", description="Undo the last change to a resource")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def undo(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "undo", key)

    @app_commands.command(name="enable", description="Show a resource (also confirms a review)")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def enable(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "enable", key)

    @app_commands.command(name="disable", description="Stop showing a resource")
    @app_commands.autocomplete(key=autocomplete.resource_key)
    async def disable(self, interaction: discord.Interaction, key: Key) -> None:
        await self._keyed(interaction, "disable", key)


class SettingsGroup(app_commands.Group, name="settings", description="This server's settings"):
    def __init__(self, bot: HavenBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="show", description="Show the settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await self.bot.run_admin(interaction, "settings", "show", {})

    @app_commands.command(name="region", description="Default country for /support")
    @app_commands.describe(region="e.g. GB, or none")
    @app_commands.autocomplete(region=autocomplete.region)
    async def region(self, interaction: discord.Interaction, region: str) -> None:
        await self.bot.run_admin(interaction, "settings", "region", {"region": region})

    @app_commands.command(name="timezone", description="Default time zone for schedules")
    @app_commands.autocomplete(timezone=autocomplete.timezone)
    async def timezone(self, interaction: discord.Interaction, timezone: str) -> None:
        await self.bot.run_admin(interaction, "settings", "timezone", {"timezone": timezone})

    @app_commands.command(name="moderator-roles", description="Roles that may moderate Haven")
    @app_commands.describe(roles="@roles, or none")
    async def moderator_roles(self, interaction: discord.Interaction, roles: str) -> None:
        await self.bot.run_admin(interaction, "settings", "moderator-roles", {"roles": roles})

    @app_commands.command(name="moderator-users", description="People who may moderate Haven")
    @app_commands.describe(users="@people, or none")
    async def moderator_users(self, interaction: discord.Interaction, users: str) -> None:
        await self.bot.run_admin(interaction, "settings", "moderator-users", {"users": users})

    @app_commands.command(name="log-channel", description="Where Haven reports problems")
    @app_commands.describe(channel="#channel, or none")
    async def log_channel(self, interaction: discord.Interaction, channel: str) -> None:
        await self.bot.run_admin(interaction, "settings", "log-channel", {"channel": channel})


class PackGroup(app_commands.Group, name="pack", description="Export or import the library"):
    def __init__(self, bot: HavenBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="export", description="The whole library as a file")
    async def export(
        self, interaction: discord.Interaction, format: Literal["yaml", "json"] = "yaml"
    ) -> None:
        await self.bot.run_admin(interaction, "pack", "export", {"format": format})

    @app_commands.command(name="import", description="Preview a pack file, then confirm")
    @app_commands.describe(file="A pack exported from Haven (.yaml or .json)")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        ctx = request_context(interaction)

        async def work() -> Card:
            if file.size > PACK_MAX_BYTES:
                return error_card(
                    HavenError(
                        f"That file is {file.size // 1024} KB; a pack is at most "
                        f"{PACK_MAX_BYTES // 1024 // 1024} MB.",
                        "Attach the .yaml or .json file that pack export produced.",
                    )
                )
            try:
                content = (await file.read()).decode("utf-8")
            except UnicodeDecodeError:
                return error_card(
                    HavenError("That file is not text.", "Attach a .yaml or .json pack file.")
                )
            options = {"content": content, "filename": file.filename}
            return await self.bot.services.router.admin(ctx, "pack", "import", options)

        await self.bot.answer(interaction, work(), what="pack import")


class CurationCog(commands.Cog):
    """Adds the message, resource, settings and pack groups under /support-admin."""

    def __init__(self, bot: HavenBot) -> None:
        self.bot = bot
        self.groups: list[app_commands.Group] = [
            MessageGroup(bot),
            ResourceGroup(bot),
            SettingsGroup(bot),
            PackGroup(bot),
        ]

    async def cog_load(self) -> None:
        for group in self.groups:
            self.bot.admin_group.add_command(group)

    async def cog_unload(self) -> None:
        for group in self.groups:
            self.bot.admin_group.remove_command(group.name)


async def setup(bot: HavenBot) -> None:
    await bot.add_cog(CurationCog(bot))
