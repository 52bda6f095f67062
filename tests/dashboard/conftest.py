"""The dashboard over real parts: the composition root's services on real SQLite and
PostgreSQL, Haven's real aiohttp server on a free port, and a real HTTP client with a cookie
jar. The one stand-in is the platform's member list (who holds which role right now), which a
test changes to take a moderator's role away."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest

from bot.app import dashboard_app, open_services
from bot.core.cards import Card
from bot.core.models import Actor, Community, Platform, RequestContext
from bot.core.ports import DirectoryUnavailable, Found, MemberRef
from bot.services import Services
from bot.settings import Settings
from bot.web import HavenWeb
from tests.conftest import FixedClock

COMMUNITY = "discord:1"
OTHER = "discord:2"
MOD = Actor(id="111", display_name="Robin", has_admin_permission=True)
MEMBER = Actor(id="222", display_name="Sam")


class Members:
    """Discord's member list as the platform would answer it now (roles, Manage Server)."""

    platform = Platform.DISCORD
    verifies = True
    finds_users_by_name = False

    def __init__(self) -> None:
        self.now: dict[tuple[str, str], Actor] = {}
        # The platform does not answer (a Discord outage, Slack's API down).
        self.unreachable = False

    def set(self, community_id: str, actor: Actor) -> None:
        self.now[(community_id, actor.id)] = actor

    def remove(self, community_id: str, actor_id: str) -> None:
        self.now.pop((community_id, actor_id), None)

    async def roles(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return [(Found(ref.id, f"role {ref.id}"),) if ref.id else () for ref in refs]

    async def users(self, community_id: str, refs: Sequence[MemberRef]) -> list[tuple[Found, ...]]:
        return [() for _ in refs]

    async def member_actor(self, community: Community, user_id: str) -> Actor | None:
        if self.unreachable:
            raise DirectoryUnavailable("the platform did not answer")
        return self.now.get((community.id, user_id))


@dataclass
class Site:
    services: Services
    clock: FixedClock
    members: Members
    url: str
    clients: list[aiohttp.ClientSession] = field(default_factory=list)

    def ctx(self, actor: Actor = MOD, community_id: str = COMMUNITY) -> RequestContext:
        return RequestContext(community_id=community_id, platform=Platform.DISCORD, actor=actor)

    async def command(self, line: str, actor: Actor = MOD, community_id: str = COMMUNITY) -> Card:
        return await self.services.router.run_text(self.ctx(actor, community_id), line)

    async def link(self, actor: Actor = MOD, community_id: str = COMMUNITY) -> str:
        """The link the real command answers with."""
        card = await self.command("/support-admin dashboard", actor, community_id)
        found = re.search(r"https?://\S+/dashboard/login\?token=[\w-]+", card.body)
        assert found, card
        return found.group(0)

    def client(self) -> aiohttp.ClientSession:
        # unsafe: the jar keeps cookies of an IP address (127.0.0.1).
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.clients.append(session)
        return session

    async def sign_in(
        self, actor: Actor = MOD, community_id: str = COMMUNITY
    ) -> aiohttp.ClientSession:
        link = await self.link(actor, community_id)
        browser = self.client()
        token = link.split("token=", 1)[1]
        async with browser.post(f"{self.url}/dashboard/login", data={"token": token}) as answer:
            assert answer.status == 200, await answer.text()
            assert answer.url.path == "/dashboard/library"
        return browser

    async def sign_in_with(self, token: str) -> aiohttp.ClientSession:
        browser = self.client()
        async with browser.post(f"{self.url}/dashboard/login", data={"token": token}) as answer:
            assert answer.status == 200, await answer.text()
        return browser

    async def session_count(self) -> int:
        row = await self.services.db.fetch_one("SELECT COUNT(*) AS n FROM dashboard_sessions", ())
        assert row is not None
        return int(row["n"])

    async def csrf(self, browser: aiohttp.ClientSession, path: str = "/dashboard/library") -> str:
        async with browser.get(f"{self.url}{path}") as answer:
            page = await answer.text()
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found, page
        return found.group(1)

    async def post(
        self, browser: aiohttp.ClientSession, path: str, data: dict[str, str]
    ) -> tuple[int, str]:
        async with browser.post(f"{self.url}{path}", data=data, allow_redirects=False) as answer:
            return answer.status, await answer.text()

    async def get(self, browser: aiohttp.ClientSession, path: str) -> tuple[int, str]:
        async with browser.get(f"{self.url}{path}", allow_redirects=False) as answer:
            return answer.status, await answer.text()

    async def audit_count(self, community_id: str = COMMUNITY) -> int:
        row = await self.services.db.fetch_one(
            "SELECT COUNT(*) AS n FROM audit_log WHERE community_id = ?", (community_id,)
        )
        assert row is not None
        return int(row["n"])


@pytest.fixture
def settings(engine_settings: Settings) -> Settings:
    """Settings for open_services on this engine (tests/conftest.py engine_settings)."""
    return engine_settings


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    clock = FixedClock()
    members = Members()
    async with open_services(settings, clock=clock) as services:
        services.register_directory(members)
        for community in (COMMUNITY, OTHER):
            await services.communities.ensure(Platform.DISCORD, community.split(":")[1])
            members.set(community, MOD)
        members.set(COMMUNITY, MEMBER)
        server = HavenWeb(services.health, None, port=0, dashboard=dashboard_app(services))
        await server.start()
        services.dashboard.serve_locally_at(server.url)
        found = Site(services, clock, members, server.url)
        try:
            yield found
        finally:
            for client in found.clients:
                await client.close()
            await server.stop()
