"""Haven's numbered SQLite migrations as they shipped before Alembic (PRAGMA user_version 1-3):
tests build databases as an older Haven left them, to see them upgraded in place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class LegacyMigration:
    version: int
    name: str
    sql: str


def legacy_migrations() -> list[LegacyMigration]:
    found = sorted(FOLDER.glob("*.sql"))
    return [LegacyMigration(int(p.name[:4]), p.name, p.read_text("utf-8")) for p in found]
