"""Fixtures for the Slack adapter: the emulator, real services on real SQLite, the real Bolt app
served over loopback HTTP, and a sender that signs real form bodies exactly as Slack does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.slack.app import SlackRuntime, assemble, http_app
from bot.adapters.slack.render import iter_texts
from bot.app import open_services
from bot.services import Services
from bot.settings import Secret, Settings
from tests.conftest import FixedClock
from tests.fakes.fake_slack import TEAM_ID, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-fake-haven-test-bot-token"
APP_TOKEN = "xapp-1-A0HAVEN-1234-abcdef"
ADMIN = "U0ADMIN"
MEMBER = "U0MEMBER"


@dataclass
class Reply:
    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.text)
        return data


class SignedSender:
    """Posts form bodies to the Bolt endpoint, signed with `v0:{ts}:{body}` like Slack."""

    def __init__(self, url: str, secret: str, fake: FakeSlack, session: aiohttp.ClientSession):
        self.url = url
        self.secret = secret
        self.fake = fake
        self.session = session

    def sign(self, body: str, timestamp: str, secret: str | None = None) -> str:
        key = (secret or self.secret).encode()
        digest = hmac.new(key, f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
        return f"v0={digest}"

    async def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> Reply:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.sign(body, ts),
            **(headers or {}),
        }
        async with self.session.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return Reply(resp.status, await resp.text(), dict(resp.headers))

    async def command(self, command: str = "/support", text: str = "", **fields: Any) -> Reply:
        return await self.post(urlencode(self.fake.slash_command(command, text, **fields)))

    async def interactive(self, payload: Mapping[str, Any]) -> Reply:
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    async def event(self, event: Mapping[str, Any], **headers: str) -> Reply:
        body = json.dumps(self.fake.event_callback(event))
        return await self.post(body, content_type="application/json", headers=headers)


def slack_settings(tmp_path: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_path": tmp_path / "haven.db",
        "slack_bot_token": Secret(BOT_TOKEN),
        "slack_app_token": Secret(APP_TOKEN),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_api_url": fake.api_url,
        "slack_mode": "http",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as emulator:
        emulator.add_user(ADMIN, is_admin=True, name="Ada Admin")
        emulator.add_user(MEMBER, name="Mo Member")
        yield emulator


@pytest.fixture
async def services(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Services]:
    async with open_services(slack_settings(tmp_path, fake), clock=FixedClock()) as built:
        yield built


@pytest.fixture
async def runtime(services: Services) -> AsyncIterator[SlackRuntime]:
    built = assemble(services)
    services.register_publisher(built.publisher)
    services.register_directory(built.directory)
    try:
        yield built
    finally:
        await built.listeners.aclose()


@pytest.fixture
async def slack(runtime: SlackRuntime, fake: FakeSlack) -> AsyncIterator[SignedSender]:
    """The real Bolt app on 127.0.0.1:<free port>, and a signed sender pointed at it."""
    runner = web.AppRunner(http_app(runtime.app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        yield SignedSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, fake, session)
    await runner.cleanup()


def community_id() -> str:
    return f"slack:{TEAM_ID}"


def texts_of(payload: dict[str, Any]) -> str:
    """Every text of a Block Kit answer, one per line."""
    return "\n".join(text for _, text in iter_texts(payload.get("blocks") or []))


def field_of(payload: dict[str, Any], name: str) -> str:
    """The value of the card field labelled `name` (rendered as "*Name*\nvalue")."""
    for block in payload["blocks"]:
        for shown in block.get("fields") or []:
            label, _, value = shown["text"].partition("\n")
            if label == f"*{name}*":
                return str(value)
    raise AssertionError(f"no field {name} in {payload}")
