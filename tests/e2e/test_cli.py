"""The `haven` CLI as an operator uses it: packs, migrations, backups, bad files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.core.content.packs import default_pack_path
from bot.storage.migrate import latest_version


def haven(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    environment["HAVEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'haven.db'}"
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
