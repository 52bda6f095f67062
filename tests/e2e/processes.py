"""Real `haven run` processes for end-to-end tests: start, wait until ready, kill, read logs.

Each process gets a clean environment (nothing from the developer's `.env`, settings file or
shell), its own working folder and HTTP port, and writes its output to a file (a pipe nobody
reads would fill up and stall a long-running process).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.storage.migrate import migrate
from bot.storage.postgres import PostgresDatabase
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_slack import FakeSlack

# Tokens and secret the emulators accept; nothing here is a real credential.
DISCORD_TOKEN = "e2e-discord-token-many-processes"
SLACK_TOKEN = "xoxb-1111-2222-e2etoken"
SLACK_SECRET = "e2e-signing-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """The test's own environment without any Haven, Discord or Slack setting, plus `extra`."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "HAVEN_"))
    }
    return {**base, **extra}


class HavenProcess:
    """One `haven run` with its own folder, HTTP port and log file."""

    def __init__(
        self, name: str, folder: Path, env: Mapping[str, str], args: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.folder = folder
        self.port = free_port()
        self.env = clean_environment(
            {**env, "HAVEN_HTTP_PORT": str(self.port), "HAVEN_LOG_LEVEL": "INFO"}
        )
        self.args = list(args)
        self.log_path = folder / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0

    async def start(self) -> HavenProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                *self.args,
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}{path}") as response,
        ):
            return response.status, await response.text()

    async def wait_ready(self, within: float = 60.0) -> None:
        """Until /readyz answers 200 (database reachable, this process's platforms ready)."""
        deadline = time.monotonic() + within
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.running:
                raise AssertionError(f"{self.name} exited before it was ready:\n{self.logs()}")
            try:
                status, body = await self.get("/readyz")
            except aiohttp.ClientError as error:
                last = repr(error)
            else:
                if status == 200:
                    return
                last = f"{status} {body}"
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready after {within:.0f} s ({last}):\n{self.logs()}")

    def kill(self) -> None:
        """kill -9: no cleanup, no lease release, as a crashed machine would."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM (as systemd stops it), then SIGKILL if it does not end in time."""
        if self.process is None:
            return 0
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), within)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode


def guild_id_on_shard(shard: int, n: int, shard_count: int) -> str:
    """A snowflake whose shard is `shard`: Discord routes a guild by (id >> 22) % count."""
    timestamp_part = (1_000_000 + n * shard_count + shard) << 22
    return str(timestamp_part | (n & 0xFFF))


@dataclass
class Cluster:
    """Haven as a host runs it: Discord shard slices in separate processes and one Slack-only
    process, all on one PostgreSQL database, against the two emulators."""

    discord: FakeDiscord
    slack: FakeSlack
    database_url: str
    shard_processes: list[HavenProcess]
    slack_process: HavenProcess | None
    guilds: list[dict[str, Any]]
    shard_count: int

    @property
    def processes(self) -> list[HavenProcess]:
        return [*self.shard_processes, *([self.slack_process] if self.slack_process else [])]

    def shard_of(self, guild: Mapping[str, Any]) -> int:
        return (int(guild["id"]) >> 22) % self.shard_count


@asynccontextmanager
async def haven_cluster(
    folder: Path,
    database_url: str,
    *,
    shard_slices: Sequence[Sequence[int]],
    shard_count: int,
    guilds_per_shard: int,
    channels_per_guild: int,
    slack_channels: int,
    slack_process: bool = True,
    global_rate_limit: int | None = 50,
    lease_seconds: int | None = None,
) -> AsyncIterator[Cluster]:
    """Start the emulators, migrate the database, start every process at the same moment (the
    IDENTIFY bucket rule must hold across them) and wait until each is ready; stop them all
    with SIGTERM afterwards. `lease_seconds`: every process's HAVEN_SCHEDULER_LEASE_SECONDS
    (None: Haven's default)."""
    async with (
        FakeDiscord(
            token=DISCORD_TOKEN, max_concurrency=1, global_rate_limit=global_rate_limit
        ) as discord,
        FakeSlack() as slack,
    ):
        guilds = [
            discord.make_guild(
                f"Guild {shard}-{n}",
                guild_id=guild_id_on_shard(shard, n, shard_count),
                channels=["general", *(f"c{index}" for index in range(channels_per_guild))],
            )
            for shard in range(shard_count)
            for n in range(guilds_per_shard)
        ]
        for index in range(slack_channels):
            slack.add_channel(f"C{index:04d}", f"posts-{index}")
        database = await PostgresDatabase.open(database_url)
        try:
            await migrate(database)
        finally:
            await database.close()
        lease = (
            {} if lease_seconds is None else {"HAVEN_SCHEDULER_LEASE_SECONDS": str(lease_seconds)}
        )
        discord_env = {
            **lease,
            "HAVEN_DATABASE_URL": database_url,
            "DISCORD_TOKEN": DISCORD_TOKEN,
            "DISCORD_API_URL": discord.base_url,
            "DISCORD_GATEWAY_URL": discord.gateway_url,
        }
        shard_processes = [
            HavenProcess(
                f"shards-{'-'.join(map(str, shards))}",
                folder / f"shards-{'-'.join(map(str, shards))}",
                discord_env,
                ["--shards", ",".join(map(str, shards)), "--shard-count", str(shard_count)],
            )
            for shards in shard_slices
        ]
        slack_only = (
            HavenProcess(
                "slack",
                folder / "slack",
                {
                    **lease,
                    "HAVEN_DATABASE_URL": database_url,
                    "SLACK_BOT_TOKEN": SLACK_TOKEN,
                    "SLACK_SIGNING_SECRET": SLACK_SECRET,
                    "SLACK_MODE": "http",
                    "SLACK_API_URL": slack.api_url,
                },
            )
            if slack_process
            else None
        )
        cluster = Cluster(
            discord, slack, database_url, shard_processes, slack_only, guilds, shard_count
        )
        try:
            await asyncio.gather(*(process.start() for process in cluster.processes))
            await asyncio.gather(*(process.wait_ready(90) for process in cluster.processes))
            yield cluster
        finally:
            for process in cluster.processes:
                with contextlib.suppress(ProcessLookupError):
                    await process.stop()
