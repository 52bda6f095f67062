"""The emulator itself, against a bare Bolt app: if Bolt's wire behaviour moves in an upgrade,
these fail first (the contract the adapter tests rely on)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.adapters.slack.conftest import APP_TOKEN, SIGNING_SECRET, SignedSender
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
async def bare(fake: FakeSlack) -> AsyncIterator[tuple[AsyncApp, SignedSender]]:
    app = AsyncApp(
        client=AsyncWebClient(token="xoxb-bare", base_url=fake.api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    @app.command("/support")
    async def support(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack(text=f"got {command['text']}", response_type="ephemeral")
        await respond(text="follow-up", response_type="ephemeral")

    runner = web.AppRunner(app.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        yield (
            app,
            SignedSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET, fake, session),
        )
    await runner.cleanup()


async def test_signed_http_command_reaches_bolt_and_response_url(
    bare: tuple[AsyncApp, SignedSender], fake: FakeSlack
) -> None:
    _, sender = bare
    url = fake.new_response_url()
    reply = await sender.command("/support", "hello there", response_url=url)
    assert reply.status == 200
    assert reply.json == {"text": "got hello there", "response_type": "ephemeral"}
    [posted] = await fake.wait_for_posts(url)
    assert posted["text"] == "follow-up"
    # Bolt's single-token authorization asked auth.test once, with the bot token.
    [auth] = fake.calls_to("auth.test")
    assert auth.token == "xoxb-bare"


async def test_bad_signature_is_refused_before_any_api_call(
    bare: tuple[AsyncApp, SignedSender], fake: FakeSlack
) -> None:
    _, sender = bare
    body = "command=%2Fsupport&text=x&team_id=T1&user_id=U1"
    reply = await sender.post(body, signature="v0=" + "0" * 64)
    assert reply.status == 401
    assert fake.calls == []


async def test_socket_mode_round_trip(bare: tuple[AsyncApp, SignedSender], fake: FakeSlack) -> None:
    app, _ = bare
    handler = AsyncSocketModeHandler(app, app_token=APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket()
        ack = await fake.send_envelope("slash_commands", fake.slash_command(text="via socket"))
        assert ack["payload"] == {"text": "got via socket", "response_type": "ephemeral"}
        assert fake.app_tokens_seen == [APP_TOKEN]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_faults_are_injected_per_method(fake: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-x", base_url=fake.api_url, retry_handlers=[])
    fake.add_channel("C1", "general")
    fake.fail("chat.postMessage", status=429, retry_after=3)
    fake.fail("chat.postMessage", "is_archived")
    fake.fail("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="a")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "3"
    with pytest.raises(SlackApiError) as archived:
        await client.chat_postMessage(channel="C1", text="a")
    assert archived.value.response["error"] == "is_archived"
    with pytest.raises(SlackApiError) as down:
        await client.chat_postMessage(channel="C1", text="a")
    assert down.value.response.status_code == 503
    ok = await client.chat_postMessage(channel="C1", text="a")
    assert ok["ok"] and ok["channel"] == "C1"
    with pytest.raises(SlackApiError) as missing:
        await client.chat_postMessage(channel="C404", text="a")
    assert missing.value.response["error"] == "channel_not_found"
