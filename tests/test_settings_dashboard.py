"""HAVEN_PUBLIC_URL: the dashboard's address, checked at start-up with one sentence each."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_the_public_url_is_read_and_needs_the_http_server(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"HAVEN_PUBLIC_URL": "https://haven.example.org/", "HAVEN_HTTP_PORT": "8080"},
        env_file=None,
    )
    assert settings.public_url == "https://haven.example.org"
    assert load_settings(environ={}, env_file=None).public_url is None
    with pytest.raises(SettingsError, match="set HAVEN_HTTP_PORT too"):
        load_settings(environ={"HAVEN_PUBLIC_URL": "https://haven.example.org"}, env_file=None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("haven.example.org", "must start with http:// or https://"),
        ("https://haven.example.org/dashboard", "must be just the address"),
        ("https://haven.example.org/?x=1", "must be just the address"),
        ("https://", "must be just the address"),
    ],
)
def test_a_public_url_that_cannot_be_the_dashboards_is_refused(value: str, problem: str) -> None:
    with pytest.raises(SettingsError, match="HAVEN_PUBLIC_URL") as raised:
        load_settings(environ={"HAVEN_PUBLIC_URL": value, "HAVEN_HTTP_PORT": "8080"}, env_file=None)
    assert problem in str(raised.value)
