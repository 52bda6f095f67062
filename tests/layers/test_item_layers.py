"""`item_layers` (the dashboard's shipped-vs-own column) says for every item what
`item_layer` says for one: the same rule, in one read."""

from __future__ import annotations

from bot.app import open_services
from bot.core.models import ItemKind, Platform
from bot.core.ports import ItemLayer
from bot.settings import Settings
from bot.storage.repositories import SqlContentRepository
from tests.layers.helpers import CHANGED, ctx

COMMUNITY = "discord:1"


async def test_every_items_layer_in_one_read(settings: Settings) -> None:
    async with open_services(settings) as services:
        await services.communities.ensure(Platform.DISCORD, "1")
        router, here = services.router, ctx(COMMUNITY)
        await router.run_text(here, f'/support-admin resource edit {CHANGED} hours:"Every day"')
        await router.run_text(here, "/support-admin resource disable gb-switchboard")
        added = await router.run_text(
            here,
            "/support-admin resource add key:ours title:Ours url:https://ours.example.org"
            " topics:crisis regions:GB",
        )
        assert added.tone.value == "success", added
        content = SqlContentRepository(services.db)
        layers = await content.item_layers(COMMUNITY, ItemKind.RESOURCE)
        for key, layer in layers.items():
            assert layer is await content.item_layer(COMMUNITY, ItemKind.RESOURCE, key), key
        assert layers[CHANGED] is ItemLayer.EDITED
        assert layers["ours"] is ItemLayer.OWN
        assert layers["gb-switchboard"] is ItemLayer.HIDDEN
        assert ItemLayer.INHERITED in set(layers.values())
