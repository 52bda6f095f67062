"""The console as a new user runs it: `haven console` driven from a pipe, a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.answers_in_four_languages import CASES, IDS, LanguageCase, assert_answer_in


def run_console(
    tmp_path: Path, script: str, *options: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    environment.update({"HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *options],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=False,
    )


def answers(output: str) -> list[str]:
    """Split console output into one block per answer (each starts with a tone mark)."""
    blocks: list[str] = []
    for line in output.splitlines():
        if line[:1] in ("💙", "ℹ", "✔", "✖"):
            blocks.append(line + "\n")
        elif blocks:
            blocks[-1] += line + "\n"
    return blocks


def test_support_by_region_from_a_pipe(tmp_path: Path) -> None:
    result = run_console(
        tmp_path, "/support coming-out GB\n/support coming-out US\n/support crisis\n"
    )
    assert result.returncode == 0, result.stderr
    uk, us, unknown = answers(result.stdout)
    assert "switchboard.lgbt" in uk and "999" in uk
    assert "988" not in uk and "thetrevorproject" not in uk
    assert "thetrevorproject.org" in us and "911" in us
    assert "116 123" not in us
    for number in ("999", "911", "988", "116 123", "13 11 14", "1737"):
        assert number not in unknown, number
    assert "local emergency number" in unknown
    covered = "Covered: AU, BR, CA, DE, ES, FR, GB, IE, IN, IT, MX, NL, NZ, PH, PL, US"
    assert covered in unknown.replace("\n", " ")
    assert result.stderr == ""


def test_console_locale_answers_in_german(tmp_path: Path) -> None:
    result = run_console(
        tmp_path,
        "/support crisis DE\n/support Deutschland\n/support-admin help\n",
        "--locale",
        "de",
    )
    assert result.returncode == 0, result.stderr
    crisis, by_country, help_text = answers(result.stdout)
    assert crisis.startswith("💙 Gerade in der Krise")
    assert "TelefonSeelsorge" in crisis and "Anrufen: 0800 111 0 111" in crisis
    assert "Nur du kannst das sehen." in crisis and "Haven ist kein Krisendienst." in crisis
    assert "Only you can see this" not in crisis
    assert by_country.startswith("✖ Das hat nicht geklappt")  # a country is not a topic
    # Moderator help stays English.
    assert "/support-admin message add" in help_text and "Gerade" not in help_text
    assert result.stderr == ""


def test_console_refuses_a_language_haven_lacks(tmp_path: Path) -> None:
    result = run_console(tmp_path, "", "--locale", "tlh")
    assert result.returncode == 2
    assert "Haven has no words in 'tlh' yet. Choose one of: en, es, fr, de, pt-BR." in (
        result.stderr
    )


def test_moderator_lifecycle_in_the_console(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/support-admin message add topics:coming-out text:No deadline, ever.",
            "/support-admin message edit key:coming-out-no-deadline-ever text:No deadline.",
            "/support-admin message undo key:coming-out-no-deadline-ever",
            "/support-admin message show coming-out-no-deadline-ever",
            "/support-admin message remove key:coming-out-no-deadline-ever",
            "/support-admin message history key:coming-out-no-deadline-ever",
            '/support-admin resource add title:"Test Line" url:https://test.example.org '
            'topics:coming-out regions:GB phone:"0800 123 4567"',
            '/support-admin resource edit key:gb-test-line hours:"Evenings"',
            "/support-admin resource undo key:gb-test-line",
            "/support-admin resource remove key:gb-test-line",
            "/support-admin resource history key:gb-test-line",
            "",
        ]
    )
    result = run_console(tmp_path, script)
    assert result.returncode == 0, result.stderr
    blocks = answers(result.stdout)
    assert len(blocks) == 11, result.stdout
    added, edited, undone, shown, removed, history = blocks[:6]
    assert added.startswith("✔ Message added")
    assert "No deadline." in edited
    assert undone.startswith("✔ Change undone")
    assert "No deadline, ever." in shown
    assert removed.startswith("✔ Message removed")
    user = history.split("by ")[1].split()[0]
    for action in ("remove", "undo", "edit", "add"):
        assert f" {action} by {user}" in history
    r_added, r_edited, r_undone, r_removed, r_history = blocks[6:]
    assert r_added.startswith("✔ Resource added")
    assert "Evenings" in r_edited
    assert r_undone.startswith("✔ Change undone")
    assert r_removed.startswith("✔ Resource removed")
    changes = [line for line in r_history.splitlines()[2:] if line[:1].isdigit()]
    # "<date> <time> <zone> <action> by <who>", newest first.
    assert [line.split()[3] for line in changes[:4]] == ["remove", "undo", "edit", "add"]
    assert "hours: (none) → Evenings" in r_history


def test_bad_commands_get_clear_answers(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/support coming-in",  # too far from coming-out to guess
            "/support coming-out Atlantis",
            "/suport",
            '/support-admin message add topics:general text:"unclosed',
            "/support-admin resource add title:X url:javascript:alert(1) topics:crisis regions:GB",
            "",
        ]
    )
    result = run_console(tmp_path, script)
    assert result.returncode == 0
    topic, region, command, quote, url = answers(result.stdout)
    assert "coming-in" in topic and "coming-out" in topic
    assert "Atlantis" in region
    assert "/support" in command
    assert "not closed" in quote
    assert "https://" in url
    assert "Traceback" not in result.stdout + result.stderr


def test_unwritable_database_location_is_explained(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("not a folder")
    result = run_console(
        tmp_path, "/support\n", HAVEN_DATABASE_URL=f"sqlite:///{tmp_path / 'blocker' / 'h.db'}"
    )
    assert result.returncode == 1
    assert "cannot create the folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_explained(tmp_path: Path) -> None:
    result = run_console(tmp_path, "/support\n", HAVEN_LOG_LEVEL="LOUD")
    assert result.returncode == 2
    assert "HAVEN_LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["--version"], ["run"]])
def test_cli_basics(tmp_path: Path, command: list[str]) -> None:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=False,
    )
    if command == ["--version"]:
        assert result.returncode == 0 and "haven" in result.stdout
    else:
        assert result.returncode == 2
        assert "DISCORD_TOKEN" in result.stderr and "haven console" in result.stderr


def test_a_resource_is_reported_from_the_console(tmp_path: Path) -> None:
    """The answer names the report command; three reports show in `resource show`."""
    report = "/support-report gb-samaritans number\n"
    show = "/support-admin resource show gb-samaritans\n"
    result = run_console(tmp_path, "/support crisis GB\n" + report * 2 + show + report + show)
    assert result.returncode == 0, result.stderr
    answer, first, second, hidden, third, shown = answers(result.stdout)
    assert "Report a problem: /support-report gb-samaritans <number|link|hours>" in answer
    assert all("Thank you — the moderators will check it" in a for a in (first, second, third))
    assert "Reports:" not in hidden
    assert "Reports: This number didn't work (last 30 days): 3" in shown


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_console_crisis_answers_in_the_four_shipped_languages(
    tmp_path: Path, case: LanguageCase
) -> None:
    result = run_console(tmp_path, f"/support crisis {case.region}\n", "--locale", case.locale)
    assert result.returncode == 0, result.stderr
    (crisis,) = answers(result.stdout)
    assert_answer_in(crisis, case)
