"""The composition root: settings -> storage -> services -> scheduler and adapters, in one process.

Only this module wires concrete implementations to the core's ports. `run` serves every enabled
platform and the scheduler in one asyncio.TaskGroup; one failing event never stops the process,
but a failing adapter start does (fail loudly at start-up, calmly at run time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.core.cards import Card
from bot.core.clock import SystemClock
from bot.core.commands.content import message_commands, resource_commands
from bot.core.commands.dashboard import DashboardCommands
from bot.core.commands.packs import PackCommands
from bot.core.commands.router import CommandRouter
from bot.core.commands.schedules import ScheduleCommands
from bot.core.commands.settings import SettingsCommands
from bot.core.communities import CommunityService
from bot.core.contact.commands import ContactCommands
from bot.core.contact.service import ContactService
from bot.core.content.curation import CurationService
from bot.core.content.packs import ParsedPack, load_default_pack, pack_to_changes
from bot.core.content.releases import ReleaseService
from bot.core.content.reports import ReportService
from bot.core.dashboard import DashboardAccess
from bot.core.deliveries import DeliveryLedger
from bot.core.errors import HavenError, StorageUnavailable
from bot.core.models import Platform, RequestContext
from bot.core.ports import (
    NO_METRICS,
    ChangeFeed,
    ChangeListener,
    Clock,
    ContactPlatform,
    Library,
    MemberDirectory,
    Metrics,
    Publisher,
)
from bot.core.scheduling.schedules import ScheduleService
from bot.core.support import SupportService
from bot.core.support_selection import CRISIS_TOPIC
from bot.core.usage import UsageService
from bot.metrics import Health, PrometheusMetrics, known_commands
from bot.scheduler import PostScheduler
from bot.services import Services
from bot.settings import Settings
from bot.storage.contact_key import load_contact_key
from bot.storage.contact_store import SqlContactStore
from bot.storage.dashboard_store import SqlDashboardStore
from bot.storage.database import SqlDatabase
from bot.storage.engine import open_database, upkeep
from bot.storage.event_ledger import SqlEventLedger
from bot.storage.feeds import POLL_SECONDS as CHANGE_POLL_SECONDS
from bot.storage.feeds import open_change_feed
from bot.storage.identify_gate import SqlIdentifyGate
from bot.storage.layers import SqlShippedLayer
from bot.storage.migrate import MigrationReport, migrate
from bot.storage.reports import SqlReportStore
from bot.storage.repositories import (
    SqlCommunityRepository,
    SqlContentRepository,
    SqlMetaRepository,
    SqlStateRepository,
)
from bot.storage.schedule_store import SqlScheduleStore
from bot.storage.status import SqlStatusReader
from bot.web import HavenWeb, HttpStartupError

if TYPE_CHECKING:
    from bot.adapters.slack.oauth import SlackInstallStores

log = logging.getLogger(__name__)

# Rotation and usage aggregates are written in batches, not per request (fewer writes, and
# the database holds no per-request timing).
STATE_FLUSH_INTERVAL = 30.0
PURGE_INTERVAL = 3600.0


def default_library() -> Library:
    """The shipped default pack as a Library (also the answer when storage is unavailable)."""
    changes = pack_to_changes(load_default_pack())
    return Library(
        topics=changes.topics,
        messages=changes.upsert_messages,
        resources=changes.upsert_resources,
        emergency_numbers=changes.emergency_numbers,
    )


class _CountedContent(SqlContentRepository):
    """The content repository SupportService reads: each library load is a cache reload."""

    def __init__(self, db: SqlDatabase, metrics: Metrics) -> None:
        super().__init__(db)
        self._metrics = metrics

    async def load_library(self, community_id: str) -> Library:
        self._metrics.cache_reload()
        return await super().load_library(community_id)


def _cache_invalidator(
    support: SupportService, communities: CommunityService, metrics: Metrics
) -> ChangeListener:
    """What a change announced through the database does here: drop what this process holds
    of that community. The caches of database state are SupportService's (library index and
    community settings) and CommunityService's set of communities known to be active; the
    rest of Haven's caches hold platform facts (members, roles) or rendered cards keyed by
    their content. The process hears its own changes too, which it has already dropped:
    then there is nothing to drop, nothing to reload and nothing counted."""

    def invalidate(community_id: str | None) -> None:
        communities.forget(community_id)
        if community_id is None:
            support.invalidate_all()
            metrics.cache_invalidation("all")
        else:
            # Always, even with nothing cached: a read in flight must learn it was overtaken
            # (SupportService keeps no load that an invalidation overtook). Counted only when
            # something was dropped.
            cached = support.is_cached(community_id)
            support.invalidate(community_id)
            if cached:
                metrics.cache_invalidation("community")

    return invalidate


@asynccontextmanager
async def _following(feed: ChangeFeed) -> AsyncIterator[None]:
    """Receive changes for as long as the services are open."""
    await feed.start()
    task = asyncio.create_task(feed.run(), name="change-feed")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def migrate_and_ship(db: SqlDatabase, pack: ParsedPack | None = None) -> MigrationReport:
    """Migrate, then make `pack` (the default pack) the shipped layer: once per database and
    release, whichever process gets there first. Every path that opens the database for
    reading or writing a library runs this, so none sees a shipped layer older than itself."""
    report = await migrate(db)
    await ReleaseService(SqlShippedLayer(db)).install(pack or load_default_pack())
    return report


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    change_poll_seconds: float = CHANGE_POLL_SECONDS,
    shipped_pack: ParsedPack | None = None,
) -> AsyncIterator[Services]:
    """Open storage, migrate, and build every service. Closes everything on exit.

    `metrics`: NO_METRICS unless given (`run` gives a PrometheusMetrics).
    `change_poll_seconds`: how often SQLite is asked whether another process wrote.
    `shipped_pack`: the pack this Haven ships (the default pack; a test gives a new release)."""
    clock = clock or SystemClock()
    metrics = metrics or NO_METRICS
    db = await open_database(settings)
    support: SupportService | None = None
    stack = contextlib.AsyncExitStack()
    notice_tasks: set[asyncio.Task[int]] = set()
    try:
        pack = shipped_pack or load_default_pack()
        # Once per database, whichever process starts first: the shipped layer is this
        # release's pack, and what it changed reaches every community (bot/storage/layers.py).
        await migrate_and_ship(db, pack)
        releases = ReleaseService(SqlShippedLayer(db))
        await stack.enter_async_context(upkeep(db))
        library = default_library()
        community_repository = SqlCommunityRepository(db)
        content = SqlContentRepository(db)
        support = SupportService(
            _CountedContent(db, metrics),
            community_repository,
            SqlStateRepository(db),
            clock,
            lambda: library,
        )
        await support.start()
        communities = CommunityService(
            community_repository,
            clock,
            # A new community stores nothing but its settings: its library is the shipped
            # layer until a moderator changes something.
            lambda: None,
            removal_grace=timedelta(days=settings.removal_grace_days),
            on_change=support.invalidate,
        )
        feed = open_change_feed(db, poll_seconds=change_poll_seconds)
        feed.subscribe(_cache_invalidator(support, communities, metrics))
        await stack.enter_async_context(_following(feed))
        curation = CurationService(content, community_repository, support, clock)
        publishers: dict[Platform, Publisher] = {}
        directories: dict[Platform, MemberDirectory] = {}
        store = SqlScheduleStore(db)
        owner = f"{socket.gethostname()}:{os.getpid()}"
        # One knob: the heartbeat and a standby's retry are a quarter of the lease (5 s of 20 s),
        # so a shorter lease never leaves the heartbeat too close to it.
        lease = float(settings.scheduler_lease_seconds)
        scheduler = PostScheduler(
            store,
            publishers,
            support,
            clock,
            owner,
            metrics=metrics,
            lease_seconds=lease,
            heartbeat_seconds=lease / 4,
            standby_retry_seconds=lease / 4,
        )
        schedules = ScheduleService(
            store, community_repository, support, publishers, clock, wake=scheduler.wake
        )
        communities.add_removal_hook(schedules.pause_all_for_community)
        communities.add_return_hook(schedules.resume_after_return)
        # A person's reports on resources: counted apart from content (they announce nothing).
        reports = ReportService(
            SqlReportStore(db), content, community_repository, publishers, clock
        )
        # The dashboard checks a moderator through the same directories on every request.
        dashboard = DashboardAccess(
            SqlDashboardStore(db), communities, directories, clock, settings.public_url
        )
        # The moderator contact line: its key is never in the database (storage/contact_key.py).
        contact_platforms: dict[Platform, ContactPlatform] = {}
        key = load_contact_key(settings)

        async def crisis_answer(ctx: RequestContext) -> Card:
            assert support is not None
            return await support.reply(ctx, CRISIS_TOPIC, None)

        contact = ContactCommands(
            ContactService(
                SqlContactStore(db),
                community_repository,
                contact_platforms,
                clock,
                crisis_answer,
                block_key=key.key,
                retention_days=settings.contact_retention_days,
                block_days=settings.contact_block_days,
                cooldown=timedelta(minutes=settings.contact_cooldown_minutes),
                unavailable=key.unavailable,
            )
        )
        router = CommandRouter(
            support,
            communities,
            [
                message_commands(curation).table,
                resource_commands(curation, reports).table,
                ScheduleCommands(schedules).table,
                SettingsCommands(
                    communities, directories, contact.settings_verbs, contact.settings_fields
                ).table,
                PackCommands(curation, support, clock).table,
                DashboardCommands(dashboard).table,
                contact.table,
            ],
            clock=clock,
            refusals=community_repository,
            reports=reports,
            contact=contact,
        )

        expected = sorted(served_platforms(settings), key=lambda platform: platform.value)
        health = Health(
            SqlStatusReader(db),
            expected,
            lambda: scheduler.is_holder,
            lambda: scheduler.platforms,
        )
        if isinstance(metrics, PrometheusMetrics):
            metrics.watch(
                health,
                known_commands((name, t.verb_names) for name, t in router.tables.items()),
            )

        def register_publisher(publisher: Publisher) -> None:
            publishers[publisher.platform] = publisher
            scheduler.wake()
            # The release notices waiting for this platform go out once it is connected.
            task = asyncio.get_running_loop().create_task(
                releases.send_notices(publishers), name="release-notices"
            )
            notice_tasks.add(task)
            task.add_done_callback(notice_tasks.discard)

        def register_directory(directory: MemberDirectory) -> None:
            directories[directory.platform] = directory

        def register_contact(platform: ContactPlatform) -> None:
            contact_platforms[platform.platform] = platform

        yield Services(
            settings=settings,
            db=db,
            clock=clock,
            communities=communities,
            support=support,
            curation=curation,
            router=router,
            meta=SqlMetaRepository(db),
            schedules=schedules,
            scheduler=scheduler,
            register_publisher=register_publisher,
            releases=releases,
            publishers=publishers,
            register_directory=register_directory,
            metrics=metrics,
            health=health,
            deliveries=DeliveryLedger(SqlEventLedger(db), clock),
            identify_gate=SqlIdentifyGate(db),
            dashboard=dashboard,
            contact=contact,
            register_contact=register_contact,
            usage=UsageService(
                SqlStateRepository(db), community_repository, reports, support.topics, clock
            ),
        )
    finally:
        for pending in list(notice_tasks):
            pending.cancel()
        await stack.aclose()
        if support is not None:
            with contextlib.suppress(Exception):
                await support.flush()
        await db.close()


async def maintain(services: Services) -> None:
    """Periodic housekeeping: flush aggregates, purge communities past their removal grace."""
    since_purge = PURGE_INTERVAL
    while True:
        await asyncio.sleep(STATE_FLUSH_INTERVAL)
        since_purge += STATE_FLUSH_INTERVAL
        try:
            await services.support.flush()
            await services.releases.send_notices(services.publishers)
            if since_purge >= PURGE_INTERVAL:
                since_purge = 0.0
                await services.communities.purge_expired()
                if services.contact is not None:
                    # Closed requests' text past the retention period, and ended blocks.
                    await services.contact.service.purge_expired()
        except StorageUnavailable as error:
            # The database already told the operator once; a traceback every 30 s adds nothing.
            log.debug("Housekeeping skipped: %s", error)
        except Exception:
            log.exception("Housekeeping failed; will retry")


def dashboard_app(services: Services) -> web.Application:
    """The moderator dashboard's pages, for Haven's HTTP server (mounted at /dashboard)."""
    from bot.dashboard.site import Dashboard

    return Dashboard(services, services.dashboard).application()


@asynccontextmanager
async def local_dashboard(services: Services) -> AsyncIterator[HavenWeb]:
    """`haven console`'s own HTTP server for the dashboard, on HAVEN_HTTP_HOST and
    HAVEN_HTTP_PORT (or any free port, also when that one is taken by a `haven run` on this
    machine), so the link `/support-admin dashboard` prints works here while the console is
    open. Without HAVEN_PUBLIC_URL the links point at this server."""
    settings = services.settings
    server = HavenWeb(
        services.health,
        None,
        host=settings.http_host,
        port=settings.http_port or 0,
        dashboard=dashboard_app(services),
    )
    try:
        await server.start()
    except HttpStartupError:
        server = HavenWeb(
            services.health,
            None,
            host=settings.http_host,
            port=0,
            dashboard=dashboard_app(services),
        )
        await server.start()
    services.dashboard.serve_locally_at(server.url)
    try:
        yield server
    finally:
        await server.stop()


def served_platforms(settings: Settings) -> frozenset[Platform]:
    """The platforms `haven run` serves with these settings (and posts schedules for)."""
    return frozenset(
        platform
        for platform, enabled in (
            (Platform.DISCORD, settings.discord_enabled),
            (Platform.SLACK, settings.slack_enabled),
        )
        if enabled
    )


class NoPlatformConfigured(Exception):
    pass


async def run(settings: Settings) -> None:
    """`haven run`: every enabled platform and one scheduler, until SIGTERM or Ctrl-C."""
    if not served_platforms(settings):
        raise NoPlatformConfigured
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    # Stop cleanly on SIGTERM (service managers) as on Ctrl-C. Windows event loops have no
    # signal handlers; there Ctrl-C still ends the run through KeyboardInterrupt.
    if main_task is not None and sys.platform != "win32":
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, main_task.cancel)
    metrics = PrometheusMetrics()
    async with open_services(settings, metrics=metrics) as services:
        # The platforms this process runs, each under its own lease: a process leads only what
        # it can post to. Console schedules belong to `haven console`.
        services.scheduler.serve(served_platforms(settings))
        slack_http = settings.slack_enabled and settings.slack_mode == "http"
        server: HavenWeb | None = None
        if settings.http_port is not None:
            server = HavenWeb(
                services.health,
                metrics,
                host=settings.http_host,
                port=settings.http_port,
                slack_events=slack_http,
                slack_oauth=settings.slack_multi_workspace,
                dashboard=dashboard_app(services),
            )
        try:
            async with contextlib.AsyncExitStack() as stack, asyncio.TaskGroup() as tasks:
                if server is not None:
                    tasks.create_task(server.run(), name="http")
                tasks.create_task(services.scheduler.run(), name="scheduler")
                tasks.create_task(maintain(services), name="maintenance")
                if settings.discord_enabled:
                    from bot.adapters.discord.client import run_discord

                    tasks.create_task(run_discord(services), name="discord")
                if settings.slack_enabled:
                    from bot.adapters.slack.app import run_slack

                    # With Haven's server on, Slack's HTTP mode is served by it (one port);
                    # without, Slack keeps its own server on SLACK_HTTP_PORT.
                    shared = server if slack_http else None
                    stores = await stack.enter_async_context(slack_install_stores(settings))
                    tasks.create_task(
                        run_slack(services, shared=shared, stores=stores), name="slack"
                    )
                log.info(
                    "Haven is running (Discord: %s, Slack: %s)",
                    "on" if settings.discord_enabled else "off",
                    "on" if settings.slack_enabled else "off",
                )
        except asyncio.CancelledError:
            log.info("Haven is stopping")
        except ExceptionGroup as group:
            # An adapter refused to start (e.g. a rejected token): surface its sentence, not a
            # traceback of the task group.
            refusal = _first_haven_error(group)
            if refusal is None:
                raise
            raise refusal from None


@asynccontextmanager
async def slack_install_stores(settings: Settings) -> AsyncIterator[SlackInstallStores | None]:
    """slack-sdk's SQLAlchemy installation and state stores on the configured database, when
    Haven is installed in many workspaces (None with SLACK_BOT_TOKEN)."""
    if not settings.slack_multi_workspace or settings.slack_client_id is None:
        yield None
        return
    from bot.adapters.slack.oauth import SlackInstallStores
    from bot.storage.slack_installations import open_slack_installations

    async with open_slack_installations(settings, settings.slack_client_id) as opened:
        yield SlackInstallStores(installations=opened.installations, states=opened.states)


def _first_haven_error(group: BaseExceptionGroup[BaseException]) -> HavenError | None:
    for error in group.exceptions:
        if isinstance(error, HavenError):
            return error
        if isinstance(error, BaseExceptionGroup):
            found = _first_haven_error(error)
            if found is not None:
                return found
    return None
