"""Revision 0008 on both engines: a database made by the previous migrations, holding a copy
seeded from an older pack plus one edited, one disabled, one added and one removed item,
becomes layers without losing any moderator's change. The audit trail decides: an item no
moderator ever touched is inherited whatever its text (so Haven's later corrections reach it)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.content.packs import load_default_pack, pack_to_changes
from bot.core.content.records import item_to_dict
from bot.core.content.releases import ReleaseService
from bot.core.models import ItemKind, LibraryItem, Resource
from bot.core.ports import ItemLayer, NewAuditEntry
from bot.storage.database import SqlDatabase
from bot.storage.layers import SqlShippedLayer
from bot.storage.migrate import latest_version, migrate
from bot.storage.repositories import (
    SqlContentRepository,
    _apply_library_changes,
    insert_audit,
)
from tests.conftest import empty_database

C = "discord:old"
STALE = "gb-samaritans"  # Haven changed it since the seed; nobody here touched it
EDITED = "gb-shout"
DISABLED = "gb-switchboard"
REMOVED = "gb-childline"
RETIRED = "gb-closed-line"  # seeded from the older pack, Haven no longer ships it
ADDED = "gb-our-own"


def _audit(action: str, before: LibraryItem | None, after: LibraryItem | None) -> NewAuditEntry:
    item = after or before
    assert item is not None
    return NewAuditEntry(
        actor_id="mod-1",
        actor_name="Mod",
        action=action,
        item_kind=ItemKind.RESOURCE,
        item_key=item.key,
        before=item_to_dict(before) if before else None,
        after=item_to_dict(after) if after else None,
    )


async def test_revision_0008_keeps_every_moderator_change_and_inherits_the_rest(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with empty_database(engine, request, tmp_path) as db:
        report = await migrate(db, up_to=7)  # the database an older Haven left
        assert report.to_version == 7 < latest_version()
        await _seed_as_an_older_haven(db)
        await migrate(db)
        await ReleaseService(SqlShippedLayer(db)).install(load_default_pack())
        await _check_layers(db)


async def _seed_as_an_older_haven(db: SqlDatabase) -> None:
    # An older pack had no translations.
    pack = load_default_pack()
    pack = replace(
        pack,
        messages=tuple(replace(m, translations=()) for m in pack.messages),
        resources=tuple(replace(r, translations=()) for r in pack.resources),
    )
    by_key = {r.key: r for r in pack.resources}
    older = replace(by_key[STALE], description="The older pack's words.", version=1)
    retired = replace(by_key[STALE], key=RETIRED, title="Closed Line")
    kept = [older if r.key == STALE else r for r in pack.resources if r.key != REMOVED]
    seeded = (*kept, retired)
    edited = replace(by_key[EDITED], description="Our words.", version=2)
    disabled = replace(by_key[DISABLED], enabled=False, version=2)
    added = Resource(
        ADDED, "Our Own Line", "https://ours.example.org", regions=("GB",), topics=("general",)
    )
    async with db.write() as conn:
        # Today's writer names the translations column of revision 0010, which an older
        # Haven's tables did not have: it writes through a temporary one, dropped below.
        for table in ("messages", "resources"):
            await conn.execute(
                f"ALTER TABLE {table} ADD COLUMN translations TEXT NOT NULL DEFAULT '{{}}'"
            )
        await conn.execute("INSERT INTO communities (id, platform) VALUES (?, 'discord')", (C,))
        await _apply_library_changes(
            conn, C, replace(pack_to_changes(pack), upsert_resources=seeded)
        )
        await _apply_library_changes(
            conn,
            C,
            replace(
                pack_to_changes(pack),
                topics=(),
                emergency_numbers=(),
                upsert_messages=(),
                upsert_resources=(edited, disabled, added),
            ),
        )
        await insert_audit(conn, C, _audit("edit", by_key[EDITED], edited))
        await insert_audit(conn, C, _audit("disable", by_key[DISABLED], disabled))
        await insert_audit(conn, C, _audit("add", None, added))
        await insert_audit(conn, C, _audit("remove", by_key[REMOVED], None))
        for table in ("messages", "resources"):
            await conn.execute(f"ALTER TABLE {table} DROP COLUMN translations")


async def _check_layers(db: SqlDatabase) -> None:
    content = SqlContentRepository(db)
    library = await content.load_library(C)
    resources = {r.key: r for r in library.resources}
    shipped = {r.key: r for r in load_default_pack().resources}
    assert resources[STALE] == shipped[STALE]  # today's words, not the seed's
    assert RETIRED not in resources
    assert resources[EDITED].description == "Our words."
    assert not resources[DISABLED].enabled
    assert resources[ADDED].title == "Our Own Line"
    assert not resources[REMOVED].enabled  # the moderator's removal stays: hidden
    layers = {
        key: await content.item_layer(C, ItemKind.RESOURCE, key)
        for key in (STALE, EDITED, DISABLED, ADDED, REMOVED)
    }
    assert layers == {
        STALE: ItemLayer.INHERITED,
        EDITED: ItemLayer.EDITED,
        DISABLED: ItemLayer.EDITED,
        ADDED: ItemLayer.OWN,
        REMOVED: ItemLayer.HIDDEN,
    }
    own = await content.own_library(C)
    assert sorted(r.key for r in own.resources) == sorted([EDITED, DISABLED, ADDED])
    assert own.emergency_numbers == () and own.messages == ()
    for table in ("topics", "emergency_numbers", "messages"):
        assert await db.fetch_all(f"SELECT 1 FROM {table} WHERE community_id = ?", (C,)) == []
    (entry,) = await db.fetch_all(
        "SELECT actor_id, after_json FROM audit_log WHERE action = 'layers.migrate'"
    )
    assert entry["actor_id"] == "haven"
    assert json.loads(entry["after_json"]) == {"own_messages": 0, "own_resources": 3}
    # Every message was the untouched seed: all inherited.
    assert len(library.messages) == len(load_default_pack().messages)
