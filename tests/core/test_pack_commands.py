"""`/support-admin pack`: export, import preview with Apply, confirmed by the same moderator."""

from __future__ import annotations

from bot.core.cards import CardTone
from bot.core.commands.grammar import quote
from bot.core.commands.packs import PackCommands
from bot.core.models import Actor, ItemKind
from tests.core.conftest import Stack

OTHER_MOD = Actor(id="mod-2", display_name="Mod Two", has_admin_permission=True)

PACK = """schema_version: 1
pack: {id: extra, locale: en, version: '1', disclaimer: Not a crisis service.}
topics: [{slug: general, label: General support, description: Anything.}]
messages:
  - key: extra-hello
    topics: [general]
    text: Hello from a pack.
resources: []
"""


def with_packs(stack: Stack) -> None:
    stack.router.add_table(PackCommands(stack.curation, stack.support, stack.clock).table)


async def test_export_then_import_preview_then_apply(stack: Stack) -> None:
    with_packs(stack)
    exported = await stack.router.run_text(stack.ctx(), "/support-admin pack export")
    assert exported.attachment is not None
    assert b"general-1" in exported.attachment.content

    preview = await stack.router.run_text(
        stack.ctx(), f"/support-admin pack import content:{quote(PACK)}"
    )
    assert preview.title == "Pack import preview"

    async def stored(key: str) -> object:
        return await stack.content.get_item(stack.ctx().community_id, ItemKind.MESSAGE, key)

    assert any("extra-hello" in line for line in preview.lines)
    assert await stored("extra-hello") is None
    [apply] = preview.actions

    refused = await stack.router.run_text(stack.ctx(OTHER_MOD), apply.value)
    assert refused.tone is CardTone.ERROR and "moderator who previewed" in refused.body
    assert await stored("extra-hello") is None

    applied = await stack.router.run_text(stack.ctx(), apply.value)
    assert applied.title == "Pack imported"
    assert await stored("extra-hello") is not None
    again = await stack.router.run_text(stack.ctx(), apply.value)
    assert again.tone is CardTone.ERROR and "expired" in again.body


async def test_a_broken_pack_is_refused_with_its_places(stack: Stack) -> None:
    with_packs(stack)
    broken = PACK.replace("schema_version: 1", "schema_version: 9")
    card = await stack.router.run_text(
        stack.ctx(), f"/support-admin pack import content:{quote(broken)}"
    )
    assert card.tone is CardTone.ERROR
    assert "schema_version" in card.body
    assert "nothing was changed" in card.footer


async def test_log_channel_accepts_a_channel_and_refuses_garbage(stack: Stack) -> None:
    ok = await stack.router.run_text(stack.ctx(), "/support-admin settings log-channel #mod-log")
    assert ("Moderator log channel", "mod-log") in ok.fields
    bad = await stack.router.run_text(
        stack.ctx(), "/support-admin settings log-channel channel:<@&123>"
    )
    assert bad.tone is CardTone.ERROR and "not a channel" in bad.body
