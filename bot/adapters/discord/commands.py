"""The slash-command tree's shape: the /support-admin group, the payload and its hash.

Syncing the tree on every start gets bots rate-limited (200 command creates per day per guild,
and every sync is a write), so Haven syncs at start-up only when the hash of the payload it would
send differs from the hash stored after the last successful sync (`haven discord sync` forces it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Protocol

import discord
from discord import app_commands

log = logging.getLogger(__name__)

TREE_HASH_KEY = "discord.command_tree_hash"
ADMIN_COMMAND = "support-admin"


class MetaStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


def build_admin_group() -> app_commands.Group:
    """`/support-admin`: servers only, guild installs only, Manage Server by default.

    default_member_permissions is only what Discord shows by default (server admins can
    override it); the core checks moderator rights on every call regardless.
    """
    return app_commands.Group(
        name=ADMIN_COMMAND,
        description="Moderators: Haven's messages, resources, schedules and settings",
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )


async def tree_payload(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """Exactly what `tree.sync()` would PUT for the global commands, localisations included
    (discord.py runs the tree's translator the same way), so a changed translation syncs."""
    translator = tree.translator
    if translator is None:
        return [command.to_dict(tree) for command in tree.get_commands()]
    return [
        await command.get_translated_payload(tree, translator) for command in tree.get_commands()
    ]


def payload_hash(payload: list[dict[str, Any]], application_id: int | None) -> str:
    # The application id is part of it: pointing Haven at another application must sync.
    canonical = json.dumps(
        sorted(payload, key=lambda c: str(c.get("name"))), sort_keys=True, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{application_id or 0}:{digest}"


async def sync_if_changed(tree: app_commands.CommandTree[Any], meta: MetaStore) -> bool:
    """Sync the global tree if it changed since the last sync; True if it synced."""
    current = payload_hash(await tree_payload(tree), tree.client.application_id)
    if await meta.get(TREE_HASH_KEY) == current:
        log.info("Slash commands unchanged since the last sync; not syncing")
        return False
    await tree.sync()
    await meta.set(TREE_HASH_KEY, current)
    log.info("Slash commands synced with Discord")
    return True


async def sync_now(
    tree: app_commands.CommandTree[Any], meta: MetaStore, guild_id: int | None
) -> int:
    """Sync on demand; a guild sync copies the global commands there (instant, for testing)."""
    if guild_id is None:
        synced = await tree.sync()
        payload = await tree_payload(tree)
        await meta.set(TREE_HASH_KEY, payload_hash(payload, tree.client.application_id))
        return len(synced)
    guild = discord.Object(id=guild_id)
    tree.copy_global_to(guild=guild)
    return len(await tree.sync(guild=guild))
