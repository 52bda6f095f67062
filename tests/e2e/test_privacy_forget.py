"""`haven privacy forget --user ID` as an operator runs it, on a real database a moderator used:
afterwards neither the id nor the name is anywhere in the database's bytes, and the audit trail
keeps its shape."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.app import open_services
from bot.core.content.curation import MessageDraft, ResourceDraft
from bot.core.models import Actor, ItemKind, Platform, RequestContext, community_id_for
from bot.settings import Settings
from tests.e2e.test_cli import haven

GUILD = community_id_for(Platform.DISCORD, "4242")
OTHER_GUILD = community_id_for(Platform.DISCORD, "5353")
FORGOTTEN = Actor(
    id="987654321012345678",
    display_name="Robin Quillfeather-Ashdown of the Long Name",
    has_admin_permission=True,
)
STAYS = Actor(id="111222333444555666", display_name="Sam Staysput", has_admin_permission=True)


async def _moderate(database: Path) -> None:
    """What two moderators did: content, settings that name the first, a paused schedule."""
    async with open_services(Settings(database_path=database)) as services:
        for guild, name in ((GUILD, "Guild"), (OTHER_GUILD, "Other")):
            await services.communities.ensure(Platform.DISCORD, guild.split(":")[1], name)
        forgotten = RequestContext(GUILD, Platform.DISCORD, FORGOTTEN)
        stays = RequestContext(GUILD, Platform.DISCORD, STAYS)
        await services.curation.add_message(
            forgotten, MessageDraft(text="Take your time.", topics="coming-out")
        )
        await services.curation.add_resource(
            forgotten,
            ResourceDraft(
                title="Local Line",
                url="https://local.example.org",
                topics="crisis",
                regions="GB",
                phone="116 123",
                key="local-line",
            ),
        )
        await services.curation.edit_resource(
            stays, "local-line", ResourceDraft(hours="Evenings"), None
        )
        await services.communities.update_settings(
            stays, "moderator-users", moderator_user_ids=(FORGOTTEN.id, STAYS.id)
        )
        added = await services.schedules.add(
            forgotten, channel="<#555000111222333444>", when="daily 09:00", topic="coming-out"
        )
        await services.schedules.pause(forgotten, added.schedule.id)
        await services.curation.add_message(
            RequestContext(OTHER_GUILD, Platform.DISCORD, FORGOTTEN),
            MessageDraft(text="You belong here.", topics="general"),
        )


def _database_bytes(database: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in database.parent.iterdir()
        if path.name.startswith(database.name)
    )


def _audit(database: Path) -> list[tuple[str, str, str, str, str]]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(
            "SELECT community_id, actor_id, actor_name, action, item_key FROM audit_log ORDER BY id"
        ).fetchall()
    finally:
        connection.close()


def _one(database: Path, sql: str) -> object:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def test_forget_leaves_no_trace_of_the_id_or_name_and_keeps_the_trail(tmp_path: Path) -> None:
    database = tmp_path / "haven.db"
    asyncio.run(_moderate(database))
    before = _audit(database)
    secrets = (FORGOTTEN.id.encode(), FORGOTTEN.display_name.encode())
    # The test means something only if the moderator is really in the file first.
    assert all(secret in _database_bytes(database) for secret in secrets)

    result = haven(tmp_path, "privacy", "forget", "--user", FORGOTTEN.id)

    assert result.returncode == 0, result.stdout + result.stderr
    data = _database_bytes(database)
    for secret in secrets:
        assert secret not in data, secret
    assert FORGOTTEN.id not in result.stdout and FORGOTTEN.display_name not in result.stdout
    after = _audit(database)
    # The same entries in the same order, plus one forgetting per community touched.
    assert len(after) == len(before) + 2
    markers = set()
    for old, new in zip(before, after, strict=False):
        assert (old[0], old[3], old[4]) == (new[0], new[3], new[4])
        if old[1] == FORGOTTEN.id:
            assert new[1] == new[2]
            markers.add(new[1])
        else:
            assert new == old  # the other moderator's entries stay theirs
    (marker,) = markers  # one marker for the one person, in both communities
    assert marker.startswith("forgotten-")
    forgets = after[len(before) :]
    assert {row[0] for row in forgets} == {GUILD, OTHER_GUILD}
    assert {(row[1], row[2], row[3]) for row in forgets} == {
        ("cli", "haven privacy forget", "privacy.forget")
    }
    assert _one(database, "SELECT created_by FROM schedules") == marker
    assert _one(database, "SELECT paused_reason FROM schedules") == f"paused by {marker}"
    assert _one(database, f"SELECT moderator_user_ids FROM communities WHERE id = '{GUILD}'") == (
        f'["{STAYS.id}"]'
    )
    assert marker in result.stdout
    # Four entries by the person, and the other moderator's settings change that listed them.
    assert f"{GUILD}: 5 audit entries, 1 schedule (creator), removed from the moderator" in (
        result.stdout
    )
    assert f"{OTHER_GUILD}: 1 audit entry\n" in result.stdout
    listed = _one(database, "SELECT after_json FROM audit_log WHERE action LIKE 'settings.%'")
    assert f'"moderator_user_ids": ["{marker}", "{STAYS.id}"]' in str(listed)
    assert STAYS.id.encode() in data and STAYS.display_name.encode() in data

    again = haven(tmp_path, "privacy", "forget", "--user", FORGOTTEN.id)
    assert again.returncode == 0, again.stderr
    assert "nothing was changed" in again.stdout
    assert len(_audit(database)) == len(after)


def test_forget_history_still_reads_after_forgetting(tmp_path: Path) -> None:
    database = tmp_path / "haven.db"
    asyncio.run(_moderate(database))
    assert haven(tmp_path, "privacy", "forget", "--user", FORGOTTEN.id).returncode == 0

    async def history() -> list[str]:
        async with open_services(Settings(database_path=database)) as services:
            ctx = RequestContext(GUILD, Platform.DISCORD, STAYS)
            entries = await services.curation.history(ctx, ItemKind.RESOURCE, "local-line")
            return [entry.actor_name for entry in entries]

    names = asyncio.run(history())
    assert names[0] == STAYS.display_name
    assert names[1].startswith("forgotten-")


def test_forget_needs_a_user(tmp_path: Path) -> None:
    missing = haven(tmp_path, "privacy", "forget")
    assert missing.returncode != 0
    assert "--user" in missing.stderr
    blank = haven(tmp_path, "privacy", "forget", "--user", "  ")
    assert blank.returncode == 1
    assert "platform user id" in blank.stderr


def test_forget_refuses_havens_own_markers(tmp_path: Path) -> None:
    for not_a_person in ("cli", "forgotten-1a2b3c4d"):
        refused = haven(tmp_path, "privacy", "forget", "--user", not_a_person)
        assert refused.returncode == 1
        assert "is Haven's own marker, not a person's id; nothing was changed." in refused.stderr


def test_forget_with_no_database_there_says_so_and_creates_none(tmp_path: Path) -> None:
    result = haven(tmp_path, "privacy", "forget", "--user", FORGOTTEN.id)
    assert result.returncode != 0
    assert "There is no database" in result.stderr
    assert not (tmp_path / "haven.db").exists()
