"""Settings for Slack in many workspaces: the three variables, what else they need (HTTP mode
on Haven's server), every problem said at once, the client secret never shown (nor logged:
tests/test_logging.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value-789",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "HAVEN_HTTP_PORT": "8080",
}


def test_the_three_variables_turn_on_slack_for_many_workspaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(OAUTH, env_file=None)
    assert settings.slack_enabled and settings.slack_multi_workspace
    assert settings.slack_mode == "http" and settings.slack_bot_token is None
    assert settings.slack_client_id == "1111.2222"
    assert "client-secret-value-789" not in repr(settings)
    assert settings.slack_client_secret in settings.secrets


def test_the_redirect_url_and_client_id_may_come_from_settings_toml(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(
        '[slack]\nclient_id = "9.9"\nredirect_uri = "https://haven.example/slack/oauth_redirect"\n'
    )
    env = {k: v for k, v in OAUTH.items() if k != "SLACK_CLIENT_ID"}
    settings = load_settings({**env, "HAVEN_CONFIG": str(config)}, env_file=None)
    assert settings.slack_client_id == "9.9"
    assert settings.slack_redirect_uri == "https://haven.example/slack/oauth_redirect"


def test_the_client_secret_in_settings_toml_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[slack]\nclient_secret = "oops"\n')
    with pytest.raises(SettingsError) as raised:
        load_settings({**OAUTH, "HAVEN_CONFIG": str(config)}, env_file=None)
    assert "SLACK_CLIENT_SECRET in .env or the environment" in "\n".join(raised.value.problems)


def test_what_is_missing_is_said_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {"SLACK_CLIENT_ID": "1.2", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_MODE": "socket"},
            env_file=None,
        )
    text = "\n".join(raised.value.problems)
    for expected in (
        "SLACK_CLIENT_SECRET: SLACK_CLIENT_ID is set but the client secret is missing",
        "SLACK_BOT_TOKEN: set either SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET: Slack for many workspaces needs",
        "SLACK_MODE: Slack for many workspaces runs in HTTP mode",
        "HAVEN_HTTP_PORT: Slack for many workspaces serves /slack/install",
    ):
        assert expected in text
    with pytest.raises(SettingsError) as raised:
        load_settings({**OAUTH, "SLACK_CLIENT_ID": ""}, env_file=None)
    assert "SLACK_CLIENT_ID: SLACK_CLIENT_SECRET is set" in "\n".join(raised.value.problems)
