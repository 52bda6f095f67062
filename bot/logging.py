"""Logging for Haven: one setup, tokens masked everywhere, no personal data from libraries.

Why the platform loggers stay at WARNING: discord.py logs request bodies and interaction-token
URLs at DEBUG, and Bolt logs the whole request body (user id, command text) at INFO when a
signature is invalid. An operator can opt in to their debug output with
HAVEN_PLATFORM_DEBUG_LOGS=yes, and Haven then warns that the logs will hold personal data.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from bot.settings import Secret, Settings

HAVEN_LOGGERS = ("bot", "cogs")
# SQLAlchemy's engine logs every statement with its parameters at INFO, and Alembic every step:
# kept at WARNING with the platforms' own loggers.
PLATFORM_LOGGERS = (
    "discord",
    "slack_bolt",
    "slack_sdk",
    "aiohttp",
    "aiosqlite",
    "websockets",
    "sqlalchemy",
    "asyncpg",
    "alembic",
)

_TOKEN_PATTERNS = (
    re.compile(r"xox[abprs]-[A-Za-z0-9-]+"),  # Slack bot/user tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),  # Slack app-level tokens
    re.compile(r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"),  # Discord
    # Interaction tokens inside callback and webhook URLs.
    re.compile(r"(?<=/interactions/)\d+/[A-Za-z0-9_.-]+"),
    re.compile(r"(?<=/webhooks/)\d+/[A-Za-z0-9_.-]+"),
)
# Bolt's invalid-signature line carries the raw request body: drop the body.
_BOLT_BODY = re.compile(r"(Invalid request signature detected.*?)\bbody: .*", re.DOTALL)
MASK = "********"


class RedactingFilter(logging.Filter):
    """Masks configured secrets and token-shaped strings in every record, traceback included."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        super().__init__()
        self._secrets = [s.reveal() for s in secrets if len(s.reveal()) >= 6]

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern in _TOKEN_PATTERNS:
            text = pattern.sub(MASK, text)
        return _BOLT_BODY.sub(r"\1body: [withheld]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def configure_logging(settings: Settings, stream: object = None) -> RedactingFilter:
    """Install Haven's single handler on the root logger; returns its redaction filter."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    redactor = RedactingFilter(settings.secrets)
    handler.addFilter(redactor)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in HAVEN_LOGGERS:
        logging.getLogger(name).setLevel(settings.log_level)
    platform_level = logging.DEBUG if settings.platform_debug_logs else logging.WARNING
    for name in PLATFORM_LOGGERS:
        logging.getLogger(name).setLevel(platform_level)
    if settings.platform_debug_logs:
        logging.getLogger("bot").warning(
            "HAVEN_PLATFORM_DEBUG_LOGS is on: discord.py and Bolt will log request bodies with "
            "user ids and text. Turn it off once you have what you need, and delete these logs."
        )
    return redactor
