"""Asking for help never leaves a trace of who asked: not in the database, not in the logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import component_ids as ids
from bot.adapters.discord.client import HavenBot
from tests.adapters.discord.conftest import LogGuard, component
from tests.fakes.fake_discord import FakeDiscord

ASKER_ID = "987654321987654321"
ASKER_NAME = "quinn-privacy-7731"


def database_bytes(path: Path) -> bytes:
    """The database file and its WAL/shared-memory companions, as they sit on disk."""
    return b"".join(
        p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()
    )


async def test_burst_of_support_requests_leaves_no_trace(
    fake: FakeDiscord,
    haven: HavenBot,
    guild: dict[str, Any],
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Haven's own loggers at DEBUG: even the most verbose operator setting must not leak.
    for name in ("bot", "cogs"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    asker = fake.make_user(ASKER_NAME, ASKER_ID)
    tokens = []
    for topic, region in [("coming-out", "GB"), ("crisis", None), ("harassment", "US")] * 10:
        options = {"topic": topic, **({"region": region} if region else {})}
        handle = await fake.dispatch_command("support", options, guild=guild, user=asker)
        await handle.response()
        tokens.append(handle.token)
    auto = await fake.dispatch_autocomplete(
        "support", {"topic": "c"}, "topic", guild=guild, user=asker
    )
    await auto.response()
    assert handle.message is not None
    menu = component(handle.message, ids.TOPIC_SELECT)
    picked = await fake.dispatch_component(
        handle.message, menu["custom_id"], values=["general"], guild=guild, user=asker
    )
    await picked.response()
    dm = component(handle.message, ids.DM_COPY)
    copied = await fake.dispatch_component(handle.message, dm["custom_id"], guild=guild, user=asker)
    await copied.followup()
    # A DM request too (no server).
    direct = await fake.dispatch_command("support", {"topic": "crisis"}, user=asker)
    await direct.response()

    await haven.services.support.flush()  # usage aggregates and rotation are written now
    stored = database_bytes(haven.services.settings.database_path)
    assert stored, "the database exists"
    assert ASKER_ID.encode() not in stored
    assert int(ASKER_ID).to_bytes(8, "big") not in stored  # nor as an INTEGER column
    assert ASKER_NAME.encode() not in stored

    logged = log_guard.text()
    assert logged, "something was logged"
    assert ASKER_ID not in logged
    assert ASKER_NAME not in logged.lower()
    for token in tokens:
        assert token not in logged
