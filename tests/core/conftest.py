"""A real service stack over real SQLite, seeded with the small sample library."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.adapters.console import ConsoleDirectory
from bot.core.commands.content import message_commands, resource_commands
from bot.core.commands.router import CommandRouter
from bot.core.commands.settings import SettingsCommands
from bot.core.communities import CommunityService
from bot.core.content.curation import CurationService
from bot.core.models import (
    LOCAL_COMMUNITY_ID,
    Actor,
    Platform,
    RequestContext,
    community_id_for,
)
from bot.core.ports import LibraryChanges
from bot.core.support import SupportService
from bot.storage.database import Database
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    SqlStateRepository,
)
from tests.conftest import FixedClock, sample_library

MODERATOR = Actor(id="mod-1", display_name="Mod One", has_admin_permission=True)
MEMBER = Actor(id="member-7", display_name="Member Seven")


@dataclass
class Stack:
    db: Database
    clock: FixedClock
    support: SupportService
    curation: CurationService
    communities: CommunityService
    content: SqlContentRepository
    router: CommandRouter

    def ctx(
        self, actor: Actor = MODERATOR, community_id: str = LOCAL_COMMUNITY_ID
    ) -> RequestContext:
        platform = Platform(community_id.split(":")[0])
        return RequestContext(community_id=community_id, platform=platform, actor=actor)

    async def reopen_support(self) -> SupportService:
        """A fresh SupportService on the same database, as after a restart."""
        support = SupportService(
            self.content,
            SqlCommunityRepository(self.db),
            SqlStateRepository(self.db),
            self.clock,
            sample_library,
        )
        await support.start()
        return support


def seed_changes() -> LibraryChanges:
    library = sample_library()
    return LibraryChanges(
        topics=library.topics,
        upsert_messages=library.messages,
        upsert_resources=library.resources,
        emergency_numbers=library.emergency_numbers,
    )


@pytest.fixture
async def stack(db: Database, clock: FixedClock) -> AsyncIterator[Stack]:
    content = SqlContentRepository(db)
    community_repository = SqlCommunityRepository(db)
    support = SupportService(
        content,
        community_repository,
        SqlStateRepository(db),
        clock,
        sample_library,
        rng=random.Random(7),
    )
    await support.start()
    communities = CommunityService(
        community_repository, clock, seed_changes, on_change=support.invalidate
    )
    curation = CurationService(content, community_repository, support, clock)
    router = CommandRouter(
        support,
        communities,
        [
            message_commands(curation).table,
            resource_commands(curation).table,
            SettingsCommands(communities, {Platform.CONSOLE: ConsoleDirectory()}).table,
        ],
        clock=clock,
        refusals=community_repository,
    )
    await communities.ensure(Platform.CONSOLE, "local")
    yield Stack(db, clock, support, curation, communities, content, router)


DISCORD_GUILD = community_id_for(Platform.DISCORD, "1234")
