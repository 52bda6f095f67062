"""`haven db backup` when the disk fills part-way: one sentence, no partial file (in-process,
since a real full disk cannot be made without privileges)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.storage.database import Database


def test_a_full_disk_during_backup_is_one_sentence_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(tmp_path / "haven.db") as live:
        live.execute("CREATE TABLE t (x)")

    async def fills_the_disk(self: Database, target: Path) -> None:
        target.write_bytes(b"SQLite format 3\x00 and then the disk was full")
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorname = "SQLITE_FULL"
        raise error

    monkeypatch.setattr(Database, "backup_to", fills_the_disk)
    result = CliRunner().invoke(
        main,
        ["db", "backup", "copy.db"],
        env={"HAVEN_DATABASE_URL": f"sqlite:///{tmp_path / 'haven.db'}"},
    )
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"The disk holding {tmp_path} is full, so the backup to {tmp_path / 'copy.db'} failed.\n"
        "Nothing was left behind."
    )
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("haven.db")) == []
