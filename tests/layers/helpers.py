"""Shared pieces of the layer tests: a pack release with one resource changed, a recording
publisher, and the service settings for either engine."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.cards import Card
from bot.core.content.packs import ParsedPack, load_default_pack
from bot.core.models import Actor, Contact, ContactKind, Platform, RequestContext

CHANGED = "gb-samaritans"
NEW_NUMBER = "116 999"
MODERATOR = Actor(id="mod-1", display_name="Mod One", has_admin_permission=True)


def next_release(pack: ParsedPack | None = None) -> ParsedPack:
    """The default pack as a later Haven ships it: Samaritans has a new number."""
    pack = pack or load_default_pack()
    resources = tuple(
        replace(
            r,
            contacts=(Contact(ContactKind.PHONE, NEW_NUMBER, "+44116999"), *r.contacts[1:]),
        )
        if r.key == CHANGED
        else r
        for r in pack.resources
    )
    return replace(pack, version=f"{pack.version}.1", resources=resources)


def ctx(community_id: str) -> RequestContext:
    platform = Platform(community_id.split(":")[0])
    return RequestContext(community_id=community_id, platform=platform, actor=MODERATOR)


@dataclass
class RecordingPublisher:
    platform: Platform = Platform.DISCORD
    posts: list[tuple[str, Card, str]] = field(default_factory=list)

    async def publish(self, channel_id: str, card: Card, idempotency_key: str) -> str:
        self.posts.append((channel_id, card, idempotency_key))
        return str(len(self.posts))
