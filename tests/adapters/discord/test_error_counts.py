"""An unexpected failure in a Discord handler is counted by exception type, and the
interaction by command with outcome "error", through the real client and the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord.client import HavenBot
from bot.app import open_services
from bot.metrics import PrometheusMetrics
from bot.settings import Secret, Settings
from tests.adapters.discord.conftest import LogGuard, start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_failing_discord_handler_counts_an_error_by_type(
    fake: FakeDiscord,
    guild: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    log_guard: LogGuard,
) -> None:
    metrics = PrometheusMetrics()
    settings = Settings(database_path=tmp_path / "h.db", discord_token=Secret("fake-token"))
    async with open_services(settings, metrics=metrics) as services:

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("storage exploded")

        monkeypatch.setattr(services.router, "support", broken)
        log_guard.expect_error(r"^Answering /support failed \(RuntimeError\)")
        bot = HavenBot(services, guild_ready_timeout=0.05)
        task = await start_client(bot)
        try:
            handle = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
            await handle.response()
        finally:
            await stop_client(bot, task)

    assert value(metrics, "haven_errors_total", kind="RuntimeError") == 1
    assert (
        value(
            metrics,
            "haven_interactions_total",
            platform="discord",
            command="support",
            outcome="error",
        )
        == 1
    )
