"""What run_slack reports for /readyz: not connected until it is, connected over Socket Mode
while the socket is up, serving /slack/events on its own port in HTTP mode, and not ready once
it has stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.adapters.slack.app import run_slack
from bot.app import open_services
from bot.core.models import Platform
from tests.adapters.slack.conftest import slack_settings
from tests.conftest import FixedClock
from tests.e2e.test_slack_run import _free_port
from tests.fakes.fake_slack import FakeSlack


async def test_socket_mode_is_ready_only_while_connected(tmp_path: Path, fake: FakeSlack) -> None:
    settings = slack_settings(tmp_path, fake, slack_mode="socket")
    async with open_services(settings, clock=FixedClock()) as services:
        before = await services.health.check()
        task = asyncio.create_task(run_slack(services))
        try:
            await fake.wait_for_socket()
            async with asyncio.timeout(5):
                while not (during := await services.health.check()).ready:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        after = await services.health.check()

    assert before.reasons == ("Slack: not connected yet",)
    assert during.platforms[Platform.SLACK].detail == "connected over Socket Mode"
    assert after.reasons == ("Slack: the Slack adapter has stopped",)


async def test_http_mode_on_its_own_port_reports_that_port(tmp_path: Path, fake: FakeSlack) -> None:
    port = _free_port()
    settings = slack_settings(tmp_path, fake, slack_http_port=port)
    async with open_services(settings, clock=FixedClock()) as services:
        task = asyncio.create_task(run_slack(services))
        try:
            async with asyncio.timeout(5):
                while not (ready := await services.health.check()).ready:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        stopped = await services.health.check()

    assert not stopped.ready
    assert ready.platforms[Platform.SLACK].detail == f"serving /slack/events on port {port}"
