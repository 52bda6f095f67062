"""Settings: precedence, validation of every problem at once, secrets never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import SettingsError, database_notice, load_settings


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
                "HAVEN_DATABASE_URL": "mysql://x",
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


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///:memory:", "in-memory database"),
        ("sqlite://", "in-memory database"),
        ("sqlite:///x.db?mode=ro", "would create a file named 'x.db?mode=ro'"),
        ("sqlite:////dev/null", "/dev/null is a device or special file"),
        ("sqlite:///data/", "is a folder; name the database file inside it"),
    ],
)
def test_a_database_url_that_cannot_hold_havens_data_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError) as raised:
        load_settings({"HAVEN_DATABASE_URL": url}, env_file=None)
    [problem] = raised.value.problems
    assert problem.startswith("HAVEN_DATABASE_URL: ")
    assert says in problem
    assert not (tmp_path / "x.db?mode=ro").exists()


def test_a_database_url_naming_an_existing_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store").mkdir()
    with pytest.raises(SettingsError) as raised:
        load_settings({"HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'store'}"}, env_file=None)
    assert raised.value.problems == [
        f"HAVEN_DATABASE_URL: {tmp_path / 'store'} is a folder; name the database file inside "
        f"it, e.g. sqlite:///{tmp_path / 'store' / 'haven.db'}."
    ]


def test_the_start_up_notice_names_the_absolute_path_and_warns_about_a_new_database_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    default = load_settings({}, env_file=None)
    assert database_notice(default) == (
        logging.INFO,
        f"Database: {tmp_path / 'data' / 'haven.db'} (new; created now)",
    )
    moved = load_settings({"HAVEN_DATABASE_URL": "sqlite:///var/haven.db"}, env_file=None)
    level, text = database_notice(moved)
    assert level == logging.WARNING
    assert f"Creating a new, empty database at {tmp_path / 'var' / 'haven.db'}" in text
    assert f"relative to {tmp_path}" in text
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "haven.db").write_bytes(b"")
    assert database_notice(moved) == (logging.INFO, f"Database: {tmp_path / 'var' / 'haven.db'}")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"DISCORD_TOKEN=abc\nHAVEN_LOG_LEVEL=caf\xe9\n", ".env: line 2 is not UTF-8 text"),
        (b"HAVEN_LOG_LEVEL=INFO\nDISCORD_TOKEN=ab\x00c\n", ".env: line 2 has a NUL byte"),
    ],
)
def test_an_env_file_that_is_not_text_is_listed_with_the_other_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(content)
    with pytest.raises(SettingsError) as raised:
        load_settings({"SLACK_MODE": "pigeon"}, env_file=Path(".env"))
    problems = raised.value.problems
    assert len(problems) == 2
    assert any(p.startswith(says) for p in problems), problems
    assert any(p.startswith("SLACK_MODE") for p in problems)


def test_an_env_file_with_a_byte_order_mark_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes("\ufeffHAVEN_LOG_LEVEL=ERROR\n".encode())
    assert load_settings({}, env_file=Path(".env")).log_level == "ERROR"


def test_a_misspelled_key_or_table_in_settings_toml_is_a_problem_with_a_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text(
        'log_level = "INFO"\n'
        '[haven]\ndatabse_url = "sqlite:///elsewhere.db"\n'
        '[slak]\nmode = "http"\n'
        '[discord]\ntoken = "a-secret-in-a-committed-file"\n'
    )
    with pytest.raises(SettingsError) as raised:
        load_settings({"HAVEN_LOG_LEVEL": "LOUD"}, env_file=None)
    source = Path("config/settings.toml")
    assert raised.value.problems == [
        f"{source}: 'log_level' is outside any table; put it under [haven].",
        f"{source}: [haven] has no setting 'databse_url' (did you mean database_url?); it has "
        "database_url, log_level, platform_debug_logs, removal_grace_days, http_port, http_host, "
        "public_url.",
        f"{source}: [slak] is not a table Haven reads (did you mean [slack]?); the tables are "
        "[haven], [discord], [slack].",
        f"{source}: [discord] token is a secret, and this file is not the place for it; put "
        "DISCORD_TOKEN in .env or the environment.",
        "HAVEN_LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR.",
    ]
    assert "a-secret-in-a-committed-file" not in "\n".join(raised.value.problems)


def test_the_example_settings_file_has_only_known_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "settings.example.toml"
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"HAVEN_CONFIG": str(example)}, env_file=None)
    assert settings.slack_mode == "socket"


def test_a_new_default_database_in_the_root_folder_is_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where a service manager starts Haven when no WorkingDirectory is set.
    if Path("/data/haven.db").exists():
        pytest.skip("this machine has a /data/haven.db")
    monkeypatch.chdir("/")
    level, text = database_notice(load_settings({}, env_file=None))
    assert level == logging.WARNING
    assert "Creating a new, empty database at /data/haven.db" in text
    assert "relative to /" in text


def test_the_http_server_can_be_set_in_settings_toml(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('[haven]\nhttp_port = 8089\nhttp_host = "0.0.0.0"\n')
    settings = load_settings(environ={"HAVEN_CONFIG": str(config)}, env_file=None)
    assert (settings.http_port, settings.http_host) == (8089, "0.0.0.0")
