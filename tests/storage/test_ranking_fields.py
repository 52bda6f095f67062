"""Rank, audience, ages and opening hours in storage: a round trip on both engines, and what
revision 0007 gives the rows an older database already holds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.core.content.packs import load_default_pack, pack_to_changes
from bot.core.models import Audience, Community, Platform, Resource, SupportMessage
from bot.core.ports import LibraryChanges
from bot.storage.database import Database
from bot.storage.migrate import migrate
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    _message_from_row,
    _resource_from_row,
)
from tests.storage.legacy import legacy_migrations

COMMUNITY = Community(id="console:ranks", platform=Platform.CONSOLE, name="Ranks")


async def test_new_fields_round_trip(db: Any) -> None:
    communities, content = SqlCommunityRepository(db), SqlContentRepository(db)
    resource = Resource(
        key="gb-young",
        title="Young Line",
        url="https://young.example.org.uk",
        regions=("GB",),
        topics=("crisis",),
        rank=7,
        audience=Audience.YOUNG_PEOPLE,
        age_min=5,
        age_max=25,
        opening_hours="Mo-Fr 13:00-20:30",
        timezone="Europe/London",
    )
    message = SupportMessage(
        "family-1", "For you, as a parent.", ("family",), audience=Audience.PARENTS_AND_FAMILIES
    )
    await communities.create_if_missing(
        COMMUNITY, LibraryChanges(upsert_resources=(resource,), upsert_messages=(message,))
    )
    library = await content.load_library(COMMUNITY.id)
    assert library.resources == (resource,)
    assert library.messages == (message,)
    # An upsert replaces every new field too.
    edited = replace(resource, rank=3, audience=Audience.EVERYONE, age_min=None, age_max=None)
    await content.apply_library_changes(
        COMMUNITY.id, LibraryChanges(upsert_resources=(replace(edited, opening_hours=""),)), None
    )
    (stored,) = (await content.load_library(COMMUNITY.id)).resources
    assert stored == replace(edited, opening_hours="")


async def test_a_fresh_community_gets_the_new_pack_with_its_ranks_and_audiences(db: Any) -> None:
    communities, content = SqlCommunityRepository(db), SqlContentRepository(db)
    await communities.create_if_missing(COMMUNITY, pack_to_changes(load_default_pack()))
    stored = {r.key: r for r in (await content.load_library(COMMUNITY.id)).resources}
    childline = stored["gb-childline"]
    assert (childline.audience, childline.age_max, childline.rank) == (
        Audience.YOUNG_PEOPLE,
        18,
        90,
    )
    assert stored["gb-switchboard"].opening_hours == "Mo-Su 10:00-22:00"
    assert {"ie-pieta", "au-kids-helpline", "de-telefonseelsorge", "pl-lambda-warszawa"} <= set(
        stored
    )


@pytest.mark.sqlite_only
async def test_revision_0007_gives_existing_rows_sensible_values(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "haven.db")
    try:
        for legacy in legacy_migrations():  # a database as Haven left it at version 3
            await database.execute_script_atomically(legacy.sql, legacy.version)
        async with database.write() as conn:
            await conn.execute("INSERT INTO communities (id, platform) VALUES ('c:1', 'console')")
            for key in ("gb-childline", "gb-samaritans", "us-trevor-project"):
                await conn.execute(
                    "INSERT INTO resources (community_id, key, title, url, regions, topics,"
                    " crisis_service, always_open) VALUES ('c:1', ?, ?, 'https://x.org',"
                    " '[\"GB\"]', '[\"crisis\"]', 1, 1)",
                    (key, key),
                )
            for key in ("family-someone-came-out", "coming-out-hard-reaction"):
                await conn.execute(
                    "INSERT INTO messages (community_id, key, text, topics)"
                    " VALUES ('c:1', ?, 'Text', '[\"family\"]')",
                    (key,),
                )
        await migrate(database, up_to=7)  # 0008 then makes this untouched copy inherited
        # Read as rows: at 0007 there are no layers yet for the repository to merge, nor the
        # translations column of 0010 that today's row reader expects.
        resources = {
            row["key"]: _resource_from_row(row)
            for row in await database.fetch_all("SELECT *, '{}' AS translations FROM resources")
        }
        assert (resources["gb-childline"].audience, resources["gb-childline"].age_max) == (
            Audience.YOUNG_PEOPLE,
            18,
        )
        assert resources["us-trevor-project"].age_max == 24
        samaritans = resources["gb-samaritans"]
        assert (samaritans.rank, samaritans.audience, samaritans.opening_hours) == (
            100,
            Audience.EVERYONE,
            "",
        )
        audiences = {
            row["key"]: _message_from_row(row).audience
            for row in await database.fetch_all("SELECT *, '{}' AS translations FROM messages")
        }
        assert audiences == {
            "family-someone-came-out": Audience.PARENTS_AND_FAMILIES,
            "coming-out-hard-reaction": Audience.EVERYONE,
        }
    finally:
        await database.close()
