"""`haven run` itself, as a subprocess in Slack HTTP mode with SLACK_API_URL at the emulator,
answers a correctly signed /support end to end, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.fakes.fake_slack import FakeSlack

SECRET = "e2e-signing-secret-0123456789"
TOKEN = "xoxb-1111-2222-e2etoken"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as emulator:
        yield emulator


async def _start(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    # A clean environment: no .env or settings file from the developer's checkout.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    base = {k: v for k, v in base.items() if not k.startswith("HAVEN_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={**base, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _wait_for_port(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            break
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    _out, err = await process.communicate()
    raise AssertionError(f"haven run did not start listening:\n{err.decode()}")


async def test_haven_run_answers_a_signed_support_in_http_mode(
    tmp_path: Path, fake: FakeSlack
) -> None:
    port = _free_port()
    process = await _start(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(port),
            "SLACK_API_URL": fake.api_url,
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
            "HAVEN_LOG_LEVEL": "INFO",
        },
    )
    try:
        await _wait_for_port(port, process)
        body = urlencode(fake.slash_command("/support", "crisis GB", user_id="U0E2EASKER"))
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=_signed(body)
            ) as response:
                status, answer = response.status, await response.json()
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events",
                data=body,
                headers={**_signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
            ) as forged:
                forged_status = forged.status
        assert status == 200
        assert answer["response_type"] == "ephemeral"
        assert answer["blocks"][0]["text"]["text"] == "Crisis right now"
        assert "999" in str(answer["blocks"])
        assert forged_status == 401
        # The token was checked once at start-up, at the SLACK_API_URL given, with the token.
        [check] = fake.calls_to("auth.test")
        assert check.token == TOKEN
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    logs = err.decode() + out.decode()
    assert process.returncode == 0, logs
    assert "Traceback" not in logs
    # The one expected warning besides the forged request: this first run creates the database.
    expected = ("WARNING bot.adapters.slack.app: Rejected", "WARNING bot.cli: Creating a new")
    assert [
        line
        for line in logs.splitlines()
        if "WARNING" in line and not any(e in line for e in expected)
    ] == []
    assert "Connected to Slack as haven, in workspace Haven Test (HTTP mode)" in logs
    assert f"port {port}" in logs
    assert TOKEN not in logs and SECRET not in logs
    assert "U0E2EASKER" not in logs
    assert "Rejected a Slack request with a bad signature" in logs


async def test_haven_run_stops_with_a_sentence_when_slack_rejects_the_token(
    tmp_path: Path, fake: FakeSlack
) -> None:
    fake.fail("auth.test", "invalid_auth")
    process = await _start(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(_free_port()),
            "SLACK_API_URL": fake.api_url,
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
        },
    )
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in err.decode()
    assert "Traceback" not in err.decode()
    assert TOKEN not in err.decode()
