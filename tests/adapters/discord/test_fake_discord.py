"""The emulator's contract, checked with a bare, real discord.py client (no Haven code).

If these pass, a failure in the Haven tests is Haven's, not the emulator's.
"""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands

from tests.adapters.discord.conftest import eventually, start_client, stop_client
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord


class BareClient(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, guild_ready_timeout=0.05, max_messages=None)
        self.tree = app_commands.CommandTree(self)
        self.joined: list[int] = []
        self.removed: list[int] = []

        @self.tree.command(name="ping", description="Answer pong")
        @app_commands.describe(word="A word to echo")
        async def ping(interaction: discord.Interaction, word: str = "pong") -> None:
            await interaction.response.send_message(word, ephemeral=True)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.joined.append(guild.id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.removed.append(guild.id)


@pytest.mark.parametrize("zlib_stream", [True, False], ids=["zlib-stream", "text-frames"])
async def test_login_sync_interaction(fake: FakeDiscord, zlib_stream: bool) -> None:
    fake.zlib_stream = zlib_stream
    guild = fake.make_guild("Peer support")
    client = BareClient()
    task = await start_client(client)
    try:
        assert client.application_id == int(fake.application_id)
        assert client.user is not None and client.user.id == int(fake.bot_user["id"])
        assert [g.id for g in client.guilds] == [int(guild["id"])]
        assert fake.identify_count == 1
        login = fake.requests_to("GET", r"^/users/@me$")
        assert login and login[0].headers["Authorization"] == "Bot fake-token"

        await client.tree.sync()
        (ping,) = fake.global_commands
        assert ping["name"] == "ping"
        assert ping["options"][0]["name"] == "word"

        handle = await fake.dispatch_command("ping", {"word": "hello"}, guild=guild)
        body = await handle.response()
        assert body["type"] == 4
        assert body["data"]["content"] == "hello"
        assert body["data"]["flags"] & EPHEMERAL
        callback = await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback")
        assert callback.query["with_response"] == "1"
    finally:
        await stop_client(client, task)


async def test_reconnect_resumes_and_replays_missed_events(fake: FakeDiscord) -> None:
    client = BareClient()
    task = await start_client(client)
    try:
        await client.tree.sync()
        resumed = asyncio.create_task(fake.wait_for_session("resume"))
        await asyncio.sleep(0)
        await fake.request_reconnect()
        # Dispatched while the client is reconnecting: it must arrive exactly once, live or
        # replayed on RESUME.
        guild = await fake.add_guild("Joined during reconnect")
        await resumed
        assert fake.resume_count == 1
        assert fake.identify_count == 1
        assert fake.resume_urls == [fake.resume_gateway_url]
        await eventually(lambda: int(guild["id"]) in client.joined)
        assert client.joined == [int(guild["id"])]

        handle = await fake.dispatch_command("ping", {}, guild=guild)
        assert (await handle.response())["data"]["content"] == "pong"

        await fake.remove_guild(guild["id"])
        await eventually(lambda: int(guild["id"]) in client.removed)
        assert client.get_guild(int(guild["id"])) is None
    finally:
        await stop_client(client, task)


async def test_messages_nonce_faults_and_dms(fake: FakeDiscord) -> None:
    guild = fake.make_guild()
    client = BareClient()
    task = await start_client(client)
    try:
        channel_id = int(fake.channel_id(guild))
        channel = client.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)

        first = await channel.send("hi", nonce="slot-1")
        again = await channel.send("hi", nonce="slot-1")
        assert first.id == again.id
        assert len(fake.messages[str(channel_id)]) == 1
        body = fake.requests_to("POST", r"/messages$")[0].json
        assert body["nonce"] == "slot-1" and body["enforce_nonce"] is True

        fake.fail("POST", r"/channels/\d+/messages", 403, 50013, "Missing Permissions")
        with pytest.raises(discord.Forbidden) as forbidden:
            await channel.send("x")
        assert forbidden.value.code == 50013

        fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.01)
        await channel.send("after a 429")
        assert [r.status for r in fake.requests_to("POST", r"/messages$")][-2:] == [429, 200]

        fake.rate_limit("POST", r"/channels/\d+/messages", retry_after=0.01, via=False)
        with pytest.raises(discord.HTTPException) as banned:
            await channel.send("cloudflare")
        assert banned.value.status == 429

        too_long = discord.Embed(description="x" * 4097)
        with pytest.raises(discord.HTTPException) as invalid:
            await channel.send(embed=too_long)
        assert invalid.value.code == 50035

        user = fake.make_user("someone")
        dm = await client.create_dm(discord.Object(int(user["id"])))  # type: ignore[arg-type]
        await dm.send("hello")
        assert fake.dm_messages(user["id"])[0]["content"] == "hello"
        fake.dms_closed.add(user["id"])
        with pytest.raises(discord.Forbidden) as closed:
            await dm.send("hello again")
        assert closed.value.code == 50007

        fake.delete_channel(str(channel_id))
        with pytest.raises(discord.NotFound) as gone:
            await channel.send("gone")
        assert gone.value.code == 10003
    finally:
        await stop_client(client, task)


async def test_late_answer_is_unknown_interaction(fake: FakeDiscord) -> None:
    fake.response_deadline = 0.0  # every answer arrives "after 3 s"
    guild = fake.make_guild()
    client = BareClient()
    errors: list[BaseException] = []

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        errors.append(error.__cause__ or error)

    client.tree.on_error = on_error  # type: ignore[method-assign]
    task = await start_client(client)
    try:
        await client.tree.sync()
        await fake.dispatch_command("ping", {}, guild=guild)
        await fake.wait_for("POST", r"/callback$")
        await eventually(lambda: errors)
        assert isinstance(errors[0], discord.NotFound) and errors[0].code == 10062
    finally:
        await stop_client(client, task)
