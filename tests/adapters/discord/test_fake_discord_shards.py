"""The emulator's shard and global-budget contract, checked with raw gateway sockets and the
real discord.py HTTP client (no Haven code): what Discord does, the emulator does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.adapters.discord.conftest import start_client, stop_client
from tests.fakes.fake_discord import FakeDiscord, shard_of

Socket = aiohttp.ClientWebSocketResponse


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def connect(http: aiohttp.ClientSession, fake: FakeDiscord) -> Socket:
    ws = await http.ws_connect(fake.gateway_url)  # no compress=zlib-stream: text frames
    hello = await ws.receive_json(timeout=5)
    assert hello["op"] == 10
    return ws


async def identify(ws: Socket, fake: FakeDiscord, shard: list[int] | None) -> None:
    data: dict[str, Any] = {"token": fake.token, "intents": 1, "properties": {}}
    if shard is not None:
        data["shard"] = shard
    await ws.send_json({"op": 2, "d": data})


async def frames(ws: Socket, within: float = 0.3) -> list[dict[str, Any]]:
    """Every frame that arrives within `within` seconds."""
    got: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(within):
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    got.append(json.loads(msg.data))
    except TimeoutError:
        pass
    return got


def events(got: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [f["d"] for f in got if f.get("t") == name]


async def test_gateway_bot_says_the_recommended_shards_and_buckets(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord(recommended_shards=4, max_concurrency=2) as fake:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.api_url}/gateway/bot", headers=headers) as response:
            body = await response.json()
    assert body["url"] == fake.gateway_url
    assert body["shards"] == 4
    limits = body["session_start_limit"]
    assert limits["max_concurrency"] == 2
    assert {"total", "remaining", "reset_after"} <= set(limits)


@pytest.mark.parametrize(
    ("shard", "required", "code", "outcome"),
    [
        ([2, 2], False, 4010, "invalid_shard"),
        ([-1, 2], False, 4010, "invalid_shard"),
        ([0, 1], True, 4011, "sharding_required"),
        (None, True, 4011, "sharding_required"),
    ],
)
async def test_a_wrong_shard_is_closed_with_discords_code(
    http: aiohttp.ClientSession,
    shard: list[int] | None,
    required: bool,
    code: int,
    outcome: str,
) -> None:
    async with FakeDiscord(recommended_shards=2, require_sharding=required) as fake:
        ws = await connect(http, fake)
        await identify(ws, fake, shard)
        await frames(ws, 1.0)
        assert ws.close_code == code
        (record,) = fake.identifies
        assert record.outcome == outcome
        assert not fake.connected


async def test_a_second_identify_in_a_bucket_within_5_s_is_an_invalid_session(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord(max_concurrency=2) as fake:
        first, other_bucket, same_bucket = [await connect(http, fake) for _ in range(3)]
        await identify(first, fake, [0, 4])
        await identify(other_bucket, fake, [1, 4])  # bucket 1: its own turn
        await identify(same_bucket, fake, [2, 4])  # bucket 0 again at once
        assert events(await frames(first), "READY")[0]["shard"] == [0, 4]
        assert events(await frames(other_bucket), "READY")[0]["shard"] == [1, 4]
        assert await frames(same_bucket) == [{"op": 9, "d": False}]
        assert [(r.shard_id, r.outcome) for r in fake.identifies] == [
            (0, "ready"),
            (1, "ready"),
            (2, "invalid_session"),
        ]
        assert fake.connected_shards == {0, 1}
        gaps = fake.identify_gaps()
        assert gaps[0][0] < 5.0 and gaps[1] == []  # what a test of the rule reads


async def test_guild_events_go_to_their_shard_and_dms_to_shard_0(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord(max_concurrency=2) as fake:
        guilds = [fake.make_guild(f"Guild {i}") for i in range(6)]
        # Fresh ids spread over the shards (their high bits differ), and on_shard picks one.
        assert {shard_of(g["id"], 2) for g in guilds} == {0, 1}
        chosen = fake.make_guild("On shard 1", on_shard=(1, 2))
        assert shard_of(chosen["id"], 2) == 1
        fake.global_commands = [{"id": "1", "name": "ping", "type": 1, "options": []}]
        sockets = [await connect(http, fake) for _ in range(2)]
        for shard_id, ws in enumerate(sockets):
            await identify(ws, fake, [shard_id, 2])
        first = [await frames(ws) for ws in sockets]
        for shard_id, got in enumerate(first):
            expected = {g["id"] for g in fake.guilds.values() if shard_of(g["id"], 2) == shard_id}
            assert {g["id"] for g in events(got, "READY")[0]["guilds"]} == expected
            assert {g["id"] for g in events(got, "GUILD_CREATE")} == expected

        await fake.dispatch_command("ping", guild=chosen)
        await fake.dispatch_command("ping")  # in the bot's DM
        zero, one = [events(await frames(ws), "INTERACTION_CREATE") for ws in sockets]
        assert [i.get("guild_id") for i in one] == [chosen["id"]]
        assert [i.get("guild_id") for i in zero] == [None]

        joined = await fake.add_guild("Joined", on_shard=(0, 2))
        zero, one = [events(await frames(ws), "GUILD_CREATE") for ws in sockets]
        assert [g["id"] for g in zero] == [joined["id"]] and one == []


async def test_unsharded_identify_is_shard_0_of_1_and_gets_everything(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord() as fake:
        guilds = [fake.make_guild(f"Guild {i}") for i in range(3)]
        ws = await connect(http, fake)
        await identify(ws, fake, None)
        got = await frames(ws)
        assert events(got, "READY")[0]["shard"] == [0, 1]
        assert len(events(got, "GUILD_CREATE")) == len(guilds)
        assert fake.identifies[0].sharded is False


async def test_the_global_budget_refuses_with_via_and_exempts_interactions(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeDiscord(global_rate_limit=5) as fake:
        headers = {"Authorization": f"Bot {fake.token}"}

        async def get() -> aiohttp.ClientResponse:
            async with http.get(f"{fake.api_url}/users/@me", headers=headers) as response:
                await response.read()
                return response

        answers = await asyncio.gather(*(get() for _ in range(12)))
        refused = [r for r in answers if r.status == 429]
        assert sum(r.status == 200 for r in answers) == 5 and len(refused) == 7
        sample = refused[0]
        assert sample.headers["X-RateLimit-Global"] == "true"
        assert sample.headers["Via"] == "1.1 google"
        assert 0 < float(sample.headers["Retry-After"]) <= 1.0
        assert fake.global_refusals == 7
        assert fake.busiest_second() == 5
        assert sum(fake.per_second_counts().values()) == 5
        # An interaction callback is outside the budget: answered (here 10062), not 429.
        async with http.post(
            f"{fake.api_url}/interactions/1/tok/callback", json={"type": 4}
        ) as response:
            assert response.status == 404


class Poster(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, guild_ready_timeout=0.05, max_messages=None)


async def test_discord_py_waits_out_a_global_429_and_posts_each_message_once(
    fake: FakeDiscord,
) -> None:
    guild = fake.make_guild()
    fake.global_rate_limit = 3
    client = Poster()
    task = await start_client(client)
    try:
        channel = client.get_channel(int(fake.channel_id(guild)))
        assert isinstance(channel, discord.TextChannel)
        for n in range(7):
            await channel.send(f"post {n}", nonce=f"slot-{n}")
    finally:
        await stop_client(client, task)
    posted = [m["content"] for m in fake.messages[fake.channel_id(guild)]]
    assert posted == [f"post {n}" for n in range(7)]
    assert fake.global_refusals >= 1
    assert fake.busiest_second() <= 3


async def test_one_shard_can_be_dropped_alone(http: aiohttp.ClientSession) -> None:
    async with FakeDiscord(max_concurrency=2) as fake:
        sockets = [await connect(http, fake) for _ in range(2)]
        for shard_id, ws in enumerate(sockets):
            await identify(ws, fake, [shard_id, 2])
            await frames(ws, 0.1)
        await fake.drop_connections(shard=1)
        await frames(sockets[1], 0.5)
        assert sockets[1].close_code == 4000
        assert not sockets[0].closed
        assert fake.connected_shards == {0}
