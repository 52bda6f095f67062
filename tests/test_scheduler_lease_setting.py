"""HAVEN_SCHEDULER_LEASE_SECONDS: read and checked by the settings, and the lease the scheduler
really writes (the e2e three-process test relies on a short one for a quick takeover)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bot.app import open_services
from bot.settings import Settings, SettingsError, load_settings
from tests.conftest import FixedClock


def test_the_lease_is_20_seconds_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings({}, env_file=None).scheduler_lease_seconds == 20
    given = load_settings({"HAVEN_SCHEDULER_LEASE_SECONDS": "6"}, env_file=None)
    assert given.scheduler_lease_seconds == 6


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("3", "HAVEN_SCHEDULER_LEASE_SECONDS: 3 is out of range; use 4-600."),
        ("soon", "HAVEN_SCHEDULER_LEASE_SECONDS: 'soon' is not a whole number (4-600)."),
    ],
)
def test_a_lease_haven_cannot_use_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as raised:
        load_settings({"HAVEN_SCHEDULER_LEASE_SECONDS": raw}, env_file=None)
    assert raised.value.problems == [problem]


async def test_the_scheduler_holds_its_lease_for_the_set_seconds(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings(database_path=tmp_path / "haven.db", scheduler_lease_seconds=4)
    async with open_services(settings, clock=clock) as services:
        task = asyncio.create_task(services.scheduler.run())
        try:
            for _ in range(500):  # 10 s at most
                if services.scheduler.is_holder:
                    break
                await asyncio.sleep(0.02)
            assert services.scheduler.is_holder, "the scheduler never took its lease"
            rows = await services.db.fetch_all("SELECT expires_at FROM scheduler_lease")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # The fixed clock does not move: every lease row the holder wrote ends 4 s after "now".
    assert rows and {float(row["expires_at"]) for row in rows} == {clock.now().timestamp() + 4}
