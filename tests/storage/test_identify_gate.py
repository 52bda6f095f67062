"""The IDENTIFY gate on both engines: a bucket's turn is taken once, held for its time, and two
handles racing for a free bucket (two processes) never both win."""

from __future__ import annotations

import asyncio

from bot.storage.database import SqlDatabase
from bot.storage.identify_gate import SqlIdentifyGate
from tests.conftest import reopen


async def test_a_turn_is_held_for_its_time_then_free(db: SqlDatabase) -> None:
    gate = SqlIdentifyGate(db)
    assert await gate.take(0, "a", 100.0, 5.0) is None
    # Held: the answer is when the holder's turn ends, for anyone, the holder too.
    assert await gate.take(0, "b", 103.0, 5.0) == 105.0
    assert await gate.take(0, "a", 104.9, 5.0) == 105.0
    # Another bucket is its own turn.
    assert await gate.take(1, "b", 103.0, 5.0) is None
    assert await gate.take(0, "b", 105.0, 5.0) is None
    assert await gate.take(0, "a", 106.0, 5.0) == 110.0


async def test_a_slightly_later_clock_arriving_first_still_holds_the_turn(
    db: SqlDatabase,
) -> None:
    # Two processes ask together; the one whose clock read later reaches the database first.
    gate = SqlIdentifyGate(db)
    assert await gate.take(0, "later", 100.002, 5.0) is None
    assert await gate.take(0, "earlier", 100.0, 5.0) == 105.002


async def test_a_turn_from_a_clock_far_ahead_is_taken_over(db: SqlDatabase) -> None:
    gate = SqlIdentifyGate(db)
    assert await gate.take(0, "ahead", 3700.0, 5.0) is None  # a clock an hour fast
    assert await gate.take(0, "b", 100.0, 5.0) is None  # not an hour's wait
    assert await gate.take(0, "c", 101.0, 5.0) == 105.0


async def test_two_handles_racing_for_a_free_bucket_have_one_winner(db: SqlDatabase) -> None:
    other = await reopen(db)
    try:
        gates = [SqlIdentifyGate(db), SqlIdentifyGate(other)]
        for round_at in (100.0, 200.0, 300.0):
            results = await asyncio.gather(
                *(g.take(0, f"p{i}", round_at, 5.0) for i, g in enumerate(gates))
            )
            assert sorted(r is None for r in results) == [False, True]
            assert [r for r in results if r is not None] == [round_at + 5.0]
    finally:
        await other.close()
