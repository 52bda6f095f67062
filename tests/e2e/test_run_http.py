"""`haven run` with HAVEN_HTTP_PORT: one port serves /healthz, /readyz, /metrics and Slack's
/slack/events (SLACK_HTTP_PORT is then not opened), and `haven status` reads the same facts
from the database, while Haven runs and after it stopped."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.test_cli import haven
from tests.e2e.test_slack_run import SECRET, TOKEN, _free_port, _signed, _start, _wait_for_port
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as emulator:
        yield emulator


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def test_one_port_serves_health_metrics_and_slack(tmp_path: Path, fake: FakeSlack) -> None:
    port, slack_port = _free_port(), _free_port()
    process = await _start(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(slack_port),
            "SLACK_API_URL": fake.api_url,
            "HAVEN_HTTP_PORT": str(port),
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
            "HAVEN_LOG_LEVEL": "INFO",
        },
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_for_port(port, process)
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(20):
                while True:
                    async with session.get(f"{base}/readyz") as response:
                        ready = await response.json()
                    if response.status == 200 and ready["scheduler"] == "holder":
                        break
                    await asyncio.sleep(0.05)
            async with session.get(f"{base}/healthz") as response:
                health = response.status
            body = urlencode(fake.slash_command("/support", "coming-out GB"))
            async with session.post(
                f"{base}/slack/events", data=body, headers=_signed(body)
            ) as response:
                answer = await response.json()
            async with session.get(f"{base}/metrics") as response:
                metrics = await response.text()
        slack_port_open = _listening(slack_port)
        running = await asyncio.to_thread(haven, tmp_path, "status")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    logs = err.decode() + out.decode()
    assert process.returncode == 0, logs
    assert health == 200
    assert ready["platforms"]["slack"]["ready"] is True
    assert answer["response_type"] == "ephemeral"
    assert (
        'haven_interactions_total{command="support",outcome="ok",platform="slack"} 1.0' in metrics
    )
    assert 'haven_scheduler_holder{platform="slack"} 1.0' in metrics
    assert 'platform="discord"' not in metrics.split("haven_scheduler_holder")[-1]
    assert not slack_port_open, "SLACK_HTTP_PORT was opened although Haven's server serves Slack"
    assert "Slack: serving /slack/events on Haven's HTTP server" in logs
    assert "Traceback" not in logs

    assert running.returncode == 0, running.stderr
    assert "): held by " in running.stdout and "last heartbeat" in running.stdout
    assert "Communities: 1 active, 0 removed" in running.stdout
    stopped = await asyncio.to_thread(haven, tmp_path, "status")
    assert "no process holds a lease" in stopped.stdout, stopped.stdout


async def test_without_haven_http_port_slack_keeps_its_own_port(
    tmp_path: Path, fake: FakeSlack
) -> None:
    slack_port = _free_port()
    process = await _start(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_MODE": "http",
            "SLACK_HTTP_PORT": str(slack_port),
            "SLACK_API_URL": fake.api_url,
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
        },
    )
    try:
        await _wait_for_port(slack_port, process)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{slack_port}/metrics") as response:
                metrics_status = response.status
            body = urlencode(fake.slash_command("/support", "crisis"))
            async with session.post(
                f"http://127.0.0.1:{slack_port}/slack/events", data=body, headers=_signed(body)
            ) as response:
                answer = await response.json()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert metrics_status == 404  # Slack's own server serves only /slack/events
    assert answer["response_type"] == "ephemeral"
