"""The operator's guides and the systemd units stay true to the code: the units parse and have
what a service needs, and every `haven ...` command a guide shows exists with the options shown."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "config" / "haven.service"
GUIDE = ROOT / "docs" / "operations.md"
SCALE = ROOT / "docs" / "scale.md"
GUIDES = (GUIDE, SCALE)


def _unit() -> configparser.ConfigParser:
    # systemd allows a key more than once (Environment=); strict=False keeps the last, so the
    # Environment lines are read separately below.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text("utf-8"))
    return parser


def _environment() -> dict[str, str]:
    found = {}
    for line in UNIT.read_text("utf-8").splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            found[key] = value
    return found


def test_the_unit_parses_with_the_keys_a_service_needs() -> None:
    unit = _unit()
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["User"] == "haven" != "root"
    assert service["Restart"] == "on-failure"
    assert Path(service["WorkingDirectory"]).is_absolute()
    assert Path(service["EnvironmentFile"]).is_absolute()
    assert service["EnvironmentFile"] == str(Path(service["WorkingDirectory"]) / ".env")
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    assert shlex.split(service["ExecStart"])[0].endswith("/bin/haven")
    # Exit status 2 is Haven's "fix the configuration" exit: restarting cannot help.
    assert service["RestartPreventExitStatus"] == "2"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_unit_database_path_is_absolute_as_haven_reads_it() -> None:
    environment = _environment()
    settings = load_settings(environ=environment, env_file=None)
    assert settings.database_path.is_absolute()
    assert settings.database_path == Path("/var/lib/haven/haven.db")
    # The service can write only its state folder: the database must be inside it.
    service = _unit()["Service"]
    assert settings.database_path.parent == Path("/var/lib") / service["StateDirectory"]
    assert str(settings.database_path.parent) in service["ReadWritePaths"].split()


def test_the_guides_are_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "(docs/operations.md)" in readme
    assert "(docs/scale.md)" in readme
    assert "(scale.md)" in GUIDE.read_text("utf-8")


def _shown_commands(guide: Path = GUIDE) -> list[list[str]]:
    """Every `haven ...` invocation in a guide, as words, up to the end of its command."""
    text = guide.read_text("utf-8")
    commands = []
    # The program as run (`.../bin/haven db migrate`) or named in prose (`haven run`); not the
    # user or the folder called haven (`sudo -u haven`, `/opt/haven`).
    for match in re.finditer(r"(?:/bin/|`)haven((?: +[^\s&|;`'\"]+)+)", text):
        words = match.group(1).split()
        if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
            commands.append(words)
    return commands


def test_the_guide_shows_the_commands_it_should() -> None:
    shown = {tuple(words[:2]) for words in _shown_commands()}
    assert {("db", "migrate"), ("db", "backup"), ("privacy", "forget")} <= shown
    assert any(words[0] == "run" for words in shown)


def test_the_scale_guide_shows_the_commands_it_should() -> None:
    shown = {tuple(words[:2]) for words in _shown_commands(SCALE)}
    assert {("db", "migrate"), ("db", "backup"), ("db", "copy"), ("status",)} <= shown | {
        (words[0],) for words in _shown_commands(SCALE)
    }
    assert ["run", "--shards", "0-3", "--shard-count", "8"] in _shown_commands(SCALE)


def _all_shown() -> list[tuple[str, list[str]]]:
    return [(guide.name, words) for guide in GUIDES for words in _shown_commands(guide)]


@pytest.mark.parametrize(
    ("guide", "words"), _all_shown(), ids=[f"{g}: {' '.join(w)}" for g, w in _all_shown()]
)
def test_every_command_in_the_guides_exists_with_its_options(guide: str, words: list[str]) -> None:
    check_command(words)


def check_command(words: list[str]) -> None:
    """`haven <words>` names a real command, and every --option in it is one of its options."""
    command: click.Command = main
    path: list[str] = []
    for word in words:
        if isinstance(command, click.Group) and word in command.commands:
            command = command.commands[word]
            path.append(word)
        else:
            break
    rest = words[len(path) :]
    assert path, f"haven {' '.join(words)}: no such command"
    if isinstance(command, click.Group) and rest and rest[0] != "...":
        pytest.fail(f"haven {' '.join(path)} has no command {rest[0]}")
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"haven {' '.join(path)} has no {word}"
