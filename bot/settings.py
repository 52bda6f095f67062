"""Settings: the only reader of the environment, `.env` and the config file.

Precedence: the real environment, then `.env` (python-dotenv; it never overrides the real
environment), then `config/settings.toml` (or the file HAVEN_CONFIG names), then defaults. All
problems are collected and reported together, once, at start-up.
"""

from __future__ import annotations

import difflib
import io
import logging
import os
import stat
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_DATABASE_PATH = Path("data/haven.db")
DEFAULT_CONFIG_PATH = Path("config/settings.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_URL_EXAMPLES = (
    "sqlite:///data/haven.db (relative) or sqlite:////var/lib/haven/haven.db (absolute)"
)

# What settings.toml may hold: each [table] key is the variable TABLE_KEY. Tokens are absent on
# purpose: that file is often committed, so a secret found there is refused, not read.
CONFIG_KEYS: Mapping[str, tuple[str, ...]] = {
    "haven": (
        "database_url",
        "log_level",
        "platform_debug_logs",
        "removal_grace_days",
        "http_port",
        "http_host",
        "public_url",
        "contact_retention_days",
        "contact_block_days",
        "contact_cooldown_minutes",
    ),
    "discord": ("api_url", "gateway_url", "shards", "shard_count"),
    "slack": ("mode", "http_port", "api_url", "client_id", "redirect_uri"),
}
SECRET_CONFIG_KEYS: Mapping[str, tuple[str, ...]] = {
    "haven": ("contact_key",),
    "discord": ("token",),
    "slack": ("bot_token", "app_token", "signing_secret", "client_secret"),
}


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
    # The HAVEN_DATABASE_URL as given, or None for the default path.
    database_url: str | None = None
    log_level: str = "INFO"
    # False when HAVEN_LOG_LEVEL was not given anywhere (interactive commands stay quieter).
    log_level_explicit: bool = False
    # Platform libraries log payloads (user ids, text, interaction tokens) at DEBUG: opt-in only.
    platform_debug_logs: bool = False
    removal_grace_days: int = 30
    # How long the scheduler leader's lease lasts without a heartbeat: a standby takes over
    # this long after the leader dies. It renews (and a standby retries) every quarter of it.
    scheduler_lease_seconds: int = 20
    discord_token: Secret | None = None
    discord_api_url: str | None = None
    discord_gateway_url: str | None = None
    # This process's slice of the Discord shards (None: every shard), and the total count
    # (None: the count Discord recommends, asked at start-up).
    discord_shard_ids: tuple[int, ...] | None = None
    discord_shard_count: int | None = None
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_api_url: str | None = None
    slack_mode: str = "socket"
    slack_http_port: int = 3000
    # Slack for many workspaces (Bolt's OAuth flow): the app's client id and secret, and the
    # redirect URL registered with Slack when it has several (None: Slack uses the only one).
    slack_client_id: str | None = None
    slack_client_secret: Secret | None = None
    slack_redirect_uri: str | None = None
    # Haven's own HTTP server (/healthz, /readyz, /metrics, Slack's HTTP mode): off when None.
    http_port: int | None = None
    http_host: str = "127.0.0.1"
    # Where people reach Haven's HTTP server (the moderator dashboard's links), e.g.
    # https://haven.example.org behind a TLS proxy; None: `/support-admin dashboard` says how.
    public_url: str | None = None
    config_file: Path | None = None
    # The moderator contact line (bot/core/contact/): the key its blocks are tagged with
    # (None: a key file beside the SQLite database), how long a closed request's text is
    # kept, how long a block lasts, and the minutes between one person's new requests.
    contact_key: Secret | None = None
    contact_retention_days: int = 30
    contact_block_days: int = 30
    contact_cooldown_minutes: int = 10
    secrets: tuple[Secret, ...] = field(default=(), repr=False)

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None

    @property
    def slack_multi_workspace(self) -> bool:
        """Installed by Slack's OAuth flow in any number of workspaces, each its own token."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.slack_multi_workspace


def _database_path(url: str, problems: list[str]) -> Path:
    """The file a sqlite:/// URL names, with one sentence for each way it cannot be Haven's
    database (each of these used to start a Haven that lost or never found its data)."""
    name = "HAVEN_DATABASE_URL"
    if url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        # A server's URL: the storage layer opens it; the path is then not used.
        return DEFAULT_DATABASE_PATH
    prefix = "sqlite:///"
    rest = url[len(prefix) :] if url.startswith(prefix) else None
    if url.rstrip("/") == "sqlite:" or rest in (":memory:", "/:memory:") or "mode=memory" in url:
        problems.append(
            f"{name}: '{url}' is an in-memory database, which forgets every library edit and "
            f"schedule when Haven stops; name a file, e.g. {DATABASE_URL_EXAMPLES}."
        )
        return DEFAULT_DATABASE_PATH
    if not rest:
        problems.append(
            f"{name}: '{url}' is not a SQLite URL; write {DATABASE_URL_EXAMPLES} "
            "(or postgresql://user@host/db for a PostgreSQL server)."
        )
        return DEFAULT_DATABASE_PATH
    if "?" in rest or "#" in rest:
        # SQLite would take the whole text, '?mode=ro' included, as the file's name.
        cut = min(i for i in (rest.find("?"), rest.find("#")) if i >= 0)
        problems.append(
            f"{name}: '{url}' has options after '{rest[cut]}', which Haven does not read (it "
            f"would create a file named '{Path(rest).name}'); remove '{rest[cut:]}'."
        )
        return DEFAULT_DATABASE_PATH
    path = Path(rest).expanduser()
    problem = _unusable_database_path(path, rest.endswith("/"))
    if problem:
        problems.append(f"{name}: {problem}")
        return DEFAULT_DATABASE_PATH
    return Path(rest)


def _unusable_database_path(path: Path, names_a_folder: bool) -> str | None:
    """Why `path` cannot hold a database file, or None. Only what exists today is checked;
    whether a new file can be created there is up to the storage layer when it opens it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None  # a parent is a file: the storage layer says so when it opens the path
    except OSError as error:
        return f"{path} cannot be checked ({error.strerror})."
    if names_a_folder or (mode is not None and stat.S_ISDIR(mode)):
        return (
            f"{path} is a folder; name the database file inside it, e.g. "
            f"sqlite:///{(path / 'haven.db').as_posix()}."
        )
    if mode is not None and not stat.S_ISREG(mode):
        return (
            f"{path} is a device or special file, not a database file (Haven's data would be "
            "thrown away or never saved); name a regular file, e.g. "
            f"{DATABASE_URL_EXAMPLES}."
        )
    # A parent that is a file, or a folder Haven may not write, is the storage layer's to
    # explain when it creates the folder and the file.
    return None


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


def _public_url(raw: str | None, problems: list[str]) -> str | None:
    """HAVEN_PUBLIC_URL: a scheme and a host only, since the dashboard is served at /dashboard
    of that address (its cookie is for that path)."""
    value = _http_url("HAVEN_PUBLIC_URL", raw, problems)
    if value is None:
        return None
    parts = urlsplit(value)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        problems.append(
            f"HAVEN_PUBLIC_URL: '{value}' must be just the address, like "
            "https://haven.example.org or http://127.0.0.1:8080 (no path; the dashboard is "
            "served at /dashboard of it)."
        )
        return None
    return value.rstrip("/")


# The most shards Haven accepts in a count: far past any bot's need (Discord asks for one
# shard per 1,000-2,500 servers), low enough that a typo is refused instead of opened.
MAX_SHARD_COUNT = 100_000
SHARDS_EXAMPLE = "0-3 (a range), 0,2,5 (a list) or 0-3,8 (both)"


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """`0-3`, `0,2,5` or `0-3,8` -> sorted shard ids. Raises ValueError with the sentence to
    show: what is wrong with the text and how it is written."""
    ids: list[int] = []
    for part in text.split(","):
        piece = part.strip()
        if not piece:
            raise ValueError(f"'{text}' has an empty item; write {SHARDS_EXAMPLE}.")
        low_text, dash, high_text = piece.partition("-")
        try:
            low = int(low_text.strip())
            high = int(high_text.strip()) if dash else low
        except ValueError:
            raise ValueError(
                f"'{piece}' is not a shard id or range; write {SHARDS_EXAMPLE}."
            ) from None
        if low < 0 or high < 0:
            raise ValueError(f"'{piece}': shard ids start at 0.")
        if high < low:
            raise ValueError(f"'{piece}' runs backwards; write {high}-{low}.")
        # Counted before the range is built: `0-90000000` must be refused, not allocated.
        if len(ids) + high - low + 1 > MAX_SHARD_COUNT:
            raise ValueError(f"'{text}' names more than {MAX_SHARD_COUNT} shards.")
        ids.extend(range(low, high + 1))
    repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
    if repeated:
        listed = ", ".join(str(i) for i in repeated[:5])
        raise ValueError(f"'{text}' names shard {listed} more than once.")
    return tuple(sorted(ids))


def _shards(
    shards_text: str | None, count_text: str | None, problems: list[str]
) -> tuple[tuple[int, ...] | None, int | None]:
    """DISCORD_SHARDS and DISCORD_SHARD_COUNT (or `haven run --shards / --shard-count`),
    checked together: a slice needs the total, and every id must be below it."""
    names = "DISCORD_SHARDS (--shards)", "DISCORD_SHARD_COUNT (--shard-count)"
    count: int | None = None
    if count_text is not None:
        try:
            count = int(count_text)
        except ValueError:
            problems.append(f"{names[1]}: '{count_text}' is not a whole number of shards.")
            return None, None
        if not 1 <= count <= MAX_SHARD_COUNT:
            problems.append(
                f"{names[1]}: {count} shards is not possible; use 1-{MAX_SHARD_COUNT} "
                "(or leave it unset for the count Discord recommends)."
            )
            return None, None
    if shards_text is None:
        return None, count
    try:
        ids = parse_shard_ids(shards_text)
    except ValueError as error:
        problems.append(f"{names[0]}: {error}")
        return None, None
    if count is None:
        problems.append(
            f"{names[0]}: a slice of shards needs the total as well; set {names[1]} "
            f"(e.g. --shards {shards_text} --shard-count {max(ids) + 1}, the same in every "
            "process)."
        )
        return None, None
    beyond = [i for i in ids if i >= count]
    if beyond:
        problems.append(
            f"{names[0]}: shard {beyond[0]} does not exist among {count} shards (ids run "
            f"0-{count - 1}); raise {names[1]} or pick ids below {count}."
        )
        return None, None
    return ids, count


def _flatten_config(data: Mapping[str, Any], source: Path, problems: list[str]) -> dict[str, str]:
    """`[slack] mode = "http"` -> {"SLACK_MODE": "http"}; `[haven] log_level` -> HAVEN_LOG_LEVEL.

    A key or table Haven does not know is a problem with a "did you mean": a misspelling
    (`databse_url`) would otherwise be ignored and Haven would run on the default silently."""
    flat: dict[str, str] = {}
    for section, values in data.items():
        if not isinstance(values, Mapping):
            owner = [t for t, keys in CONFIG_KEYS.items() if section in keys]
            where = f"under [{owner[0]}]" if owner else "in one of " + _tables()
            problems.append(f"{source}: '{section}' is outside any table; put it {where}.")
            continue
        if section not in CONFIG_KEYS:
            problems.append(
                f"{source}: [{section}] is not a table Haven reads"
                f"{_did_you_mean(section, [f'[{t}]' for t in CONFIG_KEYS], f'[{section}]')}; "
                f"the tables are {_tables()}."
            )
            continue
        known = CONFIG_KEYS[section]
        for key, value in values.items():
            if key in SECRET_CONFIG_KEYS.get(section, ()):
                problems.append(
                    f"{source}: [{section}] {key} is a secret, and this file is not the place "
                    f"for it; put {section.upper()}_{key.upper()} in .env or the environment."
                )
            elif key not in known or isinstance(value, Mapping):
                problems.append(
                    f"{source}: [{section}] has no setting '{key}'"
                    f"{_did_you_mean(key, known)}; it has {', '.join(known)}."
                )
            elif isinstance(value, list):
                # `shards = [0, 1]` means what `shards = "0,1"` does.
                flat[f"{section}_{key}".upper()] = ",".join(str(v) for v in value)
            else:
                flat[f"{section}_{key}".upper()] = str(value)
    return flat


def _tables() -> str:
    return ", ".join(f"[{t}]" for t in CONFIG_KEYS)


def _did_you_mean(typed: str, choices: list[str] | tuple[str, ...], compare: str = "") -> str:
    close = difflib.get_close_matches(compare or typed, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _read_env_file(path: Path, problems: list[str]) -> dict[str, str]:
    """`.env` as python-dotenv reads it, after checking it is text: python-dotenv raises a
    traceback on bytes that are not UTF-8, and keeps a NUL byte inside a value (a token that
    can never match)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.append(f"{path}: cannot be read ({error.strerror}).")
        return {}
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        problems.append(
            f"{path}: line {line} has a NUL byte; .env must be plain text (re-save it as "
            "UTF-8 text, or recreate it from .env.example)."
        )
        return {}
    try:
        text = raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.append(f"{path}: line {line} is not UTF-8 text; re-save the file as UTF-8.")
        return {}
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def _oauth_problems(
    client_id: str | None,
    client_secret: Secret | None,
    bot_token: Secret | None,
    signing_secret: Secret | None,
    mode: str | None,
    http_port: int | None,
    problems: list[str],
) -> str:
    """What Slack for many workspaces needs beside its client id and secret; the Slack mode
    it runs in ("http": Slack's OAuth redirect and the events of every workspace come to
    Haven's one HTTP server)."""
    if client_id is None:
        problems.append(
            "SLACK_CLIENT_ID: SLACK_CLIENT_SECRET is set but the client id is missing; copy "
            "both from your app's Basic Information page (App Credentials)."
        )
    if client_secret is None:
        problems.append(
            "SLACK_CLIENT_SECRET: SLACK_CLIENT_ID is set but the client secret is missing; "
            "copy it from your app's Basic Information page (App Credentials)."
        )
    if bot_token is not None:
        problems.append(
            "SLACK_BOT_TOKEN: set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID "
            "and SLACK_CLIENT_SECRET (installed in many workspaces), not both."
        )
    if signing_secret is None:
        problems.append(
            "SLACK_SIGNING_SECRET: Slack for many workspaces needs the app's signing secret "
            "(Basic Information -> App Credentials)."
        )
    if mode is not None and mode.lower() == "socket":
        problems.append(
            "SLACK_MODE: Slack for many workspaces runs in HTTP mode (Slack's install redirect "
            "and every workspace's events come to Haven's HTTP server); remove SLACK_MODE or "
            "set it to http."
        )
    if http_port is None:
        problems.append(
            "HAVEN_HTTP_PORT: Slack for many workspaces serves /slack/install, "
            "/slack/oauth_redirect and /slack/events on Haven's HTTP server; set a port."
        )
    return "http"


def load_settings(
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate every setting. Raises SettingsError listing all problems.

    `overrides`: values given on the command line (`haven run --shards`), by variable name;
    they win over every other source and are checked with them."""
    real = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    from_env_file: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        from_env_file = _read_env_file(env_file, problems)
    config_name = real.get("HAVEN_CONFIG") or from_env_file.get("HAVEN_CONFIG")
    config_path = Path(config_name) if config_name else DEFAULT_CONFIG_PATH
    from_file: dict[str, str] = {}
    if config_path.is_file():
        try:
            parsed = tomllib.loads(config_path.read_text("utf-8"))
            from_file = _flatten_config(parsed, config_path, problems)
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
            problems.append(f"{config_path}: cannot be read as TOML ({error}).")
    elif config_name:
        problems.append(f"HAVEN_CONFIG: the file {config_path} does not exist.")
    merged = {**from_file, **from_env_file, **real, **(overrides or {})}

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
    contact_retention = _int(
        "HAVEN_CONTACT_RETENTION_DAYS",
        get("HAVEN_CONTACT_RETENTION_DAYS") or 30,
        1,
        3650,
        problems,
        30,
    )
    contact_block_days = _int(
        "HAVEN_CONTACT_BLOCK_DAYS", get("HAVEN_CONTACT_BLOCK_DAYS") or 30, 1, 3650, problems, 30
    )
    contact_cooldown = _int(
        "HAVEN_CONTACT_COOLDOWN_MINUTES",
        get("HAVEN_CONTACT_COOLDOWN_MINUTES") or 10,
        0,
        1440,
        problems,
        10,
    )
    contact_key = secret("HAVEN_CONTACT_KEY")
    if contact_key is not None and len(contact_key.reveal()) < 32:
        problems.append(
            "HAVEN_CONTACT_KEY: use at least 32 characters of random text "
            "(e.g. `openssl rand -hex 32`); a short key can be guessed."
        )
    lease = _int(
        "HAVEN_SCHEDULER_LEASE_SECONDS",
        get("HAVEN_SCHEDULER_LEASE_SECONDS") or 20,
        4,
        600,
        problems,
        20,
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
    slack_client_id = get("SLACK_CLIENT_ID")
    slack_client_secret = secret("SLACK_CLIENT_SECRET")
    slack_redirect_uri = _http_url("SLACK_REDIRECT_URI", get("SLACK_REDIRECT_URI"), problems)
    if slack_client_id is not None or slack_client_secret is not None:
        slack_mode = _oauth_problems(
            slack_client_id,
            slack_client_secret,
            slack_bot_token,
            slack_signing_secret,
            get("SLACK_MODE"),
            haven_port,
            problems,
        )
    elif slack_bot_token is not None:
        if slack_mode == "socket" and slack_app_token is None:
            problems.append(
                "SLACK_APP_TOKEN: Socket Mode (the default) needs the app-level token (xapp-...); "
                "or set SLACK_MODE=http with SLACK_SIGNING_SECRET."
            )
        if slack_mode == "http" and slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET: HTTP mode needs the app's signing secret.")
    elif slack_app_token is not None or slack_signing_secret is not None:
        problems.append("SLACK_BOT_TOKEN: Slack settings are present but the bot token is missing.")

    shard_ids, shard_count = _shards(get("DISCORD_SHARDS"), get("DISCORD_SHARD_COUNT"), problems)
    slack_api_url = _http_url("SLACK_API_URL", get("SLACK_API_URL"), problems)
    if slack_api_url and not slack_api_url.endswith("/"):
        slack_api_url += "/"  # slack_sdk joins method names onto the base URL
    settings = Settings(
        database_path=database_path,
        database_url=get("HAVEN_DATABASE_URL"),
        log_level=log_level,
        log_level_explicit=get("HAVEN_LOG_LEVEL") is not None,
        platform_debug_logs=platform_debug,
        removal_grace_days=grace,
        scheduler_lease_seconds=lease,
        discord_token=secret("DISCORD_TOKEN"),
        discord_api_url=_http_url("DISCORD_API_URL", get("DISCORD_API_URL"), problems),
        discord_gateway_url=_http_url(
            "DISCORD_GATEWAY_URL", get("DISCORD_GATEWAY_URL"), problems, scheme="ws"
        ),
        discord_shard_ids=shard_ids,
        discord_shard_count=shard_count,
        slack_bot_token=slack_bot_token,
        slack_app_token=slack_app_token,
        slack_signing_secret=slack_signing_secret,
        slack_api_url=slack_api_url,
        slack_mode=slack_mode,
        slack_http_port=port,
        slack_client_id=slack_client_id if slack_client_secret is not None else None,
        slack_client_secret=slack_client_secret if slack_client_id is not None else None,
        slack_redirect_uri=slack_redirect_uri,
        http_port=haven_port or None,
        # Loopback by default: /metrics and /readyz are for the operator, not the internet.
        http_host=get("HAVEN_HTTP_HOST") or "127.0.0.1",
        public_url=_public_url(get("HAVEN_PUBLIC_URL"), problems),
        config_file=config_path if config_path.is_file() else None,
        contact_key=contact_key,
        contact_retention_days=contact_retention,
        contact_block_days=contact_block_days,
        contact_cooldown_minutes=contact_cooldown,
    )
    if settings.public_url is not None and settings.http_port is None:
        problems.append(
            "HAVEN_PUBLIC_URL: the dashboard is served by Haven's HTTP server; set "
            "HAVEN_HTTP_PORT too (the port your reverse proxy forwards to)."
        )
    if problems:
        raise SettingsError(problems)
    found = (
        settings.discord_token,
        slack_bot_token,
        slack_app_token,
        slack_signing_secret,
        slack_client_secret,
        contact_key,
    )
    # Kept for the log redaction filter: every configured secret is masked wherever it appears.
    return replace(settings, secrets=tuple(s for s in found if s is not None))


def database_notice(settings: Settings) -> tuple[int, str]:
    """What start-up logs about the database: its absolute path, and a warning when a new,
    empty database is about to be created anywhere but the default place. A relative
    HAVEN_DATABASE_URL is read from the folder Haven starts in, and a service manager starts
    it somewhere else (often /): Haven then ran, silently, on a new empty library."""
    url = settings.database_url or ""
    if url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return logging.INFO, f"Database: PostgreSQL {user}{host}{port}{parts.path}"
    path = settings.database_path.expanduser().absolute()
    if path.exists():
        return logging.INFO, f"Database: {path}"
    # A service manager's working folder is usually /, where even the default is a surprise.
    if path == DEFAULT_DATABASE_PATH.absolute() and Path.cwd() != Path(Path.cwd().anchor):
        return logging.INFO, f"Database: {path} (new; created now)"
    given = f"HAVEN_DATABASE_URL={settings.database_url}" if settings.database_url else "set"
    relative = "" if settings.database_path.is_absolute() else f", relative to {Path.cwd()}"
    return logging.WARNING, (
        f"Creating a new, empty database at {path} ({given}{relative}). If Haven had data "
        "before, stop it and point HAVEN_DATABASE_URL at that "
        "file; an absolute sqlite:////path is safest under a service manager."
    )
