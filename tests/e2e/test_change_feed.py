"""A moderator's change in one process reaches every other process on the same database within
2 s: two real `open_services` stacks (as two `haven run` processes build them) over one SQLite
file and over one real PostgreSQL database, a real `haven pack import` subprocess, and the
PostgreSQL listener's connection killed by the server (`pg_terminate_backend`).

Each "process" here is a whole service stack with its own database handle, caches and change
feed; they share nothing but the database, exactly like two processes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from bot.app import open_services
from bot.core.cards import Card
from bot.core.models import Actor, Platform, RequestContext, community_id_for
from bot.metrics import PrometheusMetrics
from bot.services import Services
from bot.settings import Settings
from bot.storage import feeds
from bot.storage.schedule_store import SqlScheduleStore
from tests.conftest import new_postgres_database
from tests.postgres import PostgresServer

GUILD = "1100000000000000001"
OTHER_GUILD = "1100000000000000002"
COMMUNITY = community_id_for(Platform.DISCORD, GUILD)
OTHER = community_id_for(Platform.DISCORD, OTHER_GUILD)
MODERATOR = Actor(id="900000000000000001", display_name="Mod", has_admin_permission=True)
ASKER = Actor(id="900000000000000002", display_name="Asker")
# The promise, and how often the tests look.
PROMISE_SECONDS = 2.0
LOOK_SECONDS = 0.05


def moderator(community_id: str = COMMUNITY) -> RequestContext:
    return RequestContext(community_id, Platform.DISCORD, MODERATOR)


def asker(community_id: str = COMMUNITY) -> RequestContext:
    return RequestContext(community_id, Platform.DISCORD, ASKER)


def titles(card: Card) -> list[str]:
    return [resource.title for resource in card.resources]


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def reloads(metrics: PrometheusMetrics) -> float:
    return value(metrics, "haven_cache_reloads_total")


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """How long `check` took to come true; fails the test if it did not within `seconds`."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            pytest.fail(f"not true within {seconds} s")
        await asyncio.sleep(LOOK_SECONDS)


@pytest.fixture
async def database_url(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The shared database, as HAVEN_DATABASE_URL names it, on this engine."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'haven.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async with new_postgres_database(server) as url:
        yield url


def settings_for(url: str) -> Settings:
    if url.startswith("sqlite:///"):
        return Settings(database_path=Path(url.removeprefix("sqlite:///")))
    return Settings(database_url=url)


class Process:
    """One process's service stack and its counts."""

    def __init__(self, services: Services, metrics: PrometheusMetrics) -> None:
        self.services = services
        self.metrics = metrics

    async def support(self, line: str, community_id: str = COMMUNITY) -> Card:
        return await self.services.router.run_text(asker(community_id), line)

    async def moderate(self, line: str, community_id: str = COMMUNITY) -> Card:
        return await self.services.router.run_text(moderator(community_id), line)

    def invalidations(self, scope: str) -> float:
        return value(self.metrics, "haven_cache_invalidations_total", scope=scope)


@asynccontextmanager
async def processes(url: str, count: int = 2) -> AsyncIterator[list[Process]]:
    async with AsyncExitStack() as stack:
        found = []
        for _ in range(count):
            metrics = PrometheusMetrics()
            services = await stack.enter_async_context(
                open_services(settings_for(url), metrics=metrics)
            )
            found.append(Process(services, metrics))
        # The guild joins through the first process, seeded with the shipped pack.
        await found[0].services.communities.ensure(Platform.DISCORD, GUILD, "Guild")
        await found[0].services.communities.ensure(Platform.DISCORD, OTHER_GUILD, "Other")
        yield found


async def test_a_disabled_resource_leaves_the_other_process_within_2_s(
    database_url: str,
) -> None:
    async with processes(database_url) as (a, b):
        # B has the library in memory (the answer comes from its cache from now on).
        assert "Samaritans" in titles(await b.support("/support crisis GB"))
        disabled = await a.moderate("/support-admin resource disable gb-samaritans")
        assert "gb-samaritans" in disabled.plain_text(), disabled.plain_text()

        async def gone() -> bool:
            return "Samaritans" not in titles(await b.support("/support crisis GB"))

        assert await within(PROMISE_SECONDS, gone) < PROMISE_SECONDS
        assert b.invalidations("community") == 1
        # A dropped its own cache when it wrote; hearing its own change again cost nothing.
        assert a.invalidations("community") == 0
        assert "Samaritans" not in titles(await a.support("/support crisis GB"))


async def test_a_settings_change_reaches_the_other_process_within_2_s(
    database_url: str,
) -> None:
    async with processes(database_url) as (a, b):
        # No default region yet: international directories only, no country's number.
        before = await b.support("/support crisis")
        assert before.region is None
        await a.moderate("/support-admin settings region GB")

        async def british() -> bool:
            card = await b.support("/support crisis")
            return card.region == "GB" and "call 999 now" in card.body

        await within(PROMISE_SECONDS, british)


async def test_haven_pack_import_reaches_a_running_process(
    database_url: str, tmp_path: Path
) -> None:
    pack = tmp_path / "extra.yaml"
    pack.write_text(
        "schema_version: 1\npack: {id: extra, locale: en, version: '1', disclaimer: Not a "
        "crisis service.}\n"
        "topics: [{slug: general, label: General support, description: Anything.}]\n"
        "messages:\n  - key: extra-hello\n    topics: [general]\n    text: Hello from a pack.\n"
        "resources: []\n"
    )
    async with processes(database_url, count=1) as (running,):

        async def shows_it() -> bool:
            card = await running.services.support.reply(asker(), "general", None, "extra-hello")
            return card.message_key == "extra-hello"

        assert not await shows_it()  # and the library is now held in memory
        environment = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HAVEN_", "DISCORD_", "SLACK_"))
        }
        environment["HAVEN_DATABASE_URL"] = database_url
        # A real `haven pack import` process, while the running one keeps serving.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "pack",
            "import",
            str(pack),
            "--community",
            COMMUNITY,
            cwd=tmp_path,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 60)
        assert child.returncode == 0, out.decode() + err.decode()
        assert "Imported" in out.decode()
        await within(PROMISE_SECONDS, shows_it)


async def test_writes_that_are_not_content_changes_drop_no_cache(database_url: str) -> None:
    async with processes(database_url) as (a, b):
        # The two communities' creation is a change too: let B hear it before it caches.
        await asyncio.sleep(3 * feeds.POLL_SECONDS)
        for community in (COMMUNITY, OTHER):
            await b.support("/support", community)
        loaded = reloads(b.metrics)
        assert loaded == 2
        # What A writes all the time: usage and rotation flushes, the scheduler's lease.
        await a.support("/support coming-out")
        await a.services.support.flush()
        store = SqlScheduleStore(a.services.db)  # type: ignore[arg-type]
        assert (await store.acquire_lease("run", "a", time.time(), 20.0)).acquired
        await a.services.meta.set("probe", "1")
        await asyncio.sleep(3 * feeds.POLL_SECONDS)
        for community in (COMMUNITY, OTHER):
            await b.support("/support", community)
        assert reloads(b.metrics) == loaded
        assert b.invalidations("community") == b.invalidations("all") == 0
        # Not a deaf feed: a content change of one community reloads that one only.
        await a.moderate("/support-admin resource disable gb-samaritans")

        async def heard() -> bool:
            return b.invalidations("community") == 1

        await within(PROMISE_SECONDS, heard)
        for community in (COMMUNITY, OTHER):
            await b.support("/support", community)
        assert reloads(b.metrics) == loaded + 1


async def test_the_listener_survives_its_connection_being_killed(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    database_url = postgres_url
    # Long enough that A's change is certainly made while nobody listens.
    monkeypatch.setattr(feeds, "RECONNECT_SECONDS", (0.8, 0.8))
    async with processes(database_url) as (a, b):
        assert "Samaritans" in titles(await b.support("/support crisis GB"))
        admin = await asyncpg.connect(database_url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                feeds.APPLICATION_NAME,
            )
            assert killed == 2  # A's and B's listeners
            await a.moderate("/support-admin resource disable gb-samaritans")

            async def gone() -> bool:
                return "Samaritans" not in titles(await b.support("/support crisis GB"))

            # Missed while down, so B dropped everything once it listened again.
            await within(PROMISE_SECONDS, gone)
            assert b.invalidations("all") == 1

            async def listening() -> bool:
                count = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                    " AND datname = current_database()",
                    feeds.APPLICATION_NAME,
                )
                return bool(count == 2)

            await within(PROMISE_SECONDS, listening)
        finally:
            await admin.close()
        # And afterwards changes arrive as notifications again.
        await a.moderate("/support-admin resource enable gb-samaritans")

        async def back() -> bool:
            return "Samaritans" in titles(await b.support("/support crisis GB"))

        await within(PROMISE_SECONDS, back)
        assert b.invalidations("community") == 1
    # Logged once as lost (a warning, not an error), never a traceback.
    lost = [r for r in caplog.records if "Stopped hearing" in r.getMessage()]
    assert len(lost) == 2 and all(r.levelname == "WARNING" for r in lost)


async def test_a_community_removed_by_another_process_is_looked_up_again(
    database_url: str,
) -> None:
    async with processes(database_url) as (a, b):
        await b.support("/support")  # B now knows the community as active
        # A (the process that received the platform's "removed" event) marks it removed.
        await a.services.communities.mark_removed(COMMUNITY, "uninstalled")

        async def forgotten() -> bool:
            return b.invalidations("community") >= 1

        await within(PROMISE_SECONDS, forgotten)
        # A request in the community means Haven is there again: B brings it back, as
        # the process that saw the removal would.
        await b.support("/support")
        community = await b.services.communities.get(COMMUNITY)
        assert community is not None and community.status.value == "active"
