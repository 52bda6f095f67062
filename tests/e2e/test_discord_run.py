"""`haven run` itself, as a subprocess with DISCORD_API_URL / DISCORD_GATEWAY_URL at the
emulator, logs in, syncs once, answers /support end to end and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord

TOKEN = "e2e-discord-token-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as emulator:
        yield emulator


async def _start(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    # A clean environment: no .env or settings file from the developer's checkout.
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "HAVEN_"))
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={**base, "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode() + out.decode()


async def test_haven_run_answers_support(fake: FakeDiscord, tmp_path: Path) -> None:
    guild = fake.make_guild("E2E server")
    asker = fake.make_user("e2e-asker", "555444333222111000")
    identified = asyncio.create_task(fake.wait_for_session("identify", timeout=60))
    process = await _start(
        tmp_path,
        {
            "DISCORD_TOKEN": TOKEN,
            # The REST base as a rate-limit proxy is usually given: host only, Haven adds /api/v10.
            "DISCORD_API_URL": fake.base_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
        },
    )
    try:
        try:
            await identified
        except TimeoutError:
            raise AssertionError("haven run never identified:\n" + await _stop(process)) from None
        await fake.wait_for("PUT", r"^/applications/\d+/commands$", timeout=30)
        handle = await fake.dispatch_command(
            "support", {"topic": "coming-out", "region": "GB"}, guild=guild, user=asker
        )
        body = await handle.response(timeout=10)
        assert body["type"] == 4
        assert body["data"]["flags"] & EPHEMERAL
        assert body["data"]["embeds"][0]["title"] == "Coming out"
    finally:
        logs = await _stop(process)
    assert process.returncode == 0, logs
    assert "Traceback" not in logs, logs
    assert TOKEN not in logs
    assert asker["id"] not in logs
    assert handle.token not in logs
    assert fake.identify_count == 1
    assert len(fake.requests_to("PUT", r"/commands$")) == 1


async def test_rejected_token_stops_with_a_clear_sentence(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    process = await _start(
        tmp_path,
        {
            "DISCORD_TOKEN": "not-the-right-token-000",
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
        },
    )
    _out, err = await asyncio.wait_for(process.communicate(), 60)
    logs = err.decode()
    assert process.returncode != 0
    assert "Discord rejected DISCORD_TOKEN" in logs
    assert "Traceback" not in logs, "one readable sentence, not a stack trace"
    assert "not-the-right-token-000" not in logs
    assert fake.identify_count == 0
