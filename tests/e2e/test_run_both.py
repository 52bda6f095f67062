"""`haven run` with Discord and Slack both configured: one process serves both platforms and
runs exactly one scheduler."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.test_discord_run import TOKEN as DISCORD_TOKEN
from tests.e2e.test_slack_run import SECRET, _free_port, _signed, _start, _wait_for_port
from tests.e2e.test_slack_run import TOKEN as SLACK_TOKEN
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeDiscord, FakeSlack]]:
    async with FakeDiscord(token=DISCORD_TOKEN) as discord, FakeSlack() as slack:
        yield discord, slack


async def test_one_process_serves_discord_and_slack_with_one_scheduler(
    tmp_path: Path, fakes: tuple[FakeDiscord, FakeSlack]
) -> None:
    discord, slack = fakes
    guild = discord.make_guild("Both server")
    identified = asyncio.create_task(discord.wait_for_session("identify", timeout=60))
    port = _free_port()
    process = await _start(
        tmp_path,
        {
            "DISCORD_TOKEN": DISCORD_TOKEN,
            "DISCORD_API_URL": discord.base_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(port),
            "SLACK_API_URL": slack.api_url,
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
            "HAVEN_LOG_LEVEL": "INFO",
        },
    )
    try:
        await _wait_for_port(port, process)
        await identified
        handle = await discord.dispatch_command(
            "support", {"topic": "coming-out", "region": "GB"}, guild=guild
        )
        discord_answer = await handle.response(timeout=10)
        body = urlencode(slack.slash_command("/support", "coming-out GB"))
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=_signed(body)
            ) as response,
        ):
            slack_answer = await response.json()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    logs = err.decode() + out.decode()
    assert process.returncode == 0, logs
    assert discord_answer["data"]["flags"] & EPHEMERAL
    assert discord_answer["data"]["embeds"][0]["title"] == "Coming out"
    assert slack_answer["response_type"] == "ephemeral"
    assert "Coming out" in str(slack_answer["blocks"][0])
    assert logs.count("This process runs the scheduler") == 1, logs
    assert "Discord: on, Slack: on" in logs
    assert "Traceback" not in logs
