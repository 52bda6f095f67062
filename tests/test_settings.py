"""Settings: precedence, validation of every problem at once, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_without_anything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({}, env_file=None)
    assert settings.database_path == Path("data/haven.db")
    assert not settings.discord_enabled and not settings.slack_enabled


def test_env_file_loses_to_real_environment_and_config_file_loses_to_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(
        '[haven]\nlog_level = "ERROR"\nremoval_grace_days = 7\n[slack]\nhttp_port = 4000\n'
    )
    env_file = tmp_path / ".env"
    env_file.write_text("HAVEN_LOG_LEVEL=WARNING\nDISCORD_TOKEN=from-env-file-token\n")
    settings = load_settings({"HAVEN_LOG_LEVEL": "DEBUG"}, env_file=env_file)
    assert settings.log_level == "DEBUG"
    assert settings.removal_grace_days == 7
    assert settings.slack_http_port == 4000
    assert settings.discord_token is not None
    assert settings.discord_token.reveal() == "from-env-file-token"


def test_database_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = load_settings({"HAVEN_DATABASE_URL": "sqlite:///var/h.db"}, env_file=None)
    absolute = load_settings({"HAVEN_DATABASE_URL": "sqlite:////srv/h.db"}, env_file=None)
    assert relative.database_path == Path("var/h.db")
    assert absolute.database_path == Path("/srv/h.db")


def test_every_problem_is_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "HAVEN_DATABASE_URL": "postgres://x",
                "HAVEN_LOG_LEVEL": "LOUD",
                "SLACK_HTTP_PORT": "eighty",
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_MODE": "carrier-pigeon",
                "DISCORD_GATEWAY_URL": "https://not-a-websocket",
            },
            env_file=None,
        )
    text = "\n".join(raised.value.problems)
    for expected in (
        "HAVEN_DATABASE_URL",
        "HAVEN_LOG_LEVEL",
        "SLACK_HTTP_PORT: 'eighty' is not a whole number",
        "SLACK_MODE",
        "SLACK_APP_TOKEN",
        "DISCORD_GATEWAY_URL",
    ):
        assert expected in text


def test_secrets_never_show_in_repr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        {
            "DISCORD_TOKEN": "super-secret-discord-token",
            "SLACK_BOT_TOKEN": "xoxb-secret-123",
            "SLACK_APP_TOKEN": "xapp-secret-456",
        },
        env_file=None,
    )
    shown = repr(settings) + str(settings.discord_token)
    for secret in ("super-secret-discord-token", "xoxb-secret-123", "xapp-secret-456"):
        assert secret not in shown
    assert settings.slack_enabled and settings.discord_enabled
