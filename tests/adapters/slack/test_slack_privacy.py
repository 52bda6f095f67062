"""Privacy: who asked for what never reaches the database or the logs.

Bolt logs the whole request body (user id, command text) at INFO on a bad signature; the
adapter and Haven's logging keep it out at every level Haven can be configured with.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.logging import configure_logging
from bot.services import Services
from bot.settings import Settings
from tests.adapters.slack.conftest import SignedSender
from tests.fakes.fake_slack import FakeSlack

SECRET_USER = "U0PRIVATE42"
SECRET_TEXT = "zebra-quartz-whisper"


class RawCapture(logging.Handler):
    """Keeps each message as emitted, before any later handler's filter rewrites the record."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def haven_logging(level: str, platform_debug: bool) -> Iterator[tuple[io.StringIO, RawCapture]]:
    """Haven's real logging set-up writing to a buffer, plus a raw capture in front of it (so
    the adapter's own scrubbing is checked, not only Haven's handler filter); all restored."""
    root = logging.getLogger()
    names = ["", "bot", "cogs", "slack_bolt", "slack_sdk", "aiohttp", "discord", "aiosqlite"]
    saved_levels = {name: logging.getLogger(name).level for name in names}
    saved_handlers = list(root.handlers)
    stream = io.StringIO()
    configure_logging(Settings(log_level=level, platform_debug_logs=platform_debug), stream)
    raw = RawCapture()
    root.handlers.insert(0, raw)
    try:
        yield stream, raw
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        for name, saved in saved_levels.items():
            logging.getLogger(name).setLevel(saved)


@pytest.mark.parametrize(
    ("level", "platform_debug"),
    [("WARNING", False), ("INFO", False), ("DEBUG", False), ("DEBUG", True)],
)
async def test_a_bad_signature_leaves_no_body_in_the_logs(
    slack: SignedSender,
    fake: FakeSlack,
    level: str,
    platform_debug: bool,
) -> None:
    body = urlencode(fake.slash_command("/support", f"crisis {SECRET_TEXT}", user_id=SECRET_USER))
    with haven_logging(level, platform_debug) as (stream, raw):
        reply = await slack.post(body, signature="v0=" + "f" * 64)
        stale = int(time.time()) - 3600
        stale_reply = await slack.post(
            body, timestamp=stale, signature=slack.sign(body, str(stale))
        )
    assert reply.status == stale_reply.status == 401
    written = stream.getvalue() + raw.text
    assert SECRET_USER not in written
    assert SECRET_TEXT not in written
    assert "Rejected a Slack request with a bad signature" in written
    assert fake.calls == []


async def test_a_burst_of_support_requests_leaves_no_trace_of_who_asked(
    slack: SignedSender,
    fake: FakeSlack,
    services: Services,
    tmp_path: Path,
) -> None:
    users = [f"{SECRET_USER}{i}" for i in range(20)]
    with haven_logging("DEBUG", False) as (stream, raw):
        for index, user in enumerate(users):
            text = ["coming-out GB", "crisis US", f"{SECRET_TEXT}{index}", "family IE"][index % 4]
            reply = await slack.command("/support", text, user_id=user, channel_id="C0PUBLIC")
            assert reply.status == 200
        # Aggregates are flushed to the database as they would be on a timer or at shutdown.
        await services.support.flush()
    logs = stream.getvalue() + raw.text
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("haven.db*"))
    for user in users:
        assert user not in logs
        assert user.encode() not in stored
    assert SECRET_TEXT not in logs
    assert SECRET_TEXT.encode() not in stored
    # The answers themselves went only to the askers, in the acknowledgements. The only Web
    # API calls read each asker's language (users.info); nothing was posted anywhere.
    assert {call.method for call in fake.calls} == {"users.info"}
    assert all(call.args.get("include_locale") == "1" for call in fake.calls)
    assert fake.response_posts == []
