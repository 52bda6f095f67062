"""IdentifyTurns: the wait before each IDENTIFY, over the real gate on both engines, and what
happens when the database stops answering."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from bot.adapters.discord.identify import IdentifyTurns
from bot.storage.database import Database, SqlDatabase
from bot.storage.identify_gate import SqlIdentifyGate
from bot.storage.migrate import migrate
from tests.adapters.discord.conftest import LogGuard
from tests.conftest import reopen

INTERVAL, MARGIN = 0.3, 0.05


async def test_a_bucket_mate_in_another_process_waits_for_the_turn(db: SqlDatabase) -> None:
    other = await reopen(db)
    try:
        first = IdentifyTurns(SqlIdentifyGate(db), "a", interval=INTERVAL, margin=MARGIN)
        second = IdentifyTurns(SqlIdentifyGate(other), "b", interval=INTERVAL, margin=MARGIN)
        went: list[tuple[str, float]] = []

        async def go(turns: IdentifyTurns, name: str, shard_id: int) -> None:
            await turns.wait(shard_id, initial=True)
            went.append((name, time.monotonic()))

        await asyncio.gather(go(first, "a", 0), go(second, "b", 1))
        (_, earlier), (_, later) = went
        # initial=True does not skip the turn: the first shard of a process waits as well.
        assert later - earlier >= INTERVAL
    finally:
        await other.close()


async def test_buckets_are_shard_id_modulo_max_concurrency(db: SqlDatabase) -> None:
    turns = IdentifyTurns(SqlIdentifyGate(db), "a", interval=INTERVAL, margin=MARGIN)
    turns.max_concurrency = 2
    started = time.monotonic()
    await turns.wait(0, initial=True)
    await turns.wait(1, initial=False)  # bucket 1: at once
    assert time.monotonic() - started < INTERVAL
    await turns.wait(2, initial=False)  # bucket 0 again: after the turn
    assert time.monotonic() - started >= INTERVAL + MARGIN


@pytest.mark.sqlite_only
async def test_an_unreachable_database_falls_back_to_the_local_wait_and_says_so_once(
    tmp_path: Path, log_guard: LogGuard
) -> None:
    db = await Database.open(tmp_path / "haven.db")
    try:
        await migrate(db)
        (tmp_path / "haven.db").unlink()  # every write is now refused
        log_guard.expect_error(r"^The database file .* was deleted")
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        turns = IdentifyTurns(SqlIdentifyGate(db), "a", sleep=sleep)
        await turns.wait(0, initial=True)
        await turns.wait(1, initial=False)
        await turns.wait(2, initial=False)
    finally:
        await db.close()
    # discord.py's own rule: the first shard at once, each later one 5 s after.
    assert slept == [5.0, 5.0]
    warnings = [
        r
        for r in log_guard.records
        if r.levelno == logging.WARNING and "IDENTIFY turns" in r.getMessage()
    ]
    assert len(warnings) == 1
