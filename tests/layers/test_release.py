"""The done-when test of content in layers: a new Haven release ships a changed resource to a
database made with the old one. A community that never edited it shows the new number at once;
one that edited it keeps its own and gets a review item; each log channel is told once, also
after a restart. Real services over real SQLite and PostgreSQL."""

from __future__ import annotations

from bot.app import open_services
from bot.core.content.curation import ResourceDraft
from bot.core.content.packs import load_default_pack
from bot.core.models import ItemKind, Platform
from bot.services import Services
from bot.settings import Settings
from tests.layers.helpers import (
    CHANGED,
    NEW_NUMBER,
    RecordingPublisher,
    ctx,
    next_release,
)

KEPT = "discord:1"  # never edits Samaritans
EDITED = "discord:2"  # edits Samaritans before the release


async def _number(services: Services, community_id: str) -> str:
    library = await services.support.library(community_id)
    (resource,) = [r for r in library.resources if r.key == CHANGED]
    return resource.contacts[0].display


async def _notices(services: Services) -> RecordingPublisher:
    publisher = RecordingPublisher()
    services.register_publisher(publisher)
    await services.releases.send_notices(services.publishers)
    return publisher


async def test_a_changed_resource_reaches_those_who_did_not_edit_it(
    settings: Settings,
) -> None:
    async with open_services(settings) as services:
        for community_id in (KEPT, EDITED):
            await services.communities.ensure(Platform.DISCORD, community_id.split(":")[1])
            await services.communities.update_settings(
                ctx(community_id), "log_channel", log_channel_id=f"log-{community_id}"
            )
        await services.curation.edit_resource(
            ctx(EDITED), CHANGED, ResourceDraft(description="Our own words."), None
        )
        assert await _number(services, KEPT) == "116 123"
        # Joining stored nothing but the community's settings.
        for table in ("topics", "messages", "resources", "emergency_numbers", "library_layer"):
            rows = await services.db.fetch_all(
                f"SELECT 1 FROM {table} WHERE community_id = ?", (KEPT,)
            )
            assert rows == [], table
        # The first release stored tells nobody anything.
        assert (await _notices(services)).posts == []

    async with open_services(settings, shipped_pack=next_release()) as services:
        assert await _number(services, KEPT) == NEW_NUMBER
        own = await services.curation.get(ctx(EDITED), ItemKind.RESOURCE, CHANGED)
        assert (own.description, own.contacts[0].display) == ("Our own words.", "116 123")
        (review,) = await services.curation.updates(ctx(EDITED), ItemKind.RESOURCE)
        assert review.key == CHANGED
        assert review.before.contacts[0].display == "116 123"
        assert review.after is not None and review.after.contacts[0].display == NEW_NUMBER
        assert await services.curation.updates(ctx(KEPT), ItemKind.RESOURCE) == []
        history = await services.curation.history(ctx(KEPT), ItemKind.RESOURCE, CHANGED)
        assert [(e.actor_id, e.action) for e in history] == [("haven", "shipped.change")]
        publisher = await _notices(services)
        assert sorted(channel for channel, _, _ in publisher.posts) == [
            f"log-{KEPT}",
            f"log-{EDITED}",
        ]
        assert all("Samaritans" in card.body for _, card, _ in publisher.posts)

    # A restart of the same release: no second upgrade, no second notice.
    async with open_services(settings, shipped_pack=next_release()) as services:
        assert (await _notices(services)).posts == []
        assert len(await services.curation.updates(ctx(EDITED), ItemKind.RESOURCE)) == 1
        # The moderators' review list, as every platform runs it (one verb table).
        listed = await services.router.run_text(ctx(EDITED), "/support-admin resource updates")
        assert listed.title.endswith("(1)")
        assert any("116 123" in line and NEW_NUMBER in line for line in listed.lines)
        kept = await services.router.run_text(
            ctx(EDITED), f"/support-admin resource updates keep:{CHANGED}"
        )
        assert "keeps your own version" in kept.body
        empty = await services.router.run_text(ctx(EDITED), "/support-admin resource updates")
        assert empty.title.endswith("(0)")
        # remove of an edited shipped item says it went back to Haven's version.
        reverted = await services.router.run_text(
            ctx(EDITED), f"/support-admin resource remove {CHANGED}"
        )
        assert "reverted to Haven's version" in reverted.title
        assert await _number(services, EDITED) == NEW_NUMBER


async def test_the_default_pack_installs_once_and_again_changes_nothing(
    settings: Settings,
) -> None:
    async with open_services(settings) as services:
        assert await services.releases.install(load_default_pack()) is None
