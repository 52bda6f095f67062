"""Slack unreachable at start-up: one warning per back-off step, growing, never a traceback;
once Slack answers, one line saying who Haven is connected as."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack import app as slack_app
from bot.adapters.slack.app import bolt_logger, run_slack
from bot.app import open_services
from tests.adapters.slack.conftest import slack_settings
from tests.conftest import FixedClock
from tests.fakes.fake_slack import FakeSlack


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


def _unreachable(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("Slack is unreachable")]


async def test_an_unreachable_slack_is_one_line_per_growing_back_off_step(
    tmp_path: Path,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack_app, "BACKOFF_START", 0.05)
    caplog.set_level(logging.INFO)
    api_url = f"http://127.0.0.1:{_closed_port()}/api/"
    settings = slack_settings(tmp_path, fake, slack_mode="socket", slack_api_url=api_url)
    async with open_services(settings, clock=FixedClock()) as services:
        task = asyncio.create_task(run_slack(services))
        try:
            async with asyncio.timeout(30):
                while len(_unreachable(caplog)) < 3:  # noqa: ASYNC110 - waiting on its logs
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    steps = [r.getMessage() for r in _unreachable(caplog)][:3]
    assert steps == [
        f"Slack is unreachable at {api_url} (Connection refused); retrying in {delay} s"
        for delay in ("0.05", "0.1", "0.2")
    ]
    assert all(r.levelno == logging.WARNING for r in _unreachable(caplog))
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text
    assert fake.socket_connections == 0


async def test_once_slack_answers_haven_connects_and_says_as_whom(
    tmp_path: Path,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack_app, "BACKOFF_START", 0.05)
    caplog.set_level(logging.INFO)
    fake.fail("apps.connections.open", status=503, times=2)
    settings = slack_settings(tmp_path, fake, slack_mode="socket")
    async with open_services(settings, clock=FixedClock()) as services:
        task = asyncio.create_task(run_slack(services))
        try:
            await fake.wait_for_socket(within=10)
            async with asyncio.timeout(5):
                while "Connected to Slack" not in caplog.text:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert [r.getMessage() for r in _unreachable(caplog)] == [
        f"Slack is unreachable at {fake.api_url} (apps.connections.open: http_503); "
        f"retrying in {delay} s"
        for delay in ("0.05", "0.1")
    ]
    connected = [r.getMessage() for r in caplog.records if "Connected to Slack" in r.getMessage()]
    assert connected == ["Connected to Slack as haven, in workspace Haven Test (Socket Mode)"]
    # The token was checked once; only the connection URL was asked for again.
    assert len(fake.calls_to("auth.test")) == 1
    assert len(fake.calls_to("apps.connections.open")) == 3


class _Key:
    """The parts of aiohttp's ConnectionKey that ClientConnectorError's message reads."""

    ssl = True
    host = "wss-primary.slack.com"
    port = 443


def test_the_socket_mode_clients_own_reconnect_failure_is_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # What slack_sdk's Socket Mode client logs (logger.exception) on each failed reconnect.
    logger = bolt_logger()
    refused = ConnectionRefusedError(111, "Connect call failed")
    try:
        raise aiohttp.ClientConnectorError(_Key(), refused)  # type: ignore[arg-type]
    except aiohttp.ClientConnectorError as error:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.exception(f"Failed to connect (error: {error}); Retrying...")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage().startswith(
        "Slack Socket Mode: reconnecting failed (ClientConnectorError: Cannot connect to host "
        "wss-primary.slack.com:443"
    )
    assert "Traceback" not in caplog.text
