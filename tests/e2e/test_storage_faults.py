"""Storage faults as the operator and a moderator meet them, through the real `haven` process.

The database file deleted under a running console; an old database migrated by `haven db
migrate`, with the backup it took and where it is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bot.storage.database import FILE_LOST_MESSAGE
from bot.storage.migrate import latest_version
from tests.storage.legacy import legacy_migrations


def environment(tmp_path: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
    }
    env["HAVEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'haven.db'}"
    return env


def wait_for_message(path: Path, text: str, timeout: float = 30.0) -> None:
    """Until the console has committed a message with this text (read as another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                with sqlite3.connect(path, timeout=1) as raw:
                    found = raw.execute("SELECT 1 FROM messages WHERE text = ?", (text,)).fetchone()
                raw.close()
                if found:
                    return
            except sqlite3.OperationalError:
                pass  # not migrated yet
        time.sleep(0.05)
    raise AssertionError(f"the console never saved {text!r}")


def test_console_refuses_changes_once_its_database_file_is_deleted(tmp_path: Path) -> None:
    path = tmp_path / "haven.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
    )
    try:
        assert process.stdin is not None
        process.stdin.write("/support-admin message add topics:general Saved while it was there.\n")
        process.stdin.flush()
        wait_for_message(path, "Saved while it was there.")
        for leftover in tmp_path.glob("haven.db*"):
            leftover.unlink()
        process.stdin.write(
            "/support-admin message add topics:general Lost with the file.\n"
            '/support-admin resource add title:"Lost Line" url:https://lost.example.org '
            "topics:crisis regions:GB\n"
            '/support-admin resource edit gb-samaritans description:"Changed, then lost."\n'
            '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:general\n'
            "/support crisis GB\n"
        )
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    shown = " ".join(stdout.split())  # the console wraps long lines
    assert "Message added" in shown
    assert shown.count(FILE_LOST_MESSAGE) == 4
    assert "Samaritans" in shown.split(FILE_LOST_MESSAGE)[-1]  # /support still answers
    operator = [line for line in stderr.splitlines() if "was deleted, moved or replaced" in line]
    assert len(operator) == 1, stderr
    assert "ERROR" in operator[0] and str(path) in operator[0]
    assert "Traceback" not in stderr
    assert not path.exists()


def _old_database(path: Path) -> None:
    """A database as Haven left it before schedules existed: only migration 0001 applied."""
    sql = legacy_migrations()[0].sql
    with sqlite3.connect(path) as raw:
        raw.executescript(sql)
        raw.execute("PRAGMA user_version=1")
        raw.execute(
            "INSERT INTO communities (id, platform, name) VALUES ('console:old', 'console', 'Old')"
        )
    raw.close()


def test_db_migrate_backs_up_an_old_database_and_says_where(tmp_path: Path) -> None:
    _old_database(tmp_path / "haven.db")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "migrate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (backup,) = tmp_path.glob("haven.before-0002.*.db")
    assert f"Backed up first to {backup}." in result.stdout
    assert str(backup) in result.stderr  # the log line says it too
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("SELECT name FROM communities").fetchall() == [("Old",)]
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    copy.close()
    assert "schedules" not in tables
    with sqlite3.connect(tmp_path / "haven.db") as live:
        assert live.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    live.close()
    again = subprocess.run(
        [sys.executable, "-m", "bot", "db", "migrate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
        timeout=60,
        check=False,
    )
    assert "up to date" in again.stdout and "Backed up" not in again.stdout
    assert len(list(tmp_path.glob("haven.before-*"))) == 1


def test_haven_refuses_a_database_on_a_network_share_in_one_sentence(tmp_path: Path) -> None:
    """The machine has no NFS: the child process reads a fake mount table instead of
    /proc/self/mountinfo (set by a sitecustomize module only this test puts on its path)."""
    share = tmp_path / "share"
    share.mkdir()
    table = tmp_path / "mountinfo"
    table.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        f"40 22 0:40 / {share.resolve()} rw,relatime shared:40 - nfs4 nas.example:/haven rw\n"
    )
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "from pathlib import Path\n"
        "import bot.storage.fs\n"
        f"bot.storage.fs.MOUNTINFO = Path({str(table)!r})\n"
    )
    database = share / "haven.db"
    _old_database(database)  # an existing database, put on the share before this Haven
    before = database.read_bytes()
    env = environment(tmp_path)
    env["HAVEN_DATABASE_URL"] = f"sqlite:///{database}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hooks), env.get("PYTHONPATH")]))

    def haven(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input="/support\n",
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
            check=False,
        )

    refused = haven("console")
    assert refused.returncode == 1
    assert "network file system (nfs4, nas.example:/haven" in refused.stderr
    assert "local disk" in refused.stderr and "HAVEN_DATABASE_URL" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in share.iterdir()) == ["haven.db"]  # no -wal, no -shm
    assert database.read_bytes() == before
    # The way out the hint gives works from there: a backup onto a local disk.
    local = tmp_path / "local" / "haven.db"
    copied = haven("db", "backup", str(local))
    assert copied.returncode == 0, copied.stderr
    assert read_names(local) == [("Old",)]


def read_names(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM communities").fetchall()
    raw.close()
    return rows
