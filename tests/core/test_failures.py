"""Failures in request flows are logged by type and stack, never with their message."""

from __future__ import annotations

import logging

import pytest

from bot.core.failures import log_failure


def test_log_failure_keeps_the_message_out(caplog: pytest.LogCaptureFixture) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    logger = logging.getLogger("bot.test.failures")
    typed, asker = "my secret thing", "U123ASKER"
    try:
        # The values live in variables: the logged stack shows source lines, not values.
        raise ValueError(f"topic {typed!r} for {asker}")
    except ValueError as error:
        log_failure(logger, "Answering /support", error)
    [record] = [r for r in caplog.records if r.name == "bot.test.failures"]
    text = record.getMessage()
    assert record.levelno == logging.ERROR
    assert "Answering /support failed (ValueError)" in text
    assert "test_log_failure_keeps_the_message_out" in text  # the stack is there
    assert "my secret thing" not in text and "U123ASKER" not in text
    assert record.exc_info is None
