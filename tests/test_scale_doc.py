"""docs/scale.md, config/haven@.service and config/Containerfile stay true to the code: the
settings, metrics and options they name exist, the template unit parses and checks what it says
it checks, and the PgBouncer paragraph says what asyncpg really does with Haven's URL."""

from __future__ import annotations

import ast
import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from bot.core.models import Platform
from bot.metrics import Health, PlatformStatus, PrometheusMetrics
from bot.settings import CONFIG_KEYS, load_settings
from tests.test_operations_doc import ROOT, SCALE, check_command

TEMPLATE = ROOT / "config" / "haven@.service"
SINGLE = ROOT / "config" / "haven.service"
CONTAINERFILE = ROOT / "config" / "Containerfile"
SETTING = re.compile(r"\b(?:HAVEN|DISCORD|SLACK)_[A-Z0-9_]*[A-Z0-9]\b")


def _read_settings() -> set[str]:
    """Every variable name bot/settings.py reads: its string constants shaped like one, and
    each settings.toml key as the variable it stands for."""
    tree = ast.parse((ROOT / "bot" / "settings.py").read_text("utf-8"))
    names = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SETTING.fullmatch(node.value)
    }
    names |= {f"{table}_{key}".upper() for table, keys in CONFIG_KEYS.items() for key in keys}
    return names


def _shown_settings(text: str) -> set[str]:
    return set(SETTING.findall(text))


@pytest.mark.parametrize(
    "name",
    sorted(
        _shown_settings(SCALE.read_text("utf-8")) | _shown_settings(TEMPLATE.read_text("utf-8"))
    ),
)
def test_every_setting_the_guide_and_unit_name_is_one_haven_reads(name: str) -> None:
    known = _read_settings()
    assert name in known, f"{name} is not a setting Haven reads (bot/settings.py)"


def test_the_config_keys_the_guide_names_exist() -> None:
    text = SCALE.read_text("utf-8")
    assert '`shards = "0-3"`' in text and "`shard_count = 8`" in text
    missing = [key for key in ("shards", "shard_count") if key not in CONFIG_KEYS["discord"]]
    assert not missing, f"[discord] {', '.join(missing)} is not a key Haven reads"


async def _exposition() -> str:
    """What /metrics shows once the process is connected to Discord and Slack."""
    metrics = PrometheusMetrics()

    class Probe:
        async def ping(self) -> None:
            return None

    health = Health(Probe(), [Platform.DISCORD, Platform.SLACK], lambda: True)  # type: ignore[arg-type]

    async def connected() -> PlatformStatus:
        return PlatformStatus(True, "connected", shards_connected=4, latency_seconds=0.05)

    health.register(Platform.DISCORD, connected)
    health.register(Platform.SLACK, connected)
    await health.check()
    metrics.watch(health, ["support"])
    return generate_latest(metrics.registry).decode()  # type: ignore[no-any-return]


async def test_every_metric_the_guide_names_is_exported() -> None:
    exported = set(re.findall(r"^# TYPE (\S+) \S+$", await _exposition(), re.MULTILINE))
    # Counters are typed under their base name; their samples end in _total.
    exported |= {f"{name}_total" for name in exported}
    shown = set(re.findall(r"\bhaven_[a-z_]+[a-z]\b", SCALE.read_text("utf-8")))
    assert shown, "the guide names no metric"
    assert shown <= exported, f"not exported: {sorted(shown - exported)}"
    for needed in ("haven_scheduler_holder", "haven_discord_shards_connected"):
        assert needed in shown


# ---- the template unit ----------------------------------------------------------------------


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text("utf-8"))
    return parser


def _all(path: Path, key: str) -> list[str]:
    return [
        line.removeprefix(f"{key}=")
        for line in path.read_text("utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def test_the_template_runs_its_slice_with_options_haven_has() -> None:
    unit = _unit(TEMPLATE)
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["User"] == "haven"
    words = shlex.split(service["ExecStart"])
    assert words[0] == "/opt/haven/.venv/bin/haven"
    assert words[1:] == ["run", "--shards", "%i", "--shard-count", "${DISCORD_SHARD_COUNT}"]
    check_command(words[1:])


def test_the_template_reads_shared_then_per_slice_settings() -> None:
    # A later EnvironmentFile wins: the slice's own file (optional, "-") after the shared one.
    assert _all(TEMPLATE, "EnvironmentFile") == [
        "/opt/haven/.env",
        "-/opt/haven/instances/%i.env",
    ]
    assert _unit(TEMPLATE)["Service"]["WorkingDirectory"] == "/opt/haven"


def test_the_template_is_hardened_like_the_single_unit() -> None:
    single, template = _unit(SINGLE)["Service"], _unit(TEMPLATE)["Service"]
    local_state = {"StateDirectory", "StateDirectoryMode", "ReadWritePaths"}
    for key in (
        "NoNewPrivileges",
        "ProtectSystem",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectControlGroups",
        "RestrictSUIDSGID",
        "LockPersonality",
        "UMask",
        "Restart",
        "RestartPreventExitStatus",
        "KillSignal",
    ):
        assert template[key] == single[key], key
    # Its data is on the PostgreSQL server: nothing local to write.
    assert not local_state & set(template)


def _precheck(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The unit's ExecStartPre as systemd runs it for haven@0-3 ($$ is a literal $)."""
    line = _unit(TEMPLATE)["Service"]["ExecStartPre"]
    words = shlex.split(line.replace("$$", "$").replace("%i", "0-3"))
    assert words[:2] == ["/bin/sh", "-c"]
    return subprocess.run(
        ["sh", "-c", words[2]],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_template_refuses_to_start_without_postgresql_or_a_shard_count() -> None:
    postgres = "postgresql://haven@db.example.org/haven"
    assert _precheck({"HAVEN_DATABASE_URL": postgres, "DISCORD_SHARD_COUNT": "8"}).returncode == 0
    for environment, says in (
        ({"DISCORD_SHARD_COUNT": "8"}, "HAVEN_DATABASE_URL=postgresql://"),
        (
            {"HAVEN_DATABASE_URL": "sqlite:////var/lib/haven/haven.db", "DISCORD_SHARD_COUNT": "8"},
            "HAVEN_DATABASE_URL=postgresql://",
        ),
        ({"HAVEN_DATABASE_URL": postgres}, "DISCORD_SHARD_COUNT"),
        ({"HAVEN_DATABASE_URL": postgres, "DISCORD_SHARD_COUNT": "eight"}, "DISCORD_SHARD_COUNT"),
    ):
        done = _precheck(environment)
        assert done.returncode == 2, environment
        assert says in done.stderr and "haven@0-3" in done.stderr


def test_systemd_accepts_both_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the INI checks above still ran")
    # verify checks that ExecStart's program exists: point it at this checkout's haven.
    haven = shutil.which("haven") or str(Path(__import__("sys").executable).parent / "haven")
    for source, name in ((TEMPLATE, "haven@0-3.service"), (SINGLE, "haven.service")):
        text = source.read_text("utf-8").replace("/opt/haven/.venv/bin/haven", haven)
        (tmp_path / name).write_text(text, "utf-8")
        done = subprocess.run(
            [analyze, "verify", str(tmp_path / name)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr


def test_an_empty_value_in_a_later_environment_file_turns_a_platform_off(tmp_path: Path) -> None:
    # The guide's Slack-only process: .env has the Discord token, the drop-in's file empties it
    # (systemd puts both in the real environment, the later file winning).
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DISCORD_TOKEN=discord-token\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_APP_TOKEN=xapp-1\n"
    )
    assert load_settings(environ={}, env_file=env_file).discord_enabled
    settings = load_settings(environ={"DISCORD_TOKEN": ""}, env_file=env_file)
    assert not settings.discord_enabled and settings.slack_enabled


# ---- the container recipe ---------------------------------------------------------------------


def test_the_container_recipe_says_it_is_untested_and_runs_haven_unprivileged() -> None:
    text = CONTAINERFILE.read_text("utf-8")
    assert "NOT TESTED HERE" in text
    assert "**It is not tested here**" in SCALE.read_text("utf-8")
    instructions = [
        line.split(None, 1) for line in text.splitlines() if re.match(r"^[A-Z]+ ", line)
    ]
    users = [rest for word, rest in instructions if word == "USER"]
    assert users == ["haven"]
    assert ("ENTRYPOINT", '["haven"]') in [tuple(i) for i in instructions]
    assert ("CMD", '["run"]') in [tuple(i) for i in instructions]
    for word, rest in instructions:
        if word == "COPY":
            source = rest.split()[0]
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    # The commands its comments show (migrate as its own step) exist with their options.
    shown = re.findall(r"^#\s+podman run .*? haven (.+)$", text, re.MULTILINE)
    assert ["db", "migrate"] in [words.split() for words in shown]
    # (An option another branch is building is checked once it exists.)
    for words in shown:
        check_command(words.split())


# ---- PgBouncer: what the guide says about asyncpg's statement cache -----------------------


async def test_the_pgbouncer_paragraph_says_what_the_url_options_do(postgres_url: str) -> None:
    """If this fails, Haven's handling of the URL changed: update docs/scale.md's PgBouncer
    paragraph to say what is true now."""
    from bot.core.errors import StorageUnavailable
    from bot.storage.postgres import PostgresDatabase

    text = SCALE.read_text("utf-8")
    assert "`?statement_cache_size=0`" in text and "`?prepared_statement_cache_size=0`" in text
    with pytest.raises((TypeError, StorageUnavailable)):
        await PostgresDatabase.open(postgres_url + "?statement_cache_size=0")
    db = await PostgresDatabase.open(postgres_url + "?prepared_statement_cache_size=0")
    try:
        assert await db.fetch_all("SELECT 1")
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            # SQLAlchemy's cache is off, asyncpg's own statement cache is not.
            assert raw.driver_connection._stmt_cache.get_max_size() > 0  # type: ignore[union-attr]
    finally:
        await db.close()
