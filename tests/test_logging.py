"""Logging: tokens masked everywhere, platform loggers quiet, Bolt's body never logged."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logging import configure_logging
from bot.settings import load_settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_tokens_are_masked_in_messages_and_tracebacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DISCORD_TOKEN": "configured-secret-value-123"}, env_file=None)
    stream = io.StringIO()
    configure_logging(settings, stream)
    log = logging.getLogger("bot.test")
    log.warning("token %s and xoxb-1111-2222-abcdef", "configured-secret-value-123")
    log.warning("callback POST /api/v10/interactions/123456/aW50ZXJhY3Rpb246dG9rZW4/callback")
    try:
        raise RuntimeError("failed with xapp-1-A0-secret")
    except RuntimeError:
        log.exception("boom")
    output = stream.getvalue()
    assert "configured-secret-value-123" not in output
    assert "xoxb-1111-2222-abcdef" not in output
    assert "xapp-1-A0-secret" not in output
    assert "aW50ZXJhY3Rpb246dG9rZW4" not in output
    assert output.count("********") >= 4


def test_platform_loggers_stay_at_warning_and_bolt_body_is_withheld(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)
    stream = io.StringIO()
    configure_logging(load_settings({"HAVEN_LOG_LEVEL": "DEBUG"}, env_file=None), stream)
    assert logging.getLogger("bot").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("discord").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("slack_bolt").getEffectiveLevel() == logging.WARNING
    logging.getLogger("discord.http").debug("body with user 42424242")
    logging.getLogger("slack_bolt.App").warning(
        "Invalid request signature detected (signature: v0=x, timestamp: 1, "
        "body: user_id=U123SECRET&text=please+help)"
    )
    output = stream.getvalue()
    assert "42424242" not in output
    assert "U123SECRET" not in output and "please+help" not in output
    assert "body: [withheld]" in output


def test_opting_in_to_platform_debug_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)
    stream = io.StringIO()
    configure_logging(load_settings({"HAVEN_PLATFORM_DEBUG_LOGS": "yes"}, env_file=None), stream)
    assert logging.getLogger("discord").getEffectiveLevel() == logging.DEBUG
    assert "will log request bodies" in stream.getvalue()


def test_the_slack_client_secret_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        {
            "SLACK_CLIENT_ID": "1111.2222",
            "SLACK_CLIENT_SECRET": "client-secret-value-789",
            "SLACK_SIGNING_SECRET": "signing-secret-value",
            "HAVEN_HTTP_PORT": "8080",
        },
        env_file=None,
    )
    stream = io.StringIO()
    configure_logging(settings, stream)
    logging.getLogger("bot.test").warning("oauth.v2.access with client-secret-value-789 failed")
    output = stream.getvalue()
    assert "oauth.v2.access with" in output and "client-secret-value-789" not in output
