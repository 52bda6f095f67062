"""Settings: the only reader of the environment, `.env` and the config file.

Precedence: the real environment, then `.env` (python-dotenv; it never overrides the real
environment), then `config/settings.toml` (or the file HAVEN_CONFIG names), then defaults. All
problems are collected and reported together, once, at start-up.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = Path("data/haven.db")
DEFAULT_CONFIG_PATH = Path("config/settings.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Secret:
    """A token that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(Exception):
    """Bad configuration: every problem, each a sentence saying what to change."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Settings:
    database_path: Path = DEFAULT_DATABASE_PATH
    log_level: str = "INFO"
    # False when HAVEN_LOG_LEVEL was not given anywhere (interactive commands stay quieter).
    log_level_explicit: bool = False
    # Platform libraries log payloads (user ids, text, interaction tokens) at DEBUG: opt-in only.
    platform_debug_logs: bool = False
    removal_grace_days: int = 30
    discord_token: Secret | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_api_url: str | None = None
    slack_mode: str = "socket"
    slack_http_port: int = 3000
    # Haven's own HTTP server (/healthz, /readyz, /metrics, Slack's HTTP mode): off when None.
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    config_file: Path | None = None
    secrets: tuple[Secret, ...] = field(default=(), repr=False)

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None


def _database_path(url: str, problems: list[str]) -> Path:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        problems.append(
            f"HAVEN_DATABASE_URL: '{url}' is not a SQLite URL; write sqlite:///data/haven.db "
            "(relative) or sqlite:////var/lib/haven/haven.db (absolute)."
        )
        return DEFAULT_DATABASE_PATH
    return Path(url[len(prefix) :])


def _int(name: str, raw: Any, low: int, high: int, problems: list[str], default: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        problems.append(f"{name}: '{raw}' is not a whole number ({low}-{high}).")
        return default
    if not low <= value <= high:
        problems.append(f"{name}: {value} is out of range; use {low}-{high}.")
        return default
    return value


def _http_url(name: str, raw: str | None, problems: list[str], scheme: str = "http") -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    allowed = ("http://", "https://") if scheme == "http" else ("ws://", "wss://")
    if not value.startswith(allowed):
        problems.append(f"{name}: '{value}' must start with {' or '.join(allowed)}.")
        return None
    return value


def _flatten_config(data: Mapping[str, Any]) -> dict[str, str]:
    """`[slack] mode = "http"` -> {"SLACK_MODE": "http"}; `[haven] log_level` -> HAVEN_LOG_LEVEL."""
    flat: dict[str, str] = {}
    for section, values in data.items():
        if not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            flat[f"{section}_{key}".upper()] = str(value)
    return flat


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> Settings:
    """Read and validate every setting. Raises SettingsError listing all problems."""
    real = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    from_env_file: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        from_env_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    config_name = real.get("HAVEN_CONFIG") or from_env_file.get("HAVEN_CONFIG")
    config_path = Path(config_name) if config_name else DEFAULT_CONFIG_PATH
    from_file: dict[str, str] = {}
    if config_path.is_file():
        try:
            from_file = _flatten_config(tomllib.loads(config_path.read_text("utf-8")))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
            problems.append(f"{config_path}: cannot be read as TOML ({error}).")
    elif config_name:
        problems.append(f"HAVEN_CONFIG: the file {config_path} does not exist.")
    merged = {**from_file, **from_env_file, **real}

    def get(name: str) -> str | None:
        value = merged.get(name)
        return value.strip() if value is not None and value.strip() else None

    def secret(name: str) -> Secret | None:
        value = get(name)
        return Secret(value) if value else None

    database_path = DEFAULT_DATABASE_PATH
    if url := get("HAVEN_DATABASE_URL"):
        database_path = _database_path(url, problems)
    log_level = (get("HAVEN_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"HAVEN_LOG_LEVEL: '{log_level}' is not one of {', '.join(LOG_LEVELS)}.")
        log_level = "INFO"
    platform_debug = (get("HAVEN_PLATFORM_DEBUG_LOGS") or "no").lower() in ("1", "yes", "true")
    grace = _int(
        "HAVEN_REMOVAL_GRACE_DAYS", get("HAVEN_REMOVAL_GRACE_DAYS") or 30, 0, 3650, problems, 30
    )
    slack_mode = (get("SLACK_MODE") or "socket").lower()
    if slack_mode not in ("socket", "http"):
        problems.append(f"SLACK_MODE: '{slack_mode}' must be socket or http.")
        slack_mode = "socket"
    port = _int("SLACK_HTTP_PORT", get("SLACK_HTTP_PORT") or 3000, 1, 65535, problems, 3000)
    http_port = get("HAVEN_HTTP_PORT")
    haven_port = (
        None if http_port is None else _int("HAVEN_HTTP_PORT", http_port, 1, 65535, problems, 0)
    )

    slack_bot_token = secret("SLACK_BOT_TOKEN")
    slack_app_token = secret("SLACK_APP_TOKEN")
    slack_signing_secret = secret("SLACK_SIGNING_SECRET")
    if slack_bot_token is not None:
        if slack_mode == "socket" and slack_app_token is None:
            problems.append(
                "SLACK_APP_TOKEN: Socket Mode (the default) needs the app-level token (xapp-...); "
                "or set SLACK_MODE=http with SLACK_SIGNING_SECRET."
            )
        if slack_mode == "http" and slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET: HTTP mode needs the app's signing secret.")
    elif slack_app_token is not None or slack_signing_secret is not None:
        problems.append("SLACK_BOT_TOKEN: Slack settings are present but the bot token is missing.")

    slack_api_url = _http_url("SLACK_API_URL", get("SLACK_API_URL"), problems)
    if slack_api_url and not slack_api_url.endswith("/"):
        slack_api_url += "/"  # slack_sdk joins method names onto the base URL
    settings = Settings(
        database_path=database_path,
        log_level=log_level,
        log_level_explicit=get("HAVEN_LOG_LEVEL") is not None,
        platform_debug_logs=platform_debug,
        removal_grace_days=grace,
        discord_token=secret("DISCORD_TOKEN"),
        discord_api_url=_http_url("DISCORD_API_URL", get("DISCORD_API_URL"), problems),
        discord_gateway_url=_http_url(
            "DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL"), problems, scheme="ws"
        ),
        slack_bot_token=slack_bot_token,
        slack_app_token=slack_app_token,
        slack_signing_secret=slack_signing_secret,
        slack_api_url=slack_api_url,
        slack_mode=slack_mode,
        slack_http_port=port,
        http_port=haven_port or None,
        # Loopback by default: /metrics and /readyz are for the operator, not the internet.
        http_host=get("HAVEN_HTTP_HOST") or "127.0.0.1",
        config_file=config_path if config_path.is_file() else None,
    )
    if problems:
        raise SettingsError(problems)
    found = (
        settings.discord_token,
        slack_bot_token,
        slack_app_token,
        slack_signing_secret,
    )
    # Kept for the log redaction filter: every configured secret is masked wherever it appears.
    return replace(settings, secrets=tuple(s for s in found if s is not None))
