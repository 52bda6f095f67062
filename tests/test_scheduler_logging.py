"""The scheduler's retry logging: storage trouble the database already reported is not repeated
every second; other trouble is a warning with what went wrong."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from bot.core.errors import StorageUnavailable
from bot.scheduler import _storage_trouble


def test_a_refusal_already_reported_is_not_repeated_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.scheduler")
    for _ in range(60):  # a minute of one-second retries
        _storage_trouble(
            "Scheduler pass failed (%s); retrying in 1 s",
            StorageUnavailable("Haven cannot save changes right now: its database file was moved"),
        )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert all("database file" not in r.getMessage() for r in caplog.records)


def test_other_storage_trouble_is_a_warning_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.scheduler")
    _storage_trouble(
        "Scheduler pass failed (%s); retrying in 1 s", sqlite3.OperationalError("busy")
    )
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.getMessage() == "Scheduler pass failed (busy); retrying in 1 s"
