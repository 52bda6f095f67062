"""Real `haven run` processes for end-to-end tests: start, wait until ready, kill, read logs.

Each process gets a clean environment (nothing from the developer's `.env`, settings file or
shell), its own working folder and HTTP port, and writes its output to a file (a pipe nobody
reads would fill up and stall a long-running process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiohttp


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
