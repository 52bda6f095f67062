"""Logging an unexpected failure in a request flow without anything a person typed."""

from __future__ import annotations

import logging
import traceback


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Log `what` failed, with the error's type and stack but not its message: a message can
    quote request text (a topic, a command line), and support flows never log that."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("%s failed (%s)\n%s", what, type(error).__name__, frames.rstrip())
