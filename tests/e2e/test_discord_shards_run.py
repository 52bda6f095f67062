"""`haven run --shards 1 --shard-count 2` as a subprocess: the flags reach the client, which
identifies only shard 1, answers only shard 1's guilds, and says so on /readyz."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord

TOKEN = "e2e-discord-token-0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _ready(url: str, within: float = 40.0) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, asyncio.timeout(within):
        while True:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        body: dict[str, Any] = await response.json()
                        return body
            except aiohttp.ClientError:
                pass  # not listening yet
            await asyncio.sleep(0.2)


async def test_haven_run_serves_only_its_slice(tmp_path: Path) -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        mine = fake.make_guild("Shard one", on_shard=(1, 2))
        theirs = fake.make_guild("Shard zero", on_shard=(0, 2))
        port = _free_port()
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DISCORD_", "HAVEN_"))
        }
        env = {
            **base,
            "HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}",
            "HAVEN_HTTP_PORT": str(port),
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_URL": fake.base_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            # The command line wins over the environment.
            "DISCORD_SHARDS": "0",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--shards",
            "1",
            "--shard-count",
            "2",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            try:
                ready = await _ready(f"http://127.0.0.1:{port}/readyz")
            except TimeoutError:
                process.send_signal(signal.SIGTERM)
                _, err = await process.communicate()
                raise AssertionError("never ready:\n" + err.decode()) from None
            shown = ready["platforms"]["discord"]
            assert (shown["shards"], shown["shard_count"]) == ([1], 2)
            assert [(r.shard_id, r.shard_count) for r in fake.identifies] == [(1, 2)]
            handle = await fake.dispatch_command("support", guild=mine)
            assert (await handle.response(timeout=10))["data"]["flags"] & EPHEMERAL
            unserved = await fake.dispatch_command("support", guild=theirs)
            await asyncio.sleep(0.5)
            assert unserved.callback_body is None  # shard 0 is another process's
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 30)
        logs = err.decode() + out.decode()
        assert process.returncode == 0, logs
        assert "Traceback" not in logs, logs
        assert "(shards 1 of 2)" in logs
