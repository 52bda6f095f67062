"""The `haven` CLI as an operator uses it: packs, migrations, backups, bad files."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core.content.packs import default_pack_path
from bot.storage.migrate import latest_version


def haven(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    environment["HAVEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'haven.db'}"
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=False,
    )


def test_pack_check_default_and_broken_pack(tmp_path: Path) -> None:
    ok = haven(tmp_path, "pack", "check", str(default_pack_path()))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK" in ok.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "schema_version: 1\npack: {id: x, locale: en, version: '1'}\n"
        "topics: [{slug: crisis, label: Crisis, description: d}]\n"
        "messages: []\n"
        "resources:\n"
        "  - key: a\n    title: A\n    url: http://insecure.example.org\n"
        "    regions: [GB]\n    topics: [crisis]\n    source_url: https://a.org\n"
        "    last_verified: 2026-11-01\n    status: verified\n"
    )
    bad = haven(tmp_path, "pack", "check", str(broken))
    assert bad.returncode == 1
    assert "resources[0].url" in bad.stdout
    assert "https" in bad.stdout


def test_pack_import_dry_run_then_import_then_export(tmp_path: Path) -> None:
    haven(tmp_path, "db", "migrate")
    exported = haven(tmp_path, "console", stdin="/support\n")  # creates the local community
    assert exported.returncode == 0
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "schema_version: 1\npack: {id: extra, locale: en, version: '1', disclaimer: Not a "
        "crisis service.}\n"
        "topics: [{slug: general, label: General support, description: Anything.}]\n"
        "messages:\n  - key: extra-hello\n    topics: [general]\n    text: Hello from a pack.\n"
        "resources: []\n"
    )
    dry = haven(tmp_path, "pack", "import", str(extra), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "extra-hello" in dry.stdout and "Dry run" in dry.stdout
    listing = haven(tmp_path, "console", stdin="/support-admin message show extra-hello\n")
    assert "no message with the key" in listing.stdout
    applied = haven(tmp_path, "pack", "import", str(extra))
    assert applied.returncode == 0, applied.stderr
    # The pack's topic description differs from the shipped one: the summary counts it too.
    assert "1 added, 0 changed" in applied.stdout
    assert "1 topics or emergency numbers added or changed" in applied.stdout
    again = haven(tmp_path, "pack", "import", str(extra), "--dry-run")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("No changes: the library already matches this pack.\n")
    assert "+ message extra-hello" not in again.stdout
    shown = haven(tmp_path, "console", stdin="/support-admin message show extra-hello\n")
    assert "Hello from a pack." in shown.stdout
    # The operator's import is in the item's history like a moderator's, and can be undone.
    history = haven(tmp_path, "console", stdin="/support-admin message history extra-hello\n")
    assert "import by haven pack import" in history.stdout
    out = tmp_path / "library.yaml"
    export = haven(tmp_path, "pack", "export", "-o", str(out))
    assert export.returncode == 0, export.stderr
    assert "extra-hello" in out.read_text()
    check = haven(tmp_path, "pack", "check", str(out))
    assert check.returncode == 0, check.stdout


def test_db_migrate_backup_and_newer_schema(tmp_path: Path) -> None:
    first = haven(tmp_path, "db", "migrate")
    assert first.returncode == 0 and "applied" in first.stdout
    second = haven(tmp_path, "db", "migrate")
    assert "up to date" in second.stdout
    backup = tmp_path / "backups" / "h.db"
    result = haven(tmp_path, "db", "backup", str(backup))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    with sqlite3.connect(tmp_path / "haven.db") as raw:
        raw.execute(f"PRAGMA user_version={latest_version() + 1}")
    refused = haven(tmp_path, "console", stdin="/support\n")
    assert refused.returncode == 1
    assert "newer than this Haven knows" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_corrupt_database_is_refused_and_kept(tmp_path: Path) -> None:
    garbage = b"garbage" * 1000
    (tmp_path / "haven.db").write_bytes(garbage)
    result = haven(tmp_path, "console", stdin="/support\n")
    assert result.returncode == 1
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "haven.db").read_bytes() == garbage


def _with_local_community(tmp_path: Path) -> None:
    created = haven(tmp_path, "console", stdin="/support\n")
    assert created.returncode == 0, created.stderr


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def test_db_backup_refuses_the_live_database_and_never_overwrites_without_force(
    tmp_path: Path,
) -> None:
    _with_local_community(tmp_path)
    live = tmp_path / "haven.db"
    before = live.read_bytes()
    for onto in (str(live), "haven.db", "haven.db-wal", "./sub/../haven.db"):
        refused = haven(tmp_path, "db", "backup", onto)
        assert refused.returncode == 1, onto
        assert "is the live database itself" in refused.stderr, onto
        assert "Traceback" not in refused.stderr
    assert live.read_bytes() == before
    existing = tmp_path / "old-backup.db"
    existing.write_bytes(b"yesterday's backup")
    kept = haven(tmp_path, "db", "backup", str(existing))
    assert kept.returncode == 1
    assert kept.stderr.strip() == (
        f"{existing} already exists; choose another name, or add --force to replace it."
    )
    assert existing.read_bytes() == b"yesterday's backup"
    replaced = haven(tmp_path, "db", "backup", str(existing), "--force")
    assert replaced.returncode == 0, replaced.stderr
    with sqlite3.connect(existing) as copy:
        assert copy.execute("SELECT id FROM communities").fetchall() == [("console:local",)]
    assert _leftovers(tmp_path) == []


def test_db_backup_without_a_file_writes_a_time_stamped_copy_beside_the_database(
    tmp_path: Path,
) -> None:
    _with_local_community(tmp_path)
    result = haven(tmp_path, "db", "backup")
    assert result.returncode == 0, result.stderr
    [copy] = [p for p in tmp_path.iterdir() if p.name.startswith("haven.backup.")]
    assert re.fullmatch(r"haven\.backup\.\d{8}T\d{6}Z\.db", copy.name)
    assert result.stdout.strip() == f"Backed up {tmp_path / 'haven.db'} to {copy}."
    with sqlite3.connect(copy) as opened:
        assert opened.execute("PRAGMA user_version").fetchone()[0] == latest_version()


def test_db_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    result = haven(tmp_path, "db", "backup", "copy.db")
    assert result.returncode == 1
    assert f"There is no database at {tmp_path / 'haven.db'}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["under-a-file", "unwritable"])
def test_db_backup_to_a_place_it_cannot_write_is_one_sentence_and_leaves_nothing(
    tmp_path: Path, where: str
) -> None:
    _with_local_community(tmp_path)
    if where == "under-a-file":
        (tmp_path / "notes.txt").write_text("a file, not a folder")
        target = tmp_path / "notes.txt" / "backup.db"
        says = f"{tmp_path / 'notes.txt'} is a file, so it cannot hold the backup {target}."
    else:
        # Nobody can create files in /proc, root included (a chmod'ed folder would not stop
        # root, which these tests may run as).
        if not Path("/proc/self").exists():
            pytest.skip("needs Linux /proc")
        target = Path("/proc/haven-backup.db")
        says = "Haven cannot write a backup in /proc"
    result = haven(tmp_path, "db", "backup", str(target))
    assert result.returncode == 1
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()


def _limit_file_size() -> None:
    import resource  # POSIX only

    # As on a full disk: writes past the limit fail (EFBIG) instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX resource limits")
def test_db_backup_that_runs_out_of_space_leaves_no_partial_file(tmp_path: Path) -> None:
    _with_local_community(tmp_path)
    assert (tmp_path / "haven.db").stat().st_size > 64_000
    (tmp_path / "backups").mkdir()
    old = tmp_path / "backups" / "haven.db"
    old.write_bytes(b"the previous good backup")
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    environment["HAVEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'haven.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "backup", str(old), "--force"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
        check=False,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 1
    assert f"The disk refused to write the backup {old}" in result.stderr
    assert "Nothing was left behind." in result.stderr
    assert "Traceback" not in result.stderr
    # The old backup is untouched and no partial copy is left beside it.
    assert old.read_bytes() == b"the previous good backup"
    assert sorted(p.name for p in old.parent.iterdir()) == ["haven.db"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and pipes")
@pytest.mark.parametrize("command", ["check", "import"])
def test_a_pack_that_is_a_device_a_pipe_or_too_big_is_refused_unread(
    tmp_path: Path, command: str
) -> None:
    fifo = tmp_path / "pack.fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as sparse:
        sparse.truncate(4_000_000_000)  # 4 GB, sparse: reading it whole would take minutes
    for path, says in (
        ("/dev/zero", "/dev/zero is not a regular file"),
        (str(fifo), f"{fifo} is not a regular file"),
        (str(huge), f"{huge} is 4000.0 MB; a pack is at most 2 MB, so it was not read."),
    ):
        started = time.monotonic()
        result = haven(tmp_path, "pack", command, path)
        assert result.returncode == 1, path
        assert says in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        assert time.monotonic() - started < 30


def test_a_pack_import_that_changes_nothing_says_so_and_writes_nothing(tmp_path: Path) -> None:
    _with_local_community(tmp_path)

    def audit_rows() -> int:
        with sqlite3.connect(tmp_path / "haven.db") as raw:
            return int(raw.execute("SELECT count(*) FROM audit_log").fetchone()[0])

    before = audit_rows()
    result = haven(tmp_path, "pack", "import", str(default_pack_path()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        f"Nothing changed: console:local already has everything in {default_pack_path()}."
    )
    assert "Imported" not in result.stdout
    assert audit_rows() == before


def test_communities_lists_ids_names_platforms_and_status(tmp_path: Path) -> None:
    _with_local_community(tmp_path)
    with sqlite3.connect(tmp_path / "haven.db") as raw:
        raw.execute(
            "INSERT INTO communities (id, platform, name) VALUES "
            "('discord:123456789012345678', 'discord', 'Rainbow\nRoom')"
        )
        raw.execute(
            "INSERT INTO communities (id, platform, name, status, removed_reason) VALUES "
            "('slack:T0QUEER', 'slack', 'Queer Peers', 'removed', 'The Slack app was uninstalled')"
        )
    result = haven(tmp_path, "communities")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ID                          PLATFORM  NAME           STATUS",
        "console:local               console   Local console  active",
        "discord:123456789012345678  discord   Rainbow Room   active",
        "slack:T0QUEER               slack     Queer Peers    removed (The Slack app was "
        "uninstalled)",
        "",
        f"3 in {tmp_path / 'haven.db'}. Use an ID with --community, e.g. haven pack export "
        "--community console:local",
    ]
    exported = haven(tmp_path, "pack", "export", "--community", "discord:123456789012345678")
    assert exported.returncode == 0, exported.stderr


def test_communities_without_a_database_creates_none(tmp_path: Path) -> None:
    result = haven(tmp_path, "communities")
    assert result.returncode == 1
    assert "There is no database at" in result.stderr
    assert not (tmp_path / "haven.db").exists()


def test_invite_refuses_an_application_id_that_is_not_a_number(tmp_path: Path) -> None:
    for bad in ("abc", "12345", "1234567890123456789012", "１２３４５６７８９０１２３４５６７８"):
        result = haven(tmp_path, "invite", "--application-id", bad)
        assert result.returncode == 2, bad
        assert f"'{bad}' is not a Discord application id" in result.stderr
        assert "discord.com/oauth2" not in result.stdout
    good = haven(tmp_path, "invite", "--application-id", "123456789012345678")
    assert good.returncode == 0
    assert "client_id=123456789012345678" in good.stdout


def test_start_up_logs_the_absolute_database_path(tmp_path: Path) -> None:
    first = haven(tmp_path, "db", "migrate")
    assert f"Creating a new, empty database at {tmp_path / 'haven.db'}" in first.stderr
    second = haven(tmp_path, "db", "migrate")
    assert f"INFO    bot.cli: Database: {tmp_path / 'haven.db'}" in second.stderr
    assert "WARNING" not in second.stderr


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///:memory:", "is an in-memory database"),
        ("sqlite:////dev/null", "/dev/null is a device or special file"),
        ("sqlite:///x.db?mode=ro", "would create a file named 'x.db?mode=ro'"),
        ("sqlite:///.", "is a folder; name the database file inside it"),
    ],
)
def test_a_database_url_haven_cannot_use_stops_start_up_with_one_sentence(
    tmp_path: Path, url: str, says: str
) -> None:
    result = haven(tmp_path, "console", stdin="/support\n", HAVEN_DATABASE_URL=url)
    assert result.returncode == 2
    assert result.stderr.startswith("Haven cannot start; fix these settings")
    [line] = [x for x in result.stderr.splitlines() if x.startswith("  - ")]
    assert line.startswith("  - HAVEN_DATABASE_URL: ") and says in line
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_broken_env_file_and_settings_file_are_listed_together(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"DISCORD_TOKEN=\xff\xfe\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.toml").write_text('[haven]\ndatabse_url = "sqlite:///x.db"\n')
    result = haven(tmp_path, "console", stdin="/support\n")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [x for x in result.stderr.splitlines() if x.startswith("  - ")]
    assert problems == [
        "  - .env: line 1 is not UTF-8 text; re-save the file as UTF-8.",
        "  - config/settings.toml: [haven] has no setting 'databse_url' (did you mean "
        "database_url?); it has database_url, log_level, platform_debug_logs, removal_grace_days, "
        "http_port, http_host, public_url.",
    ]


def test_discord_sync_against_an_unreachable_api_is_one_sentence(tmp_path: Path) -> None:
    haven(tmp_path, "db", "migrate")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = haven(
        tmp_path,
        "discord",
        "sync",
        DISCORD_TOKEN="e2e-unreachable-token",
        DISCORD_API_URL=f"http://127.0.0.1:{port}",
        HAVEN_LOG_LEVEL="WARNING",
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Haven cannot reach Discord at http://127.0.0.1:{port}/api/v10 (Connection refused); "
        "nothing was synced.",
        "Check this machine's network connection (and DISCORD_API_URL if you set it), then "
        "run haven discord sync again.",
    ]


def test_pack_export_without_a_database_creates_none(tmp_path: Path) -> None:
    result = haven(tmp_path, "pack", "export")
    assert result.returncode == 1
    assert result.stderr.startswith(f"There is no database at {tmp_path / 'haven.db'}")
    assert not (tmp_path / "haven.db").exists()


def test_pack_export_never_writes_over_the_database_or_an_existing_file(tmp_path: Path) -> None:
    haven(tmp_path, "console", stdin="/support\n")
    database = tmp_path / "haven.db"
    onto_database = haven(tmp_path, "pack", "export", "-o", str(database))
    assert onto_database.returncode != 0 and "database itself" in onto_database.stderr
    assert haven(tmp_path, "communities").returncode == 0, "the database still opens"
    out = tmp_path / "library.yaml"
    out.write_text("keep me")
    again = haven(tmp_path, "pack", "export", "-o", str(out))
    assert again.returncode != 0 and "--force" in again.stderr
    assert out.read_text() == "keep me"
    forced = haven(tmp_path, "pack", "export", "-o", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "messages:" in out.read_text()


def test_pack_check_lists_resources_not_verified_in_a_year_oldest_first(tmp_path: Path) -> None:
    pack = tmp_path / "old.yaml"
    resource = (
        "  - key: {key}\n    title: {key}\n    url: https://{key}.example.org\n"
        "    regions: [GB]\n    topics: [crisis]\n    source_url: https://{key}.example.org\n"
        "{verified}    status: verified\n"
    )
    pack.write_text(
        "schema_version: 1\npack: {id: x, locale: en, version: '1', disclaimer: d}\n"
        "topics: [{slug: crisis, label: Crisis, description: d}]\n"
        "messages: []\nresources:\n"
        + resource.format(key="older", verified="    last_verified: 2019-05-01\n")
        + resource.format(key="recent", verified="    last_verified: 2099-01-01\n")
        + resource.format(key="old", verified="    last_verified: 2021-03-01\n")
        + resource.format(key="never", verified="")
    )
    result = haven(tmp_path, "pack", "check", str(pack))
    assert result.returncode == 0, result.stdout + result.stderr
    listing = result.stdout.split("oldest first:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listing[:3]] == ["never", "older", "old"]
    assert "never checked" in listing[0] and "last checked 2019-05-01" in listing[1]
    assert "recent" not in result.stdout.split("oldest first:", 1)[1].split("OK")[0]
