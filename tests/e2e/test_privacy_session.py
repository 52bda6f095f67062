"""Privacy, end to end: a whole `haven run` session serving Discord and Slack at DEBUG, then the
process stopped as a service manager stops it. Who asked, and what they typed, appear in none
of its output and in no byte of the database files it leaves behind: the SQLite file and its
WAL, or on PostgreSQL every file under the server's data directory and the server's log.

The adapter tests check the same guarantee inside the test process (tests/adapters/*/
test_*privacy.py); this one goes by another route: the real composition root and logging
set-up of a separate process, every line it wrote to stdout and stderr, and the files on disk
after the shutdown flush.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.storage.engine import open_url
from tests.conftest import new_postgres_database, stored_bytes
from tests.e2e.test_discord_run import TOKEN as DISCORD_TOKEN
from tests.e2e.test_slack_run import SECRET, _free_port, _signed, _wait_for_port
from tests.e2e.test_slack_run import TOKEN as SLACK_TOKEN
from tests.fakes.fake_discord import EPHEMERAL, FakeDiscord
from tests.fakes.fake_slack import FakeSlack

# Distinctive, so a hit can only be a leak: user ids, user names and typed text.
DISCORD_IDS = [f"73310042{n:010d}" for n in range(1, 6)]
DISCORD_NAMES = [f"wren-private-{n}" for n in range(1, 6)]
SLACK_IDS = [f"U0SECRET{n:03d}" for n in range(1, 6)]
TYPED = "heliotrope-quasar-mist"


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeDiscord, FakeSlack]]:
    async with FakeDiscord(token=DISCORD_TOKEN) as discord, FakeSlack() as slack:
        yield discord, slack


def _database_bytes(tmp_path: Path) -> bytes:
    """haven.db and any -wal / -shm companion, as they sit on disk."""
    files = sorted(p for p in tmp_path.glob("haven.db*") if p.is_file())
    assert files, "the session left a database"
    return b"".join(p.read_bytes() for p in files)


async def test_a_whole_session_on_both_platforms_leaves_no_trace_of_who_asked(
    tmp_path: Path,
    fakes: tuple[FakeDiscord, FakeSlack],
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'haven.db'}"
        if engine == "postgresql":
            server = request.getfixturevalue("postgres_server")
            url = await stack.enter_async_context(new_postgres_database(server))
        await _session(tmp_path, fakes, url, engine, request)


async def _session(
    tmp_path: Path,
    fakes: tuple[FakeDiscord, FakeSlack],
    url: str,
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    discord, slack = fakes
    guild = discord.make_guild("Privacy server")
    identified = asyncio.create_task(discord.wait_for_session("identify", timeout=60))
    port = _free_port()
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "HAVEN_"))
    }
    env = {
        **base,
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_URL": discord.base_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_MODE": "http",
        "SLACK_HTTP_PORT": str(port),
        "SLACK_API_URL": slack.api_url,
        "HAVEN_DATABASE_URL": url,
        # The most verbose setting an operator has for Haven's own logs.
        "HAVEN_LOG_LEVEL": "DEBUG",
    }
    # Files, not pipes: DEBUG output must never fill a pipe buffer and stall the process.
    out_path, err_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=out, stderr=err
        )
    discord_answers: list[dict[str, Any]] = []
    slack_answers: list[dict[str, Any]] = []
    try:
        await _wait_for_port(port, process)
        await identified
        for user_id, name in zip(DISCORD_IDS, DISCORD_NAMES, strict=True):
            user = discord.make_user(name, user_id)
            for options in ({"topic": "coming-out", "region": "GB"}, {"topic": TYPED}):
                handle = await discord.dispatch_command("support", options, guild=guild, user=user)
                discord_answers.append(await handle.response(timeout=10))
            typing = await discord.dispatch_autocomplete(
                "support", {"topic": TYPED[:9]}, "topic", guild=guild, user=user
            )
            await typing.response(timeout=10)
        # A DM (no server) too.
        direct = await discord.dispatch_command(
            "support", {"topic": "crisis"}, user=discord.make_user(DISCORD_NAMES[0], DISCORD_IDS[0])
        )
        discord_answers.append(await direct.response(timeout=10))
        async with aiohttp.ClientSession() as session:
            for user_id in SLACK_IDS:
                for text in ("crisis US", f"{TYPED} GB"):
                    body = urlencode(slack.slash_command("/support", text, user_id=user_id))
                    async with session.post(
                        f"http://127.0.0.1:{port}/slack/events", data=body, headers=_signed(body)
                    ) as response:
                        assert response.status == 200
                        slack_answers.append(await response.json())
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    logs = err_path.read_text("utf-8") + out_path.read_text("utf-8")
    assert process.returncode == 0, logs

    # The requests were served (so there was something to leak) ...
    assert len(discord_answers) == 2 * len(DISCORD_IDS) + 1
    assert all(answer["data"]["flags"] & EPHEMERAL for answer in discord_answers)
    assert len(slack_answers) == 2 * len(SLACK_IDS)
    assert all(answer["response_type"] == "ephemeral" for answer in slack_answers)
    # ... and Haven flushed its usage counts at shutdown.
    assert "This process runs the scheduler" in logs
    database = await open_url(url)
    try:
        row = await database.fetch_one("SELECT COALESCE(SUM(count), 0) FROM usage_daily")
    finally:
        await database.close()
    assert row is not None and row[0] > 0, "usage aggregates were written"

    if engine == "sqlite":
        stored = _database_bytes(tmp_path)
    else:
        stored = await stored_bytes(database, request, tmp_path)
    # The scan does see what Haven stored: the server's community row.
    assert f"discord:{guild['id']}".encode() in stored
    for user_id in DISCORD_IDS:
        assert user_id not in logs
        assert user_id.encode() not in stored
        assert int(user_id).to_bytes(8, "big") not in stored  # nor as an INTEGER column
    for name in DISCORD_NAMES:
        assert name not in logs.lower()
        assert name.encode() not in stored
    for user_id in SLACK_IDS:
        assert user_id not in logs
        assert user_id.encode() not in stored
    assert TYPED not in logs
    assert TYPED.encode() not in stored
    assert TYPED[:9] not in logs  # what was being typed into the autocomplete
