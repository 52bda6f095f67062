"""CommunityService: a community's life (join, removal, purge) and its settings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from bot.core.models import (
    DIRECT_MESSAGE_COMMUNITY,
    Community,
    CommunityStatus,
    ItemKind,
    Platform,
    RequestContext,
    community_id_for,
)
from bot.core.permissions import moderator_community
from bot.core.ports import Clock, CommunityRepository, LibraryChanges, NewAuditEntry

log = logging.getLogger(__name__)

# Called with (community_id, reason): on removal, and on return within the grace period.
CommunityHook = Callable[[str, str], Awaitable[object]]


def _settings_dict(community: Community) -> dict[str, object]:
    return {
        "default_region": community.default_region,
        "default_locale": community.default_locale,
        "timezone": community.timezone,
        "moderator_role_ids": list(community.moderator_role_ids),
        "moderator_user_ids": list(community.moderator_user_ids),
        "log_channel_id": community.log_channel_id,
    }


class CommunityService:
    def __init__(
        self,
        repository: CommunityRepository,
        clock: Clock,
        seed: Callable[[], LibraryChanges | None],
        *,
        removal_grace: timedelta = timedelta(days=30),
        on_change: Callable[[str], None] = lambda community_id: None,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._seed = seed
        self._removal_grace = removal_grace
        self._on_change = on_change
        self._removal_hooks: list[CommunityHook] = []
        self._return_hooks: list[CommunityHook] = []
        self._known: set[str] = set()

    def forget(self, community_id: str | None) -> None:
        """Stop trusting what this process remembers of a community (None: of every one):
        another process may have removed or purged it, so the next request looks again."""
        if community_id is None:
            self._known.clear()
        else:
            self._known.discard(community_id)

    def add_removal_hook(self, hook: CommunityHook) -> None:
        """Called with (community_id, reason) when the bot leaves (e.g. pause schedules)."""
        self._removal_hooks.append(hook)

    def add_return_hook(self, hook: CommunityHook) -> None:
        """Called with (community_id, the removal reason) when it comes back within the grace
        (e.g. resume what the removal paused)."""
        self._return_hooks.append(hook)

    async def get(self, community_id: str) -> Community | None:
        return await self._repository.get(community_id)

    async def ensure(self, platform: Platform, external_id: str, name: str = "") -> Community:
        """The community for a server/workspace, created the first time (its library is the
        shipped layer until its moderators change something).
        A community that was removed and comes back within the grace keeps everything."""
        community_id = community_id_for(platform, external_id)
        existing = await self._repository.get(community_id)
        if existing is None:
            created = await self._repository.create_if_missing(
                Community(id=community_id, platform=platform, name=name[:100]), self._seed()
            )
            if created:
                log.info("New community %s joined", community_id)
                self._on_change(community_id)
            existing = await self._repository.get(community_id)
            assert existing is not None
        elif existing.status is CommunityStatus.REMOVED:
            await self._return(existing)
            existing = replace(existing, status=CommunityStatus.ACTIVE, removed_reason=None)
        self._known.add(community_id)
        return existing

    async def ensure_for_context(self, ctx: RequestContext) -> None:
        """Make sure a request's community exists (cheap after the first time)."""
        if ctx.community_id in self._known or ctx.community_id == DIRECT_MESSAGE_COMMUNITY:
            return
        platform_prefix, _, external_id = ctx.community_id.partition(":")
        community = await self._repository.get(ctx.community_id)
        if community is None or community.status is CommunityStatus.REMOVED:
            await self.ensure(Platform(platform_prefix), external_id)
        self._known.add(ctx.community_id)

    async def mark_removed(self, community_id: str, reason: str = "Haven was removed") -> None:
        """The bot left: pause everything now, purge after the grace period."""
        await self._repository.mark_removed(community_id, self._clock.now(), reason)
        self._known.discard(community_id)
        self._on_change(community_id)
        for hook in self._removal_hooks:
            await hook(community_id, reason)
        log.info("Community %s removed; data is kept for the grace period", community_id)

    async def mark_active(self, community_id: str) -> None:
        community = await self._repository.get(community_id)
        if community is not None and community.status is CommunityStatus.REMOVED:
            await self._return(community)

    async def _return(self, community: Community) -> None:
        await self._repository.mark_active(community.id)
        self._on_change(community.id)
        for hook in self._return_hooks:
            await hook(community.id, community.removed_reason or "")
        log.info("Community %s came back within the grace period", community.id)

    async def purge_expired(self) -> list[str]:
        """Delete the data of communities removed longer ago than the grace period."""
        cutoff = self._clock.now() - self._removal_grace
        purged = list(await self._repository.list_removed_since(cutoff))
        for community_id in purged:
            await self._repository.purge(community_id)
            self._on_change(community_id)
            log.info("Purged community %s after the removal grace period", community_id)
        return purged

    async def moderated(self, ctx: RequestContext) -> Community:
        """The caller's community, through the one moderator gate."""
        return await moderator_community(self._repository, ctx)

    async def update_settings(self, ctx: RequestContext, what: str, **changes: object) -> Community:
        """Change settings as a moderator, audited, refusing a concurrent stale write."""
        community = await self.moderated(ctx)
        after = replace(community, **changes)  # type: ignore[arg-type]
        saved = await self._repository.save(
            community,
            after,
            NewAuditEntry(
                actor_id=ctx.actor.id,
                actor_name=ctx.actor.display_name,
                action=f"settings.{what}",
                item_kind=ItemKind.SETTINGS,
                item_key=what,
                before=_settings_dict(community),
                after=_settings_dict(after),
            ),
        )
        self._on_change(ctx.community_id)
        return saved
