"""The handled-events ledger on both engines: first claim wins, a finished event is never
claimed again, a failed one is, an abandoned claim is taken over, old rows are pruned; and
DeliveryLedger runs a handler once across two handles (two processes) on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.deliveries import Delivery, DeliveryLedger
from bot.storage.database import SqlDatabase
from bot.storage.event_ledger import SqlEventLedger
from tests.conftest import FixedClock, reopen

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
STALE = NOW - timedelta(seconds=60)


async def test_the_first_claim_wins_and_a_finished_event_stays_handled(db: SqlDatabase) -> None:
    ledger = SqlEventLedger(db)
    assert await ledger.claim("Ev1", NOW, STALE)
    assert not await ledger.claim("Ev1", NOW, STALE)  # being handled right now
    await ledger.finish("Ev1")
    later = NOW + timedelta(hours=2)
    assert not await ledger.claim("Ev1", later, later - timedelta(seconds=60))


async def test_a_released_claim_is_claimed_again(db: SqlDatabase) -> None:
    ledger = SqlEventLedger(db)
    assert await ledger.claim("Ev1", NOW, STALE)
    await ledger.release("Ev1")
    assert await ledger.claim("Ev1", NOW, STALE)


async def test_an_abandoned_claim_is_taken_over_once_stale(db: SqlDatabase) -> None:
    ledger = SqlEventLedger(db)
    assert await ledger.claim("Ev1", NOW, STALE)
    soon = NOW + timedelta(seconds=30)
    assert not await ledger.claim("Ev1", soon, soon - timedelta(seconds=60))
    late = NOW + timedelta(seconds=61)
    assert await ledger.claim("Ev1", late, late - timedelta(seconds=60))


async def test_old_events_are_pruned(db: SqlDatabase) -> None:
    ledger = SqlEventLedger(db)
    await ledger.claim("old", NOW - timedelta(days=2), STALE)
    await ledger.claim("new", NOW, STALE)
    assert await ledger.prune(NOW - timedelta(days=1)) == 1
    rows = await db.fetch_all("SELECT event_id FROM handled_events")
    assert [r[0] for r in rows] == ["new"]


async def test_two_processes_handle_one_event_once(db: SqlDatabase) -> None:
    other = await reopen(db)
    try:
        runs: list[str] = []
        gate = asyncio.Event()
        started = asyncio.Event()

        async def handle(name: str) -> None:
            runs.append(name)
            started.set()
            await gate.wait()

        first = DeliveryLedger(SqlEventLedger(db), FixedClock(NOW))
        second = DeliveryLedger(SqlEventLedger(other), FixedClock(NOW))
        running = asyncio.create_task(first.once("Ev9", lambda: handle("first")))
        await started.wait()
        # A retry reaching the other process while the first still works does not run, and
        # is not acknowledged either: if the first then failed, Slack must retry again.
        assert await second.once("Ev9", lambda: handle("second")) is Delivery.IN_FLIGHT
        gate.set()
        assert await running is Delivery.HANDLED
        assert await second.once("Ev9", lambda: handle("second")) is Delivery.ALREADY_HANDLED
        assert runs == ["first"]
    finally:
        await other.close()


async def test_a_failed_handling_is_retried_by_the_next_delivery(db: SqlDatabase) -> None:
    deliveries = DeliveryLedger(SqlEventLedger(db), FixedClock(NOW))

    async def fail() -> None:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        await deliveries.once("Ev2", fail)
    ran: list[bool] = []

    async def succeed() -> None:
        ran.append(True)

    assert await deliveries.once("Ev2", succeed) is Delivery.HANDLED
    assert ran == [True]


async def test_handled_events_are_forgotten_after_a_day(db: SqlDatabase) -> None:
    clock = FixedClock(NOW)
    deliveries = DeliveryLedger(SqlEventLedger(db), clock)

    async def nothing() -> None:
        return None

    assert await deliveries.once("Ev-old", nothing) is Delivery.HANDLED
    clock.current = NOW + timedelta(days=2)
    assert await deliveries.once("Ev-new", nothing) is Delivery.HANDLED
    rows = await db.fetch_all("SELECT event_id FROM handled_events")
    assert [r[0] for r in rows] == ["Ev-new"]
