"""The database file deleted, moved or replaced while Haven runs: writes are refused, not lost.

Real SQLite, the real migrations and the real router: the moderator's command must answer
with the one sentence, the operator's log line must appear once however many commands are
refused, and /support must go on answering from memory.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import console_context
from bot.app import open_services
from bot.core.cards import CardTone
from bot.core.errors import StorageUnavailable
from bot.core.models import Actor, Platform, RequestContext
from bot.services import Services
from bot.settings import Settings
from bot.storage.database import FILE_LOST_MESSAGE, Database

# SQLite's own file, write-ahead log and online backup: nothing PostgreSQL has.
pytestmark = pytest.mark.sqlite_only

OPERATOR_LINE = "was deleted, moved or replaced while Haven was running"

COMMANDS = (
    "/support-admin message add topics:general Saved after the file went away.",
    '/support-admin resource add title:"Lost Line" url:https://lost.example.org topics:crisis '
    "regions:GB",
    '/support-admin resource edit gb-samaritans description:"Changed after it went away."',
    '/support-admin schedule add channel:#welcome when:"daily 09:00" topic:coming-out',
)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(Settings(database_path=tmp_path / "haven.db")) as opened:
        yield opened


def operator_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if OPERATOR_LINE in r.getMessage()]


async def run(services: Services, line: str) -> tuple[CardTone, str]:
    card = await services.router.run_text(console_context(), line)
    return card.tone, card.body


async def support_titles(services: Services) -> list[str]:
    card = await services.router.run_text(console_context(), "/support crisis GB")
    assert card.tone is CardTone.SUPPORT
    return [resource.title for resource in card.resources]


async def test_a_deleted_file_refuses_every_write_with_one_sentence(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    path = tmp_path / "haven.db"
    tone, _ = await run(services, "/support-admin message add topics:general Saved before.")
    assert tone is CardTone.SUCCESS
    before = await support_titles(services)
    assert "Samaritans" in before
    for leftover in tmp_path.glob("haven.db*"):
        leftover.unlink()  # `rm haven.db*`, as a careless clean-up would
    for _ in range(3):
        for line in COMMANDS:
            tone, body = await run(services, line)
            assert (tone, body) == (CardTone.ERROR, FILE_LOST_MESSAGE), line
    (record,) = operator_lines(caplog)
    assert record.levelno == logging.ERROR
    assert str(path) in record.getMessage()
    assert "restart Haven" in record.getMessage()
    assert "Put the original file back" in record.getMessage()
    # /support is answered from memory, as before.
    assert await support_titles(services) == before
    assert not path.exists()  # nothing recreated a file at the path either


async def test_a_replaced_file_is_refused_and_left_as_it_is(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    path = tmp_path / "haven.db"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE unrelated (x)")
    raw.close()
    os.replace(other, path)
    for line in COMMANDS:
        assert await run(services, line) == (CardTone.ERROR, FILE_LOST_MESSAGE)
    assert len(operator_lines(caplog)) == 1
    assert "another file is there now" in operator_lines(caplog)[0].getMessage()
    with sqlite3.connect(path) as raw:
        names = [row[0] for row in raw.execute("SELECT name FROM sqlite_master")]
    raw.close()
    assert names == ["unrelated"]


async def test_a_file_moved_back_takes_changes_again_and_keeps_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    path = tmp_path / "haven.db"
    aside = tmp_path / "moved-aside.db"
    settings = Settings(database_path=path)
    async with open_services(settings) as services:
        os.rename(path, aside)
        assert await run(services, COMMANDS[0]) == (CardTone.ERROR, FILE_LOST_MESSAGE)
        os.rename(aside, path)
        tone, _ = await run(services, COMMANDS[0])
        assert tone is CardTone.SUCCESS
    assert len(operator_lines(caplog)) == 1
    assert any("is back" in r.getMessage() for r in caplog.records)
    with sqlite3.connect(path) as raw:
        texts = [row[0] for row in raw.execute("SELECT text FROM messages")]
    raw.close()
    assert "Saved after the file went away." in texts


async def test_a_file_moved_away_without_its_log_still_has_every_change(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What was committed sits in the -wal until a checkpoint; an operator who moves only the
    .db file away would lose it. On noticing, Haven checkpoints into the file it holds."""
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    tone, _ = await run(services, "/support-admin message add topics:general Kept in the move.")
    assert tone is CardTone.SUCCESS
    moved = tmp_path / "elsewhere" / "haven.db"
    moved.parent.mkdir()
    os.rename(tmp_path / "haven.db", moved)  # the -wal and -shm stay behind
    assert await run(services, COMMANDS[0]) == (CardTone.ERROR, FILE_LOST_MESSAGE)
    assert not (moved.parent / "haven.db-wal").exists()
    with sqlite3.connect(moved) as raw:
        texts = [row[0] for row in raw.execute("SELECT text FROM messages")]
    raw.close()
    assert "Kept in the move." in texts


async def test_a_file_deleted_inside_a_transaction_rolls_it_back(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    with pytest.raises(StorageUnavailable) as raised:
        async with db.write() as conn:
            await conn.execute("INSERT INTO communities (id, platform) VALUES ('x', 'console')")
            (tmp_path / "haven.db").unlink()
    assert raised.value.message == FILE_LOST_MESSAGE
    # The reader still has the original file open: the row is not in it.
    assert await db.fetch_one("SELECT id FROM communities WHERE id = 'x'") is None
    assert db.file_lost


async def test_the_same_file_after_opening_is_not_mistaken_for_a_new_one(db: Database) -> None:
    for i in range(5):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO communities (id, platform) VALUES (?, 'console')", (f"k{i}",)
            )
    assert not db.file_lost
    rows = await db.fetch_all("SELECT id FROM communities")
    assert len(rows) == 5


async def test_a_new_communitys_first_support_after_the_loss_gets_the_built_in_answer(
    services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.haven_allow_errors = True  # type: ignore[attr-defined]
    for leftover in tmp_path.glob("haven.db*"):
        leftover.unlink()
    ctx = RequestContext(
        community_id="discord:1234", platform=Platform.DISCORD, actor=Actor(id="asker")
    )
    card = await services.router.support(ctx, "crisis", None)
    assert card.tone is CardTone.SUPPORT
    assert FILE_LOST_MESSAGE not in card.body
