"""10062 (unknown interaction) and 40060 (already acknowledged): never retried, counted by code,
and a warning once their rate passes 0.5 % — through the real discord.py client and the
emulator, with the counts read over HTTP from /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.adapters.discord import responding
from bot.adapters.discord.client import HavenBot
from bot.app import open_services
from bot.metrics import PrometheusMetrics
from bot.services import Services
from bot.settings import Secret, Settings
from bot.web import HavenWeb
from tests.adapters.discord.conftest import LogGuard, eventually, start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord, InteractionHandle

RATE_WARNING = "interactions with"


@pytest.fixture
async def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
async def counted_services(tmp_path: Path, metrics: PrometheusMetrics) -> AsyncIterator[Services]:
    settings = Settings(database_path=tmp_path / "haven.db", discord_token=Secret("fake-token"))
    async with open_services(settings, metrics=metrics) as opened:
        yield opened


@pytest.fixture
async def counted_haven(
    fake: FakeDiscord, counted_services: Services, guild: dict[str, Any]
) -> AsyncIterator[HavenBot]:
    bot = HavenBot(counted_services, guild_ready_timeout=0.05, publish_timeout=1.0)
    task = await start_client(bot)
    try:
        yield bot
    finally:
        await stop_client(bot, task)


async def scrape(services: Services, metrics: PrometheusMetrics) -> dict[tuple[str, str], float]:
    """GET /metrics from a real server: {(sample name, sorted labels): value}."""
    server = HavenWeb(services.health, metrics, port=0)
    await server.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/metrics") as response,
        ):
            assert response.status == 200
            text = await response.text()
    finally:
        await server.stop()
    samples: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[(sample.name, labels)] = sample.value
    return samples


async def burst(
    fake: FakeDiscord, guild: dict[str, Any], total: int, refused: dict[int, int]
) -> list[InteractionHandle]:
    """`total` /support interactions in waves of 100; before wave i, `refused[i]` callbacks
    are armed to be refused (so failures are spread through the burst, not bunched)."""
    handles: list[InteractionHandle] = []
    # These tests count the refusals they arm. Discord's 3 s answer deadline is not theirs to
    # test (the emulator's own tests and the late-answer tests do), and on a loaded machine a
    # wave of 100 can pass it: an unarmed 10062 would then be counted as well.
    fake.response_deadline = 60.0
    for wave in range(total // 100):
        code = refused.get(wave)
        if code:
            fake.refuse_callbacks(code)
        sent = [
            fake.dispatch_command("support", {"topic": "crisis"}, guild=guild) for _ in range(100)
        ]
        wave_handles = await asyncio.gather(*sent)
        for handle in wave_handles:
            await eventually(lambda h=handle: h.callback_body is not None or h.refusals > 0)
        handles.extend(wave_handles)
    return handles


def rate_warnings(log_guard: LogGuard) -> list[str]:
    return [
        r.getMessage()
        for r in log_guard.records
        if r.levelno == logging.WARNING and RATE_WARNING in r.getMessage()
    ]


@pytest.mark.parametrize("code", [10062, 40060])
async def test_one_percent_failing_warns_and_is_counted_by_code(
    fake: FakeDiscord,
    counted_haven: HavenBot,
    counted_services: Services,
    metrics: PrometheusMetrics,
    guild: dict[str, Any],
    log_guard: LogGuard,
    code: int,
) -> None:
    handles = await burst(fake, guild, 1000, {wave: code for wave in range(10)})

    refused = [h for h in handles if h.refused_with is not None]
    assert len(refused) == 10
    # Never retried: each refused interaction saw exactly one callback and no follow-up.
    assert all(h.refusals == 1 and not h.followups for h in refused)
    warnings = rate_warnings(log_guard)
    assert len(warnings) == 1, warnings  # once when it crossed, not once per failure
    assert str(code) in warnings[0] and "0.5 %" in warnings[0]
    samples = await scrape(counted_services, metrics)
    assert samples[("haven_discord_interaction_failures_total", f"code={code}")] == 10
    outcome = "unknown_interaction" if code == 10062 else "already_acknowledged"
    assert (
        samples[("haven_interactions_total", f"command=support,outcome={outcome},platform=discord")]
        == 10
    )
    assert (
        samples[("haven_interactions_total", "command=support,outcome=ok,platform=discord")] == 990
    )


async def test_a_tenth_of_a_percent_is_counted_without_a_warning(
    fake: FakeDiscord,
    counted_haven: HavenBot,
    counted_services: Services,
    metrics: PrometheusMetrics,
    guild: dict[str, Any],
    log_guard: LogGuard,
) -> None:
    handles = await burst(fake, guild, 1000, {5: 10062})

    assert sum(1 for h in handles if h.refused_with is not None) == 1
    assert rate_warnings(log_guard) == []
    samples = await scrape(counted_services, metrics)
    assert samples[("haven_discord_interaction_failures_total", "code=10062")] == 1
    assert samples[("haven_discord_interaction_failures_total", "code=40060")] == 0


async def test_a_refused_defer_is_not_followed_by_another_callback(
    fake: FakeDiscord,
    counted_haven: HavenBot,
    counted_services: Services,
    metrics: PrometheusMetrics,
    guild: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow answer defers; if the defer itself is refused (the interaction arrived too late),
    nothing else is sent for it: no "something went wrong", no second callback."""
    monkeypatch.setattr(responding, "DEFER_AFTER", 0.01)
    real = counted_services.router.support

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.2)
        return await real(*args, **kwargs)

    monkeypatch.setattr(counted_services.router, "support", slow)
    fake.refuse_callbacks(10062)
    handle = await fake.dispatch_command("support", {"topic": "crisis"}, guild=guild)
    failures = ("haven_discord_interaction_failures_total", "code=10062")
    await eventually(lambda: metrics.registry.get_sample_value(failures[0], {"code": "10062"}))
    await asyncio.sleep(0.3)  # time for a wrong retry to arrive

    assert handle.refusals == 1
    assert handle.callback_body is None and not handle.followups
    assert fake.requests_to("POST", rf"/interactions/{handle.id}/") != []
    assert len(fake.requests_to("POST", rf"/interactions/{handle.id}/")) == 1
    samples = await scrape(counted_services, metrics)
    assert samples[failures] == 1
