"""Shard facts shared by the Discord client: how shard ids are written, and the gateway's
refusals of a shard configuration (close codes 4010 and 4011) as one sentence with the fix."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.core.errors import HavenError


def shard_list(ids: Sequence[int]) -> str:
    """[0, 1, 2, 5] -> "0-2, 5": how shard ids are written in logs and readiness."""
    parts: list[str] = []
    ordered = sorted(ids)
    start = 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or ordered[i] != ordered[i - 1] + 1:
            low, high = ordered[start], ordered[i - 1]
            parts.append(str(low) if low == high else f"{low}-{high}")
            start = i
    return ", ".join(parts)


class DiscordShardingRefused(HavenError):
    """Discord closed a shard for its shard settings: starting again would be refused again."""


# Gateway close codes that mean the shard settings are wrong, not that the network failed.
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def sharding_refusal(error: discord.ConnectionClosed, settings_count: int | None) -> HavenError:
    count = f"DISCORD_SHARD_COUNT={settings_count}" if settings_count else "the shard count"
    if error.code == SHARDING_REQUIRED:
        return DiscordShardingRefused(
            f"Discord requires more shards for this bot than {count} (close code 4011: "
            "sharding required).",
            "Raise DISCORD_SHARD_COUNT (--shard-count) in every process to at least what "
            "Discord recommends, or leave it and DISCORD_SHARDS unset so one process runs "
            "as many shards as Discord asks for. See docs/scale.md.",
        )
    return DiscordShardingRefused(
        f"Discord refused shard {error.shard_id} with {count} (close code 4010: invalid shard).",
        "Give every process the same DISCORD_SHARD_COUNT and ids below it (DISCORD_SHARDS, "
        "--shards). See docs/scale.md.",
    )
