"""A community's own layer on both engines: a new community stores no content rows; hiding,
editing, removing and undoing inherited and own items; the review list's keep and take."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from bot.core.cards import Card
from bot.core.communities import CommunityService
from bot.core.content.curation import CurationService, MessageDraft, ResourceDraft
from bot.core.content.packs import load_default_pack
from bot.core.content.releases import ReleaseService, release_of
from bot.core.errors import NotFound
from bot.core.models import ItemKind, Platform
from bot.core.ports import ItemLayer
from bot.core.scheduling.publishing import TransientPublishError
from bot.core.support import SupportService
from bot.storage.database import SqlDatabase
from bot.storage.layers import SqlShippedLayer
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    SqlStateRepository,
)
from tests.conftest import FixedClock, reopen, sample_library
from tests.layers.helpers import CHANGED, NEW_NUMBER, RecordingPublisher, ctx, next_release

COMMUNITY = "discord:9"
MESSAGE = "general-you-belong"


@dataclass
class Layers:
    db: SqlDatabase
    content: SqlContentRepository
    curation: CurationService
    releases: ReleaseService


@pytest.fixture
async def layers(db: SqlDatabase, clock: FixedClock) -> AsyncIterator[Layers]:
    content = SqlContentRepository(db)
    repository = SqlCommunityRepository(db)
    support = SupportService(
        content, repository, SqlStateRepository(db), clock, sample_library, rng=random.Random(1)
    )
    await support.start()
    releases = ReleaseService(SqlShippedLayer(db))
    await releases.install(load_default_pack())
    communities = CommunityService(repository, clock, lambda: None)
    await communities.ensure(Platform.DISCORD, "9")
    yield Layers(db, content, CurationService(content, repository, support, clock), releases)


async def _count(db: SqlDatabase, table: str) -> int:
    row = await db.fetch_one(
        f"SELECT count(*) AS n FROM {table} WHERE community_id = ?", (COMMUNITY,)
    )
    return int(row["n"]) if row else 0


async def _own_rows(db: SqlDatabase) -> dict[str, int]:
    tables = ("topics", "messages", "resources", "emergency_numbers", "library_layer")
    return {table: await _count(db, table) for table in tables}


async def test_a_new_community_stores_no_content_and_sees_the_whole_pack(layers: Layers) -> None:
    assert await _own_rows(layers.db) == dict.fromkeys(
        ("topics", "messages", "resources", "emergency_numbers", "library_layer"), 0
    )
    library = await layers.content.load_library(COMMUNITY)
    pack = load_default_pack()
    assert library.resources == tuple(sorted(pack.resources, key=lambda r: r.key))
    assert library.messages == tuple(sorted(pack.messages, key=lambda m: m.key))
    assert library.topics == pack.topics
    assert set(library.emergency_numbers) == set(pack.emergency_numbers)


async def _layer(layers: Layers, kind: ItemKind, key: str) -> ItemLayer:
    return await layers.content.item_layer(COMMUNITY, kind, key)


async def test_editing_an_inherited_item_makes_an_own_copy_and_remove_reverts_it(
    layers: Layers,
) -> None:
    me = ctx(COMMUNITY)
    edited = await layers.curation.edit_resource(
        me, CHANGED, ResourceDraft(description="Ours."), None
    )
    assert await _layer(layers, ItemKind.RESOURCE, CHANGED) is ItemLayer.EDITED
    assert await _count(layers.db, "resources") == 1
    based = await layers.db.fetch_one("SELECT state, based_on FROM library_layer")
    assert based is not None and (based["state"], based["based_on"]) == ("edited", 1)
    removal = await layers.curation.remove(me, ItemKind.RESOURCE, CHANGED)
    assert removal.layer is ItemLayer.EDITED
    shown = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    shipped = await layers.content.shipped_item(ItemKind.RESOURCE, CHANGED)
    assert shipped is not None and replace(shown, version=0) == replace(shipped, version=0)
    assert await _layer(layers, ItemKind.RESOURCE, CHANGED) is ItemLayer.INHERITED
    assert await _count(layers.db, "resources") == 0
    # Undo of the revert brings the edit back; undo works on the own layer.
    await layers.curation.undo(me, ItemKind.RESOURCE, CHANGED)
    again = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    assert again.description == "Ours." and again.version > edited.version


async def test_hiding_an_inherited_item_records_a_hide_and_enable_inherits_again(
    layers: Layers,
) -> None:
    me = ctx(COMMUNITY)
    hidden = await layers.curation.set_enabled(me, ItemKind.MESSAGE, MESSAGE, False)
    assert not hidden.enabled
    assert await _layer(layers, ItemKind.MESSAGE, MESSAGE) is ItemLayer.HIDDEN
    assert await _count(layers.db, "messages") == 0
    library = await layers.content.load_library(COMMUNITY)
    assert not next(m for m in library.messages if m.key == MESSAGE).enabled
    await layers.curation.set_enabled(me, ItemKind.MESSAGE, MESSAGE, True)
    assert await _layer(layers, ItemKind.MESSAGE, MESSAGE) is ItemLayer.INHERITED
    # remove of an inherited item hides it; a second remove says it is already hidden.
    removal = await layers.curation.remove(me, ItemKind.MESSAGE, MESSAGE)
    assert removal.layer is ItemLayer.INHERITED
    assert await _layer(layers, ItemKind.MESSAGE, MESSAGE) is ItemLayer.HIDDEN
    with pytest.raises(NotFound, match="already hidden"):
        await layers.curation.remove(me, ItemKind.MESSAGE, MESSAGE)
    await layers.curation.undo(me, ItemKind.MESSAGE, MESSAGE)
    assert (await layers.curation.get(me, ItemKind.MESSAGE, MESSAGE)).enabled
    actions = [e.action for e in await layers.curation.history(me, ItemKind.MESSAGE, MESSAGE)]
    assert actions == ["undo", "hide", "enable", "disable"]


async def test_an_own_addition_is_removed_and_undo_brings_it_back(layers: Layers) -> None:
    me = ctx(COMMUNITY)
    added = await layers.curation.add_message(
        me, MessageDraft(text="Ours alone.", topics="general")
    )
    assert await _layer(layers, ItemKind.MESSAGE, added.key) is ItemLayer.OWN
    removal = await layers.curation.remove(me, ItemKind.MESSAGE, added.key)
    assert removal.layer is ItemLayer.OWN
    assert await _layer(layers, ItemKind.MESSAGE, added.key) is ItemLayer.NONE
    await layers.curation.undo(me, ItemKind.MESSAGE, added.key)
    assert (await layers.curation.get(me, ItemKind.MESSAGE, added.key)).text == "Ours alone."


async def _edit_then_release(layers: Layers) -> None:
    await layers.curation.edit_resource(
        ctx(COMMUNITY), CHANGED, ResourceDraft(description="Ours."), None
    )
    assert await layers.releases.install(next_release()) is not None


async def test_keep_leaves_the_own_copy_and_is_audited(layers: Layers) -> None:
    me = ctx(COMMUNITY)
    await _edit_then_release(layers)
    await layers.curation.resolve_update(me, ItemKind.RESOURCE, CHANGED, take=False)
    assert await layers.curation.updates(me, ItemKind.RESOURCE) == []
    kept = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    assert (kept.description, kept.contacts[0].display) == ("Ours.", "116 123")
    (newest, *_) = await layers.curation.history(me, ItemKind.RESOURCE, CHANGED)
    assert (newest.action, newest.actor_id) == ("update.keep", "mod-1")
    with pytest.raises(NotFound, match="no update to review"):
        await layers.curation.resolve_update(me, ItemKind.RESOURCE, CHANGED, take=False)


async def test_take_inherits_the_new_version_and_is_audited(layers: Layers) -> None:
    me = ctx(COMMUNITY)
    await _edit_then_release(layers)
    await layers.curation.resolve_update(me, ItemKind.RESOURCE, CHANGED, take=True)
    taken = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    assert taken.contacts[0].display == NEW_NUMBER
    assert await _layer(layers, ItemKind.RESOURCE, CHANGED) is ItemLayer.INHERITED
    (newest, *_) = await layers.curation.history(me, ItemKind.RESOURCE, CHANGED)
    assert (newest.action, newest.actor_id) == ("update.take", "mod-1")
    # Taking is a change like any other: undo brings the own copy back.
    await layers.curation.undo(me, ItemKind.RESOURCE, CHANGED)
    assert (await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)).description == "Ours."


async def test_a_retired_resource_disappears_where_nobody_edited_it(layers: Layers) -> None:
    pack = load_default_pack()
    retired = replace(
        pack, version="retire", resources=tuple(r for r in pack.resources if r.key != CHANGED)
    )
    changes = await layers.releases.install(retired)
    assert changes is not None
    assert [(c.key, c.after) for c in changes] == [(CHANGED, None)]
    library = await layers.content.load_library(COMMUNITY)
    assert CHANGED not in {r.key for r in library.resources}


async def test_two_processes_starting_together_install_a_release_once(layers: Layers) -> None:
    other = await reopen(layers.db)
    try:
        both = await asyncio.gather(
            layers.releases.install(next_release()),
            ReleaseService(SqlShippedLayer(other)).install(next_release()),
        )
    finally:
        await other.close()
    assert sorted(result is None for result in both) == [False, True]
    notices = await layers.db.fetch_all("SELECT community_id FROM layer_notices")
    assert [row["community_id"] for row in notices] == [COMMUNITY]
    audited = await layers.db.fetch_all(
        "SELECT action FROM audit_log WHERE actor_id = 'haven' AND community_id = ?",
        (COMMUNITY,),
    )
    assert [row["action"] for row in audited] == ["shipped.change"]


class _Down:
    platform = Platform.DISCORD

    async def publish(self, channel_id: str, card: Card, idempotency_key: str) -> str:
        raise TransientPublishError("Discord is unreachable")


async def test_a_notice_that_could_not_be_posted_is_posted_later_once(layers: Layers) -> None:
    repository = SqlCommunityRepository(layers.db)
    community = await repository.get(COMMUNITY)
    assert community is not None
    await repository.save(community, replace(community, log_channel_id="mod-log"), None)
    await layers.releases.install(next_release())
    assert await layers.releases.send_notices({Platform.DISCORD: _Down()}) == 0
    publisher = RecordingPublisher()
    assert await layers.releases.send_notices({Platform.DISCORD: publisher}) == 1
    assert await layers.releases.send_notices({Platform.DISCORD: publisher}) == 0
    ((channel, card, key),) = publisher.posts
    assert channel == "mod-log" and "Updated resource: Samaritans" in card.body
    assert key == f"release|{COMMUNITY}|{release_of(next_release())}"


async def test_a_confirmation_stays_on_the_own_layer_until_haven_ships_a_new_version(
    layers: Layers, clock: FixedClock
) -> None:
    me = ctx(COMMUNITY)
    await layers.curation.set_enabled(me, ItemKind.RESOURCE, CHANGED, False)
    confirmed = await layers.curation.set_enabled(me, ItemKind.RESOURCE, CHANGED, True)
    # Enabling confirms (verified today), and the item is still Haven's: no own copy.
    assert confirmed.last_verified == clock.now().date()
    assert await _layer(layers, ItemKind.RESOURCE, CHANGED) is ItemLayer.INHERITED
    assert await _count(layers.db, "resources") == 0
    shown = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    assert (shown.last_verified, shown.enabled) == (clock.now().date(), True)
    await layers.releases.install(next_release())
    after = await layers.curation.get(me, ItemKind.RESOURCE, CHANGED)
    shipped = await layers.content.shipped_item(ItemKind.RESOURCE, CHANGED)
    assert after.contacts[0].display == NEW_NUMBER
    assert shipped is not None and after.last_verified == shipped.last_verified
    assert await layers.curation.updates(me, ItemKind.RESOURCE) == []
