"""Shard slices in settings and on `haven run`: DISCORD_SHARDS / DISCORD_SHARD_COUNT, the config
file's [discord] shards / shard_count, --shards / --shard-count winning, and every mistake
answered with what is wrong and how to write it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import SettingsError, load_settings, parse_shard_ids


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0-3", (0, 1, 2, 3)),
        ("0,2,5", (0, 2, 5)),
        (" 5, 0-2 ,8 ", (0, 1, 2, 5, 8)),
        ("7", (7,)),
        ("3-3", (3,)),
    ],
)
def test_shard_ids_as_people_write_them(text: str, ids: tuple[int, ...]) -> None:
    assert parse_shard_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0-x", "'0-x' is not a shard id or range; write 0-3 (a range)"),
        ("0,,2", "has an empty item"),
        ("3-1", "'3-1' runs backwards; write 1-3."),
        ("-1", "'-1' is not a shard id or range"),
        ("0-3,2", "names shard 2 more than once"),
        ("a", "is not a shard id or range"),
        # Refused before the range is built (it would take gigabytes).
        ("0-90000000000", "names more than"),
    ],
)
def test_bad_shard_ids_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_shard_ids(text)
    assert says in str(error.value)


def problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as error:
        load_settings(environ, env_file=None)
    return error.value.problems


def test_environment_slice_and_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DISCORD_SHARDS": "0-3", "DISCORD_SHARD_COUNT": "8"}, env_file=None)
    assert settings.discord_shard_ids == (0, 1, 2, 3)
    assert settings.discord_shard_count == 8
    # Nothing set: every shard, Discord's count.
    plain = load_settings({}, env_file=None)
    assert plain.discord_shard_ids is None and plain.discord_shard_count is None
    # A count alone: this process runs all of them.
    counted = load_settings({"DISCORD_SHARD_COUNT": "2"}, env_file=None)
    assert (counted.discord_shard_ids, counted.discord_shard_count) == (None, 2)


def test_config_file_then_command_line_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    config = tmp_path / "config" / "settings.toml"
    config.write_text('[discord]\nshards = "0-3"\nshard_count = 8\n')
    from_file = load_settings({}, env_file=None)
    assert (from_file.discord_shard_ids, from_file.discord_shard_count) == ((0, 1, 2, 3), 8)
    config.write_text("[discord]\nshards = [4, 5]\nshard_count = 8\n")
    assert load_settings({}, env_file=None).discord_shard_ids == (4, 5)
    overridden = load_settings(
        {"DISCORD_SHARDS": "0-1"}, env_file=None, overrides={"DISCORD_SHARDS": "6,7"}
    )
    assert (overridden.discord_shard_ids, overridden.discord_shard_count) == ((6, 7), 8)


def test_every_shard_mistake_is_one_clear_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (alone,) = problems({"DISCORD_SHARDS": "0-3"})
    assert "needs the total as well" in alone and "--shard-count 4" in alone
    (beyond,) = problems({"DISCORD_SHARDS": "6-8", "DISCORD_SHARD_COUNT": "8"})
    assert "shard 8 does not exist among 8 shards (ids run 0-7)" in beyond
    (zero,) = problems({"DISCORD_SHARD_COUNT": "0"})
    assert "0 shards is not possible; use 1-" in zero
    (word,) = problems({"DISCORD_SHARD_COUNT": "eight"})
    assert "'eight' is not a whole number of shards" in word
    (syntax,) = problems({"DISCORD_SHARDS": "0..3", "DISCORD_SHARD_COUNT": "8"})
    assert syntax.startswith("DISCORD_SHARDS (--shards): '0..3' is not a shard id or range")


def run_cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}"}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No .env or config file of the checkout is read.
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_SHARDS", "DISCORD_SHARD_COUNT", "HAVEN_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_haven_run_refuses_a_bad_slice_before_starting(tmp_path: Path) -> None:
    code, output = run_cli(tmp_path, "run", "--shards", "0-3")
    assert code == 2
    assert "DISCORD_SHARDS (--shards): a slice of shards needs the total" in output
    code, output = run_cli(tmp_path, "run", "--shards", "0-8", "--shard-count", "8")
    assert code == 2 and "shard 8 does not exist among 8 shards" in output
    code, output = run_cli(tmp_path, "run", "--shards", "1-0", "--shard-count", "0")
    assert code == 2
    assert "0 shards is not possible" in output
    assert not (tmp_path / "haven.db").exists()


def test_haven_run_help_explains_shards(tmp_path: Path) -> None:
    code, output = run_cli(tmp_path, "run", "--help")
    assert code == 0
    assert "--shards IDS" in output and "--shard-count N" in output
    assert "haven run --shards 0-3 --shard-count 8" in output
    assert "Without --shards one process runs every shard" in output
    assert "docs/scale.md" in output
