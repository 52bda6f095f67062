"""`haven run` with SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET: the real
process serves Bolt's install page and redirect next to /slack/events on HAVEN_HTTP_PORT, a
workspace installs and is answered, it stops cleanly, and the client secret is never logged."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.e2e.test_slack_run import SECRET, _free_port, _signed, _start, _wait_for_port
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as emulator:
        yield emulator


async def test_haven_run_serves_the_oauth_flow_on_its_one_port(
    tmp_path: Path, fake: FakeSlack
) -> None:
    port = _free_port()
    process = await _start(
        tmp_path,
        {
            "SLACK_CLIENT_ID": fake.client_id,
            "SLACK_CLIENT_SECRET": fake.client_secret,
            "SLACK_SIGNING_SECRET": SECRET,
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
                    async with session.get(f"{base}/slack/install") as response:
                        if response.status == 200:
                            cookie = SimpleCookie(response.headers["Set-Cookie"])
                            break
                    await asyncio.sleep(0.05)
            state = cookie["slack-app-oauth-state"].value
            code = fake.issue_code("TRUN", "Run Team")
            async with session.get(
                f"{base}/slack/oauth_redirect?code={code}&state={state}",
                headers={"Cookie": f"slack-app-oauth-state={state}"},
            ) as response:
                installed = (response.status, await response.text())
            body = urlencode(fake.slash_command("/support", "coming-out GB", team_id="TRUN"))
            async with session.post(
                f"{base}/slack/events", data=body, headers=_signed(body)
            ) as response:
                answer = await response.json()
            async with session.get(f"{base}/readyz") as response:
                ready = await response.json()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    logs = err.decode() + out.decode()
    assert process.returncode == 0, logs
    assert installed[0] == 200 and "Haven is installed" in installed[1], installed
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == "Coming out"
    assert ready["platforms"]["slack"]["ready"] is True
    assert "Slack: serving /slack/install and /slack/oauth_redirect" in logs
    assert "Slack: installed in workspace TRUN" in logs
    assert "Traceback" not in logs
    assert fake.client_secret not in logs
